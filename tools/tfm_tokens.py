#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read, summarise, export and plot tokensink recordings (JSON Lines).

As a module:

    import tfm_tokens
    rec = tfm_tokens.load("rec.jsonl")
    eeg = rec.streams[0]
    eeg.pts        # int64 ns of running time, one per token frame
    eeg.tokens     # uint32, (frames, channels) or (frames, channels, codebooks);
                   # NO_TOKEN (0xFFFFFFFF) where the recording has null ("no token")
    eeg.channels   # channel names; eeg.info is the stream record
    eeg.window     # int64 window of each frame (overlapping windows), else None
    eeg.classifications, eeg.annotations, eeg.gaps   # lists of records
    rec.records    # every record in file order (each stream's in pts order, the
                   # streams interleaved by availability: sort by pts for one
                   # timeline); rec.header; rec.start_utc

From the shell:

    tfm_tokens.py summary rec.jsonl
    tfm_tokens.py export rec.jsonl --out all.npz          # every stream, keys s<N>_...
    tfm_tokens.py export rec.jsonl --stream 0 --out eeg.npz
    tfm_tokens.py plot rec.jsonl --out rec.png

    tfm_tokens.mne_annotations(rec)   # mne.Annotations, orig_time set for raw.set_annotations

Needs python3 with numpy (matplotlib for plot). The file format is described
in docs/tokensink.md."""
import argparse
import datetime
import json
import sys
import warnings
from collections import Counter

import numpy as np

SECOND = 1_000_000_000
NO_TOKEN = 0xFFFFFFFF   # "no token": null in the recording (the tokenizer saw non-finite input)


def _tokens_of(values):
    """A tokens record's list with null as NO_TOKEN (per channel, or per codebook)."""
    return [NO_TOKEN if v is None else _tokens_of(v) if isinstance(v, list) else v for v in values]


class Stream:
    """One recorded stream: its description and everything recorded for it."""

    def __init__(self, index, info):
        self.index = index
        self.info = info
        self.classifications = []
        self.annotations = []
        self.gaps = []
        self.end = None
        self._pts, self._duration, self._tokens, self._window = [], [], [], []
        self.pts = np.zeros(0, np.int64)
        self.duration = np.zeros(0, np.int64)
        self.tokens = np.zeros((0, len(info.get("channels") or [])), np.uint32)
        # Overlapping windows (window-frames in the stream record): the window
        # of each frame, since the same frame time recurs once per window.
        self.window = np.zeros(0, np.int64) if info.get("window-frames") else None

    @property
    def modality(self):
        return self.info.get("modality")

    @property
    def channels(self):
        return list(self.info.get("channels") or [])

    @property
    def units(self):
        return self.info.get("units")

    @property
    def framerate(self):
        n, d = self.info.get("framerate", [0, 1])
        return n / d if d else 0.0

    @property
    def seconds(self):
        """Frame times in seconds of running time."""
        return self.pts / SECOND

    def _add_tokens(self, record):
        self._pts.append(record["pts"])
        self._duration.append(record["duration"])
        self._tokens.append(_tokens_of(record["tokens"]))
        self._window.append(record.get("window", -1))

    def _finish(self):
        if self._pts:
            self.pts = np.asarray(self._pts, np.int64)
            self.duration = np.asarray(self._duration, np.int64)
            if self.window is not None:
                self.window = np.asarray(self._window, np.int64)
            shapes = {np.shape(t) for t in self._tokens}
            if len(shapes) == 1:
                self.tokens = np.asarray(self._tokens, np.uint32)
            else:   # the stream's caps changed: one array per frame
                warnings.warn(f"stream {self.index} changes shape {sorted(shapes)}: "
                              "tokens is a list of per-frame arrays")
                self.tokens = [np.asarray(t, np.uint32) for t in self._tokens]
        del self._pts, self._duration, self._tokens, self._window


class Recording:
    def __init__(self, header, streams, records, truncated):
        self.header = header
        self.streams = streams
        self.records = records
        self.truncated = truncated

    @property
    def start_utc(self):
        """UTC wall-clock time of running time 0 (datetime, microseconds)."""
        ns = self.header["start-unix-ns"]
        return datetime.datetime.fromtimestamp(ns / SECOND, tz=datetime.timezone.utc)


