#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer targets of tests/fuzz with clang-14 (ASan + UBSan, every
# library coverage-instrumented) in build-fuzz/ and runs each for a bounded time.
#   bash tools/fuzz.sh [SECONDS_PER_TARGET]   (default 90)
# Seeds are written to build-fuzz/seeds by tests/fuzz/make_seeds.py (from our own
# generators, the shipped models and the shared recordings when present); the
# corpus each run grows is kept in build-fuzz/corpus. Exits non-zero on the
# first finding (the crash input is left in build-fuzz/findings/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-90}
targets=(fuzz_edf fuzz_safetensors fuzz_caps)
shared=${NEUROTOKENS_SHARED_DIR:-$PWD/../shared}

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 meson setup build-fuzz -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized
fi
built=()
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/$t.cpp" ] && built+=("$t")
done
ninja -C build-fuzz "${built[@]/#/tests/fuzz/}"
/usr/bin/python3 tests/fuzz/make_seeds.py build-fuzz/seeds "$PWD" "$shared"

mkdir -p build-fuzz/findings
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
for t in "${built[@]}"; do
  seeds=build-fuzz/seeds/${t#fuzz_}
  mkdir -p "build-fuzz/corpus/$t"
  echo "== $t: ${seconds}s"
  # -rss_limit_mb / -malloc_limit_mb: an allocation sized from the input beyond
  # 1 GiB is a finding (every size must be checked against a limit first).
  rc=0
  build-fuzz/tests/fuzz/$t -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -max_len=131072 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/findings/$t-" "build-fuzz/corpus/$t" "$seeds" \
    > "build-fuzz/$t.log" 2>&1 || rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "build-fuzz/$t.log" || true
  if [ "$rc" != 0 ]; then
    tail -60 "build-fuzz/$t.log" >&2
    echo "$t: finding (status $rc), input in build-fuzz/findings/" >&2
    exit 1
  fi
done
