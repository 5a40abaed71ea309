#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads lbmclassify's `lbm-classification` bus messages from Python (gi).

appsrc feeds two tokenizer-shaped windows (16 channels x 19 frames at 2 frames/s,
the second starting at 10 s) to lbmclassify with the authors' TUEV classifier
(argument "recordings") or its random stand-in of the same shape (tests/fixtures);
the test checks every documented message field, its type and its value.
"""
import os
import sys

import gi
import numpy as np

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402

CHANNELS, FRAMES = 16, 19
LABELS = ["SPSW", "GPED", "PLED", "EYEM", "ARTF", "BCKG"]
SECOND = Gst.SECOND
PERIOD = SECOND // 2


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


CAPS = (f"application/x-tokens,modality=eeg,channels={CHANNELS},vocabulary=8192,"
        "codebooks=1,framerate=2/1,model=test-tokens")


def tuev_model():
    if sys.argv[1:] == ["recordings"]:
        return recordings.authors_model("tfm-encoder-tuev-authors.safetensors")
    return recordings.classifier_fixture()


def build_pipeline(model):
    return Gst.parse_launch(
        f'appsrc name=src format=time caps="{CAPS}" ! '
        f'lbmclassify name=cls model="{model}" labels={",".join(LABELS)} ! fakesink')


def push_windows(src, starts):
    rng = np.random.default_rng(1)
    for start in starts:
        tokens = rng.integers(0, 8192, size=(FRAMES, CHANNELS), dtype=np.uint32)
        buf = Gst.Buffer.new_wrapped(tokens.astype("<u4").tobytes())
        buf.pts = start
        buf.duration = FRAMES * PERIOD
        if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
            fail("push-buffer refused")
    src.emit("end-of-stream")


def collect_messages(pipeline):
    bus = pipeline.get_bus()
    found = []
    while True:
        msg = bus.timed_pop_filtered(120 * SECOND, Gst.MessageType.ELEMENT |
                                     Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if msg is None:
            fail("timed out waiting for EOS")
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            fail(f"pipeline error: {err.message} ({debug})")
        if msg.type == Gst.MessageType.EOS:
            return found
        s = msg.get_structure()
        if s is not None and s.get_name() == "lbm-classification":
            if msg.src.get_name() != "cls":
                fail(f"message from {msg.src.get_name()}")
            found.append(s)


def check_message(s, start):
    for field, kind in (("timestamp", int), ("stream-time", int), ("running-time", int),
                        ("duration", int), ("class", int), ("label", str),
                        ("labels", str), ("probabilities", Gst.ValueArray)):
        if not isinstance(s.get_value(field), kind):
            fail(f"field {field} is {s.get_value(field)!r}, not {kind.__name__}")
    if s.get_value("timestamp") != start or s.get_value("running-time") != start:
        fail(f"window at {start}: timestamp {s.get_value('timestamp')}, "
             f"running-time {s.get_value('running-time')}")
    if s.get_value("duration") != FRAMES * PERIOD:
        fail(f"duration {s.get_value('duration')}")
    if s.get_value("labels").split(",") != LABELS:
        fail(f"labels {s.get_value('labels')}")
    probs = [s.get_value("p-" + label) for label in LABELS]
    if not all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in probs):
        fail(f"probabilities {probs}")
    if abs(sum(probs) - 1.0) > 1e-9:
        fail(f"probabilities sum to {sum(probs)}")
    listed = list(s.get_value("probabilities"))
    if listed != probs or not all(isinstance(p, float) for p in listed):
        fail(f"probabilities field {listed} != p-<label> fields {probs}")
    cls = s.get_value("class")
    if cls != int(np.argmax(probs)) or s.get_value("label") != LABELS[cls]:
        fail(f"class {cls} / label {s.get_value('label')} is not the argmax of {probs}")
    print(f"window at {start / SECOND:.1f} s: {s.get_value('label')} "
          f"p={probs[cls]:.3f}")


def main():
    Gst.init(None)
    pipeline = build_pipeline(tuev_model())
    pipeline.set_state(Gst.State.PLAYING)
    starts = [0, 10 * SECOND]
    push_windows(pipeline.get_by_name("src"), starts)
    messages = collect_messages(pipeline)
    pipeline.set_state(Gst.State.NULL)
    if len(messages) != len(starts):
        fail(f"{len(messages)} lbm-classification messages, expected {len(starts)}")
    for s, start in zip(messages, starts):
        check_message(s, start)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
