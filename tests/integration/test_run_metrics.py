#!/usr/bin/env python3
"""[report] metrics_listen on loopback (host mode, no lab, no root needed):
port 0 in the scenario picks a free port and the run says which, even with
--quiet; the endpoint answers there while the run goes on, with unit-suffixed
rate gauges that promtool's linter accepts (when promtool is installed: the
Debian package prometheus); a port another socket holds refuses the run with
exit 3 before the run directory is made, naming the address."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start()
if not shutil.which("curl"):
    t.skip_all("curl missing")
tmp = tempfile.mkdtemp(prefix="ctt-runmetrics-")
sport = ctlib.free_port()
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                   str(sport), "--workers", "1"])
t.ok(ctlib.wait_port("127.0.0.1", sport), "ctserver listens on 127.0.0.1")
sc = ctlib.scenario_file(os.path.join(tmp, "m.ini"), """
    [scenario]
    name = metrics-port0
    topology = host
    [server]
    mode = memcache
    target = 127.0.0.1:%d
    [load]
    rate = 200/s
    duration = 3s
    [report]
    metrics_listen = 127.0.0.1:0
    """ % sport)

# ---- 1. port 0 in the scenario --------------------------------------------
out = os.path.join(tmp, "r0")
p = subprocess.Popen([ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
first = p.stderr.readline()  # the note comes before any load
m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", first)
t.ok(m is not None and int(m.group(1)) > 0,
     "metrics_listen = 127.0.0.1:0 is accepted and the bound port is said, with --quiet too",
     first)
scrapes = []
deadline = time.time() + 30
while m and p.poll() is None and time.time() < deadline:
    r = subprocess.run(["curl", "-sf", "--max-time", "2",
                        "http://127.0.0.1:%s/metrics" % m.group(1)],
                       capture_output=True, text=True)
    if r.returncode == 0 and "ctload_step " in r.stdout:
        scrapes.append(r.stdout)
    time.sleep(0.2)
rest = p.communicate(timeout=60)[1]
t.ok(p.returncode == 0, "the run exits 0", first + rest)
t.ok(scrapes, "the endpoint on the said port answers while the run goes on")
text = scrapes[-1] if scrapes else ""
fams = ctlib.prom_parse(text) if text else {}
for name in ("ctload_rate_per_second", "ctload_rate_target_per_second"):
    t.ok(fams.get(name, {}).get("type") == "gauge", "%s is a gauge (the unit in its name)"
         % name, sorted(fams))
t.ok("ctload_rate" not in fams and "ctload_rate_target" not in fams,
     "the names without a unit are gone")
promtool = shutil.which("promtool")
if promtool and text:
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True)
    # node_* names are node_exporter's own (TcpExt_... is camelCase there
    # too); ctload's names must pass the linter.
    bad = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.startswith("ctload_")]
    t.ok(not bad, "promtool check metrics: no problem with any ctload_* name", "\n".join(bad))
else:
    t.diag("SKIP promtool check: promtool not installed (Debian package prometheus)")

# ---- 2. a port that is taken ------------------------------------------------
held = socket.socket()
held.bind(("127.0.0.1", 0))
held.listen(1)
hport = held.getsockname()[1]
out2 = os.path.join(tmp, "taken")
r = ctlib.run([ctlib.CTLOAD, "run", sc, "--out", out2, "--quiet", "--set",
               "report.metrics_listen=127.0.0.1:%d" % hport], timeout=60)
t.ok(r.returncode == 3 and "127.0.0.1:%d" % hport in r.stderr and "in use" in r.stderr,
     "a metrics port in use: exit 3, the address named", (r.returncode, r.stderr))
t.ok(not os.path.exists(out2), "no run directory is left behind", os.listdir(tmp))
r = ctlib.run([ctlib.CTLOAD, "run", sc, "--out", out2, "--quiet", "--metrics-listen",
               "127.0.0.1:%d" % hport], timeout=60)
t.ok(r.returncode == 3 and not os.path.exists(out2),
     "--metrics-listen on a port in use: exit 3, no run directory", (r.returncode, r.stderr))
held.close()

ctlib.stop(srv)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
