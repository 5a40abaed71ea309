#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tools/tfm_tokens.py plot, export and mne_annotations on a recording with
two streams of different rates: a 2-channel EEG stream of three 19-frame
windows (10 s apart, as tfmtokenize emits them) with a classification per
window and an annotation, and a 25 frames/s audio stream. Checks what the
figure holds (not only that a file was written): the whole recording on one
time axis, a row per stream, a categorical colour per key code matching its
bar in the code-usage histogram, the probabilities over time, annotations on
the rows of their stream; the npz of every stream with probabilities; MNE
annotations with the right orig_time."""
import atexit
import datetime
import json
import os
import subprocess
import sys
import shutil
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", "..")), "tools")
sys.path.insert(0, TOOLS)
import tfm_tokens  # noqa: E402

S = 1_000_000_000
START = 1767225600 * S
PROBS = [{"a": 0.9, "b": 0.1}, {"a": 0.25, "b": 0.75}, {"a": 0.6, "b": 0.4}]


def eeg_token(w, f, c):
    return [(w * 19 + f) % 30, (f * 7) % 5][c]


def write_recording(path, meas_start_ns=None):
    header = {"type": "header", "version": 1, "start-utc": "2026-01-01T00:00:00.000000Z",
              "start-unix-ns": START}
    eeg = {"type": "stream", "stream": 0, "modality": "eeg", "channels": ["O1", "O2"],
           "units": None, "framerate": [2, 1], "vocabulary": 512, "codebooks": 1, "model": "m"}
    if meas_start_ns is not None:
        eeg["meas-start-unix-ns"] = meas_start_ns
    lines = [header, eeg,
             {"type": "stream", "stream": 1, "modality": "audio", "channels": ["ch0"], "units": None,
              "framerate": [25, 1], "vocabulary": 64, "codebooks": 1, "model": "a"}]
    body = []
    for w, p in enumerate(PROBS):
        label = max(p, key=p.get)
        body.append({"type": "classification", "stream": 0, "pts": w * 10 * S, "duration": 95 * S // 10,
                     "label": label, "class": list(p).index(label), "probabilities": p})
        body += [{"type": "tokens", "stream": 0, "pts": w * 10 * S + f * S // 2, "duration": S // 2,
                  "tokens": [eeg_token(w, f, 0), eeg_token(w, f, 1)]} for f in range(19)]
    body += [{"type": "tokens", "stream": 1, "pts": f * S // 25, "duration": S // 25,
              "tokens": [f % 40]} for f in range(25 * 30)]
    body.append({"type": "annotation", "stream": 0, "pts": 12 * S, "duration": 4 * S, "text": "T1"})
    body.sort(key=lambda r: r["pts"])
    with open(path, "w") as f:
        f.write("\n".join(json.dumps(r) for r in lines + body) + "\n")


def check_figure(rec):
    fig = tfm_tokens.figure(rec)
    axes = np.asarray(fig.axes).reshape(-1, 2)
    assert axes.shape == (3, 2), axes.shape          # eeg raster, eeg probabilities, audio raster
    for ax in axes[:, 0]:
        assert np.allclose(ax.get_xlim(), (0, 30)), ("not the whole recording", ax.get_xlim())
    eeg, probs, audio = axes[:, 0]
    extents = sorted(tuple(np.round(im.get_extent()[:2], 3)) for im in eeg.get_images())
    assert extents == [(0, 9.5), (10, 19.5), (20, 29.5)], extents
    assert [t.get_text() for t in eeg.get_yticklabels()] == ["O1", "O2"]

    st = rec.streams[0]
    key, counts, other, index = tfm_tokens.code_palette(st)
    codes, all_counts = np.unique(st.tokens, return_counts=True)
    assert len(key) == tfm_tokens.KEY_CODES and other == len(st.tokens.ravel()) - counts.sum()
    assert sorted(all_counts, reverse=True)[:len(key)] == sorted(counts, reverse=True)
    for i, code in enumerate(key):
        assert np.all(index[st.tokens == code] == i)
    assert np.all(index[~np.isin(st.tokens, key)] == tfm_tokens.KEY_CODES)
    # each key code is drawn in the colour of its histogram bar; different codes differ
    image = sorted(eeg.get_images(), key=lambda im: im.get_extent()[0])[0]
    bars = axes[0, 1].patches
    assert [int(b.get_width()) for b in bars] == list(counts)
    share = round(100 * other / len(st.tokens.ravel()))
    assert f"other codes (grey): {share} %" in axes[0, 1].get_title(), axes[0, 1].get_title()
    code = st.tokens[0, 0]
    bar = bars[list(key).index(code)]
    assert np.allclose(image.to_rgba(image.get_array())[0, 0][:3], bar.get_facecolor()[:3])
    assert len({b.get_facecolor() for b in bars}) == len(bars), "colours not categorical"
    assert [t.get_text() for t in axes[0, 1].get_yticklabels()][:3] == [str(c) for c in key[:3]]

    lines = {ln.get_label(): ln for ln in probs.get_lines() if not ln.get_label().startswith("_")}
    assert sorted(lines) == ["a", "b"], lines
    y = lines["b"].get_ydata()
    assert np.allclose(y[~np.isnan(y)], np.repeat([p["b"] for p in PROBS], 2))
    x = lines["b"].get_xdata()
    assert np.allclose(x[~np.isnan(x)], [0, 9.5, 10, 19.5, 20, 29.5])

    def dashed(ax):
        return [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert dashed(eeg) == [12] and dashed(probs) == [12] and dashed(audio) == []
    assert any(t.get_text().strip() == "T1" for t in eeg.texts)
    assert len(audio.get_images()) == 1   # one contiguous run


def check_export(path, tmp, rec):
    out = os.path.join(tmp, "all.npz")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "tfm_tokens.py"), "export", path,
                        "--out", out], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    d = np.load(out)
    assert list(d["streams"]) == [0, 1] and int(d["start_unix_ns"]) == START
    np.testing.assert_array_equal(d["s0_tokens"], rec.streams[0].tokens)
    np.testing.assert_array_equal(d["s1_tokens"], rec.streams[1].tokens)
    assert list(d["s0_classification_labels"]) == ["a", "b"]
    np.testing.assert_array_equal(d["s0_classification_probabilities"],
                                  [[p["a"], p["b"]] for p in PROBS])
    assert d["s1_classification_probabilities"].shape == (0, 0)
    assert list(d["s0_annotation_text"]) == ["T1"]


def check_mne(rec, path, tmp):
    ann = tfm_tokens.mne_annotations(rec)
    assert list(ann.onset) == [0, 10, 12, 20] and list(ann.description) == ["a", "b", "T1", "a"]
    assert list(ann.duration) == [9.5, 9.5, 4, 9.5]
    assert ann.orig_time == datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    assert list(tfm_tokens.mne_annotations(rec, classifications=False).description) == ["T1"]
    # a recording of a file: orig_time is the file's measurement start
    other = os.path.join(tmp, "file.jsonl")
    write_recording(other, 1250093700 * S + 250_000_000)
    ann = tfm_tokens.mne_annotations(tfm_tokens.load(other))
    assert ann.orig_time == datetime.datetime(2009, 8, 12, 16, 15, 0, 250000,
                                              tzinfo=datetime.timezone.utc), ann.orig_time


def check_cli_plot(path, tmp):
    png = os.path.join(tmp, "rec.png")
    p = subprocess.run([os.path.join(TOOLS, "tfm-tokens"), "plot", path, "--out", png],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    import matplotlib.image
    assert matplotlib.image.imread(png).shape[1] > 800


def main():
    tmp = tempfile.mkdtemp(prefix="tokensink-plot-")
    atexit.register(shutil.rmtree, tmp, True)  # leave nothing in TMPDIR
    path = os.path.join(tmp, "rec.jsonl")
    write_recording(path)
    rec = tfm_tokens.load(path)
    check_figure(rec)
    check_export(path, tmp, rec)
    check_mne(rec, path, tmp)
    check_cli_plot(path, tmp)
    print("plot OK")


if __name__ == "__main__":
    main()
