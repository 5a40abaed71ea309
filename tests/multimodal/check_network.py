#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs pipelines/network-loopback.sh on a free loopback port and compares the recordings.

The receiver's recording (received.jsonl, tokens that crossed RTP/UDP) must match the
sender's local recording of the same tokenizer output (sent.jsonl): same stream
description (caps: framerate, vocabulary, codebooks, model; tags: modality, channel
names, units), same number of frames, identical tokens, the same eyes open/closed
decisions from an lbmclassify on each side (it maps channels by the received names),
at the first frame of each window, and timestamps that keep the
sender's frame spacing to within one frame (the receiver's clock starts elsewhere:
compare times after removing the median offset between the two recordings; the first
frame's arrival is as jittery as any other, so it is no reference).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
import tfm_tokens  # noqa: E402

SECONDS_OF_EEG = 20
# Receiver timestamps are arrival times smoothed by rtpjitterbuffer, so they carry the
# sender's scheduling jitter (41 ms idle, 161 ms measured on the loaded 2-core machine).
# Less than one EEG token frame (500 ms) keeps every frame in its slot, as in the
# multimodal check.
SPACING_TOLERANCE_NS = 500_000_000 - 1
DESCRIPTION = ("modality", "channels", "units", "framerate", "vocabulary", "codebooks", "model")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_classifications(n, a, b, failures):
    windows = len(a.pts) // 19
    for name, st in (("sent", a), ("received", b)):
        starts = [c["pts"] for c in st.classifications]
        if starts != [int(p) for p in st.pts[::19][:windows]]:
            failures.append(f"stream {n}: {name} classifications at {starts}, expected one "
                            f"at the first frame of each of the {windows} windows")
    print(f"  decisions sent {[c['label'] for c in a.classifications]}, "
          f"received {[c['label'] for c in b.classifications]}")
    for ca, cb in zip(a.classifications, b.classifications):
        pa, pb = ca["probabilities"], cb["probabilities"]
        if ca["label"] != cb["label"] or any(abs(pa[k] - pb[k]) > 1e-6 for k in pa):
            failures.append(f"stream {n}: decision differs: sent {ca}, received {cb}")


def compare(sent, received):
    failures = []
    if sorted(received.streams) != sorted(sent.streams):
        return [f"streams: sent {sorted(sent.streams)}, received {sorted(received.streams)}"]
    for n, a in sent.streams.items():
        b = received.streams[n]
        for key in DESCRIPTION:
            if a.info.get(key) != b.info.get(key):
                failures.append(f"stream {n} {key}: sent {a.info.get(key)}, received {b.info.get(key)}")
        print(f"stream {n}: {len(a.pts)} frames sent, {len(b.pts)} received; "
              f"received description {[b.info.get(k) for k in ('modality', 'model', 'framerate')]}")
        if len(a.pts) != len(b.pts):
            failures.append(f"stream {n}: {len(a.pts)} frames sent, {len(b.pts)} received")
            continue
        if (a.tokens != b.tokens).any():
            failures.append(f"stream {n}: received tokens differ from the sent ones")
        offset = np.median(b.pts - a.pts)
        worst = int(abs(b.pts - a.pts - offset).max())
        print(f"  largest timing difference (after the median offset): {worst / 1e6:.1f} ms")
        if worst > SPACING_TOLERANCE_NS:
            failures.append(f"stream {n}: received frame times deviate by {worst} ns")
        if (b.pts[1:] <= b.pts[:-1]).any():
            failures.append(f"stream {n}: received pts not strictly increasing")
        check_classifications(n, a, b, failures)
        if b.end is None:
            failures.append(f"stream {n}: receiver recording has no end record")
    expected = (SECONDS_OF_EEG * 200 // 2000) * 19
    if sent.streams and len(sent.streams[0].pts) != expected:
        failures.append(f"sender recorded {len(sent.streams[0].pts)} frames, expected {expected}")
    return failures


def main():
    script = os.path.join(SOURCE, "pipelines", "network-loopback.sh")
    env = dict(os.environ, PORT=str(free_udp_port()), SECONDS_OF_EEG=str(SECONDS_OF_EEG))
    with tempfile.TemporaryDirectory() as tmp:
        # Own process group: on a timeout the script's two gst-launch-1.0 go with it.
        proc = subprocess.Popen(["sh", script], cwd=tmp, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            print("FAIL: network-loopback.sh did not finish within 120 s")
            return 1
        sys.stdout.write(out)
        if proc.returncode != 0:
            sys.stdout.write(err[-6000:])
            print(f"FAIL: network-loopback.sh exited {proc.returncode}")
            return 1
        sent = tfm_tokens.load(os.path.join(tmp, "sent.jsonl"))
        received = tfm_tokens.load(os.path.join(tmp, "received.jsonl"))
    failures = compare(sent, received)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
