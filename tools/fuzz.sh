#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer targets of tests/fuzz with clang-14 and runs each for a
# bounded time.
#   bash tools/fuzz.sh [--fast] [SECONDS_PER_TARGET [TARGET...]]   (default 90, all targets)
# Default: ASan + UBSan, every library coverage-instrumented (build-fuzz/); what
# CI runs. --fast: UBSan only (build-fuzz-fast/), for long local campaigns: 2 to
# 5 times more executions per second (ASan maps and zeroes fresh pages for every
# allocation above 128 kB, and EDFlib's header and libsamplerate's filter state
# are such allocations, on every input), after which the whole grown corpus is
# replayed through the ASan build, so every input that reached new code is also
# checked for invalid memory accesses and for allocations beyond the limit
# (-malloc_limit_mb needs the ASan allocator; --fast enforces -rss_limit_mb only).
# Seeds are written to build-fuzz/seeds by tests/fuzz/make_seeds.py (from our own
# generators, the shipped models and, when present, the shared recordings); the
# corpus each run grows is kept in build-fuzz/corpus. Exits non-zero on the
# first finding (the crash input is left in build-fuzz/findings/).
# FUZZ_RUNS=N also stops each target after N executions.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=false
if [ "${1:-}" = --fast ]; then fast=true; shift; fi
seconds=${1:-90}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_edf fuzz_safetensors fuzz_caps)
shared=${NEUROTOKENS_SHARED_DIR:-$PWD/../shared}

build() {  # build DIR SANITIZERS
  if [ ! -f "$1/build.ninja" ]; then
    CC=clang-14 CXX=clang++-14 meson setup "$1" -Dfuzzing=true \
      -Db_sanitize="$2" -Db_lundef=false --buildtype=debugoptimized
  fi
  ninja -C "$1" "${targets[@]/#/tests/fuzz/}"
}
build build-fuzz address,undefined
dir=build-fuzz
if $fast; then build build-fuzz-fast undefined; dir=build-fuzz-fast; fi
/usr/bin/python3 tests/fuzz/make_seeds.py build-fuzz/seeds "$PWD" "$shared"

mkdir -p build-fuzz/findings
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
# -rss_limit_mb / -malloc_limit_mb: an allocation sized from the input beyond
# 1 GiB is a finding (every size must be checked against a limit first).
limits=(-timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=131072)
runs=${FUZZ_RUNS:--1}
finding() {  # finding TARGET STATUS LOG
  tail -60 "$3" >&2
  echo "$1: finding (status $2), input in build-fuzz/findings/" >&2
  exit 1
}
for t in "${targets[@]}"; do
  seeds=build-fuzz/seeds/${t#fuzz_}
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  echo "== $t: ${seconds}s ($dir)"
  rc=0
  "$dir/tests/fuzz/$t" -max_total_time="$seconds" -runs="$runs" "${limits[@]}" -print_final_stats=1 \
    -artifact_prefix="build-fuzz/findings/$t-" "$corpus" "$seeds" > "build-fuzz/$t.log" 2>&1 || rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "build-fuzz/$t.log" || true
  [ "$rc" = 0 ] || finding "$t" "$rc" "build-fuzz/$t.log"
  if $fast; then
    echo "== $t: the corpus ($(ls "$corpus" | wc -l) inputs) replayed under ASan"
    build-fuzz/tests/fuzz/$t -runs=0 "${limits[@]}" -artifact_prefix="build-fuzz/findings/$t-" \
      "$corpus" > "build-fuzz/$t-replay.log" 2>&1 || finding "$t" $? "build-fuzz/$t-replay.log"
  fi
done
