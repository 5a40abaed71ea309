# SPDX-License-Identifier: LGPL-2.1-or-later
"""Small EDF files for the batch tests, so they need no shared recordings.

write_edf() writes a plain EDF (16-bit, 1 s data records) of EEG-like noise
with an alpha rhythm; the content depends only on the seed."""
import numpy as np


def _field(text, width):
    return text.encode("ascii")[:width].ljust(width)


def write_edf(path, labels, rate=200, seconds=30, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(rate * seconds) / rate
    signals = [20 * rng.standard_normal(t.size) + 30 * np.sin(2 * np.pi * (9 + k) * t)
               for k in range(len(labels))]
    n = len(labels)
    header = (_field("0", 8) + _field("X X X X", 80) + _field("Startdate 01-JAN-2020 X X X", 80) +
              _field("01.01.20", 8) + _field("00.00.00", 8) + _field(str(256 * (n + 1)), 8) +
              _field("", 44) + _field(str(seconds), 8) + _field("1", 8) + _field(str(n), 4))
    columns = [("label", 16, labels), ("transducer", 80, [""] * n), ("unit", 8, ["uV"] * n),
               ("physical min", 8, ["-3000"] * n), ("physical max", 8, ["3000"] * n),
               ("digital min", 8, ["-32768"] * n), ("digital max", 8, ["32767"] * n),
               ("prefilter", 80, [""] * n), ("samples", 8, [str(rate)] * n), ("reserved", 32, [""] * n)]
    for _, width, values in columns:
        header += b"".join(_field(v, width) for v in values)
    digital = np.clip(np.round(np.array(signals) * 32767.5 / 3000 - 0.5), -32768, 32767).astype("<i2")
    records = digital.reshape(n, seconds, rate).transpose(1, 0, 2)   # record, signal, sample
    with open(path, "wb") as f:
        f.write(header)
        f.write(records.tobytes())
