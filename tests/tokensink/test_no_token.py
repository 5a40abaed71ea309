#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A NaN sample end to end: appsrc ! stft ! tfmtokenize ! tokensink. The
channel's tokens of the window holding it are recorded as JSON null (the list
keeps one entry per channel) and as the HDF5 tokens dataset's fill value;
tools/tfm_tokens.py reads them as 0xFFFFFFFF and its summary counts them;
every other token is the one the same run without the NaN records. With
lbmclassify in between, that window gets no classification record by default,
and with missing=decide one marked missing-tokens=19 (JSON and HDF5)."""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
TOOLS = os.path.join(SOURCE, "tools")
sys.path.insert(0, TOOLS)
import tfm_tokens  # noqa: E402
import gi  # noqa: E402
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

BUILD = os.environ["NEUROTOKENS_BUILD_DIR"]
MODEL = os.path.join(BUILD, "tests", "tokenize", "test-tokenizer-10s.safetensors")
CLASSIFIER = os.path.join(BUILD, "tests", "models", "authors-shape-classifier.safetensors")
RATE, L, T, CHANNELS, BAD = 200, 2000, 19, 4, 2
NO_TOKEN = 0xFFFFFFFF


def signal(nan):
    rng = np.random.default_rng(5)
    t = np.arange(3 * L) / RATE
    x = np.stack([20 * np.sin(2 * np.pi * (8 + c) * t + c) + rng.normal(0, 5, t.size) for c in range(CHANNELS)])
    if nan:
        x[BAD, L + 500] = np.nan
    return np.ascontiguousarray(x.T, np.float32)   # interleaved


def record(path, fmt, nan, classify=""):
    pipe = Gst.parse_launch(
        f"appsrc name=src format=time caps=audio/x-raw,format=F32LE,layout=interleaved,rate={RATE},"
        f"channels={CHANNELS},channel-mask=(bitmask)0 ! stft ! tfmtokenize model=\"{MODEL}\" ! {classify}"
        f"tokensink location=\"{path}\" format={fmt}")
    src = pipe.get_by_name("src")
    pipe.set_state(Gst.State.PLAYING)
    data = signal(nan)
    for i in range(0, len(data), 400):
        buf = Gst.Buffer.new_wrapped(data[i:i + 400].tobytes())
        buf.pts = i * Gst.SECOND // RATE
        buf.duration = 400 * Gst.SECOND // RATE
        assert src.emit("push-buffer", buf) == Gst.FlowReturn.OK
    src.emit("end-of-stream")
    msg = pipe.get_bus().timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    assert msg and msg.type == Gst.MessageType.EOS, msg and msg.parse_error()
    pipe.set_state(Gst.State.NULL)


def bad_mask(n_frames):
    """True where the NaN run's tokens must be missing: channel BAD of window 1."""
    mask = np.zeros((n_frames, CHANNELS), bool)
    mask[T:2 * T, BAD] = True
    return mask


def check_jsonl(tmp):
    clean, bad = os.path.join(tmp, "clean.jsonl"), os.path.join(tmp, "bad.jsonl")
    record(clean, "jsonl", False)
    record(bad, "jsonl", True)
    lines = [json.loads(x) for x in open(bad)]
    frames = [r["tokens"] for r in lines if r["type"] == "tokens"]
    assert len(frames) == 3 * T, len(frames)
    assert all(len(f) == CHANNELS for f in frames)
    for i, f in enumerate(frames):
        for c, v in enumerate(f):
            assert (v is None) == (T <= i < 2 * T and c == BAD), (i, c, v)
    ref, got = tfm_tokens.load(clean).streams[0].tokens, tfm_tokens.load(bad).streams[0].tokens
    assert got.dtype == np.uint32 and got.shape == (3 * T, CHANNELS)
    mask = bad_mask(3 * T)
    assert (got[mask] == NO_TOKEN).all()
    np.testing.assert_array_equal(got[~mask], ref[~mask])
    assert (ref != NO_TOKEN).all()
    out = subprocess.run([sys.executable, os.path.join(TOOLS, "tfm_tokens.py"), "summary", bad],
                         capture_output=True, text=True, check=True).stdout
    assert "19 no-token values" in out, out
    png = os.path.join(tmp, "bad.png")
    subprocess.run([sys.executable, os.path.join(TOOLS, "tfm_tokens.py"), "plot", bad, "--out", png],
                   capture_output=True, text=True, check=True)
    assert os.path.getsize(png) > 1000
    return got


def check_hdf5(tmp, from_jsonl):
    path = os.path.join(tmp, "bad.h5")
    record(path, "hdf5", True)
    with h5py.File(path, "r") as f:
        tokens = f["stream0/tokens"]
        assert tokens.dtype == np.uint16 and tokens.fillvalue == 0xFFFF
        data = tokens[()]
    mask = bad_mask(len(data))
    assert (data[mask] == tokens.fillvalue).all()
    assert (data[~mask] < 8192).all()
    np.testing.assert_array_equal(data[~mask], from_jsonl[~mask])


def check_classifications(tmp):
    """Decisions per window (pts 0, 10, 20 s): window 1 skipped, or marked."""
    for missing, want in (("skip", {0: 0, 20: 0}), ("decide", {0: 0, 10: 19, 20: 0})):
        classify = f"lbmclassify model=\"{CLASSIFIER}\" missing={missing} ! "
        jsonl, h5 = os.path.join(tmp, f"{missing}.jsonl"), os.path.join(tmp, f"{missing}.h5")
        record(jsonl, "jsonl", True, classify)
        record(h5, "hdf5", True, classify)
        got = {r["pts"] // 10 ** 9: r.get("missing-tokens", 0)
               for r in tfm_tokens.load(jsonl).streams[0].classifications}
        assert got == want, (missing, got)
        with h5py.File(h5, "r") as f:
            c = f["stream0/classifications"]
            assert dict(zip((c["pts"][()] // 10 ** 9).tolist(), c["missing-tokens"][()].tolist())) == want


def main():
    Gst.init(None)
    with tempfile.TemporaryDirectory() as tmp:
        check_hdf5(tmp, check_jsonl(tmp))
        check_classifications(tmp)
    print("ok")


if __name__ == "__main__":
    main()
