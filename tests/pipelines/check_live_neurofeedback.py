#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs pipelines/live-neurofeedback.launch in this process (gi) and checks the loop.

The live source delivers 20 s of synthetic EEG in real time; tfmtokenize starts a
10 s window every 0.5 s (window-stride=1) and lbmclassify decides on each. Checked:
- one lbm-classification message per window, windows 0.5 s apart from the first
  to the last complete one, none before its window's last sample (the lag behind
  that sample is printed, p50/p95/max);
- the recording: one classification record per decision at the same times, the
  stream record with window-frames=19 and window-stride=1, and 19 tokens records
  per window, each naming its window, in running-time order; tools/tfm_tokens.py
  gives each frame's window.
"""
import json
import os
import sys
import tempfile

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_launch  # noqa: E402

SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
import tfm_tokens  # noqa: E402

SECOND = Gst.SECOND
HALF = SECOND // 2
SIGNAL_SECONDS = 20.0
FRAMES = 19          # token frames of a 10 s window at hop 0.5 s
WINDOW_END = 10 * SECOND   # a window's last sample, after its first frame's PTS


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(path, tmp):
    shared = os.path.abspath(os.environ.get("NEUROTOKENS_SHARED_DIR", "../shared"))
    os.chdir(tmp)  # the recording's relative location= lands here
    pipeline = Gst.parse_launch(" ".join(run_launch.launch_args(path, shared)))
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    decisions = []
    while True:
        msg = bus.timed_pop_filtered(60 * SECOND, Gst.MessageType.ELEMENT | Gst.MessageType.ERROR |
                                     Gst.MessageType.EOS)
        if msg is None:
            fail("no EOS within 60 s")
        if msg.type == Gst.MessageType.ERROR:
            fail(f"error: {msg.parse_error()[0].message}")
        if msg.type == Gst.MessageType.EOS:
            break
        s = msg.get_structure()
        if s is not None and s.get_name() == "lbm-classification":
            now = pipeline.get_clock().get_time() - pipeline.get_base_time()
            decisions.append((s.get_value("running-time"), now))
    pipeline.set_state(Gst.State.NULL)
    return decisions


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check_recording(path, starts):
    records = [json.loads(line) for line in open(path)]
    streams = [r for r in records if r["type"] == "stream"]
    if len(streams) != 1 or streams[0].get("window-frames") != FRAMES or streams[0].get("window-stride") != 1:
        fail(f"stream record without window-frames={FRAMES}, window-stride=1: {streams}")
    decided = [r["pts"] for r in records if r["type"] == "classification"]
    if decided != starts:
        fail(f"classification records at {decided}, decisions at {starts}")
    tokens = [r for r in records if r["type"] == "tokens"]
    if [r["pts"] for r in tokens] != sorted(r["pts"] for r in tokens):
        fail("tokens records out of running-time order")
    per_window = {}
    for r in tokens:
        per_window.setdefault(r["window"], []).append(r["pts"])
    for i, start in enumerate(starts):
        want = [start + t * HALF for t in range(FRAMES)]
        if per_window.get(i) != want:
            fail(f"window {i}: tokens at {per_window.get(i)}, expected {want}")
    stream = tfm_tokens.load(path).streams[streams[0]["stream"]]
    if stream.window is None or list(stream.window) != [r["window"] for r in tokens]:
        fail("tools/tfm_tokens.py does not give each frame's window")
    print(f"recording: {len(decided)} decisions, {len(tokens)} tokens records of {len(per_window)} windows")


def main():
    Gst.init(None)
    path = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        decisions = run(path, tmp)
        starts = [rt for rt, _ in decisions]
        windows = int((SIGNAL_SECONDS - 10.0) / 0.5) + 1
        # A live source stamps its first sample with the running time it starts at.
        if not starts or starts != [starts[0] + i * HALF for i in range(windows)]:
            fail(f"decisions at {starts}; expected {windows}, one every 0.5 s")
        lags = [(now - (rt + WINDOW_END)) / SECOND for rt, now in decisions]
        print(f"{len(decisions)} decisions 0.5 s apart; lag behind the window's last sample: "
              f"p50 {percentile(lags, 0.5):.3f} s, p95 {percentile(lags, 0.95):.3f} s, max {max(lags):.3f} s")
        if min(lags) < 0:
            fail("a decision arrived before its window's last sample")
        check_recording(os.path.join(tmp, "live-neurofeedback.jsonl"), starts)
    print("ok: live-neurofeedback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
