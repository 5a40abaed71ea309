#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""lbmclassify's decisions reach tokensink as `classification` records.

appsrc ! lbmclassify ! tokensink: the recording must hold one classification
record per lbm-classification bus message, with the same running time,
duration, class, label and probabilities.
"""
import json
import os
import sys
import tempfile

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_messages import (CAPS, FRAMES, LABELS, PERIOD, SECOND, collect_messages,  # noqa: E402
                           fail, push_windows, tuev_model)


def main():
    Gst.init(None)
    starts = [0, 10 * SECOND, 20 * SECOND]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rec.jsonl")
        pipeline = Gst.parse_launch(
            f'appsrc name=src format=time caps="{CAPS}" ! '
            f'lbmclassify name=cls model="{tuev_model()}" labels={",".join(LABELS)} ! '
            f'tokensink location="{path}"')
        pipeline.set_state(Gst.State.PLAYING)
        push_windows(pipeline.get_by_name("src"), starts)
        messages = collect_messages(pipeline)
        pipeline.set_state(Gst.State.NULL)
        with open(path) as f:
            records = [json.loads(line) for line in f]

    decisions = [r for r in records if r["type"] == "classification"]
    if len(messages) != len(starts) or len(decisions) != len(starts):
        fail(f"{len(messages)} messages and {len(decisions)} records for {len(starts)} windows")
    for s, r in zip(messages, decisions):
        expected = {
            "pts": s.get_value("running-time"),
            "duration": FRAMES * PERIOD,
            "class": s.get_value("class"),
            "label": s.get_value("label"),
            "probabilities": {label: s.get_value("p-" + label) for label in LABELS},
        }
        for key, value in expected.items():
            if r[key] != value:
                fail(f"record {r} has {key}={r[key]!r}, message says {value!r}")
        print(f"record at {r['pts'] / SECOND:.1f} s: {r['label']} matches its message")
    tokens = [r for r in records if r["type"] == "tokens"]
    if len(tokens) != FRAMES * len(starts):
        fail(f"{len(tokens)} token records, expected {FRAMES * len(starts)}")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
