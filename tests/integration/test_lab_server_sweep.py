#!/usr/bin/env python3
"""A [sweep] over [server] keys in a lab run: each step runs against a
ctserver with that step's settings (ct_lab_set_server).
- server.close = client, server, with [load] close left at its default
  (auto): TIME_WAIT is in the client netns only in the close=client step,
  and in the server netns only in the close=server step (auto waits for
  the server's FIN there instead of racing it);
- [load] close = wait with server.close = server, rst: the server closes
  first, so TIME_WAIT is in the server netns and (almost) not in the
  client's; rst leaves none anywhere.
- server.port = 11211, 11300-11303, 11400-11463: the target moves to the
  new ports and the tuple space grows four- and 64-fold, with no refused
  connection (128 listeners: the lab reads all of /proc/net/tcp to see
  ctserver listen, not its first page)."""
import os
import shutil
import tempfile

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
tmp = tempfile.mkdtemp(prefix="ctt-srvsweep-")


def run(name, text):
    sc = ctlib.scenario_file(os.path.join(tmp, name + ".ini"), text)
    out = os.path.join(tmp, name)
    r, s = ctlib.ctload_run(sc, out, timeout=120)
    lab_id = (s or {}).get("lab", {}).get("id")
    t.ok(lab_id and not ctlib.lab_netns_left(lab_id), "%s: no lab netns left" % name,
         ctlib.netns_list())
    return r, s, out


r, s, out = run("close", """
    [scenario]
    name = srvsweep-close
    topology = lab
    [lab]
    path = direct
    conntrack_on = server
    [server]
    mode = memcache
    close = client
    [load]
    rate = 100/s
    duration = 2s
    [sweep]
    server.close = client, server
    """)
t.ok(r.returncode == 0, "ctload run with [sweep] server.close exits 0", r.stderr)
steps = (s or {}).get("steps", [])
t.ok(len(steps) == 2, "two steps", len(steps))
by = {st.get("settings", {}).get("server.close"): st for st in steps}
cli, srv = by.get("client", {}), by.get("server", {})
for name, st in (("client", cli), ("server", srv)):
    t.ok(st.get("completed", 0) >= 150 and not any(st.get("failures", {}).values()),
         "close=%s: the step completes without failures" % name,
         (st.get("completed"), st.get("failures")))
ctw, stw = cli.get("tw", {}), srv.get("tw", {})
t.ok(ctw.get("client_peak", 0) >= 150 and ctw.get("server_peak", -1) == 0,
     "close=client: TIME_WAIT in the client netns only", ctw)
t.ok(stw.get("server_peak", 0) >= 150 and stw.get("client_peak", 1 << 30) <=
     stw.get("server_peak", 0) // 10,
     "close=server, client close auto: the restarted ctserver closes first, TIME_WAIT in "
     "the server netns, (almost) none in the client's", stw)
try:
    with open(os.path.join(out, "events.log")) as f:
        events = f.read()
except OSError:
    events = ""
t.ok("server.close client -> server" in events,
     "events.log tells ctserver was restarted for the step",
     [l for l in events.splitlines() if "ctserver" in l])

r, s, out = run("wait", """
    [scenario]
    name = srvsweep-wait
    topology = lab
    [lab]
    path = direct
    conntrack_on = server
    [server]
    mode = memcache
    close = client
    [load]
    rate = 100/s
    duration = 2s
    close = wait
    [sweep]
    server.close = server, rst
    """)
t.ok(r.returncode == 0, "ctload run with [load] close = wait, [sweep] server.close exits 0",
     r.stderr)
steps = (s or {}).get("steps", [])
by = {st.get("settings", {}).get("server.close"): st for st in steps}
srv, rst = by.get("server", {}), by.get("rst", {})
for name, st in (("server", srv), ("rst", rst)):
    t.ok(st.get("completed", 0) >= 150 and not any(st.get("failures", {}).values()),
         "close=%s: the step completes without failures" % name,
         (st.get("completed"), st.get("failures")))
stw, rtw = srv.get("tw", {}), rst.get("tw", {})
t.ok(stw.get("server_peak", 0) >= 150 and stw.get("client_peak", 1 << 30) <=
     stw.get("server_peak", 0) // 10,
     "close=server: TIME_WAIT in the server netns, (almost) none in the client's", stw)
t.ok(rtw.get("server_peak", -1) == 0 and rtw.get("client_peak", -1) == 0,
     "close=rst: no TIME_WAIT anywhere", rtw)

r, s, out = run("port", """
    [scenario]
    name = srvsweep-port
    topology = lab
    [lab]
    path = direct
    conntrack_on = server
    [server]
    mode = memcache
    workers = 2
    [load]
    rate = 100/s
    duration = 1s
    [sweep]
    server.port = 11211, 11300-11303, 11400-11463
    """)
t.ok(r.returncode == 0, "ctload run with [sweep] server.port exits 0", r.stderr)
steps = (s or {}).get("steps", [])
t.ok(len(steps) == 3, "three steps", len(steps))
if len(steps) == 3:
    a, b, c = steps
    for st in (a, b, c):
        t.ok(st.get("completed", 0) >= 80 and not any(st.get("failures", {}).values()),
             "port=%s: completes, nothing refused" % st.get("settings", {}).get("server.port"),
             (st.get("completed"), st.get("failures")))
    sa = a.get("tuples", {}).get("space", 0)
    sb = b.get("tuples", {}).get("space", 0)
    sc64 = c.get("tuples", {}).get("space", 0)
    t.ok(sa > 0 and sb == 4 * sa, "four server ports: four times the tuple space (%d, %d)" %
         (sa, sb))
    # 64 ports x 2 workers = 128 listeners, far past the first page of
    # /proc/net/tcp that the lab once read alone to see ctserver listen.
    t.ok(sc64 == 64 * sa, "64 server ports (128 listeners): the server is seen listening and "
         "the tuple space is 64 times (%d)" % sc64)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
