#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""eegsrc (through a pipeline ending in appsink, native rate) reads every EDF
under shared/data/eeg/ (or, with the argument "fixtures", the EDF+ files that
tests/fixtures writes with EDFlib) exactly as MNE-Python does: same channels in
the same order, the measurement start (GST_TAG_DATE_TIME) equal to MNE's
meas_date, samples within 1e-3 uV, same annotation onsets, durations and texts
(from the bus messages; test_eegsrc checks their order against the buffers)."""
import glob
import os
import sys

import gi
import numpy as np

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

import mne  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import recordings  # noqa: E402

TOLERANCE_UV = 1e-3


def normalize(label):
    """The element's label key: no spaces, trailing dots or 'EEG ' prefix, lower case."""
    s = label.strip().rstrip(".")
    if s[:4].upper() == "EEG " and len(s) > 4:
        s = s[4:]
    return s.strip().lower()


def read_with_eegsrc(path):
    pipeline = Gst.parse_launch(
        f'eegsrc location="{path}" samplesperbuffer=4096 ! appsink name=sink sync=false')
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    chunks, rate, channels = [], None, None
    while True:
        sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
        if sample is None:
            break
        caps = sample.get_caps().get_structure(0)
        rate, channels = caps.get_int("rate")[1], caps.get_int("channels")[1]
        buf = sample.get_buffer()
        chunks.append(np.frombuffer(buf.extract_dup(0, buf.get_size()), "<f4"))
    annotations = []
    bus = pipeline.get_bus()
    while True:
        msg = bus.pop_filtered(Gst.MessageType.ELEMENT | Gst.MessageType.ERROR)
        if msg is None:
            break
        if msg.type == Gst.MessageType.ERROR:
            raise RuntimeError(f"{path}: {msg.parse_error()[0].message}")
        s = msg.get_structure()
        if s.get_name() == "neuro-annotation":
            annotations.append((s.get_uint64("pts")[1], s.get_uint64("duration")[1],
                                s.get_string("text")))
    pipeline.set_state(Gst.State.NULL)
    data = np.concatenate(chunks).reshape(-1, channels).T
    return data, rate, annotations


def read_tags(path):
    """Channel names and measurement start (GstDateTime as a UTC datetime) from the stream tags."""
    pipeline = Gst.parse_launch(f'eegsrc location="{path}" num-buffers=1 ! fakesink name=sink')
    names, start = [], []

    def probe(pad, info):
        ev = info.get_event()
        if ev.type == Gst.EventType.TAG:
            tags = ev.parse_tag()
            ok, value = tags.get_string("neuro-channel-names")
            if ok:
                names.extend(value.split(","))
            ok, when = tags.get_date_time(Gst.TAG_DATE_TIME)
            if ok:
                start.append(when.to_g_date_time())
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(
        Gst.PadProbeType.EVENT_DOWNSTREAM, probe)
    pipeline.set_state(Gst.State.PLAYING)
    pipeline.get_bus().timed_pop_filtered(30 * Gst.SECOND,
                                          Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    return names, start


def check_file(path):
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    expected = raw.get_data() * 1e6  # MNE gives volts for uV and mV signals alike
    data, rate, annotations = read_with_eegsrc(path)
    names, start = read_tags(path)
    errors = []
    meas = raw.info["meas_date"]
    if len(start) != 1 or start[0].to_unix() * 10**6 + start[0].get_microsecond() != \
            round(meas.timestamp() * 10**6):
        errors.append(f"measurement start {[s.format_iso8601() for s in start]} != MNE {meas}")
    if [normalize(n) for n in names] != [normalize(n) for n in raw.ch_names]:
        errors.append(f"channel names {names} != MNE {raw.ch_names}")
    if rate != int(raw.info["sfreq"]):
        errors.append(f"rate {rate} != MNE {raw.info['sfreq']}")
    worst = float("nan")
    if data.shape != expected.shape:
        errors.append(f"shape {data.shape} != MNE {expected.shape}")
    else:
        worst = float(np.max(np.abs(data - expected)))
        if not worst <= TOLERANCE_UV:
            errors.append(f"max |eegsrc - MNE| = {worst} uV")
    mne_ann = [(round(o * 1e9), round(d * 1e9), t) for o, d, t in
               zip(raw.annotations.onset, raw.annotations.duration, raw.annotations.description)]
    got_ann = [(p, d, t) for p, d, t in annotations]
    if [(a[0], a[2]) for a in got_ann] != [(a[0], a[2]) for a in mne_ann]:
        errors.append(f"annotations {got_ann[:5]} != MNE {mne_ann[:5]}")
    if any(abs(g[1] - m[1]) > 1000 for g, m in zip(got_ann, mne_ann)):
        errors.append("annotation durations differ")
    return errors, data.shape, len(annotations), worst


def edf_files(fixtures):
    """(folder, its EDF files) or an error message when some are missing."""
    if fixtures:
        root, expected = recordings.fixtures_dir(), 6
    else:
        root, expected = recordings.data("eeg"), 20
    files = sorted(glob.glob(os.path.join(root, "**", "*.edf"), recursive=True))
    if len(files) < expected:
        return root, None, f"expected {expected} EDF files in {root}, found {len(files)}"
    return root, files, None


def main():
    Gst.init(None)
    root, files, error = edf_files(sys.argv[1:] == ["fixtures"])
    if error:
        print("FAIL:", error)
        return 1
    failed = 0
    for path in files:
        errors, shape, n_ann, worst = check_file(path)
        status = "ok" if not errors else "FAIL"
        print(f"{status}: {os.path.relpath(path, root)} {shape[0]} ch x {shape[1]} samples, "
              f"{n_ann} annotations, max |eegsrc - MNE| {worst:.2e} uV")
        for e in errors:
            print("   ", e)
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
