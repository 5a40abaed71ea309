#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""lbmclassify's decisions read from Python through the NeuroTokens-1.0
typelib (lib/gi, GObject introspection), compared with the bus messages.

appsrc feeds 3 buffers of 19 eyes-model-shaped token frames (O1, O2,
vocabulary 512, 2 frames/s) to `lbmclassify window=10 stride=3` (decisions
after frames 10, 13, 16 and 19 of every buffer) and an appsink. For every
buffer, NeuroTokens.buffer_get_classifications must return the decisions of
the bus messages (label, class index, labels, probabilities as a list of
floats in label order, timestamp, duration) and buffer_get_classification
the first of them; a buffer without a decision gives None."""
import os
import sys

import gi
import numpy as np

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("NeuroTokens", "1.0")
from gi.repository import GObject, Gst, GstApp, NeuroTokens  # noqa: E402,F401

FRAMES, BUFFERS = 19, 3
PERIOD = Gst.SECOND // 2
CAPS = ("application/x-tokens,modality=eeg,channels=2,vocabulary=512,codebooks=1,"
        "framerate=2/1,model=test")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def names_event():
    tags = Gst.TagList.new_empty()
    tags.set_scope(Gst.TagScope.STREAM)
    tags.add_value(Gst.TagMergeMode.REPLACE, "neuro-channel-names",
                   GObject.Value(GObject.TYPE_STRING, "O1,O2"))
    return Gst.Event.new_tag(tags)


def run():
    pipeline = Gst.parse_launch(
        f'appsrc name=src format=time caps="{CAPS}" ! lbmclassify name=cls window=10 stride=3 '
        '! appsink name=out sync=false max-buffers=0')
    src, out = pipeline.get_by_name("src"), pipeline.get_by_name("out")
    pipeline.set_state(Gst.State.PLAYING)
    src.send_event(names_event())
    rng = np.random.default_rng(3)
    for b in range(BUFFERS):
        tokens = rng.integers(0, 512, size=(FRAMES, 2), dtype=np.uint32)
        buf = Gst.Buffer.new_wrapped(tokens.astype("<u4").tobytes())
        buf.pts = b * 10 * Gst.SECOND
        buf.duration = FRAMES * PERIOD
        src.emit("push-buffer", buf)
    # a buffer that completes no window: 5 frames after a gap
    buf = Gst.Buffer.new_wrapped(np.zeros((5, 2), "<u4").tobytes())
    buf.pts = 40 * Gst.SECOND
    src.emit("push-buffer", buf)
    src.emit("end-of-stream")
    buffers = []
    while True:
        sample = out.emit("try-pull-sample", 60 * Gst.SECOND)
        if sample is None:
            break
        buffers.append(sample.get_buffer())
    messages = []
    bus = pipeline.get_bus()
    while True:
        msg = bus.pop_filtered(Gst.MessageType.ELEMENT | Gst.MessageType.ERROR)
        if msg is None:
            break
        if msg.type == Gst.MessageType.ERROR:
            fail(f"pipeline error: {msg.parse_error()}")
        if msg.get_structure().get_name() == "lbm-classification":
            messages.append(msg.get_structure())
    pipeline.set_state(Gst.State.NULL)
    return buffers, messages


def check(buffers, messages):
    if len(buffers) != BUFFERS + 1:
        fail(f"{len(buffers)} buffers out, expected {BUFFERS + 1}")
    decisions = [NeuroTokens.buffer_get_classifications(b) for b in buffers]
    if [len(d) for d in decisions] != [4, 4, 4, 0]:
        fail(f"decisions per buffer {[len(d) for d in decisions]}, expected [4, 4, 4, 0]")
    if NeuroTokens.buffer_get_classification(buffers[-1]) is not None:
        fail("a buffer without a decision did not give None")
    flat = [c for d in decisions for c in d]
    if len(flat) != len(messages):
        fail(f"{len(flat)} decisions on buffers, {len(messages)} bus messages")
    for c, s in zip(flat, messages):
        probs = c.get_probabilities()
        if not isinstance(probs, list) or not all(isinstance(p, float) for p in probs):
            fail(f"probabilities {probs!r} are not a list of floats")
        if probs != list(s.get_value("probabilities")):
            fail(f"probabilities {probs} != message {list(s.get_value('probabilities'))}")
        if c.get_labels() != s.get_value("labels").split(","):
            fail(f"labels {c.get_labels()} != message {s.get_value('labels')}")
        if (c.get_label(), c.get_class_index()) != (s.get_value("label"), s.get_value("class")):
            fail(f"decision {c.get_label()}/{c.get_class_index()} != message")
        if c.get_label() != c.get_labels()[int(np.argmax(probs))] or abs(sum(probs) - 1) > 1e-9:
            fail(f"label {c.get_label()} is not the argmax of {probs}")
        if (c.props.label, c.props.class_index, list(c.props.labels)) != \
                (c.get_label(), c.get_class_index(), c.get_labels()):
            fail("properties differ from the getters")
        if c.props.missing_tokens != s.get_value("missing-tokens"):
            fail(f"missing-tokens {c.props.missing_tokens} != message {s.get_value('missing-tokens')}")
        if (c.get_timestamp(), c.get_duration()) != (s.get_value("timestamp"), s.get_value("duration")):
            fail(f"window {c.get_timestamp()}+{c.get_duration()} != message")
    first = NeuroTokens.buffer_get_classification(buffers[0])
    if first.get_timestamp() != 0 or first.get_duration() != 10 * PERIOD:
        fail(f"first decision at {first.get_timestamp()} for {first.get_duration()} ns")
    if [c.get_timestamp() for c in decisions[1]] != [10 * Gst.SECOND + k * 3 * PERIOD for k in range(4)]:
        fail(f"second buffer's windows start at {[c.get_timestamp() for c in decisions[1]]}")
    print(f"{len(flat)} decisions read through NeuroTokens-1.0, e.g. {first.get_label()} "
          f"{first.get_probabilities()}")


def main():
    Gst.init(None)
    check(*run())
    print("ok")


if __name__ == "__main__":
    main()
