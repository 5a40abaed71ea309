#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 during a live recording: every line of the file parses and the
last recorded token ends within 1 s of the kill (flush-interval 1000 ms).

The parent runs this script again as the recording process (appsrc is-live
! tokensink, two streams at 2 and 25 frames/s) and kills it after ~3.3 s."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def record_forever(location):
    import token_streams as ts
    sources = [ts.Source("eeg", 2, channels=4), ts.Source("audio", 25, frames_per_buffer=5)]
    pipeline = ts.build(location, sources, live=True)
    ts.start_live(pipeline, sources, [(1 << 62, True)] * 2)
    print("recording", flush=True)
    time.sleep(3600)


def main():
    import token_streams as ts
    tmp = ts.temp_dir("tokensink-kill-")
    location = os.path.join(tmp, "killed.jsonl")
    child = subprocess.Popen([sys.executable, __file__, "--record", location],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "recording"
    time.sleep(3.3)             # mid-way between two EEG frames
    kill_ns = time.time_ns()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    with open(location, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), "the file ends in a partial line"
    records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert records[0]["type"] == "header"
    tokens = [r for r in records if r["type"] == "tokens"]
    assert {r["stream"] for r in tokens} == {0, 1}, "both streams recorded"
    last_end_ns = max(r["pts"] + r["duration"] for r in tokens)
    lost_s = (kill_ns - (records[0]["start-unix-ns"] + last_end_ns)) / 1e9
    print(f"{len(records)} lines, all parse; last token ends {lost_s:.3f} s before the kill")
    assert -0.05 < lost_s < 1.0, f"lost {lost_s:.3f} s"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--record":
        record_forever(sys.argv[2])
    else:
        main()
