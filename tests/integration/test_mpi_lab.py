#!/usr/bin/env python3
"""`mpirun -np 2 ctload run X` with topology = lab: rank 0 builds the lab,
both ranks load from its client netns, each with its own client address.
With a 200-port range, no TIME_WAIT reuse and two client addresses, the
tuple space is 400 ports: one rank using both addresses and two ranks with
one each complete the same 400 of 600 and fail the same 200 with
EADDRNOTAVAIL, with the same conntrack and TIME_WAIT peaks. A rank killed
mid-run is named, and rank 0 still takes the lab down: no namespace, no
journal, no host sysctl left changed."""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
MPIRUN = shutil.which("mpirun")
if not MPIRUN:
    t.skip_all("no mpirun (apt-get install openmpi-bin)")
if "libmpi" not in subprocess.run(["ldd", ctlib.CTLOAD], capture_output=True, text=True).stdout:
    t.skip_all("ctload built without MPI (meson -Dmpi=enabled with libopenmpi-dev)")
# Open MPI gives a rank 1 s between SIGTERM and SIGKILL when the job ends;
# rank 0 needs longer to take a lab down after another rank died.
MPI = [MPIRUN, "-np", "2", "--oversubscribe", "--allow-run-as-root",
       "--mca", "odls_base_sigkill_timeout", "10"]
tmp = tempfile.mkdtemp(prefix="ctt-mpilab-")
ct_max = ctlib.host_sysctl("net.netfilter.nf_conntrack_max") \
    if os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max") else None


def scenario(name, duration, extra=""):
    return ctlib.scenario_file(os.path.join(tmp, name + ".ini"), """
        [scenario]
        name = %s
        topology = lab
        [lab]
        path = direct
        conntrack_on = server
        clients = 2
        [server]
        mode = memcache
        close = client
        [load]
        rate = 300/s
        duration = %s
        [sysctl.client]
        net.ipv4.ip_local_port_range = 40000 40199
        net.ipv4.tcp_tw_reuse = 0
        %s
        """ % (name, duration, extra))


def summary(out):
    try:
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


sc = scenario("mpilab", "2s")
r1 = subprocess.run([ctlib.CTLOAD, "run", sc, "--out", os.path.join(tmp, "one"), "--quiet"],
                    capture_output=True, text=True, timeout=120)
r2 = subprocess.run(MPI + [ctlib.CTLOAD, "run", sc, "--out", os.path.join(tmp, "two"),
                           "--quiet"], capture_output=True, text=True, timeout=180)
s1, s2 = summary(os.path.join(tmp, "one")), summary(os.path.join(tmp, "two"))
a = s1.get("steps", [{}])[0]
b = s2.get("steps", [{}])[0]
t.ok(r1.returncode == 0 and a.get("completed") == 400 and
     a.get("failures", {}).get("eaddrnotavail") == 200,
     "one rank, two client addresses x 200 ports: 400 completed, 200 EADDRNOTAVAIL (%s, %s)"
     % (a.get("completed"), a.get("failures")), r1.stderr)
t.ok(r2.returncode == 0 and b.get("completed") == a.get("completed") and
     b.get("failures") == a.get("failures") and b.get("ranks") == 2,
     "two ranks: the same completed and failures by cause (%s, %s)"
     % (b.get("completed"), b.get("failures")), r2.stdout + r2.stderr)
pa, pb = a.get("ct", {}).get("peak", 0), b.get("ct", {}).get("peak", 0)
t.ok(pa >= 390 and abs(pa - pb) <= 0.05 * pa,
     "the conntrack peak matches within 5%% (%s vs %s)" % (pa, pb))
t.ok(a.get("tw", {}).get("client_peak") == b.get("tw", {}).get("client_peak"),
     "the client TIME_WAIT peak matches", "%s %s" % (a.get("tw"), b.get("tw")))
ranks = s2.get("mpi", {}).get("ranks", [])
addrs = [x.get("client_addresses", "") for x in ranks]
t.ok(len(ranks) == 2 and all(x and " " not in x for x in addrs) and addrs[0] != addrs[1],
     "each rank used its own client address (%s)" % addrs, str(ranks))
t.ok("lab" in s2 and not glob.glob("/run/netns/ctl-%s-*" % s2.get("lab", {}).get("id", "none")),
     "the lab of the MPI run is gone", s2.get("lab"))

# A rank killed mid-run: named, and rank 0 takes the lab down.
out = os.path.join(tmp, "killed")
scl = scenario("mpilab-kill", "30s", "[sysctl.host]\n        net.netfilter.nf_conntrack_max = 100000"
               if ct_max else "")
p = subprocess.Popen(MPI + [ctlib.CTLOAD, "run", scl, "--out", out, "--quiet"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
pid1 = None
for _ in range(200):
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
            env = open("/proc/%s/environ" % d, "rb").read().split(b"\0")
        except OSError:
            continue
        if out.encode() in cmd and b"OMPI_COMM_WORLD_RANK=1" in env and \
                os.path.basename(cmd[0]) == b"ctload":
            pid1 = int(d)
    if pid1 and os.path.exists(os.path.join(out, "timeseries.jsonl")) and \
            os.path.getsize(os.path.join(out, "timeseries.jsonl")) > 0:
        break
    time.sleep(0.1)
time.sleep(1)
if pid1:
    os.kill(pid1, signal.SIGKILL)
try:
    so, se = p.communicate(timeout=90)
except subprocess.TimeoutExpired:
    p.kill()
    so, se = p.communicate()
s = summary(out)
lab_id = s.get("lab", {}).get("id", "none")
t.ok(pid1 is not None and "MPI rank 1 (host" in se, "the killed rank is named", se)
t.ok(p.returncode != 0 and s.get("exit_code") == 3,
     "the run fails: mpirun %s, summary.json exit_code %s" % (p.returncode, s.get("exit_code")))
t.ok(not glob.glob("/run/netns/ctl-%s-*" % lab_id) and
     not os.path.exists("/run/ctload/%s.json" % lab_id),
     "rank 0 took the lab down: no namespace, no journal (lab %s)" % lab_id,
     str(glob.glob("/run/netns/ctl-*")))
if ct_max:
    t.ok(ctlib.host_sysctl("net.netfilter.nf_conntrack_max") == ct_max,
         "the host's nf_conntrack_max is back to %s" % ct_max)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
