#!/usr/bin/env python3
"""ctload run in raw mode speaks HTTP/1.0 to Debian's nginx (keepalive off)
on 127.0.0.1: every connection completes and nginx logged each request.
[load] expect_start checks the status line (the reply's start): 200 passes
every connection, 404 fails each as protocol, and `expect = "HTTP/1.1 200"`
(which could only match the reply's end) is refused before anything runs."""
import os
import shutil
import tempfile
import time

import ctlib

t = ctlib.start()
nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
if not nginx:
    t.skip_all("nginx is not installed (scripts/setup installs nginx-light)")
tmp = tempfile.mkdtemp(prefix="ctt-nginx-")
os.chmod(tmp, 0o755)
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
    access_log %(d)s/access.log;
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
ng = ctlib.spawn([nginx, "-p", tmp, "-c", conf])
t.ok(ctlib.wait_port("127.0.0.1", port), "nginx listens on 127.0.0.1:%d" % port,
     ng.stderr.read1().decode() if ng.poll() is not None else None)
log = os.path.join(tmp, "access.log")


def logged():
    try:
        with open(log) as f:
            return sum(1 for line in f if "ctload-" in line)
    except OSError:
        return 0


N = 1500
sc = ctlib.scenario_file(os.path.join(tmp, "http.ini"), """
    [scenario]
    name = nginx-host
    topology = host
    [server]
    target = 127.0.0.1:%d
    [load]
    rate = 500/s
    duration = 3s
    raw = yes
    request = "GET /ctload-{seq} HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n"
    expect = " 200 OK"
    """ % port)
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run"))
t.ok(r.returncode == 0, "ctload run exits 0", r.stderr)
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(step.get("completed") == N, "all %d HTTP/1.0 exchanges completed" % N, step)
deadline = time.time() + 3
while logged() < N and time.time() < deadline:
    time.sleep(0.1)
t.ok(logged() == N, "nginx logged %d requests, ctload completed %s" % (logged(), step.get("completed")))

# A reply that does not carry the expected text is a protocol failure.
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run2"),
                        sets=["load.expect=\" 404 \"", "load.duration=500ms"])
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(step.get("failures", {}).get("protocol") == 250, "a 200 reply when 404 is expected "
     "counts as protocol (%s)" % step.get("failures"), r.stderr)

# The status line, checked where it is: the reply's start. Not raw, the
# client waits for nginx's close (the reply's end is unknown).
M = 500
st_sc = ctlib.scenario_file(os.path.join(tmp, "status.ini"), """
    [scenario]
    name = nginx-status
    topology = host
    [server]
    target = 127.0.0.1:%d
    [load]
    rate = 500/s
    duration = 1s
    close = wait
    request = "GET /ctload-status-{seq} HTTP/1.0\\r\\n\\r\\n"
    expect_start = "HTTP/1.1 200 "
    """ % port)
r, s = ctlib.ctload_run(st_sc, os.path.join(tmp, "run3"))
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(r.returncode == 0 and step.get("completed") == M and not any(step.get("failures", {}).values()),
     "expect_start = \"HTTP/1.1 200 \": all %d connections match nginx's status line" % M,
     (step.get("completed"), step.get("failures"), r.stderr[-500:]))
r, s = ctlib.ctload_run(st_sc, os.path.join(tmp, "run4"), sets=["load.expect_start=\"HTTP/1.1 404\""])
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(step.get("failures", {}).get("protocol") == M and not step.get("completed"),
     "expect_start = \"HTTP/1.1 404\" against a 200: every connection is a protocol failure (%s)"
     % step.get("failures"), r.stderr[-500:])
r, s = ctlib.ctload_run(st_sc, os.path.join(tmp, "run5"), sets=["load.expect=\"HTTP/1.1 200\""])
t.ok(r.returncode == 2 and "expect_start" in r.stderr and "[load] expect" in r.stderr,
     "expect = \"HTTP/1.1 200\" (the reply's end) is refused, pointing at expect_start",
     r.stderr[-500:])
ctlib.stop(ng)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
