#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Channel names across deinterleave and interleave, and channeltags.

Records synthetic EEG through deinterleave and interleave into tokensink and
reads the stream records: without channeltags the per-channel names are
wrong (deinterleave: every mono stream is `ch0`; interleave: the names of one
input only), which is the documented behaviour; `channeltags position=N`
after deinterleave's src_N and `channeltags names=... units=...` after
interleave give every stream its right names and units (and lbmclassify then
finds O1 and O2 by name). Negative cases (_n): a names list of the wrong
length and a position outside the upstream list are errors from channeltags
naming both numbers."""
import atexit
import json
import os
import sys
import shutil
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from launch import run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="channeltags-")
atexit.register(shutil.rmtree, TMP, True)  # leave nothing in TMPDIR
SRC = "eegsrc num-buffers=20 samplesperbuffer=200"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def streams(path):
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "stream":
                out[r["stream"]] = r
            elif r["type"] == "classification":
                out[r["stream"]].setdefault("decisions", 0)
                out[r["stream"]]["decisions"] += 1
    return out


def record(name, body):
    path = os.path.join(TMP, name + ".jsonl")
    err = run(f"tokensink name=r location={path} {body}")
    if err:
        fail(f"{name}: {err}")
    return streams(path)


def deinterleaved(tag_stage):
    branches = " ".join(f"d.src_{i} ! queue ! {tag_stage(i)} stft ! tfmtokenize ! r.sink_{i}"
                        for i in range(3))
    return f"{SRC} channels=O1,O2,Cz ! deinterleave name=d {branches}"


def interleaved(tag_stage):
    return (f"interleave name=i ! {tag_stage} stft ! tfmtokenize ! lbmclassify ! r.sink_0 "
            f"{SRC} channels=O1 ! i. {SRC} channels=O2 seed=2 ! i.")


def check_deinterleave():
    plain = record("deinterleave-plain", deinterleaved(lambda i: ""))
    if [s["channels"] for s in plain.values()] != [["ch0"]] * 3:
        fail(f"deinterleave without channeltags: {[s['channels'] for s in plain.values()]} "
             "(docs/pipelines.md says every stream is ch0)")
    fixed = record("deinterleave-position", deinterleaved(lambda i: f"channeltags position={i} !"))
    got = [(s["channels"], s["units"]) for _, s in sorted(fixed.items())]
    if got != [(["O1"], ["uV"]), (["O2"], ["uV"]), (["Cz"], ["uV"])]:
        fail(f"channeltags position=N: {got}")
    print("deinterleave:", [s["channels"][0] for _, s in sorted(fixed.items())])


def check_interleave():
    err = run(f"tokensink location={os.path.join(TMP, 'il-plain.jsonl')} "
              + interleaved("").replace("r.sink_0", "tokensink0.sink_0"))
    if err is None or "lbmclassify" not in err:
        fail(f"interleave without channeltags: lbmclassify should miss O2, got {err!r}")
    fixed = record("interleave-names", interleaved("channeltags names=O1,O2 units=uV modality=eeg !"))
    s = fixed[0]
    if (s["channels"], s["units"], s["modality"]) != (["O1", "O2"], ["uV", "uV"], "eeg"):
        fail(f"channeltags names=O1,O2 units=uV: {s}")
    if s.get("decisions") != 2:
        fail(f"lbmclassify made {s.get('decisions')} decisions on the renamed stream, expected 2")
    print("interleave:", s["channels"], s["units"], s["decisions"], "decisions")


def check_errors_n():
    err = run(f"{SRC} channels=O1,O2 ! channeltags name=ct names=A,B,C ! fakesink")
    if not err or not err.startswith("ct:") or "3 names" not in err or "2 channels" not in err:
        fail(f"names of the wrong length: {err!r}")
    err = run(f"{SRC} channels=O1,O2 ! deinterleave name=d d.src_1 ! queue ! channeltags position=2 ! "
              "fakesink d.src_0 ! queue ! fakesink")
    if not err or "position=2" not in err or "(O1,O2)" not in err:
        fail(f"position outside the list: {err!r}")
    print("errors:", err)


def main():
    check_deinterleave()
    check_interleave()
    check_errors_n()
    print("ok")


if __name__ == "__main__":
    main()