def _parse_lines(path):
    """Yields records; tolerates only an unterminated last line (a killed writer)."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    tail = lines.pop()       # b"" when the file ends with a newline
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except ValueError as e:
            raise ValueError(f"{path}:{number}: not a JSON record: {e}") from None
    truncated = bool(tail)
    if truncated:
        try:
            records.append(json.loads(tail))
            truncated = False
        except ValueError:
            warnings.warn(f"{path}: ignoring an incomplete last line (recording was cut)")
    return records, truncated


def load(path):
    """Reads a tokensink recording; returns a Recording."""
    records, truncated = _parse_lines(path)
    if not records or records[0].get("type") != "header":
        raise ValueError(f"{path}: not a tokensink recording (no header line first)")
    header = records[0]
    if header.get("version") != 1:
        raise ValueError(f"{path}: unsupported recording version {header.get('version')}")
    streams = {}
    for r in records[1:]:
        kind, s = r.get("type"), r.get("stream")
        if kind == "stream":
            if s in streams:      # caps or tags changed: keep the data, update the description
                streams[s].info = r
            else:
                streams[s] = Stream(s, r)
            continue
        if s not in streams:
            raise ValueError(f"{path}: {kind} record for undeclared stream {s}")
        st = streams[s]
        if kind == "tokens":
            st._add_tokens(r)
        elif kind == "classification":
            st.classifications.append(r)
        elif kind == "annotation":
            st.annotations.append(r)
        elif kind == "gap":
            st.gaps.append(r)
        elif kind == "end":
            st.end = r
    for st in streams.values():
        st._finish()
    return Recording(header, streams, records, truncated)


def _span(st):
    if not len(st.pts):
        return "no frames"
    return f"{st.pts[0] / SECOND:.3f}-{(st.pts[-1] + st.duration[-1]) / SECOND:.3f} s"


def summary(rec, out=sys.stdout):
    h = rec.header
    print(f"recording started {h['start-utc']} on {h.get('host', '?')} "
          f"({h.get('software', '?')}, clock {h.get('clock', '?')})", file=out)
    if rec.truncated:
        print("  last line incomplete: the recording was cut", file=out)
    for s, st in sorted(rec.streams.items()):
        print(f"stream {s}: {st.modality}, {len(st.channels)} channels "
              f"({', '.join(st.channels[:8])}{', ...' if len(st.channels) > 8 else ''}), "
              f"{st.framerate:g} frames/s, vocabulary {st.info.get('vocabulary')}, "
              f"codebooks {st.info.get('codebooks')}, model {st.info.get('model')!r}", file=out)
        if st.info.get("source"):
            digest = st.info.get("source-sha256")
            print(f"  source {st.info['source']}"
                  + (f" (sha256 {digest[:12]}...)" if digest else "")
                  + (f", measured from {st.info['meas-start-utc'][:19]}Z"
                     if st.info.get("meas-start-utc") else ""), file=out)
        silent = sum(g["duration"] for g in st.gaps) / SECOND
        latency = "" if st.info.get("latency") is None else f", latency {st.info['latency'] / SECOND:.3f} s"
        print(f"  {len(st.pts)} frames, {_span(st)}{latency}, {len(st.gaps)} gaps ({silent:.3f} s)", file=out)
        missing, total = _no_token_count(st)
        if missing:
            print(f"  {missing} no-token values ({100 * missing / total:.2g} % of tokens: "
                  "non-finite input)", file=out)
        if st.classifications:
            labels = Counter(c["label"] for c in st.classifications)
            print(f"  {len(st.classifications)} classifications: "
                  + ", ".join(f"{k} {v}" for k, v in labels.most_common()), file=out)
        if st.annotations:
            print(f"  {len(st.annotations)} annotations: "
                  + "; ".join(a["text"] for a in st.annotations[:5])
                  + ("; ..." if len(st.annotations) > 5 else ""), file=out)
        if st.end and not len(st.pts):
            print("  no token frames: the stream ended before its first tokenizer window", file=out)
        print("  ended at EOS" if st.end else "  no end record (recording stopped early)", file=out)


def _no_token_count(st):
    """(values that are NO_TOKEN, all values) of a stream's tokens."""
    arrays = st.tokens if isinstance(st.tokens, list) else [st.tokens]
    return (sum(int((a == NO_TOKEN).sum()) for a in arrays), sum(a.size for a in arrays))


def _stream(rec, index):
    if index not in rec.streams:
        raise SystemExit(f"no stream {index}; streams: {sorted(rec.streams)}")
    return rec.streams[index]


