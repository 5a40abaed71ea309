#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Throughput of tokensink (non-live, as fast as it goes): token frames and
lines per second for a given channel count. Prints one line per run.

    bench_tokensink.py [channels] [frames]"""
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_streams as ts  # noqa: E402


def run(channels, frames, per_buffer=200):
    src = ts.Source("eeg", 200, channels=channels, frames_per_buffer=per_buffer)
    rng = np.random.default_rng(0)
    payloads = [rng.integers(0, 8192, (per_buffer, channels), dtype="<u4").tobytes()
                for _ in range(8)]
    location = os.path.join(ts.temp_dir("tokensink-bench-"), "bench.jsonl")
    pipeline = ts.build(location, [src], live=False)

    def feed():
        for b in range(frames // per_buffer):
            buf = ts.Gst.Buffer.new_wrapped(payloads[b % len(payloads)])
            buf.pts = src.frame_pts(b * per_buffer)
            buf.duration = src.frame_pts((b + 1) * per_buffer) - buf.pts
            src.appsrc.emit("push-buffer", buf)
        src.appsrc.emit("end-of-stream")

    pipeline.set_state(ts.Gst.State.PLAYING)
    start = time.perf_counter()
    feeder = threading.Thread(target=feed)
    feeder.start()
    ts.wait_eos(pipeline)
    elapsed = time.perf_counter() - start
    pipeline.set_state(ts.Gst.State.NULL)
    feeder.join()
    size = os.path.getsize(location)
    os.unlink(location)
    print(f"{channels} channels: {frames / elapsed:,.0f} token frames/s "
          f"({frames * channels / elapsed / 1e6:.2f} M tokens/s, {size / elapsed / 1e6:.1f} MB/s, "
          f"{size / frames:.0f} bytes/line)")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 19, int(sys.argv[2]) if len(sys.argv) > 2 else 100000)
