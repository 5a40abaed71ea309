#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tokensink refuses tokens outside the stream's vocabulary (one case per run):

  jsonl_n  an appsrc stream of vocabulary 16 sends ten good frames (one of them
           with 0xFFFFFFFF, "no token", which is allowed) and then a frame with
           code 16: the error comes from tokensink and names the pad, the
           stream, the channel, the value, the vocabulary and the running time;
           the ten good frames stay on disk as whole lines, the bad one is not
           recorded
  hdf5_n   the same into format=hdf5: the same error, and no file is left
           under the name (an unfinished HDF5 recording is removed)

usage: test_vocabulary.py CASE"""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_streams as ts  # noqa: E402

Gst = ts.Gst
NO_TOKEN = 0xFFFFFFFF
GOOD_FRAMES = 10
BAD_CODE = 16


class OutOfVocabulary(ts.Source):
    """Codes below 16, "no token" on channel 1 of frame 3, and 16 on channel 1 from frame 10 on."""

    def token(self, frame, channel, book=0):
        if channel == 1 and frame == 3:
            return NO_TOKEN
        if channel == 1 and frame >= GOOD_FRAMES:
            return BAD_CODE
        return (frame * 3 + channel) % self.vocabulary


def record(location, fmt):
    src = OutOfVocabulary("eeg", 2, channels=2, vocabulary=16)
    pipeline = ts.build(location, [src], live=False, format=fmt)
    pipeline.set_state(Gst.State.PLAYING)
    pusher = threading.Thread(target=ts.push_offline, args=(src, GOOD_FRAMES + 2), daemon=True)
    pusher.start()
    msg = pipeline.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
    pipeline.set_state(Gst.State.NULL)
    pusher.join(10)
    if msg is None or msg.type != Gst.MessageType.ERROR:
        print("FAIL: a token outside the vocabulary was recorded without an error:", msg and msg.type)
        sys.exit(1)
    err, debug = msg.parse_error()
    print("error:", err.message, "|", debug)
    for needed in ("sink_0", "stream 0", "channel 1", f"Token {BAD_CODE} ", "vocabulary of 16",
                   "0:00:05.000000000"):
        if needed not in err.message:
            print(f"FAIL: the error does not say {needed!r}")
            sys.exit(1)
    if not err.matches(Gst.StreamError.quark(), Gst.StreamError.FORMAT):
        print("FAIL: not a STREAM/FORMAT error:", err.domain, err.code)
        sys.exit(1)


def jsonl(tmp):
    location = os.path.join(tmp, "vocab.jsonl")
    record(location, "jsonl")
    with open(location, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        print("FAIL: the recording does not end with a whole line")
        sys.exit(1)
    tokens = [r for r in (json.loads(line) for line in data.splitlines()) if r["type"] == "tokens"]
    pts = [r["pts"] for r in tokens]
    if pts != [f * Gst.SECOND // 2 for f in range(GOOD_FRAMES)]:
        print("FAIL: recorded frames at", pts, f"(want the {GOOD_FRAMES} before the bad one)")
        sys.exit(1)
    if any(BAD_CODE in r["tokens"] for r in tokens):
        print("FAIL: the code outside the vocabulary was recorded")
        sys.exit(1)
    print(f"kept {len(tokens)} whole token lines before the refused frame")


def hdf5(tmp):
    location = os.path.join(tmp, "vocab.h5")
    record(location, "hdf5")
    left = sorted(os.listdir(tmp))
    if left:
        print("FAIL: a refused HDF5 recording left", left)
        sys.exit(1)


def main():
    tmp = ts.temp_dir("tokensink-vocab-")
    {"jsonl_n": jsonl, "hdf5_n": hdf5}[sys.argv[1]](tmp)
    print("ok")


if __name__ == "__main__":
    main()
