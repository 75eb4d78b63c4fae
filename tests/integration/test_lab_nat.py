"""path = nat: the router masquerades the client addresses, so conntrack
entries grow on the router and not on the server, and the server sees only
the router's address. path = router with conntrack_on = router: entries on
the router, the server sees the clients' own addresses."""
import os

import ctlib

t = ctlib.start(require_root=True)
if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
labs = []
N = 40


def ct_count(ns):
    r = ctlib.run(["cat", "/proc/sys/net/netfilter/nf_conntrack_count"], netns=ns)
    return int(r.stdout.strip() or 0)


def peers(ns, port):
    """Remote addresses of the server's sockets (it closes first, so its
    TIME_WAIT sockets remember who connected)."""
    r = ctlib.run(["ss", "-Htan", "sport = :%d" % port], netns=ns)
    out = set()
    for line in r.stdout.splitlines():
        cols = line.split()
        if len(cols) >= 5 and cols[0] != "LISTEN":
            out.add(cols[4].rsplit(":", 1)[0])
    return out


for path, ct_on in (("nat", "none"), ("router", "router")):
    sc = ctlib.write_scenario("""
[scenario]
name = lab-%s
[lab]
clients = 3
path = %s
conntrack_on = %s
[server]
mode = echo
port = 11600
close = server
[load]
rate = 10/s
""" % (path, path, ct_on), name=path)
    r, lab = ctlib.lab_up(sc)
    if not t.ok(r.returncode == 0 and lab, "%s: lab up" % path, r.stdout + r.stderr):
        continue
    labs.append(lab)
    cli, rtr, srv = (ctlib.lab_netns(lab, x) for x in ("cli", "rtr", "srv"))
    n = ctlib.ns_connect_many(cli, "198.19.0.1", [11600], N, wait_close=True)
    t.ok(n == N, "%s: %d connections through the router" % (path, N), n)
    t.ok(ct_count(rtr) >= N * 0.9, "%s: conntrack entries grow on the router (%d)"
         % (path, ct_count(rtr)))
    t.ok(ct_count(srv) == 0, "%s: none on the server (%d)" % (path, ct_count(srv)))
    t.ok(ct_count(cli) == 0, "%s: none on the client (%d)" % (path, ct_count(cli)))
    seen = peers(srv, 11600)
    if path == "nat":
        t.ok(seen == {"198.19.255.254"}, "nat: the server sees only the router's address",
             seen)
    else:
        t.ok(seen and seen <= {"198.18.0.1", "198.18.0.2", "198.18.0.3"},
             "router: the server sees the client addresses", seen)
    r = ctlib.lab_down(lab)
    t.ok(r.returncode == 0, "%s: lab down" % path, r.stdout + r.stderr)

t.ok(not ctlib.lab_netns_left(*labs), "no lab netns left", ctlib.netns_list())
t.done()
