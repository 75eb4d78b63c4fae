#!/usr/bin/env python3
"""What the documents promise, checked with the tools users read them with:
docs/ctload.1 passes `mandoc -Tlint` (skipped, saying so, without mandoc:
Debian package mandoc, in scripts/setup); README.md's `ctload run` synopsis
lists every option `ctload run --help` lists; the files `run --help` says a
run directory holds are there after a host run (no lab, no root: a 1 s run
against a closed loopback port)."""
import os
import re
import shutil
import subprocess
import tempfile

import ctlib

t = ctlib.start()
tmp = tempfile.mkdtemp(prefix="ctt-docs-")
man = os.path.join(ctlib.SRCDIR, "docs", "ctload.1")

# ---- 1. the man page ---------------------------------------------------------
mandoc = shutil.which("mandoc")
if mandoc:
    r = subprocess.run([mandoc, "-Tlint", man], capture_output=True, text=True)
    t.ok(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
         "mandoc -Tlint docs/ctload.1: no message (date, line length, macros)",
         r.stdout + r.stderr)
else:
    print("ok %d - mandoc -Tlint docs/ctload.1 # SKIP mandoc not installed "
          "(Debian package mandoc; scripts/setup installs it)" % (t.n + 1), flush=True)
    t.n += 1

# ---- 2. README's synopsis of run ------------------------------------------------
r = ctlib.run([ctlib.CTLOAD, "run", "--help"], timeout=10)
help_opts = set(re.findall(r"^\s+(--[a-z-]+)", r.stdout, re.M))
t.ok({"--set", "--out", "--metrics-listen", "--quiet"} <= help_opts,
     "run --help lists its options", r.stdout)
with open(os.path.join(ctlib.SRCDIR, "README.md")) as f:
    synopsis = [ln for ln in f if ln.startswith("ctload run FILE")]
t.ok(len(synopsis) == 1, "README.md has one `ctload run` synopsis line", synopsis)
missing = sorted(o for o in help_opts if synopsis and o not in synopsis[0])
t.ok(synopsis and not missing, "README.md's run synopsis names every option of run --help",
     missing)

# ---- 3. the files run --help promises, in a host run ---------------------------
text = " ".join(r.stdout.split())
m = re.search(r"write a run directory \(([^)]*)\)", text)
t.ok(m is not None, "run --help says what a run directory holds", r.stdout)
promised = m.group(1) if m else ""
host_part = promised.split("; in a lab also")[0]
files = [x.strip() for x in host_part.split(",") if x.strip()]
sc = ctlib.scenario_file(os.path.join(tmp, "h.ini"), """
    [scenario]
    name = docs-host
    topology = host
    [server]
    target = 127.0.0.1:%d
    [load]
    rate = 20/s
    duration = 1s
    connect_timeout = 200ms
    """ % ctlib.free_port())
out = os.path.join(tmp, "run")
ctlib.ctload_run(sc, out, timeout=60)
have = sorted(os.listdir(out)) if os.path.isdir(out) else []
t.ok(files and all(f in have for f in files),
     "every file run --help promises for any run is in a host run's directory",
     "promised %s, written %s" % (files, have))
t.ok("events.log" not in host_part, "run --help does not promise events.log outside a lab",
     promised)

shutil.rmtree(tmp, ignore_errors=True)
t.done()
