#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reproduces models/tfm-tokenizer-haptic.safetensors from the shared haptic data.
#   models/train/reproduce-tfm-tokenizer-haptic.sh [SHARED_DIR] [OUTPUT]
# Rate 2 kHz: 0-1 kHz is the vibrotactile band (skin sensitivity ends near
# 1 kHz), so LMT contact sound (44.1 kHz), LMT tool acceleration (10 kHz) and
# the HapticGen drive signals (8 kHz) are resampled down to it. n-fft 200 /
# hop 100: 100 ms frames, 10 Hz bins; 1 s windows (19 token frames), taken
# every 0.25 s because vibration recordings are few and short. Text channels
# have their median removed (accelerometer offsets would otherwise turn q95
# normalisation into a constant and the spectrum into one DC bin).
# HapMat (100 Hz IMU) is left out: it has nothing above 50 Hz, would fill only
# bins 0-5 at 2 kHz, and with 9 axes x 60 s it outnumbered the vibration
# windows 30 to 1 (a first run with it learnt only the DC bin: NMSE 0.296 vs
# 0.295 for the mean spectrum). Held out: LMT sound G8 wallpaper and one
# HapticGen file.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${1:-../shared}
OUT=${2:-models/tfm-tokenizer-haptic.safetensors}
TFM_TRAIN=${TFM_TRAIN:-build/models/train/tfm-train}
D="$SHARED/data/haptic"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

"$TFM_TRAIN" tokenizer --output "$OUT" --modality haptic --id tfm-tokenizer-haptic-v1 \
  --sample-rate 2000 --n-fft 200 --hop 100 --bins 100 --window-seconds 1 --stride-seconds 0.25 --mono --remove-dc \
  --emb 32 --heads 4 --freq-depth 2 --temporal-depth 2 --decoder-depth 4 --codebook 512 --restart-dead-codes \
  --epochs 40 --batch 32 --lr 2e-3 --final-lr 2e-4 --warmup 0.05 --seed 1 --threads 1 \
  --holdout G8Wallpaper,modelA_2 \
  --describe "LMT texture sound (44.1 kHz) and tool acceleration (10 kHz), HapticGen drive signals (8 kHz); held out: LMT G8 wallpaper sound, one HapticGen file" \
  "$D/lmt_sound" "$D/lmt_accel/G1EpoxyRasterPlate_Movement_X_test1.txt@10000" \
  "$D/hapticgen" | tee "$LOG"

/usr/bin/python3 models/train/check_tokenizer_quality.py "$LOG"
