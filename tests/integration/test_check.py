"""ctload check: this host's settings exactly as procfs shows them, load over
an interval, the binding limit and sized advice. Read-only; runs unprivileged
(and as root it must still change nothing)."""

import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctlib  # noqa: E402

t = ctlib.start()


def proc(path):
    with open(path) as f:
        return f.read().strip()


def sysctls():
    """The settings check promises to report, read straight from procfs."""
    out = {}
    for key in ("net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_max_tw_buckets",
                "net.netfilter.nf_conntrack_max", "net.netfilter.nf_conntrack_buckets"):
        p = "/proc/sys/" + key.replace(".", "/")
        if os.path.exists(p):
            out[key] = int(proc(p))
    lo, hi = proc("/proc/sys/net/ipv4/ip_local_port_range").split()
    out["net.ipv4.ip_local_port_range"] = [int(lo), int(hi)]
    return out


# Another program may change a setting while check runs (a lab restoring
# nf_conntrack_max): compare only when procfs was the same before and after.
for _attempt in range(5):
    before = sysctls()
    r = ctlib.run([ctlib.CTLOAD, "check", "--json", "--interval", "1s"], timeout=30)
    live = sysctls()
    if live == before:
        break
t.ok(r.returncode == 0, "check --json exits 0", r.stderr)
try:
    d = json.loads(r.stdout)
except ValueError as e:
    d = {}
    t.ok(False, "check --json prints JSON", "%s\n%s" % (e, r.stdout[:2000]))
s = d.get("settings", {})
for key, want in live.items():
    t.ok(s.get(key) == want, "check reports %s exactly as procfs shows it" % key,
         "check: %r, procfs: %r" % (s.get(key), want))
t.ok(s.get("conntrack_loaded") == os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"),
     "check knows whether nf_conntrack is loaded")

names = [lim["name"] for lim in d.get("limits", [])]
t.ok("client_ports" in names, "check lists the client port limit", names)
ports = next((lim for lim in d.get("limits", []) if lim["name"] == "client_ports"), None)
if ports:
    lo, hi = live["net.ipv4.ip_local_port_range"]
    reuse = live["net.ipv4.tcp_tw_reuse"] == 1
    delay = 1.0
    if reuse and os.path.exists("/proc/sys/net/ipv4/tcp_tw_reuse_delay"):
        delay = int(proc("/proc/sys/net/ipv4/tcp_tw_reuse_delay")) / 1000.0
    want = (hi - lo + 1) / (delay if reuse else 60.0)
    t.ok(abs(ports["predicted_cps"] - want) < 0.01,
         "client port limit is ports / TIME_WAIT for this host's range",
         "got %r want %r" % (ports["predicted_cps"], want))
if "net.netfilter.nf_conntrack_max" in live:
    ct = next((lim for lim in d.get("limits", []) if lim["name"] == "conntrack"), None)
    tw = int(proc("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait"))
    t.ok(ct is not None and abs(ct["predicted_cps"] - live["net.netfilter.nf_conntrack_max"] / tw) < 0.01,
         "conntrack limit is nf_conntrack_max / time_wait timeout", ct)
t.ok(d.get("binding") in names, "check names a binding limit among the listed ones",
     d.get("binding"))

# Connections made during the interval show up as load. Loopback only, bounded.
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(128)
port = srv.getsockname()[1]
p = ctlib.spawn([ctlib.CTLOAD, "check", "--json", "--interval", "2s"],
                stdout=ctlib.subprocess.PIPE)
ctlib.time.sleep(0.3)
made = 0
for _ in range(100):
    c = socket.create_connection(("127.0.0.1", port), timeout=2)
    a, _addr = srv.accept()
    c.close()
    a.close()
    made += 1
out, err = p.communicate(timeout=20)
srv.close()
try:
    load = json.loads(out).get("load", {})
except ValueError:
    load = {}
rate = load.get("active_opens_per_s") or 0
t.ok(rate * load.get("interval_s", 0) >= made * 0.9,
     "check counts the %d connections opened during its interval as load" % made, load)

# Advice is sized from RAM: the max it proposes follows RAM/16384/2 rounded up.
mem = d.get("settings", {}).get("mem_total_bytes", 0)
adv = [a["sysctl"] for a in d.get("advice", [])]
want = 1
while want < mem // 16384 // 2:
    want *= 2
if "net.netfilter.nf_conntrack_max" in live and live["net.netfilter.nf_conntrack_max"] < want:
    t.ok("net.netfilter.nf_conntrack_max = %d" % want in adv,
         "advice raises nf_conntrack_max to RAM/16384/2 rounded to a power of two", adv)

r = ctlib.run([ctlib.CTLOAD, "check"], timeout=30)
t.ok(r.returncode == 0 and "Binding:" in r.stdout and "LIMIT" in r.stdout,
     "check prints a table and the binding limit", r.stdout + r.stderr)
r = ctlib.run([ctlib.CTLOAD, "check", "--interval", "soon"], timeout=10)
t.ok(r.returncode == 2 and "--interval" in r.stderr, "a bad --interval is usage error 2", r.stderr)
r = ctlib.run([ctlib.CTLOAD, "check", "--help"], timeout=10)
t.ok(r.returncode == 0 and "Usage: ctload check" in r.stdout, "check --help")

# The other analysis commands, through the binary: exit codes users script on.
data = os.path.join(ctlib.SRCDIR, "tests", "data")
r = ctlib.run([ctlib.CTLOAD, "lint", "--no-live", os.path.join(data, "sysctl", "clean.conf")])
t.ok(r.returncode == 0, "lint exits 0 on a clean file", r.stdout + r.stderr)
r = ctlib.run([ctlib.CTLOAD, "lint", "--no-live", os.path.join(data, "sysctl", "seed002.conf")])
t.ok(r.returncode == 1 and "seed002.conf:6: net.ipv4.tcp_tw_recycle" in r.stdout
     and "fix:" in r.stdout, "lint exits 1 and names file:line and the fix", r.stdout)
r = ctlib.run([ctlib.CTLOAD, "lint", "/nonexistent/99-net.conf"])
t.ok(r.returncode == 2 and "/nonexistent/99-net.conf" in r.stderr,
     "lint exits 2 on an unreadable file and names it", r.stderr)
scen = os.path.join(data, "good", "minimal.ini")
r = ctlib.run([ctlib.CTLOAD, "model", "--json", scen,
               "--set", "sysctl.client.net.ipv4.tcp_tw_reuse=0",
               "--set", "sysctl.client.net.ipv4.ip_local_port_range=50000 50999"])
try:
    m = json.loads(r.stdout)["model"]
except (ValueError, KeyError):
    m = {}
t.ok(r.returncode == 0 and m.get("binding") == "client_ports"
     and abs(m.get("binding_cps", 0) - 1000 / 60.0) < 0.01,
     "model: 1,000 ports without reuse bind at 16.7/s", r.stdout[:1500] + r.stderr)
r = ctlib.run([ctlib.CTLOAD, "model", os.path.join(data, "bad", "unknown_key.ini")])
t.ok(r.returncode == 2 and "unknown_key.ini" in r.stderr, "model exits 2 on a bad scenario",
     r.stderr)
t.done()
