#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No tracked file refers to design or architecture notes that live outside
the repository (the project's working notes DESIGN.md and
TFM_ARCHITECTURE.md); what users need from them is in docs/formats.md and
docs/architecture.md, and those pages exist and are linked from the README."""
import os
import re
import subprocess
import sys

SRC = os.environ["NEUROTOKENS_SOURCE_DIR"]
OUTSIDE = re.compile(r"DESIGN\.md|TFM_ARCHITECTURE|shared/reference")
SELF = os.path.relpath(os.path.abspath(__file__), SRC)


def tracked_files():
    p = subprocess.run(["git", "-C", SRC, "ls-files"], capture_output=True, text=True)
    if p.returncode == 0:
        return p.stdout.split()
    return [os.path.relpath(os.path.join(d, f), SRC) for d, _, fs in os.walk(SRC)
            if "/build" not in d and "/.git" not in d for f in fs]


def main():
    hits = []
    for rel in tracked_files():
        if rel == SELF or rel.endswith((".safetensors", ".png")):
            continue
        try:
            text = open(os.path.join(SRC, rel), encoding="utf-8").read()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        hits += [f"{rel}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                 if OUTSIDE.search(line)]
    readme = open(os.path.join(SRC, "README.md"), encoding="utf-8").read()
    for page in ("docs/formats.md", "docs/architecture.md"):
        if not os.path.exists(os.path.join(SRC, page)):
            hits.append(f"{page} is missing")
        elif page not in readme:
            hits.append(f"README.md does not link {page}")
    if hits:
        sys.exit("FAIL: references to notes outside the repository:\n" + "\n".join(hits))
    print("docs self-contained")


if __name__ == "__main__":
    main()
