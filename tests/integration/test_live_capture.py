#!/usr/bin/env python3
"""[report] capture = on in a lab run: capture.pcap in the run directory,
headers only, that tshark reads; its SYN and RST counts (and SYN-ACK, FIN,
SYN retransmissions) equal the sums of the per-interval "pkt" counts in
timeseries.jsonl and the step's "pkt" totals in summary.json. In host mode
capture is refused before any load, saying it is lab-only."""
import os
import shutil
import tempfile

import ctlib

t = ctlib.start(require_root=True)
if not shutil.which("tshark"):
    t.skip_all("tshark missing: run scripts/setup")
tmp = tempfile.mkdtemp(prefix="ctt-cap-")
KEYS = ("syn", "syn_retrans", "synack", "rst", "fin")
sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), """
    [scenario]
    name = capture
    topology = lab
    [lab]
    clients = 1
    [server]
    port = 11211
    close = rst
    [load]
    rate = 200/s
    duration = 3s
    [report]
    capture = on
    """)
out = os.path.join(tmp, "run")
r, s = ctlib.ctload_run(sc, out, timeout=120)
t.ok(r.returncode in (0, 1), "ctload run (lab, capture = on) runs", r.stderr)
pcap = os.path.join(out, "capture.pcap")
t.ok(os.path.exists(pcap), "capture.pcap is in the run directory")
ts = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl")) if os.path.exists(
    os.path.join(out, "timeseries.jsonl")) else []
t.ok(ts and all(set(x.get("pkt", {})) == set(KEYS) for x in ts),
     "every sample carries pkt{syn,syn_retrans,synack,rst,fin}", ts[:1])
if os.path.exists(pcap) and ts:
    segs = ctlib.tshark_tcp(pcap)
    want = ctlib.tcp_flag_counts(segs)
    got = {k: sum(x.get("pkt", {}).get(k, 0) for x in ts) for k in KEYS}
    t.diag("timeseries: %s  tshark: %s" % (got, want))
    step = (s or {}).get("steps", [{}])[0]
    t.ok(want["syn"] > 0 and got["syn"] == want["syn"],
         "SYN count in the time series equals tshark's", (got, want))
    t.ok(want["rst"] > 0 and got["rst"] == want["rst"],
         "RST count (server close = rst) equals tshark's", (got, want))
    t.ok(got["synack"] == want["synack"] and got["syn_retrans"] == want["syn_retrans"],
         "SYN-ACK and SYN retransmission counts equal tshark's", (got, want))
    t.ok(want["syn"] >= step.get("attempted", 1 << 60),
         "at least one SYN per attempted connection", (want, step.get("attempted")))
    p = step.get("pkt", {})
    t.ok(all(p.get(k) == want[k] for k in ("syn", "rst", "synack")),
         "summary.json's step pkt totals equal tshark's", (p, want))
    t.ok(p.get("file_full") is False and p.get("kernel_drop") == 0,
         "nothing dropped, the bound not reached", p)
    t.ok(segs and all(x["caplen"] <= 96 for x in segs), "headers only (96-byte snaplen)")

sc2 = ctlib.scenario_file(os.path.join(tmp, "host.ini"), """
    [scenario]
    name = capture-host
    topology = host
    [server]
    target = 127.0.0.1:11211
    [load]
    rate = 10/s
    duration = 1s
    [report]
    capture = on
    """)
r, s = ctlib.ctload_run(sc2, os.path.join(tmp, "host"), timeout=60)
t.ok(r.returncode == 2 and "capture" in r.stderr and "lab" in r.stderr,
     "capture = on with topology = host: exit 2, says capture is lab-only",
     (r.returncode, r.stderr))
shutil.rmtree(tmp, ignore_errors=True)
t.done()
