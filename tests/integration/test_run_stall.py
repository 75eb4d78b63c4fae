#!/usr/bin/env python3
"""Coordinated omission: the server stops reading for 1 s in the middle of
an open-loop run. The connections scheduled during the stall must carry
it in their latency (measured from their scheduled start), and the rate
must not drop: ctload keeps to its schedule instead of waiting."""
import os
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import ctlib

t = ctlib.start()
tmp = tempfile.mkdtemp(prefix="ctt-stall-")
RATE, DUR, STALL_AFTER = 200, 4, 400


class StallServer(threading.Thread):
    """Answers END to each request and closes; after STALL_AFTER replies
    it sleeps for 1 s (accepting and reading nothing), then carries on."""

    def __init__(self):
        super().__init__(daemon=True)
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(4096)
        self.port = self.ls.getsockname()[1]
        self.served = 0
        self.stalled = False
        self.stop = False

    def run(self):
        sel = selectors.DefaultSelector()
        self.ls.setblocking(False)
        sel.register(self.ls, selectors.EVENT_READ)
        while not self.stop:
            for key, _ in sel.select(0.05):
                if key.fileobj is self.ls:
                    try:
                        c, _ = self.ls.accept()
                    except OSError:
                        continue
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ)
                    continue
                c = key.fileobj
                try:
                    data = c.recv(4096)
                except OSError:
                    data = b""
                if data:
                    try:
                        c.send(b"END\r\n")
                    except OSError:
                        pass
                    self.served += 1
                sel.unregister(c)
                c.close()
                if self.served == STALL_AFTER and not self.stalled:
                    self.stalled = True
                    time.sleep(1.0)


def ctserver_stall_port():
    """ctserver --stall, when the built ctserver has it and serves."""
    try:
        h = subprocess.run([ctlib.CTSERVER, "--help"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    if "--stall" not in h.stdout + h.stderr:
        return None, None
    port = ctlib.free_port()
    p = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                     str(port), "--workers", "1", "--stall", "1s@2s"])
    if not ctlib.wait_port("127.0.0.1", port, timeout=3):
        ctlib.stop(p)
        return None, None
    return port, p


port, srv = ctserver_stall_port()
if srv is None:
    t.diag("ctserver --stall unavailable: using the python stalling server")
    py = StallServer()
    py.start()
    port = py.port
sc = ctlib.scenario_file(os.path.join(tmp, "stall.ini"), """
    [scenario]
    name = stall
    topology = host
    [server]
    target = 127.0.0.1:%d
    [load]
    rate = %d/s
    duration = %ds
    request = "get k{seq}\\r\\n"
    expect = "END\\r\\n"
    """ % (port, RATE, DUR))
out = os.path.join(tmp, "run")
r, s = ctlib.ctload_run(sc, out)
if srv is None:
    py.stop = True
t.ok(r.returncode == 0, "ctload run exits 0", r.stderr)
step = s["steps"][0] if s and s.get("steps") else {}
N = RATE * DUR
t.ok(step.get("completed") == N, "all %d connections completed despite the stall" % N, step)
tot = step.get("total_ms", {})
t.ok(tot.get("max", 0) >= 900, "the longest connection waited the stall out (max %s ms)" %
     tot.get("max"), tot)
# About a quarter of the connections were due during the 1 s stall, their
# wait falling linearly from 1 s to 0: the top 10 % waited >= ~0.6 s.
t.ok(tot.get("p90", 0) >= 400, "p90 total latency carries the stall (%s ms)" % tot.get("p90"),
     tot)
t.ok(tot.get("p50", 1e9) < 100, "the median is untouched (%s ms)" % tot.get("p50"))
t.ok(abs(step.get("rate_achieved", 0) - RATE) <= RATE * 0.01,
     "the rate did not drop to wait for the server (%s/s)" % step.get("rate_achieved"))
ts = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl"))
peak = max((x["total_ms"]["max"] for x in ts), default=0)
t.ok(peak >= 900, "a timeseries sample shows the stall (max total %.0f ms)" % peak)
if srv is not None:
    ctlib.stop(srv)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
