#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a random-weight TFM-Tokenizer of the authors' 2x2x8 shape for the
tfmtokenize tests, with the model helper's writer and weight generator
(tests/models/tfm_reference.py), so the element tests and the NumPy reference
read the very same file.

usage: make_test_tokenizer.py OUT.safetensors [--window-samples N] [--seed S] [--modality M]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import tfm_reference as ref  # noqa: E402


def write_test_tokenizer(path, window_samples=2000, seed=1, modality="eeg"):
    rng = np.random.default_rng(seed)
    tensors = ref.random_tokenizer_weights(rng)
    metadata = {
        "architecture": "tfm-tokenizer",
        "modality": modality,
        "id": "test-random-2x2x8-%d" % window_samples,
        "sample-rate": "200",
        "n-fft": "200",
        "hop": "100",
        "bins": "100",
        "window-samples": str(window_samples),
        "vocabulary": "8192",
    }
    ref.write_safetensors(path, tensors, metadata)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out")
    p.add_argument("--window-samples", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--modality", default="eeg")
    a = p.parse_args()
    write_test_tokenizer(a.out, a.window_samples, a.seed, a.modality)


if __name__ == "__main__":
    main()
