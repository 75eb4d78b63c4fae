"""Sampling holds 10/s on a large conntrack table (issue 18).

A lab run (conntrack_on = server, 10 connections/s, 100 ms samples) whose
server table is filled over ctnetlink to 200,000 entries once the step is
under way. Before, the sampler walked the whole table on its tick once a
second and the sample rate fell (to 2.5/s at 196k entries). Now the walk
runs on its own thread on a CPU budget, so a user sees:
- 10 samples/s within 5% while the table holds >= 150k entries;
- every such sample carrying ct.states_age_s, the age of its per-state
  counts, and ct.states_degraded once the table is too large to walk each
  second within the budget (timeseries.csv has both columns, summary.json's
  step ct.states_age_max_s, report.html says how old the counts got);
- the per-state counts right while the table is small (1,000 entries
  filled first: 700 TIME_WAIT, 200 ESTABLISHED, 50 CLOSE, 50 SYN_SENT).
Bounded: one 24 s step; run it under the lab lock."""
import csv
import json
import os
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
FILL = os.path.join(os.environ.get("CT_BUILDDIR", "build"), "tests", "ct_table_fill")
if not os.access(FILL, os.X_OK):
    t.skip_all("no %s (build the tests)" % FILL)
KEY = "net.netfilter.nf_conntrack_max"
ctlib.remember_host_sysctl(KEY)
SMALL, BIG = 1000, 200000

sc = ctlib.write_scenario("""
[scenario]
name = sample-scale
[lab]
path = direct
conntrack_on = server
[server]
mode = echo
port = 12100-12103
[load]
rate = 10/s
duration = 24s
[report]
sample_interval = 100ms
[sysctl.host]
%s = 262144
""" % KEY)
out = tempfile.mkdtemp(prefix="ctsample-scale-")
p = ctlib.spawn([ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def fill(ns, n, first):
    r = ctlib.run(["ip", "netns", "exec", ns, FILL, str(n), "600", str(first)], timeout=60)
    t.ok(r.returncode == 0, "filled %d entries into %s: %s" % (n, ns, r.stdout.strip()),
         r.stderr)


ts_path = os.path.join(out, "timeseries.jsonl")
lab, end = None, time.time() + 30
while time.time() < end and not (lab and os.path.exists(ts_path)
                                 and os.path.getsize(ts_path) > 0):
    lab = lab or ctlib.lab_of(p.pid)
    time.sleep(0.05)
if not t.ok(lab is not None, "the run's lab is up and sampling"):
    p.kill()
    t.done()
srv = ctlib.lab_netns(lab, "srv")
fill(srv, SMALL, 0)
time.sleep(3)  # the walker counts a small table each second
fill(srv, BIG - SMALL, SMALL)
try:
    p.communicate(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
t.ok(p.returncode == 0, "ctload run exits 0", p.returncode)

samples = ctlib.read_jsonl(ts_path)
srv_of = [s.get("ns", {}).get("server", {}) for s in samples]
small = [o for o in srv_of if o.get("ct.states", {}).get("TIME_WAIT", 0) >= 700]
st = small[-1]["ct.states"] if small else {}
# The run's own 10 connections/s add a few TIME_WAIT and ESTABLISHED entries.
t.ok(700 <= st.get("TIME_WAIT", 0) <= 800 and 200 <= st.get("ESTABLISHED", 0) <= 210
     and st.get("CLOSE") == 50 and st.get("SYN_SENT") == 50,
     "the walk counts the small table by state: %s" % st, st)

big = [(s, o) for s, o in zip(samples, srv_of) if o.get("ct.count", 0) >= 150000]
span = big[-1][0]["t"] - big[0][0]["t"] if len(big) > 1 else 0
t.ok(span >= 15, "the table held >= 150k entries for %.1f s of samples" % span, len(big))
rate = (len(big) - 1) / span if span else 0
t.ok(abs(rate - 10) <= 0.5, "samples at %.2f/s at >= 150k entries (10/s within 5%%)" % rate)
gaps = [b[0]["t"] - a[0]["t"] for a, b in zip(big, big[1:])]
t.ok(gaps and max(gaps) < 0.2, "no sample late by a walk: the longest gap is %.3f s"
     % max(gaps or [0]), gaps[:20])
aged = [o for _, o in big if isinstance(o.get("ct.states_age_s"), (int, float))]
t.ok(len(aged) == len(big), "every sample at >= 150k entries carries ct.states_age_s (%d of %d)"
     % (len(aged), len(big)))
t.ok(all(isinstance(o.get("ct.states_degraded"), bool) for _, o in big),
     "... and ct.states_degraded")
ages = [o["ct.states_age_s"] for o in aged]
t.ok(ages and ages[-1] > ages[0],
     "the counts' age grows while the walk is held back (%.1f s to %.1f s)"
     % (ages[0] if ages else 0, ages[-1] if ages else 0))
t.ok(big and big[-1][1].get("ct.states_degraded") is True,
     "a 200k table is too large to walk each second within the budget: marked degraded")

with open(os.path.join(out, "summary.json")) as f:
    summary = json.load(f)
ct = summary["steps"][0].get("ct", {})
t.ok(ct.get("states_age_max_s", 0) >= ages[-1] - 0.01 if ages else False,
     "summary.json: the step's ct.states_age_max_s (%s)" % ct.get("states_age_max_s"), ct)
t.ok(ct.get("states_degraded") is True, "summary.json: the step's ct.states_degraded", ct)
with open(os.path.join(out, "timeseries.csv")) as f:
    head = next(csv.reader(f))
t.ok("ns.server.ct.states_age_s" in head and "ns.server.ct.states_degraded" in head,
     "timeseries.csv has the age and degraded columns", [h for h in head if "states" in h])
with open(os.path.join(out, "report.html")) as f:
    html = f.read()
t.ok('id="states-age"' in html and "Degraded" in html,
     "report.html says how old the per-state counts got, and that they were degraded")
t.done()
