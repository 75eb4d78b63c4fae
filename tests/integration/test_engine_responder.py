#!/usr/bin/env python3
"""[server] engine = responder: ctload's stateless responder as the lab's
server side, driven by the pcap client through a router netns (issue 13,
lab test b). What a user checks:

- table full: pcap client -> router (conntrack on) -> responder, with
  nf_conntrack_max = 4000 and 1,000/s: the router's conntrack count grows
  at the offered rate (within 10 % of the model's fill rate, capacity /
  fill time), reaches the table at the model's fill time (within 10 %),
  the kernel's "table full" line is in events.log, ct.drop counts on the
  router, and the run names the conntrack table as the binding limit
  (inferred within 10 % of the model);
- NAT: path = nat, 3 client addresses (84,696 tuples for the NAT's 64,512
  source ports to one server port; 80,000 connections, fewer than the
  client's tuples): the router's entries level off at the NAT's port count, as the model says. On a kernel that evicts closing
  entries on a NAT clash (6.5 and later: "nat: evict closing tcp entries
  on reply tuple clash"), entries in TIME_WAIT are evicted instead of the
  insert failing, so every connection completes and insert_failed stays
  0; before 6.5 the insert fails (insert_failed > 0) at about the model's
  fill time;
- [server] close is followed: a kernel client on path = direct with
  close = server (the responder's FIN comes with the reply) holds no
  TIME_WAIT itself;
- refused: conntrack_on = server and mode = http (exit 2 naming
  [server] engine and file:line), a sweep of server.engine (exit 2);
- the responder ends with the run: its "stopped" line is in server.log
  and its PID is gone.
Runs under the lab lock; about a minute."""
import json
import os
import platform
import re
import shutil
import tempfile

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
with open(os.path.join(os.path.dirname(os.path.abspath(ctlib.CTLOAD)), "ct_config.h")) as f:
    if "#define CT_HAVE_PCAP 1" not in f.read():
        t.skip_all("ctload built without libpcap")
tmp = tempfile.mkdtemp(prefix="ctt-resp-")
KEY = "net.netfilter.nf_conntrack_max"
ctlib.remember_host_sysctl(KEY)
ns_before = set(ctlib.netns_list())


def model(sc):
    r = ctlib.run([ctlib.CTLOAD, "model", sc, "--json"], timeout=30)
    m = json.loads(r.stdout)["model"]
    return m, {l["name"]: l for l in m["limits"]}


def router_series(out):
    rows = []
    for d in ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl")):
        r = d.get("ns", {}).get("router", {})
        rows.append((d["t"], r.get("ct.count", 0), r.get("ct.insert_failed", 0),
                     d.get("completed", 0)))
    return rows


def responder_ended(out):
    """The responder's last words in server.log, and whether its PID is gone."""
    with open(os.path.join(out, "server.log")) as f:
        log = f.read()
    m = re.search(r"responder pid (\d+) stopped: .*SYN (\d+), requests (\d+)", log)
    gone = m is not None and not ctlib.proc_running(int(m.group(1)))
    return m, gone


# ---- 0. refused when the scenario is read -----------------------------------
for name, body, words in [
        ("cton", "[lab]\nconntrack_on = server\n[server]\nengine = responder\n",
         "conntrack_on = server"),
        ("http", "[lab]\npath = router\nconntrack_on = router\n[server]\nengine = responder\n"
         "mode = http\nclose = server\n", "not http")]:
    sc = ctlib.scenario_file(os.path.join(tmp, name + ".ini"),
                             "[scenario]\nname = %s\n%s[load]\nengine = pcap\nrate = 10/s\n"
                             "duration = 1s\n" % (name, body))
    r, _ = ctlib.ctload_run(sc, os.path.join(tmp, name), timeout=30)
    t.ok(r.returncode == 2 and "[server] engine" in r.stderr and words in r.stderr
         and re.search(re.escape(name) + r"\.ini:\d+:", r.stderr),
         "%s with engine = responder: exit 2 naming [server] engine at file:line (%d)"
         % (words, r.returncode), r.stderr)

