#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Classifies EEG as eyes open / eyes closed from Python and prints each decision.

Builds  eegsrc ! stft ! tfmtokenize ! lbmclassify ! tokensink  with Gst.parse_launch,
runs it to the end and prints one line per `lbm-classification` element message that
lbmclassify posts on the bus (one per 10 s tokenizer window with the shipped model):

    decision 0: 0.000-9.500 s eyes-closed p=1.000 (eyes-open=0.000 eyes-closed=1.000)

The same decisions land in the tokensink recording as `classification` records.

    /usr/bin/python3 docs/examples/classify_eeg.py                      # synthetic EEG, 30 s
    /usr/bin/python3 docs/examples/classify_eeg.py --eyes closed
    /usr/bin/python3 docs/examples/classify_eeg.py --edf S002R02.edf --channels O1,O2

Needs python3-gst-1.0 (gi) and the neurotokens plugin on GST_PLUGIN_PATH; the shipped
models are found in $NEUROTOKENS_MODEL_DIR (see docs/lbmclassify.md).
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def source_description(args):
    """The eegsrc part: an EDF/BDF file, or the synthetic subject for args.seconds."""
    if args.edf:
        src = f'eegsrc location="{args.edf}"'   # resampled to the tokenizer's rate by eegsrc
        return src + (f" channels={args.channels}" if args.channels else "")
    return f"eegsrc num-buffers={args.seconds} samplesperbuffer=200 eyes={args.eyes}"


def build_pipeline(args):
    overwrite = "overwrite=true" if args.overwrite else ""
    return Gst.parse_launch(
        f"{source_description(args)} ! stft ! tfmtokenize ! lbmclassify name=classify "
        f'! tokensink location="{args.record}" {overwrite}')


def format_decision(index, s):
    """One line for an lbm-classification structure (fields: docs/lbmclassify.md)."""
    start = s.get_value("running-time") / Gst.SECOND
    end = start + s.get_value("duration") / Gst.SECOND
    label = s.get_value("label")
    labels = s.get_value("labels").split(",")
    probabilities = " ".join(f"{name}={s.get_value('p-' + name):.3f}" for name in labels)
    return (f"decision {index}: {start:.3f}-{end:.3f} s {label} "
            f"p={s.get_value('p-' + label):.3f} ({probabilities})")


def run(pipeline):
    """Plays the pipeline to EOS, printing decisions; returns 0, or 1 on an error."""
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    decisions = 0
    status = 0
    while True:
        msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.ELEMENT |
                                     Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if msg.type == Gst.MessageType.EOS:
            break
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print(f"error from {msg.src.get_name()}: {err.message} ({debug})", file=sys.stderr)
            status = 1
            break
        s = msg.get_structure()
        if s.get_name() == "lbm-classification":
            print(format_decision(decisions, s), flush=True)
            decisions += 1
    pipeline.set_state(Gst.State.NULL)
    print(f"{decisions} decisions", flush=True)
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--edf", help="EDF/BDF file to read (default: synthetic EEG)")
    p.add_argument("--channels", help="eegsrc channels= for the file, e.g. O1,O2")
    p.add_argument("--eyes", choices=["open", "closed"], default="open",
                   help="eye state of the synthetic subject")
    p.add_argument("--seconds", type=int, default=30, help="length of the synthetic EEG (s)")
    p.add_argument("--record", default="classify.jsonl", help="tokensink recording to write")
    p.add_argument("--overwrite", action=argparse.BooleanOptionalAction, default=True,
                   help="replace the recording of an earlier run (default; --no-overwrite refuses)")
    args = p.parse_args()
    Gst.init(None)
    try:
        pipeline = build_pipeline(args)
    except GLib.Error as e:
        print(f"could not build the pipeline: {e.message}", file=sys.stderr)
        return 1
    return run(pipeline)


if __name__ == "__main__":
    sys.exit(main())
