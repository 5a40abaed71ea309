#!/usr/bin/python3
"""Read, summarise, export and plot tokensink recordings (JSON Lines).

As a module:

    import tfm_tokens
    rec = tfm_tokens.load("rec.jsonl")
    eeg = rec.streams[0]
    eeg.pts        # int64 ns of running time, one per token frame
    eeg.tokens     # uint32, (frames, channels) or (frames, channels, codebooks)
    eeg.channels   # channel names; eeg.info is the stream record
    eeg.classifications, eeg.annotations, eeg.gaps   # lists of records
    rec.records    # every record in file order; rec.header; rec.start_utc

From the shell:

    tfm_tokens.py summary rec.jsonl
    tfm_tokens.py export rec.jsonl --stream 0 --out eeg.npz
    tfm_tokens.py plot rec.jsonl --out rec.png

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


class Stream:
    """One recorded stream: its description and everything recorded for it."""

    def __init__(self, index, info):
        self.index = index
        self.info = info
        self.classifications = []
        self.annotations = []
        self.gaps = []
        self.end = None
        self._pts, self._duration, self._tokens = [], [], []
        self.pts = np.zeros(0, np.int64)
        self.duration = np.zeros(0, np.int64)
        self.tokens = np.zeros((0, len(info.get("channels") or [])), np.uint32)

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
        self._tokens.append(record["tokens"])

    def _finish(self):
        if self._pts:
            self.pts = np.asarray(self._pts, np.int64)
            self.duration = np.asarray(self._duration, np.int64)
            shapes = {np.shape(t) for t in self._tokens}
            if len(shapes) == 1:
                self.tokens = np.asarray(self._tokens, np.uint32)
            else:   # the stream's caps changed: one array per frame
                warnings.warn(f"stream {self.index} changes shape {sorted(shapes)}: "
                              "tokens is a list of per-frame arrays")
                self.tokens = [np.asarray(t, np.uint32) for t in self._tokens]
        del self._pts, self._duration, self._tokens


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
        silent = sum(g["duration"] for g in st.gaps) / SECOND
        print(f"  {len(st.pts)} frames, {_span(st)}, {len(st.gaps)} gaps ({silent:.3f} s)", file=out)
        if st.classifications:
            labels = Counter(c["label"] for c in st.classifications)
            print(f"  {len(st.classifications)} classifications: "
                  + ", ".join(f"{k} {v}" for k, v in labels.most_common()), file=out)
        if st.annotations:
            print(f"  {len(st.annotations)} annotations: "
                  + "; ".join(a["text"] for a in st.annotations[:5])
                  + ("; ..." if len(st.annotations) > 5 else ""), file=out)
        print("  ended at EOS" if st.end else "  no end record (recording stopped early)", file=out)


def _stream(rec, index):
    if index not in rec.streams:
        raise SystemExit(f"no stream {index}; streams: {sorted(rec.streams)}")
    return rec.streams[index]


def _times(records, key):
    return np.asarray([r[key] if r[key] is not None else -1 for r in records], np.int64)


def export(rec, index, out):
    """Writes one stream's arrays to an .npz file."""
    st = _stream(rec, index)
    c, a = st.classifications, st.annotations
    np.savez(out, pts=st.pts, duration=st.duration, tokens=st.tokens,
             channels=np.asarray(st.channels, str), units=np.asarray(st.units or [], str),
             modality=st.modality, model=st.info.get("model", ""),
             framerate=np.asarray(st.info["framerate"], np.int64),
             vocabulary=st.info.get("vocabulary"), start_unix_ns=rec.header["start-unix-ns"],
             classification_pts=_times(c, "pts"), classification_duration=_times(c, "duration"),
             classification_class=np.asarray([x["class"] for x in c], np.int64),
             classification_label=np.asarray([x["label"] or "" for x in c], str),
             annotation_pts=_times(a, "pts"), annotation_duration=_times(a, "duration"),
             annotation_text=np.asarray([x["text"] for x in a], str),
             gap_pts=_times(st.gaps, "pts"), gap_duration=_times(st.gaps, "duration"))


