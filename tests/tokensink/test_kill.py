#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 during a live recording: every line of the file parses, and each
stream loses at most about its own latency plus the flush interval
(flush-interval 1000 ms), however slow the other streams are.

usage: test_kill.py CASE
  two_rates    two streams at 2 and 25 frames/s, small latencies (one
               buffer each), killed after ~3.3 s: the last token of the file
               ends less than 1 s before the kill
  slow_window  an EEG stream that delivers 10 s windows and reports 10 s of
               latency (as tfmtokenize with the authors' models) beside a
               25 frames/s stream of 200 ms latency, killed after ~13.3 s:
               the fast stream's last line ends less than 1.5 s before the
               kill (it is not held back to the EEG window), the EEG
               stream's less than its 10 s latency + 1.5 s
  tokenizers   the same with the real elements: live synthetic EEG through
               stft ! tfmtokenize (10 s windows, 10.5 s latency) and live
               pink noise through the audio tokenizer (0.25 s windows), killed
               at 14 s of running time: audio loses less than 1.5 s, EEG less
               than 12 s

The parent runs this script again as the recording process and kills it."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

S = 1_000_000_000
TOKENIZERS = ("tokensink name=rec location={location} "
              "eegsrc is-live=true channels=O1,O2 ! stft ! tfmtokenize ! queue ! rec.sink_0 "
              "audiotestsrc is-live=true wave=pink-noise ! audio/x-raw,rate=8000,channels=1 ! stft ! "
              "tfmtokenize modality=audio ! queue ! rec.sink_1")
# case: (streams as Source arguments or a launch line, running time of the
# kill in s, the loss allowed per stream)
CASES = {
    "two_rates": ([dict(modality="eeg", fps=2, channels=4),
                   dict(modality="audio", fps=25, frames_per_buffer=5)], 3.3, None),
    "slow_window": ([dict(modality="eeg", fps=2, channels=4, frames_per_buffer=20),
                     dict(modality="audio", fps=25, frames_per_buffer=5)], 13.3, (11.5, 1.5)),
    "tokenizers": (TOKENIZERS, 14.0, (12.0, 1.5)),
}


def record_forever(case, location):
    import token_streams as ts
    streams = CASES[case][0]
    if isinstance(streams, str):
        pipeline = ts.Gst.parse_launch(streams.format(location=location))
        pipeline.set_state(ts.Gst.State.PLAYING)
    else:
        sources = [ts.Source(**kw) for kw in streams]
        pipeline = ts.build(location, sources, live=True)
        ts.start_live(pipeline, sources, [(1 << 62, True)] * len(sources))
    print("recording", flush=True)
    time.sleep(3600)


def main(case):
    import token_streams as ts
    tmp = ts.temp_dir("tokensink-kill-")
    location = os.path.join(tmp, "killed.jsonl")
    child = subprocess.Popen([sys.executable, __file__, "--record", case, location],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "recording"
    while not os.path.exists(location) or os.path.getsize(location) == 0:
        time.sleep(0.01)
    with open(location) as f:
        start_ns = json.loads(f.readline())["start-unix-ns"]  # the header: running time 0
    time.sleep(max(0.0, CASES[case][1] - (time.time_ns() - start_ns) / 1e9))  # mid-way between EEG frames
    kill_ns = time.time_ns()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    with open(location, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), "the file ends in a partial line"
    records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert records[0]["type"] == "header"
    ts.check_file_order(records)
    tokens = [r for r in records if r["type"] == "tokens"]
    assert {r["stream"] for r in tokens} == {0, 1}, "both streams recorded"

    def lost_s(stream=None):
        end_ns = max(r["pts"] + r["duration"] for r in tokens if stream is None or r["stream"] == stream)
        return (kill_ns - (start_ns + end_ns)) / 1e9

    allowed = CASES[case][2]
    if allowed is None:
        print(f"{len(records)} lines, all parse; last token ends {lost_s():.3f} s before the kill")
        assert -0.05 < lost_s() < 1.0, f"lost {lost_s():.3f} s"
        return
    latency = {r["stream"]: r["latency"] / S for r in records if r["type"] == "stream"}
    for stream, limit in enumerate(allowed):
        print(f"stream {stream} (latency {latency[stream]:.1f} s): its last token ends "
              f"{lost_s(stream):.3f} s before the kill (allowed {limit} s)")
        assert -0.05 < lost_s(stream) < limit, f"stream {stream} lost {lost_s(stream):.3f} s"


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--record":
        record_forever(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])
