#!/usr/bin/env python3
"""`mpirun -np 2 ctload run X` on one host is one generator in two ranks: its
summary equals a single-rank run at the same total rate (completed, failures
by cause), the server counts every connection, and the run directory and
report name the ranks. A rank that stops (late) or dies mid-run is named,
the run ends with exit 3 in summary.json (mpirun's own status: 3 for a late
rank; Open MPI's for a killed one), and no process is left. Loopback only."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start()
MPIRUN = shutil.which("mpirun")
if not MPIRUN:
    t.skip_all("no mpirun (apt-get install openmpi-bin)")
ldd = subprocess.run(["ldd", ctlib.CTLOAD], capture_output=True, text=True).stdout
if "libmpi" not in ldd:
    t.skip_all("ctload built without MPI (meson -Dmpi=enabled with libopenmpi-dev)")
MPI = [MPIRUN, "-np", "2", "--oversubscribe", "--allow-run-as-root"]
tmp = tempfile.mkdtemp(prefix="ctt-mpi-")


def scenario(name, port, rate, duration):
    return ctlib.scenario_file(os.path.join(tmp, name + ".ini"), """
        [scenario]
        name = %s
        topology = host
        [server]
        mode = memcache
        target = 127.0.0.1:%d
        [load]
        rate = %d/s
        duration = %s
        request = "get k{seq}\\r\\n"
        expect = "END\\r\\n"
        """ % (name, port, rate, duration))


def run(sc, out, mpi):
    argv = (MPI if mpi else []) + [ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    try:
        with open(os.path.join(out, "summary.json")) as f:
            return r, json.load(f)
    except (OSError, ValueError):
        return r, None


def step0(s):
    return s["steps"][0] if s and s.get("steps") else {}


port = ctlib.free_port()
ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port", str(port)])
t.ok(ctlib.wait_port("127.0.0.1", port), "ctserver listens")
time.sleep(0.2)
N = 6000
sc = scenario("mpi-equal", port, 2000, "3s")
before = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
r1, s1 = run(sc, os.path.join(tmp, "one"), False)
r2, s2 = run(sc, os.path.join(tmp, "two"), True)
after = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
a, b = step0(s1), step0(s2)
t.ok(r1.returncode == 0 and a.get("completed") == N, "one rank: %d completed" % N, r1.stderr)
t.ok(r2.returncode == 0 and b.get("completed") == N and b.get("scheduled") == N,
     "two ranks at the same total rate: %d scheduled and completed (%s, %s)"
     % (N, b.get("scheduled"), b.get("completed")), r2.stdout + r2.stderr)
t.ok(a.get("failures") == b.get("failures") and a.get("rate_target") == b.get("rate_target"),
     "failures by cause and the target rate match the single-rank run",
     "%s %s / %s %s" % (a.get("failures"), a.get("rate_target"), b.get("failures"),
                        b.get("rate_target")))
served = (after - before - 1) if before is not None and after is not None else None
t.ok(served == 2 * N, "the server accepted both runs' connections: %s of %d" % (served, 2 * N))
ranks = (s2 or {}).get("mpi", {}).get("ranks", [])
t.ok(len(ranks) == 2 and [x["rank"] for x in ranks] == [0, 1] and ranks[0]["pid"] != ranks[1]["pid"]
     and b.get("ranks") == 2, "summary.json names both ranks (rank, host, pid)", str(ranks))
with open(os.path.join(tmp, "two", "report.html")) as f:
    page = f.read()
t.ok('id="ranks">2 MPI ranks: 0 on ' in page, "report.html names the ranks")
ts = ctlib.read_jsonl(os.path.join(tmp, "two", "timeseries.jsonl"))
t.ok(ts and ts[-1].get("completed") == N and all(x["step"] == 0 for x in ts)
     and all(ts[i]["t"] < ts[i + 1]["t"] for i in range(len(ts) - 1)),
     "timeseries.jsonl: one writer (times rise), its samples sum the ranks (%s completed)"
     % (ts[-1].get("completed") if ts else None))

# Failures by cause: a closed port refuses every connection, split or not.
closed = ctlib.free_port()
scc = scenario("mpi-refused", closed, 500, "2s")
r1, s1 = run(scc, os.path.join(tmp, "c1"), False)
r2, s2 = run(scc, os.path.join(tmp, "c2"), True)
f1, f2 = step0(s1).get("failures", {}), step0(s2).get("failures", {})
t.ok(f1.get("refused") == 1000 and f1 == f2,
     "a closed port: 1000 refused by one rank and by two (%s / %s)" % (f1, f2),
     r1.stderr + r2.stderr)


def rank_pids(out):
    """PIDs of the ranks of the job writing to `out` (ours: matched by --out)."""
    pids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().split(b"\0")
            with open("/proc/%s/environ" % d, "rb") as f:
                env = dict(x.split(b"=", 1) for x in f.read().split(b"\0") if b"=" in x)
        except OSError:
            continue
        if out.encode() in cmd and os.path.basename(cmd[0]) == b"ctload" and \
                b"OMPI_COMM_WORLD_RANK" in env:
            pids[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(d)
    return pids


def lose_rank(name, sig):
    out = os.path.join(tmp, name)
    scl = scenario(name, port, 200, "30s")
    p = subprocess.Popen(MPI + [ctlib.CTLOAD, "run", scl, "--out", out, "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids = {}
    for _ in range(100):
        pids = rank_pids(out)
        if len(pids) == 2:
            break
        time.sleep(0.1)
    time.sleep(2)
    if 1 in pids:
        os.kill(pids[1], sig)
    t0 = time.time()
    try:
        so, se = p.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        p.kill()
        so, se = p.communicate()
    took = time.time() - t0
    left = [x for x in pids.values() if os.path.exists("/proc/%d" % x)
            and open("/proc/%d/stat" % x).read().split()[2] != "Z"]
    for x in left:  # ours: started by this test
        os.kill(x, signal.SIGCONT)
        os.kill(x, signal.SIGKILL)
    try:
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
    except (OSError, ValueError):
        s = {}
    return p.returncode, se, s, took, left, pids


rc, se, s, took, left, pids = lose_rank("late", signal.SIGSTOP)
t.ok(len(pids) == 2, "the late-rank job started two ranks", str(pids))
t.ok(rc == 3, "a stopped rank: mpirun exits 3 after %.0f s" % took, se)
t.ok("MPI rank 1 (host" in se and "pid %s" % pids.get(1) in se,
     "the error names rank 1, its host and pid", se)
t.ok(s.get("exit_code") == 3 and s.get("mpi", {}).get("ranks", [{}, {}])[1].get("lost") is True,
     "summary.json: exit_code 3, rank 1 marked lost", str(s.get("exit_code")) + str(s.get("mpi")))
t.ok(not left, "no rank is left running", str(left))

rc, se, s, took, left, pids = lose_rank("killed", signal.SIGKILL)
t.ok(rc != 0 and took < 20, "a killed rank: the job ends at once, non-zero (%s, %.0f s)"
     % (rc, took), se)
t.ok("MPI rank 1 (host" in se, "the error names rank 1", se)
t.ok(s.get("exit_code") == 3 and os.path.exists(os.path.join(tmp, "killed", "report.html")),
     "rank 0 still wrote summary.json (exit_code 3) and report.html", str(s.get("exit_code")))
t.ok(not left, "no rank is left running", str(left))
leftovers = [f for f in os.listdir("/tmp") if f.startswith("ctload-scenario-")]
t.ok(not leftovers, "no scenario copy is left in /tmp", str(leftovers))
shutil.rmtree(tmp, ignore_errors=True)
t.done()
