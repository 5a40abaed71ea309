#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tokensink format=hdf5: the same input recorded as JSON Lines and as HDF5
gives the same records (read back with h5py and tools/tfm_tokens.py); the
file appears under its name only at EOS; an existing file, a pipeline
stopped before EOS and a full disk leave nothing half-written."""
import hashlib
import os
import resource
import signal
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", "..")), "tools")
sys.path.insert(0, HERE)
sys.path.insert(0, TOOLS)
import tfm_tokens  # noqa: E402
import token_streams as ts  # noqa: E402
from gi.repository import GObject, Gst  # noqa: E402

S = 1_000_000_000
NO_TOKEN = 0xFFFFFFFF


class GappySource(ts.Source):
    """A source whose every 7th value is "no token" (0xFFFFFFFF)."""

    def token(self, frame, channel, book=0):
        if (frame * 3 + channel + book) % 7 == 0:
            return NO_TOKEN
        return super().token(frame, channel, book)


def source_tag(path):
    tags = Gst.TagList.new_empty()
    tags.set_scope(Gst.TagScope.STREAM)
    tags.add_value(Gst.TagMergeMode.REPLACE, "neuro-source", GObject.Value(GObject.TYPE_STRING, path))
    return Gst.Event.new_tag(tags)


def sources():
    eeg = GappySource("eeg", 2, channels=4, frames_per_buffer=2, vocabulary=512,
                      names=["Fp1", "Fp2", "C3", "C4"], units=["uV"] * 4)
    audio = ts.Source("audio", 25, frames_per_buffer=5, vocabulary=70000)
    haptic = GappySource("haptic", 50, channels=2, frames_per_buffer=10, codebooks=2, vocabulary=512)
    return [eeg, audio, haptic]


def record(path, fmt, source_file, n_buffers=(3, 10, 10)):
    srcs = sources()
    events = [[(0, source_tag(source_file)),
               (1, ts.annotation_event(1250 * S // 1000, "eyes closed \u00e9")),
               (1, ts.classification_event(0, S, ["normal", "spike", "other"], [0.7, 0.2, 0.1])),
               (2, ts.classification_event(S, S, ["normal", "spike", "other"], [0.1, 0.6, 0.3]))],
              (), ()]
    ts.record_offline(path, srcs, list(n_buffers), events, format=fmt)
    return srcs


def check_same_records(tmp):
    source_file = os.path.join(tmp, "source.edf")
    with open(source_file, "wb") as f:
        f.write(b"pretend EDF" * 100)
    jsonl, h5 = os.path.join(tmp, "rec.jsonl"), os.path.join(tmp, "rec.h5")
    record(jsonl, "jsonl", source_file)
    srcs = record(h5, "hdf5", source_file)
    assert not os.path.exists(h5 + ".part")
    ref = tfm_tokens.load(jsonl)
    with h5py.File(h5, "r") as f:
        assert f.attrs["format"] == "neurotokens-hdf5" and f.attrs["version"] == 1
        assert f.attrs["source"] == source_file
        assert f.attrs["source-sha256"] == hashlib.sha256(open(source_file, "rb").read()).hexdigest()
        assert f.attrs["start-utc"].endswith("Z")
        assert sorted(f) == ["stream0", "stream1", "stream2"]
        for src in srcs:
            g, st = f[f"stream{src.stream}"], ref.streams[src.stream]
            assert g.attrs["modality"] == src.modality
            assert list(g.attrs["framerate"]) == [src.fps, 1]
            assert g.attrs["vocabulary"] == src.vocabulary and g.attrs["codebooks"] == src.codebooks
            assert g.attrs["model"] == src.model
            assert list(g.attrs["channels"]) == st.channels
            tokens = g["tokens"]
            assert tokens.dtype == (np.uint16 if src.vocabulary <= 0xFFFF else np.uint32), tokens.dtype
            assert tokens.compression == "gzip" and tokens.chunks is not None
            no_token = np.iinfo(tokens.dtype).max
            assert tokens.fillvalue == no_token
            want = st.tokens.astype(np.int64)
            want[want == NO_TOKEN] = no_token
            np.testing.assert_array_equal(tokens[()], want)
            np.testing.assert_array_equal(g["pts"][()], st.pts)
            np.testing.assert_array_equal(g["duration"][()], st.duration)
        eeg = f["stream0"]
        assert list(eeg.attrs["units"]) == ["uV"] * 4
        assert eeg.attrs["source"] == source_file
        assert (eeg["tokens"][()] == 0xFFFF).sum() > 0, "no 'no token' in the test data"
        c, ref_c = eeg["classifications"], ref.streams[0].classifications
        assert list(c.attrs["labels"]) == ["normal", "spike", "other"]
        np.testing.assert_array_equal(c["class"][()], [r["class"] for r in ref_c])
        np.testing.assert_array_equal(c["pts"][()], [r["pts"] for r in ref_c])
        np.testing.assert_array_equal(c["missing-tokens"][()], [r.get("missing-tokens", 0) for r in ref_c])
        np.testing.assert_allclose(c["probabilities"][()],
                                   [list(r["probabilities"].values()) for r in ref_c], rtol=1e-6)
        a = eeg["annotations"]
        assert [t for t in a["text"].asstr()[()]] == [r["text"] for r in ref.streams[0].annotations]
        np.testing.assert_array_equal(a["duration"][()], [-1])
        assert "classifications" not in f["stream1"] and "annotations" not in f["stream1"]


def check_existing_file_n(tmp):
    path = os.path.join(tmp, "exists.h5")
    with open(path, "w") as f:
        f.write("keep")
    try:
        record(path, "hdf5", path)
        raise AssertionError("an existing file was accepted")
    except RuntimeError as e:
        assert "already exists" in str(e), e
    assert open(path).read() == "keep" and not os.path.exists(path + ".part")


def check_stopped_before_eos_n(tmp):
    """A pipeline stopped without EOS (a killed batch task) leaves no file."""
    path = os.path.join(tmp, "stopped.h5")
    srcs = sources()[:1]
    pipeline = ts.build(path, srcs, live=False, format="hdf5")
    pipeline.set_state(Gst.State.PLAYING)
    for b in range(3):
        srcs[0].appsrc.emit("push-buffer", srcs[0].buffer(2 * b))
    pipeline.get_state(5 * Gst.SECOND)
    assert os.path.exists(path + ".part") and not os.path.exists(path)
    pipeline.set_state(Gst.State.NULL)
    assert not os.path.exists(path) and not os.path.exists(path + ".part")


def full_disk_child(path):
    """Records into a file that may not grow beyond 4 KiB, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    record(path, "hdf5", path, n_buffers=(300, 1000, 1000))


def check_full_disk_n(tmp):
    path = os.path.join(tmp, "full.h5")
    p = subprocess.run([sys.executable, __file__, "--full-disk-child", path],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0, p.stdout + p.stderr
    assert f"Could not write \"{path}.part\": File too large" in p.stderr, p.stderr
    assert "nothing was left under" in p.stderr, p.stderr
    assert not os.path.exists(path) and not os.path.exists(path + ".part")


def main():
    if sys.argv[1:2] == ["--full-disk-child"]:
        full_disk_child(sys.argv[2])
        return
    with tempfile.TemporaryDirectory() as tmp:
        check_same_records(tmp)
        check_existing_file_n(tmp)
        check_stopped_before_eos_n(tmp)
        check_full_disk_n(tmp)
    print("ok")


if __name__ == "__main__":
    main()
