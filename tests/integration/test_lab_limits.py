#!/usr/bin/env python3
"""The lab's limits through `ctload run`, as issue 4 states them:
- port exhaustion: 500 client ports, tw_reuse=0, 200/s for 5 s: the first
  EADDRNOTAVAIL comes at 2.5 s (+-10%); with tw_reuse=1, none;
- conntrack full: nf_conntrack_max 2000, server ct time_wait 10 s, 400/s:
  drops, the kernel's "table full" in events.log, timeouts, and the
  connections that got through after a dropped SYN took >= 1 s; the host's
  max restored after the run and after a SIGINT;
- tuples: one client IP to one server port holds no more conntrack entries
  than client ports; 16 server ports at the same rate hold more;
- tcp_fin_timeout does not shorten TIME_WAIT: 10 s after the load stops
  the client's TIME_WAIT count is unchanged."""

import json
import os
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
KEY = "net/netfilter/nf_conntrack_max"
max_before = ctlib.host_sysctl(KEY)
tmp = tempfile.mkdtemp(prefix="ct-lablimits-")


def run(name, text, sets=()):
    path = ctlib.scenario_file(os.path.join(tmp, name + ".ini"), text)
    out = os.path.join(tmp, name)
    r, s = ctlib.ctload_run(path, out, sets=sets, timeout=120)
    return r, s or {}, out


PORTS = """
[scenario]
name = ports
[lab]
conntrack_on = none
[server]
port = 11211
[load]
rate = 200/s
duration = 5s
[sysctl.client]
net.ipv4.ip_local_port_range = 40000 40499
net.ipv4.tcp_tw_reuse = 0
"""
r, s, _ = run("ports0", PORTS)
st = (s.get("steps") or [{}])[0]
first = st.get("first_failure", {}).get("eaddrnotavail_s")
t.ok(r.returncode == 0, "ports, tw_reuse=0: ctload run exits 0", r.stderr[-1500:])
t.ok(st.get("failures", {}).get("eaddrnotavail", 0) > 0,
     "ports, tw_reuse=0: EADDRNOTAVAIL failures (%s)" % st.get("failures"))
t.ok(first is not None and abs(first - 2.5) <= 0.25,
     "ports, tw_reuse=0: the first EADDRNOTAVAIL at %s s (2.5 s +-10%%)" % first)
r, s, _ = run("ports1", PORTS, sets=["sysctl.client.net.ipv4.tcp_tw_reuse=1"])
st = (s.get("steps") or [{}])[0]
t.ok(r.returncode == 0 and st.get("failures", {}).get("eaddrnotavail", -1) == 0 and
     st.get("completed") == 1000,
     "ports, tw_reuse=1: all 1000 complete, no EADDRNOTAVAIL (%s)" % st.get("failures"))

FULL = """
[scenario]
name = full
[lab]
clients = 2
conntrack_on = server
[server]
port = 11211
[load]
rate = 400/s
duration = 8s
connect_timeout = 4s
[sysctl.host]
net.netfilter.nf_conntrack_max = 2000
[sysctl.server]
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 10
"""
r, s, out = run("full", FULL)
st = (s.get("steps") or [{}])[0]
t.ok(r.returncode == 0, "ct full: ctload run exits 0", r.stderr[-1500:])
t.ok(st.get("ct", {}).get("drop", 0) > 0, "ct full: ct.drop > 0 (%s)" % st.get("ct"))
with open(os.path.join(out, "events.log")) as f:
    t.ok("table full" in f.read(), "ct full: events.log has the kernel's 'table full'")
t.ok(st.get("failures", {}).get("timeout", 0) > 0,
     "ct full: dropped SYNs end as connect timeouts (%s)" % st.get("failures"))
# The connections that completed after a dropped SYN sit at the kernel's
# retransmission times: >= 1 s, in whole-second steps.
hist = st.get("connect_hist") or []
slow = [(ms, n) for ms, n in hist if ms >= 900]
t.ok(slow and all(ms >= 950 for ms, _ in slow),
     "ct full: delayed connects took >= 1 s (a retried SYN): %s" % slow[:6])
