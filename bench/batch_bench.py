#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Throughput of neurotokens-batch over a whole corpus with 1 and 2 workers
(alternated runs, fresh output folders), in channel-seconds of EEG per
second of wall time, the speed-up, the channel-seconds per CPU-second of the
run and its workers (what a core delivers, whatever else the machine runs),
and the time a 27,000-hour, 30-channel corpus would take on N 16-core nodes.

    bench/batch_bench.py [CORPUS_DIR] [--repeats R]   (default: $NEUROTOKENS_SHARED_DIR/data/eeg)
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..")),
                    "tools", "neurotokens_batch.py")
CORPUS_HOURS, CORPUS_CHANNELS, NODE_CORES = 27000, 30, 16


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(plan, out, workers):
    """(channel-seconds, wall s, CPU s of the run and its worker processes)"""
    stats = out + ".stats.json"
    cpu0 = children_cpu_s()
    subprocess.run([sys.executable, TOOL, "run", plan, "--out", out, "--shard", "0/1",
                    "--workers", str(workers), "--stats", stats], check=True, capture_output=True)
    cpu = children_cpu_s() - cpu0
    wall = json.load(open(stats))["wall_s"]
    channel_s = 0.0
    for e in map(json.loads, open(plan)):
        if "error" in e:
            continue
        name = os.path.splitext(os.path.basename(e["path"]))[0] + ".h5"
        with h5py.File(os.path.join(out, name), "r") as f:
            channel_s += e["duration"] * sum(g["tokens"].shape[1] for k, g in f.items())
    return channel_s, wall, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", nargs="?", default=os.path.join(os.environ.get("NEUROTOKENS_SHARED_DIR", ""),
                                                             "data", "eeg"))
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    if not os.path.isdir(args.corpus):
        print(f"SKIP: no corpus at {args.corpus}")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "plan.jsonl")
        subprocess.run([sys.executable, TOOL, "plan", args.corpus, "-o", plan], check=True,
                       capture_output=True)
        rates = {1: [], 2: []}
        per_cpu = []
        for r in range(args.repeats):
            for w in (1, 2):
                out = os.path.join(tmp, f"out-{w}-{r}")
                channel_s, wall, cpu = run(plan, out, w)
                rates[w].append(channel_s / wall)
                per_cpu.append(channel_s / cpu)
                print(f"run {r + 1}, {w} worker(s): {channel_s:.0f} channel-s in {wall:.1f} s = "
                      f"{channel_s / wall:.0f} channel-s/s; {cpu:.1f} CPU-s = "
                      f"{channel_s / cpu:.0f} channel-s per CPU-s", flush=True)
                shutil.rmtree(out)
    best = {w: max(v) for w, v in rates.items()}
    pairs = [b / a for a, b in zip(rates[1], rates[2])]
    speedup = sum(pairs) / len(pairs)
    print(f"1 worker: {min(rates[1]):.0f}-{best[1]:.0f} channel-s/s; 2 workers: "
          f"{min(rates[2]):.0f}-{best[2]:.0f}; speed-up (same-run pairs) {', '.join(f'{x:.2f}' for x in pairs)}")
    corpus = CORPUS_HOURS * 3600 * CORPUS_CHANNELS
    # Workers are independent processes: a node of C cores runs C of them, each
    # delivering what one CPU-second delivers here (the median of all runs).
    core_rate = sorted(per_cpu)[len(per_cpu) // 2]
    print(f"channel-s per CPU-s: {min(per_cpu):.0f}-{max(per_cpu):.0f}, median {core_rate:.0f}")
    for n in (1, 10, 50, 100):
        print(f"{CORPUS_HOURS} h x {CORPUS_CHANNELS} ch on {n} x {NODE_CORES}-core nodes: "
              f"{corpus / (n * NODE_CORES * core_rate) / 3600:.1f} h "
              f"(at the 1-worker wall rate per core: {corpus / (n * NODE_CORES * best[1]) / 3600:.1f} h)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
