"""Classifier parity: the C++ TFM-Encoder (through tfm_models.h) against the
NumPy float64 reference on the authors' released TUEV weights.

usage: test_classifier_parity.py MODEL_PROBE WEIGHTS"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfm_reference as ref  # noqa: E402

TOLERANCE = 1e-4


def main(probe, weights):
    W, _ = ref.read_safetensors(weights)
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


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
