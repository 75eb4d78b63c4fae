#!/usr/bin/env python3
"""The model's steady state against the lab, on two configurations of
scripts/validate-model (about 3 minutes; the whole grid is docs/MODEL.md):
  reuse-under-max  tcp_tw_reuse=1 over 5,000 ports of one parity at 100/s,
                   conntrack TIME_WAIT 60 s, nf_conntrack_max 4096: rate x
                   timer is 6,000 entries, above the table, but connect()
                   laps the same tuples, so the model says the table levels
                   off at ~3,700 and holds. The run must hold, and each count
                   must land within 10% of the model's value.
  rst              a RST ends every connection: entries wait 10 s in CLOSE,
                   and the count levels off where the laps say.
Each is run for well over its horizon."""

import json
import os
import subprocess
import tempfile

import ctlib

t = ctlib.start(require_root=True)
ctlib.remember_host_sysctl("net/netfilter/nf_conntrack_max")
tmp = tempfile.mkdtemp(prefix="ct-model-")
out = os.path.join(tmp, "results.json")
script = os.path.join(ctlib.SRCDIR, "scripts", "validate-model")
# --no-lock: like every lab test, this one is serialised by whoever runs
# the suite (the lock may be held by our own parent).
r = subprocess.run([script, "--no-lock", "--only", "reuse-under-max,rst", "--json", out,
                    "--out", os.path.join(tmp, "runs"), "--ctload", ctlib.CTLOAD],
                   capture_output=True, text=True, timeout=420)
t.ok(r.returncode == 0, "scripts/validate-model runs", r.stderr[-3000:])
try:
    res = {x["name"]: x for x in json.load(open(out))}
except (OSError, ValueError) as e:
    res = {}
    t.ok(False, "it writes its results (%s)" % e)

u = res.get("reuse-under-max", {})
t.ok(u.get("fail_t") is None and u.get("pred_fail") is None,
     "reuse-under-max: the model says it holds and it held (failure at %s, predicted %s)"
     % (u.get("fail_t"), u.get("pred_fail")), u.get("fail_reason"))
t.ok(u.get("binding") == "conntrack" and (u.get("binding_cps") or 0) > 100,
     "its conntrack limit is above the offered 100/s (%s at %s/s), not 4096 / 60 s = 68/s"
     % (u.get("binding"), u.get("binding_cps")))
for name in ("reuse-under-max", "rst"):
    x = res.get(name, {})
    counts = [c for c in x.get("counts", []) if c.get("err") is not None]
    t.ok(len(counts) >= 1, "%s: the model predicts at least one count the lab samples (%s)"
         % (name, [c.get("count") for c in x.get("counts", [])]), x.get("error"))
    for c in counts:
        t.ok(abs(c["err"]) <= 10,
             "%s: %s measured %.0f, the model said %.0f (%+.1f%%, within 10%%)"
             % (name, c["count"], c["measured"], c["predicted"], c["err"]))
t.done()
