#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""neurotokens-batch: tokenize a corpus of EEG recordings into HDF5 token
datasets, on one machine or as a Slurm job array (docs/batch.md).

  neurotokens-batch plan PATH... -o plan.jsonl
  neurotokens-batch run plan.jsonl --out DIR [--shard I/N] [--workers W] [pipeline options]
  neurotokens-batch submit plan.jsonl --out DIR --tasks N [pipeline options] [-- sbatch options]
  neurotokens-batch verify DIR

Every recording goes through the suite's own elements, one pipeline each:
eegsrc ! stft ! tfmtokenize [! lbmclassify] ! tokensink format=hdf5, run
in worker processes (a crash takes one recording, not the run).
"""
import argparse
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

EXTENSIONS = (".edf", ".bdf")
PLAN_NAME = "plan.jsonl"
FAILED_NAME = "failed.jsonl"
# Pipeline options passed through to the elements: (option, element, property).
PIPELINE_OPTIONS = (("rate", "src", "rate"), ("channels", "src", "channels"), ("montage", "src", "montage"),
                    ("model", "tok", "model"), ("modality", "tok", "modality"),
                    ("threads", "tok", "threads"), ("classifier", "cls", "model"))
EXIT_FATAL = 2           # the task cannot go on (disk full, output not writable)
EXIT_TERMINATED = 143    # SIGTERM (scancel, kill)


class BatchError(Exception):
    pass


def load_gst():
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    return Gst


def load_glib():
    from gi.repository import GLib
    return GLib


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sniff_format(path):
    """EDF, EDF+, BDF or BDF+ from the fixed header; a cheap check before eegsrc opens the file."""
    with open(path, "rb") as f:
        head = f.read(256)
    if len(head) < 256:
        raise BatchError("too short for an EDF/BDF header (256 bytes)")
    if head[:8] == b"0       ":
        base = "EDF"
    elif head[:8] == b"\xffBIOSEMI":
        base = "BDF"
    else:
        raise BatchError("not an EDF or BDF file (no EDF/BDF version field)")
    return base + "+" if head[192:196] in (b"EDF+", b"BDF+") else base


# ---- plan -------------------------------------------------------------------

def expand(paths):
    """Files as given; directories searched recursively for .edf/.bdf, sorted."""
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    if name.lower().endswith(EXTENSIONS):
                        yield os.path.join(root, name)
        else:
            yield p


def bus_error(Gst, pipeline, timeout_s):
    """The first error message on the bus within the timeout, or None."""
    msg = pipeline.get_bus().timed_pop_filtered(int(timeout_s * Gst.SECOND), Gst.MessageType.ERROR)
    return msg.parse_error()[0].message if msg else None


def probe(Gst, path):
    """(duration s, channels, rate) as eegsrc reads the file, or BatchError with its message."""
    pipeline = Gst.parse_launch("eegsrc name=src ! fakesink name=sink")
    pipeline.get_by_name("src").set_property("location", path)
    try:
        if pipeline.set_state(Gst.State.PAUSED) == Gst.StateChangeReturn.FAILURE or \
                pipeline.get_state(30 * Gst.SECOND)[0] != Gst.StateChangeReturn.SUCCESS:
            raise BatchError(bus_error(Gst, pipeline, 1) or "eegsrc could not open the file")
        caps = pipeline.get_by_name("sink").get_static_pad("sink").get_current_caps()
        s = caps.get_structure(0)
        ok, duration = pipeline.query_duration(Gst.Format.TIME)
        return (duration / Gst.SECOND if ok else None, s.get_value("channels"), s.get_value("rate"))
    finally:
        pipeline.set_state(Gst.State.NULL)


def plan_entry(Gst, path):
    entry = {"path": os.path.abspath(path)}
    try:
        entry["size"] = os.path.getsize(path)
        entry["sha256"] = sha256_of(path)
        entry["format"] = sniff_format(path)
        entry["duration"], entry["channels"], entry["rate"] = probe(Gst, path)
    except (OSError, BatchError) as e:
        entry["error"] = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return entry


def cmd_plan(args):
    Gst = load_gst()
    entries = [plan_entry(Gst, p) for p in expand(args.paths)]
    if not entries:
        raise BatchError("no recordings (.edf, .bdf) under " + ", ".join(args.paths))
    write_atomically(args.output, "".join(json.dumps(e) + "\n" for e in entries))
    bad = [e for e in entries if "error" in e]
    hours = sum(e.get("duration") or 0 for e in entries) / 3600
    print(f"{len(entries)} recordings, {hours:.2f} h; {len(bad)} unreadable", file=sys.stderr)
    for e in bad:
        print(f"  unreadable: {e['path']}: {e['error']}", file=sys.stderr)


# ---- the plan, as every command reads it ------------------------------------

def write_atomically(path, text):
    tmp = f"{path}.tmp-{socket.gethostname()}-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_plan(path):
    entries = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except ValueError as e:
                    raise BatchError(f"{path}:{n}: not a plan line ({e})")
    return entries


def output_names(entries):
    """DIR-relative output name of every entry: <stem>.h5, plus a suffix made
    from the path when stems collide, so names never depend on shards or order."""
    stems = {}
    for e in entries:
        stems.setdefault(os.path.splitext(os.path.basename(e["path"]))[0], []).append(e["path"])
    names = []
    for e in entries:
        stem = os.path.splitext(os.path.basename(e["path"]))[0]
        if len(set(stems[stem])) > 1:
            stem += "-" + hashlib.sha256(e["path"].encode()).hexdigest()[:8]
        names.append(stem + ".h5")
    return names


def assign_shards(entries, count):
    """Shard of every entry: largest recordings first, each to the least loaded
    shard (ties to the lowest number). Depends only on the plan."""
    load = [0] * count
    shard = [0] * len(entries)
    order = sorted(range(len(entries)), key=lambda i: (-(entries[i].get("size") or 0), i))
    for i in order:
        s = min(range(count), key=lambda k: (load[k], k))
        shard[i] = s
        load[s] += entries[i].get("size") or 1
    return shard


def parse_shard(text):
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise BatchError(f"--shard {text}: expected I/N, e.g. 0/4")
    if n < 1 or not 0 <= i < n:
        raise BatchError(f"--shard {text}: needs 0 <= I < N")
    return i, n


def shard_from_environment():
    """Task I of a Slurm job array of N tasks runs shard I/N."""
    task, count = os.environ.get("SLURM_ARRAY_TASK_ID"), os.environ.get("SLURM_ARRAY_TASK_COUNT")
    if task is None or count is None:
        return 0, 1
    first = int(os.environ.get("SLURM_ARRAY_TASK_MIN", "0"))
    return parse_shard(f"{int(task) - first}/{count}")


def output_source_hash(path):
    """source-sha256 of a finished output; None when absent or unreadable."""
    if not os.path.exists(path):
        return None
    import h5py
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("source-sha256")
    except (OSError, KeyError):
        return None


class FailedLog:
    """DIR/failed.jsonl, appended under a lock: shards of one run share it."""

    def __init__(self, out, shard):
        self.path = os.path.join(out, FAILED_NAME)
        self.shard = shard

    def add(self, entry, output, error, stage, debug=None):
        record = {"path": entry["path"], "sha256": entry.get("sha256"), "output": output,
                  "stage": stage, "error": error, "shard": "%d/%d" % self.shard,
                  "host": socket.gethostname(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if debug:
            record["debug"] = debug
        with open(self.path, "a") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)
            f.write(json.dumps(record) + "\n")
            f.flush()
            fcntl.lockf(f, fcntl.LOCK_UN)


# ---- one recording (in a worker process) ------------------------------------

TERMINATED = False


def build_pipeline(Gst, task):
    cls = " ! lbmclassify name=cls" if task["options"].get("classifier") else ""
    pipeline = Gst.parse_launch("eegsrc name=src ! stft ! tfmtokenize name=tok" + cls +
                                " ! tokensink name=sink format=hdf5")
    for option, element, prop in PIPELINE_OPTIONS:
        value = task["options"].get(option)
        if value is not None:
            pipeline.get_by_name(element).set_property(prop, value)
    pipeline.get_by_name("src").set_property("location", task["path"])
    sink = pipeline.get_by_name("sink")
    sink.set_property("location", task["output"])
    sink.set_property("overwrite", task["overwrite"])
    return pipeline


def from_element(obj, element):
    """True when obj is element or inside it (tokensink is a bin)."""
    while obj is not None:
        if obj == element:
            return True
        obj = obj.get_parent()
    return False


def tokenize(Gst, task):
    """Runs one pipeline to EOS; returns the result the parent logs."""
    GLib = load_glib()
    start = time.monotonic()
    try:
        pipeline = build_pipeline(Gst, task)
    except Exception as e:  # a bad option value: GLib.Error or TypeError
        return {"ok": False, "fatal": True, "error": f"pipeline options: {e}"}
    bus = pipeline.get_bus()
    result = None
    pipeline.set_state(Gst.State.PLAYING)
    while result is None:
        if TERMINATED:
            result = {"ok": False, "fatal": True, "error": "terminated"}
            break
        msg = bus.timed_pop_filtered(100 * Gst.MSECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if msg is None:
            continue
        if msg.type == Gst.MessageType.EOS:
            result = {"ok": True}
        else:
            err, debug = msg.parse_error()
            element = msg.src.get_path_string()
            # Input problems fail the recording; output problems (tokensink's) fail the task.
            fatal = from_element(msg.src, pipeline.get_by_name("sink")) and \
                err.domain == GLib.quark_to_string(Gst.resource_error_quark())
            result = {"ok": False, "fatal": fatal, "error": err.message, "debug": debug,
                      "element": element}
    pipeline.set_state(Gst.State.NULL)   # an unfinished output's .part is removed here
    result["seconds"] = time.monotonic() - start
    return result


def worker_main():
    """Reads one task per line on stdin, answers one result per line on stdout."""
    Gst = load_gst()
    busy = [False]

    def on_term(*_):
        global TERMINATED
        TERMINATED = True
        if not busy[0]:
            raise SystemExit(EXIT_TERMINATED)
    signal.signal(signal.SIGTERM, on_term)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)   # anything a library prints goes to stderr, not into the answers
    for line in sys.stdin:
        busy[0] = True
        result = tokenize(Gst, json.loads(line))
        busy[0] = False
        out.write(json.dumps(result) + "\n")
        out.flush()
        if TERMINATED:
            raise SystemExit(EXIT_TERMINATED)


class Worker:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.job = None

    def send(self, job):
        self.job = job
        self.proc.stdin.write(json.dumps(job["task"]) + "\n")
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        if line:
            return json.loads(line)
        rc = self.proc.wait()
        how = f"signal {-rc} ({signal.Signals(-rc).name})" if rc < 0 else f"exit status {rc}"
        return {"ok": False, "fatal": False, "error": f"the tokenizer process died: {how}"}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.terminate()


# ---- run ----------------------------------------------------------------------

class Progress:
    """A bar on a terminal, one plain line per recording otherwise."""

    def __init__(self, jobs, shard):
        self.total = len(jobs)
        self.total_s = sum(j["entry"].get("duration") or 0 for j in jobs) or 1
        self.done = self.done_s = 0
        self.start = time.monotonic()
        self.shard = shard
        self.tty = sys.stderr.isatty()

    def update(self, job, status):
        self.done += 1
        self.done_s += job["entry"].get("duration") or 0
        elapsed = time.monotonic() - self.start
        if not self.tty:
            print(f"[{self.done}/{self.total}] {status}: {job['entry']['path']} -> {job['task']['output']}"
                  f" ({elapsed:.1f} s)", file=sys.stderr, flush=True)
            return
        frac = self.done_s / self.total_s
        eta = elapsed / frac - elapsed if frac > 0 else 0
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        print(f"\rshard {self.shard[0]}/{self.shard[1]} [{bar}] {self.done}/{self.total} recordings, "
              f"{self.done_s / 3600:.2f}/{self.total_s / 3600:.2f} h, ETA {eta:.0f} s  ",
              end="" if self.done < self.total else "\n", file=sys.stderr, flush=True)
        if status != "done" and status != "skipped":
            print(f"\n{status}: {job['entry']['path']}", file=sys.stderr, flush=True)


def pipeline_options(args):
    return {option: getattr(args, option) for option, _, _ in PIPELINE_OPTIONS
            if getattr(args, option) is not None}


def copy_plan(plan_path, out):
    """The plan lives in DIR, for verify and for tasks on other machines."""
    text = open(plan_path).read()
    target = os.path.join(out, PLAN_NAME)
    if os.path.abspath(plan_path) == os.path.abspath(target):
        return target
    if not os.path.exists(target) or open(target).read() != text:
        write_atomically(target, text)
    return target


def jobs_of_shard(entries, names, out, shard, options, failed):
    """The recordings of this shard still to do (others are logged or skipped)."""
    owner = assign_shards(entries, shard[1])
    jobs, skipped = [], 0
    for i, entry in enumerate(entries):
        if owner[i] != shard[0]:
            continue
        output = os.path.join(out, names[i])
        if "error" in entry:
            failed.add(entry, output, entry["error"], "plan")
            continue
        existing = output_source_hash(output)
        if existing == entry["sha256"]:
            skipped += 1
            continue
        jobs.append({"entry": entry, "task": {"path": entry["path"], "output": output,
                                             "overwrite": os.path.exists(output), "options": options}})
    return jobs, skipped


def run_jobs(jobs, workers, progress, failed):
    """Runs jobs on up to `workers` processes; returns (done, failed, fatal error or None)."""
    pending = list(jobs)
    pool = [Worker() for _ in range(min(workers, len(jobs)))]
    done = n_failed = 0
    fatal = None
    try:
        while True:
            for w in pool:
                if w.job is None and pending and fatal is None:
                    w.send(pending.pop(0))
            busy = [w for w in pool if w.job is not None]
            if not busy:
                break
            ready, _, _ = select.select([w.proc.stdout for w in busy], [], [])
            for w in busy:
                if w.proc.stdout not in ready:
                    continue
                job, result = w.job, w.receive()
                w.job = None
                if result["ok"]:
                    done += 1
                    progress.update(job, "done")
                    continue
                if w.proc.poll() is not None:       # died: a fresh one takes the next recording
                    pool[pool.index(w)] = Worker()
                if result.get("fatal"):
                    fatal = fatal or f"{job['task']['output']}: {result['error']}"
                    progress.update(job, "STOPPED")
                    continue
                n_failed += 1
                failed.add(job["entry"], job["task"]["output"], result["error"], "run",
                           result.get("debug"))
                progress.update(job, "FAILED (" + result["error"] + ")")
    finally:
        for w in pool:
            w.stop()
        for w in pool:
            try:
                w.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.proc.kill()
    return done, n_failed, fatal


def cmd_run(args):
    shard = parse_shard(args.shard) if args.shard else shard_from_environment()
    os.makedirs(args.out, exist_ok=True)
    entries = load_plan(args.plan)
    copy_plan(args.plan, args.out)
    failed = FailedLog(args.out, shard)
    jobs, skipped = jobs_of_shard(entries, output_names(entries), args.out, shard,
                                  pipeline_options(args), failed)
    progress = Progress(jobs, shard)
    t0 = time.monotonic()
    done, n_failed, fatal = run_jobs(jobs, args.workers, progress, failed)
    wall = time.monotonic() - t0
    seconds = sum(j["entry"].get("duration") or 0 for j in jobs)
    print(f"shard {shard[0]}/{shard[1]}: {done} tokenized, {skipped} already done, {n_failed} failed"
          f" (see {failed.path})" if n_failed else
          f"shard {shard[0]}/{shard[1]}: {done} tokenized, {skipped} already done, 0 failed",
          file=sys.stderr)
    if args.stats:
        write_atomically(args.stats, json.dumps({"recordings": done, "failed": n_failed, "wall_s": wall,
                                                 "recording_s": seconds, "workers": args.workers}) + "\n")
    if fatal:
        print(f"neurotokens-batch: stopped: {fatal}", file=sys.stderr)
        return EXIT_FATAL
    return 0


# ---- submit ---------------------------------------------------------------------

def sbatch_script(plan, out, tasks, options):
    tool = os.path.abspath(__file__)
    passed = " ".join(f"--{o} {shell_quote(str(v))}" for o, v in options.items())
    return f"""#!/bin/bash
