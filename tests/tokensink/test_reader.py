#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tools/tfm_tokens.py against a real tokensink recording: load() returns
exactly the tokens that were recorded, the CLI summarises, exports and plots
them, and damaged files are handled as documented."""
import os
import subprocess
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", "..")), "tools")
sys.path.insert(0, HERE)
sys.path.insert(0, TOOLS)
import tfm_tokens  # noqa: E402
import token_streams as ts  # noqa: E402

S = 1_000_000_000
READER = os.path.join(TOOLS, "tfm_tokens.py")


def cli(*args, ok=True):
    p = subprocess.run([sys.executable, READER, *args], capture_output=True, text=True)
    assert (p.returncode == 0) == ok, (p.returncode, p.stdout, p.stderr)
    return p.stdout + p.stderr


def make_recording(tmp):
    eeg = ts.Source("eeg", 2, channels=4, frames_per_buffer=2,
                    names=["Fp1", "Fp2", "C3", "C4"], units=["uV"] * 4)
    audio = ts.Source("audio", 25, frames_per_buffer=5)
    haptic = ts.Source("haptic", 50, channels=2, frames_per_buffer=10, codebooks=2, vocabulary=512)
    events = [(1, ts.annotation_event(1250 * S // 1000, "eyes closed")),
              (2, ts.classification_event(0, 2 * S, ["normal", "spike"], [0.8, 0.2]))]
    path = os.path.join(tmp, "rec.jsonl")
    ts.record_offline(path, [eeg, audio, haptic], [2, 10, 10], [events, (), ()])
    return path, [eeg, audio, haptic]


def check_load(path, sources):
    rec = tfm_tokens.load(path)
    assert not rec.truncated
    assert rec.header["version"] == 1 and rec.start_utc.year >= 2024
    assert sorted(rec.streams) == [0, 1, 2]
    for src in sources:
        st = rec.streams[src.stream]
        n = 2 * src.fps
        assert st.modality == src.modality and st.framerate == src.fps
        np.testing.assert_array_equal(st.pts, [src.frame_pts(f) for f in range(n)])
        np.testing.assert_array_equal(st.duration, [src.frame_pts(f + 1) - src.frame_pts(f)
                                                    for f in range(n)])
        want = np.array([[[src.token(f, c, b) for b in range(src.codebooks)]
                          for c in range(src.channels)] for f in range(n)], np.uint32)
        if src.codebooks == 1:
            want = want[:, :, 0]
        np.testing.assert_array_equal(st.tokens, want)
        assert st.tokens.dtype == np.uint32
        assert st.end["frames"] == n
    eeg = rec.streams[0]
    assert eeg.channels == ["Fp1", "Fp2", "C3", "C4"] and eeg.units == ["uV"] * 4
    assert rec.streams[1].channels == ["ch0"] and rec.streams[1].units is None
    assert [a["text"] for a in eeg.annotations] == ["eyes closed"]
    assert eeg.annotations[0]["pts"] == 1250 * S // 1000
    (c,) = eeg.classifications
    assert (c["label"], c["class"], c["pts"], c["duration"]) == ("normal", 0, 0, 2 * S)
    assert c["probabilities"] == {"normal": 0.8, "spike": 0.2}
    return rec


def check_cli(path, rec, tmp):
    out = cli("summary", path)
    assert "stream 0: eeg, 4 channels (Fp1, Fp2, C3, C4), 2 frames/s" in out, out
    assert "100 frames, 0.000-2.000 s, latency 0.000 s" in out, out
    assert "1 classifications: normal 1" in out and "1 annotations: eyes closed" in out, out

    npz = os.path.join(tmp, "haptic.npz")
    cli("export", path, "--stream", "2", "--out", npz)
    d = np.load(npz)
    np.testing.assert_array_equal(d["tokens"], rec.streams[2].tokens)
    np.testing.assert_array_equal(d["pts"], rec.streams[2].pts)
    assert d["tokens"].shape == (100, 2, 2) and list(d["framerate"]) == [50, 1]
    npz0 = os.path.join(tmp, "eeg.npz")
    cli("export", path, "--stream", "0", "--out", npz0)
    d = np.load(npz0)
    assert list(d["channels"]) == ["Fp1", "Fp2", "C3", "C4"]
    assert list(d["classification_label"]) == ["normal"] and list(d["annotation_text"]) == ["eyes closed"]
    assert "no stream 7" in cli("export", path, "--stream", "7", "--out", npz, ok=False)

    png = os.path.join(tmp, "rec.png")
    cli("plot", path, "--out", png)
    import matplotlib.image
    img = matplotlib.image.imread(png)
    assert img.shape[0] > 200 and img.shape[1] > 800, img.shape
    colours = np.unique((img[:, :, :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, "the raster has few colours: tokens not drawn?"


def check_damaged_n(path, tmp):
    with open(path, "rb") as f:
        data = f.read()
    cut = os.path.join(tmp, "cut.jsonl")
    with open(cut, "wb") as f:      # a writer killed in the middle of a line
        f.write(data + b'{"type":"tokens","stream":0,"pts":20')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = tfm_tokens.load(cut)
    assert rec.truncated and any("incomplete last line" in str(w.message) for w in caught)
    assert len(rec.streams[0].pts) == 4

    bad = os.path.join(tmp, "bad.jsonl")
    lines = data.split(b"\n")
    lines[5] = b"{not json"
    with open(bad, "wb") as f:
        f.write(b"\n".join(lines))
    try:
        tfm_tokens.load(bad)
        raise AssertionError("a corrupt line was accepted")
    except ValueError as e:
        assert ":6:" in str(e), e
    assert "bad.jsonl:6" in cli("summary", bad, ok=False)
    assert "No such file" in cli("summary", os.path.join(tmp, "missing.jsonl"), ok=False)


def main():
    tmp = ts.temp_dir("tokensink-reader-")
    path, sources = make_recording(tmp)
    rec = check_load(path, sources)
    check_cli(path, rec, tmp)
    check_damaged_n(path, tmp)
    print("reader OK")


if __name__ == "__main__":
    main()