def _times(records, key):
    return np.asarray([r[key] if r[key] is not None else -1 for r in records], np.int64)


def classification_labels(st):
    """The labels of a stream's classifications, in the classifier's order
    (the order of first appearance in the probabilities objects)."""
    labels = []
    for c in st.classifications:
        labels += [k for k in c["probabilities"] if k not in labels]
    return labels


def classification_probabilities(st):
    """(decisions, labels) float64 array, columns in classification_labels order;
    NaN where a decision lacks a label."""
    labels = classification_labels(st)
    probs = np.full((len(st.classifications), len(labels)), np.nan)
    for i, c in enumerate(st.classifications):
        probs[i] = [c["probabilities"].get(k, np.nan) for k in labels]
    return probs


def stream_arrays(rec, st):
    """Everything recorded for one stream as named numpy arrays (the npz layout)."""
    c, a = st.classifications, st.annotations
    return dict(pts=st.pts, duration=st.duration, tokens=st.tokens,
                channels=np.asarray(st.channels, str), units=np.asarray(st.units or [], str),
                modality=st.modality, model=st.info.get("model", ""),
                framerate=np.asarray(st.info["framerate"], np.int64),
                vocabulary=st.info.get("vocabulary"),
                classification_pts=_times(c, "pts"), classification_duration=_times(c, "duration"),
                classification_class=np.asarray([x["class"] for x in c], np.int64),
                classification_label=np.asarray([x["label"] or "" for x in c], str),
                classification_labels=np.asarray(classification_labels(st), str),
                classification_probabilities=classification_probabilities(st),
                annotation_pts=_times(a, "pts"), annotation_duration=_times(a, "duration"),
                annotation_text=np.asarray([x["text"] for x in a], str),
                gap_pts=_times(st.gaps, "pts"), gap_duration=_times(st.gaps, "duration"))


def export(rec, out, index=None):
    """Writes one stream's arrays (index given) or every stream's, keys
    prefixed `s<N>_`, to an .npz file."""
    arrays = {"start_unix_ns": rec.header["start-unix-ns"]}
    if index is not None:
        arrays.update(stream_arrays(rec, _stream(rec, index)))
    else:
        arrays["streams"] = np.asarray(sorted(rec.streams), np.int64)
        for s in sorted(rec.streams):
            arrays.update({f"s{s}_{k}": v for k, v in stream_arrays(rec, rec.streams[s]).items()})
    np.savez(out, **arrays)


