#!/usr/bin/env python3
"""Sustained truth (run/sustain.h): a step that held for its duration passes
only when it is proven to hold longer.
  1. A short step above the conntrack limit the model predicts holds (no
     drop yet) but comes out `unsustained`, naming the conntrack table and
     projecting when it fills; the same point run longer fails, and the
     table fills within 15% of that projected time.
  2. A tuple-bounded point (tcp_tw_reuse = 1, 1,000 ports) with
     sustain = prove is proven sustained by its measured conntrack count
     (levelled off at the tuples in use) long before its 120 s horizon,
     and ends there; its threshold is "sustained".
The lab is small and fast: nf_conntrack_max 4096 and a 30 s conntrack
TIME_WAIT, so 400/s fills the table in about 10 s."""

import os
import tempfile

import ctlib

t = ctlib.start(require_root=True)
ctlib.remember_host_sysctl("net/netfilter/nf_conntrack_max")
tmp = tempfile.mkdtemp(prefix="ct-sustain-")

FILL = """
[scenario]
name = sustain-fill
[lab]
clients = 1
conntrack_on = server
[server]
mode = echo
port = 7000
[load]
rate = 400/s
duration = 4s
request = "hi\\r\\n"
expect = "hi\\r\\n"
[sysctl.client]
net.ipv4.tcp_tw_reuse = 0
[sysctl.server]
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 30
[sysctl.host]
net.netfilter.nf_conntrack_max = 4096
"""
path = ctlib.scenario_file(os.path.join(tmp, "fill.ini"), FILL)

# ---- 1. short: held, unsustained, projected -----------------------------------
r, s = ctlib.ctload_run(path, os.path.join(tmp, "short"), timeout=120)
st = (s or {}).get("steps", [{}])[0]
t.ok(r.returncode == 0, "the short step runs (exit 0: no [expect])", r.stderr[-2000:])
t.ok(st.get("ct", {}).get("drop", 1) == 0 and sum(st.get("failures", {}).values()) == 0,
     "the 4 s step held: no drop, no failed connection", (st.get("ct"), st.get("failures")))
t.ok(st.get("verdict") == "unsustained" and st.get("sustained") is False,
     "yet its verdict is unsustained (%s)" % st.get("verdict"), st.get("sustain"))
proj = st.get("projection") or {}
t.ok(proj.get("limit") == "conntrack" and proj.get("count") == "server.ct.count",
     "the projection names the conntrack table (%s)" % proj)
t_proj = proj.get("fail_at_s") or 0
t.ok(8 <= t_proj <= 13, "and projects it full at about 4096 / 400/s = 10 s (%.1f s)" % t_proj)
t.ok(st.get("horizon_s") == 60,
     "the horizon is 60 s, the client's TIME_WAIT, longer than the 30 s conntrack timeout (%s)"
     % st.get("horizon_s"))
t.ok("conntrack" in (st.get("fail_reason") or ""), "fail_reason says why: %s" % st.get("fail_reason"))
th = ((s or {}).get("thresholds") or [{}])[0]
t.ok(th.get("method") != "held" and th.get("method") != "sustained",
     "no threshold claims the rate held (%s)" % th.get("method"))

# ---- 1b. the same point, longer: it fails when the projection said --------------
r, s = ctlib.ctload_run(path, os.path.join(tmp, "long"), sets=["load.duration=16s"], timeout=120)
st = (s or {}).get("steps", [{}])[0]
t.ok(st.get("verdict") == "fail" and st.get("ct", {}).get("drop", 0) > 0,
     "run 16 s, the same point fails with conntrack drops (%s)" % st.get("verdict"), st.get("ct"))
full_at = (st.get("first_failure") or {}).get("ct_drop_s")
t.ok(full_at is not None and abs(full_at - t_proj) <= 0.15 * t_proj,
     "the table filled (first drop) at %s s, within 15%% of the %.1f s projected" % (full_at, t_proj),
     st.get("sustain"))

# ---- 2. tuple-bounded: proven by its plateau, early ----------------------------
BOUNDED = FILL.replace("name = sustain-fill", "name = sustain-bounded") \
    .replace("rate = 400/s", "rate = 500/s") \
    .replace("duration = 4s", "duration = 4s\nsustain = prove") \
    .replace("net.ipv4.tcp_tw_reuse = 0",
             "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.ip_local_port_range = 40000 40999") \
    .replace("nf_conntrack_tcp_timeout_time_wait = 30", "nf_conntrack_tcp_timeout_time_wait = 120") \
    .replace("nf_conntrack_max = 4096", "nf_conntrack_max = 65536")
path = ctlib.scenario_file(os.path.join(tmp, "bounded.ini"), BOUNDED)
r, s = ctlib.ctload_run(path, os.path.join(tmp, "bounded"), timeout=200)
st = (s or {}).get("steps", [{}])[0]
t.ok(r.returncode == 0 and st.get("verdict") == "pass" and st.get("sustained") is True,
     "reuse on, 1,000 ports: the step passes, proven sustained (%s)" % st.get("verdict"),
     (r.stderr[-1500:], st.get("sustain")))
counts = {c.get("count"): c for c in (st.get("sustain") or {}).get("counts", [])}
ct = counts.get("server.ct.count", {})
t.ok(ct.get("state") in ("plateau", "bounded") and 0 < ct.get("value", 0) <= 1000
     and ct.get("bound_at_horizon", 1e9) < 0.95 * 65536,
     "by its measured count: the entries level off at the tuples in use (at most 1,000) and "
     "stay far under the table up to the horizon (%s)" % ct)
t.ok(st.get("horizon_s") == 120 and 0 < st.get("ended_at_s", 999) < 30,
     "proven at %.0f s, long before its 120 s horizon" % st.get("ended_at_s", -1))
th = ((s or {}).get("thresholds") or [{}])[0]
t.ok(th.get("method") == "sustained" and th.get("measured_cps") == 500,
     "its threshold is a sustained lower bound of 500/s (%s)" % th.get("method"))
t.done()
