#!/usr/bin/env python3
"""Port exhaustion, the instant kind: a client netns with a 100-port range
and tcp_tw_reuse = 0 talks over a veth (not loopback: tcp_tw_reuse = 2
covers loopback) to a server netns. The client closes first, so every port
sits in TIME_WAIT for 60 s: connection 101 (counting the 10 that a first
run through ports = range takes) must fail, counted as eaddrnotavail.
Also: host mode accepts this target only because ctload runs inside a
netns without a default route."""
import os
import shutil
import tempfile

import ctlib

t = ctlib.start(require_root=True)
if not shutil.which("memcached"):
    t.skip_all("memcached is not installed (scripts/setup installs it)")
tmp = tempfile.mkdtemp(prefix="ctt-ports-")
cli = ctlib.netns_add("cli")
srv = ctlib.netns_add("srv")
ctlib.veth_pair(cli, "198.18.0.1", srv, "198.18.0.2")
ctlib.sysctl_ns(cli, "net.ipv4.tcp_tw_reuse", "0")
ctlib.sysctl_ns(cli, "net.ipv4.ip_local_port_range", "40000 40099")
mc = ctlib.spawn(["memcached", "-u", "nobody", "-l", "198.18.0.2", "-p", "11211", "-t", "1"],
                 netns=srv)
t.ok(ctlib.wait_port("198.18.0.2", 11211, netns=srv), "memcached listens in the server netns")

sc = ctlib.scenario_file(os.path.join(tmp, "ports.ini"), """
    [scenario]
    name = ports
    topology = host
    [server]
    target = 198.18.0.2:11211
    [load]
    rate = 200/s
    duration = 2s
    request = "get k{seq}\\r\\n"
    expect = "END\\r\\n"
    """)
# ports = range narrows the search per socket (IP_LOCAL_PORT_RANGE): 10 ports
# of the 100, so 10 of 50 connections complete and those 10 ports stay in
# TIME_WAIT.
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run-range"), netns=cli,
                        sets=["load.ports=range 40090-40099", "load.duration=250ms"])
step = s["steps"][0] if s and s.get("steps") else {}
f = step.get("failures", {})
t.ok(r.returncode == 0 and step.get("completed") == 10 and f.get("eaddrnotavail") == 40,
     "ports = range 40090-40099: 10 complete, 40 eaddrnotavail (%s, %s)" %
     (step.get("completed"), f), r.stderr)

# Plain connect(): the 90 ports left, then eaddrnotavail.
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run"), netns=cli)
t.ok(r.returncode == 0, "ctload run inside the client netns exits 0", r.stderr)
step = s["steps"][0] if s and s.get("steps") else {}
f = step.get("failures", {})
t.ok(step.get("completed") == 90, "exactly the 90 free ports' worth completed (%s)" %
     step.get("completed"), step)
t.ok(f.get("eaddrnotavail") == 310, "the other 310 failed as eaddrnotavail (%s)" % f)
t.ok(sum(f.values()) == f.get("eaddrnotavail", -1), "and nothing else failed", f)
tw = ctlib.sockstat(cli).get("tw", 0)
t.ok(tw >= 100, "the client netns holds the 100 ports in TIME_WAIT (tw=%d)" % tw)

# The explicit-bind strategy on a 10-port range: bind() with SO_REUSEADDR
# takes a port held in TIME_WAIT whatever tcp_tw_reuse says, so 50
# connections in 250 ms all complete on 10 ports.
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run-bind"), netns=cli,
                        sets=["load.ports=bind 41000-41009", "load.duration=250ms"])
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(r.returncode == 0 and step.get("completed") == 50,
     "ports = bind reuses its 10 TIME_WAIT ports: %s of 50 completed" % step.get("completed"),
     r.stderr + str(step))
ctlib.stop(mc)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
