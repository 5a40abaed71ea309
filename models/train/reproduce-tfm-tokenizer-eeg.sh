#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reproduces models/tfm-tokenizer-eeg.safetensors from the shared EEG data.
#   models/train/reproduce-tfm-tokenizer-eeg.sh [SHARED_DIR] [OUTPUT]
# SHARED_DIR defaults to ../shared (relative to the repository root); OUTPUT to
# models/tfm-tokenizer-eeg.safetensors. TFM_TRAIN overrides the tool path
# (default build/models/train/tfm-train). Held out for the card's numbers:
# EEGMMIDB subject S003 and EEGMAT Subject04. Fails when the trained model
# does not beat both the untrained architecture and the mean-spectrum predictor.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${1:-../shared}
OUT=${2:-models/tfm-tokenizer-eeg.safetensors}
TFM_TRAIN=${TFM_TRAIN:-build/models/train/tfm-train}
D="$SHARED/data/eeg"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

"$TFM_TRAIN" tokenizer --output "$OUT" --modality eeg --id tfm-tokenizer-eeg-v1 \
  --sample-rate 200 --n-fft 200 --hop 100 --bins 100 --window-seconds 10 \
  --emb 32 --heads 4 --freq-depth 2 --temporal-depth 2 --decoder-depth 4 --codebook 512 --restart-dead-codes \
  --epochs 4 --batch 32 --lr 2e-3 --final-lr 2e-4 --warmup 0.05 --seed 1 --threads 1 \
  --remove-dc --max-abs 1000 --holdout S003R,Subject04 \
  --describe "EEGMMIDB S001-S002 R01-R04, EEGMAT Subject00-02, UCI eye state, YASA sleep N2/N3; held out: EEGMMIDB S003, EEGMAT Subject04" \
  "$D/eegmmidb" "$D/eegmat" "$D/eeg_eye_state/EEG_Eye_State.arff@128" \
  "$D/sleep_yasa/data_N2_spindles_15sec_200Hz.txt@200" "$D/sleep_yasa/data_N3_no-spindles_30sec_100Hz.txt@100" \
  | tee "$LOG"

/usr/bin/python3 models/train/check_tokenizer_quality.py "$LOG"
