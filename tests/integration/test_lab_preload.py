#!/usr/bin/env python3
"""[lab] preload: a conntrack table of 1M entries made in seconds, visible
to the user's own tools, and gone after `ctload lab down` and after a
SIGKILLed run (once the next ctload recovers its lab).

1. `ctload lab up` with preload = 1M: done well inside the budget (the time
   is printed; about 4 s here), `conntrack -C` in the tracking netns counts
   them, `ctload lab status --json` and events.log say how many.
2. `ctload lab down`: the netns is gone and the kernel's nf_conntrack slab
   (/proc/slabinfo) is back where it was before: no entry outlives the lab.
3. `ctload run` SIGKILLed after its preload: the entries are still there
   (nothing cleaned up), and `ctload lab recover` removes them.
4. A run whose preload does not fit nf_conntrack_max stops with exit 2 and
   a message naming lab.preload and nf_conntrack_max, leaving nothing.
5. A preload that leaves the load 4,000 entries of the max: the run's step
   shows ct.preloaded apart from ct.peak, the table fills with the load's
   entries ("table full" drops, the cause named conntrack), and the model
   gives the load only the rest: (max - preload) / timeout.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")

N = 1000000
MAX = "1200000"
ctlib.remember_host_sysctl("net.netfilter.nf_conntrack_max")
tmp = tempfile.mkdtemp(prefix="ctt-preload-")

SCENARIO = """
[scenario]
name = preload
[lab]
conntrack_on = server
preload = 1M
[server]
mode = echo
port = 11451
[load]
rate = 100/s
duration = %s
request = "hi\\r\\n"
sustain = off
[sysctl.host]
net.netfilter.nf_conntrack_max = %s
"""


def slab_objects():
    """Allocated conntrack entries of every netns: the nf_conntrack slab."""
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.startswith("nf_conntrack "):
                return int(line.split()[1])
    return 0


def slab_back(base, timeout=60):
    """Wait for a deleted netns's entries to be freed (the kernel does it
    after `ip netns del` returns, then RCU)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = slab_objects()
        if n <= base + 10000:
            return n
        time.sleep(0.5)
    return slab_objects()


def ct_count(ns):
    r = ctlib.run(["conntrack", "-C"], netns=ns)
    return int(r.stdout.strip() or 0) if r.returncode == 0 else -1


def preload_line(events):
    """(created, seconds) from events.log's preload line."""
    with open(events) as f:
        for line in f:
            m = re.search(r"preload: (\d+) conntrack entries .* in ([\d.]+) s", line)
            if m:
                return int(m.group(1)), float(m.group(2))
    return None


# A netns deleted just before (an earlier test's) frees its entries for a
# while yet: start from a settled count.
base = slab_objects()
for _ in range(60):
    time.sleep(0.5)
    now = slab_objects()
    if abs(now - base) < 1000:
        break
    base = now
base = min(base, now)
t.diag("nf_conntrack slab before: %d objects" % base)

# 1. lab up with the preload
path = ctlib.write_scenario(SCENARIO % ("5s", MAX), "preload")
d = os.path.join(tmp, "up")
t0 = time.time()
r, lab = ctlib.lab_up(path, "--dir", d, timeout=120)
took = time.time() - t0
t.ok(r.returncode == 0 and lab, "lab up with preload = 1M", r.stderr[-400:])
pl = preload_line(os.path.join(d, "events.log")) if lab else None
t.diag("lab up took %.1f s; events.log: %s" % (took, pl))
t.ok(pl and pl[0] >= N * 0.99 and pl[1] < 60,
     "the preload made %s of 1M entries in %s s (< 60)" % (pl and pl[0], pl and pl[1]))
srv = ctlib.lab_netns(lab, "srv") if lab else None
n = ct_count(srv) if lab else -1
t.ok(n >= N * 0.99, "conntrack -C in %s counts them: %d" % (srv, n))
st = json.loads(ctlib.run([ctlib.CTLOAD, "lab", "status", "--json"]).stdout or "[]")
info = [x["info"] for x in st if x.get("id") == lab]
pre = info[0].get("preload", {}) if info else {}
t.ok(pre.get("created", 0) >= N * 0.99 and pre.get("netns") == srv,
     "lab status shows the preload", json.dumps(pre))

