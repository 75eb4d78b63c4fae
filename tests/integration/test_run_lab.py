#!/usr/bin/env python3
"""ctload run with topology = lab: the lab comes up, each sweep point gets a
fresh client netns and its own sysctls, the samplers add per-netns
counters to every sample, the step hooks add ct/tw peaks, [expect] can use
them, and nothing is left behind. With a 200-port range and the client
closing first, tcp_tw_reuse = 0 stops at 200 connections (EADDRNOTAVAIL);
tcp_tw_reuse = 1 reuses TIME_WAIT ports after tcp_tw_reuse_delay (1 s)."""
import os
import shutil
import tempfile

import ctlib

t = ctlib.start(require_root=True)
tmp = tempfile.mkdtemp(prefix="ctt-runlab-")
sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), """
    [scenario]
    name = runlab
    topology = lab
    [lab]
    path = direct
    conntrack_on = server
    [server]
    mode = memcache
    close = client
    [load]
    rate = 300/s
    duration = 2s
    [sysctl.client]
    net.ipv4.ip_local_port_range = 40000 40199
    [sweep]
    sysctl.client.net.ipv4.tcp_tw_reuse = 0, 1
    [expect]
    ct.drop == 0
    failures.timeout == 0
    """)
out = os.path.join(tmp, "run")
r, s = ctlib.ctload_run(sc, out, timeout=120)
t.ok(r.returncode == 0, "ctload run (lab, 2 sweep points) exits 0", r.stderr)
steps = s["steps"] if s else []
t.ok(len(steps) == 2, "two steps, one per sweep point")
if len(steps) == 2:
    a, b = steps
    t.ok(a["settings"] == {"sysctl.client.net.ipv4.tcp_tw_reuse": "0"}, "step 1 settings",
         a["settings"])
    t.ok(a["completed"] == 200 and a["failures"]["eaddrnotavail"] == 400,
         "tw_reuse=0: 200 ports, then eaddrnotavail (%d, %s)" % (a["completed"], a["failures"]))
    t.ok(a.get("tw", {}).get("client_peak", 0) >= 200, "the step hook reports client TIME_WAIT",
         a.get("tw"))
    t.ok(a.get("ct", {}).get("peak", 0) >= 200, "the step hook reports the conntrack peak",
         a.get("ct"))
    t.ok(b["completed"] > a["completed"],
         "tw_reuse=1 in a fresh netns completes more (%d > %d)" % (b["completed"],
                                                                    a["completed"]))
ts = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl"))
t.ok(ts and "client" in ts[0].get("ns", {}), "samples carry the client netns counters",
     ts[0] if ts else None)
t.ok(s and len(s.get("expect", [])) == 2 and all(e["held"] for e in s["expect"]),
     "[expect] on lab fields held", s and s.get("expect"))
lab_id = (s or {}).get("lab", {}).get("id")
left = [n for n in ctlib.netns_list() if lab_id and n.startswith("ctl-%s-" % lab_id)]
t.ok(lab_id and not left, "summary.json names the lab (%s) and none of its netns is left" %
     lab_id, left)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
