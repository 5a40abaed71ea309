# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tokenizer parity: the C++ TFM-Tokenizer (through tfm_models.h) against the
NumPy float64 reference of tfm_reference.py, on EEG windows: real ones with
the argument "recordings", otherwise their generated stand-ins (tests/fixtures;
the six TFM test windows have none).

usage: test_tokenizer_parity.py MODEL_PROBE CASE [recordings]
  authors_random_5s  authors' 2x2x8 shapes, random weights, the six TFM test
                     windows (5 s at 200 Hz)
  authors_unit_10s   authors' 2x2x8 shapes, unit-norm codebook, 10 s windows
                     of EEGMMIDB (resampled 160 -> 200 Hz) and YASA sleep EEG
  small_config       a smaller model (emb 32, 4 heads, 50 bins, conv 100/50,
                     depths 1/1/2, 512 codes) whose hyper-parameters come only
                     from the file's metadata

Checks: quantiser input within 1e-4 absolute; tokens identical wherever the
best and second-best reference distances differ by more than 1e-5."""

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

QUANT_TOLERANCE = 1e-4
GAP = 1e-5
SEEDS = {"authors_random_5s": 11, "authors_unit_10s": 12, "small_config": 13}


def q95_normalise(x):
    return x / (np.quantile(np.abs(x), 0.95, axis=1, keepdims=True) + 1e-8)


def tfm_samples():
    d = recordings.data("eeg/tfm_tokenizer_samples")
    return np.stack([np.loadtxt(os.path.join(d, "test_sample_%d.csv" % i), skiprows=1) for i in range(6)])


def ten_second_windows(real=False):
    """Nine 10 s windows at 200 Hz: seven EEGMMIDB channels, two of YASA sleep EEG (real or stand-ins)."""
    from scipy.signal import resample_poly
    import mne
    raw = mne.io.read_raw_edf(recordings.recording("eeg/eegmmidb/S001R02.edf", real), verbose="error")
    x = raw.get_data(picks=[0, 10, 20, 30, 40, 50, 60], start=160 * 12, stop=160 * 22) * 1e6
    x = resample_poly(x, 5, 4, axis=1)                                            # 160 -> 200 Hz
    sleep = np.loadtxt(recordings.recording("eeg/sleep_yasa/data_N2_spindles_15sec_200Hz.txt", real))
    return np.concatenate([x[:, :2000], sleep[None, :2000], sleep[None, 1000:3000]])


def case_setup(case, rng, real):
    if case == "authors_random_5s":
        cfg = dict(ref.AUTHORS_TOKENIZER)
        return cfg, ref.random_tokenizer_weights(rng, cfg), {"window-samples": "1000"}, tfm_samples()
    if case == "authors_unit_10s":
        cfg = dict(ref.AUTHORS_TOKENIZER)
        return cfg, ref.random_tokenizer_weights(rng, cfg, unit_codebook=True), {}, ten_second_windows(real)
    if case == "small_config":
        cfg = dict(emb=32, heads=4, freq_depth=1, temporal_depth=1, decoder_depth=2, codebook=512,
                   bins=50, freq_patch=5, kernel=100, stride=50)
        meta = {"embedding-size": "32", "heads": "4", "freq-depth": "1", "temporal-depth": "1",
                "decoder-depth": "2", "vocabulary": "512", "bins": "50", "freq-patch": "5", "n-fft": "100",
                "hop": "50", "window-samples": "1000", "sample-rate": "100", "modality": "haptic"}
        return cfg, ref.random_tokenizer_weights(rng, cfg, unit_codebook=True), meta, ten_second_windows(real)[:, ::2]
    raise SystemExit("unknown case " + case)


def check_tokenizer(probe, model, weights, cfg, signals, label):
    """Runs the C++ tokenizer in `model` on q95-normalised `signals` and
    compares it with the reference on `weights` (name -> array)."""
    raw = q95_normalise(signals).astype(np.float32)
    stft = ref.stft_magnitude(raw.astype(np.float64), cfg["kernel"], cfg["stride"], cfg["bins"]).astype(np.float32)
    n, T = raw.shape[0], stft.shape[2]
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "input.json")
        with open(inp, "w") as f:
            json.dump({"n": n, "stft": stft.reshape(-1).tolist(), "raw": raw.reshape(-1).tolist()}, f)
        run = subprocess.run([probe, "tokenize", model, inp], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
    W = ref.as64(dict(weights))
    want = ref.tokenizer_quant_in(W, stft.astype(np.float64), raw.astype(np.float64), cfg)
    got = np.asarray(out["quant_in"]).reshape(n, T, cfg["emb"])
    err = float(np.max(np.abs(got - want)))
    print("%s: %d windows x %d frames, max |quant_in error| = %.3g" % (label, n, T, err))
    assert err < QUANT_TOLERANCE, "quantiser input differs by %g" % err

    E = W["quantizer.embedding.weight"]
    x = want.reshape(-1, cfg["emb"])
    dist = (x * x).sum(1)[:, None] - 2 * x @ E.T + (E * E).sum(1)[None, :]
    order = np.argsort(dist, axis=1, kind="stable")
    best, second = order[:, 0], order[:, 1]
    rows = np.arange(len(x))
    gap = dist[rows, second] - dist[rows, best]
    tokens = np.asarray(out["tokens"])
    decided = gap > GAP
    agree = tokens[decided] == best[decided]
    print("tokens: %d/%d decided frames agree, %d distinct codes, %d near-ties skipped"
          % (agree.sum(), decided.sum(), len(set(tokens.tolist())), (~decided).sum()))
    assert decided.sum() > 0.9 * len(x), "too many near-ties for a meaningful check"
    assert agree.all(), "tokens differ at frames %s" % np.nonzero(decided)[0][~agree]
    assert len(set(best.tolist())) > 1, "degenerate test: one code for every frame"


def main(probe, case, real):
    rng = np.random.default_rng(SEEDS[case])
    cfg, weights, meta, signals = case_setup(case, rng, real)
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "tokenizer.safetensors")
        ref.write_safetensors(model, weights, dict(meta, architecture="tfm-tokenizer"))
        check_tokenizer(probe, model, weights, cfg, signals, case)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:] == ["recordings"])
