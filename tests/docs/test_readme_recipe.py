#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The README's `meson devenv` recipe works when pasted.

Takes the first ```sh block under "## Using the build tree" from README.md,
runs its first line (the `meson devenv` command) in a fresh directory laid
out like a checkout (build/, pipelines/, tools/ as links), feeds the other
lines to the shell it opens, as a user pasting them would, and checks that
gst-inspect saw the plugin, the main pipeline wrote its recording and the
reader summarised it. The test's own plugin paths are removed first, so only
what devenv sets can make the plugin visible."""
import atexit
import os
import re
import subprocess
import sys
import shutil
import tempfile

SRC = os.environ["NEUROTOKENS_SOURCE_DIR"]
BUILD = os.environ["NEUROTOKENS_BUILD_DIR"]


def recipe():
    text = open(os.path.join(SRC, "README.md"), encoding="utf-8").read()
    section = text.split("## Using the build tree", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    lines = [re.sub(r"\s+#.*$", "", ln) for ln in block.strip().splitlines()]
    return lines[0], "\n".join(lines[1:]) + "\n"


def main():
    first, rest = recipe()
    if not first.startswith("meson devenv"):
        sys.exit(f"FAIL: the recipe does not start with meson devenv: {first!r}")
    work = tempfile.mkdtemp(prefix="readme-recipe-")
    atexit.register(shutil.rmtree, work, True)  # leave nothing in TMPDIR
    os.symlink(BUILD, os.path.join(work, "build"))
    for d in ("pipelines", "tools"):
        os.symlink(os.path.join(SRC, d), os.path.join(work, d))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GST_PLUGIN_PATH", "GI_TYPELIB_PATH", "GST_TRACERS"))}
    env.update(SHELL="/bin/bash", PWD=work, GST_REGISTRY_1_0=os.path.join(work, "registry.bin"))
    p = subprocess.run(["bash", "-c", first], input=rest, cwd=work, env=env, capture_output=True,
                       text=True, timeout=600)
    out = p.stdout + p.stderr
    problems = []
    if p.returncode != 0:
        problems.append(f"exit status {p.returncode}")
    if "eegsrc" not in out or "tokensink" not in out:
        problems.append("gst-inspect-1.0 neurotokens did not list the elements")
    if not os.path.exists(os.path.join(work, "main-recording.jsonl")):
        problems.append("the main pipeline wrote no main-recording.jsonl in the working directory")
    if "classifications" not in out or "ended at EOS" not in out:
        problems.append("tfm_tokens.py summary printed no summary")
    if problems:
        print(out[-4000:])
        sys.exit("FAIL: " + "; ".join(problems))
    print("README recipe OK in", work)


if __name__ == "__main__":
    main()
