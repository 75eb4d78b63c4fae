#!/usr/bin/env python3
"""The capture module alone (tests/tools/ct_capture_probe), on a veth in a
netns this test makes: its per-interval SYN/SYN-ACK/RST/FIN counts and SYN
retransmissions agree with what tshark reads from the file it wrote, the
file holds headers only, and the packet bound holds."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctlib  # noqa: E402

t = ctlib.start(require_root=True)
probe = os.path.join(os.environ.get("CT_BUILDDIR", "build"), "tests", "ct_capture_probe")
if not os.path.exists(probe):
    t.skip_all("ct_capture_probe not built (no libpcap)")
if not __import__("shutil").which("tshark"):
    t.skip_all("tshark missing: run scripts/setup")

cli = ctlib.netns_add("cli")
srv = ctlib.netns_add("srv")
ifa, ifb = ctlib.veth_pair(cli, "192.0.2.1", srv, "192.0.2.2")
PORT, CLOSED, DROPPED = 11311, 11312, 11313
server = ctlib.spawn([ctlib.CTSERVER, "--mode", "echo", "--port", str(PORT), "--workers", "1"],
                     netns=srv)
t.ok(ctlib.wait_port("192.0.2.2", PORT, netns=srv), "ctserver listens in the server netns")
sys.stdout.flush()
# SYNs to DROPPED vanish, so the client retransmits them (at 1 s and 2 s).
nft = ("table inet cttest {\n chain inp {\n  type filter hook input priority 0;\n"
       "  tcp dport %d drop\n }\n}\n" % DROPPED)
subprocess.run(["ip", "netns", "exec", srv, "nft", "-f", "-"], input=nft, text=True, check=True)

tmp = tempfile.mkdtemp(prefix="ctcap-")


def capture(path, seconds, max_packets=None, work=None):
    argv = [probe, cli, ifa, path, str(seconds)]
    if max_packets:
        argv.append(str(max_packets))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    if "ready" not in line:
        p.kill()
        out, err = p.communicate()
        return None, line + err
    if work:
        work()
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    return lines, err


def traffic():
    big = b"x" * 600 + b"\r\n"  # more than the snaplen: the file keeps headers only
    ths = [threading.Thread(target=ctlib.ns_connect_many,
                            args=(cli, "192.0.2.2", [DROPPED], 1), kwargs={"timeout": 2.5})
           for _ in range(2)]
    for th in ths:
        th.start()
    # Big requests leave unread echo behind (the close sends RST), small
    # ones end with FINs.
    ok = ctlib.ns_connect_many(cli, "192.0.2.2", [PORT], 20, payload=big)
    ok += ctlib.ns_connect_many(cli, "192.0.2.2", [PORT], 20)
    refused = 10 - ctlib.ns_connect_many(cli, "192.0.2.2", [CLOSED], 10, timeout=1.0)
    for th in ths:
        th.join()
    traffic.result = (ok, refused)


pcap = os.path.join(tmp, "capture.pcap")
lines, err = capture(pcap, 30, work=traffic)
t.ok(lines is not None and len(lines) >= 2, "the probe captured on the veth and sampled", err)
if not lines:
    t.done()
ok, refused = traffic.result
t.ok(ok == 40 and refused == 10, "40 echo connections completed, 10 refused", traffic.result)
samples, step = lines[:-1], lines[-1]
keys = ("syn", "syn_retrans", "synack", "rst", "fin")
t.ok(all(set(s.get("pkt", {})) == set(keys) for s in samples),
     "every sample carries pkt{syn,syn_retrans,synack,rst,fin}", samples[:2])
total = {k: sum(s["pkt"][k] for s in samples) for k in keys}
segs = ctlib.tshark_tcp(pcap)
want = ctlib.tcp_flag_counts(segs)
t.diag("samples: %s  tshark: %s" % (total, want))
t.ok(total["syn"] == want["syn"], "SYN count over the samples equals tshark's", (total, want))
t.ok(total["rst"] == want["rst"] and want["rst"] >= 10,
     "RST count equals tshark's (at least the 10 refused)", (total, want))
t.ok(total["synack"] == want["synack"] and total["fin"] == want["fin"] and want["fin"] >= 20,
     "SYN-ACK and FIN counts equal tshark's", (total, want))
t.ok(total["syn_retrans"] == want["syn_retrans"] == 4,
     "4 SYN retransmissions (2 dropped connections x 1 s, 2 s), as tshark sees them",
     (total, want))
t.ok(want["syn"] == 40 + 10 + 2 * 3, "tshark: one SYN per connection plus the retries", want)
t.ok(all(s["caplen"] <= 96 for s in segs) and any(s["len"] > 96 for s in segs),
     "headers only: every frame cut at 96 bytes, some were longer on the wire")
p = step.get("pkt", {})
t.ok(all(p.get(k) == total[k] for k in keys), "the step totals equal the sum of the samples",
     (p, total))
t.ok(p.get("captured") == p.get("written") == len(segs) and p.get("file_full") is False,
     "every captured packet is in the file, the bound not reached", (p, len(segs)))
busy = [s for s in samples if s["pkt"]["syn"]]
t.ok(len(busy) >= 3, "SYNs spread over several 100 ms intervals (per-interval counts)",
     len(busy))

# The packet bound: 20 packets in the file, the rest only counted.
pcap2 = os.path.join(tmp, "bounded.pcap")
lines, err = capture(pcap2, 30, max_packets=20,
                     work=lambda: ctlib.ns_connect_many(cli, "192.0.2.2", [PORT], 20))
segs2 = ctlib.tshark_tcp(pcap2) or []
p2 = (lines or [{}])[-1].get("pkt", {})
t.ok(len(segs2) == 20 and p2.get("written") == 20 and p2.get("file_full") is True
     and p2.get("captured", 0) > 20,
     "max_packets=20: the file holds 20 packets, later ones are only counted", (len(segs2), p2))
t.ok("reached its bound" in err, "the bound is said once on stderr", err)

ctlib.stop(server)
for f in (pcap, pcap2):
    os.unlink(f)
os.rmdir(tmp)
t.done()
