#!/usr/bin/env python3
"""Pinpointing the threshold in a lab: measured against the model within
+-10%, the binding limit named right, the long-timer limits found by the
time-to-failure method in well under their timer, the search converging to
2% in at most 12 trials, and a collapse without errors named as the
client's port search."""

import os
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
tmp = tempfile.mkdtemp(prefix="ct-threshold-")


def run(name, text):
    path = ctlib.scenario_file(os.path.join(tmp, name + ".ini"), text)
    out = os.path.join(tmp, name)
    t0 = time.time()
    r, summary = ctlib.ctload_run(path, out, timeout=240)
    return r, summary or {}, time.time() - t0


def check_threshold(case, summary, want_cps, want_limit, want_method=None):
    ths = summary.get("thresholds", [])
    if not t.ok(len(ths) == 1, "%s: one threshold recorded" % case, ths):
        return None
    th = ths[0]
    got = th.get("measured_cps") or 0
    t.ok(abs(got - want_cps) <= 0.10 * want_cps,
         "%s: measured %.1f/s is within 10%% of %.1f/s" % (case, got, want_cps), th)
    pred = th.get("predicted_cps") or 0
    t.ok(abs(pred - want_cps) <= 0.01 * want_cps,
         "%s: the model predicts %.1f/s" % (case, want_cps), th)
    t.ok(th.get("binding_limit") == want_limit,
         "%s: the binding limit is %s (got %s)" % (case, want_limit, th.get("binding_limit")))
    err = th.get("error_pct")
    t.ok(err is not None and abs(err) <= 10,
         "%s: error_pct %s is recorded and within 10%%" % (case, err))
    if want_method:
        t.ok(th.get("method") == want_method,
             "%s: found by the %s method (got %s)" % (case, want_method, th.get("method")))
    return th


SEARCH = """
[search]
precision = 2%
trial = 3s
cooldown = fresh-netns
"""

# (a) tw_reuse = 1, 400 client ports, reuse delay 1000 ms: 400/s
r, s, _ = run("a", """
[scenario]
name = thr-a
[lab]
clients = 1
conntrack_on = none
[server]
port = 11211
[load]
rate = 100/s
[sysctl.client]
net.ipv4.tcp_tw_reuse = 1
net.ipv4.tcp_tw_reuse_delay = 1000
net.ipv4.ip_local_port_range = 40000 40399
""" + SEARCH)
t.ok(r.returncode == 0, "(a) ctload run exits 0", r.stderr[-2000:])
th = check_threshold("(a)", s, 400, "client_ports", "search")
if th:
    steps = s.get("steps", [])
    t.ok(th.get("trials", 99) <= 12, "(a) 2%% precision in %s trials (<= 12)" % th.get("trials"))
    t.ok(len(steps) == th.get("trials"),
         "(a) every trial is a step of summary.json (%d steps)" % len(steps))
    t.ok(all("rate" in st.get("search", {}) and st.get("verdict") in ("pass", "fail")
             for st in steps), "(a) every trial carries its rate and verdict")
    fails = [st for st in steps if st.get("verdict") == "fail"]
    t.ok(fails and all(st.get("fail_cause", {}).get("limit") == "client_ports" for st in fails),
         "(a) every failed trial is attributed to the client ports",
         [st.get("fail_cause") for st in fails])

# (c) as (a) with two client IPs: 800/s
r, s, _ = run("c", """
[scenario]
name = thr-c
[lab]
clients = 2
conntrack_on = none
[server]
port = 11211
[load]
rate = 200/s
[sysctl.client]
net.ipv4.tcp_tw_reuse = 1
net.ipv4.tcp_tw_reuse_delay = 1000
net.ipv4.ip_local_port_range = 40000 40399
""" + SEARCH)
t.ok(r.returncode == 0, "(c) ctload run exits 0", r.stderr[-2000:])
check_threshold("(c)", s, 800, "client_ports", "search")

# (b) nf_conntrack_max 3000, conntrack time_wait 15 s: 200/s, inferred
# from how fast a 1000/s load filled the table.
max_before = ctlib.host_sysctl("net/netfilter/nf_conntrack_max")
r, s, wall = run("b", """
[scenario]
name = thr-b
[lab]
clients = 2
conntrack_on = server
[server]
port = 11211
[load]
rate = 1000/s
duration = 8s
[sysctl.host]
net.netfilter.nf_conntrack_max = 3000
[sysctl.server]
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 15
""")
t.ok(r.returncode == 0, "(b) ctload run exits 0", r.stderr[-2000:])
th = check_threshold("(b)", s, 200, "conntrack", "inferred")
if th:
    t.ok(th.get("inferred", {}).get("limit") == "conntrack",
         "(b) what ran out is the conntrack table", th.get("inferred"))
st = (s.get("steps") or [{}])[0]
t.ok(st.get("fail_cause", {}).get("limit") == "conntrack",
     "(b) the failed step names the conntrack table", st.get("fail_cause"))
t.ok(ctlib.host_sysctl("net/netfilter/nf_conntrack_max") == max_before,
     "(b) the host's nf_conntrack_max is back at %s" % max_before)

# (d) tw_reuse = 0, 1,000 ports: 1000 / 60 s = 16.7/s, from a short step
# above it: found in well under a minute, not in a 60 s trial.
r, s, wall = run("d", """
[scenario]
name = thr-d
[lab]
clients = 1
conntrack_on = none
[server]
port = 11211
[load]
rate = 200/s
duration = 8s
[sysctl.client]
net.ipv4.tcp_tw_reuse = 0
net.ipv4.ip_local_port_range = 40000 40999
""")
t.ok(r.returncode == 0, "(d) ctload run exits 0", r.stderr[-2000:])
check_threshold("(d)", s, 1000 / 60, "client_ports", "inferred")
t.ok(wall < 60, "(d) found in %.0f s, under a minute" % wall)

# Silent collapse: the full default range, reuse off, far above the limit.
# The rate falls apart before (or without) any EADDRNOTAVAIL; the step must
# fail and name the client's ports all the same.
r, s, _ = run("cliff", """
[scenario]
name = thr-cliff
[lab]
conntrack_on = none
[server]
port = 11211
[load]
rate = 12k/s
duration = 6s
[sysctl.client]
net.ipv4.tcp_tw_reuse = 0
net.ipv4.ip_local_port_range = 32768 60999
""")
t.ok(r.returncode == 0, "collapse: ctload run exits 0", r.stderr[-2000:])
st = (s.get("steps") or [{}])[0]
t.ok(st.get("verdict") == "fail", "collapse: the step fails (%s)" % st.get("fail_reason"))
t.ok(st.get("fail_cause", {}).get("limit") == "client_ports",
     "collapse: the cause named is the client ports", st.get("fail_cause"))
t.diag("collapse: eaddrnotavail=%s, connect_call p99=%s us, achieved %s/s" % (
    st.get("failures", {}).get("eaddrnotavail"), st.get("connect_call_us", {}).get("p99"),
    st.get("rate_achieved")))

t.done()
