#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""neurotokens-batch on a small corpus of generated EDF files: plan fields and
unreadable files, stable output names, shards that cover the plan once,
token bytes independent of shard count, worker count and order, resume,
failures logged (corrupt input, a file changed after planning), verify,
SIGTERM and a full disk leaving nothing half-written, submit's job script."""
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
TOOL = os.path.join(SOURCE, "tools", "neurotokens_batch.py")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(TOOL))
import edf_fixture  # noqa: E402
import neurotokens_batch as nb  # noqa: E402

LABELS = ["Fp1", "Fp2", "C3", "C4"]


def batch(*args, ok=True, env=None, **kw):
    p = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                       env=env, timeout=600, **kw)
    if ok is not None:
        assert (p.returncode == 0) == ok, (args, p.returncode, p.stdout, p.stderr)
    return p


def make_corpus(root):
    os.makedirs(os.path.join(root, "b"))
    edf_fixture.write_edf(os.path.join(root, "a.edf"), LABELS, seconds=25, seed=1)
    edf_fixture.write_edf(os.path.join(root, "b", "a.edf"), LABELS, seconds=12, seed=2)
    edf_fixture.write_edf(os.path.join(root, "c.edf"), LABELS, seconds=21, seed=3)
    edf_fixture.write_edf(os.path.join(root, "d.EDF"), LABELS[:2], seconds=15, seed=4)
    with open(os.path.join(root, "a.edf"), "rb") as f:
        head = f.read(600)
    with open(os.path.join(root, "corrupt.edf"), "wb") as f:
        f.write(head)                      # header cut short, no data records
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not a recording\n")


def tokens_of(path):
    """Everything in an output that must not depend on how the run was split."""
    with h5py.File(path, "r") as f:
        out = {"source-sha256": f.attrs["source-sha256"]}
        for name, g in f.items():
            for key in ("tokens", "pts", "duration"):
                out[f"{name}/{key}"] = g[key][()].tobytes()
            out[f"{name}/attrs"] = {k: str(v) for k, v in g.attrs.items()}
        return out


def outputs(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".h5"))


def failures(d):
    path = os.path.join(d, "failed.jsonl")
    return [json.loads(line) for line in open(path)] if os.path.exists(path) else []


def check_plan(tmp, corpus):
    plan = os.path.join(tmp, "plan.jsonl")
    missing = os.path.join(tmp, "missing.edf")
    p = batch("plan", corpus, missing, os.path.join(corpus, "notes.txt"), "-o", plan)
    assert "3 unreadable" in p.stderr, p.stderr
    entries = nb.load_plan(plan)
    by_name = {os.path.relpath(e["path"], corpus): e for e in entries}
    assert sorted(by_name) == ["../missing.edf", "a.edf", "b/a.edf", "c.edf", "corrupt.edf",
                               "d.EDF", "notes.txt"], sorted(by_name)
    a = by_name["a.edf"]
    assert a["size"] == os.path.getsize(os.path.join(corpus, "a.edf"))
    assert a["sha256"] == hashlib.sha256(open(os.path.join(corpus, "a.edf"), "rb").read()).hexdigest()
    assert (a["format"], a["duration"], a["channels"], a["rate"]) == ("EDF", 25.0, 4, 200), a
    assert by_name["d.EDF"]["channels"] == 2
    assert "No such file" in by_name["../missing.edf"]["error"]
    assert "EDF/BDF header" in by_name["notes.txt"]["error"], by_name["notes.txt"]
    assert "error" in by_name["corrupt.edf"] and by_name["corrupt.edf"]["error"]
    names = dict(zip([e["path"] for e in entries], nb.output_names(entries)))
    a1, a2 = names[os.path.join(corpus, "a.edf")], names[os.path.join(corpus, "b", "a.edf")]
    assert a1 != a2 and a1.startswith("a-") and a2.startswith("a-"), (a1, a2)
    assert names[os.path.join(corpus, "c.edf")] == "c.h5"
    for n in (1, 2, 3, 7):
        shards = nb.assign_shards(entries, n)
        assert sorted(set(shards)) == list(range(min(n, len(entries)))), shards
    return plan, entries


def check_deterministic(tmp, plan):
    ref, split = os.path.join(tmp, "ref"), os.path.join(tmp, "split")
    batch("run", plan, "--out", ref, "--shard", "0/1", "--workers", "1")
    # other shard count, other worker count, the shards in reverse order, the shard from Slurm's variables
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_TASK_COUNT="2")
    batch("run", plan, "--out", split, "--workers", "2", env=env)
    assert 0 < len(outputs(split)) < len(outputs(ref)), (outputs(split), outputs(ref))
    batch("run", plan, "--out", split, "--workers", "2", "--shard", "0/2")
    assert outputs(split) == outputs(ref) and len(outputs(ref)) == 4, outputs(ref)
    for name in outputs(ref):
        assert tokens_of(os.path.join(ref, name)) == tokens_of(os.path.join(split, name)), name
    # unreadable recordings are logged by the shard that owns them, with the plan's reason
    logged = failures(ref)
    assert sorted(os.path.basename(f["path"]) for f in logged) == ["corrupt.edf", "missing.edf", "notes.txt"]
    assert all(f["stage"] == "plan" and f["error"] for f in logged)
    assert len(failures(split)) == 3
    return ref


