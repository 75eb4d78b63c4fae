#!/usr/bin/env python3
"""[search] in host mode against ctserver: exponential then binary search
on the rate; every trial is a step judged by fail_when (verdict and
fail_reason), the threshold lands in summary.thresholds, and [expect] can
test it."""
import os
import shutil
import tempfile

import ctlib

t = ctlib.start()
tmp = tempfile.mkdtemp(prefix="ctt-search-")
port = ctlib.free_port()
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                   str(port), "--workers", "1", "--max-conns", "30000", "--backlog", "8192"])
t.ok(ctlib.wait_port("127.0.0.1", port), "ctserver listens")
sc = ctlib.scenario_file(os.path.join(tmp, "search.ini"), """
    [scenario]
    name = search
    topology = host
    [server]
    target = 127.0.0.1:%d
    [load]
    rate = 1000/s
    connect_timeout = 1s
    reply_timeout = 1s
    [search]
    precision = 30%%
    trial = 500ms
    [expect]
    threshold >= 1k/s
    """ % port)
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run"), timeout=120)
t.ok(r.returncode == 0, "the search runs and [expect] threshold >= 1k/s holds", r.stderr)
steps = s["steps"] if s else []
th = s["thresholds"] if s else []
t.ok(len(th) == 1 and th[0]["measured_cps"] >= 1000, "one threshold, at least the start rate",
     th)
rates = [x["search"]["rate"] for x in steps]
t.ok(rates[:2] == [1000.0, 2000.0], "the search doubles from the start rate", rates)
t.ok(all(x["verdict"] in ("pass", "fail") for x in steps), "every trial has a verdict")
t.ok(all(x["fail_reason"] for x in steps if x["verdict"] == "fail") and
     all(x["fail_reason"] is None for x in steps if x["verdict"] == "pass"),
     "a failed trial says why, a passed one does not",
     [(x["verdict"], x["fail_reason"]) for x in steps])
passed = [x["search"]["rate"] for x in steps if x["verdict"] == "pass"]
t.ok(th and passed and th[0]["measured_cps"] == max(passed),
     "the threshold is the highest passing rate (%s)" % passed)
if th and th[0]["bounded"]:
    failed = min(x["search"]["rate"] for x in steps if x["verdict"] == "fail")
    t.ok((failed - max(passed)) / failed <= 0.3 + 1e-9, "bounds within the 30%% precision "
         "(%s .. %s)" % (max(passed), failed))
ctlib.stop(srv)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