# ---- 1. the router's table fills at the model's rate --------------------------
# With each packet engine this ctload has as the client (issue 13: pcap;
# issue 14: dpdk, the same checks).
def table_fills(engine):
    """The router's table of 4000 fills at the model's rate with `engine`."""
    def ok(cond, desc, detail=None):
        return t.ok(cond, "engine = %s: %s" % (engine, desc), detail)

    sc = ctlib.scenario_file(os.path.join(tmp, "full-%s.ini" % engine), """
        [scenario]
        name = resp-full-%s
        [lab]
        path = router
        conntrack_on = router
        [server]
        engine = responder
        close = client
        [load]
        engine = %s
        rate = 1000/s
        duration = 7s
        [sysctl.host]
        net.netfilter.nf_conntrack_max = 4000
        """ % (engine, engine))
    m, lim = model(sc)
    ct = lim["conntrack"]
    ok(m["binding"] == "conntrack" and ct["capacity"] == 4000 and ct.get("fill_s"),
         "the model binds on the router's conntrack table of 4000, full after %s s"
         % ct.get("fill_s"), m["binding"])
    out = os.path.join(tmp, "full-" + engine)
    r, s = ctlib.ctload_run(sc, out, timeout=90)
    ok(r.returncode in (0, 1) and s is not None, "the run ends with its summary (%d)"
         % r.returncode, r.stderr[-2000:])
    st = (s or {}).get("steps", [{}])[0]
    rows = router_series(out)
    cap = ct["capacity"]
    fill = [(tt, c) for tt, c, _, _ in rows if 0.1 * cap <= c <= 0.9 * cap]
    slope = ((fill[-1][1] - fill[0][1]) / (fill[-1][0] - fill[0][0])
             if len(fill) >= 2 and fill[-1][0] > fill[0][0] else 0)
    want = cap / ct["fill_s"]
    ok(abs(slope - want) <= 0.1 * want,
         "the router's conntrack count grows at %.0f/s, the model's %.0f/s within 10 %%"
         % (slope, want), fill[:3] + fill[-3:])
    first = (st.get("first_failure") or {}).get("ct_drop_s")
    ok(first is not None and abs(first - ct["fill_s"]) <= 0.1 * ct["fill_s"],
         "the table is full (first drop) at %s s, the model's %.1f s within 10 %%"
         % (first, ct["fill_s"]), st.get("first_failure"))
    ctst = st.get("ct", {})
    ok(ctst.get("peak") == cap and ctst.get("limit") == cap and ctst.get("drop", 0) > 0,
         "the router's table peaks at its limit and drops packets", ctst)
    with open(os.path.join(out, "events.log")) as f:
        ev = f.read()
    ok("table full" in ev, "events.log has the kernel's 'table full' line", ev[-600:])
    th = ((s or {}).get("thresholds") or [{}])[0]
    ok(th.get("binding_limit") == "conntrack" and th.get("method") == "inferred"
         and abs(th.get("error_pct", 100)) <= 10,
         "the run names the conntrack table as the limit, inferred %s/s against the model's %s/s"
         % (th.get("measured_cps"), th.get("predicted_cps")), th)
    ok(st.get("failures", {}).get("timeout", 0) > 0 and st.get("completed", 0) >= 0.95 * cap,
         "past the table the SYNs are dropped and time out (%s completed, %s)"
         % (st.get("completed"), st.get("failures")))
    mm, gone = responder_ended(out)
    ok(mm is not None and int(mm.group(2)) >= st.get("completed", 1)
         and int(mm.group(3)) == st.get("completed"),
         "the responder answered a SYN and a request for every completed connection",
         mm.group(0) if mm else None)
    ok(gone, "the responder ended with the run (its PID is gone)")


with open(os.path.join(os.path.dirname(os.path.abspath(ctlib.CTLOAD)), "ct_config.h")) as f:
    _cfg = f.read()
for _engine in ("pcap", "dpdk"):
    if "#define CT_HAVE_%s 1" % _engine.upper() not in _cfg:
        continue
    if _engine == "dpdk" and os.environ.get("ASAN_OPTIONS"):
        # The EAL's allocations live until exit and read as leaks (the
        # sanitizer pass leaves engine_dpdk out for the same reason).
        t.diag("engine = dpdk: not run under the sanitizers")
        continue
    table_fills(_engine)

