# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seed corpora for the fuzz targets, written at run time (nothing third-party
is committed): small EDF/EDF+/BDF+ files and safetensors files made here, the
first records of the recordings under the shared data folder, the headers of
the shipped models, and caps strings.

usage: make_seeds.py OUT_DIR SOURCE_DIR [SHARED_DIR]
Writes OUT_DIR/edf, OUT_DIR/safetensors and OUT_DIR/caps."""

import glob
import json
import os
import struct
import sys


def field(value, width):
    text = value if isinstance(value, bytes) else str(value).encode("latin-1")
    return text[:width].ljust(width, b" ")


def edf_bytes(signals, records, annotations=(), bdf=False, plus=True, record_s=1):
    """signals: (label, unit, samples_per_record); the EDF+ annotation signal
    is appended when plus. Samples are a ramp."""
    sigs = list(signals)
    tal_bytes = 120
    if plus:
        sigs.append(("BDF Annotations" if bdf else "EDF Annotations", "", tal_bytes // (3 if bdf else 2)))
    ns = len(sigs)
    width = 3 if bdf else 2
    dmin, dmax = (-8388608, 8388607) if bdf else (-32768, 32767)
    head = (b"\xffBIOSEMI" if bdf else b"0       ") + field("X X X X", 80) + field("Startdate X X X X", 80)
    head += field("01.01.20", 8) + field("00.00.00", 8) + field(256 * (ns + 1), 8)
    head += field(("BDF+C" if bdf else "EDF+C") if plus else ("24BIT" if bdf else ""), 44)
    head += field(records, 8) + field(record_s, 8) + field(ns, 4)
    columns = [
        [field(s[0], 16) for s in sigs], [field("", 80) for s in sigs], [field(s[1], 8) for s in sigs],
        [field(-3000 if s[1] else -1, 8) for s in sigs], [field(3000 if s[1] else 1, 8) for s in sigs],
        [field(dmin, 8) for s in sigs], [field(dmax, 8) for s in sigs], [field("", 80) for s in sigs],
        [field(s[2], 8) for s in sigs], [field("", 32) for s in sigs]]
    for col in columns:
        head += b"".join(col)
    body = b""
    for r in range(records):
        for label, unit, spr in sigs:
            if label.endswith("Annotations"):
                tal = b"+%d\x14\x14\x00" % (r * record_s)
                for onset, text in annotations:
                    if r * record_s <= onset < (r + 1) * record_s:
                        tal += b"+%g\x150.5\x14%s\x14\x00" % (onset, text)
                body += tal[:spr * width].ljust(spr * width, b"\x00")
            else:
                for i in range(spr):
                    body += ((i * 97 + r) % 2000 - 1000).to_bytes(width, "little", signed=True)
    return head + body


SIGNAL_FIELDS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)  # widths of the per-signal header fields


def shrunk_recording(path, keep_signals=3):
    """The first data record of an EDF/BDF file with only its first
    `keep_signals` signals and its annotation signals: the real header text
    (labels, transducer and prefilter fields, annotations) in ~2 kB instead of
    tens of kB, which would make every execution several times slower."""
    with open(path, "rb") as f:
        head = f.read(256)
        ns = int(head[252:256])
        sig_head = f.read(256 * ns)
        columns, at = [], 0
        for width in SIGNAL_FIELDS:
            columns.append([sig_head[at + i * width: at + (i + 1) * width] for i in range(ns)])
            at += ns * width
        spr = [int(v) for v in columns[8]]
        width = 3 if head[:1] == b"\xff" else 2
        record = f.read(sum(spr) * width)
    annotation = [i for i in range(ns) if columns[0][i].strip() in (b"EDF Annotations", b"BDF Annotations")]
    keep = [i for i in range(ns) if i not in annotation][:keep_signals] + annotation
    offsets = [sum(spr[:i]) * width for i in range(ns)]
    data = b"".join(record[offsets[i]: offsets[i] + spr[i] * width] for i in keep)
    new_head = head[:184] + field(256 * (len(keep) + 1), 8) + head[192:236] + field(1, 8) + head[244:252]
    new_head += field(len(keep), 4)
    for col in columns:
        new_head += b"".join(col[i] for i in keep)
    return new_head + data


def safetensors_bytes(tensors, metadata):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


# Tensors read_model_info() looks for by name: kept in the model seeds.
NAMED_TENSORS = {"quantizer.embedding.weight", "classification_head.weight"}


def model_header_seed(path, others=3):
    """A shipped model's metadata, its NAMED_TENSORS and its first `others`
    tensors, each shrunk to one element. The full headers (~100 entries, up to
    18 kB of JSON) exercise no more code than a few entries do, and make every
    execution several times slower."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = header.pop("__metadata__", {})
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    keep = [kv for kv in entries if kv[0] in NAMED_TENSORS]
    keep += [kv for kv in entries if kv[0] not in NAMED_TENSORS][:others]
    tensors = [(name, e["dtype"], [1] * len(e["shape"]), b"\x00" * {"F32": 4, "I64": 8}.get(e["dtype"], 4))
               for name, e in keep]
    return safetensors_bytes(tensors, meta)


