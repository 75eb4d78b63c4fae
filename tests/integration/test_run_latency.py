#!/usr/bin/env python3
"""Connect latency is the handshake, at low rates too. On 127.0.0.1 the
kernel completes the handshake inside connect(); the test times 200
blocking connect() calls to the same server (paced like the load) and
ctload's connect p50 must be within 0.2 ms of their median, with the
default launch_window, at 300/s (a wake-up per connection) and at 3000/s
(several per wake-up). A schedule timer that wakes late (libevent's
timers run on a clock that ticks once per jiffy, 4 ms at HZ=250) showed
as 1-1.5 ms p50 and 3.5 ms p99 here. Against ctserver always, and nginx
when it is installed."""
import os
import shutil
import socket
import statistics
import tempfile
import textwrap
import time

import ctlib

TOL_MS = 0.2
TAIL_TOL_MS = 1.0
t = ctlib.start()
tmp = tempfile.mkdtemp(prefix="ctt-latency-")
os.chmod(tmp, 0o755)


def kernel_connect_ms(port, n=200, pace=1 / 300.0):
    """Median and p90 (ms) of n blocking connect() calls to 127.0.0.1:port."""
    ts = []
    for _ in range(n):
        s = socket.socket()
        t0 = time.perf_counter()
        s.connect(("127.0.0.1", port))
        ts.append((time.perf_counter() - t0) * 1e3)
        s.close()
        time.sleep(pace)
    ts.sort()
    return statistics.median(ts), ts[int(0.9 * n)]


def start_nginx():
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if not nginx:
        return None
    port = ctlib.free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
daemon off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    server {
        listen 127.0.0.1:%(p)d backlog=4096;
        location / { return 200 "ok\\n"; }
    }
}
""" % {"d": tmp, "p": port})
    ctlib.spawn([nginx, "-p", tmp, "-c", conf])
    return port if ctlib.wait_port("127.0.0.1", port) else None


def check(server, port, rate, body):
    sc = ctlib.scenario_file(os.path.join(tmp, "%s-%d.ini" % (server, rate)), textwrap.dedent("""
        [scenario]
        name = latency
        topology = host
        [server]
        target = 127.0.0.1:%d
        [load]
        rate = %d/s
        duration = 3s
        """) % (port, rate) + body)
    k50, k90 = kernel_connect_ms(port)
    r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run-%s-%d" % (server, rate)))
    step = (s or {}).get("steps", [{}])[0]
    c = step.get("connect_ms", {})
    t.ok(r.returncode == 0 and step.get("completed") == 3 * rate,
         "%s %d/s: all %d connections complete" % (server, rate, 3 * rate),
         r.stderr[-2000:] + str(step.get("failures")))
    p50, p90 = c.get("p50", -1), c.get("p90", -1)
    t.ok(abs(p50 - k50) <= TOL_MS,
         "%s %d/s: connect p50 %.3f ms is the kernel's handshake, %.3f ms (within %.1f ms)"
         % (server, rate, p50, k50, TOL_MS), c)
    # The tail loosely (a busy machine delays some wake-ups): timer
    # wake-ups on a jiffy clock put p90 at 2.5-3 ms.
    t.ok(p90 <= k90 + TAIL_TOL_MS,
         "%s %d/s: connect p90 %.3f ms within %.1f ms of the kernel's, %.3f ms"
         % (server, rate, p90, TAIL_TOL_MS, k90), c)


port = ctlib.free_port()
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                   str(port)])
t.ok(ctlib.wait_port("127.0.0.1", port), "ctserver listens on 127.0.0.1:%d" % port)
mc = 'request = "get k{seq}\\r\\n"\nexpect = "END\\r\\n"\n'
for rate in (300, 3000):
    check("ctserver", port, rate, mc)

http = start_nginx()
if http:
    check("nginx", http, 300, 'raw = yes\nrequest = "GET / HTTP/1.0\\r\\n\\r\\n"\n'
          'expect = " 200 OK"\n')
else:
    t.diag("nginx not installed: its check is skipped (scripts/setup installs nginx-light)")
shutil.rmtree(tmp, ignore_errors=True)
t.done()
