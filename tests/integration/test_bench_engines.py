#!/usr/bin/env python3
"""scripts/bench-engines --quick: a smoke test of the benchmark, not a
measurement (nothing is timed or compared): it runs each engine this
ctload has on the same veth lab, prints a line per step, and ends with one
ratio line per packet engine against the kernel engine, naming conn/s held
and CPU per connection. Under the lab lock (it builds labs)."""
import os
import re
import subprocess

import ctlib

t = ctlib.start(require_root=True)
with open(os.path.join(os.path.dirname(os.path.abspath(ctlib.CTLOAD)), "ct_config.h")) as f:
    cfg = f.read()
want = [e for e in ("pcap", "dpdk") if "#define CT_HAVE_%s 1" % e.upper() in cfg]
if not want:
    t.skip_all("ctload built without a packet engine")
script = os.path.join(ctlib.SRCDIR, "scripts", "bench-engines")
ns_before = set(ctlib.netns_list())
r = subprocess.run([script, "--quick"], capture_output=True, text=True, timeout=600,
                   env=dict(os.environ, CTLOAD=os.path.abspath(ctlib.CTLOAD)))
t.ok(r.returncode == 0, "scripts/bench-engines --quick exits 0", r.stderr[-2000:])
lines = r.stdout.splitlines()
for e in ["kernel"] + want:
    t.ok(sum(1 for l in lines if re.match(r"\s+%s\s+offered\s+\d+/s carried" % e, l)) == 2,
         "it prints the two steps of engine %s" % e, r.stdout[-1500:])
ratios = [l for l in lines if l.startswith("ratio ")]
t.ok(len(ratios) == len(want) and lines[-len(want):] == ratios,
     "the ratio lines come last, one per packet engine", r.stdout[-800:])
for e in want:
    t.ok(any(re.match(r"ratio %s/kernel: conn/s held [\d.]+, cpu per connection [\d.]+ "
                      r"\(at \d+/s\)$" % e, l) for l in ratios),
         "ratio %s/kernel names conn/s held and CPU per connection" % e, ratios)
t.ok(not (set(ctlib.netns_list()) - ns_before), "no lab netns left")
t.done()
