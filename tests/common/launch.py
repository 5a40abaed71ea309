# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a GStreamer launch line in the test's own process, for the Python
tests that check what a pipeline records or which error it stops with."""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def run(line, timeout_s=120):
    """Runs LINE to EOS. Returns None, or "<element>: <message>" of the first
    error; a pipeline that reaches neither within TIMEOUT_S fails the test."""
    Gst.init(None)
    pipeline = Gst.parse_launch(line)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(timeout_s * Gst.SECOND,
                                                Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None:
        print(f"FAIL: timeout after {timeout_s} s: {line}")
        sys.exit(1)
    if msg.type == Gst.MessageType.ERROR:
        return f"{msg.src.get_name()}: {msg.parse_error()[0].message}"
    return None
