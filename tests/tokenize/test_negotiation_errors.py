#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The commonest mistakes in front of tfmtokenize end in an error from the
element that knows, naming the field, the value offered, the value needed and
the fix, instead of eegsrc's bare "Internal data stream error ...
not-negotiated":

  stft n-fft=256        stft: tfmtokenize0 requires n-fft=200, stft can only produce 256;
                        unset n-fft
  stft waveform=false   stft: requires waveform=true; unset waveform
  eegsrc rate=256       stft: requires rate=200 (the model's), the input has 256;
                        eegsrc rate=0 follows downstream

and the corrected pipeline (properties unset, eegsrc rate=0) tokenizes."""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

SRC = "eegsrc num-buffers=20 samplesperbuffer=200"
CASES = [
    (f"{SRC} ! stft name=s n-fft=256 ! tfmtokenize name=t", "s",
     ["t requires n-fft=200", "produce n-fft=256", "unset the property `n-fft`"]),
    (f"{SRC} ! stft name=s waveform=false ! tfmtokenize name=t", "s",
     ["t requires waveform=true", "produce waveform=false", "property `waveform`"]),
    (f"{SRC} rate=256 ! stft name=s ! tfmtokenize name=t", "s",
     ["t requires rate=200", "produce rate=256", "eegsrc rate=0"]),
]


def first_error(line):
    pipeline = Gst.parse_launch(line + " ! fakesink")
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
    pipeline.set_state(Gst.State.NULL)
    if msg is None:
        return "timeout", None
    if msg.type == Gst.MessageType.EOS:
        return None, None
    return msg.src.get_name(), msg.parse_error()[0].message


def main():
    Gst.init(None)
    failures = []
    for line, element, needles in CASES:
        src, text = first_error(line)
        print(f"{line}\n  -> {src}: {text}")
        if src != element or not text or not all(n in text for n in needles):
            failures.append(f"{line}: error from {src}: {text!r}, expected {element} with {needles}")
    src, text = first_error(f"{SRC} ! stft ! tfmtokenize")
    if src is not None:
        failures.append(f"the corrected pipeline failed: {src}: {text}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
