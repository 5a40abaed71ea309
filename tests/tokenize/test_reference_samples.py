#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end parity of tfmtokenize with the NumPy float64 reference
(tests/models/tfm_reference.py) on the authors' six 5 s test windows
(data/eeg/tfm_tokenizer_samples, 1000 samples at 200 Hz each).

The six windows are played back to back as one 30 s single-channel stream
through `appsrc ! stft ! tfmtokenize ! appsink`, in buffers that do not line
up with frames or windows, against a random-weight 2x2x8 tokenizer with
window-samples=1000. Window w of the stream must be sample w exactly: the
element's tokens must equal the reference tokens of that sample, wherever the
reference's best and second-best code distances differ by more than 1e-5
(float32 against float64), for normalize=q95 and normalize=none, and each
buffer must carry PTS w * 5 s and 9 token frames.
"""

import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
sys.path.insert(0, HERE)
import tfm_reference as ref  # noqa: E402
from make_test_tokenizer import write_test_tokenizer  # noqa: E402

import gi  # noqa: E402
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402

RATE, L, T = 200, 1000, 9
GAP = 1e-5
CHUNK = 333
DATA = recordings.data("eeg/tfm_tokenizer_samples")


def samples():
    return np.stack([np.loadtxt(os.path.join(DATA, "test_sample_%d.csv" % i), skiprows=1, dtype=np.float32)
                     for i in range(6)])


def pipeline_tokens(model, signal, normalize):
    """(PTS, tokens) per output buffer of the element on a 1-channel stream."""
    Gst.init(None)
    pipe = Gst.parse_launch(
        "appsrc name=src format=time caps=audio/x-raw,format=F32LE,layout=interleaved,rate=%d,channels=1 "
        "! stft ! tfmtokenize model=\"%s\" normalize=%s ! appsink name=sink sync=false" % (RATE, model, normalize))
    src, sink = pipe.get_by_name("src"), pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    for i in range(0, len(signal), CHUNK):
        chunk = signal[i:i + CHUNK]
        buf = Gst.Buffer.new_wrapped(chunk.astype("<f4").tobytes())
        buf.pts = Gst.util_uint64_scale(i, Gst.SECOND, RATE)
        buf.duration = Gst.util_uint64_scale(len(chunk), Gst.SECOND, RATE)
        assert src.emit("push-buffer", buf) == Gst.FlowReturn.OK
    src.emit("end-of-stream")
    out = []
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        assert ok
        out.append((buf.pts, np.frombuffer(bytes(info.data), dtype="<u4").copy()))
        buf.unmap(info)
    msg = pipe.get_bus().pop_filtered(Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    assert msg is None, msg.parse_error()
    return out


def reference_tokens(W, windows, normalize):
    """Tokens and best/second-best distance gaps of the NumPy reference."""
    x = windows.astype(np.float64)
    if normalize == "q95":
        x = x / (np.quantile(np.abs(windows), 0.95, axis=1, keepdims=True) + 1e-8)
    stft = ref.stft_magnitude(x)
    quant_in = ref.tokenizer_quant_in(W, stft, x, ref.AUTHORS_TOKENIZER)
    d = ref.code_distances(quant_in, W["quantizer.embedding.weight"])
    best2 = np.sort(d, axis=1)[:, :2]
    return d.argmin(axis=1).reshape(len(windows), T), (best2[:, 1] - best2[:, 0]).reshape(len(windows), T)


def main():
    windows = samples()
    assert windows.shape == (6, L), windows.shape
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "tok-5s.safetensors")
        write_test_tokenizer(model, window_samples=L, seed=11)
        tensors, _ = ref.read_safetensors(model)
        W = ref.as64(tensors)
        W["quantizer.embedding.weight"] = tensors["quantizer.embedding.weight"]
        for normalize in ("q95", "none"):
            got = pipeline_tokens(model, windows.reshape(-1), normalize)
            want, gap = reference_tokens(W, windows, normalize)
            assert len(got) == 6, "%s: %d buffers, expected 6" % (normalize, len(got))
            decided = gap > GAP
            assert decided.mean() > 0.9, "%s: too many near-ties (%d of %d)" % (normalize, (~decided).sum(), gap.size)
            for w, (pts, tokens) in enumerate(got):
                assert pts == w * 5 * Gst.SECOND, (normalize, w, pts)
                assert tokens.shape == (T,), (normalize, w, tokens.shape)
                bad = [(t, int(tokens[t]), int(want[w, t])) for t in range(T)
                       if decided[w, t] and tokens[t] != want[w, t]]
                assert not bad, "%s: window %d (frame, element, reference): %s" % (normalize, w, bad)
            print("normalize=%s: 6 windows x %d tokens equal the reference (%d near-ties skipped); "
                  "window 0: %s" % (normalize, T, (~decided).sum(), got[0][1].tolist()))


if __name__ == "__main__":
    main()