def _runs(st):
    """Index ranges of frames that follow each other without a hole."""
    if not len(st.pts):
        return []
    ends = st.pts[:-1] + st.duration[:-1]
    breaks = np.nonzero(st.pts[1:] != ends)[0] + 1
    edges = [0, *breaks.tolist(), len(st.pts)]
    return list(zip(edges[:-1], edges[1:]))


def _draw_stream(ax, st, cmap):
    vocabulary = max(int(st.info.get("vocabulary") or 1), 1)
    tokens = st.tokens if st.tokens.ndim == 2 else st.tokens[:, :, 0]
    n_ch = max(len(st.channels), 1)
    for a, b in _runs(st):
        t0 = st.pts[a] / SECOND
        t1 = (st.pts[b - 1] + st.duration[b - 1]) / SECOND
        ax.imshow(tokens[a:b].T, aspect="auto", interpolation="nearest", cmap=cmap,
                  vmin=0, vmax=vocabulary - 1, extent=(t0, t1, n_ch, 0))
    for g in st.gaps:
        ax.axvspan(g["pts"] / SECOND, (g["pts"] + g["duration"]) / SECOND,
                   facecolor="none", edgecolor="0.4", hatch="//", linewidth=0)
    labels = sorted({c["label"] for c in st.classifications if c["label"]})
    colours = {lab: f"C{i % 10}" for i, lab in enumerate(labels)}
    for c in st.classifications:
        if c["pts"] is None:
            continue
        t0 = c["pts"] / SECOND
        t1 = t0 + (c["duration"] or 0) / SECOND
        ax.axvspan(t0, t1, ymin=0.88, ymax=1.0, color=colours.get(c["label"], "k"), alpha=0.9)
        ax.text((t0 + t1) / 2, 0.94, f"{c['label'] or '?'} {max(c['probabilities'].values(), default=0):.2f}",
                transform=ax.get_xaxis_transform(), ha="center", va="center", fontsize=7,
                color="white", clip_on=True)
    for an in st.annotations:
        if an["pts"] is None:
            continue
        t = an["pts"] / SECOND
        ax.axvline(t, color="k", linestyle="--", linewidth=1)
        ax.text(t, 0.02, " " + an["text"], transform=ax.get_xaxis_transform(), rotation=90,
                va="bottom", ha="left", fontsize=7, clip_on=True,
                bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0, "pad": 1})
    step = max(1, n_ch // 16)
    ax.set_yticks(np.arange(0, n_ch, step) + 0.5)
    ax.set_yticklabels(st.channels[::step], fontsize=6)
    book = " (codebook 0)" if st.tokens.ndim == 3 else ""
    ax.set_ylabel(f"{st.index}: {st.modality}\n{st.framerate:g} /s{book}", fontsize=8)


def plot(rec, out, title=None):
    """Token raster per stream over running time, classifications as coloured
    bars with labels, annotations as dashed lines, gaps hatched."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    streams = [rec.streams[s] for s in sorted(rec.streams)]
    if not streams:
        raise SystemExit("the recording holds no stream")
    heights = [min(max(len(st.channels), 2), 12) for st in streams]
    fig, axes = plt.subplots(len(streams), 1, sharex=True, squeeze=False,
                             figsize=(11, 1.2 + 0.35 * sum(heights)),
                             gridspec_kw={"height_ratios": heights})
    cmap = plt.get_cmap("turbo")
    for ax, st in zip(axes[:, 0], streams):
        _draw_stream(ax, st, cmap)
    axes[-1, 0].set_xlabel("running time (s)")
    axes[0, 0].set_title(title or f"tokensink recording, start {rec.header['start-utc']}",
                         fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summary", help="print what the recording holds")
    p.add_argument("file")
    p = sub.add_parser("export", help="write one stream's arrays to .npz")
    p.add_argument("file")
    p.add_argument("--stream", type=int, required=True, help="stream number (pad sink_N)")
    p.add_argument("--out", required=True, help="output .npz path")
    p = sub.add_parser("plot", help="draw a token raster per stream")
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
        export(rec, args.stream, args.out)
    else:
        plot(rec, args.out, args.title)


if __name__ == "__main__":
    main()