t.ok(ctlib.host_sysctl(KEY) == max_before, "ct full: nf_conntrack_max back at %s" % max_before)

# SIGINT in the middle of the same run: stops early, restores, exit 0.
path = os.path.join(tmp, "full.ini")
p = subprocess.Popen([ctlib.CTLOAD, "run", path, "--out", os.path.join(tmp, "full-int"),
                      "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(4)
during = ctlib.host_sysctl(KEY)
p.send_signal(signal.SIGINT)
try:
    _, err = p.communicate(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
    _, err = p.communicate()
t.ok(during == "2000", "SIGINT: the max was 2000 while the run went (%s)" % during)
t.ok(p.returncode == 0 and "interrupted" in err, "SIGINT: the run stops and says so (%d)" %
     p.returncode, err[-1500:])
t.ok(ctlib.host_sysctl(KEY) == max_before, "SIGINT: nf_conntrack_max back at %s" % max_before)
t.ok(not ctlib.netns_list(), "SIGINT: no lab netns left", ctlib.netns_list())

TUPLES = """
[scenario]
name = tuples
[lab]
clients = 1
conntrack_on = server
[server]
port = %s
[load]
rate = 400/s
duration = 8s
[sysctl.client]
net.ipv4.ip_local_port_range = 40000 40999
net.ipv4.tcp_tw_reuse = 1
"""
r1, s1, _ = run("tuples1", TUPLES % "11211")
r16, s16, _ = run("tuples16", TUPLES % "11211-11226")
p1 = (s1.get("steps") or [{}])[0].get("ct", {}).get("peak", 0)
p16 = (s16.get("steps") or [{}])[0].get("ct", {}).get("peak", 0)
t.ok(r1.returncode == 0 and r16.returncode == 0, "tuples: both runs exit 0",
     r1.stderr[-1500:] + r16.stderr[-1500:])
t.ok(0 < p1 <= 1000 * 1.1,
     "tuples: one client IP to one server port holds at most ~1000 entries, its ports (%d)" % p1)
t.ok(p16 > 1.5 * p1 and p16 > 2000,
     "tuples: 16 server ports at the same rate hold more (%d vs %d)" % (p16, p1))
space = (s16.get("steps") or [{}])[0].get("tuples", {}).get("space", 0)
t.ok(space >= 16 * 1000, "tuples: the run records the tuple space (%s)" % space)

# tcp_fin_timeout=5 on the client: TIME_WAIT still lasts 60 s.
sc = ctlib.write_scenario("""
[scenario]
name = fin-timeout
[lab]
conntrack_on = none
[server]
mode = echo
port = 11211
[load]
rate = 10/s
[sysctl.client]
net.ipv4.tcp_fin_timeout = 5
""")
r, lab = ctlib.lab_up(sc)
if t.ok(lab is not None, "fin_timeout: lab up", r.stderr[-1500:]):
    cli = ctlib.lab_netns(lab, "cli")
    t.ok(ctlib.netns_sysctl(cli, "net.ipv4.tcp_fin_timeout") == "5",
         "fin_timeout: tcp_fin_timeout is 5 in the client netns")
    n = ctlib.ns_connect_many(cli, "198.19.0.1", [11211], 100)
    tw0 = ctlib.sockstat(cli).get("tw", 0)
    time.sleep(10)
    tw10 = ctlib.sockstat(cli).get("tw", 0)
    t.ok(n == 100 and tw0 >= 95, "fin_timeout: 100 connections, %d in TIME_WAIT" % tw0)
    t.ok(tw10 == tw0, "fin_timeout: 10 s later still %d in TIME_WAIT (not cut to 5 s)" % tw10)
    t.ok(ctlib.lab_down(lab).returncode == 0, "fin_timeout: lab down")
t.done()
