#!/usr/bin/env python3
"""ctserver --mode http, as the tools users have see it: curl gets the
image (HTTP/1.0 and 1.1, GET and HEAD) with Connection: close and the
server closing first; ab loads it with no failure. Hostile clients (a
10 MB request line, bytes with no line end, a slowloris trickling header
bytes, a head past the limit, POST, HTTP/2.0) are refused or closed at
--idle-timeout while a well-behaved client keeps being answered. ctload
with [server] mode = http gets a default request and checks the status
line (expect_start), every connection completing. Loopback only: the
server's TIME_WAIT stays on 127.0.0.1."""

import os
import shutil
import socket
import tempfile
import subprocess
import threading
import time

import ctlib

BODY = 20000
IDLE_S = 2
MAX_CONNS = 200
# docs/ctserver.md: in http mode RSS <= 16 MiB + --body + 16 KiB x --max-conns
RSS_BOUND_KIB = 16 * 1024 + BODY // 1024 + 1 + 16 * MAX_CONNS

t = ctlib.start()
port = ctlib.free_port()
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "http", "--bind", "127.0.0.1", "--port", str(port),
                   "--workers", "2", "--body", str(BODY), "--idle-timeout", "%ds" % IDLE_S,
                   "--max-conns", str(MAX_CONNS)])
if not t.ok(ctlib.wait_port("127.0.0.1", port), "ctserver --mode http listens"):
    t.done()
url = "http://127.0.0.1:%d/image/1.jpg" % port


