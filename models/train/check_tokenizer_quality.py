#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads tfm-train's stdout log and fails unless the trained tokenizer's
held-out spectrum NMSE beats both the untrained architecture and the
mean-spectrum predictor. Used by the reproduce-tfm-tokenizer-*.sh scripts."""
import json
import sys

lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
q = [l for l in lines if "nmse" in l][-1]
ok = q["nmse"] < q["nmse-untrained"] and q["nmse"] < q["nmse-mean-spectrum"]
print("held-out windows %d: NMSE %.4f (untrained %.4f, mean spectrum %.4f), codes used %d, perplexity %.1f: %s"
      % (q["eval-windows"], q["nmse"], q["nmse-untrained"], q["nmse-mean-spectrum"], q["codes-used"],
         q["perplexity"], "OK" if ok else "WORSE THAN A BASELINE"))
sys.exit(0 if ok else 1)
