# SPDX-License-Identifier: LGPL-2.1-or-later
"""neuro::default_model_dir(): $NEUROTOKENS_MODEL_DIR wins; without it (or
with it empty) the folder `meson install` puts the models in, even when run
from the build tree (which finds the source tree's models/ only through the
variable, as meson devenv and the tests set it).

usage: test_model_dir.py MODEL_PROBE INSTALLED_MODELS_DIR"""

import os
import subprocess
import sys


def model_dir(probe, env):
    return subprocess.run([probe, "model-dir"], check=True, capture_output=True, text=True, env=env).stdout.strip()


def main(probe, installed_models):
    env = dict(os.environ, NEUROTOKENS_MODEL_DIR="/somewhere/else")
    assert model_dir(probe, env) == "/somewhere/else"
    env.pop("NEUROTOKENS_MODEL_DIR")
    got = model_dir(probe, env)
    assert got == installed_models, (got, installed_models)
    env["NEUROTOKENS_MODEL_DIR"] = ""
    assert model_dir(probe, env) == installed_models, "an empty variable must count as unset"
    print("OK:", got)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
