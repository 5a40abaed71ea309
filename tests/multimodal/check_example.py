#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the Python embedding example docs/examples/classify_eeg.py and checks its output.

  check_example.py synthetic   synthetic default EEG (19 channels named T3..T6 style),
                               30 s: 3 decisions at 0, 10, 20 s
  check_example.py closed      EEGMMIDB S002R02 (eyes-closed baseline, 61 s): 6 decisions,
                               mostly eyes-closed
  check_example.py open        EEGMMIDB S003R01 (eyes-open baseline, 61 s): 6 decisions,
                               mostly eyes-open
  check_example.py missing_n   a file that does not exist: exit status 1, the error names it

Every printed decision must parse, cover 9.5 s starting every 10 s, have probabilities
that sum to 1 with the label the most probable, and equal the classification record the
example's tokensink wrote for the same window.
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
SHARED = os.environ.get("NEUROTOKENS_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import recordings  # noqa: E402
import tfm_tokens  # noqa: E402

EXAMPLE = os.path.join(SOURCE, "docs", "examples", "classify_eeg.py")
EEGMMIDB = os.path.join(SHARED, "data", "eeg", "eegmmidb")
LINE = re.compile(r"decision (\d+): ([\d.]+)-([\d.]+) s (\S+) p=([\d.]+) \((.*)\)")
CASES = {
    "synthetic": ([], 3, None),
    "closed": (["--edf", os.path.join(EEGMMIDB, "S002R02.edf")], 6, "eyes-closed"),
    "open": (["--edf", os.path.join(EEGMMIDB, "S003R01.edf")], 6, "eyes-open"),
}


def run_example(args, tmp):
    return subprocess.run(["/usr/bin/python3", EXAMPLE, "--record", "rec.jsonl"] + args,
                          cwd=tmp, capture_output=True, text=True, timeout=300)


def check_decisions(stdout, records, count, majority):
    failures = []
    decisions = [LINE.fullmatch(l) for l in stdout.splitlines() if l.startswith("decision")]
    if any(d is None for d in decisions):
        return [f"unparsable decision line in:\n{stdout}"]
    if len(decisions) != count or f"{count} decisions" not in stdout:
        failures.append(f"{len(decisions)} decisions printed, expected {count}")
    for i, d in enumerate(decisions):
        start, end, label, p = float(d[2]), float(d[3]), d[4], float(d[5])
        probs = {k: float(v) for k, v in (kv.split("=") for kv in d[6].split())}
        if int(d[1]) != i or abs(start - 10 * i) > 1e-6 or abs(end - start - 9.5) > 1e-6:
            failures.append(f"decision {i}: window {start}-{end} s, expected {10 * i}-{10 * i + 9.5}")
        if abs(sum(probs.values()) - 1) > 0.003 or max(probs, key=probs.get) != label \
                or abs(probs[label] - p) > 1e-9:
            failures.append(f"decision {i}: inconsistent probabilities {probs} for {label} p={p}")
        if i < len(records):
            r = records[i]
            if r["pts"] != 10 * i * 10**9 or r["label"] != label \
                    or abs(r["probabilities"][label] - p) > 0.0005:
                failures.append(f"decision {i} differs from the recorded {r}")
    if len(records) != len(decisions):
        failures.append(f"{len(records)} classification records, {len(decisions)} printed")
    if majority:
        agreeing = sum(d[4] == majority for d in decisions)
        print(f"{agreeing} of {len(decisions)} decisions {majority}")
        if 2 * agreeing <= len(decisions):
            failures.append(f"only {agreeing} of {len(decisions)} decisions are {majority}")
    return failures


def main():
    case = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        if case == "missing_n":
            missing = os.path.join(tmp, "no-such-recording.edf")
            proc = run_example(["--edf", missing], tmp)
            print(proc.stdout, proc.stderr)
            ok = proc.returncode == 1 and missing in proc.stderr and "decision 0" not in proc.stdout
            print("ok" if ok else "FAIL: a missing file must give exit 1 and an error naming it")
            return 0 if ok else 1
        args, count, majority = CASES[case]
        for a in args[1:]:
            recordings.need(a)
        proc = run_example(args, tmp)
        print(proc.stdout)
        if proc.returncode != 0:
            print(proc.stderr[-4000:])
            print(f"FAIL: example exited {proc.returncode}")
            return 1
        rec = tfm_tokens.load(os.path.join(tmp, "rec.jsonl"))
    failures = check_decisions(proc.stdout, rec.streams[0].classifications, count, majority)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
