#!/usr/bin/env python3
"""[server] engine = responder-dpdk with [load] engine = dpdk: one run, two
DPDK processes (ctload's client EAL, and the stateless responder spawned
in the server netns), a --file-prefix each (issue 14):

- they do not collide: while the run goes on /var/run/dpdk holds both
  ctload-<lab id> and ctload-<lab id>-srv, every connection completes
  through the router with conntrack, and the responder says it answered
  via dpdk;
- nothing is left behind: no /var/run/dpdk directory of the lab, no
  hugepage file with its prefixes, no interface in ctload's own netns that
  was not there before, no lab netns, and the responder's PID is gone;
- the same after a crash: ctload SIGKILLed mid-step leaves the responder
  running (busy-polling) until `ctload lab down` recovers the lab, which
  ends it by its journaled PID and removes both runtime directories.
Skipped when this ctload was built without DPDK or libpcap. Under the
lab lock."""
import glob
import os
import re
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
with open(os.path.join(os.path.dirname(os.path.abspath(ctlib.CTLOAD)), "ct_config.h")) as f:
    cfg = f.read()
if "#define CT_HAVE_DPDK 1" not in cfg:
    t.skip_all("this ctload was built without DPDK (libdpdk-dev; meson -Ddpdk=enabled)")
RUNDIR = "/var/run/dpdk"
tmp = tempfile.mkdtemp(prefix="ctt-dpdk-resp-")


def links():
    r = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    return {l.split(":")[1].strip().split("@")[0] for l in r.stdout.splitlines()}


def hugepage_files(lid):
    """Files with the lab's prefixes on every hugetlbfs mount."""
    found = []
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, fs = line.split()[:3]
            if fs == "hugetlbfs":
                found += glob.glob(os.path.join(mnt, "ctload-%s*" % lid))
    return found


def responder_pid(out):
    try:
        with open(os.path.join(out, "server.log")) as f:
            m = re.search(r"responder pid (\d+) ready on veth0 \(\S+\) via (\w+)", f.read())
            return (int(m.group(1)), m.group(2)) if m else (None, None)
    except OSError:
        return None, None


def left(lid, pid):
    """What the lab `lid` left on the host."""
    what = glob.glob(os.path.join(RUNDIR, "ctload-%s*" % lid)) + hugepage_files(lid)
    what += [n for n in ctlib.netns_list() if n.startswith("ctl-%s-" % lid)]
    if os.path.exists("/run/ctload/%s.json" % lid):
        what.append("/run/ctload/%s.json" % lid)
    if pid and ctlib.proc_running(pid):
        what.append("responder pid %d" % pid)
    return what


def scenario(name, duration):
    return ctlib.scenario_file(os.path.join(tmp, name + ".ini"), """
        [scenario]
        name = %s
        [lab]
        path = router
        conntrack_on = router
        [server]
        engine = responder-dpdk
        [load]
        engine = dpdk
        rate = 300/s
        duration = %s
        """ % (name, duration))


def start(name, duration):
    """Start the run; wait until both runtime directories exist (the step
    is under way). Returns (process, out, lab id, dirs seen together)."""
    out = os.path.join(tmp, name)
    p = subprocess.Popen([ctlib.CTLOAD, "run", scenario(name, duration), "--out", out,
                          "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    lid, both, end = None, [], time.time() + 60
    while time.time() < end and p.poll() is None and not both:
        lid = lid or ctlib.run_lab_id(out)
        if lid:
            d = sorted(os.path.basename(x) for x in glob.glob(os.path.join(RUNDIR,
                                                                           "ctload-%s*" % lid)))
            if d == ["ctload-%s" % lid, "ctload-%s-srv" % lid]:
                both = d
        time.sleep(0.05)
    return p, out, lid, both


links_before = links()

# ---- 1. one run, two DPDK processes ------------------------------------------
p, out, lid, both = start("pair", "3s")
t.ok(lid is not None and both,
     "during the run both EALs have their own runtime directory: %s" % both,
     glob.glob(os.path.join(RUNDIR, "*")))
so, se = p.communicate(timeout=120)
try:
    import json
    with open(os.path.join(out, "summary.json")) as f:
        st = json.load(f)["steps"][0]
except (OSError, ValueError, KeyError, IndexError):
    st = {}
t.ok(p.returncode == 0 and st.get("completed") == 900
     and not any(st.get("failures", {}).values()),
     "900 connections completed, none failed, client and responder both on DPDK (%s, %s)"
     % (st.get("completed"), st.get("failures")), se[-2000:])
t.ok(st.get("engine", {}).get("name") == "dpdk", "the client was the dpdk engine",
     st.get("engine"))
pid, via = responder_pid(out)
t.ok(via == "dpdk", "the responder answered via dpdk (pid %s)" % pid)
t.ok(st.get("ct", {}).get("peak", 0) >= 900, "the router's conntrack counts every connection",
     st.get("ct"))
t.ok(not left(lid, pid), "nothing of the lab is left: runtime dirs, hugepage files, netns, "
     "journal, responder", left(lid, pid))
t.ok(links() <= links_before, "no new interface in ctload's own netns",
     links() - links_before)

# ---- 2. ctload killed mid-step: lab down ends the responder, removes both ----
p, out, lid, both = start("crash", "30s")
pid, via = responder_pid(out)
t.ok(both and pid, "the second run is under way with both EALs (responder pid %s)" % pid)
time.sleep(1)
p.send_signal(signal.SIGKILL)  # the ctload we started, by its PID
p.communicate(timeout=30)
t.ok(pid is not None and ctlib.proc_running(pid),
     "the responder outlives the killed ctload (it is the lab's to end)")
r = ctlib.lab_down(timeout=60)
t.ok(r.returncode == 0, "ctload lab down recovers the killed run's lab", r.stderr[-1000:])
time.sleep(0.2)
t.ok(lid and not left(lid, pid), "after the recovery nothing of the lab is left: runtime "
     "dirs, hugepage files, netns, journal, responder", left(lid, pid) if lid else None)
t.ok(links() <= links_before, "no new interface in ctload's own netns after the crash",
     links() - links_before)
t.done()
