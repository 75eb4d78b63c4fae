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
r = ctlib.run([ctlib.CTLOAD, "run"], timeout=10)
t.ok(r.returncode == 2, "run without a file is bad usage (2)")
r = ctlib.run([ctlib.CTLOAD, "run", "--bogus", "x.ini"], timeout=10)
t.ok(r.returncode == 2 and "--bogus" in r.stderr, "an unknown option is named, exit 2", r.stderr)
r = ctlib.run([ctlib.CTLOAD, "run", "--help"], timeout=10)
t.ok(r.returncode == 0 and "--set" in r.stdout, "run --help prints usage, exit 0")
shutil.rmtree(tmp, ignore_errors=True)
t.done()
