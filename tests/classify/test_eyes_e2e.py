#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End to end on real EEG: EEGMMIDB baseline runs R01 (eyes open) and R02 (eyes
closed) of every subject in ../shared/data through

    eegsrc location=<run> rate=200 ! stft ! tfmtokenize ! lbmclassify ! fakesink

with the shipped tokenizer and eyes-open/closed classifier; for each subject
the majority of its windows must get the right label.

Exits 77 (skipped) while the shipped models are absent from the model
directory: they are produced by the training work.
"""
import glob
import json
import os
import struct
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402

RUNS = {"R01": "open", "R02": "closed"}


def model_metadata(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length)).get("__metadata__", {})


def channel_selection(metadata):
    """eegsrc property giving the classifier's channels: plain channels come in
    reverse order plus Cz, so lbmclassify has to pick them by name."""
    names = [n.strip() for n in metadata.get("channels", "").split(",") if n.strip()]
    if not names:
        return ""
    if all("-" in n for n in names):
        return f'montage="{",".join(names)}"'
    return f'channels="{",".join(names[::-1] + ["Cz"])}"'


def label_state(label):
    """'open' or 'closed' for a class name such as eyes-open / eyes_closed."""
    low = label.lower()
    if "closed" in low:
        return "closed"
    if "open" in low:
        return "open"
    return None


def classify_run(path, selection, model):
    line = (f'eegsrc location="{path}" rate=200 {selection} ! stft ! tfmtokenize ! '
            f'lbmclassify model="{model}" ! fakesink')
    pipeline = Gst.parse_launch(line)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    labels = []
    while True:
        msg = bus.timed_pop_filtered(600 * Gst.SECOND, Gst.MessageType.ELEMENT |
                                     Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if msg is None or msg.type == Gst.MessageType.ERROR:
            pipeline.set_state(Gst.State.NULL)
            detail = msg.parse_error()[0].message if msg else "timeout"
            raise RuntimeError(f"{line}: {detail}")
        if msg.type == Gst.MessageType.EOS:
            break
        s = msg.get_structure()
        if s is not None and s.get_name() == "lbm-classification":
            labels.append(s.get_value("label"))
    pipeline.set_state(Gst.State.NULL)
    return labels


def main():
    model_dir = os.environ.get("NEUROTOKENS_MODEL_DIR", "models")
    classifier = os.path.join(model_dir, "lbm-eyes-eeg.safetensors")
    tokenizer = os.path.join(model_dir, "tfm-tokenizer-eeg.safetensors")
    missing = [p for p in (classifier, tokenizer) if not os.path.exists(p)]
    if missing:
        recordings.skip("shipped models not present yet: " + ", ".join(missing))

    Gst.init(None)
    data = recordings.data("eeg/eegmmidb")
    selection = channel_selection(model_metadata(classifier))
    subjects = sorted({os.path.basename(p)[:4] for p in glob.glob(f"{data}/S*R01.edf")})
    if not subjects:
        print(f"FAIL: no EEGMMIDB recordings in {data}")
        return 1
    failed = []
    for subject in subjects:
        correct = total = 0
        for run, truth in RUNS.items():
            labels = classify_run(f"{data}/{subject}{run}.edf", selection, classifier)
            states = [label_state(label) for label in labels]
            if None in states:
                print(f"FAIL: labels {sorted(set(labels))} name neither open nor closed eyes")
                return 1
            correct += sum(s == truth for s in states)
            total += len(states)
            print(f"{subject}{run} (eyes {truth}): {labels}")
        print(f"{subject}: {correct}/{total} windows correct")
        if total == 0 or 2 * correct <= total:
            failed.append(subject)
    if failed:
        print("FAIL: no majority of correct windows for", ", ".join(failed))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
