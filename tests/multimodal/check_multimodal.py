#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a multimodal launch line (pipelines/multimodal-*.launch) and checks its recording.

Each branch of the line that ends in `<sink>.sink_N` is one source (synthetic eegsrc
with num-buffers/samplesperbuffer/rate, eegsrc reading an EDF file, or a WAV or FLAC
file read by filesrc) tokenized by
`tfmtokenize` with the model of its modality. For every stream N of the
recording the check derives from the source's length and the model's metadata
(sample-rate, n-fft, hop, window-samples) what docs/tfmtokenize.md promises:

- windows = floor(samples at the model rate / L): the partial last window is dropped;
- frames = windows x T with T = (L - n_fft)/hop + 1, i.e. duration x framerate
  minus (L/hop - T) edge frames per window and minus the dropped tail;
- frame i of window w at w*L/rate + i*hop/rate (the source starts at 0), within
  one frame; per stream strictly increasing, spaced exactly 1/framerate inside a
  window, nothing missing or duplicated;
- a branch with lbmclassify: one classification record per window, at its start.

Usage: check_multimodal.py pipelines/multimodal-x.launch
       check_multimodal.py --tampered_n pipelines/multimodal-x.launch
The second form shows that the check can fail: it records once, then checks copies of
the recording with one frame removed, one duplicated and one moved by a frame; each
must be rejected.
"""
import copy
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "pipelines"))
import tfm_tokens  # noqa: E402
from run_launch import launch_args  # noqa: E402

SECOND = 1_000_000_000


def model_metadata(modality):
    """The safetensors header's __metadata__ of the shipped tokenizer for a modality."""
    model_dir = os.environ.get("NEUROTOKENS_MODEL_DIR", os.path.join(SOURCE, "models"))
    path = os.path.join(model_dir, f"tfm-tokenizer-{modality}.safetensors")
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        meta = json.loads(f.read(n))["__metadata__"]
    return {k: int(meta[k]) for k in ("sample-rate", "n-fft", "hop", "window-samples")}


def branches(args):
    """Maps stream number N to the launch arguments of the branch ending in `x.sink_N`."""
    out, current = {}, []
    for a in args:
        m = re.fullmatch(r"\w+\.sink_(\d+)", a)
        if m:
            out[int(m.group(1))] = current
            current = []
        else:
            current.append(a)
    return out


def prop(branch, element, name):
    """Value of property `name` of the first `element` in the branch, or None."""
    if element not in branch:
        return None
    for a in branch[branch.index(element) + 1:]:
        if a == "!":
            return None
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def edf_seconds(path):
    """Data records x record duration, from the fixed EDF header (bytes 236-251)."""
    with open(path, "rb") as f:
        header = f.read(256)
    return int(header[236:244]) * float(header[244:252])


def flac_seconds(path):
    """Total samples / sample rate from the FLAC STREAMINFO block (RFC 9639)."""
    with open(path, "rb") as f:
        head = f.read(42)
    if head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        raise ValueError(f"{path}: no FLAC STREAMINFO block first")
    info = int.from_bytes(head[18:26], "big")   # rate 20 | channels 3 | bits 5 | samples 36
    return (info & ((1 << 36) - 1)) / (info >> 44)


def source_seconds(branch):
    """Length in seconds of the branch's source, computed from the source itself."""
    if "eegsrc" in branch and prop(branch, "eegsrc", "location"):
        return edf_seconds(prop(branch, "eegsrc", "location"))
    if "eegsrc" in branch:
        n = int(prop(branch, "eegsrc", "num-buffers"))
        spb = int(prop(branch, "eegsrc", "samplesperbuffer") or 100)
        rate = int(prop(branch, "eegsrc", "rate") or 200)   # eegsrc's synthetic default
        return n * spb / rate
    location = prop(branch, "filesrc", "location")
    if location.endswith(".flac"):
        return flac_seconds(location)
    with wave.open(location) as w:
        return w.getnframes() / w.getframerate()


