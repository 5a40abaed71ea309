#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A run that fails before recording any data leaves no file behind, so the
corrected command works without overwrite=true; a run in which a stream
started keeps its file (an input shorter than one window: stream and end
records); an existing file is never removed.

Cases: a source that cannot be opened (eegsrc on a missing file), a
negotiation failure (eegsrc rate=256 in front of the 200 Hz tokenizer), each
followed by the corrected command on the same location; the Python example
docs/examples/classify_eeg.py run twice on the same recording name; an
input shorter than one tokenizer window (EOS, no tokens: file kept, with its
end record); an existing file refused (still there, untouched)."""
import atexit
import json
import os
import subprocess
import sys
import shutil
import tempfile

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from launch import run  # noqa: E402

SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TMP = tempfile.mkdtemp(prefix="tokensink-failed-")
atexit.register(shutil.rmtree, TMP, True)  # leave nothing in TMPDIR


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def check_failed_then_corrected(name, broken_source, fixed_source):
    path = os.path.join(TMP, name + ".jsonl")
    sink = f"stft ! tfmtokenize ! tokensink location={path}"
    err = run(f"{broken_source} ! {sink}")
    if err is None:
        fail(f"{name}: the broken pipeline did not fail")
    if os.path.exists(path):
        fail(f"{name}: a failed run left {path} ({os.path.getsize(path)} bytes) after: {err}")
    fixed_err = run(f"{fixed_source} ! {sink}")
    if fixed_err is not None:
        fail(f"{name}: the corrected command failed: {fixed_err}")
    tokens = [r for r in records(path) if r["type"] == "tokens"]
    if len(tokens) != 19:
        fail(f"{name}: corrected run recorded {len(tokens)} token frames, expected 19")
    print(f"{name}: failed run left nothing ({err}); corrected run recorded {len(tokens)} frames")


def check_kept():
    short = os.path.join(TMP, "short.jsonl")
    pipeline = Gst.parse_launch(f"eegsrc num-buffers=5 samplesperbuffer=200 ! stft ! tfmtokenize name=t ! "
                                f"tokensink location={short}")
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    warnings = []
    while True:   # (timed_pop_filtered drops the messages it does not match)
        msg = bus.timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR
                                     | Gst.MessageType.WARNING)
        if msg is None or msg.type != Gst.MessageType.WARNING:
            break
        warnings.append((msg.src.get_name(), msg.parse_warning()[0].message))
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        fail("a 5 s input failed")
    want = ("t", "The stream ended after 5.00 s of signal, before the first 10.00 s tokenizer window: no tokens")
    if warnings != [want]:
        fail(f"a stream shorter than one window: warnings {warnings}, expected [{want}]")
    kinds = [r["type"] for r in records(short)]
    if kinds != ["header", "stream", "end"]:
        fail(f"a run that ended at EOS without tokens must keep its file, got {kinds}")
    summary = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "tools", "tfm_tokens.py"), "summary",
                              short], capture_output=True, text=True).stdout
    if "no token frames: the stream ended before its first tokenizer window" not in summary:
        fail(f"summary of the short recording: {summary}")
    existing = os.path.join(TMP, "existing.jsonl")
    with open(existing, "w") as f:
        f.write("precious\n")
    err = run(f"eegsrc location=/nonexistent.edf ! stft ! tfmtokenize ! tokensink location={existing}")
    if err is None or open(existing).read() != "precious\n":
        fail(f"an existing file must be left untouched: {err}")
    print("kept: EOS without data, and an existing file")


def check_example_twice():
    env = dict(os.environ)
    for attempt in (1, 2):
        p = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "docs", "examples", "classify_eeg.py"),
                            "--seconds", "10"], cwd=TMP, env=env, capture_output=True, text=True,
                           timeout=300)
        if p.returncode != 0 or "1 decisions" not in p.stdout:
            fail(f"example run {attempt}: exit {p.returncode}\n{p.stdout}\n{p.stderr[-2000:]}")
    print("example: two runs in the same directory")


def main():
    Gst.init(None)
    missing = os.path.join(TMP, "missing.edf")
    check_failed_then_corrected("open", f"eegsrc location={missing}",
                                "eegsrc num-buffers=10 samplesperbuffer=200")
    check_failed_then_corrected("negotiation", "eegsrc num-buffers=10 samplesperbuffer=256 rate=256",
                                "eegsrc num-buffers=10 samplesperbuffer=200")
    check_kept()
    check_example_twice()
    print("ok")


if __name__ == "__main__":
    main()
