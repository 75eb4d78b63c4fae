"""close = server with conntrack_on = server: TIME_WAIT sockets pile up in
the server netns (not the client's), conntrack tracks in the server netns,
and the lab's samplers see both in timeseries.jsonl and events.log."""
import os
import signal
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
ctlib.remember_host_sysctl("net.netfilter.nf_conntrack_max")
N = 60

sc = ctlib.write_scenario("""
[scenario]
name = lab-close
[lab]
clients = 2
path = direct
conntrack_on = server
[server]
mode = echo
port = 11500-11503
close = server
[load]
rate = 10/s
""")
out = tempfile.mkdtemp(prefix="ctlab-close-")
p = ctlib.spawn([ctlib.CTLOAD, "lab", "up", sc, "--foreground", "--dir", out],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
lab = ctlib.wait_lab_of(p.pid)
if not t.ok(lab is not None, "lab up --foreground came up"):
    p.kill()
    t.done()
cli, srv = ctlib.lab_netns(lab, "cli"), ctlib.lab_netns(lab, "srv")

n = ctlib.ns_connect_many(cli, "198.19.0.1", range(11500, 11504), N, wait_close=True)
t.ok(n == N, "%d connections completed, the server closing first" % N, n)
time.sleep(1.5)  # sampler ticks, and a ctnetlink state count (1/s)

tw_srv = ctlib.sockstat(srv).get("tw", 0)
tw_cli = ctlib.sockstat(cli).get("tw", 0)
t.ok(tw_srv >= N * 0.9, "TIME_WAIT is counted in the server netns (%d)" % tw_srv, tw_srv)
t.ok(tw_cli < tw_srv / 4, "the client netns holds few TIME_WAIT (%d)" % tw_cli, tw_cli)
ct_srv = int(ctlib.run(["cat", "/proc/sys/net/netfilter/nf_conntrack_count"], netns=srv).stdout)
ct_cli = int(ctlib.run(["cat", "/proc/sys/net/netfilter/nf_conntrack_count"], netns=cli).stdout)
t.ok(ct_srv >= N * 0.9, "conntrack_on = server: entries in the server netns (%d)" % ct_srv)
t.ok(ct_cli == 0, "conntrack idle in the client netns (%d)" % ct_cli)

p.send_signal(signal.SIGTERM)
try:
    p.communicate(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
t.ok(p.returncode == 0, "lab taken down on SIGTERM", p.returncode)
t.ok(not ctlib.lab_netns_left(lab), "no lab netns left", ctlib.netns_list())

samples = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl"))
t.ok(len(samples) >= 3, "timeseries.jsonl has samples (%d)" % len(samples))
srv_tw = max((s.get("ns", {}).get("server", {}).get("tw", 0) for s in samples), default=0)
cli_tw = max((s.get("ns", {}).get("client", {}).get("tw", 0) for s in samples), default=0)
t.ok(srv_tw >= N * 0.9, "samples: ns.server.tw peaks at %d" % srv_tw)
t.ok(cli_tw < srv_tw / 4, "samples: ns.client.tw stays low (%d)" % cli_tw)
ct_peak = max((s.get("ns", {}).get("server", {}).get("ct.count", 0) for s in samples), default=0)
t.ok(ct_peak >= N * 0.9, "samples: ns.server.ct.count peaks at %d" % ct_peak)
states = [s["ns"]["server"]["ct.states"] for s in samples
          if "ct.states" in s.get("ns", {}).get("server", {})]
tw_states = max((st.get("TIME_WAIT", 0) for st in states), default=0)
t.ok(tw_states >= N * 0.9, "samples: ctnetlink counts %d server entries in TIME_WAIT" % tw_states,
     states[-3:])
opens = sum(s.get("ns", {}).get("server", {}).get("tcp.PassiveOpens", 0) for s in samples)
t.ok(opens == N, "samples: tcp.PassiveOpens deltas add up to %d" % N, opens)
with open(os.path.join(out, "events.log")) as f:
    ev = f.read()
t.ok("ctserver pid" in ev and "created netns" in ev, "events.log records the lab's actions", ev)
t.done()