CAPS = [
    "application/x-spectrogram, rate=(int)200, channels=(int)19, n-fft=(int)200, hop=(int)100, "
    "bins=(int)100, window=(string)hann, scaling=(string)magnitude, waveform=(boolean)true, "
    "framerate=(fraction)2/1",
    "application/x-spectrogram, rate=(int)16000, channels=(int)1, n-fft=(int)400, hop=(int)200, "
    "bins=(int)201, window=(string)hamming, scaling=(string)power, waveform=(boolean)false, "
    "framerate=(fraction)80/1",
    "application/x-tokens, channels=(int)19, vocabulary=(int)8192, codebooks=(int)1, "
    "framerate=(fraction)2/1, modality=(string)eeg, model=(string)tfm-tokenizer-eeg",
    "application/x-tokens, channels=(int)2147483647, vocabulary=(int)8192, framerate=(fraction)1/3",
    "application/x-tokens, channels=(int)[ 1, 64 ], vocabulary=(int)0, framerate=(fraction)0/1",
    # Once accepted, then a framerate of 200/0 from to_structure () (a GLib critical).
    "application/x-spectrogram, rate=(int)200, channels=(int)1, n-fft=(int)4, hop=(int)0, bins=(int)3",
]


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main(out, source, shared):
    edf = os.path.join(out, "edf")
    notes = [(0.25, b"eyes open"), (1.5, b"Tr\xe4ume"), (2.0, "gr\u00fcn".encode())]
    write(edf, "edfplus.edf", edf_bytes([("EEG Fp1", "uV", 100), ("Cz", "uV", 100)], 3, notes))
    write(edf, "bdfplus.bdf", edf_bytes([("Fp1", "uV", 64), ("Resp", "bpm", 8)], 2, notes, bdf=True))
    write(edf, "edf.edf", edf_bytes([("A2-A1", "mV", 50)], 2, plus=False, record_s=2))
    per_folder = {}
    for path in sorted(glob.glob(os.path.join(shared, "data", "eeg", "**", "*.[eEbB][dD][fF]"),
                                 recursive=True)):
        per_folder.setdefault(os.path.dirname(path), []).append(path)
    for path in [p for paths in per_folder.values() for p in paths[:2]]:
        try:
            write(edf, "shared-" + os.path.basename(path), shrunk_recording(path))
        except (ValueError, OSError, IndexError):
            pass
    st = os.path.join(out, "safetensors")
    f32 = struct.pack("<4f", 1, -2, 0.5, 3)
    write(st, "tiny.safetensors", safetensors_bytes(
        [("quantizer.embedding.weight", "F32", [2, 2], f32), ("index", "I64", [2], struct.pack("<2q", 0, 1)),
         ("h", "F16", [2], b"\x00\x3c\x00\xc0"), ("b", "BF16", [1], b"\x80\x3f")],
        {"architecture": "tfm-tokenizer", "vocabulary": "2", "window-samples": "400", "n-fft": "200"}))
    for path in sorted(glob.glob(os.path.join(source, "models", "*.safetensors"))):
        write(st, os.path.basename(path), model_header_seed(path))
    for i, caps in enumerate(CAPS):
        write(os.path.join(out, "caps"), "caps-%d.txt" % i, caps)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else os.path.join(sys.argv[2], "..", "shared"))
