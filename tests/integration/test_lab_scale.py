"""The lab at scale: client addresses cost nothing per address (local routes
in the client netns, one next hop on the other side), so thousands of them
complete every connection, tens of thousands come up in a second, and the
router keeps one neighbour entry for all of them. A drop outside conntrack
(here a full listen queue) is named as the cause, not "lost elsewhere"."""
import json
import os
import signal
import threading
import time

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
# The tests need room for their own entries: another test may have left
# the global table small (it is put back at exit).
ctlib.remember_host_sysctl("net.netfilter.nf_conntrack_max")
if int(ctlib.host_sysctl("net.netfilter.nf_conntrack_max")) < 262144:
    with open("/proc/sys/net/netfilter/nf_conntrack_max", "w") as f:
        f.write("262144")

BASE = """
[scenario]
name = %(name)s
[lab]
clients = %(clients)d
path = router
conntrack_on = router
[server]
mode = echo
port = 11720
close = server
%(server)s
[load]
rate = %(rate)s
duration = %(duration)s
sustain = off
%(load)s
"""


def scenario(name, clients, rate, duration, server="", load="", extra=""):
    return ctlib.write_scenario(BASE % dict(name=name, clients=clients, rate=rate,
                                            duration=duration, server=server,
                                            load=load) + extra, name=name)


def out_dir(name):
    import tempfile
    return os.path.join(tempfile.mkdtemp(prefix="ctscale-"), name)


def step0(summary):
    return (summary or {}).get("steps", [{}])[0]


def failed(st):
    return sum(st.get("failures", {"?": 1}).values())


# ---- 4,096 addresses at 4,000/s: every connection completes -----------------
# Before: one address each on the client's link, so the router kept one
# neighbour entry per client, past the host's gc_thresh3 (1024), and 74% of
# the connections timed out.
r, s = ctlib.ctload_run(scenario("scale-4k", 4096, "4000/s", "4s"), out_dir("4k"),
                        timeout=90)
st = step0(s)
t.ok(r.returncode == 0 and st.get("completed", 0) == st.get("scheduled", -1) == 16000 and
     failed(st) == 0 and st.get("unsent", 1) == 0,
     "4096 clients at 4000/s for 4 s: every connection completes",
     "rc %d completed %s failures %s unsent %s\n%s" % (
         r.returncode, st.get("completed"), st.get("failures"), st.get("unsent"), r.stderr))

# ---- 60,000 addresses, each used about once ----------------------------------
# 5,000/s for 6 s is 30,000 connections over 60,000 addresses: every
# connection is a distinct tuple, and the router's conntrack count shows
# them all (close = server: TIME_WAIT on the server, the router's entries
# stay for conntrack's TIME_WAIT timeout).
r, s = ctlib.ctload_run(scenario("scale-60k", 60000, "5000/s", "6s"), out_dir("60k"),
                        timeout=90)
st = step0(s)
done = st.get("completed", 0)
peak = st.get("ct", {}).get("peak", 0)
t.ok(r.returncode == 0 and done == st.get("scheduled", -1) == 30000 and failed(st) == 0,
     "60000 clients at 5000/s for 6 s: every connection completes",
     "rc %d completed %s failures %s\n%s" % (r.returncode, done, st.get("failures"), r.stderr))
t.ok(done > 0 and peak >= done,
     "the router's conntrack count holds every distinct tuple (%s entries, %s connections)"
     % (peak, done))

# ---- lab up and a fresh netns with 60,000 addresses, timed -------------------
sc = scenario("scale-up", 60000, "100/s", "1s")
t0 = time.monotonic()
r, lab = ctlib.lab_up(sc)
up_s = time.monotonic() - t0
t.ok(r.returncode == 0 and lab and up_s < 10,
     "lab up with 60000 client addresses in %.2f s (bound 10 s)" % up_s, r.stdout + r.stderr)
if lab:
    cli, rtr = ctlib.lab_netns(lab, "cli"), ctlib.lab_netns(lab, "rtr")
    # A connection from the last client address: bindable, and routed back.
    code = ("import socket\ns=socket.socket()\ns.bind(('198.18.234.96',0))\n"
            "s.settimeout(3)\ns.connect(('198.19.0.1',11720))\ns.sendall(b'hi\\r\\n')\n"
            "print(s.recv(16))\n")
    rr = ctlib.run(["python3", "-c", code], netns=cli, timeout=20)
    t.ok(rr.returncode == 0 and "hi" in rr.stdout,
         "the last of 60000 client addresses (198.18.234.96) connects", rr.stdout + rr.stderr)
    rr = ctlib.run(["ip", "-4", "neigh", "show"], netns=rtr)
    entries = [l for l in rr.stdout.splitlines() if l.strip()]
    t.ok(len(entries) <= 4, "the router keeps a neighbour entry or two, not one per client "
         "(%d)" % len(entries), rr.stdout)
    rr = ctlib.run(["ip", "-4", "route", "show", "table", "local", "type", "local"], netns=cli)
    t.ok(len(rr.stdout.splitlines()) < 40,
         "the client netns holds its addresses in a few local routes (%d)"
         % len(rr.stdout.splitlines()), rr.stdout)
    r = ctlib.lab_down(lab)
    t.ok(r.returncode == 0, "lab down", r.stdout + r.stderr)

