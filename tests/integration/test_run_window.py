#!/usr/bin/env python3
"""[load] launch_window, seen on the wire. In a lab run with capture, the
client's SYN times (tshark) show the schedule:
  - launch_window = 0: one wake-up per connection, SYNs evenly spaced at
    the rate's interval;
  - launch_window = 20ms: the connections due within each 20 ms start
    together, so the SYNs come in bursts about 20 ms apart;
and in both the achieved rate is the target and the connect latency is
the real handshake time (a connection started early counts from its
actual start, not from its later due time)."""
import os
import shutil
import statistics
import tempfile

import ctlib

t = ctlib.start(require_root=True)
if not shutil.which("tshark"):
    t.skip_all("tshark missing: run scripts/setup")
tmp = tempfile.mkdtemp(prefix="ctt-window-")
RATE, DUR, WIN_MS = 500, 3, 20
sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), """
    [scenario]
    name = window
    topology = lab
    [lab]
    clients = 1
    [server]
    port = 11211
    [load]
    rate = %d/s
    duration = %ds
    threads = 1
    [report]
    capture = on
    """ % (RATE, DUR))


def syn_gaps(out):
    segs = ctlib.tshark_tcp(os.path.join(out, "capture.pcap")) or []
    syns = sorted(s["t"] for s in segs if s["flags"] & 0x02 and not s["flags"] & 0x10)
    return syns, [b - a for a, b in zip(syns, syns[1:])]


runs = {}
for win in (0, WIN_MS):
    out = os.path.join(tmp, "w%d" % win)
    r, s = ctlib.ctload_run(sc, out, sets=["load.launch_window=%dms" % win], timeout=120)
    step = (s or {}).get("steps", [{}])[0]
    t.ok(r.returncode == 0, "launch_window=%dms: the run exits 0" % win, r.stderr[-2000:])
    t.ok(step.get("completed") == RATE * DUR and abs(step.get("rate_achieved", 0) - RATE) <= RATE * 0.01,
         "launch_window=%dms: all %d connections complete at %d/s" % (win, RATE * DUR, RATE),
         {k: step.get(k) for k in ("completed", "rate_achieved", "failures", "unsent")})
    c = step.get("connect_ms", {})
    t.ok(0 <= c.get("p50", -1) < 2 and c.get("max", 1e9) < 50,
         "launch_window=%dms: connect latency is the handshake (p50 %.3f ms, max %.3f ms)"
         % (win, c.get("p50", -1), c.get("max", -1)), c)
    runs[win] = syn_gaps(out)

syns0, gaps0 = runs[0]
synsw, gapsw = runs[WIN_MS]
t.diag("SYNs: %d and %d" % (len(syns0), len(synsw)))
t.ok(len(syns0) >= RATE * DUR and len(synsw) >= RATE * DUR, "a SYN per connection in both captures")
interval = 1.0 / RATE
if gaps0:
    med = statistics.median(gaps0)
    close = sum(1 for g in gaps0 if g < interval / 4) / len(gaps0)
    t.ok(0.75 * interval <= med <= 1.25 * interval and close < 0.1,
         "window 0: SYNs evenly spaced (median gap %.2f ms for %.2f ms; %.0f%% under a quarter)"
         % (med * 1e3, interval * 1e3, close * 100))
else:
    t.ok(False, "window 0: SYNs captured")
if gapsw:
    tight = sum(1 for g in gapsw if g < 0.001) / len(gapsw)
    bursts = [g for g in gapsw if g > WIN_MS / 2000.0]
    want = DUR * 1000 / WIN_MS
    t.ok(tight > 0.8, "window %d ms: SYNs bunched (%.0f%% of gaps under 1 ms)" % (WIN_MS, tight * 100))
    t.ok(0.7 * want <= len(bursts) <= 1.3 * want and bursts and
         0.7 * WIN_MS / 1e3 <= statistics.median(bursts) <= 1.3 * WIN_MS / 1e3,
         "window %d ms: about one burst per window (%d bursts, want ~%d, median spacing %.1f ms)"
         % (WIN_MS, len(bursts), want, statistics.median(bursts) * 1e3 if bursts else -1))
else:
    t.ok(False, "window %d ms: SYNs captured" % WIN_MS)
    t.ok(False, "window %d ms: bursts" % WIN_MS)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
