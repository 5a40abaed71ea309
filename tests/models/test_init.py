# SPDX-License-Identifier: LGPL-2.1-or-later
"""The trainable models' parameter creation (tfm_torch.h, via model_probe
init): exactly the authors' state_dict names, order and shapes (as listed
independently by convert_checkpoint.py) and the authors' initialisation.

usage: test_init.py MODEL_PROBE CONVERTER tokenizer|classifier"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfm_reference as ref  # noqa: E402


def load_converter(path):
    spec = importlib.util.spec_from_file_location("convert_checkpoint", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_linear_init(W, name, fan_in):
    bound = 1 / np.sqrt(fan_in)
    for part in ("weight", "bias"):
        v = W["%s.%s" % (name, part)]
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.8 * bound, (name, part, np.abs(v).max(), bound)


def main(probe, converter, kind):
    conv = load_converter(converter)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "init.safetensors")
        subprocess.run([probe, "init", kind, out, "7"], check=True)
        W, meta = ref.read_safetensors(out)
    assert meta["architecture"] == ("tfm-tokenizer" if kind == "tokenizer" else "tfm-encoder"), meta

    state = W  # the converter's layout functions only read .shape
    if kind == "tokenizer":
        cfg, expected = conv.tokenizer_layout(state, 8)
        assert (cfg["freq-depth"], cfg["temporal-depth"], cfg["decoder-depth"], cfg["vocabulary"]) == (2, 2, 8, 8192)
    else:
        cfg, expected, classes = conv.encoder_layout(state, 8)
        assert cfg["depth"] == 4 and classes == 6
    assert list(W) == list(expected), "names or order differ from the authors' state_dict"
    for name, shape in expected.items():
        assert tuple(W[name].shape) == tuple(shape), name
    print("%d tensors, %d values: names, order and shapes as the authors'" % (len(W), sum(v.size for v in W.values())))

    if kind == "tokenizer":
        E = W["quantizer.embedding.weight"]
        assert np.abs(E).max() <= 1 / 8192 and np.array_equal(E, W["quantizer.ema_w"])
        assert not W["quantizer.cluster_size"].any()
        for norm in ("freq_patch_embedding.2", "temporal_patch_embedding.8",
                     "trans_decoder.transformer.layers.layers.7.1.norm"):
            assert (W[norm + ".weight"] == 1).all() and (W[norm + ".bias"] == 0).all(), norm
        check_linear_init(W, "freq_patch_embedding.0", 5)
        check_linear_init(W, "temporal_patch_embedding.0", 200)
        check_linear_init(W, "freq_patch_embedding_2.0", 64 * 5)
        check_linear_init(W, "trans_freq_encoder.transformer.layers.layers.0.1.fn.fn.w2", 256)
        check_linear_init(W, "decoder.2", 64)
        assert sum(v.size for n, v in W.items() if n not in ("quantizer.cluster_size", "quantizer.ema_w")) == 1166100
    else:
        assert np.array_equal(W["index"], np.arange(16)) and not W["cls_token"].any()
        assert abs(W["eeg_token_embedding.weight"].std() - 1) < 0.01
        pos, k = np.arange(1000)[:, None], np.arange(0, 64, 2)
        pe = np.zeros((1000, 64))
        pe[:, 0::2], pe[:, 1::2] = np.sin(pos * np.exp(-k * np.log(1e4) / 64)), np.cos(pos * np.exp(-k * np.log(1e4) / 64))
        assert np.abs(W["temporal_pos_embed.pe"][0] - pe).max() < 1e-3
        check_linear_init(W, "classification_head", 64)
        assert sum(v.size for n, v in W.items() if n != "temporal_pos_embed.pe") == 725014


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