def exchange(req, timeout=5):
    """Send req, read until the server ends the connection: (reply, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    buf = b""
    closed = False
    try:
        s.sendall(req)
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            buf += d
    except socket.timeout:
        pass
    except OSError:
        closed = True
    s.close()
    return buf, closed


def status(reply):
    return reply.split(b"\r\n", 1)[0].decode(errors="replace")


if shutil.which("curl"):
    for flag, ver in (("--http1.0", "HTTP/1.0"), ("--http1.1", "HTTP/1.1")):
        r = subprocess.run(["curl", "-sS", flag, "-D", "-", "-o", "/dev/null", "-w",
                            "%{size_download}", url], capture_output=True, text=True, timeout=10)
        head = r.stdout.lower()
        t.ok(r.returncode == 0 and r.stdout.startswith("HTTP/1.1 200 OK"),
             "curl %s GET: HTTP/1.1 200 OK" % ver, r.stdout[:200] + r.stderr)
        t.ok("content-length: %d" % BODY in head and "connection: close" in head
             and head.endswith(str(BODY)),
             "curl %s: Content-Length %d, Connection: close, %d body bytes" % (ver, BODY, BODY),
             r.stdout[-300:])
    r = subprocess.run(["curl", "-sS", "-I", url], capture_output=True, text=True, timeout=10)
    t.ok(r.returncode == 0 and "content-length: %d" % BODY in r.stdout.lower(),
         "curl -I (HEAD): the head with Content-Length, no body", r.stdout + r.stderr)
else:
    t.skip("curl is not installed (scripts/setup installs it)")

# The server closes first: the reply is followed by its FIN with the
# client's socket still open.
reply, closed = exchange(b"GET /a.jpg HTTP/1.0\r\n\r\n")
t.ok(closed and status(reply) == "HTTP/1.1 200 OK" and reply.endswith(b"\n")
     and len(reply.split(b"\r\n\r\n", 1)[1]) == BODY,
     "HTTP/1.0 by hand: 200, %d body bytes, then the server's FIN" % BODY, reply[:200])

if shutil.which("ab"):
    r = subprocess.run(["ab", "-q", "-n", "3000", "-c", "20", url], capture_output=True,
                       text=True, timeout=60)
    t.ok(r.returncode == 0 and "Complete requests:      3000" in r.stdout
         and "Failed requests:        0" in r.stdout and "Non-2xx" not in r.stdout,
         "ab -n 3000 -c 20: all complete, none failed", r.stdout[-800:] + r.stderr)
else:
    t.skip("ab is not installed (scripts/setup installs apache2-utils)")

# A well-behaved client meanwhile, one request per connection.
good = {"ok": 0, "bad": [], "stop": False}


def good_client():
    while not good["stop"]:
        rep, cl = exchange(b"GET /good.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
        if cl and status(rep) == "HTTP/1.1 200 OK" and len(rep) > BODY:
            good["ok"] += 1
        else:
            good["bad"].append(rep[:100])
        time.sleep(0.02)


gt = threading.Thread(target=good_client, daemon=True)
gt.start()

# Refusals: each answered with its status, then closed.
for req, want in ((b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", "501 Not Implemented"),
                  (b"GET / HTTP/2.0\r\n\r\n", "505 HTTP Version Not Supported"),
                  (b"GET / HTTP/1.1\r\n\r\n", "400 Bad Request"),
                  (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "400 Bad Request"),
                  (b"GET / HTTP/1.0\r\n" + b"X-Pad: 0123456789\r\n" * 600, "431 Request Header")):
    rep, cl = exchange(req)
    t.ok(cl and status(rep).startswith("HTTP/1.1 " + want),
         "%r...: %s, then closed" % (req[:20], want), rep[:200])

# A 10 MB request line with no line end: 414, closed long before it is all sent.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
sent, err = 0, None
try:
    s.sendall(b"GET /")
    while sent < 10 * 1024 * 1024:
        sent += s.send(b"a" * 65536)
except OSError as e:
    err = e
got = b""
try:
    got = s.recv(4096)
except OSError:
    pass
s.close()
t.ok(sent < 10 * 1024 * 1024, "10 MB request line: refused before it is all sent (%d KiB went, %r)"
     % (sent // 1024, err))
t.ok(got.startswith(b"HTTP/1.1 414") or err is not None,
     "and answered 414 URI Too Long (or reset while sending)", got[:100])

# Bytes with no line end, then silence; and a slowloris trickling one header
# byte every 300 ms: both closed at --idle-timeout counted from the accept.
quiet = socket.create_connection(("127.0.0.1", port), timeout=5)
quiet.sendall(b"GET / HTTP/1.1")
slow = socket.create_connection(("127.0.0.1", port), timeout=5)
slow.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
t0 = time.time()
slow_cut = None
while time.time() - t0 < IDLE_S + 4:
    try:
        slow.send(b"X")
    except OSError:
        slow_cut = time.time() - t0
        break
    slow.setblocking(False)
    try:
        if slow.recv(1) == b"":
            slow_cut = time.time() - t0
            break
    except BlockingIOError:
        pass
    except OSError:
        slow_cut = time.time() - t0
        break
    slow.setblocking(True)
    time.sleep(0.3)
t.ok(slow_cut is not None and IDLE_S - 0.5 <= slow_cut <= IDLE_S + 1.5,
     "slowloris (a header byte every 300 ms): closed at --idle-timeout=%ds from the accept "
     "(%s s)" % (IDLE_S, slow_cut and round(slow_cut, 1)))
quiet.settimeout(IDLE_S + 3)
try:
    q = quiet.recv(100)
except OSError:
    q = b""
t.ok(q == b"", "a request line with no line end, then silence: closed without a reply", q)
quiet.close()
slow.close()

good["stop"] = True
gt.join(10)
t.ok(good["ok"] > 20 and not good["bad"], "the well-behaved client was answered all along "
     "(%d answers, %d wrong)" % (good["ok"], len(good["bad"])), good["bad"][:3])
t.ok(srv.poll() is None, "ctserver still running")
with open("/proc/%d/status" % srv.pid) as f:
    rss = int(next(line for line in f if line.startswith("VmHWM:")).split()[1])
if ctlib.sanitized(ctlib.CTSERVER):
    t.ok(rss > 0, "peak RSS sampled (bound not checked under AddressSanitizer): %d KiB" % rss)
else:
    t.ok(0 < rss <= RSS_BOUND_KIB, "peak RSS %d KiB stayed under the stated bound %d KiB"
         % (rss, RSS_BOUND_KIB))
ctlib.stop(srv)
t.ok(srv.returncode == 0, "ctserver exits 0 on SIGTERM", srv.returncode)

# Bad --body values are refused with the option named.
r = subprocess.run([ctlib.CTSERVER, "--mode", "http", "--body", "65MiB"], capture_output=True,
                   text=True, timeout=10)
t.ok(r.returncode == 2 and "--body" in r.stderr and "64MiB" in r.stderr,
     "--body 65MiB: exit 2, naming --body and its limit", r.stderr)

# ctload against it: mode = http gives the request and the status line to
# expect; every connection completes, and the server closed each one.
port2 = ctlib.free_port()
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "http", "--bind", "127.0.0.1", "--port",
                   str(port2), "--workers", "1"])
t.ok(ctlib.wait_port("127.0.0.1", port2), "a second ctserver --mode http listens")
tmp = tempfile.mkdtemp(prefix="ctt-http-")
sc = ctlib.scenario_file(os.path.join(tmp, "http.ini"), """
    [scenario]
    name = http-host
    topology = host
    [server]
    mode = http
    target = 127.0.0.1:%d
    [load]
    rate = 400/s
    duration = 1s
    close = wait
    """ % port2)
r, s = ctlib.ctload_run(sc, os.path.join(tmp, "run"))
step = s["steps"][0] if s and s.get("steps") else {}
t.ok(r.returncode == 0 and step.get("completed") == 400
     and not any(step.get("failures", {}).values()),
     "ctload, [server] mode = http: 400 of 400 GETs complete with the expected status line",
     (step.get("completed"), step.get("failures"), r.stderr[-500:]))
with open(os.path.join(tmp, "run", "scenario.ini")) as f:
    resolved = f.read()
t.ok('expect_start = "HTTP/1.1 200 "' in resolved and "GET /image/{seq}.jpg HTTP/1.0" in resolved,
     "the run's scenario.ini records the defaults it used (request, expect_start)", resolved[-600:])
ctlib.stop(srv)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