def check_resume_and_verify(tmp, plan, ref):
    mtimes = {n: os.stat(os.path.join(ref, n)).st_mtime_ns for n in outputs(ref)}
    p = batch("run", plan, "--out", ref, "--workers", "2")
    assert "0 tokenized, 4 already done" in p.stderr, p.stderr
    assert mtimes == {n: os.stat(os.path.join(ref, n)).st_mtime_ns for n in outputs(ref)}
    p = batch("verify", ref)
    assert "4 complete, 0 missing, 0 bad, 3 unreadable in the plan" in p.stdout, p.stdout
    # an output that does not match its source is reported, then redone
    shutil.copy(os.path.join(ref, "c.h5"), os.path.join(ref, "d.h5"))
    p = batch("verify", ref, ok=False)
    assert "bad: d.h5: source-sha256" in p.stdout, p.stdout
    p = batch("run", plan, "--out", ref, "--workers", "1")
    assert "1 tokenized, 3 already done" in p.stderr, p.stderr
    batch("verify", ref)
    os.remove(os.path.join(ref, "c.h5"))
    p = batch("verify", ref, ok=False)
    assert "missing: c.h5" in p.stdout, p.stdout


def check_changed_after_plan_n(tmp, corpus):
    """A recording that breaks between plan and run is logged with eegsrc's error; the rest go on."""
    work = os.path.join(tmp, "changed")
    shutil.copytree(corpus, work)
    plan = os.path.join(tmp, "plan-changed.jsonl")
    batch("plan", os.path.join(work, "a.edf"), os.path.join(work, "c.edf"), "-o", plan)
    with open(os.path.join(work, "c.edf"), "r+b") as f:
        f.truncate(300)
    out = os.path.join(tmp, "out-changed")
    p = batch("run", plan, "--out", out, "--workers", "2")
    assert "1 tokenized, 0 already done, 1 failed" in p.stderr, p.stderr
    assert outputs(out) == ["a.h5"]
    [f] = failures(out)
    assert f["stage"] == "run" and f["path"].endswith("c.edf") and f["output"].endswith("c.h5")
    assert "c.edf" in f["error"] or "c.edf" in f.get("debug", ""), f
    assert not os.path.exists(os.path.join(out, "c.h5.part"))


def complete_outputs_only(d):
    entries = nb.load_plan(os.path.join(d, "plan.jsonl"))
    by_name = dict(zip(nb.output_names(entries), entries))
    for name in outputs(d):
        assert nb.check_output(os.path.join(d, name), by_name[name]) == [], name
    assert not [n for n in os.listdir(d) if n.endswith(".part")], os.listdir(d)


def check_sigterm_n(tmp, plan):
    out = os.path.join(tmp, "term")
    p = subprocess.Popen([sys.executable, TOOL, "run", plan, "--out", out, "--workers", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (os.path.isdir(out) and outputs(out)) and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == nb.EXIT_TERMINATED, (p.returncode, err)
    assert 1 <= len(outputs(out)) < 4, outputs(out)
    complete_outputs_only(out)


def check_full_disk_n(tmp, plan):
    """No space for the outputs: the task stops with the reason and exit 2,
    and every file under a final name is complete."""
    out = os.path.join(tmp, "full")
    os.makedirs(out)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", out], capture_output=True).returncode == 0
    limit = None
    if not mounted:   # no tmpfs for us: a file-size limit fails writes the same way
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (12 * 1024, resource.RLIM_INFINITY))
    try:
        p = batch("run", plan, "--out", out, "--workers", "1", ok=False, preexec_fn=limit)
        assert p.returncode == nb.EXIT_FATAL, (p.returncode, p.stderr)
        reason = "No space left" if mounted else "File too large"
        assert "neurotokens-batch: stopped:" in p.stderr and reason in p.stderr, p.stderr
        complete_outputs_only(out)
        assert len(outputs(out)) < 4
    finally:
        if mounted:
            subprocess.run(["umount", out], check=True)


def check_submit(tmp, plan):
    """submit writes a job array script and hands it to sbatch with the options after --."""
    bindir = os.path.join(tmp, "fakebin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "sbatch"), "w") as f:
        f.write(f"#!/bin/sh\necho \"$@\" > {tmp}/sbatch-args\necho '4242;cluster'\n")
    os.chmod(os.path.join(bindir, "sbatch"), 0o755)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    out = os.path.join(tmp, "submitted")
    p = batch("submit", plan, "--out", out, "--tasks", "3", "--channels", "C3,C4", "--",
              "--cpus-per-task=2", "--partition=x", env=env)
    assert p.stdout.strip() == "4242", p.stdout
    args = open(os.path.join(tmp, "sbatch-args")).read().split()
    script = os.path.join(out, "neurotokens-batch.sbatch")
    assert args == ["--parsable", "--cpus-per-task=2", "--partition=x", script], args
    text = open(script).read()
    assert "#SBATCH --array=0-2" in text and '--shard "$SLURM_ARRAY_TASK_ID/3"' in text, text
    assert "--channels C3,C4" in text and os.path.join(out, "plan.jsonl") in text, text
    assert open(os.path.join(out, "plan.jsonl")).read() == open(plan).read()
    p = batch("submit", plan, "--out", out, "--tasks", "0", ok=False, env=env)
    assert "--tasks needs at least 1" in p.stderr


def main():
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus")
        make_corpus(corpus)
        plan, _ = check_plan(tmp, corpus)
        ref = check_deterministic(tmp, plan)
        check_resume_and_verify(tmp, plan, ref)
        check_changed_after_plan_n(tmp, corpus)
        check_sigterm_n(tmp, plan)
        check_full_disk_n(tmp, plan)
        check_submit(tmp, plan)
    print("ok")


if __name__ == "__main__":
    main()
