#!/usr/bin/env python3
"""Host mode sends only to loopback, or into a network namespace without a
default route. Anything else is refused with exit 2 before any packet."""
import os
import shutil
import subprocess
import tempfile

import ctlib

t = ctlib.start(require_root=True)
tmp = tempfile.mkdtemp(prefix="ctt-safety-")
MSG = "is outside the lab"


def scenario(target):
    return ctlib.scenario_file(os.path.join(tmp, "s.ini"), """
        [scenario]
        name = safety
        topology = host
        [server]
        target = %s
        [load]
        rate = 10/s
        duration = 1s
        """ % target)


# 192.0.2.1 is TEST-NET-1: never routed, but not ours either.
r, s = ctlib.ctload_run(scenario("192.0.2.1:80"), os.path.join(tmp, "r1"))
t.ok(r.returncode == 2, "a non-loopback target from the host netns exits 2", r.stderr)
t.ok(MSG in r.stderr and "192.0.2.1:80" in r.stderr, "the message names the target and the rule",
     r.stderr)
t.ok(not os.path.exists(os.path.join(tmp, "r1")), "no run directory is made")

# Inside a netns with a default route: refused too.
ns = ctlib.netns_add("gw")
peer = ctlib.netns_add("gwpeer")
ctlib.veth_pair(ns, "198.18.1.1", peer, "198.18.1.2")
subprocess.run(["ip", "-n", ns, "route", "add", "default", "via", "198.18.1.2"], check=True)
r, s = ctlib.ctload_run(scenario("198.18.1.2:9"), os.path.join(tmp, "r2"), netns=ns)
t.ok(r.returncode == 2 and MSG in r.stderr,
     "a netns with a default route is not a lab: exit 2", r.stderr)

# The same netns without the default route: allowed (nothing listens: refused).
subprocess.run(["ip", "-n", ns, "route", "del", "default"], check=True)
r, s = ctlib.ctload_run(scenario("198.18.1.2:9"), os.path.join(tmp, "r3"), netns=ns)
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(r.returncode == 0 and step.get("failures", {}).get("refused") == 10,
     "without a default route the netns is a lab: 10 connections refused by the peer",
     r.stderr + str(step))

# Loopback is always allowed.
port = ctlib.free_port()
r, s = ctlib.ctload_run(scenario("127.0.0.1:%d" % port), os.path.join(tmp, "r4"))
t.ok(r.returncode == 0, "loopback is allowed", r.stderr)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