# 2. lab down removes them
r = ctlib.lab_down(lab)
t.ok(r.returncode == 0 and srv not in ctlib.netns_list(), "lab down removes the netns",
     r.stderr[-300:])
after = slab_back(base)
t.ok(after <= base + 10000, "no conntrack entry left after lab down: slab %d (before %d)"
     % (after, base))

# 3. a run killed after its preload; the next ctload removes them
out = os.path.join(tmp, "killed")
path = ctlib.write_scenario(SCENARIO % ("60s", MAX), "preload-kill")
p = ctlib.spawn([ctlib.CTLOAD, "run", path, "--out", out])
ev = os.path.join(out, "events.log")
deadline = time.time() + 90
while time.time() < deadline and p.poll() is None and not (
        os.path.exists(ev) and "ctserver pid" in open(ev).read()):
    time.sleep(0.2)
kill_id = None
if os.path.exists(ev):
    m = re.search(r"lab (\w+) up for", open(ev).read())
    kill_id = m and m.group(1)
p.send_signal(signal.SIGKILL)
p.wait()
ns = ctlib.lab_netns(kill_id, "srv") if kill_id else None
n = ct_count(ns) if ns else -1
t.ok(n >= N * 0.99, "after SIGKILL the entries are still in %s: %d" % (ns, n))
r = ctlib.run([ctlib.CTLOAD, "lab", "recover"], timeout=120)
t.ok(r.returncode == 0 and ns not in ctlib.netns_list(), "ctload lab recover removes the netns",
     r.stderr[-300:])
after = slab_back(base)
t.ok(after <= base + 10000, "no conntrack entry left after recovery: slab %d (before %d)"
     % (after, base))

# 4. a preload the global max cannot hold
path = ctlib.write_scenario(SCENARIO % ("5s", "500000"), "preload-big")
before = set(ctlib.netns_list())
r = ctlib.run([ctlib.CTLOAD, "run", path, "--out", os.path.join(tmp, "big")], timeout=120)
t.ok(r.returncode == 2 and "lab.preload" in r.stderr and "nf_conntrack_max" in r.stderr,
     "a preload over nf_conntrack_max: exit 2 naming both", "rc %d: %s" % (r.returncode,
                                                                         r.stderr[-400:]))
left = set(ctlib.netns_list()) - before
t.ok(not left, "no netns left behind by the refused run", sorted(left))

# 5. the load on top of a preload
FULL = """
[scenario]
name = preload-full
[lab]
conntrack_on = server
clients = 4
preload = 200k
[server]
mode = echo
port = 11452-11455
[load]
rate = 1000/s
duration = 10s
request = "hi\\r\\n"
connect_timeout = 2s
sustain = off
[sysctl.host]
net.netfilter.nf_conntrack_max = 204000
"""
path = ctlib.write_scenario(FULL, "preload-full")
m = ctlib.run([ctlib.CTLOAD, "model", path])
t.ok("(nf_conntrack_max 204000 - 200000 preloaded) / time_wait timeout 120 s" in m.stdout,
     "ctload model gives the load only the rest of the max", m.stdout[-1500:])
r, s = ctlib.ctload_run(path, os.path.join(tmp, "full"), timeout=120)
st = (s or {}).get("steps", [{}])[-1]
ct = st.get("ct", {})
t.ok(ct.get("preloaded") == 200000 and ct.get("peak", 0) >= 200000,
     "the step shows the 200000 preloaded entries apart from the peak (%s of %s)"
     % (ct.get("preloaded"), ct.get("peak")), ct)
t.ok(ct.get("drop", 0) > 0 and (st.get("fail_cause") or {}).get("limit") == "conntrack",
     "the load fills the rest: 'table full' drops, the cause named conntrack",
     (ct, st.get("fail_cause")))
t.done()
