#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""eegsrc rate=0 (the default) takes the rate downstream asks for, and eegsrc
refuses a stock converter that cannot take its channel count.

usage: test_follow_rate.py CASE
  generated   EDFs written here at 250 Hz (3 and 70 channels) and synthetic EEG:
              `eegsrc ! stft ! tfmtokenize` tokenizes them at the tokenizer's 200 Hz
              with eegsrc resampling; the samples equal those of an explicit rate=200;
              without a demanding downstream the file's rate is kept.
  shared      the same for the real 160 Hz (EEGMMIDB, 64 channels) and 500 Hz (EEGMAT)
              recordings in ../shared/data/eeg (skipped, 77, when they are absent).
  converter_n eegsrc with 64 channels in front of audioresample (behind a queue) or
              audioconvert fails with an error from eegsrc naming the converter,
              instead of GStreamer's assertion and crash; 3 channels pass."""
import atexit
import os
import struct
import sys
import shutil
import tempfile

import gi
import numpy as np

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402

TMP = tempfile.mkdtemp(prefix="eegsrc-rate-")
atexit.register(shutil.rmtree, TMP, True)  # leave nothing in TMPDIR


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def write_edf(path, rate, channels, seconds):
    """A plain EDF: 1 s records, int16 samples spanning +-3000 uV, a sine per channel."""
    def field(value, width):
        return str(value).ljust(width)[:width].encode("ascii")
    ns = channels
    header = (field("0", 8) + field("X X X X", 80) + field("Startdate 01-JAN-2020 X X X", 80)
              + field("01.01.20", 8) + field("10.00.00", 8) + field(256 * (ns + 1), 8)
              + field("", 44) + field(seconds, 8) + field(1, 8) + field(ns, 4))
    labels = [f"E{c}" for c in range(ns)]
    for name, width, values in (("label", 16, labels), ("transducer", 80, [""] * ns),
                                ("dimension", 8, ["uV"] * ns), ("pmin", 8, ["-3000"] * ns),
                                ("pmax", 8, ["3000"] * ns), ("dmin", 8, ["-32768"] * ns),
                                ("dmax", 8, ["32767"] * ns), ("prefilter", 80, [""] * ns),
                                ("samples", 8, [rate] * ns), ("reserved", 32, [""] * ns)):
        header += b"".join(field(v, width) for v in values)
    t = np.arange(seconds * rate) / rate
    data = bytearray()
    for r in range(seconds):
        for c in range(ns):
            x = 50 * np.sin(2 * np.pi * (3 + c % 20) * t[r * rate:(r + 1) * rate])
            digital = np.round((x + 3000) / 6000 * 65535 - 32768).astype("<i2")
            data += digital.tobytes()
    with open(path, "wb") as f:
        f.write(header + bytes(data))
    return path


def run(line, want_samples=False):
    """(source rate, channels, token frames, token framerate, samples or None, error)"""
    pipeline = Gst.parse_launch(line)
    sink = pipeline.get_by_name("out")
    pipeline.set_state(Gst.State.PLAYING)
    chunks, frames, framerate, error = [], 0, None, None
    while True:
        sample = sink.emit("try-pull-sample", 60 * Gst.SECOND)
        if sample is None:
            break
        s = sample.get_caps().get_structure(0)
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if s.get_name() == "application/x-tokens":
            frames += info.size // (4 * s.get_int("channels")[1])
            framerate = list(s.get_fraction("framerate")[1:])
        elif want_samples:
            chunks.append(np.frombuffer(info.data, "<f4").copy())
        buf.unmap(info)
    msg = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
    if msg:
        error = f"{msg.src.get_name()}: {msg.parse_error()[0].message}"
    caps = pipeline.get_by_name("src").get_static_pad("src").get_current_caps()
    pipeline.set_state(Gst.State.NULL)
    rate = channels = None
    if caps:
        rate, channels = caps.get_structure(0).get_int("rate")[1], caps.get_structure(0).get_int("channels")[1]
    samples = np.concatenate(chunks) if chunks else None
    return rate, channels, frames, framerate, samples, error


