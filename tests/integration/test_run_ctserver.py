#!/usr/bin/env python3
"""ctload run against ctserver (memcache mode) on 127.0.0.1, for each of
ctserver's close policies: every scheduled connection completes and
summary.json agrees with ctserver's own count (stats total_connections)."""
import os
import time
import shutil
import tempfile

import ctlib

def settled_total(port):
    """ctserver's total_connections once the probes of wait_port() have been
    accepted: its workers accept asynchronously, so a probe can be counted
    after a first read. Each read is itself one connection (+1)."""
    prev = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
    for _ in range(50):
        time.sleep(0.1)
        cur = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
        if prev is not None and cur == prev + 1:
            return cur
        prev = cur
    return prev


t = ctlib.start()
tmp = tempfile.mkdtemp(prefix="ctt-ctsrv-")
N, RATE = 2000, 1000
for close, cclose in (("client", "fin"), ("server", "wait"), ("rst", "fin"), ("client", "rst")):
    port = ctlib.free_port()
    srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                       str(port), "--close", close])
    if not ctlib.wait_port("127.0.0.1", port):
        t.ok(False, "ctserver --close %s listens" % close, srv.stderr.read1().decode()
             if srv.poll() is not None else None)
        continue
    sc = ctlib.scenario_file(os.path.join(tmp, "c.ini"), """
        [scenario]
        name = ctserver-host
        topology = host
        [server]
        mode = memcache
        target = 127.0.0.1:%d
        [load]
        rate = %d/s
        duration = 2s
        close = %s
        request = "get k{seq}\\r\\n"
        expect = "END\\r\\n"
        """ % (port, RATE, cclose))
    before = settled_total(port)
    r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run-%s-%s" % (close, cclose)))
    after = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
    step = s["steps"][0] if s and s.get("steps") else {}
    what = "server close=%s, client close=%s" % (close, cclose)
    t.ok(r.returncode == 0 and step.get("completed") == N,
         "%s: all %d connections completed (%s)" % (what, N, step.get("completed")),
         r.stderr + str(step.get("failures")))
    counted = (after - before - 1) if before is not None and after is not None else None
    t.ok(counted == step.get("completed"),
         "%s: ctserver counted %s connections, ctload %s" % (what, counted, step.get("completed")))
    ctlib.stop(srv)

# A server port range: the target's ports are used in turn.
def free_range(n):
    import socket
    for base in range(23000, 30000, 97):
        socks = []
        try:
            for p in range(base, base + n):
                sk = socket.socket()
                sk.bind(("127.0.0.1", p))
                socks.append(sk)
            return base
        except OSError:
            continue
        finally:
            for sk in socks:
                sk.close()
    return None


lo = free_range(4)
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                   "%d-%d" % (lo, lo + 3)])
t.ok(all(ctlib.wait_port("127.0.0.1", p) for p in range(lo, lo + 4)),
     "ctserver listens on 4 ports")
sc = ctlib.scenario_file(os.path.join(tmp, "range.ini"), """
    [scenario]
    name = ctserver-range
    topology = host
    [server]
    target = 127.0.0.1:%d-%d
    [load]
    rate = 400/s
    duration = 1s
    """ % (lo, lo + 3))
before = settled_total(lo)
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run-range"))
after = ctlib.memcached_stat("127.0.0.1", lo, "total_connections")
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(r.returncode == 0 and step.get("completed") == 400, "400 connections over a 4-port range",
     r.stderr + str(step.get("failures")))
t.ok(before is not None and after - before - 1 == 400,
     "ctserver counted them all across its ports (%s)" %
     (after - before - 1 if before is not None and after is not None else None))
ss = ctlib.run(["ss", "-Htn", "state", "time-wait", "( dport >= :%d and dport <= :%d )" %
                (lo, lo + 3)]).stdout.split("\n")
ports = {int(l.split()[-1].rsplit(":", 1)[1]) for l in ss if l.strip()}
t.ok(ports == set(range(lo, lo + 4)), "client TIME_WAIT toward every port of the range (%s)" %
     sorted(ports))
ctlib.stop(srv)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