def measurement_start(rec, streams=None):
    """UTC datetime of running time 0 on the source's own clock: the
    measurement start of the source file (a stream record's `meas-start-unix-ns`,
    from the first of `streams` that has one), else the wall-clock start of the
    recording."""
    for s in sorted(rec.streams) if streams is None else streams:
        ns = _stream(rec, s).info.get("meas-start-unix-ns")
        if ns is not None:
            return datetime.datetime.fromtimestamp(ns // 1000 / 1e6, tz=datetime.timezone.utc)
    return rec.start_utc


def mne_annotations(rec, streams=None, classifications=True):
    """mne.Annotations of the recording's annotations (and, with
    classifications=True, one "<label>" annotation per decision), onsets in
    seconds of running time, orig_time = measurement_start(rec, streams), so
    that raw.set_annotations() lines them up with the source file read by MNE."""
    import mne
    onset, duration, description = [], [], []
    for s in sorted(rec.streams) if streams is None else streams:
        st = _stream(rec, s)
        events = st.annotations + (st.classifications if classifications else [])
        for r in events:
            if r["pts"] is None:
                continue
            onset.append(r["pts"] / SECOND)
            duration.append((r["duration"] or 0) / SECOND)
            description.append(r["text"] if r["type"] == "annotation" else r["label"] or "?")
    order = np.argsort(onset, kind="stable")
    return mne.Annotations(np.asarray(onset)[order], np.asarray(duration)[order],
                           np.asarray(description, dtype=object)[order].tolist(),
                           orig_time=measurement_start(rec, streams))


def _runs(st):
    """Index ranges of frames that follow each other without a hole."""
    if not len(st.pts):
        return []
    ends = st.pts[:-1] + st.duration[:-1]
    breaks = np.nonzero(st.pts[1:] != ends)[0] + 1
    edges = [0, *breaks.tolist(), len(st.pts)]
    return list(zip(edges[:-1], edges[1:]))


def _extent(rec):
    """(first, last) running time in seconds of anything placed in the recording."""
    times = []
    for st in rec.streams.values():
        if len(st.pts):
            times += [st.pts[0], st.pts[-1] + st.duration[-1]]
        for r in st.classifications + st.annotations + st.gaps:
            if r["pts"] is not None:
                times += [r["pts"], r["pts"] + (r["duration"] or 0)]
    if not times:
        return 0.0, 1.0
    t0, t1 = min(times) / SECOND, max(times) / SECOND
    return t0, t1 if t1 > t0 else t0 + 1.0


KEY_CODES = 19   # codes drawn in their own colour; the rest share "other"


def code_palette(st):
    """The stream's most used codes (at most KEY_CODES, commonest first) and
    their counts, the count of every other code, and a frame x channel array of
    colour indices: i for key code i, KEY_CODES for "other", -1 for no token."""
    tokens = _codebook0(st)
    codes, counts = np.unique(tokens[tokens != NO_TOKEN], return_counts=True)
    order = np.argsort(-counts, kind="stable")[:KEY_CODES]
    key, key_counts = codes[order], counts[order]
    index = np.full(tokens.shape, KEY_CODES, np.int64)
    for i, code in enumerate(key):
        index[tokens == code] = i
    index[tokens == NO_TOKEN] = -1
    return key, key_counts, int(counts.sum() - key_counts.sum()), index


def _codebook0(st):
    if isinstance(st.tokens, list):
        return np.asarray([t if t.ndim == 1 else t[:, 0] for t in st.tokens
                           if len(t) == len(st.tokens[-1])], np.uint32)
    return st.tokens if st.tokens.ndim == 2 else st.tokens[:, :, 0]


def _colours():
    import matplotlib
    tab = matplotlib.colormaps["tab20"].colors
    return [tab[i] for i in range(20) if i != 15][:KEY_CODES] + [(0.85, 0.85, 0.85)]


def _draw_raster(ax, st, colours):
    from matplotlib.colors import ListedColormap
    key, key_counts, other, index = code_palette(st)
    n_ch = max(index.shape[1] if index.ndim == 2 else 1, 1)
    cmap = ListedColormap(colours)
    cmap.set_under("white")   # no token
    for a, b in _runs(st):
        t0 = st.pts[a] / SECOND
        t1 = (st.pts[b - 1] + st.duration[b - 1]) / SECOND
        ax.imshow(index[a:b].T, aspect="auto", interpolation="nearest", cmap=cmap,
                  vmin=-0.5, vmax=KEY_CODES + 0.5, extent=(t0, t1, n_ch, 0))
    for g in st.gaps:
        ax.axvspan(g["pts"] / SECOND, (g["pts"] + g["duration"]) / SECOND,
                   facecolor="none", edgecolor="0.4", hatch="//", linewidth=0)
    step = max(1, n_ch // 16)
    ax.set_ylim(n_ch, 0)
    ax.set_yticks(np.arange(0, n_ch, step) + 0.5)
    ax.set_yticklabels(st.channels[::step], fontsize=6)
    book = " (codebook 0)" if st.info.get("codebooks", 1) > 1 else ""
    ax.set_ylabel(f"{st.index}: {st.modality}\n{st.framerate:g} /s{book}", fontsize=8)
    return key, key_counts, other


def _draw_usage(ax, st, key, key_counts, other, colours):
    """The colour key: how often each key code occurs, in its raster colour;
    the share of the grey "other" codes is in the title (as a bar it would
    dwarf the key)."""
    ax.barh(np.arange(len(key)), key_counts, color=colours[:len(key)], height=0.8)
    ax.set_yticks(np.arange(len(key)))
    ax.set_yticklabels([str(int(c)) for c in key], fontsize=5)
    ax.set_ylim(len(key) - 0.5 if len(key) else 0.5, -0.5)
    ax.tick_params(axis="x", labelsize=6)
    total = int(key_counts.sum()) + other
    share = f"\nother codes (grey): {100 * other / total:.0f} %" if other else ""
    codes = _codebook0(st)
    ax.set_title(f"code use: {len(np.unique(codes[codes != NO_TOKEN]))} of {st.info.get('vocabulary')}"
                 f"{share}", fontsize=7)


def _draw_probabilities(ax, st):
    """One step line per label: the probability of each decision over its window."""
    labels = classification_labels(st)
    probs = classification_probabilities(st)
    for j, label in enumerate(labels):
        xs, ys = [], []
        for c, p in zip(st.classifications, probs[:, j]):
            if c["pts"] is None:
                continue
            t0 = c["pts"] / SECOND
            xs += [t0, t0 + (c["duration"] or 0) / SECOND, np.nan]
            ys += [p, p, np.nan]
        ax.plot(xs, ys, color=f"C{j % 10}", linewidth=1.5, label=label)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel(f"{st.index}: p(class)", fontsize=8)
    ax.tick_params(axis="y", labelsize=6)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0)


def _draw_annotations(axes, st, with_text):
    for an in st.annotations:
        if an["pts"] is None:
            continue
        t = an["pts"] / SECOND
        for ax in axes:
            if an["duration"]:
                ax.axvspan(t, t + an["duration"] / SECOND, facecolor="k", alpha=0.06, linewidth=0)
            ax.axvline(t, color="k", linestyle="--", linewidth=0.8)
        if with_text:
            axes[0].text(t, 0.02, " " + an["text"], transform=axes[0].get_xaxis_transform(),
                         rotation=90, va="bottom", ha="left", fontsize=7, clip_on=True,
                         bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0, "pad": 1})


