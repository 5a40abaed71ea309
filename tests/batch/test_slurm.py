#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""neurotokens-batch on a real Slurm cluster of one node that this test
starts itself (munged with a fresh key, slurmctld, slurmd, all in a
temporary folder, clients pointed at it through SLURM_CONF): a 3-task job
array over the shared EEG recordings, one task cancelled mid-run, the array
resubmitted; the outputs must verify and equal, token for token, a local
single-process run. The daemons are stopped at the end.

Skips (exit 77) without the shared recordings, without the Slurm and munge
programs, or when not run as root (slurmd must be)."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NEUROTOKENS_SOURCE_DIR", os.path.join(HERE, "..", ".."))
TOOL = os.path.join(SOURCE, "tools", "neurotokens_batch.py")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.dirname(TOOL))
import neurotokens_batch as nb  # noqa: E402
import recordings  # noqa: E402
from test_batch import tokens_of  # noqa: E402

TASKS = 3
# Channels every recording of the corpus has: the test is about the batch
# machinery, and five channels keep it fast.
CHANNELS = "C3,Cz,C4,O1,O2"
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout_s, step_s=0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class Cluster:
    """munged + slurmctld + slurmd of one node with 2 CPUs, all under root."""

    def __init__(self, root):
        self.root = root
        self.node = socket.gethostname().split(".")[0]
        self.procs = []
        self.env = dict(os.environ, SLURM_CONF=os.path.join(root, "slurm.conf"))

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def start_munge(self):
        munge = pwd.getpwnam("munge")
        d = self.path("munge")
        os.makedirs(d)
        os.chmod(d, 0o711)       # munged wants its socket reachable by every user
        key = os.path.join(d, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        for p in (d, key):
            os.chown(p, munge.pw_uid, munge.pw_gid)
        self.socket = os.path.join(d, "munge.socket")
        self.spawn("munged", ["runuser", "-u", "munge", "--", "munged", "-F", f"--key-file={key}",
                              f"--socket={self.socket}", f"--pid-file={d}/munged.pid",
                              f"--log-file={d}/munged.log", f"--seed-file={d}/munged.seed"])
        wait_for("the munge socket", lambda: os.path.exists(self.socket), 30)

    def write_config(self):
        for d in ("state", "spool", "logs"):
            os.makedirs(self.path(d))
        conf = f"""ClusterName=neurotokens-test
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={self.path("state")}
SlurmdSpoolDir={self.path("spool")}
SlurmctldPidFile={self.path("slurmctld.pid")}
SlurmdPidFile={self.path("slurmd.pid")}
SlurmctldLogFile={self.path("logs", "slurmctld.log")}
SlurmdLogFile={self.path("logs", "slurmd.log")}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
SchedulerParameters=sched_interval=2
NodeName={self.node} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.env["SLURM_CONF"], "w") as f:
            f.write(conf)

    def spawn(self, name, argv):
        out = open(self.path(f"{name}.out"), "w")
        self.procs.append((name, subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                                  env=self.env)))

    def start(self):
        os.chmod(self.root, 0o755)       # munged, running as munge, must reach its folder
        self.start_munge()
        self.write_config()
        self.spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self.spawn("slurmd", ["slurmd", "-D", "-N", self.node])
        wait_for("the node to be idle", lambda: self.run("sinfo", "-h", "-N", "-o", "%T").strip() == "idle", 90)

    def run(self, *argv, check=False):
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: {p.stderr}")
        return p.stdout

    def job_state(self, job):
        out = self.run("scontrol", "-o", "show", "job", job)
        fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
        return fields.get("JobState"), fields.get("ExitCode")

    def array_running(self, job):
        return self.run("squeue", "-h", "-r", "-j", job, "-o", "%i %T").split("\n")

    def wait_array(self, job, timeout_s):
        wait_for(f"job array {job} to finish", lambda: not self.run("squeue", "-h", "-j", job).strip(),
                 timeout_s, 0.5)

    def stop(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def logs(self):
        for name in ("slurmctld.log", "slurmd.log"):
            path = self.path("logs", name)
            if os.path.exists(path):
                print(f"---- {name} (last lines)")
                print("".join(open(path).readlines()[-30:]))


def batch(env, *args):
    p = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, env=env)
    return p


def submit(cluster, plan, out):
    p = batch(cluster.env, "submit", plan, "--out", out, "--tasks", str(TASKS), "--channels", CHANNELS,
              "--", "--cpus-per-task=1", "--partition=test")
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def cancel_mid_run(cluster, job, shard_outputs, out):
    """Cancels the task with most recordings once it has written the first of them."""
    task = max(range(TASKS), key=lambda t: len(shard_outputs[t]))
    mine = shard_outputs[task]
    wait_for(f"task {task} to write its first output",
             lambda: any(os.path.exists(os.path.join(out, n)) for n in mine), 240, 0.05)
    cluster.run("scancel", f"{job}_{task}", check=True)
    written = [n for n in mine if os.path.exists(os.path.join(out, n))]
    assert len(written) < len(mine), f"task {task} finished before it could be cancelled"
    log(f"cancelled task {task} after {len(written)} of its {len(mine)} recordings")
    return task


def check_outputs_complete(out, entries, names):
    by_name = dict(zip(names, entries))
    for n in os.listdir(out):
        if n.endswith(".h5"):
            assert nb.check_output(os.path.join(out, n), by_name[n]) == [], n


def main():
    data = recordings.data("eeg")
    missing = [p for p in PROGRAMS + ("runuser",) if shutil.which(p) is None]
    if missing:
        recordings.skip(f"not installed: {' '.join(missing)} (Debian: slurm-wlm munge)")
    if os.geteuid() != 0:
        recordings.skip("slurmd and munged need root to start")
    t0 = time.monotonic()
    root = tempfile.mkdtemp(prefix="neurotokens-slurm-")
    cluster = Cluster(root)
    try:
        plan, local, out = (os.path.join(root, n) for n in ("plan.jsonl", "local", "array"))
        p = batch(None, "plan", data, "-o", plan)
        assert p.returncode == 0, p.stderr
        entries = nb.load_plan(plan)
        names = nb.output_names(entries)
        log(f"plan: {len(entries)} recordings")
        cluster.start()
        log(f"cluster up: node {cluster.node}, 2 CPUs")
        p = batch(None, "run", plan, "--out", local, "--shard", "0/1", "--workers", "1", "--channels", CHANNELS)
        assert p.returncode == 0, p.stderr
        log("local single-process run done")
        shards = nb.assign_shards(entries, TASKS)
        shard_outputs = [[n for n, s, e in zip(names, shards, entries) if s == t and "error" not in e]
                         for t in range(TASKS)]
        job = submit(cluster, plan, out)
        log(f"job array {job} submitted")
        task = cancel_mid_run(cluster, job, shard_outputs, out)
        cluster.wait_array(job, 300)
        states = {t: cluster.job_state(f"{job}_{t}") for t in range(TASKS)}
        log(f"first array: {states}")
        assert states[task][0] == "CANCELLED", states
        assert all(states[t] == ("COMPLETED", "0:0") for t in range(TASKS) if t != task), states
        check_outputs_complete(out, entries, names)
        p = batch(None, "verify", out)
        assert p.returncode == 1 and "missing:" in p.stdout, p.stdout

        job2 = submit(cluster, plan, out)
        log(f"resubmitted as {job2}")
        cluster.wait_array(job2, 300)
        states = {t: cluster.job_state(f"{job2}_{t}") for t in range(TASKS)}
        assert all(s == ("COMPLETED", "0:0") for s in states.values()), states
        p = batch(None, "verify", out)
        assert p.returncode == 0, p.stdout
        logs = os.listdir(os.path.join(out, "logs"))
        assert len(logs) == 2 * TASKS, logs
        resumed = open(os.path.join(out, "logs", f"slurm-{job2}_{(task + 1) % TASKS}.out")).read()
        assert "0 tokenized" in resumed, resumed     # a finished shard only skipped its outputs

        compared = 0
        for n in names:
            if os.path.exists(os.path.join(local, n)):
                assert tokens_of(os.path.join(local, n)) == tokens_of(os.path.join(out, n)), n
                compared += 1
        assert compared == len([e for e in entries if "error" not in e]) > 0, compared
        log(f"{compared} outputs of the job arrays equal the local run; {time.monotonic() - t0:.0f} s in all")
        return 0
    except BaseException:
        cluster.logs()
        raise
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
