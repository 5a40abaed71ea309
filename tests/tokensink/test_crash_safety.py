#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Crash safety and exclusive writing of tokensink (one case per run):

  header_at_start_n  a live recording whose input has delivered nothing yet
                     already holds its synced header line (a kill then leaves
                     a valid recording, not an empty file)
  second_writer_n    a second tokensink on the same file, even with
                     overwrite=true, is refused (RESOURCE/BUSY) and the first
                     recording stays whole
  deleted_n          removing the recording's folder mid-recording is an error
                     within flush-interval, not silent loss
  replaced_n         another file moved onto the recording's path is an error
  device_kept_n      a run that records nothing into a device (a /dev/full
                     twin made in TMPDIR; skipped without the right to mknod)
                     leaves the device node alone: only files are removed

usage: test_crash_safety.py CASE"""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_streams as ts  # noqa: E402

Gst = ts.Gst
S = 1_000_000_000


def lines(location):
    with open(location) as f:
        return [json.loads(line) for line in f]


def error_within(pipeline, seconds):
    msg = pipeline.get_bus().timed_pop_filtered(int(seconds * S), Gst.MessageType.ERROR)
    if msg is None:
        return None
    err, debug = msg.parse_error()
    print("error:", err.message, "|", debug)
    return err


def live(location, **props):
    src = ts.Source("eeg", 2, channels=2)
    pipeline = ts.build(location, [src], live=True, flush_interval=200, **props)
    threads, stop = ts.start_live(pipeline, [src], [(60 * S, False)])
    return pipeline, stop


def header_at_start(tmp):
    location = os.path.join(tmp, "early.jsonl")
    src = ts.Source("eeg", 2, channels=2)
    pipeline = ts.build(location, [src], live=True)
    pipeline.set_state(Gst.State.PLAYING)  # nothing is ever pushed
    time.sleep(0.5)
    records = lines(location)
    pipeline.set_state(Gst.State.NULL)
    assert records and records[0]["type"] == "header", "no header on disk at start: %r" % records


def second_writer(tmp):
    location = os.path.join(tmp, "shared.jsonl")
    first, stop = live(location)
    time.sleep(1.5)
    second = ts.build(location, [ts.Source("audio", 25)], live=True, overwrite=True)
    second.set_state(Gst.State.PLAYING)
    err = error_within(second, 5)
    second.set_state(Gst.State.NULL)
    assert err is not None and err.matches(Gst.ResourceError.quark(), Gst.ResourceError.BUSY), err
    assert "another recorder" in err.message and location in err.message, err.message
    time.sleep(1.0)
    assert error_within(first, 0.1) is None, "the first recorder was disturbed"
    first.set_state(Gst.State.NULL)
    stop.set()
    records = lines(location)
    assert records[0]["type"] == "header" and sum(r["type"] == "header" for r in records) == 1
    assert all(r.get("stream", 0) == 0 for r in records), "lines of the second writer spliced in"
    assert sum(r["type"] == "tokens" for r in records) >= 3, "the first recording was truncated"


def deleted(tmp):
    folder = os.path.join(tmp, "session")
    os.mkdir(folder)
    location = os.path.join(folder, "rec.jsonl")
    pipeline, stop = live(location)
    time.sleep(1.5)
    shutil.rmtree(folder)
    err = error_within(pipeline, 3)
    pipeline.set_state(Gst.State.NULL)
    stop.set()
    assert err is not None and "deleted" in err.message and location in err.message, err


def replaced(tmp):
    location = os.path.join(tmp, "rec.jsonl")
    pipeline, stop = live(location)
    time.sleep(1.5)
    other = os.path.join(tmp, "other.jsonl")
    with open(other, "w") as f:
        f.write("{}\n")
    os.replace(other, location)
    err = error_within(pipeline, 3)
    pipeline.set_state(Gst.State.NULL)
    stop.set()
    assert err is not None and "replaced" in err.message, err


def device_kept(tmp):
    import stat
    device = os.path.join(tmp, "full")
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        print("cannot make a device node here: skipped")
        sys.exit(77)
    src = ts.Source("eeg", 2)
    pipeline = ts.build(device, [src], live=False, overwrite=True)
    pipeline.set_state(Gst.State.PLAYING)
    src.appsrc.emit("end-of-stream")
    # EOS, or the device's "no space left" for the header: either way nothing was recorded.
    pipeline.get_bus().timed_pop_filtered(10 * S, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    assert os.path.exists(device) and stat.S_ISCHR(os.stat(device).st_mode), "the device node was removed"
    os.remove(device)


def main(case):
    tmp = ts.temp_dir("tokensink-crash-")
    {"header_at_start_n": header_at_start, "second_writer_n": second_writer,
     "deleted_n": deleted, "replaced_n": replaced, "device_kept_n": device_kept}[case](tmp)


if __name__ == "__main__":
    main(sys.argv[1])
