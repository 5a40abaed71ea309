# SPDX-License-Identifier: LGPL-2.1-or-later
"""Safetensors loading through the model library (model_probe info), with a
small valid classifier file and one corruption per negative case.

usage: test_safetensors.py MODEL_PROBE CASE
Cases ending in _n must be refused with a ModelError naming the problem."""

import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfm_reference as ref  # noqa: E402

EMB, HEADS, DEPTH, VOCAB, CHANNELS, FRAMES, CLASSES = 8, 2, 1, 10, 2, 5, 3
METADATA = {"architecture": "tfm-encoder", "embedding-size": str(EMB), "heads": str(HEADS),
            "depth": str(DEPTH), "vocabulary": str(VOCAB), "labels": "a, b,c", "modality": "haptic"}


def tiny_classifier(rng):
    t = [("index", np.arange(CHANNELS, dtype=np.int64)),
         ("cls_token", rng.standard_normal((1, 1, EMB)).astype(np.float32)),
         ("eeg_token_embedding.weight", rng.standard_normal((VOCAB + 1, EMB)).astype(np.float32)),
         ("channel_embed.weight", rng.standard_normal((CHANNELS, EMB)).astype(np.float32)),
         ("temporal_pos_embed.pe", rng.standard_normal((1, FRAMES, EMB)).astype(np.float32))]
    p = "LAT.layers.layers.0"
    for name, shape in ((".0.fn.to_q.weight", (EMB, EMB)), (".0.fn.to_k.weight", (EMB, EMB)),
                        (".0.fn.to_v.weight", (EMB, EMB)), (".0.fn.to_out.weight", (EMB, EMB)),
                        (".0.fn.to_out.bias", (EMB,)), (".0.norm.weight", (EMB,)), (".0.norm.bias", (EMB,)),
                        (".1.fn.fn.w1.weight", (4 * EMB, EMB)), (".1.fn.fn.w1.bias", (4 * EMB,)),
                        (".1.fn.fn.w2.weight", (EMB, 4 * EMB)), (".1.fn.fn.w2.bias", (EMB,)),
                        (".1.norm.weight", (EMB,)), (".1.norm.bias", (EMB,))):
        t.append((p + name, rng.standard_normal(shape).astype(np.float32)))
    t += [("classification_head.weight", rng.standard_normal((CLASSES, EMB)).astype(np.float32)),
          ("classification_head.bias", rng.standard_normal(CLASSES).astype(np.float32))]
    return t


def set_field(name, key, value):
    def apply(header):
        header[name][key] = value
    return apply


def replace(tensors, name, new_name=None, array=None):
    return [((new_name or n), (a if array is None else array)) if n == name else (n, a) for n, a in tensors]


