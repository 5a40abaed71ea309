#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reproduces models/tfm-tokenizer-audio.safetensors from the shared speech and music.
#   models/train/reproduce-tfm-tokenizer-audio.sh [SHARED_DIR] [OUTPUT]
# Rate 8 kHz: all FSDD, Asterisk and music files are 8 kHz telephone-band
# recordings already (only jfk.flac is resampled from 44.1 kHz), and 0-4 kHz
# holds the speech formants. n-fft 200 / hop 100 are 25 ms / 12.5 ms frames
# with 40 Hz bins, the usual speech analysis frame; 0.25 s windows give 19
# token frames as the EEG model (and most FSDD digits are 0.3-0.9 s long, so
# longer windows would drop them). Held out: FSDD speaker theo and jfk.flac.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${1:-../shared}
OUT=${2:-models/tfm-tokenizer-audio.safetensors}
TFM_TRAIN=${TFM_TRAIN:-build/models/train/tfm-train}
D="$SHARED/data/audio"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

"$TFM_TRAIN" tokenizer --output "$OUT" --modality audio --id tfm-tokenizer-audio-v1 \
  --sample-rate 8000 --n-fft 200 --hop 100 --bins 100 --window-samples 2000 --mono \
  --emb 32 --heads 4 --freq-depth 2 --temporal-depth 2 --decoder-depth 4 --codebook 512 --restart-dead-codes \
  --epochs 24 --batch 32 --lr 2e-3 --final-lr 2e-4 --warmup 0.05 --seed 1 --threads 1 \
  --holdout _theo_,jfk \
  --describe "FSDD (george, jackson, nicolas, yweweler), Asterisk Allison prompts, Manolo Camp music; held out: FSDD theo, jfk.flac" \
  "$D/fsdd" "$D/speech" "$D/music" | tee "$LOG"

/usr/bin/python3 models/train/check_tokenizer_quality.py "$LOG"
