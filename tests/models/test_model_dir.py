"""neuro::default_model_dir(): $NEUROTOKENS_MODEL_DIR wins; without it the
source tree's models/ of this build (it exists here).

usage: test_model_dir.py MODEL_PROBE SOURCE_MODELS_DIR"""

import os
import subprocess
import sys


def model_dir(probe, env):
    return subprocess.run([probe, "model-dir"], check=True, capture_output=True, text=True, env=env).stdout.strip()


def main(probe, source_models):
    env = dict(os.environ, NEUROTOKENS_MODEL_DIR="/somewhere/else")
    assert model_dir(probe, env) == "/somewhere/else"
    env.pop("NEUROTOKENS_MODEL_DIR")
    got = model_dir(probe, env)
    assert os.path.samefile(got, source_models), (got, source_models)
    env["NEUROTOKENS_MODEL_DIR"] = ""
    assert os.path.samefile(model_dir(probe, env), source_models), "an empty variable must count as unset"
    print("OK:", got)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
