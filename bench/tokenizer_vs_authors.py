#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Our tokenizer pipeline and classifier against the authors' model code, in
the same run, alternated (issue: "four times the authors' speed").

  bench/tokenizer_vs_authors.py [--authors DIR] [--build BUILD] [--pairs 3]
                                [--threads 2] [--seconds 600]

DIR (or $TFM_AUTHORS_DIR) is a copy of the authors' TFM-Tokenizer repository
fetched outside this one; it is never part of this repository. Without it only
our figures and the sgemm limit are printed.

Measured, alternating ours and theirs, each pair reported and the median
ratio last:
  - tokenizer: channel-seconds per second of
      ours:   appsrc ! stft ! tfmtokenize ! fakesink (tests/tokenize/bench_pipeline,
              64 channels x SECONDS at 200 Hz, random 2x2x8 weights, 8192 codes);
      theirs: get_stft_torch + TFM_VQVAE2_deep.tokenize (get_tfm_tokenizer_2x2x8)
              in eval mode under no_grad, 64 windows of 10 s per call;
  - classifier: ms per 16 channel x 19 frame decision (ours: bench_tokenizer;
    theirs: get_tfm_token_classifier_64x4(n_classes=6) on one (1, 16, 19) batch);
  - numpy float32 matmul (2048^3) GFLOP/s with THREADS BLAS threads, the FLOP
    count of the tokenizer per channel-second, the limit they imply and our
    fraction of it.
Wall-clock and CPU-time figures are both printed: on a shared machine the
wall clock measures the neighbours too; CPU time charges only the process.
Python is Debian's python3 with python3-torch, both sides use THREADS threads.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WINDOW_SAMPLES, RATE, CHANNELS = 2000, 200, 64


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--authors", default=os.environ.get("TFM_AUTHORS_DIR"),
                   help="copy of the authors' repository (default $TFM_AUTHORS_DIR)")
    p.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"), help="meson build directory")
    p.add_argument("--pairs", type=int, default=3, help="alternated runs of each side (>= 3)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=int, default=600, help="seconds of 64-channel EEG per pipeline run")
    return p.parse_args()


ARGS = parse_args()
# BLAS and OpenMP read these when numpy/torch load.
os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
import numpy as np  # noqa: E402


def flops_per_channel_second():
    """Multiply-adds x 2 of the authors' 2x2x8 tokenize() for one 10 s
    window, per second of signal: GEMM-shaped work only (elementwise ops are
    O(1) per value and are not counted), per stage."""
    T, P, p, e, K = 19, 20, 5, 64, 8192
    def lat(n, depth):  # q, k, v, out; FF 4x; contraction k^T v and q ctx (8-wide heads)
        return depth * n * (4 * e * e + 2 * e * 4 * e + 2 * e * 8) * 2
    stages = {
        "frequency patch embedding": T * P * (p * e + 2 * e * e) * 2,
        "frequency attention": T * lat(P, 2),
        "aggregation": T * 4 * (p * e) * 16 * 2,
        "temporal branch": T * (200 * e + e * e + e * e // 2) * 2,
        "temporal attention": lat(T, 2),
        "quantiser": T * K * e * 2,
    }
    seconds = WINDOW_SAMPLES / RATE
    return {k: v / seconds for k, v in stages.items()}


def sgemm_rate():
    """(wall GFLOP/s, GFLOP per CPU-second) of numpy's float32 matmul."""
    n = 2048
    a, b = (np.random.default_rng(i).random((n, n), dtype=np.float32) for i in (0, 1))
    a @ b
    wall, cpu = [], []
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        a @ b
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    f = 2.0 * n ** 3 / 1e9
    return f / statistics.median(wall), f / statistics.median(cpu)


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


def ours_pipeline(build, model):
    """(channel-seconds per wall second, per CPU-second) of bench_pipeline."""
    env = dict(os.environ)
    env["GST_PLUGIN_PATH_1_0"] = os.path.join(build, "elements")
    env["GST_REGISTRY_1_0"] = os.path.join(tempfile.gettempdir(), "tokenizer-vs-authors-%d.bin" % os.getpid())
    env["GST_REGISTRY_FORK"] = "no"
    out = run([os.path.join(build, "tests", "tokenize", "bench_pipeline"), model, str(CHANNELS), str(ARGS.seconds),
               str(ARGS.threads)], env)
    wall = float(re.search(r"= (\d+) channel-seconds/s", out).group(1))
    cpu = float(re.search(r"= (\d+) channel-seconds per CPU-second", out).group(1))
    return wall, cpu


def ours_classifier(build):
    out = run([os.path.join(build, "models", "bench_tokenizer"), str(ARGS.threads), "40", "classifier"])
    return float(re.search(r"median ([\d.]+) ms/decision", out).group(1))


class Authors:
    """The authors' model code from their repository copy."""

    def __init__(self, path):
        import torch
        sys.path.insert(0, HERE)
        import authors_deps
        self.stand_ins = authors_deps.install()
        sys.path.insert(0, path)
        from models.tfm_token import get_tfm_token_classifier_64x4, get_tfm_tokenizer_2x2x8
        get_stft_torch = self.function_from(os.path.join(path, "utils", "utils.py"), "get_stft_torch")
        torch.set_num_threads(ARGS.threads)
        torch.manual_seed(0)
        self.torch, self.stft = torch, get_stft_torch
        self.tokenizer = get_tfm_tokenizer_2x2x8(code_book_size=8192, emb_size=64).eval()
        self.classifier = get_tfm_token_classifier_64x4(n_classes=6, code_book_size=8192, emb_size=64).eval()
        t = np.arange(WINDOW_SAMPLES) / RATE
        rng = np.random.default_rng(1)
        x = np.stack([20 * np.sin(2 * np.pi * (9 + 0.05 * c) * t + c) + 10 * rng.standard_normal(t.size)
                      for c in range(CHANNELS)]).astype(np.float32)
        self.raw = torch.from_numpy(x).unsqueeze(0)  # (1, 64, 2000): one 10 s window of 64 channels
        self.tokens = torch.randint(0, 8192, (1, 16, 19))

    @staticmethod
    def function_from(path, name):
        """One function of a module whose other imports (pyhealth, plotting)
        the benchmark does not need: its source compiled on its own."""
        import ast
        import torch
        from einops import rearrange
        tree = ast.parse(open(path).read())
        node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        scope = {"torch": torch, "rearrange": rearrange}
        exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), scope)
        return scope[name]

    def tokenize_once(self):
        with self.torch.no_grad():
            stft = self.stft(self.raw, resampling_rate=RATE)  # (1, 64, 100, 19)
            self.tokenizer.tokenize(stft.reshape(CHANNELS, 100, -1), self.raw.reshape(CHANNELS, -1))

    def pipeline(self):
        """Channel-seconds per wall second and per CPU-second, 10 calls."""
        self.tokenize_once()
        calls = 10
        w, c = time.perf_counter(), time.process_time()
        for _ in range(calls):
            self.tokenize_once()
        w, c = time.perf_counter() - w, time.process_time() - c
        seconds = calls * CHANNELS * WINDOW_SAMPLES / RATE
        return seconds / w, seconds / c

    def decision_ms(self):
        with self.torch.no_grad():
            self.classifier(self.tokens)
            t = []
            for _ in range(15):
                w = time.perf_counter()
                self.classifier(self.tokens)
                t.append(time.perf_counter() - w)
        return 1e3 * statistics.median(t)


