#!/usr/bin/env python3
"""Every scenario under tests/data/bad/ makes `ctload run` exit 2 with a
message naming file:line (or at least the file), and leaves no run dir."""
import glob
import os
import re
import shutil
import tempfile

import ctlib

t = ctlib.start()
tmp = tempfile.mkdtemp(prefix="ctt-bad-")
files = sorted(glob.glob(os.path.join(ctlib.SRCDIR, "tests", "data", "bad", "*.ini")))
if not files:
    t.skip_all("no tests/data/bad/*.ini yet")
for i, path in enumerate(files):
    out = os.path.join(tmp, "r%d" % i)
    r, s = ctlib.ctload_run(path, out, timeout=30)
    name = os.path.basename(path)
    t.ok(r.returncode == 2, "%s: exit 2 (got %d)" % (name, r.returncode), r.stderr)
    t.ok(re.search(re.escape(name) + r":\d+", r.stderr) is not None,
         "%s: the message names file:line" % name, r.stderr)
    t.ok(not os.path.exists(os.path.join(out, "summary.json")), "%s: no run directory" % name)
# An unknown variable in a condition is refused before the run, naming the
# file line or the --set that gave it (a --set has no line).
host = ctlib.scenario_file(os.path.join(tmp, "host.ini"), """
    [scenario]
    name = vars
    topology = host
    [server]
    target = 127.0.0.1:9
    [load]
    rate = 10/s
    duration = 30s
    [expect]
    conect.p99 < 1s
    """)


def refused_run(out, sets=()):
    """ctload run of host.ini, which a refused condition ends at once; a run
    that starts instead takes its 30 s and is cut at 20 (a failure)."""
    try:
        return ctlib.ctload_run(host, out, sets=sets, timeout=20)[0]
    except ctlib.subprocess.TimeoutExpired:
        return ctlib.subprocess.CompletedProcess([], -1, "", "still running after 20 s: "
                                                 "the run was not refused before it started")


out = os.path.join(tmp, "vars1")
r = refused_run(out)
t.ok(r.returncode == 2 and "host.ini:10: [expect] 'conect.p99 < 1s': unknown variable "
     "'conect.p99'" in r.stderr, "an unknown [expect] variable: exit 2, FILE:LINE named",
     r.stderr)
t.ok(not os.path.exists(out), "refused before the run: no run directory")
with open(host) as f:
    text = f.read().replace("conect.p99 < 1s", "connect.p99 < 1s")
with open(host, "w") as f:
    f.write(text)
out = os.path.join(tmp, "vars2")
r = refused_run(out, ["expect.check=x > 1"])
t.ok(r.returncode == 2 and "error: --set expect.check=x > 1: unknown variable 'x'" in r.stderr
     and ":0" not in r.stderr, "an unknown variable given with --set: exit 2, the --set named",
     r.stderr)
t.ok(not os.path.exists(out), "--set: refused before the run (30 s of load not run)")
r = refused_run(os.path.join(tmp, "vars3"), ["search.fail_when=tuples.space > 1"])
t.ok(r.returncode == 2 and "--set search.fail_when=tuples.space > 1: unknown variable "
     "'tuples.space' in topology = host" in r.stderr,
     "fail_when naming a lab-only figure in host mode: refused before the run", r.stderr)
r = ctlib.run([ctlib.CTLOAD, "run"], timeout=10)
t.ok(r.returncode == 2, "run without a file is bad usage (2)")
r = ctlib.run([ctlib.CTLOAD, "run", "--bogus", "x.ini"], timeout=10)
t.ok(r.returncode == 2 and "--bogus" in r.stderr, "an unknown option is named, exit 2", r.stderr)
r = ctlib.run([ctlib.CTLOAD, "run", "--help"], timeout=10)
t.ok(r.returncode == 0 and "--set" in r.stdout, "run --help prints usage, exit 0")
shutil.rmtree(tmp, ignore_errors=True)
t.done()
