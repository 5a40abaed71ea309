#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""eegsrc's synthetic default through the eyes classifier, selecting channels by name.

  check_synthetic_channels.py default     eegsrc num-buffers=30 ! stft ! tfmtokenize !
                                          lbmclassify ! tokensink (19 channels, T3..T6 names)
  check_synthetic_channels.py new-names   eegsrc channels=O1,O2,P7,P8: the synthetic source
                                          names these sites O1,O2,T5,T6 (old 10-20); the
                                          shared rule (lib/common/channels.h) matches them

Both must give one classification record per 10 s window (3 for 30 s) and the
stream's channel names.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
import tfm_tokens  # noqa: E402

CASES = {
    "default": ([], None),
    "new-names": (["channels=O1,O2,P7,P8"], ["O1", "O2", "T5", "T6"]),
}


def main():
    selection, names = CASES[sys.argv[1]]
    pipeline = (["eegsrc", "num-buffers=30", "samplesperbuffer=200"] + selection +
                ["!", "stft", "!", "tfmtokenize", "!", "lbmclassify", "!",
                 "tokensink", "location=rec.jsonl"])
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["gst-launch-1.0", "-e"] + pipeline, cwd=tmp,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or "ERROR" in proc.stdout:
            print(proc.stdout[-4000:], proc.stderr[-4000:])
            print(f"FAIL: gst-launch-1.0 {' '.join(pipeline)} exited {proc.returncode}")
            return 1
        st = tfm_tokens.load(os.path.join(tmp, "rec.jsonl")).streams[0]
    starts = [c["pts"] for c in st.classifications]
    print(f"channels {st.channels}; classifications at {starts}: "
          f"{[c['label'] for c in st.classifications]}")
    failures = []
    if starts != [0, 10_000_000_000, 20_000_000_000]:
        failures.append(f"classifications at {starts}, expected one per 10 s window")
    if names is not None and st.channels != names:
        failures.append(f"channels {st.channels}, expected {names}")
    if names is None and len(st.channels) != 19:
        failures.append(f"{len(st.channels)} channels, expected the 19 default sites")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