def write_case(case, path, tensors):
    """Writes the valid file, or its corruption for `case`; returns the text
    the error message must contain."""
    if case == "valid":
        ref.write_safetensors(path, tensors, METADATA)
        return None
    if case == "truncated_n":
        ref.write_safetensors(path, tensors, METADATA)
        data = open(path, "rb").read()
        open(path, "wb").write(data[:-100])
        return "truncated file?"
    if case == "empty_n":
        open(path, "wb").close()
        return "too short"
    if case == "header_length_n":
        ref.write_safetensors(path, tensors, METADATA)
        data = bytearray(open(path, "rb").read())
        data[:8] = struct.pack("<Q", 1 << 62)
        open(path, "wb").write(data)
        return "invalid header length"
    if case == "json_invalid_utf8_n":
        # The JSON parser quotes the bytes it stopped at; the message must still
        # be UTF-8 (the probe's stderr is decoded strictly below).
        ref.write_safetensors(path, tensors, METADATA)
        data = bytearray(open(path, "rb").read())
        data[8:12] = b"\xff\xfe\xe4\xc3"
        open(path, "wb").write(data)
        return "not valid JSON"
    if case == "metadata_limit_n":
        ref.write_safetensors(path, tensors, dict(METADATA, vocabulary="2000000000"))
        return "metadata 'vocabulary' = '2000000000' exceeds the limit of 16777216"
    if case == "bad_json_n":
        ref.write_safetensors(path, tensors, METADATA)
        data = bytearray(open(path, "rb").read())
        data[8:16] = b'{"index"'[::-1]
        open(path, "wb").write(data)
        return "not valid JSON"
    if case == "offsets_outside_n":
        ref.write_safetensors(path, tensors, METADATA,
                              header_override=set_field("classification_head.bias", "data_offsets", [0, 1 << 40]))
        return "outside the"
    if case == "offsets_overflow_n":
        ref.write_safetensors(path, tensors, METADATA,
                              header_override=set_field("cls_token", "shape", [1 << 40, 1 << 40, 1 << 40]))
        return "does not match its"
    if case == "overlap_n":
        ref.write_safetensors(path, tensors, METADATA,
                              header_override=set_field("classification_head.bias", "data_offsets", [0, 12]))
        return "overlap"
    if case == "dtype_unknown_n":
        ref.write_safetensors(path, tensors, METADATA, header_override=set_field("cls_token", "dtype", "Q4"))
        return "unsupported dtype 'Q4'"
    if case == "dtype_wrong_n":
        bad = replace(tensors, "cls_token", array=np.zeros((1, 1, EMB), dtype=np.int64))
        ref.write_safetensors(path, bad, METADATA)
        return "'cls_token' has dtype I64 but a floating-point tensor is needed"
    if case == "shape_wrong_n":
        name = "LAT.layers.layers.0.0.fn.to_q.weight"
        bad = replace(tensors, name, array=np.zeros((EMB // 2, EMB * 2), dtype=np.float32))
        ref.write_safetensors(path, bad, METADATA)
        return "'%s' has shape [4, 16], expected [8, 8]" % name
    if case == "missing_tensor_n":
        ref.write_safetensors(path, [t for t in tensors if t[0] != "LAT.layers.layers.0.0.fn.to_k.weight"], METADATA)
        return "missing tensors: LAT.layers.layers.0.0.fn.to_k.weight"
    if case == "unexpected_tensor_n":
        ref.write_safetensors(path, tensors + [("extra.weight", np.zeros(3, dtype=np.float32))], METADATA)
        return "unexpected tensors: extra.weight"
    if case == "bad_metadata_n":
        ref.write_safetensors(path, tensors, dict(METADATA, depth="four"))
        return "metadata 'depth' = 'four' is not a positive integer"
    if case == "wrong_architecture_n":
        ref.write_safetensors(path, tensors, METADATA)  # a classifier, opened as a tokenizer below
        return "architecture 'tfm-encoder' cannot be used as a tokenizer"
    if case == "labels_count_n":
        ref.write_safetensors(path, tensors, dict(METADATA, labels="a,b"))
        return "lists 2 labels but the head has 3 outputs"
    raise SystemExit("unknown case " + case)


def main(probe, case):
    tensors = tiny_classifier(np.random.default_rng(7))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.safetensors")
        expected = write_case(case, path, tensors)
        command = ["tokenize", path, "unused.json"] if case == "wrong_architecture_n" else ["info", path]
        run = subprocess.run([probe] + command, capture_output=True)
        run.stdout = run.stdout.decode("utf-8")
        run.stderr = run.stderr.decode("utf-8")  # strict: a message must be valid UTF-8
        if expected is not None:
            print(run.stderr.strip())
            assert run.returncode == 2, "corrupt file was not refused (status %d): %s" % (run.returncode, run.stdout)
            assert expected in run.stderr, "message lacks %r" % expected
            assert path in run.stderr, "message does not name the file"
            return
        assert run.returncode == 0, run.stderr
        info = json.loads(run.stdout)
        print(info)
        assert info["labels"] == ["a", "b", "c"] and info["classes"] == CLASSES
        assert info["max-channels"] == CHANNELS and info["max-frames"] == FRAMES
        assert info["modality"] == "haptic" and info["architecture"] == "tfm-encoder"
        assert info["id"] == "model" and info["sample-rate"] == 200 and info["window-samples"] == 2000
        # The C++ writer reproduces every tensor byte for byte and the metadata.
        out = os.path.join(tmp, "rewritten.safetensors")
        subprocess.run([probe, "roundtrip", path, out], check=True)
        again, meta = ref.read_safetensors(out)
        assert meta == dict(METADATA, rewritten="yes"), meta
        assert [n for n, _ in tensors] == list(again.keys())
        for name, arr in tensors:
            assert again[name].dtype == arr.dtype and np.array_equal(again[name], arr), name
        assert subprocess.run([probe, "info", out], capture_output=True).returncode == 0


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
