# SPDX-License-Identifier: LGPL-2.1-or-later
"""Classifier parity: the C++ TFM-Encoder (through tfm_models.h) against the
NumPy float64 reference on the authors' released TUEV weights.

usage: test_classifier_parity.py MODEL_PROBE WEIGHTS
       test_classifier_parity.py MODEL_PROBE --binary [too_many_channels_n|bad_token_n]
The second form checks a small binary model (one logit, 2 heads, depth 2,
3 channels, vocabulary 20) with random weights: logits against the
reference, probabilities [1 - sigmoid, sigmoid] and its two labels; or that
4 channels / token id 21 are refused with a ModelError."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfm_reference as ref  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402

TOLERANCE = 1e-4


def main(probe, weights):
    W, _ = ref.read_safetensors(recordings.need(weights))
    W = ref.as64(W)
    vocab = W["eeg_token_embedding.weight"].shape[0] - 1
    rng = np.random.default_rng(20240611)
    cases = []
    for C, T in ((16, 19), (16, 9), (1, 9)):
        tokens = rng.integers(0, vocab, (C, T))
        tokens[0, 0] = vocab  # the [MASK] row must be usable too
        cases.append(tokens)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cases.json")
        with open(path, "w") as f:
            json.dump({"cases": [{"channels": int(t.shape[0]), "frames": int(t.shape[1]),
                                  "tokens": t.reshape(-1).tolist()} for t in cases]}, f)
        out = json.loads(subprocess.run([probe, "classify", weights, path], check=True,
                                        capture_output=True, text=True).stdout)
    worst = 0.0
    for tokens, got, probs in zip(cases, out["logits"], out["probabilities"]):
        want = ref.classifier_logits(W, tokens)
        err = float(np.max(np.abs(np.asarray(got) - want)))
        worst = max(worst, err)
        print("C=%d T=%d max |logit error| = %.3g  cpp=%s" % (tokens.shape[0], tokens.shape[1], err, np.round(got, 4)))
        assert len(got) == 6, got
        assert err < TOLERANCE, "logits differ from the NumPy reference by %g" % err
        p = np.exp(want - want.max())
        assert np.allclose(probs, p / p.sum(), atol=1e-5), "probabilities are not softmax(logits)"
        assert np.argmax(got) == np.argmax(want)
    print("OK, worst error %.3g" % worst)


def binary(probe, case):
    emb, heads, depth, vocab, channels, frames = 16, 2, 2, 20, 3, 12
    rng = np.random.default_rng(3)
    t = [("index", np.arange(channels, dtype=np.int64)),
         ("cls_token", rng.standard_normal((1, 1, emb))),
         ("eeg_token_embedding.weight", rng.standard_normal((vocab + 1, emb))),
         ("channel_embed.weight", rng.standard_normal((channels, emb))),
         ("temporal_pos_embed.pe", rng.standard_normal((1, frames, emb)))]
    for i in range(depth):
        p = "LAT.layers.layers.%d" % i
        t += [(p + ".0.fn.%s.weight" % m, rng.standard_normal((emb, emb)) / 4) for m in ("to_q", "to_k", "to_v", "to_out")]
        t += [(p + ".0.fn.to_out.bias", rng.standard_normal(emb) / 4), (p + ".0.norm.weight", 1 + rng.standard_normal(emb) / 5),
              (p + ".0.norm.bias", rng.standard_normal(emb) / 5), (p + ".1.fn.fn.w1.weight", rng.standard_normal((4 * emb, emb)) / 4),
              (p + ".1.fn.fn.w1.bias", rng.standard_normal(4 * emb) / 4),
              (p + ".1.fn.fn.w2.weight", rng.standard_normal((emb, 4 * emb)) / 8),
              (p + ".1.fn.fn.w2.bias", rng.standard_normal(emb) / 4), (p + ".1.norm.weight", 1 + rng.standard_normal(emb) / 5),
              (p + ".1.norm.bias", rng.standard_normal(emb) / 5)]
    t += [("classification_head.weight", rng.standard_normal((1, emb)) / 4), ("classification_head.bias", np.array([0.1]))]
    t = [(n, a.astype(np.float32) if a.dtype.kind == "f" else a) for n, a in t]
    meta = {"architecture": "tfm-encoder", "embedding-size": str(emb), "heads": str(heads), "depth": str(depth),
            "vocabulary": str(vocab), "labels": "open,closed"}
    tokens = [rng.integers(0, vocab + 1, (c, f)) for c, f in ((3, 12), (2, 5), (1, 1))]
    if case == "too_many_channels_n":
        tokens, expected = [rng.integers(0, vocab, (4, 12))], "4 channels x 12 frames is outside 1..3 x 1..12"
    elif case == "bad_token_n":
        tokens, expected = [np.full((2, 3), vocab + 1)], "token id 21 is outside the vocabulary 0..20"
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "binary.safetensors")
        ref.write_safetensors(model, t, meta)
        info = json.loads(subprocess.run([probe, "info", model], check=True, capture_output=True, text=True).stdout)
        assert info["classes"] == 1 and info["labels"] == ["open", "closed"], info
        path = os.path.join(tmp, "cases.json")
        with open(path, "w") as f:
            json.dump({"cases": [{"channels": int(x.shape[0]), "frames": int(x.shape[1]),
                                  "tokens": x.reshape(-1).tolist()} for x in tokens]}, f)
        run = subprocess.run([probe, "classify", model, path], capture_output=True, text=True)
    if case != "valid":
        print(run.stderr.strip())
        assert run.returncode == 2 and expected in run.stderr, "bad input was not refused: " + run.stderr
        return
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    W = ref.as64(dict(t))
    for x, got, probs in zip(tokens, out["logits"], out["probabilities"]):
        want = ref.classifier_logits(W, x, depth=depth, heads=heads)
        assert len(got) == 1 and abs(got[0] - want[0]) < TOLERANCE, (got, want)
        p = 1 / (1 + np.exp(-want[0]))
        assert np.allclose(probs, [1 - p, p], atol=1e-6), (probs, p)
        print("binary C=%d T=%d: logit %.5f (reference %.5f), p(closed) = %.4f" % (x.shape[0], x.shape[1], got[0], want[0], p))


if __name__ == "__main__":
    if sys.argv[2] == "--binary":
        binary(sys.argv[1], sys.argv[3] if len(sys.argv) > 3 else "valid")
    else:
        main(sys.argv[1], sys.argv[2])