def check_file(location, file_rate, n_channels, seconds):
    src = f'eegsrc name=src location="{location}"' if location else "eegsrc name=src num-buffers=30 samplesperbuffer=200"
    rate, channels, frames, framerate, _, err = run(f"{src} ! stft ! tfmtokenize ! appsink name=out sync=false")
    windows = seconds // 10
    if err or rate != 200 or channels != n_channels:
        fail(f"{location or 'synthetic'}: eegsrc ! stft ! tfmtokenize: rate {rate}, channels {channels}, "
             f"error {err}")
    if frames != 19 * windows or framerate != [2, 1]:
        fail(f"{location}: {frames} token frames at {framerate}, expected {19 * windows} at 2/1")
    # the same samples as asking for 200 Hz explicitly
    explicit = run(f"{src} rate=200 ! appsink name=out sync=false", want_samples=True)
    followed = run(f"{src} ! audio/x-raw,rate=200 ! appsink name=out sync=false", want_samples=True)
    if followed[0] != 200 or not np.array_equal(explicit[4], followed[4]):
        fail(f"{location}: rate=0 with downstream 200 Hz differs from rate=200")
    native = run(f"{src} ! appsink name=out sync=false")
    if native[0] != file_rate:
        fail(f"{location}: with any rate accepted downstream eegsrc chose {native[0]}, not {file_rate}")
    print(f"{location or 'synthetic'}: {file_rate} Hz x {n_channels} -> 200 Hz, {frames} token frames")


def case_generated():
    for channels in (3, 70):
        path = write_edf(os.path.join(TMP, f"gen{channels}.edf"), 250, channels, 21)
        check_file(path, 250, channels, 21)
    check_file("", 200, 19, 30)
    rate = run("eegsrc name=src num-buffers=5 ! audio/x-raw,rate=250 ! appsink name=out")[0]
    if rate != 250:
        fail(f"synthetic EEG followed downstream to {rate}, not 250 Hz")


def case_shared():
    files = [(recordings.data("eeg/eegmmidb/S001R02.edf"), 160, 64, 61),
             (recordings.data("eeg/eegmat/Subject00_1.edf"), 500, None, None)]
    check_file(*files[0])
    path = files[1][0]
    native = run(f'eegsrc name=src location="{path}" ! appsink name=out sync=false')
    seconds = 0
    rate, channels, frames, framerate, _, err = run(
        f'eegsrc name=src location="{path}" ! stft ! tfmtokenize ! appsink name=out sync=false')
    if err or native[0] != 500 or rate != 200 or channels != native[1] or frames == 0 or frames % 19:
        fail(f"EEGMAT: native {native[0]} Hz, followed {rate} Hz, {frames} frames, error {err}")
    print(f"EEGMAT: 500 Hz x {channels} -> 200 Hz, {frames} token frames")


def case_converter_n():
    path = write_edf(os.path.join(TMP, "wide.edf"), 200, 64, 2)
    for conv in ("queue ! audioresample", "audioconvert"):
        err = run(f'eegsrc name=src location="{path}" ! {conv} ! appsink name=out')[5]
        name = conv.split()[-1]
        if not err or not err.startswith("src:") or name not in err or "64 channels" not in err:
            fail(f"64 channels into {conv}: {err!r}")
        print("refused:", err)
    small = write_edf(os.path.join(TMP, "small.edf"), 200, 3, 2)
    rate, _, _, _, _, err = run(f'eegsrc name=src location="{small}" rate=200 ! audioresample ! '
                                'audio/x-raw,rate=100 ! appsink name=out')
    if err or rate != 200:
        fail(f"3 channels into audioresample: rate {rate}, error {err}")


def main():
    Gst.init(None)
    {"generated": case_generated, "shared": case_shared, "converter_n": case_converter_n}[sys.argv[1]]()
    print("ok")


if __name__ == "__main__":
    main()
