#!/usr/bin/env python3
"""ctload run against Debian's memcached on 127.0.0.1: every scheduled
connection completes, and summary.json agrees with memcached's own count."""
import os
import shutil
import tempfile

import ctlib

t = ctlib.start()
if not shutil.which("memcached"):
    t.skip_all("memcached is not installed (scripts/setup installs it)")
tmp = tempfile.mkdtemp(prefix="ctt-mc-")
port = ctlib.free_port()
argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-c", "4096", "-t", "1"]
if os.geteuid() == 0:
    argv += ["-u", "nobody"]
mc = ctlib.spawn(argv)
t.ok(ctlib.wait_port("127.0.0.1", port), "memcached listens on 127.0.0.1:%d" % port)

N, RATE = 3000, 1000
sc = ctlib.scenario_file(os.path.join(tmp, "mc.ini"), """
    [scenario]
    name = mc-host
    topology = host
    [server]
    mode = memcache
    target = 127.0.0.1:%d
    [load]
    rate = %d/s
    duration = 3s
    request = "get k{seq}\\r\\n"
    expect = "END\\r\\n"
    [expect]
    completed == 3000
    errors == 0
    """ % (port, RATE))

before = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
out = os.path.join(tmp, "run")
r, s = ctlib.ctload_run(sc, out)
after = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
t.ok(r.returncode == 0, "ctload run exits 0 when every [expect] holds", r.stderr)
t.ok(s is not None, "summary.json is valid JSON")
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(step.get("completed") == N, "all %d connections completed" % N, step)
t.ok(all(v == 0 for v in step.get("failures", {"x": 1}).values()), "no failure of any cause",
     step.get("failures"))
# Our stats connection counts once more than the load.
t.ok(after - before - 1 == N, "memcached counted %d connections, ctload %d" %
     (after - before - 1, step.get("completed")))
for k in ("eaddrnotavail", "timeout", "refused", "reset", "protocol", "emfile", "other"):
    t.ok(k in step.get("failures", {}), "summary failures has key %s" % k)
for k in ("p50", "p90", "p99", "max"):
    t.ok(k in step.get("connect_ms", {}), "summary connect_ms has %s" % k)
t.ok(abs(step.get("rate_achieved", 0) - RATE) <= RATE * 0.01, "rate_achieved is %s" %
     step.get("rate_achieved"))
t.ok(os.path.exists(os.path.join(out, "scenario.ini")), "the run directory has scenario.ini")
ts = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl"))
t.ok(len(ts) >= 25, "timeseries.jsonl has one line per 100 ms sample (%d)" % len(ts))
t.ok(all(k in ts[-1] for k in ("t", "step", "rate_target", "attempted", "established",
                                "completed", "failures", "inflight", "connect_ms",
                                "connect_call_us", "total_ms", "cpu", "syn_retrans")),
     "a sample carries the documented fields", ts[-1])
t.ok(ts[-1]["completed"] == N, "the last sample shows every completion")

# An [expect] that does not hold -> exit 1.
sc2 = os.path.join(tmp, "mc2.ini")
with open(sc) as f:
    text = f.read().replace("completed == 3000", "completed > 3000")
with open(sc2, "w") as f:
    f.write(text)
r, s = ctlib.ctload_run(sc2, os.path.join(tmp, "run2"), sets=["load.duration=1s"])
t.ok(r.returncode == 1, "a failed [expect] exits 1", r.stderr)
t.ok(s and s["expect"] and s["expect"][0]["held"] is False, "summary.json records it")
ctlib.stop(mc)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
