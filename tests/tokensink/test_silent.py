#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A live stream that goes silent without EOS (a haptic glove that stops)
must not stall the others, and its silence must be visible in the file.

Stream 0 (haptic, 50 frames/s in 100 ms buffers) runs for 4 s; stream 1
(EEG, 2 frames/s) delivers 1 s and then nothing until its EOS at 4.5 s."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_streams as ts  # noqa: E402

S = 1_000_000_000


def read(location):
    with open(location) as f:
        return [json.loads(line) for line in f]


def main():
    location = os.path.join(ts.temp_dir("tokensink-silent-"), "silent.jsonl")
    haptic = ts.Source("haptic", 50, frames_per_buffer=5)
    eeg = ts.Source("eeg", 2, channels=2)
    # 300 ms of extra latency: slack for a loaded machine's thread scheduling.
    pipeline = ts.build(location, [haptic, eeg], live=True, latency=300 * 1_000_000)
    threads, stop = ts.start_live(pipeline, [haptic, eeg], [(4 * S, True), (1 * S, False)])

    # While stream 1 is silent, stream 0 goes on reaching the file.
    while ts.running_time(pipeline) < int(3.5 * S):
        time.sleep(0.05)
    during = read(location)
    haptic_end = max(r["pts"] + r["duration"] for r in during
                     if r["type"] == "tokens" and r["stream"] == 0)
    print(f"at 3.5 s the file holds haptic tokens up to {haptic_end / S:.2f} s")
    assert haptic_end >= 2 * S, "the silent stream stalled the recording"
    assert any(r["type"] == "gap" and r["stream"] == 1 for r in during), "silence not visible yet"

    while ts.running_time(pipeline) < int(4.5 * S):
        time.sleep(0.05)
    eeg.appsrc.emit("end-of-stream")    # the device is unplugged at last
    ts.wait_eos(pipeline)
    pipeline.set_state(ts.Gst.State.NULL)
    stop.set()

    records = read(location)
    eeg_tokens = [r for r in records if r["type"] == "tokens" and r["stream"] == 1]
    assert [r["pts"] for r in eeg_tokens] == [0, S // 2], eeg_tokens
    haptic_tokens = [r for r in records if r["type"] == "tokens" and r["stream"] == 0]
    assert [r["pts"] for r in haptic_tokens] == [i * S // 50 for i in range(200)]

    gaps = [r for r in records if r["type"] == "gap"]
    assert gaps and all(g["stream"] == 1 and g["cause"] == "silence" for g in gaps), gaps
    assert gaps[0]["pts"] == 1 * S, "the silence starts where the data stopped"
    for a, b in zip(gaps, gaps[1:]):
        assert a["pts"] + a["duration"] == b["pts"], "gap records tile the silence"
    silence_end = gaps[-1]["pts"] + gaps[-1]["duration"]
    assert 3 * S <= silence_end <= 4.6 * S, silence_end / S
    assert all(g["duration"] <= 1.2 * S for g in gaps), "one gap record per flush interval"

    ends = {r["stream"]: r for r in records if r["type"] == "end"}
    assert ends[1]["frames"] == 2 and ends[0]["frames"] == 200
    ts.check_file_order(records)
    latency = {r["stream"]: r["latency"] for r in records if r["type"] == "stream"}
    assert latency == {0: haptic.buffer_ns, 1: eeg.buffer_ns}, latency
    print(f"{len(gaps)} gap records cover {gaps[0]['pts'] / S:.2f}-{silence_end / S:.2f} s")


if __name__ == "__main__":
    main()
