#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reproduces models/lbm-eyes-eeg.safetensors (eyes open vs eyes closed), the
# default lbmclassify model, and prints the card's leave-one-subject-out numbers.
#   models/train/reproduce-lbm-eyes-eeg.sh [SHARED_DIR] [OUTPUT] [TOKENIZER]
# SHARED_DIR defaults to ../shared, OUTPUT to models/lbm-eyes-eeg.safetensors,
# TOKENIZER to models/tfm-tokenizer-eeg.safetensors (the shipped EEG tokenizer,
# whose geometry - 200 Hz, 10 s windows, 19 token frames - the classifier takes).
# TFM_TRAIN overrides the tool path (default build/models/train/tfm-train).
#
# Data: EEGMMIDB R01 (eyes open) and R02 (eyes closed) of S001-S003, and the UCI
# eye-state recording (per-sample labels, 128 Hz, DC offset removed, windows
# with an outlier beyond +-1000 dropped). Channels O1,O2: the occipital sites
# of the eyes-closed alpha rhythm, present on the BCI2000 64-channel cap, the
# Emotiv headset of the UCI recording, classic 10-20 montages and eegsrc's
# synthetic default (so the default pipeline runs without options). Folds: each EEGMMIDB subject in turn is
# the test set; the UCI recording (one more subject) is always in training.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${1:-../shared}
OUT=${2:-models/lbm-eyes-eeg.safetensors}
TOK=${3:-models/tfm-tokenizer-eeg.safetensors}
TFM_TRAIN=${TFM_TRAIN:-build/models/train/tfm-train}
D="$SHARED/data/eeg"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

"$TFM_TRAIN" classifier --output "$OUT" --tokenizer "$TOK" --id lbm-eyes-eeg-v1 \
  --labels eyes-open,eyes-closed --channels O1,O2 \
  --label R01=eyes-open --label R02=eyes-closed --label-column eyeDetection \
  --subject 'S[0-9]{3}' --loso --stride-seconds 2 --remove-dc --max-abs 1000 \
  --emb 32 --heads 4 --depth 2 --pretrain-epochs 30 --epochs 30 --batch 32 --lr 1e-3 --final-lr 1e-4 --seed 1 --threads 1 \
  --describe "EEGMMIDB S001-S003 R01 (eyes open) / R02 (eyes closed); UCI EEG eye state (per-sample labels)" \
  "$D"/eegmmidb/S00?R01.edf "$D"/eegmmidb/S00?R02.edf "$D/eeg_eye_state/EEG_Eye_State.arff@128" \
  | tee "$LOG"

/usr/bin/python3 - "$LOG" <<'PY'
import json, sys
folds = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"fold"')]
for f in folds:
    print("%s: %d windows, balanced accuracy %.3f (alpha-power baseline %.3f)" % (
        f["fold"], f["windows"], f["balanced-accuracy"], f["baseline-balanced-accuracy"]))
mean = lambda k: sum(f[k] for f in folds) / len(folds)
print("mean: %.3f (baseline %.3f)" % (mean("balanced-accuracy"), mean("baseline-balanced-accuracy")))
PY
