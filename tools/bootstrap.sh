#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One-stop set-up for a fresh Debian 12 machine.
#   bash tools/bootstrap.sh run    install, build, run the main pipeline (pipelines/main.launch)
#   bash tools/bootstrap.sh test   install, build, run the whole test suite
#   bash tools/bootstrap.sh deb    install, build the Debian package in /tmp and check its contents
# Set NEUROTOKENS_SKIP_DEPS=1 to skip the apt step on a machine that has everything.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

install_deps() {
  [ "${NEUROTOKENS_SKIP_DEPS:-0}" = 1 ] && return 0
  local pkgs
  pkgs=$(grep -v -E '^\s*(#|$)' tools/debian-packages.txt)
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends $pkgs
}

build() {
  [ -f build/build.ninja ] || meson setup build --buildtype=release
  meson compile -C build
}

run_main() {
  local line
  line=$(grep -v -E '^\s*(#|$)' pipelines/main.launch | tr '\n' ' ')
  echo "gst-launch-1.0 -e $line"
  # shellcheck disable=SC2086
  meson devenv -C build --workdir "$PWD" gst-launch-1.0 -e $line
  /usr/bin/python3 tools/tfm_tokens.py summary main-recording.jsonl
}

run_tests() {
  local rc=0
  meson test -C build --print-errorlogs --num-processes 2 --timeout-multiplier 2 || rc=$?
  /usr/bin/python3 tools/test_summary.py build/meson-logs/testlog.json
  return $rc
}

case "${1:-}" in
  run) install_deps; build; run_main ;;
  test) install_deps; build; run_tests ;;
  deb) install_deps; bash tools/build-deb.sh ;;
  deps) install_deps ;;
  build) install_deps; build ;;
  *) echo "usage: $0 run|test|deb|deps|build" >&2; exit 2 ;;
esac
