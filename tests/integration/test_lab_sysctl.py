"""ctload lab up/down: each [sysctl.*] section lands in its own netns, the
host's nf_conntrack_max is changed and put back by `lab down`, the client
netns cannot reach anything outside the lab, and nothing is left behind."""
import os
import re
import time

import ctlib

t = ctlib.start(require_root=True)

MAX_KEY = "net.netfilter.nf_conntrack_max"
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
old_max = ctlib.remember_host_sysctl(MAX_KEY)
new_max = "123457" if old_max != "123457" else "123459"

sc = ctlib.write_scenario("""
[scenario]
name = lab-sysctl
[lab]
clients = 4
path = router
conntrack_on = router
[server]
mode = echo
port = 11300-11301
[load]
rate = 10/s
duration = 1s
[sysctl.client]
net.ipv4.ip_local_port_range = 20000 20999
net.ipv4.tcp_tw_reuse = 0
[sysctl.server]
net.ipv4.tcp_max_tw_buckets = 777
[sysctl.router]
net.netfilter.nf_conntrack_tcp_timeout_time_wait = 33
[sysctl.host]
%s = %s
""" % (MAX_KEY, new_max))

r, lab = ctlib.lab_up(sc)
if not t.ok(r.returncode == 0 and lab, "lab up exits 0 and names the lab", r.stdout + r.stderr):
    t.done()
cli, srv, rtr = (ctlib.lab_netns(lab, x) for x in ("cli", "srv", "rtr"))
t.ok(set(ctlib.netns_list()) >= {cli, srv, rtr}, "client, server and router netns exist",
     ctlib.netns_list())

t.ok(ctlib.netns_sysctl(cli, "net.ipv4.ip_local_port_range") == "20000 20999",
     "[sysctl.client] port range is set in the client netns",
     ctlib.netns_sysctl(cli, "net.ipv4.ip_local_port_range"))
t.ok(ctlib.netns_sysctl(cli, "net.ipv4.tcp_tw_reuse") == "0", "[sysctl.client] tcp_tw_reuse = 0")
t.ok(ctlib.netns_sysctl(srv, "net.ipv4.tcp_max_tw_buckets") == "777",
     "[sysctl.server] tcp_max_tw_buckets in the server netns")
t.ok(ctlib.netns_sysctl(cli, "net.ipv4.tcp_max_tw_buckets") != "777",
     "the server's setting did not leak into the client netns")
t.ok(ctlib.netns_sysctl(rtr, "net.netfilter.nf_conntrack_tcp_timeout_time_wait") == "33",
     "[sysctl.router] conntrack TIME_WAIT timeout in the router netns")
t.ok(ctlib.host_sysctl("net.ipv4.ip_local_port_range") != "20000 20999",
     "the host's port range is untouched")
t.ok(ctlib.host_sysctl(MAX_KEY) == new_max, "[sysctl.host] nf_conntrack_max is set on the host",
     ctlib.host_sysctl(MAX_KEY))

# Isolation: no default route anywhere in the lab.
for ns in (cli, srv, rtr):
    routes = ctlib.run(["ip", "route", "show", "default"], netns=ns).stdout.strip()
    t.ok(routes == "", "%s has no default route" % ns, routes)
out = ctlib.run(["ip", "route", "get", "192.0.2.1"], netns=cli)
t.ok(out.returncode != 0, "the client netns cannot route to an outside address (192.0.2.1)",
     out.stdout + out.stderr)

# The lab works end to end: the client reaches ctserver through the router.
n = ctlib.ns_connect_many(cli, "198.19.0.1", [11300, 11301], 10)
t.ok(n == 10, "10 connections from the client netns to ctserver through the router", n)

# A second lab may not take over a host key the first one will restore.
r2, lab2 = ctlib.lab_up(sc)
t.ok(r2.returncode == 3 and "already changed by lab %s" % lab in r2.stderr,
     "a second lab changing the same host key is refused", r2.stdout + r2.stderr)
t.ok(ctlib.host_sysctl(MAX_KEY) == new_max, "and the first lab's value stands")

st = ctlib.run([ctlib.CTLOAD, "lab", "status"])
t.ok(st.returncode == 0 and lab in st.stdout and MAX_KEY in st.stdout,
     "lab status lists the lab and its host change", st.stdout + st.stderr)
stj = ctlib.run([ctlib.CTLOAD, "lab", "status", "--json"])
try:
    import json
    labs = {x["id"]: x for x in json.loads(stj.stdout)}
    server_pid = labs[lab]["info"]["server_pid"]
except (ValueError, KeyError, TypeError):
    labs, server_pid = {}, 0
t.ok(server_pid > 0 and os.path.exists("/proc/%d" % server_pid),
     "status --json names the running ctserver", stj.stdout)

r = ctlib.lab_down(lab)
t.ok(r.returncode == 0, "lab down exits 0", r.stdout + r.stderr)
t.ok(ctlib.host_sysctl(MAX_KEY) == old_max, "nf_conntrack_max is back to %s" % old_max,
     ctlib.host_sysctl(MAX_KEY))
t.ok(not ctlib.lab_netns_left(lab), "no lab netns is left",
     ctlib.netns_list())
gone = True
for _ in range(100):
    try:
        with open("/proc/%d/stat" % server_pid) as f:
            gone = f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        gone = True
    if gone:
        break
    time.sleep(0.05)
t.ok(gone, "the lab's ctserver (pid %d) was ended" % server_pid)
t.ok(not os.path.exists("/run/ctload/%s.json" % lab), "the lab's state file is gone")

# A value the kernel refuses (ports below ip_unprivileged_port_start) is an
# error naming the key and the kernel's answer, and undoes what was done.
bad = ctlib.write_scenario("""
[scenario]
name = lab-refused
[load]
rate = 1/s
[sysctl.host]
%s = %s
[sysctl.client]
net.ipv4.ip_local_port_range = 500 60000
""" % (MAX_KEY, new_max), name="refused")
r, bad_lab = ctlib.lab_up(bad)
m = re.search(r"netns ctl-([0-9a-f]+)-", r.stderr)
bad_lab = m.group(1) if m else None
t.ok(r.returncode == 3, "a refused value exits 3", r.returncode)
t.ok("net.ipv4.ip_local_port_range" in r.stderr and "Invalid argument" in r.stderr,
     "the error names the key and the kernel's answer", r.stderr)
t.ok(ctlib.host_sysctl(MAX_KEY) == old_max, "the host value set before the failure is restored",
     ctlib.host_sysctl(MAX_KEY))
t.ok(bad_lab and not ctlib.lab_netns_left(bad_lab), "no lab netns is left after the failure",
     ctlib.netns_list())
t.done()
