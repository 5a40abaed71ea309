# SPDX-License-Identifier: LGPL-2.1-or-later
"""models/convert_checkpoint.py: authors'-style .pth state_dicts made with
torch from random weights of the right names and shapes are converted, loaded
by the C++ library and compared with the NumPy reference on the same weights.

usage: test_convert.py MODEL_PROBE CONVERTER CASE
  tokenizer           small-config tokenizer (--heads 4 --hop 50), real EEG
  classifier          authors' 64x4 shape, 6 classes, labels via --labels
  wrong_shape_n       a mis-shaped tensor must be refused, naming it
  unknown_tensor_n    an extra tensor must be refused, naming it
  not_a_checkpoint_n  a file that is no checkpoint must be refused"""

import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfm_reference as ref  # noqa: E402
import test_tokenizer_parity as tok  # noqa: E402

SMALL = dict(emb=32, heads=4, freq_depth=1, temporal_depth=1, decoder_depth=2, codebook=512,
             bins=50, freq_patch=5, kernel=100, stride=50)
LABELS = "SPSW,GPED,PLED,EYEM,ARTF,BCKG"


def state_dict(named_arrays):
    return collections.OrderedDict((n, torch.from_numpy(np.ascontiguousarray(a))) for n, a in named_arrays)


def classifier_weights(rng):
    """Authors' 64x4 classifier names and shapes; pe is the sinusoidal table."""
    emb, classes = 64, 6
    t = [("index", np.arange(16, dtype=np.int64)), ("cls_token", rng.standard_normal((1, 1, emb))),
         ("eeg_token_embedding.weight", rng.standard_normal((8193, emb))),
         ("channel_embed.weight", rng.standard_normal((16, emb)))]
    pos, k = np.arange(1000)[:, None], np.arange(0, emb, 2)
    pe = np.zeros((1000, emb))
    pe[:, 0::2], pe[:, 1::2] = np.sin(pos * np.exp(-k * np.log(1e4) / emb)), np.cos(pos * np.exp(-k * np.log(1e4) / emb))
    t.append(("temporal_pos_embed.pe", pe[None]))
    for name, shape in ref_lat_shapes("LAT", 4, emb):
        t.append((name, rng.uniform(-1, 1, shape) / np.sqrt(shape[-1]) * (3 if "norm.weight" in name else 1)))
    t += [("classification_head.weight", rng.standard_normal((classes, emb)) / 8),
          ("classification_head.bias", rng.standard_normal(classes))]
    return [(n, a.astype(np.float32) if a.dtype.kind == "f" else a) for n, a in t]


def ref_lat_shapes(prefix, depth, emb):
    out = []
    for i in range(depth):
        p = "%s.layers.layers.%d" % (prefix, i)
        out += [(p + ".0.fn.%s.weight" % m, (emb, emb)) for m in ("to_q", "to_k", "to_v", "to_out")]
        out += [(p + ".0.fn.to_out.bias", (emb,)), (p + ".0.norm.weight", (emb,)), (p + ".0.norm.bias", (emb,)),
                (p + ".1.fn.fn.w1.weight", (4 * emb, emb)), (p + ".1.fn.fn.w1.bias", (4 * emb,)),
                (p + ".1.fn.fn.w2.weight", (emb, 4 * emb)), (p + ".1.fn.fn.w2.bias", (emb,)),
                (p + ".1.norm.weight", (emb,)), (p + ".1.norm.bias", (emb,))]
    return out


def convert(converter, pth, out, *options):
    return subprocess.run([sys.executable, converter, pth, out, *options], capture_output=True, text=True)


def main(probe, converter, case):
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as tmp:
        pth, out = os.path.join(tmp, "model.pth"), os.path.join(tmp, "model.safetensors")
        if case == "tokenizer":
            weights = ref.random_tokenizer_weights(rng, SMALL, unit_codebook=True)
            torch.save(state_dict(weights), pth)
            run = convert(converter, pth, out, "--heads", "4", "--hop", "50", "--window-samples", "1000",
                          "--sample-rate", "100", "--modality", "haptic")
            assert run.returncode == 0, run.stderr
            info = json.loads(subprocess.run([probe, "info", out], check=True, capture_output=True, text=True).stdout)
            assert info["architecture"] == "tfm-tokenizer" and info["vocabulary"] == 512, info
            assert (info["n-fft"], info["hop"], info["bins"], info["frames-per-window"]) == (100, 50, 50, 19), info
            assert info["modality"] == "haptic" and info["metadata"]["decoder-depth"] == "2", info
            tok.check_tokenizer(probe, out, weights, SMALL, tok.ten_second_windows()[:, ::2], "converted tokenizer")
            return
        if case == "classifier":
            weights = classifier_weights(rng)
            torch.save(state_dict(weights), pth)
            run = convert(converter, pth, out, "--labels", LABELS, "--window-samples", "1000")
            assert run.returncode == 0, run.stderr
            tokens = rng.integers(0, 8193, (16, 9))
            cases = os.path.join(tmp, "cases.json")
            with open(cases, "w") as f:
                json.dump({"cases": [{"channels": 16, "frames": 9, "tokens": tokens.reshape(-1).tolist()}]}, f)
            got = json.loads(subprocess.run([probe, "classify", out, cases], check=True, capture_output=True,
                                            text=True).stdout)["logits"][0]
            want = ref.classifier_logits(ref.as64(dict(weights)), tokens)
            err = float(np.max(np.abs(np.asarray(got) - want)))
            print("converted classifier: max |logit error| = %.3g, logits %s" % (err, np.round(want, 3)))
            assert err < 1e-4
            info = json.loads(subprocess.run([probe, "info", out], check=True, capture_output=True, text=True).stdout)
            assert info["labels"] == LABELS.split(",") and info["frames-per-window"] == 9, info
            return
        if case == "not_a_checkpoint_n":
            with open(pth, "wb") as f:
                f.write(os.urandom(1000))
            expected = "cannot read"
        else:
            weights = ref.random_tokenizer_weights(rng, SMALL)
            if case == "wrong_shape_n":
                weights = [(n, np.zeros((32, 31), np.float32) if n == "decoder.0.weight" else a) for n, a in weights]
                expected = "unexpected shapes: decoder.0.weight [32, 31] (expected [32, 32])"
            elif case == "unknown_tensor_n":
                weights.append(("quantizer.extra", np.zeros(3, np.float32)))
                expected = "unknown tensors: quantizer.extra"
            else:
                raise SystemExit("unknown case " + case)
            torch.save(state_dict(weights), pth)
        run = convert(converter, pth, out)
        print(run.stderr.strip())
        assert run.returncode == 2, "converter accepted a bad checkpoint"
        assert expected in run.stderr, "message lacks %r" % expected
        assert not os.path.exists(out), "a refused conversion left an output file"


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
