#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A recording of an EDF+ file lines up with the file read by MNE without any
arithmetic: the stream record names the file, its SHA-256 and its measurement
start (eegsrc's neuro-source and GST_TAG_DATE_TIME tags), the summary prints them, tfm_tokens.mne_annotations sets orig_time from it, and
raw.set_annotations keeps every annotation at the onset MNE reads from the
file itself. Skipped (77) without ../shared."""
import atexit
import hashlib
import io
import os
import shutil
import sys
import tempfile

import gi
import numpy as np

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", "..")),
                                "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import mne  # noqa: E402
import recordings  # noqa: E402
import tfm_tokens  # noqa: E402


def summary(rec):
    out = io.StringIO()
    tfm_tokens.summary(rec, out)
    return out.getvalue()


def main():
    edf = recordings.data("eeg/eegmmidb/S001R03.edf")
    Gst.init(None)
    tmp = tempfile.mkdtemp(prefix="mne-align-")
    atexit.register(shutil.rmtree, tmp, True)  # leave nothing in TMPDIR
    path = os.path.join(tmp, "rec.jsonl")
    pipeline = Gst.parse_launch(f'eegsrc location="{edf}" channels=O1,O2 ! stft ! tfmtokenize ! '
                                f'lbmclassify ! tokensink location="{path}"')
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(300 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        print("FAIL: pipeline:", msg and msg.parse_error())
        return 1
    rec = tfm_tokens.load(path)
    raw = mne.io.read_raw_edf(edf, verbose="error")
    info = rec.streams[0].info
    with open(edf, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if (info.get("meas-start-utc"), info.get("source"), info.get("source-sha256")) != \
            ("2009-08-12T16:15:00.000000000Z", edf, digest):
        print("FAIL: stream record", info)
        return 1
    if f"source {edf} (sha256 {digest[:12]}...), measured from 2009-08-12T16:15:00" not in summary(rec):
        print("FAIL: summary", summary(rec))
        return 1
    ours = tfm_tokens.mne_annotations(rec, classifications=False)
    if ours.orig_time != raw.info["meas_date"]:
        print(f"FAIL: orig_time {ours.orig_time} != meas_date {raw.info['meas_date']}")
        return 1
    file_ann = raw.annotations.copy()
    raw.set_annotations(ours)
    got = raw.annotations
    if len(got) != len(file_ann) or list(got.description) != list(file_ann.description) \
            or not np.allclose(got.onset, file_ann.onset, atol=1e-6):
        print(f"FAIL: {len(got)} annotations after set_annotations, {len(file_ann)} in the file;"
              f" onsets {got.onset[:4]} vs {file_ann.onset[:4]}")
        return 1
    decisions = tfm_tokens.mne_annotations(rec)
    print(f"{len(got)} annotations aligned with MNE's; {len(decisions) - len(got)} decisions added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
