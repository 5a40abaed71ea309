#!/usr/bin/python3
"""Every source file carries the licence line `SPDX-License-Identifier: LGPL-2.1-or-later`
near its top (COPYING holds the licence text).

usage: check_spdx.py check SOURCE_DIR     lists the files without it; exit 1 if any
       check_spdx.py add SOURCE_DIR       writes the line into those files

Source files: C++ (.cpp, .h), Python (.py), shell (.sh and scripts starting
with #!), Meson (meson.build, meson_options.txt) and debian/rules, anywhere
but in hidden folders (.ci excepted) and build folders (those holding
build.ninja or meson-private)."""
import os
import sys

TAG = "SPDX-License-Identifier: LGPL-2.1-or-later"
HEAD_LINES = 3  # the line sits after a shebang, within the first lines
SUFFIX_COMMENT = {".cpp": "//", ".h": "//", ".py": "#", ".sh": "#"}
NAME_COMMENT = {"meson.build": "#", "meson_options.txt": "#", "rules": "#"}


def comment_of(path):
    """The line-comment marker of a source file, or None for other files."""
    name = os.path.basename(path)
    if name in NAME_COMMENT:
        return NAME_COMMENT[name]
    marker = SUFFIX_COMMENT.get(os.path.splitext(name)[1])
    if marker:
        return marker
    with open(path, "rb") as f:
        return "#" if f.read(2) == b"#!" else None


def is_build_dir(path):
    return any(os.path.exists(os.path.join(path, n)) for n in ("build.ninja", "meson-private"))


def source_files(root):
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if (d == ".ci" or not d.startswith(".")) and d != "__pycache__"
                         and not is_build_dir(os.path.join(top, d)))
        for name in sorted(files):
            path = os.path.join(top, name)
            if os.path.isfile(path) and not os.path.islink(path) and comment_of(path):
                yield path


def has_tag(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return any(TAG in f.readline() for _ in range(HEAD_LINES))


def add_tag(path):
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    at = 1 if lines and lines[0].startswith("#!") else 0
    lines.insert(at, "%s %s\n" % (comment_of(path), TAG))
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


def main(command, root):
    missing = [p for p in source_files(root) if not has_tag(p)]
    if command == "add":
        for p in missing:
            add_tag(p)
        print("added the licence line to %d files" % len(missing))
        return 0
    for p in missing:
        print("FAIL: %s lacks '%s' in its first %d lines" % (os.path.relpath(p, root), TAG, HEAD_LINES))
    print("%d source files without the licence line" % len(missing))
    return 1 if missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "add"):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
