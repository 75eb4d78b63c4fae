"""A full conntrack table, as a user would watch it: with [sysctl.host]
nf_conntrack_max tiny and conntrack_on = server, new connections past the
limit are dropped; the samplers count ct.drop in the server netns, the
kernel's "table full" line lands in events.log, and the host's value is
restored afterwards. Bounded: 40 connections, 0.3 s connect timeout."""
import os
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
KEY = "net.netfilter.nf_conntrack_max"
old_max = ctlib.remember_host_sysctl(KEY)
LIMIT, N = 20, 40

sc = ctlib.write_scenario("""
[scenario]
name = lab-full
[lab]
path = direct
conntrack_on = server
[server]
mode = echo
port = 11900
[load]
rate = 10/s
[sysctl.host]
%s = %d
""" % (KEY, LIMIT))
out = tempfile.mkdtemp(prefix="ctlab-full-")
p = ctlib.spawn([ctlib.CTLOAD, "lab", "up", sc, "--foreground", "--dir", out],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
lab = ctlib.wait_lab_of(p.pid)
if not t.ok(lab is not None, "lab up --foreground came up"):
    p.kill()
    t.done()
t.ok(ctlib.host_sysctl(KEY) == str(LIMIT), "nf_conntrack_max is %d during the test" % LIMIT)

n = ctlib.ns_connect_many(ctlib.lab_netns(lab, "cli"), "198.19.0.1", [11900], N, timeout=0.3)
t.ok(LIMIT * 0.5 <= n < N, "about %d of %d connections got through a table of %d (%d)"
     % (LIMIT, N, LIMIT, n), n)
time.sleep(0.5)

p.send_signal(signal.SIGTERM)
try:
    p.communicate(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
t.ok(p.returncode == 0, "lab taken down", p.returncode)
t.ok(ctlib.host_sysctl(KEY) == old_max, "nf_conntrack_max back to %s" % old_max,
     ctlib.host_sysctl(KEY))
t.ok(not ctlib.lab_netns_left(lab), "no lab netns left", ctlib.netns_list())

samples = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl"))
drops = sum(s.get("ns", {}).get("server", {}).get("ct.drop", 0) for s in samples)
peak = max((s.get("ns", {}).get("server", {}).get("ct.count", 0) for s in samples), default=0)
t.ok(drops > 0, "samples: ct.drop deltas in the server netns add up to %d" % drops)
t.ok(peak == LIMIT, "samples: ct.count peaks at the limit (%d)" % peak)
t.ok(all(s.get("ns", {}).get("server", {}).get("ct.max") == LIMIT for s in samples),
     "samples: ct.max reads the host's limit in the server netns")
with open(os.path.join(out, "events.log")) as f:
    ev = f.read()
t.ok("kernel: " in ev and "table full" in ev, "events.log has the kernel's 'table full' line",
     ev[-800:])
t.ok(any("table full" in e for s in samples for e in s.get("events", [])),
     "the sample that saw it lists the event")
t.done()