# Two steps: the second starts from fresh netns (the default cooldown); the
# lab logs how long the rebuild took.
sc = scenario("scale-fresh", 60000, "100/s", "1s", extra="[sweep]\nload.rate = 100/s, 200/s\n")
out = out_dir("fresh")
r, s = ctlib.ctload_run(sc, out, timeout=90)
fresh = None
try:
    with open(os.path.join(out, "events.log")) as f:
        for line in f:
            if "fresh netns: rebuilt in" in line:
                fresh = float(line.split("rebuilt in")[1].split()[0])
except OSError:
    pass
t.ok(r.returncode == 0 and fresh is not None and fresh < 10,
     "a fresh-netns step with 60000 client addresses in %s s (bound 10 s)" % fresh,
     r.stdout + r.stderr)

# ---- a drop outside conntrack is named -----------------------------------------
# ctserver stopped (SIGSTOP) part-way: its listen queue (backlog 4) fills,
# the kernel drops the SYNs past it (TcpExt ListenDrops), the connections
# time out, and the cause names the listen queue.
before = set(ctlib.netns_list())
sc = scenario("scale-listen", 4, "300/s", "3s", server="backlog = 4",
              load="connect_timeout = 500ms\nreply_timeout = 500ms")
out = out_dir("listen")
stopped = []


def stop_server():
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not stopped:
        for ns in set(ctlib.netns_list()) - before:
            if not ns.endswith("-srv"):
                continue
            pids = ctlib.run(["ip", "netns", "pids", ns]).stdout.split()
            if pids:
                time.sleep(0.8)  # into the step
                for p in pids:
                    os.kill(int(p), signal.SIGSTOP)
                stopped.extend(int(p) for p in pids)
                time.sleep(3)
                for p in stopped:
                    try:
                        os.kill(p, signal.SIGCONT)
                    except OSError:
                        pass
                return
        time.sleep(0.05)


th = threading.Thread(target=stop_server)
th.start()
r, s = ctlib.ctload_run(sc, out, timeout=90)
th.join()
st = step0(s)
cause = st.get("fail_cause") or {}
t.ok(stopped and cause.get("limit") == "listen_backlog" and
     "ListenDrops" in cause.get("text", "") and st.get("listen", {}).get("drops", 0) > 0,
     "a full listen queue is named as the cause", json.dumps(
         {"cause": cause, "listen": st.get("listen"), "failures": st.get("failures")}))
t.ok("lost elsewhere" not in r.stdout + r.stderr, "not 'lost elsewhere'", r.stdout)

# ---- a full neighbour table is named ---------------------------------------------
# The lab needs a handful of neighbour entries (client -> router, router ->
# client 0 and server, server -> router); with the host's gc_thresh3 at 1
# (set by the scenario, restored at lab down) the kernel cannot make them,
# drops the packets (arp_cache table_fulls) and the connections time out.
# The table is the whole host's: keep this step short.
GC = "net.ipv4.neigh.default.gc_thresh3"
if os.path.exists("/proc/net/stat/arp_cache"):
    gc_was = ctlib.remember_host_sysctl(GC)
    sc = scenario("scale-neigh", 4, "100/s", "1500ms",
                  load="connect_timeout = 500ms\nreply_timeout = 500ms",
                  extra="[sysctl.host]\n%s = 1\n" % GC)
    r, s = ctlib.ctload_run(sc, out_dir("neigh"), timeout=60)
    st = step0(s)
    cause = st.get("fail_cause") or {}
    t.ok(cause.get("limit") == "neighbours" and "table_fulls" in cause.get("text", "") and
         st.get("neigh", {}).get("table_fulls", 0) > 0,
         "a full neighbour table is named as the cause",
         json.dumps({"cause": cause, "neigh": st.get("neigh"), "failures": st.get("failures")}))
    t.ok(ctlib.host_sysctl(GC) == gc_was, "%s is back at %s" % (GC, gc_was),
         ctlib.host_sysctl(GC))
else:
    t.diag("no /proc/net/stat/arp_cache: the neighbour table's counters are not readable")

t.done()
