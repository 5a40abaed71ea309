#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Makes the live recording behind docs/tokensink-live-example.png:

    tests/tokensink/make_example_recording.py example.jsonl
    tools/tfm_tokens.py plot example.jsonl --out docs/tokensink-live-example.png

Three live appsrc inputs (synthetic tokens, see token_streams.py): EEG
(4 channels, 2 frames/s, with two classifications and an annotation), audio
(25 frames/s) and a haptic glove (2 channels, 2 codebooks, 50 frames/s) that
stops after 3 s without EOS, until it is unplugged at 6 s."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_streams as ts  # noqa: E402

S = 1_000_000_000


def main(location):
    eeg = ts.Source("eeg", 2, channels=4, names=["Fp1", "Fp2", "C3", "C4"], units=["uV"] * 4)
    audio = ts.Source("audio", 25, frames_per_buffer=5, names=["mic"], units=["Pa"])
    haptic = ts.Source("haptic", 50, channels=2, frames_per_buffer=5, codebooks=2,
                       vocabulary=512, names=["thumb", "index"], units=["N", "N"])
    labels = ["normal", "artifact"]
    eeg_events = [(3, ts.annotation_event(1250 * S // 1000, "eyes closed")),
                  (5, ts.classification_event(0, 2 * S, labels, [0.9, 0.1])),
                  (9, ts.classification_event(2 * S, 2 * S, labels, [0.2, 0.8]))]
    pipeline = ts.build(location, [eeg, audio, haptic], live=True, overwrite=True)
    ts.start_live(pipeline, [eeg, audio, haptic], [(6 * S, True), (6 * S, True), (3 * S, False)],
                  [eeg_events, (), ()])
    while ts.running_time(pipeline) < int(6.5 * S):
        time.sleep(0.05)
    haptic.appsrc.emit("end-of-stream")
    ts.wait_eos(pipeline)
    pipeline.set_state(ts.Gst.State.NULL)


if __name__ == "__main__":
    main(sys.argv[1])
