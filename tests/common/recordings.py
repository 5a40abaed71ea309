# SPDX-License-Identifier: LGPL-2.1-or-later
"""The recordings a Python test reads: the third-party files of the shared
folder (NEUROTOKENS_SHARED_DIR, ../shared by default) or their synthetic
stand-ins that tests/fixtures generates (NEUROTOKENS_FIXTURES_DIR), as in
tests/common/test_paths.h.

A test that needs a third-party file calls need(); when the file is absent the
test prints one line naming it and exits with status 77, which meson reports
as SKIP. A test that cannot run here for another reason (a program not
installed) calls skip() the same way."""
import os
import sys

SKIP = 77


def shared_dir():
    return os.path.abspath(os.environ.get("NEUROTOKENS_SHARED_DIR", "../shared"))


def fixtures_dir():
    return os.path.abspath(os.environ.get("NEUROTOKENS_FIXTURES_DIR", "build/tests/fixtures"))


def classifier_fixture():
    """The stand-in for the authors' TUEV classifier (random weights, their shape; tests/models)."""
    return os.path.join(os.environ.get("NEUROTOKENS_BUILD_DIR", "build"), "tests", "models",
                        "authors-shape-classifier.safetensors")


def skip(reason):
    """Ends the test as skipped, saying why in one line."""
    print("SKIP: " + reason)
    sys.exit(SKIP)


def need(path):
    """PATH, or the end of the test (skipped) when it does not exist."""
    if not os.path.exists(path):
        skip("needs the third-party data %s, which is absent "
             "(meson setup -Dshared_dir=DIR names the folder with data/ and models/)" % path)
    return path


def data(rel):
    """A third-party recording by its path under data/ of the shared folder."""
    return need(os.path.join(shared_dir(), "data", rel))


def authors_model(name):
    """One of the authors' models under models/ of the shared folder."""
    return need(os.path.join(shared_dir(), "models", name))


def recording(rel, real):
    """The real recording REL (see data()) when REAL, else its generated stand-in."""
    return data(rel) if real else os.path.join(fixtures_dir(), os.path.basename(rel))
