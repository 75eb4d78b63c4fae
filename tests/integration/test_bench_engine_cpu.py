#!/usr/bin/env python3
"""scripts/bench-engine-cpu --quick: a smoke test of the benchmark, not a
measurement (no figure is compared with a bound): the packet engine's real
loop against the stateless responder in memory completes its connections
at every offered rate, prints the engine's own cycles per connection for
each row and ends with the projection lines. No lab, no root."""
import os
import re
import subprocess

import ctlib

t = ctlib.start()
script = os.path.join(ctlib.SRCDIR, "scripts", "bench-engine-cpu")
builddir = os.environ.get("CT_BUILDDIR") or os.path.dirname(os.path.abspath(ctlib.CTLOAD))
if not os.path.exists(os.path.join(builddir, "tests", "ct_engine_bench")):
    t.skip_all("ct_engine_bench not built (no packet engine in this build)")
r = subprocess.run([script, "--quick", "--build", builddir], capture_output=True, text=True,
                   timeout=240)
t.ok(r.returncode == 0, "scripts/bench-engine-cpu --quick exits 0", r.stderr[-2000:])
rows = []
for l in r.stdout.splitlines():
    m = re.match(r"\| ([^|]+) \| (warm|cold[^|]*) \| ([\d,]+) \| ([\d.]+) \| ([\d,]+) \| ([\d,]+) \|$",
                 l)
    if m:
        rows.append((m.group(1).strip(), m.group(2), int(m.group(3).replace(",", "")),
                     float(m.group(4)), int(m.group(5).replace(",", "")),
                     int(m.group(6).replace(",", ""))))
t.ok(len(rows) >= 4, "it prints a row per offered rate and cache state (%d)" % len(rows),
     r.stdout[-1500:])
for name, caches, held, frames, lo, med in rows:
    t.ok(held > 0, "%s, %s: the engine completes connections in memory (%d conn/s)"
         % (name, caches, held))
    t.ok(6 <= frames <= 10, "%s, %s: a connection is %.2f frames (a short connection's 6 to 10)"
         % (name, caches, frames))
    t.ok(0 < lo <= med, "%s, %s: own cycles per connection, min %d <= median %d"
         % (name, caches, lo, med))
proj = [l for l in r.stdout.splitlines() if "cycles/conn ->" in l]
t.ok(len(proj) == len(rows) and r.stdout.rstrip().splitlines()[-1] == proj[-1],
     "the projection comes last, a line per row, with its arithmetic", r.stdout[-800:])
t.done()
