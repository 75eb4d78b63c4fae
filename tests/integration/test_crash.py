#!/usr/bin/env python3
"""Crash safety: SIGKILL at random moments (seeded) of a lab that changed
per-netns and global sysctls, 10 times; each time `ctload lab down`
afterwards must leave the host exactly as before, compared value by value:
every sysctl the scenario sets in [sysctl.host], the other conntrack and
port sysctls of the host netns, the netns list, /run/ctload, and no
ctserver of the killed lab still running.

1. `ctload lab up FILE --for 30s --dir D` killed during its setup or hold;
2. `ctload run FILE` (topology = lab) killed during its run: the same
   checks, and the killed run's timeseries.jsonl is valid JSON line by line
   and `ctload report` builds from it. Skipped (said so) while `ctload run`
   has no topology = lab."""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")

RUNS = 10
PORT = 11437
rnd = random.Random(20261122)
tmp = tempfile.mkdtemp(prefix="ctt-crash-")

HOST_SET = {"net.netfilter.nf_conntrack_max": "123457",
            "net.netfilter.nf_conntrack_buckets": "16411",
            "net.core.netdev_max_backlog": "1234",
            "net.netfilter.nf_conntrack_tcp_timeout_time_wait": "47"}
# The host values compared besides those the scenario sets.
WATCH = sorted(set(HOST_SET) | {
    "net.netfilter.nf_conntrack_tcp_timeout_fin_wait",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_loose",
    "net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_max_tw_buckets", "net.ipv4.ip_forward", "net.core.somaxconn"})
for k in WATCH:
    ctlib.remember_host_sysctl(k)  # put back at exit whatever happens
for k, v in HOST_SET.items():
    if ctlib.host_sysctl(k) == v:  # make sure the lab really changes each
        HOST_SET[k] = str(int(v) + 2)

SCENARIO = """
[scenario]
name = crash-%s
[lab]
path = nat
conntrack_on = router
[server]
mode = echo
port = %d
[load]
rate = 200/s
duration = 4s
request = "hello\\r\\n"
[sysctl.client]
net.ipv4.tcp_tw_reuse = 1
net.ipv4.ip_local_port_range = 20000 40000
[sysctl.server]
net.core.somaxconn = 512
[sysctl.router]
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 33
[sysctl.host]
""" + "".join("%s = %s\n" % kv for kv in HOST_SET.items())


def others():
    """Lab ids owned by another live ctload (another test on this host):
    their netns and state files are not ours to compare."""
    ids = set()
    try:
        names = os.listdir("/run/ctload")
    except OSError:
        return ids
    for n in names:
        if not n.endswith(".json"):
            continue
        try:
            with open(os.path.join("/run/ctload", n)) as f:
                pid = json.load(f).get("owner", {}).get("pid")
            if pid and pid not in mine:
                os.kill(pid, 0)
                ids.add(n[:-5])
        except (OSError, ValueError, AttributeError):
            pass
    return ids


mine = set()  # pids of the ctloads this test started


def snapshot():
    snap = {"sysctl " + k: ctlib.host_sysctl(k) for k in WATCH}
    skip = others()
    # Lab netns only (ctt- ones are other tests'), and not another live lab's.
    snap["netns"] = sorted(n for n in ctlib.netns_list("ctl-") if n.split("-")[1] not in skip)
    try:
        snap["/run/ctload"] = sorted(n for n in os.listdir("/run/ctload")
                                     if n.split(".")[0] not in skip)
    except OSError:
        snap["/run/ctload"] = []
    return snap


