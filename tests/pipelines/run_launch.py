#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs one launch line from pipelines/*.launch with gst-launch-1.0 and checks it.

The line runs in a fresh temporary directory (so files it writes, such as a
tokensink recording, land there), with `../shared/` rewritten to the shared
data folder of this build (the test skips when a file it names there is
absent). It must reach EOS and exit 0 within the timeout,
with no ERROR message; any output file it names with `location=` for
tokensink/filesink must exist and be non-empty afterwards.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402


def launch_args(path, shared_dir):
    lines = [l for l in open(path) if l.strip() and not l.lstrip().startswith("#")]
    text = " ".join(l.strip() for l in lines)
    for rel in re.findall(r"\.\./shared/([^\s!\"]+)", text):
        recordings.need(os.path.join(shared_dir, rel))
    text = text.replace("../shared/", shared_dir.rstrip("/") + "/")
    return shlex.split(text)


def written_files(args):
    out = []
    for i, a in enumerate(args):
        if a in ("tokensink", "filesink"):
            for b in args[i + 1:]:
                if b == "!":
                    break
                m = re.match(r"location=(.+)", b)
                if m:
                    out.append(m.group(1))
    return out


def main():
    path = os.path.abspath(sys.argv[1])
    shared_dir = os.environ.get("NEUROTOKENS_SHARED_DIR", "../shared")
    args = launch_args(path, os.path.abspath(shared_dir))
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["gst-launch-1.0", "-e"] + args, cwd=tmp,
                              capture_output=True, text=True, timeout=600)
        sys.stdout.write(proc.stdout[-4000:])
        sys.stderr.write(proc.stderr[-4000:])
        if proc.returncode != 0 or "ERROR" in proc.stdout:
            print(f"FAIL: {os.path.basename(path)} exited {proc.returncode}")
            return 1
        for f in written_files(args):
            full = os.path.join(tmp, f)
            if not os.path.exists(full) or os.path.getsize(full) == 0:
                print(f"FAIL: {os.path.basename(path)} wrote no {f}")
                return 1
    print(f"ok: {os.path.basename(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
