#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/examples/torch_dataset.py on HDF5 files written by tokensink: the
windows hold exactly the recorded tokens ("no token" as the pad id), the
index counts every window, per-channel sequences, a DataLoader with worker
processes gives the same batches."""
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "tokensink"))
sys.path.insert(0, os.path.join(SOURCE, "docs", "examples"))
import token_streams as ts  # noqa: E402
from torch_dataset import TokenWindows  # noqa: E402

NO_TOKEN = 0xFFFFFFFF


class Gappy(ts.Source):
    def token(self, frame, channel, book=0):
        return NO_TOKEN if (frame + 2 * channel) % 11 == 0 else super().token(frame, channel, book)


def record(path, frames):
    """One EEG-like stream of 3 channels, vocabulary 512, frames token frames."""
    src = Gappy("eeg", 2, channels=3, frames_per_buffer=1, vocabulary=512)
    ts.record_offline(path, [src], [frames], format="hdf5")
    src.stream = 0
    return np.array([[src.token(f, c) for c in range(3)] for f in range(frames)], np.int64)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, "a.h5"), os.path.join(tmp, "b.h5")]
        want = [record(paths[0], 50), record(paths[1], 23)]
        ds = TokenWindows(paths, window=10, stride=4)
        assert ds.vocabulary == 512 and ds.pad_id == 512
        starts = [range(0, 41, 4), range(0, 14, 4)]
        assert len(ds) == len(starts[0]) + len(starts[1]) == 15, len(ds)
        k = 0
        for f, rng in enumerate(starts):
            for s in rng:
                item = ds[k]
                expect = want[f][s:s + 10].copy()
                gaps = expect == NO_TOKEN
                expect[gaps] = 512
                assert item["tokens"].dtype == torch.int64 and item["tokens"].shape == (10, 3)
                np.testing.assert_array_equal(item["tokens"].numpy(), expect)
                np.testing.assert_array_equal(item["valid"].numpy(), ~gaps)
                assert item["pts"] == s * 500_000_000
                k += 1
        assert (~ds[0]["valid"]).any(), "the test data has no 'no token'"

        per = TokenWindows(paths, window=10, stride=4, per_channel=True)
        assert len(per) == 3 * len(ds)
        np.testing.assert_array_equal(per[4]["tokens"].numpy(), ds[1]["tokens"][:, 1].numpy())

        loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2)
        batches = list(loader)
        assert sum(b["tokens"].shape[0] for b in batches) == len(ds)
        np.testing.assert_array_equal(batches[1]["tokens"][2].numpy(), ds[6]["tokens"].numpy())

        for bad in ({"window": 0}, {"window": 5, "stride": 0}):
            try:
                TokenWindows(paths, **bad)
                raise AssertionError(f"accepted {bad}")
            except ValueError:
                pass
        assert len(TokenWindows(paths, window=51)) == 0
    print("ok")


if __name__ == "__main__":
    main()