def spread(values, fmt="%.2f"):
    return ("min " + fmt + ", median " + fmt + ", max " + fmt) % (min(values), statistics.median(values), max(values))


def main():
    build = os.path.abspath(ARGS.build)
    model = os.path.join(build, "tests", "tokenize", "test-tokenizer-10s.safetensors")
    if not os.path.exists(model):
        sys.exit("%s missing: build the tree first (meson compile -C %s)" % (model, build))
    authors = Authors(ARGS.authors) if ARGS.authors else None
    if authors and authors.stand_ins:
        print("authors' code from %s; not installed, so stand-ins from bench/authors_deps.py: %s"
              % (ARGS.authors, ", ".join(authors.stand_ins)))
    flops = flops_per_channel_second()
    mflop = sum(flops.values()) / 1e6
    print("work: %.2f MFLOP per channel-second (%s)" % (mflop, ", ".join("%s %.2f" % (k, v / 1e6)
                                                                         for k, v in flops.items())))
    rows = []
    for i in range(max(ARGS.pairs, 1)):
        gflops = sgemm_rate()
        ours = ours_pipeline(build, model)
        ours_ms = ours_classifier(build)
        theirs = authors.pipeline() if authors else None
        theirs_ms = authors.decision_ms() if authors else None
        rows.append((gflops, ours, ours_ms, theirs, theirs_ms))
        line = ("pair %d: sgemm %.0f GFLOP/s (%.0f per CPU-s); ours %.0f ch-s/s (%.0f per CPU-s), classifier %.2f ms"
                % (i + 1, gflops[0], gflops[1], ours[0], ours[1], ours_ms))
        if authors:
            line += ("; authors %.0f ch-s/s (%.0f per CPU-s), classifier %.2f ms; ratio %.2fx wall, %.2fx CPU, "
                     "classifier %.2fx" % (theirs[0], theirs[1], theirs_ms, ours[0] / theirs[0], ours[1] / theirs[1],
                                           theirs_ms / ours_ms))
        print(line, flush=True)
    limit_wall = [r[0][0] * 1e3 / mflop for r in rows]
    limit_cpu = [r[0][1] * 1e3 / mflop for r in rows]
    print("sgemm limit: %s channel-s/s wall (%s per CPU-second)" % (spread(limit_wall, "%.0f"), spread(limit_cpu, "%.0f")))
    print("ours, fraction of the same-pair limit: wall %s; CPU %s" % (
        spread([r[1][0] / lw for r, lw in zip(rows, limit_wall)]),
        spread([r[1][1] / lc for r, lc in zip(rows, limit_cpu)])))
    if authors:
        print("tokenizer ratio ours/authors: wall %s; CPU %s" % (
            spread([r[1][0] / r[3][0] for r in rows]), spread([r[1][1] / r[3][1] for r in rows])))
        print("classifier ratio authors/ours per decision: %s" % spread([r[4] / r[2] for r in rows]))


if __name__ == "__main__":
    main()
