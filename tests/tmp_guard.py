# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test wrapper (add_test_setup in tests/meson.build): runs one test with
TMPDIR set to a fresh empty folder and fails it when the test leaves anything
there, so no test run litters the machine's /tmp. The folder is removed either
way.

usage: tmp_guard.py COMMAND [ARGS...]"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile


def main(argv):
    tmp = tempfile.mkdtemp(prefix="neurotokens-test-")
    os.chmod(tmp, 0o1777)  # like /tmp: daemons a test starts (munged) need it reachable
    try:
        rc = subprocess.call(argv, env=dict(os.environ, TMPDIR=tmp))
        left = sorted(os.listdir(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if rc < 0:  # die of the test's signal, so that meson reports it as such
        signal.signal(-rc, signal.SIG_DFL)
        os.kill(os.getpid(), -rc)
    if rc == 0 and left:
        print("tmp_guard: the test left %d entries in TMPDIR: %s" % (len(left), ", ".join(left[:12])),
              file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