#SBATCH --job-name=neurotokens-batch
#SBATCH --array=0-{tasks - 1}
#SBATCH --output={out}/logs/slurm-%A_%a.out
# Task I runs shard I/{tasks}; one worker per CPU given to the task.
exec {sys.executable} {shell_quote(tool)} run {shell_quote(plan)} --out {shell_quote(out)} \\
    --shard "$SLURM_ARRAY_TASK_ID/{tasks}" --workers "${{SLURM_CPUS_PER_TASK:-1}}" {passed}
"""


def shell_quote(s):
    import shlex
    return shlex.quote(s)


def cmd_submit(args):
    if args.tasks < 1:
        raise BatchError("--tasks needs at least 1")
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    plan = copy_plan(args.plan, out)
    script = os.path.join(out, "neurotokens-batch.sbatch")
    write_atomically(script, sbatch_script(plan, out, args.tasks, pipeline_options(args)))
    cmd = ["sbatch", "--parsable", *args.sbatch, script]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise BatchError(f"sbatch failed ({' '.join(cmd)}): {p.stderr.strip()}")
    job = p.stdout.strip().split(";")[0]
    print(job)
    print(f"submitted job array {job} ({args.tasks} tasks), script {script}", file=sys.stderr)


# ---- verify ---------------------------------------------------------------------

def check_output(path, entry):
    """Problems of one output (empty when it is complete and matches the plan)."""
    import h5py
    import numpy as np
    problems = []
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        return [f"unreadable: {e}"]
    with f:
        if f.attrs.get("format") != "neurotokens-hdf5":
            problems.append("not a neurotokens HDF5 file")
        if f.attrs.get("source-sha256") != entry["sha256"]:
            problems.append(f"source-sha256 {f.attrs.get('source-sha256')} != plan {entry['sha256']}")
        streams = [k for k in f if k.startswith("stream")]
        if not streams:
            problems.append("no stream")
        for name in streams:
            g = f[name]
            n = [g[k].shape[0] for k in ("tokens", "pts", "duration")]
            if len(set(n)) != 1:
                problems.append(f"{name}: tokens/pts/duration lengths {n} differ")
                continue
            if n[0] == 0:
                continue
            end = (int(g["pts"][-1]) + int(g["duration"][-1])) / 1e9
            if entry.get("duration") and end > entry["duration"] + 1e-6:
                problems.append(f"{name}: tokens end at {end:.3f} s, after the recording's "
                                f"{entry['duration']:.3f} s")
            # overlapping windows repeat frame times, window by window
            if "window" not in g and np.any(np.diff(g["pts"][()]) < 0):
                problems.append(f"{name}: pts not increasing")
            if "classifications" in g:
                c = g["classifications"]
                if len({c[k].shape[0] for k in ("pts", "duration", "class", "probabilities")}) != 1:
                    problems.append(f"{name}: classification tables of different lengths")
    return problems


def cmd_verify(args):
    plan_path = os.path.join(args.dir, PLAN_NAME)
    if not os.path.exists(plan_path):
        raise BatchError(f"{plan_path} not found: verify needs a directory written by run or submit")
    entries = load_plan(plan_path)
    names = output_names(entries)
    ok = missing = bad = unreadable = 0
    for entry, name in zip(entries, names):
        path = os.path.join(args.dir, name)
        if "error" in entry:
            unreadable += 1
            print(f"unreadable in the plan: {entry['path']}: {entry['error']}")
            continue
        if not os.path.exists(path):
            missing += 1
            print(f"missing: {name} ({entry['path']})")
            continue
        problems = check_output(path, entry)
        if problems:
            bad += 1
            print(f"bad: {name}: " + "; ".join(problems))
        else:
            ok += 1
    parts = sorted(n for n in os.listdir(args.dir) if n.endswith(".h5.part"))
    if parts:
        print(f"note: {len(parts)} unfinished .part files (killed tasks), ignored: {', '.join(parts)}")
    print(f"{ok} complete, {missing} missing, {bad} bad, {unreadable} unreadable in the plan")
    return 0 if missing == 0 and bad == 0 else 1


# ---- command line -------------------------------------------------------------

def add_pipeline_options(p):
    g = p.add_argument_group("pipeline options (passed to the elements)")
    g.add_argument("--rate", type=int,
                   help="eegsrc rate: output sample rate in Hz (default: the rate the tokenizer model asks for)")
    g.add_argument("--channels", help="eegsrc channels: comma list of labels to keep, in that order")
    g.add_argument("--montage", help="eegsrc montage: comma list of A-B bipolar derivations")
    g.add_argument("--model", help="tfmtokenize model: tokenizer .safetensors (default: shipped)")
    g.add_argument("--modality", help="tfmtokenize modality of the shipped model (eeg)")
    g.add_argument("--threads", type=int, default=1,
                   help="tfmtokenize threads per worker (default 1: parallelism comes from workers)")
    g.add_argument("--classifier", help="add lbmclassify with this model (.safetensors)")


def default_workers():
    cpus = os.environ.get("SLURM_CPUS_PER_TASK")
    return int(cpus) if cpus else len(os.sched_getaffinity(0))


def parser():
    p = argparse.ArgumentParser(prog="neurotokens-batch", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    q = sub.add_parser("plan", help="list recordings with size, SHA-256, format, duration, channels, rate")
    q.add_argument("paths", nargs="+", metavar="PATH", help="recordings or folders (searched for .edf/.bdf)")
    q.add_argument("-o", "--output", required=True, help="plan file to write (JSON Lines)")
    q = sub.add_parser("run", help="tokenize the recordings of one shard into DIR/<stem>.h5")
    q.add_argument("plan")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--shard", metavar="I/N",
                   help="this shard (default $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT, else 0/1)")
    q.add_argument("--workers", type=int, default=default_workers(),
                   help="pipelines at a time (default: the CPUs given to this process)")
    q.add_argument("--stats", metavar="FILE", help="write wall time and recording seconds (JSON)")
    add_pipeline_options(q)
    q = sub.add_parser("submit", help="write and submit a Slurm job array whose task I runs shard I/N")
    q.add_argument("plan")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--tasks", type=int, required=True, metavar="N")
    add_pipeline_options(q)
    q = sub.add_parser("verify", help="exit 0 when every planned recording is complete in DIR")
    q.add_argument("dir", metavar="DIR")
    return p


def main(argv):
    if argv[:1] == ["_worker"]:
        worker_main()
        return 0
    sbatch = []
    if "--" in argv:
        sbatch = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = parser().parse_args(argv)
    args.sbatch = sbatch
    if sbatch and args.command != "submit":
        raise BatchError("options after -- are for sbatch (submit only)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(EXIT_TERMINATED))
    return {"plan": cmd_plan, "run": cmd_run, "submit": cmd_submit, "verify": cmd_verify}[args.command](args) or 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BatchError as e:
        print(f"neurotokens-batch: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
