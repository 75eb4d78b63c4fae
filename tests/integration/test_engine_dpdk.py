#!/usr/bin/env python3
"""[load] engine = dpdk: ctload's userspace TCP client over DPDK (the EAL
with --no-huge, net_af_packet on the lab's client veth), against the
kernel's ctserver through a router with conntrack.

- every connection completes, none fails, the router's conntrack table
  counts each one, and summary.json names the dpdk engine with its frames
  and cycles per connection;
- with [report] capture = on, a capture of the client veth read by tshark
  holds one SYN and one SYN-ACK per connection, no RST and no bad checksum
  (the default port then keeps the kernel's taps: qdisc_bypass=0);
- the EAL's runtime directory /var/run/dpdk/ctload-<lab id> exists while
  the run does and is gone afterwards, with the lab's netns;
- [load] threads = 2: two lcores, each its own queue and half the source
  ports (net_af_packet with two queue pairs; frames the kernel's fanout
  put on the other queue handed over): all complete, none fails;
- a bad [dpdk] eal is refused naming the key: --in-memory with --no-huge
  when the scenario is read (exit 2, no lab made), an option the EAL does
  not know when the EAL starts (exit 2, the lab and the runtime directory
  removed).
Skipped when this ctload was built without DPDK. Runs under the lab lock."""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
cfg_h = os.path.join(os.path.dirname(os.path.abspath(ctlib.CTLOAD)), "ct_config.h")
try:
    with open(cfg_h) as f:
        have = re.search(r"#define CT_HAVE_DPDK 1", f.read()) is not None
except OSError:
    have = False
if not have:
    t.skip_all("this ctload was built without DPDK (libdpdk-dev; meson -Ddpdk=enabled)")

RUNDIR = "/var/run/dpdk"
tmp = tempfile.mkdtemp(prefix="ctt-dpdk-")


def ours():
    return sorted(glob.glob(os.path.join(RUNDIR, "ctload-*")))


def lab_netns(lid):
    """The netns of lab `lid` still there (other labs may come and go
    meanwhile: only this run's are looked at)."""
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [l.split()[0] for l in r.stdout.splitlines()
            if lid and l.startswith("ctl-%s-" % lid)]


def left(out):
    """What the run into `out` left: its lab's netns, state file and EAL
    runtime directory."""
    lid = ctlib.run_lab_id(out)
    if lid is None:
        return []
    return lab_netns(lid) + [p for p in ("/run/ctload/%s.json" % lid,
                                         os.path.join(RUNDIR, "ctload-" + lid))
                             if os.path.exists(p)]


def fails(step):
    return sum(step.get("failures", {}).values())


before_dirs = ours()

# ---- 1. router + conntrack ------------------------------------------------
sc = ctlib.scenario_file(os.path.join(tmp, "router.ini"), """
    [scenario]
    name = dpdk-router
    topology = lab
    [lab]
    path = router
    conntrack_on = router
    [server]
    mode = memcache
    close = client
    [load]
    engine = dpdk
    rate = 300/s
    duration = 2s
    [report]
    capture = on
    """)
