#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the Debian package (tools/build-deb.sh checks its contents), installs it
# with apt, checks that gst-inspect-1.0 finds the elements in the system registry
# and that the main pipeline runs from a fresh directory with no environment
# variable, then removes the package again. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
work=$(mktemp -d /tmp/neurotokens-deb.XXXXXX)
bash tools/build-deb.sh "$work" | tee "$work/build-deb.out"
deb=$(tail -n 1 "$work/build-deb.out")
trap '$SUDO apt-get purge -y -q gstreamer1.0-neurotokens > /dev/null 2>&1 || true' EXIT
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "$deb" > "$work/install.log" 2>&1 \
  || { tail -n 30 "$work/install.log"; exit 1; }
run=$(mktemp -d /tmp/neurotokens-run.XXXXXX)
cd "$run"
export -n GST_PLUGIN_PATH GST_PLUGIN_PATH_1_0 NEUROTOKENS_MODEL_DIR GST_REGISTRY GST_REGISTRY_1_0 2>/dev/null || true
unset GST_PLUGIN_PATH GST_PLUGIN_PATH_1_0 NEUROTOKENS_MODEL_DIR GST_REGISTRY GST_REGISTRY_1_0
export GST_REGISTRY_1_0="$run/registry.bin"
for element in eegsrc stft tfmtokenize lbmclassify tokensink; do
  gst-inspect-1.0 "$element" > /dev/null || { echo "FAIL: gst-inspect-1.0 does not find $element"; exit 1; }
done
line=$(grep -v -E '^\s*(#|$)' /usr/share/neurotokens/pipelines/main.launch | tr '\n' ' ')
# shellcheck disable=SC2086
gst-launch-1.0 -e $line > "$run/launch.log" 2>&1 || { tail -n 30 "$run/launch.log"; exit 1; }
tfm-tokens summary main-recording.jsonl
echo "ok: installed package runs the main pipeline from $run"
rm -rf "$run"
