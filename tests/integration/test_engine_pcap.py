#!/usr/bin/env python3
"""[load] engine = pcap: ctload's userspace TCP client in a lab, against the
kernel's ctserver.

- router path, conntrack on the router, the client closes first: every
  connection completes, none fails, the router's conntrack table counts
  each one, and a capture on the client veth read by tshark shows one
  SYN and one SYN-ACK per connection, the engine's checksums all good and
  no RST (the client netns' kernel stays out of the way);
- direct path, the server closes first: the server holds the TIME_WAIT
  and its conntrack counts the connections, as with the kernel engine;
- the server's port closed mid-step (ctserver ended by its PID): the
  server's RSTs to our SYNs count as `refused`;
- refused before a lab: engine = dpdk not built (exit 3), a packet engine
  with topology = host (exit 2); a sweep from pcap to kernel (exit 2).
Runs under the lab lock (scripts and meson run it serially)."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
tmp = tempfile.mkdtemp(prefix="ctt-pcap-")


def fails(step):
    return sum(step.get("failures", {}).values())


# ---- 0. refused before any lab is built ------------------------------------
# (engine = dpdk only where this ctload was built without DPDK)
with open(os.path.join(os.path.dirname(os.path.abspath(ctlib.CTLOAD)), "ct_config.h")) as f:
    have_dpdk = "#define CT_HAVE_DPDK 1" in f.read()
for name, body, code, words in [
        ("dpdk", "topology = lab\n[load]\nengine = dpdk", 3, "meson feature 'dpdk'"),
        ("host", "topology = host\n[server]\ntarget = 127.0.0.1:9\n[load]\nengine = pcap", 2,
         "runs in a lab only")][1 if have_dpdk else 0:]:
    sc = ctlib.scenario_file(os.path.join(tmp, name + ".ini"),
                             "[scenario]\nname = %s\n%s\nrate = 10/s\nduration = 1s\n"
                             % (name, body))
    r, _ = ctlib.ctload_run(sc, os.path.join(tmp, name), timeout=30)
    t.ok(r.returncode == code and words in r.stderr and name + ".ini" in r.stderr,
         "engine %s: exit %d naming the file and why (%d)" % (name, code, r.returncode),
         r.stderr)

# ---- 1. router + conntrack, capture ---------------------------------------
sc = ctlib.scenario_file(os.path.join(tmp, "router.ini"), """
    [scenario]
    name = pcap-router
    topology = lab
    [lab]
    path = router
    conntrack_on = router
    [server]
    mode = memcache
    close = client
    [load]
    engine = pcap
    rate = 300/s
    duration = 2s
    [report]
    capture = on
    """)
out = os.path.join(tmp, "router")
r, s = ctlib.ctload_run(sc, out, timeout=90)
t.ok(r.returncode == 0, "engine = pcap through a router exits 0", r.stderr)
st = (s or {}).get("steps", [{}])[0]
t.ok(st.get("engine", {}).get("name") == "pcap" and st["engine"].get("conn_bytes") == 64,
     "summary.json names the pcap engine, 64 bytes a connection", st.get("engine"))
t.ok(st.get("completed") == 600 and fails(st) == 0,
     "600 connections completed, no failure (%s, %s)" % (st.get("completed"),
                                                         st.get("failures")))
t.ok(st.get("ct", {}).get("peak", 0) >= 600,
     "the router's conntrack counts every connection (peak %s)" % st.get("ct", {}).get("peak"))
ctlib.check_engine_capture(t, os.path.join(out, "capture.pcap"), 600)

# ---- 2. the server closes first -------------------------------------------
sc = ctlib.scenario_file(os.path.join(tmp, "server.ini"), """
    [scenario]
    name = pcap-srvclose
    topology = lab
    [lab]
    path = direct
    conntrack_on = server
    [server]
    mode = memcache
    close = server
    [load]
    engine = pcap
    rate = 200/s
    duration = 2s
    """)
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "server"), timeout=90)
st = (s or {}).get("steps", [{}])[0]
t.ok(r.returncode == 0 and st.get("completed") == 400 and fails(st) == 0,
     "server closes first: 400 completed, none failed (%s, %s)" % (st.get("completed"),
                                                                   st.get("failures")))
t.ok(st.get("tw", {}).get("server_peak", 0) >= 360 and st.get("ct", {}).get("peak", 0) >= 400,
     "the server holds the TIME_WAIT and conntrack counts the connections",
     (st.get("tw"), st.get("ct")))

# ---- 3. the port closes: refused ------------------------------------------
sc = ctlib.scenario_file(os.path.join(tmp, "refused.ini"), """
    [scenario]
    name = pcap-refused
    topology = lab
    [server]
    mode = memcache
    [load]
    engine = pcap
    rate = 200/s
    duration = 3s
    """)
out = os.path.join(tmp, "refused")
p = subprocess.Popen([ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
pid = None
deadline = time.time() + 30
while time.time() < deadline and pid is None and p.poll() is None:
    try:
        with open(os.path.join(out, "events.log")) as f:
            m = re.search(r"ctserver pid (\d+) listening", f.read())
            pid = int(m.group(1)) if m else None
    except OSError:
        pass
    time.sleep(0.05)
if pid:
    time.sleep(1.5)  # the step has started; end the server we started, by PID
    os.kill(pid, signal.SIGKILL)
try:
    so, se = p.communicate(timeout=60)
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
fl = st.get("failures", {})
t.ok(pid is not None, "ctserver's PID read from events.log")
t.ok(fl.get("refused", 0) > 100 and st.get("completed", 0) > 100,
     "after the server's port closed its RSTs count as refused (%s, %s)" %
     (st.get("completed"), fl), se[-2000:])
t.ok(fl.get("timeout", 0) == 0, "no connection waited out a timeout", fl)
# ---- 4. a sweep may not switch between a packet and the kernel engine -----
sc = ctlib.scenario_file(os.path.join(tmp, "sweep.ini"), """
    [scenario]
    name = pcap-sweep
    topology = lab
    [load]
    engine = pcap
    rate = 50/s
    duration = 1s
    [sweep]
    load.engine = pcap, kernel
    """)
r, _ = ctlib.ctload_run(sc, os.path.join(tmp, "sweep"), timeout=90)
t.ok(r.returncode == 2 and "[sweep] load.engine" in r.stderr and "sweep.ini:" in r.stderr,
     "sweeping load.engine from pcap to kernel is refused naming file:line (%d)" %
     r.returncode, r.stderr[-1000:])
shutil.rmtree(tmp, ignore_errors=True)
t.done()