def lab_ctservers():
    """PIDs of ctservers serving our port (a killed lab's would linger)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"ctserver") and str(PORT).encode() in argv:
            pids.append(int(p))
    return pids


def ctserver_child(pid):
    """Whether pid has a ctserver child (exec'd, so its cmdline says so)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = f.read().split()
    except OSError:
        return False
    for k in kids:
        try:
            with open("/proc/%s/cmdline" % k, "rb") as f:
                if f.read().split(b"\0")[0].endswith(b"ctserver"):
                    return True
        except OSError:
            pass
    return False


def diff(a, b):
    return ["%s: %r -> %r" % (k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]


def kill_and_recover(what, argv, delay):
    """Start argv, SIGKILL it after `delay` s, `ctload lab down`, compare.
    Returns whether the process was killed (it may have ended before)."""
    want_delay = delay
    for attempt in range(30):
        before = snapshot()
        servers_before = set(lab_ctservers())
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        mine.add(p.pid)
        if want_delay is None:
            # The moment it has forked ctserver: the narrowest window there is.
            t0 = time.time()
            while p.poll() is None and time.time() - t0 < 10 and not ctserver_child(p.pid):
                pass
            delay = time.time() - t0
        else:
            time.sleep(want_delay)
        killed = p.poll() is None
        p.kill()
        err = p.communicate()[1].decode(errors="replace")
        if killed or "already changed by run" not in err:
            break
        # Another test's lab holds a host sysctl this scenario sets, and
        # ctload refused to start: wait for it, the round must kill a ctload.
        time.sleep(1)
    if not killed:
        t.ok(False, "%s: ctload was running when killed (it had ended at %.2fs)" %
             (what, delay), err[-800:])
    changed = diff(before, snapshot())
    down = ctlib.lab_down(timeout=60)
    after = snapshot()
    left = diff(before, after)
    if others() or "already changed by run" in err:
        # Another test's lab on this host changes host sysctls too: only
        # what is ours can be compared this round.
        left = [l for l in left if not l.startswith("sysctl ")]
        t.diag("another lab is up: host sysctls not compared this round")
    t.ok(not left and down.returncode == 0,
         "%s, SIGKILL at %.2fs%s: lab down restores every value (%d had changed)" %
         (what, delay, "" if killed else " (it had ended)", len(changed)),
         "\n".join(left) + "\nlab down: %d %s\nctload: %s" % (down.returncode, down.stderr,
                                                              err[-800:]))
    procs = [q for q in lab_ctservers() if q not in servers_before]
    t.ok(not procs, "%s: no ctserver of the killed lab left running" % what, procs)
    # Clean up what a failure left (ours: started by the ctload we killed), so
    # that the next round is judged on its own.
    for q in procs:
        try:
            os.kill(q, signal.SIGKILL)
        except OSError:
            pass
    for n in set(after.get("/run/ctload", [])) - set(before.get("/run/ctload", [])):
        if n.endswith(".tmp"):
            try:
                os.unlink(os.path.join("/run/ctload", n))
            except OSError:
                pass
    return killed


# ---- 1. lab up --for, killed during setup or hold -------------------------------
# Random moments, and twice the moment ctserver has just been forked.
sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), SCENARIO % ("lab", PORT))
for i in range(RUNS + 2):
    delay = rnd.uniform(0.0, 1.5) if i < RUNS else None
    d = os.path.join(tmp, "lab%d" % i)
    os.mkdir(d)
    kill_and_recover("lab up #%d" % (i + 1),
                     [ctlib.CTLOAD, "lab", "up", sc, "--for", "30s", "--dir", d], delay)
    ts = os.path.join(d, "timeseries.jsonl")
    if os.path.exists(ts):
        with open(ts) as f:
            lines = f.read().split("\n")
        bad = []
        for l in lines[:-1]:
            try:
                json.loads(l)
            except ValueError:
                bad.append(l[:200])
        t.ok(not bad and lines[-1] == "", "lab up #%d: its timeseries.jsonl is valid JSON line "
             "by line (%d lines)" % (i + 1, len(lines) - 1), bad[:3] + [lines[-1][:200]])

# ---- 2. ctload run, topology = lab, killed during its run -------------------------
sc = ctlib.scenario_file(os.path.join(tmp, "run.ini"), SCENARIO % ("run", PORT))
probe = ctlib.run([ctlib.CTLOAD, "run", sc, "--out", os.path.join(tmp, "probe"), "--quiet",
                   "--set", "load.duration=200ms"], timeout=60)
if "not available" in probe.stderr:
    t.diag("ctload run has no topology = lab yet: the killed-run checks are skipped")
    t.ok(True, "# SKIP ctload run topology = lab is not available in this build")
else:
    ctlib.lab_down(timeout=60)
    for i in range(RUNS):
        delay = rnd.uniform(0.3, 4.0)  # the run lasts ~0.7 s of setup + 4 s
        out = os.path.join(tmp, "run%d" % i)
        killed = kill_and_recover("run #%d" % (i + 1),
                                  [ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"], delay)
        ts = os.path.join(out, "timeseries.jsonl")
        try:
            with open(ts) as f:
                lines = f.read().split("\n")
        except OSError as e:
            t.ok(delay < 1.0, "run #%d: no timeseries.jsonl, killed early (%.2fs)" %
                 (i + 1, delay), e)
            continue
        bad = []
        for l in lines[:-1]:
            try:
                json.loads(l)
            except ValueError:
                bad.append(l[:200])
        t.ok(not bad and lines[-1] == "",
             "run #%d: timeseries.jsonl is valid JSON line by line (%d lines)" %
             (i + 1, len(lines) - 1), bad[:3] + [lines[-1][:200]])
        r = ctlib.run([ctlib.CTLOAD, "report", out], timeout=60)
        t.ok(r.returncode == 0 and os.path.getsize(os.path.join(out, "report.html")) > 0,
             "run #%d: ctload report builds from the killed run (%d)" % (i + 1, r.returncode),
             r.stderr[-800:])

shutil.rmtree(tmp, ignore_errors=True)
t.done()
