# SPDX-License-Identifier: LGPL-2.1-or-later
"""Caps from a peer (over RTP, from an application) with absurd sizes are
refused by the element that reads them, with an error naming the value and
the limit, before anything is allocated from them (they used to abort the
process: tokensink built one name per channel, FFTW asserted in stft).

usage: test_caps_limits.py CASE   (tokensink_channels_n, stft_channels_n)"""

import os
import sys
import tempfile

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

CASES = {
    "tokensink_channels_n": (
        "application/x-tokens, channels=(int)2147483647, vocabulary=(int)8192, codebooks=(int)1, "
        "framerate=(fraction)2/1", "tokensink location={tmp}/rec.jsonl",
        "channels=2147483647 exceeds the limit of 4096"),
    "stft_channels_n": (
        "audio/x-raw, format=(string)F32LE, layout=(string)interleaved, rate=(int)200, "
        "channels=(int)100000000", "stft ! fakesink", "channels=100000000 exceeds the limit of 4096"),
}


def main(case):
    caps, downstream, expected = CASES[case]
    Gst.init(None)
    tmp = tempfile.TemporaryDirectory()
    pipeline = Gst.parse_launch("appsrc name=src format=time ! " + downstream.format(tmp=tmp.name))
    src = pipeline.get_by_name("src")
    src.set_property("caps", Gst.Caps.from_string(caps))
    pipeline.set_state(Gst.State.PLAYING)
    src.emit("push-buffer", Gst.Buffer.new_wrapped(b"\0" * 16))
    msg = pipeline.get_bus().timed_pop_filtered(20 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
    pipeline.set_state(Gst.State.NULL)
    tmp.cleanup()
    assert msg is not None and msg.type == Gst.MessageType.ERROR, "no error"
    err, debug = msg.parse_error()
    print(msg.src.get_name(), err.message, debug)
    assert expected in err.message + " " + (debug or ""), "the error does not name value and limit"


if __name__ == "__main__":
    main(sys.argv[1])
