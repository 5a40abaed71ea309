#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the Debian package gstreamer1.0-neurotokens (debian/) from a copy of
# the tracked files, so that nothing is written into the checkout, and checks
# with dpkg -c that it holds the plugin, the four shipped models and the tools.
#   bash tools/build-deb.sh [WORKDIR]    (default: a new folder under /tmp)
# The .deb is left in WORKDIR; its path is the last line printed.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${1:-$(mktemp -d /tmp/neurotokens-deb.XXXXXX)}
rm -rf "$work/src"
mkdir -p "$work/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work/src"
else
  tar --exclude=./build --exclude='./obj-*' -cf - . | tar -xf - -C "$work/src"
fi

start=$(date +%s)
# dpkg-buildpackage writes the .deb into the parent of the source copy: $work.
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" \
  dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) || { tail -n 40 "$work/build.log"; exit 1; }
deb=$(ls "$work"/gstreamer1.0-neurotokens_*.deb)
echo "built $deb in $(( $(date +%s) - start )) s"
rm -rf "$work/src"  # the copy and its objects; the .deb, .buildinfo and .changes stay

contents=$(dpkg -c "$deb")
missing=0
for path in \
    "usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/gstreamer-1.0/libgstneurotokens.so" \
    usr/share/neurotokens/models/tfm-tokenizer-eeg.safetensors \
    usr/share/neurotokens/models/tfm-tokenizer-audio.safetensors \
    usr/share/neurotokens/models/tfm-tokenizer-haptic.safetensors \
    usr/share/neurotokens/models/lbm-eyes-eeg.safetensors \
    usr/share/neurotokens/models/lbm-eyes-eeg.md \
    usr/bin/tfm-train \
    usr/bin/tfm-tokens \
    usr/share/neurotokens/tools/tfm_tokens.py \
    usr/share/neurotokens/examples/classify_eeg.py \
    usr/share/neurotokens/pipelines/main.launch; do
  if ! grep -q " \./$path\( \|$\)" <<<"$contents"; then
    echo "FAIL: $deb lacks /$path"
    missing=1
  fi
done
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libtorch libgstreamer1.0 libopenblas0-openmp; do
  grep -q "$dep" <<<"$depends" || { echo "FAIL: Depends lacks $dep: $depends"; missing=1; }
done
[ "$missing" = 0 ] || { dpkg -c "$deb"; exit 1; }
echo "ok: plugin, four models with cards, tfm-train, tfm-tokens, example and launch lines; Depends: $depends"
echo "$deb"
