#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Flushing seeks with tokensink downstream (one case per run):

  repeated      20 runs of `eegsrc location=<EDF> ! stft ! tfmtokenize ! tokensink`,
                each with 20 flushing seeks in quick succession while it plays
                (a seek that arrives while stft negotiates, the race that
                used to stop 1-7 runs in 20 with a spurious negotiation error):
                no error, EOS, and the file ends with the stream's end record
  unseekable_n  the same pipeline on synthetic EEG (eegsrc without a file
                cannot seek): tokensink refuses the seek (the seek returns
                false, as with any sink) and the recording reaches EOS with
                all its frames, instead of waiting forever for a flush that
                never comes

usage: test_seek.py CASE"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402
import token_streams as ts  # noqa: E402

Gst = ts.Gst


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def play_and_seek(source, location, seeks):
    """Plays `source ! stft ! tfmtokenize ! tokensink`, sends `seeks` flushing
    seeks; returns (seek results, the error message or None at the end)."""
    pipeline = Gst.parse_launch(f"{source} ! stft ! tfmtokenize ! tokensink location={location} "
                                "overwrite=true")
    pipeline.set_state(Gst.State.PLAYING)
    pipeline.get_state(10 * Gst.SECOND)
    bus = pipeline.get_bus()
    results, err = [], None
    for i in range(seeks):
        time.sleep(0.002 * (i % 5))
        results.append(pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH, (i % 3) * Gst.SECOND))
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        if msg:
            err = msg.parse_error()[0].message
            break
    if err is None:
        msg = bus.timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if msg is None:
            err = "no EOS within 30 s"
        elif msg.type == Gst.MessageType.ERROR:
            err = msg.parse_error()[0].message
    pipeline.set_state(Gst.State.NULL)
    return results, err


def records(location):
    with open(location) as f:
        return [json.loads(line) for line in f]


def repeated(tmp):
    edf = os.path.join(recordings.fixtures_dir(), "S001R02.edf")
    location = os.path.join(tmp, "seeks.jsonl")
    for run in range(20):
        _, err = play_and_seek(f"eegsrc location={edf} channels=O1,O2", location, 20)
        if err:
            fail(f"run {run}: {err}")
        last = records(location)[-1]
        if last["type"] != "end":
            fail(f"run {run}: the recording ends with {last}")
    print("20 runs of 20 flushing seeks: no error, every recording complete")


def unseekable(tmp):
    location = os.path.join(tmp, "live.jsonl")
    results, err = play_and_seek("eegsrc num-buffers=30 samplesperbuffer=200", location, 3)
    if err:
        fail(err)
    if any(results):
        fail(f"seeks on an input that cannot seek reported {results}")
    tokens = [r for r in records(location) if r["type"] == "tokens"]
    if len(tokens) != 57:  # 30 s of EEG: 3 windows of 19 frames
        fail(f"{len(tokens)} token frames recorded, want 57")
    print("seek refused, recording complete:", len(tokens), "frames")


def main():
    tmp = ts.temp_dir("tokensink-seek-")
    {"repeated": repeated, "unseekable_n": unseekable}[sys.argv[1]](tmp)
    print("ok")


if __name__ == "__main__":
    main()
