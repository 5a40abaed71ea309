#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite on an ASan + UBSan build (build-asan/, gcc,
# -Db_sanitize=address,undefined): any invalid memory access or undefined
# behaviour in the project's code aborts the test that triggers it.
# tests/meson.build preloads the ASan runtime into the uninstrumented
# processes (gst-launch-1.0, python3) that load the instrumented plugin, and
# gives UBSan tests/ubsan.supp (third-party headers only). Under ASan the
# overload test of tests/tokenize/test_sliding.cpp skips its RSS bound (ASan's
# quarantine keeps freed memory resident); every other check runs.
# CI (.ci/run) runs it as a gating step; it ends with `N passed, N failed, N skipped`.
#   bash tools/sanitize.sh [meson test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized
fi
meson compile -C build-asan
rc=0
meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 6 "$@" || rc=$?
/usr/bin/python3 tools/test_summary.py build-asan/meson-logs/testlog.json
exit $rc