# ---- 2. NAT: the router's entries level off at the NAT's ports ----------------
sc = ctlib.scenario_file(os.path.join(tmp, "nat.ini"), """
    [scenario]
    name = resp-nat
    [lab]
    path = nat
    conntrack_on = none
    clients = 3
    [server]
    engine = responder
    [load]
    engine = pcap
    rate = 5000/s
    duration = 16s
    [sysctl.host]
    net.netfilter.nf_conntrack_max = 200000
    """)
m, lim = model(sc)
nat = lim["nat_ports"]
t.ok(m["binding"] == "nat_ports" and nat["capacity"] == 64512,
     "the model binds on the NAT's 64512 source ports, full after %s s" % nat.get("fill_s"),
     m["binding"])
out = os.path.join(tmp, "nat")
r, s = ctlib.ctload_run(sc, out, timeout=120)
st = (s or {}).get("steps", [{}])[0]
rows = router_series(out)
peak = max((c for _, c, _, _ in rows), default=0)
failed = max((f for _, _, f, _ in rows), default=0)
t.ok(0.9 * nat["capacity"] <= peak <= nat["capacity"],
     "the router's entries level off at the NAT's port count: peak %d of %d"
     % (peak, nat["capacity"]), rows[-3:])
major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", platform.release()).groups())
if (major, minor) >= (6, 5):
    t.ok(failed == 0 and sum(st.get("failures", {}).values()) == 0
         and st.get("completed", 0) > nat["capacity"],
         "kernel %s evicts TIME_WAIT entries on a NAT clash: %s completed, none failed, "
         "insert_failed %d" % (platform.release(), st.get("completed"), failed),
         st.get("failures"))
else:
    at = next((tt for tt, _, f, _ in rows if f > 0), None)
    t.ok(at is not None and abs(at - nat["fill_s"]) <= 0.1 * nat["fill_s"],
         "insert_failed grows from %s s, the model's %.1f s within 10 %%" % (at, nat["fill_s"]))
mm, gone = responder_ended(out)
t.ok(mm is not None and gone, "the responder ended with the NAT run", mm)

# ---- 3. [server] close = server with a kernel client --------------------------
sc = ctlib.scenario_file(os.path.join(tmp, "kclose.ini"), """
    [scenario]
    name = resp-kernel
    [lab]
    path = direct
    conntrack_on = none
    [server]
    engine = responder
    mode = echo
    close = server
    [load]
    rate = 200/s
    duration = 2s
    request = "hello {seq}\\r\\n"
    """)
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "kclose"), timeout=60)
st = (s or {}).get("steps", [{}])[0]
t.ok(r.returncode == 0 and st.get("completed") == 400
     and sum(st.get("failures", {}).values()) == 0,
     "a kernel client against the responder (echo, close = server): 400 completed (%s, %s)"
     % (st.get("completed"), st.get("failures")), r.stderr[-1500:])
t.ok(st.get("tw", {}).get("client_peak", 1) == 0,
     "the responder's FIN came with the reply: no TIME_WAIT on the client", st.get("tw"))

# ---- 4. a sweep may not switch the server side --------------------------------
sc = ctlib.scenario_file(os.path.join(tmp, "sweep.ini"), """
    [scenario]
    name = resp-sweep
    [lab]
    path = router
    conntrack_on = router
    [load]
    engine = pcap
    rate = 50/s
    duration = 1s
    [sweep]
    server.engine = ctserver, responder
    """)
r, _ = ctlib.ctload_run(sc, os.path.join(tmp, "sweep"), timeout=90)
t.ok(r.returncode == 2 and "[sweep] server.engine" in r.stderr and "sweep.ini:" in r.stderr,
     "sweeping server.engine is refused naming file:line (%d)" % r.returncode,
     r.stderr[-1000:])
left = set(ctlib.netns_list()) - ns_before
t.ok(not left, "no lab netns left", left)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
