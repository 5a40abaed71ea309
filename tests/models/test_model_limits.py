# SPDX-License-Identifier: LGPL-2.1-or-later
"""A model whose metadata asks for an absurd size is refused when it is loaded,
with a GStreamer error that names the value and the limit, instead of the host
process aborting on an allocation (issue: window-samples=2000000000 used to
end in std::bad_alloc inside the window cutter).

usage: test_model_limits.py MODEL_DIR CASE   (CASE: window_samples_n, vocabulary_n)"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfm_reference as ref  # noqa: E402

CASES = {
    "window_samples_n": ("window-samples", "2000000000", "exceeds the limit of 4194304"),
    "vocabulary_n": ("vocabulary", "2147483647", "exceeds the limit of 16777216"),
}


def main(model_dir, case):
    key, value, expected = CASES[case]
    tensors, meta = ref.read_safetensors(os.path.join(model_dir, "tfm-tokenizer-eeg.safetensors"))
    meta[key] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "absurd.safetensors")
        ref.write_safetensors(path, list(tensors.items()), meta)
        run = subprocess.run(["gst-launch-1.0", "eegsrc", "num-buffers=12", "samplesperbuffer=200", "!",
                              "stft", "!", "tfmtokenize", "model=" + path, "!", "fakesink"],
                             capture_output=True, timeout=120)
    err = run.stdout.decode("utf-8") + run.stderr.decode("utf-8")
    print(err)
    assert run.returncode != 0 and "ERROR: from element" in err, "not refused with an error"
    assert "tfmtokenize" in err and "'%s' = '%s' %s" % (key, value, expected) in err, "message lacks value/limit"


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