def _rows(streams):
    """(stream, kind) per figure row: a raster per stream, a probability row under
    each stream that has classifications."""
    rows = []
    for st in streams:
        rows.append((st, "tokens"))
        if st.classifications:
            rows.append((st, "probabilities"))
    return rows


def figure(rec, title=None):
    """The plot as a matplotlib Figure: the whole recording on one time axis,
    each stream on its own row (token raster in categorical colours, its most
    used codes in colour, the rest grey; to its right a code-usage histogram
    that is the colour key), a row of class probabilities over time under each
    classified stream, annotations as dashed lines (shaded over their duration),
    gaps hatched."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    streams = [rec.streams[s] for s in sorted(rec.streams)]
    if not streams:
        raise SystemExit("the recording holds no stream")
    rows = _rows(streams)
    heights = [min(max(len(st.channels), 3), 12) if kind == "tokens" else 2.5 for st, kind in rows]
    fig, axes = plt.subplots(len(rows), 2, squeeze=False, figsize=(13, 1.2 + 0.35 * sum(heights)),
                             gridspec_kw={"height_ratios": heights, "width_ratios": [6, 1]})
    colours = _colours()
    t0, t1 = _extent(rec)
    for (st, kind), (ax, side) in zip(rows, axes):
        if kind == "tokens":
            key, counts, other = _draw_raster(ax, st, colours)
            _draw_usage(side, st, key, counts, other, colours)
            mine = [a for (s, _), (a, _) in zip(rows, axes) if s is st]
            _draw_annotations(mine, st, with_text=True)
        else:
            _draw_probabilities(ax, st)
            side.axis("off")
        if ax is not axes[0, 0]:
            ax.sharex(axes[0, 0])
        if ax is not axes[-1, 0]:
            ax.tick_params(axis="x", labelbottom=False)
    axes[0, 0].set_xlim(t0, t1)   # after imshow, which sets the limits to its own extent
    axes[-1, 0].set_xlabel("running time (s)")
    axes[0, 0].set_title(title or f"tokensink recording, start {rec.header['start-utc']}", fontsize=9)
    fig.tight_layout()
    return fig


def plot(rec, out, title=None):
    """Writes figure(rec, title) to an image file (.png, .svg, .pdf)."""
    import matplotlib.pyplot as plt
    fig = figure(rec, title)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summary", help="print what the recording holds")
    p.add_argument("file")
    p = sub.add_parser("export", help="write the streams' arrays to .npz")
    p.add_argument("file")
    p.add_argument("--stream", type=int, help="only this stream (pad sink_N), keys unprefixed; "
                   "default: every stream, keys s<N>_...")
    p.add_argument("--out", required=True, help="output .npz path")
    p = sub.add_parser("plot", help="draw the whole recording, a row per stream")
    p.add_argument("file")
    p.add_argument("--out", required=True, help="output image (.png, .svg, .pdf)")
    p.add_argument("--title")
    args = parser.parse_args(argv)
    try:
        rec = load(args.file)
    except (OSError, ValueError) as e:
        raise SystemExit(f"tfm_tokens: {e}")
    if args.command == "summary":
        summary(rec)
    elif args.command == "export":
        export(rec, args.out, args.stream)
    else:
        plot(rec, args.out, args.title)


if __name__ == "__main__":
    main()
