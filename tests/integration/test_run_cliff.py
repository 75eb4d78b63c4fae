#!/usr/bin/env python3
"""The cliff before the wall: a lab client with the full 1024-65535 range,
tcp_tw_reuse = 0 and the client closing first fills its ports with
TIME_WAIT. Long before the first EADDRNOTAVAIL, connect() has to search
further and further for a free port: the time inside connect() jumps by
orders of magnitude, the achieved rate collapses, and no error is counted.
The data must show it: connect_call_us per sample, attempt_rate, unsent."""
import os
import shutil
import statistics
import tempfile

import ctlib

t = ctlib.start(require_root=True)
tmp = tempfile.mkdtemp(prefix="ctt-cliff-")
RATE, DUR = 8000, 8
sc = ctlib.scenario_file(os.path.join(tmp, "cliff.ini"), """
    [scenario]
    name = cliff
    topology = lab
    [lab]
    path = direct
    conntrack_on = none
    [server]
    mode = memcache
    close = client
    [load]
    rate = %d/s
    duration = %ds
    connect_timeout = 2s
    max_inflight = 4000
    [sysctl.client]
    net.ipv4.tcp_tw_reuse = 0
    net.ipv4.ip_local_port_range = 1024 65535
    """ % (RATE, DUR))
out = os.path.join(tmp, "run")
r, s = ctlib.ctload_run(sc, out, timeout=120)
t.ok(r.returncode == 0, "ctload run exits 0", r.stderr)
step = s["steps"][0] if s and s.get("steps") else {}
ts = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl"))
t.ok(step.get("wall_s", 99) < DUR + 1 + 3 + 3 + 1, "the step stays bounded (%.1f s)" %
     step.get("wall_s", 0))
early = [x["connect_call_us"]["p50"] for x in ts[1:10] if x["attempt_rate"] > 0]
late = max((x["connect_call_us"]["p50"] for x in ts), default=0)
base = statistics.median(early) if early else 0
t.diag("connect() p50: %.0f us at first, up to %.0f us later" % (base, late))
t.ok(base > 0 and late >= 20 * base, "the time inside connect() jumps at least 20x")
t.ok(step.get("rate_achieved", RATE) < 0.8 * RATE,
     "the achieved rate collapses (%.0f/s of %d/s)" % (step.get("rate_achieved", 0), RATE))
t.ok(step.get("failures", {}).get("eaddrnotavail", -1) == 0,
     "yet not one EADDRNOTAVAIL: an error count alone would miss it", step.get("failures"))
t.ok(step.get("unsent", 0) > 0, "the connections never started show as unsent (%s)" %
     step.get("unsent"))
shutil.rmtree(tmp, ignore_errors=True)
t.done()