out = os.path.join(tmp, "router")
p = subprocess.Popen([ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
seen = set()
deadline = time.time() + 90
while p.poll() is None and time.time() < deadline:
    seen.update(set(ours()) - set(before_dirs))
    time.sleep(0.05)
try:
    so, se = p.communicate(timeout=max(1, deadline - time.time()))
except subprocess.TimeoutExpired:
    p.kill()
    so, se = p.communicate()
s = None
try:
    import json
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
except (OSError, ValueError):
    pass
st = (s or {}).get("steps", [{}])[0]
eng = st.get("engine", {})
lid = ctlib.run_lab_id(out)
t.ok(p.returncode == 0, "engine = dpdk through a router exits 0", se[-3000:])
t.ok(eng.get("name") == "dpdk" and eng.get("conn_bytes") == 64,
     "summary.json names the dpdk engine, 64 bytes a connection", eng)
t.ok(st.get("completed") == 600 and fails(st) == 0,
     "600 connections completed, no failure (%s, %s)" % (st.get("completed"),
                                                         st.get("failures")))
t.ok(st.get("ct", {}).get("peak", 0) >= 600,
     "the router's conntrack counts every connection (peak %s)" % st.get("ct", {}).get("peak"))
t.ok(5 <= eng.get("frames_per_conn", 0) <= 10 and eng.get("cycles_per_conn", 0) > 0,
     "frames and busy cycles per connection are reported (%s, %s)" %
     (eng.get("frames_per_conn"), eng.get("cycles_per_conn")))
ctlib.check_engine_capture(t, os.path.join(out, "capture.pcap"), 600)
want = os.path.join(RUNDIR, "ctload-%s" % lid)
t.ok(lid is not None and want in seen,
     "the EAL's runtime directory %s existed during the run" % want, sorted(seen))
t.ok(not os.path.exists(want) and ours() == before_dirs,
     "and is gone afterwards", ours())
t.ok(lid is not None and left(out) == [], "the lab's netns and state file are gone", left(out))

# ---- 2. two lcores ---------------------------------------------------------
sc2 = ctlib.scenario_file(os.path.join(tmp, "two.ini"), """
    [scenario]
    name = dpdk-two
    topology = lab
    [lab]
    path = router
    conntrack_on = router
    [server]
    mode = memcache
    close = client
    [load]
    engine = dpdk
    threads = 2
    rate = 300/s
    duration = 2s
    """)
out = os.path.join(tmp, "two")
r, s = ctlib.ctload_run(sc2, out, timeout=90)
st = (s or {}).get("steps", [{}])[0]
t.ok(r.returncode == 0 and "2 lcores, source ports split 32768-46883 ... 46884-60999" in r.stderr,
     "threads = 2: two lcores, the source ports split in two", r.stderr[-2000:])
t.ok(st.get("completed") == 600 and fails(st) == 0 and st.get("ct", {}).get("peak", 0) >= 600,
     "two lcores: 600 completed, none failed, conntrack counts them (%s, %s)" %
     (st.get("completed"), st.get("failures")))
t.ok(ctlib.run_lab_id(out) is not None and left(out) == [] and ours() == before_dirs,
     "nothing left behind", left(out))

# ---- 3. a bad [dpdk] eal, refused when the scenario is read ---------------
bad = ctlib.scenario_file(os.path.join(tmp, "inmem.ini"), """
    [scenario]
    name = dpdk-inmem
    topology = lab
    [load]
    engine = dpdk
    rate = 100/s
    duration = 1s
    [dpdk]
    eal = --no-huge -m 512 --in-memory --no-pci
    """)
out = os.path.join(tmp, "inmem")
r, _ = ctlib.ctload_run(bad, out, timeout=30)
t.ok(r.returncode == 2 and "inmem.ini:9" in r.stderr and "[dpdk] eal" in r.stderr
     and "--in-memory" in r.stderr,
     "--in-memory with --no-huge: exit 2 naming file:line and [dpdk] eal", r.stderr)
t.ok(not os.path.exists(os.path.join(out, "events.log")) and ours() == before_dirs,
     "no lab was made, no EAL started")

# ---- 4. an option the EAL does not know: refused when the EAL starts ------
bad = ctlib.scenario_file(os.path.join(tmp, "bogus.ini"), """
    [scenario]
    name = dpdk-bogus
    topology = lab
    [load]
    engine = dpdk
    rate = 100/s
    duration = 1s
    [dpdk]
    eal = --no-huge -m 512 --no-pci --no-such-eal-option
    """)
out = os.path.join(tmp, "bogus")
r, _ = ctlib.ctload_run(bad, out, timeout=60)
t.ok(r.returncode == 2 and "[dpdk] eal" in r.stderr and "--no-such-eal-option" in r.stderr,
     "an unknown EAL option: exit 2 naming [dpdk] eal and the option", r.stderr[-2000:])
t.ok(ctlib.run_lab_id(out) is not None and left(out) == [] and ours() == before_dirs,
     "the lab was made, and it and the EAL's runtime directory are removed", left(out))
shutil.rmtree(tmp, ignore_errors=True)
t.done()
