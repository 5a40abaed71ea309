#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Token windows from neurotokens HDF5 files (tokensink format=hdf5,
neurotokens-batch) as a PyTorch Dataset, for pre-training on a corpus.

    import glob, torch
    from torch_dataset import TokenWindows
    ds = TokenWindows(sorted(glob.glob("tokens/*.h5")), window=38, stride=19)
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=4)
    for batch in loader:
        batch["tokens"]   # int64 (batch, 38, channels); "no token" is ds.pad_id
        batch["valid"]    # bool, False where there was no token
        batch["pts"]      # int64 ns, running time of each window's first frame

With per_channel=True every channel is its own sequence (batch, window), as
models that tokenize each channel on its own are trained. Only the index
(file, stream, start) lives in memory; windows are read from the files on
demand, each DataLoader worker opening its own handles.
"""
import os

import h5py
import numpy as np
import torch


class TokenWindows(torch.utils.data.Dataset):
    def __init__(self, paths, window, stride=None, streams=None, per_channel=False):
        """paths: HDF5 files; window, stride: in token frames (stride defaults
        to window: no overlap); streams: group names to use (default all)."""
        if window < 1 or (stride is not None and stride < 1):
            raise ValueError("window and stride must be at least 1")
        self.paths = list(paths)
        self.window = window
        self.stride = stride or window
        self.per_channel = per_channel
        self.vocabulary = 0
        index = []          # (file, stream group, first frame, channel or -1)
        for f_idx, path in enumerate(self.paths):
            with h5py.File(path, "r") as f:
                for name in sorted(streams or [k for k in f if k.startswith("stream")]):
                    g = f[name]
                    self.vocabulary = max(self.vocabulary, int(g.attrs["vocabulary"]))
                    frames, channels = g["tokens"].shape[:2]
                    for start in range(0, frames - window + 1, self.stride):
                        for c in (range(channels) if per_channel else [-1]):
                            index.append((f_idx, name, start, c))
        self.index = index
        self.pad_id = self.vocabulary        # one id past the codes stands for "no token"
        self._files = {}
        self._pid = None

    def __len__(self):
        return len(self.index)

    def _file(self, f_idx):
        # h5py handles do not survive fork: each DataLoader worker opens its own.
        if self._pid != os.getpid():
            self._files, self._pid = {}, os.getpid()
        if f_idx not in self._files:
            self._files[f_idx] = h5py.File(self.paths[f_idx], "r")
        return self._files[f_idx]

    def __getitem__(self, i):
        f_idx, name, start, channel = self.index[i]
        g = self._file(f_idx)[name]
        ds = g["tokens"]
        rows = ds[start:start + self.window] if channel < 0 else ds[start:start + self.window, channel]
        valid = rows != ds.fillvalue
        tokens = np.where(valid, rows, self.pad_id).astype(np.int64)
        return {"tokens": torch.from_numpy(tokens), "valid": torch.from_numpy(valid),
                "pts": int(g["pts"][start])}


if __name__ == "__main__":
    import sys
    ds = TokenWindows(sys.argv[1:], window=38)
    print(f"{len(ds)} windows of 38 frames from {len(ds.paths)} files, vocabulary {ds.vocabulary}")
    if len(ds):
        print(ds[0]["tokens"][:4])
