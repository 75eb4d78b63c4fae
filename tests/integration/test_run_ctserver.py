#!/usr/bin/env python3
"""ctload run against ctserver (memcache mode) on 127.0.0.1, for each of
ctserver's close policies: every scheduled connection completes and
summary.json agrees with ctserver's own count (stats total_connections)."""
import os
import shutil
import tempfile

import ctlib

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
    before = ctlib.memcached_stat("127.0.0.1", port, "total_connections")
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
shutil.rmtree(tmp, ignore_errors=True)
t.done()
