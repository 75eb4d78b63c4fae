#!/usr/bin/env python3
"""Dropped SYNs show as whole-second steps: the server netns drops a third
of all SYNs at random (nft numgen), so connections complete after 0, 1, 2,
3 ... retransmissions. Every connect time in summary.json's histogram must
sit within 2% (plus the jiffy) of a whole second or below 50 ms, some at
1 s and 2 s, and syn_retrans (TCP_INFO) must count the retransmissions."""
import os
import shutil
import subprocess
import tempfile

import ctlib

t = ctlib.start(require_root=True)
if not shutil.which("nft") or not shutil.which("memcached"):
    t.skip_all("needs nft and memcached (scripts/setup installs them)")
tmp = tempfile.mkdtemp(prefix="ctt-syn-")
cli = ctlib.netns_add("cli")
srv = ctlib.netns_add("srv")
ctlib.veth_pair(cli, "198.18.0.1", srv, "198.18.0.2")
rules = """
table inet ctt {
    chain in {
        type filter hook input priority 0; policy accept;
        tcp dport 11211 tcp flags & (syn | ack) == syn numgen random mod 3 == 0 drop
    }
}
"""
r = subprocess.run(["ip", "netns", "exec", srv, "nft", "-f", "-"], input=rules, text=True,
                   capture_output=True)
t.ok(r.returncode == 0, "nft drops a third of the SYNs in the server netns", r.stderr)
mc = ctlib.spawn(["memcached", "-u", "nobody", "-l", "198.18.0.2", "-p", "11211", "-t", "1"],
                 netns=srv)
t.ok(ctlib.wait_port("198.18.0.2", 11211, netns=srv), "memcached listens")
N = 300
sc = ctlib.scenario_file(os.path.join(tmp, "syn.ini"), """
    [scenario]
    name = syn
    topology = host
    [server]
    target = 198.18.0.2:11211
    [load]
    rate = 150/s
    duration = 2s
    connect_timeout = 20s
    request = "get k{seq}\\r\\n"
    expect = "END\\r\\n"
    """)
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run"), netns=cli, timeout=90)
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(r.returncode == 0 and step.get("completed") == N,
     "all %d connections complete despite the drops (%s)" % (N, step.get("completed")),
     r.stderr + str(step.get("failures")))
hist = step.get("connect_hist", [])
t.ok(sum(c for _, c in hist) == N, "the histogram holds every connection")


def step_of(ms):
    """The whole second a connect time belongs to, or None if between."""
    if ms < 50:
        return 0
    s = round(ms / 1000.0)
    # Each RTO of 1 s may fire up to 32 ms late (the timer wheel's
    # granularity for timers a second away at HZ=250).
    return s if s >= 1 and -10 <= ms - s * 1000 <= 0.04 * s * 1000 + 10 else None


off = [(ms, c) for ms, c in hist if step_of(ms) is None]
t.ok(not off, "every connect time is < 50 ms or at a whole second", off[:10])
at = {}
for ms, c in hist:
    k = step_of(ms)
    if k is not None:
        at[k] = at.get(k, 0) + c
t.diag("connections by retransmission step (s): %s" % sorted(at.items()))
t.ok(at.get(0, 0) > N / 2 and at.get(1, 0) > 20 and at.get(2, 0) > 3,
     "peaks at 0, 1 s and 2 s", at)
# The kernel's own count for the client netns.
def synretrans():
    text = ctlib.run(["cat", "/proc/net/netstat"], netns=cli).stdout.splitlines()
    for head, vals in zip(text[::2], text[1::2]):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split()[1:], vals.split()[1:]))["TCPSynRetrans"])
    return None


kernel = synretrans()
got = step.get("syn_retrans", -1)
t.ok(got == kernel and got >= at.get(1, 0),
     "syn_retrans from TCP_INFO (%d) equals the netns's TcpExt TCPSynRetrans (%s)" %
     (got, kernel))
ctlib.stop(mc)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
