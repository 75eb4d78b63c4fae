#!/usr/bin/env python3
"""[lab] client_hosts = 3: the clients are split over three netns, each its
own kernel behind the router. While the run goes, the three client netns
exist, and each holds TIME_WAIT sockets (connections it completed and
closed: memcache closes client first) from its own client addresses only;
the run completes every connection, also in the second step (fresh netns);
a bystander on another port (ctload's listener in the server netns)
connects in each step; afterwards every netns is gone. A
scenario the lab cannot build that way (path = direct) is refused with a
message naming the key."""
import ipaddress
import os
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
ns_before = ctlib.netns_list()
tmp = tempfile.mkdtemp(prefix="ct-lab-hosts-")
SC = """
[scenario]
name = lab-hosts
[lab]
clients = 8
client_hosts = 3
path = %s
conntrack_on = %s
bystander = 2/s
[server]
mode = memcache
close = client
[load]
rate = 300/s
duration = 6s
request = "get k{rand:100}\\r\\n"
expect = "END\\r\\n"
connect_timeout = 2s
[sweep]
load.rate = 200/s, 300/s
"""
sc = ctlib.scenario_file(os.path.join(tmp, "hosts.ini"), SC % ("nat", "router"))
out = os.path.join(tmp, "run")
p = subprocess.Popen([ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
seen, tw = {}, {}
deadline = time.time() + 60
while p.poll() is None and time.time() < deadline:
    hosts = [n for n in ctlib.netns_list() if n not in ns_before and "-cli" in n]
    for ns in hosts:
        seen[ns] = True
        r = ctlib.run(["ss", "-Htan", "state", "time-wait"], netns=ns)
        for line in r.stdout.splitlines():
            cols = line.split()
            if len(cols) >= 4:
                tw.setdefault(ns, set()).add(cols[2].rsplit(":", 1)[0])
    time.sleep(0.5)
if p.poll() is None:
    p.kill()
stdout, stderr = p.communicate()
t.ok(p.returncode == 0, "ctload run with client_hosts = 3 exits 0", stderr[-2000:])

names = sorted(seen)
t.ok(len(names) == 3 and any(n.endswith("-cli") for n in names)
     and any(n.endswith("-cli1") for n in names) and any(n.endswith("-cli2") for n in names),
     "three client netns exist during the run (%s)" % names)
first = ipaddress.ip_address("198.18.0.1")
blocks = {"-cli": range(0, 2), "-cli1": range(2, 5), "-cli2": range(5, 8)}
for ns in names:
    mine = [b for suffix, b in blocks.items() if ns.endswith(suffix)][-1]
    want = {str(first + i) for i in mine}
    got = tw.get(ns, set())
    t.ok(got and got <= want,
         "%s completed connections, from its own addresses only (%s of %s)"
         % (ns, sorted(got), sorted(want)))
with open(os.path.join(out, "summary.json")) as f:
    import json
    steps = json.load(f)["steps"]
t.ok(len(steps) == 2, "two steps, the second in fresh netns (%d)" % len(steps))
for st in steps:
    t.ok(st["completed"] > 0.95 * st["attempted"] and not any(st["failures"].values()),
         "%s/s: every connection completed (%d of %d)"
         % (st["rate_target"], st["completed"], st["attempted"]))
    t.ok(st["threads"] % 3 == 0, "the engine runs a multiple of 3 threads (%d)" % st["threads"])
    by = st.get("bystander") or {}
    t.ok(by.get("port") == 4949 and by.get("connected", 0) >= 8 and by.get("failed", 1) == 0,
         "the bystander reaches port 4949 (ctload's listener) in each step (%s)" % by)
with open(os.path.join(out, "events.log")) as f:
    ev = f.read()
t.ok("client host 2 of 3: 3 client addresses" in ev and "client host 3 of 3" in ev,
     "events.log tells each host and its share")
t.ok(ctlib.netns_list() == ns_before, "every client netns is removed after the run")

bad = ctlib.scenario_file(os.path.join(tmp, "direct.ini"), SC % ("direct", "server"))
r = ctlib.run([ctlib.CTLOAD, "run", bad, "--out", os.path.join(tmp, "bad"), "--quiet"])
t.ok(r.returncode == 2 and "client_hosts = 3 needs path = router or nat" in r.stderr,
     "path = direct is refused, naming client_hosts (exit %d)" % r.returncode, r.stderr)
t.ok(ctlib.netns_list() == ns_before, "and leaves nothing behind")
t.done()