def expected_pts(seconds, meta):
    rate, n_fft, hop, L = (meta[k] for k in ("sample-rate", "n-fft", "hop", "window-samples"))
    windows = int(round(seconds * rate)) // L
    T = (L - n_fft) // hop + 1
    return windows, T, [(w * L + i * hop) * SECOND // rate for w in range(windows) for i in range(T)]


def check_stream(n, st, branch, failures):
    meta = model_metadata(st.modality)
    seconds = source_seconds(branch)
    windows, T, want = expected_pts(seconds, meta)
    frame = meta["hop"] * SECOND // meta["sample-rate"]
    nominal = int(seconds * meta["sample-rate"]) // meta["hop"]
    edge = meta["window-samples"] // meta["hop"] - T
    print(f"stream {n} ({st.modality}): source {seconds:.3f} s = {nominal} frames at "
          f"{st.framerate:g}/s; {windows} windows x {T} (edge {edge} per window, partial tail "
          f"dropped) = {len(want)} expected, {len(st.pts)} recorded")
    if st.framerate * frame != SECOND:
        failures.append(f"stream {n}: framerate {st.framerate} is not rate/hop of the model")
    if len(st.pts) != len(want):
        failures.append(f"stream {n}: {len(st.pts)} frames, expected {len(want)}")
        return
    pts = [int(p) for p in st.pts]
    if any(b <= a for a, b in zip(pts, pts[1:])):
        failures.append(f"stream {n}: pts not strictly increasing (duplicate or reordered frame)")
    worst = max(abs(p - w) for p, w in zip(pts, want))
    print(f"  largest pts error vs source: {worst / 1e6:.3f} ms (one frame = {frame / 1e6:g} ms)")
    if worst >= frame:
        failures.append(f"stream {n}: pts off by {worst} ns, more than one frame")
    for w in range(windows):
        inside = pts[w * T:(w + 1) * T]
        if any(b - a != frame for a, b in zip(inside, inside[1:])):
            failures.append(f"stream {n}: window {w} frames not spaced exactly {frame} ns")
    if st.end is None or st.end["frames"] != len(want):
        failures.append(f"stream {n}: missing or wrong end record {st.end}")
    if "lbmclassify" in branch:
        starts = [c["pts"] for c in st.classifications]
        print(f"  classifications: {[c['label'] for c in st.classifications]}")
        if starts != want[::T]:
            failures.append(f"stream {n}: classifications at {starts}, expected one per window "
                            f"at {want[::T]}")


def run_launch(path):
    """Runs the launch line in a temporary directory; returns (args, Recording) or None."""
    shared = os.path.abspath(os.environ.get("NEUROTOKENS_SHARED_DIR", "../shared"))
    args = launch_args(path, shared)
    location = prop(args, "tokensink", "location")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["gst-launch-1.0", "-e"] + args, cwd=tmp,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or "ERROR" in proc.stdout:
            print(proc.stdout[-4000:], proc.stderr[-4000:])
            print(f"FAIL: {os.path.basename(path)} exited {proc.returncode}")
            return None
        return args, tfm_tokens.load(os.path.join(tmp, location))


def check_recording(rec, args):
    """Returns the list of failures of a recording against its launch arguments."""
    failures = []
    by_stream = branches(args)
    if sorted(rec.streams) != sorted(by_stream):
        failures.append(f"streams {sorted(rec.streams)} recorded, launch line has {sorted(by_stream)}")
    for n in sorted(set(rec.streams) & set(by_stream)):
        check_stream(n, rec.streams[n], by_stream[n], failures)
    return failures


def tampered(rec, n, how):
    """A copy of the recording with stream n's frames damaged (removed/duplicated/moved)."""
    bad = copy.deepcopy(rec)
    st = bad.streams[n]
    k = len(st.pts) // 2
    if how == "removed":
        st.pts, st.tokens = np.delete(st.pts, k), np.delete(st.tokens, k, axis=0)
    elif how == "duplicated":
        st.pts, st.tokens = np.insert(st.pts, k, st.pts[k]), np.insert(st.tokens, k, st.tokens[k], axis=0)
    else:
        st.pts = st.pts.copy()
        st.pts[k] += 1_000_000_000 // int(st.framerate)
    return bad


def main():
    tamper = sys.argv[1] == "--tampered_n"
    path = os.path.abspath(sys.argv[-1])
    result = run_launch(path)
    if result is None:
        return 1
    args, rec = result
    failures = check_recording(rec, args)
    if tamper and not failures:
        for n in sorted(rec.streams):
            for how in ("removed", "duplicated", "moved"):
                print(f"-- stream {n}, one frame {how}: must be rejected")
                if not check_recording(tampered(rec, n, how), args):
                    failures.append(f"stream {n} with a frame {how} was accepted")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
