#!/usr/bin/env python3
"""Differential test: the same memcache sessions sent to Debian's memcached
and to ctserver (--close client) must get byte-identical replies, except
the exceptions documented in docs/ctserver.md (version, stats, a line over
the limit). Both servers start fresh, so cas ids must match too.

Sessions cover malformed commands, a value over 1 MB, binary bytes,
pipelining, commands split across packets, noreply and a cas race."""

import os
import socket
import subprocess
import threading
import time

import ctlib

MEMCACHED = "/usr/bin/memcached"

t = ctlib.start()
if not os.path.exists(MEMCACHED):
    t.skip_all("memcached not installed (apt-get install memcached)")


def start_servers():
    mport = ctlib.free_port()
    argv = [MEMCACHED, "-p", str(mport), "-l", "127.0.0.1", "-U", "0"]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]
    mc = ctlib.spawn(argv)
    cport = ctlib.free_port()
    ct = ctlib.spawn([ctlib.CTSERVER, "--bind", "127.0.0.1", "--port", str(cport),
                      "--close", "client", "--workers", "2"])
    ok = ctlib.wait_port("127.0.0.1", mport) and ctlib.wait_port("127.0.0.1", cport)
    return mc, mport, ct, cport, ok


def exchange(port, chunks, pause=0.0, timeout=10.0):
    """Send chunks on one connection (a thread sends so big replies cannot
    deadlock us), half-close, read until EOF. Returns the bytes read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def sender():
        try:
            for c in chunks:
                s.sendall(c)
                if pause:
                    time.sleep(pause)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    th = threading.Thread(target=sender)
    th.start()
    out = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            d = s.recv(1 << 16)
            if not d:
                break
            out += d
    except OSError as e:
        out += b"<%s>" % type(e).__name__.encode()
    th.join()
    s.close()
    return out


BIN = bytes(range(256))
BIG_OK = b"v" * 1000000          # under memcached's 1 MB item limit
BIG_NO = b"x" * (2 * 1024 * 1024)  # over it

# (name, chunks, pause between chunks)
SESSIONS = [
    ("unknown and empty commands",
     [b"foo\r\n\r\n\n \r\nGET a\r\nget\r\nincr\r\nx\r\n"], 0),
    ("set/get/gets several keys",
     [b"set a 0 0 3\r\nabc\r\nset b 5 0 1\r\nB\r\nget a b c\r\ngets a b\r\nget a  b\r\n get a\r\n"], 0),
    ("bad data chunk and what follows it",
     [b"set a 0 0 3\r\nabcd\r\nget a\r\nset a 0 0 3\nabc\nget a\n"], 0),
    ("malformed storage lines",
     [b"set a 0 0\r\nset a x 0 3\r\nabc\r\nset a 0 0 -1\r\nset a -1 0 1\r\nx\r\n"
      b"set a 0 0 1 2 3 4 5 6 7 8 9\r\nx\r\nset a 0x10 0 1\r\nx\r\nset a 00 0 1\r\nx\r\n"
      b"set a +1 0 1\r\nx\r\nset a 0 0 01\r\nx\r\nset a 4294967296 0 1\r\nx\r\ngets a\r\n"
      b"set a 0 0 2147483648\r\n"], 0),
    ("keys over 250 bytes",
     [b"set a 0 0 1\r\nx\r\nget " + b"k" * 251 + b"\r\nget " + b"k" * 250 + b"\r\n"
      b"set " + b"k" * 251 + b" 0 0 1\r\nx\r\ndelete " + b"k" * 251 + b"\r\n"
      b"incr " + b"k" * 251 + b" 1\r\ntouch " + b"k" * 251 + b" 1\r\n"], 0),
    ("a get with a long key drops the queued answers of its batch",
     [b"set a 0 0 1\r\nx\r\nget a " + b"k" * 251 + b" a\r\n"], 0),
    ("noreply on every command, errors included",
     [b"set n 0 0 1 noreply\r\n5\r\nadd n 0 0 1 noreply\r\n6\r\nreplace n 0 0 1 noreply\r\n7\r\n"
      b"append n 0 0 1 noreply\r\n8\r\nprepend n 0 0 1 noreply\r\n9\r\nincr n 1 noreply\r\n"
      b"decr n 2 noreply\r\nincr n x noreply\r\ntouch n 100 noreply\r\nset a x 0 3 noreply\r\nabc\r\n"
      b"set a 0 0 1 noreply\r\nxy\r\ndelete a 0 noreply\r\ndelete a 1 noreply\r\n"
      b"flush_all noreply\r\nverbosity 1 noreply\r\nget n\r\n"], 0),
    ("incr/decr arithmetic and the space padding",
     [b"set n 0 0 3\r\n100\r\ndecr n 95\r\nget n\r\nincr n 1000\r\ngets n\r\n"
      b"set m 0 0 2\r\n10\r\nincr m 5\r\ndecr m 100\r\nincr m abc\r\nincr zz 1\r\n"
      b"incr m 18446744073709551615\r\nincr m 1\r\nincr m -1\r\nset e 0 0 0\r\n\r\nincr e 1\r\n"
      b"set s 0 0 3\r\n 12\r\nincr s 1\r\nset t 0 0 4\r\n1 2x\r\nincr t 1\r\nincr a 1 2\r\n"], 0),
    ("delete, touch, verbosity, flush_all forms",
     [b"set d 0 0 1\r\nx\r\ndelete d\r\ndelete d\r\ndelete d 0\r\ndelete d 5\r\ndelete d x y z\r\n"
      b"delete\r\ntouch n 10\r\ntouch zz 10\r\ntouch n x\r\ntouch a\r\nverbosity 1\r\n"
      b"verbosity\r\nverbosity x\r\nverbosity 1 2\r\nverbosity 1 2 3\r\nflush_all 0\r\n"
      b"flush_all x\r\nflush_all noreply x\r\nflush_all\r\nget n s t\r\n"], 0),
    ("add/replace/append/prepend/cas outcomes",
     [b"add q 0 0 1\r\nx\r\nadd q 0 0 1\r\ny\r\nreplace r 0 0 1\r\nx\r\nappend r 0 0 1\r\nx\r\n"
      b"prepend r 0 0 1\r\nx\r\nappend q 5 5 1\r\nz\r\nprepend q 0 0 2\r\nAB\r\ngets q\r\n"
      b"cas q 0 0 1 999\r\nx\r\ncas nope 0 0 1 1\r\nx\r\ncas q 0 0 1\r\nx\r\ncas q 1 0 1 0\r\nz\r\n"
      b"cas q 0 0 1 abc\r\nz\r\ncas q 0 0 1 -1\r\nz\r\nreplace q 3 0 1\r\nR\r\ngets q\r\n"], 0),
    ("expiry: negative is gone at once",
     [b"set x 0 -1 1\r\nx\r\nget x\r\nset y 0 100 1\r\ny\r\nget y\r\n"], 0),
    ("binary bytes in values and keys",
     [b"set bin 0 0 256\r\n" + BIN + b"\r\nget bin\r\nset k\x01\xff\t 7 0 2\r\n\r\n\r\n"
      b"get k\x01\xff\t\r\nget a\x00b\r\nget a\rb\r\n\x00\x01\xff\r\n"], 0),
    ("a line split over many packets",
     [b"se", b"t sp", b"lit 0 0 5\r", b"\nhel", b"lo\r", b"\nge", b"t split\r\n"], 0.02),
    ("pipelined: 300 commands in one write",
     [b"".join(b"set p%d 0 0 %d\r\n%s\r\n" % (i, len(str(i)), str(i).encode()) for i in range(100))
      + b"".join(b"get p%d p%d\r\n" % (i, i + 1) for i in range(100))
      + b"".join(b"incr p%d 7\r\n" % i for i in range(100))], 0),
    ("value just under 1 MB, stored and read back",
     [b"set big 0 0 %d\r\n" % len(BIG_OK), BIG_OK, b"\r\nget big\r\n"], 0),
    ("value over 1 MB: refused, swallowed, old value gone",
     [b"set big 0 0 %d\r\n" % len(BIG_NO), BIG_NO, b"\r\nget big\r\n"], 0),
    ("value over 1 MB with noreply",
     [b"set a 0 0 1\r\nx\r\nset a 0 0 %d noreply\r\n" % len(BIG_NO), BIG_NO, b"\r\nget a\r\n"], 0),
    ("stats reset, unknown stats, meta no-op",
     [b"stats reset\r\nstats foo\r\nmn\r\n"], 0),
    ("quit ends the session", [b"get a\r\nquit x\r\nget a\r\n"], 0),
    ("an HTTP request line closes the connection", [b"GET / HTTP/1.1\r\nget a\r\n"], 0),
    ("a 2048-byte line with no newline is still waited for", [b"a" * 2048], 0),
]


def cas_race(port):
    """Two clients gets the same key, both try cas: the first wins."""
    a = socket.create_connection(("127.0.0.1", port), timeout=5)
    b = socket.create_connection(("127.0.0.1", port), timeout=5)
    log = []

    def req(s, data, end):
        s.sendall(data)
        buf = b""
        while not buf.endswith(end):
            d = s.recv(4096)
            if not d:
                break
            buf += d
        log.append(buf)
        return buf

    req(a, b"set race 0 0 1\r\n0\r\n", b"\r\n")
    ga = req(a, b"gets race\r\n", b"END\r\n")
    gb = req(b, b"gets race\r\n", b"END\r\n")
    ca = ga.split(b"\r\n")[0].split()[-1]
    cb = gb.split(b"\r\n")[0].split()[-1]
    req(a, b"cas race 0 0 1 " + ca + b"\r\nA\r\n", b"\r\n")
    req(b, b"cas race 0 0 1 " + cb + b"\r\nB\r\n", b"\r\n")
    req(b, b"gets race\r\n", b"END\r\n")
    gb = log[-1]
    cb = gb.split(b"\r\n")[0].split()[-1]
    req(b, b"cas race 0 0 1 " + cb + b" noreply\r\nC\r\ngets race\r\n", b"END\r\n")
    a.close()
    b.close()
    return b"|".join(log)


mc, mport, ct, cport, up = start_servers()
if not t.ok(up, "memcached and ctserver both listen"):
    t.done()

for name, chunks, pause in SESSIONS:
    want = exchange(mport, chunks, pause)
    got = exchange(cport, chunks, pause)
    t.diag("%s: %d bytes" % (name, len(want)))
    t.ok(got == want, "same reply as memcached: " + name,
         "memcached: %r\nctserver:  %r" % (want[:600], got[:600]))

want = cas_race(mport)
got = cas_race(cport)
t.ok(got == want, "cas race: same winners, losers and cas ids as memcached",
     "memcached: %r\nctserver:  %r" % (want, got))

# Documented exceptions (docs/ctserver.md), checked as documented.
want = exchange(mport, [b"version\r\n"])
got = exchange(cport, [b"version\r\n"])
t.ok(want.startswith(b"VERSION ") and got.startswith(b"VERSION ctserver-") and got.endswith(b"\r\n"),
     "version: a VERSION line naming ctserver", got)

want = exchange(mport, [b"a" * 3000])
got = exchange(cport, [b"a" * 3000])
t.ok(want == b"" and got == b"CLIENT_ERROR line too long\r\n",
     "line over 2048 bytes without newline: memcached hangs up silently, ctserver says "
     "CLIENT_ERROR line too long first", "memcached %r ctserver %r" % (want, got))

got = exchange(cport, [b"stats\r\n"]).decode("latin-1")
names = [l.split()[1] for l in got.splitlines() if l.startswith("STAT ")]
need = ["pid", "uptime", "time", "version", "curr_connections", "total_connections", "cmd_get",
        "cmd_set", "get_hits", "get_misses", "curr_items", "bytes", "limit_maxbytes", "threads",
        "ct_conntrack_count", "ct_conntrack_max", "ct_tw", "ct_accepted", "ct_closed_by_client",
        "ct_closed_by_server", "ct_closed_by_rst"]
t.ok(got.endswith("END\r\n") and all(n in names for n in need),
     "stats: memcached's common lines plus the ct_ host lines",
     "missing: %s\n%s" % ([n for n in need if n not in names], got))
stats = {l.split()[1]: l.split()[2] for l in got.splitlines() if l.startswith("STAT ")}
t.ok(int(stats.get("cmd_get", 0)) > 0 and int(stats.get("curr_items", 0)) > 0,
     "stats counts the session's gets and items", stats)

for p in (mc, ct):
    ctlib.stop(p)
t.ok(ct.returncode == 0, "ctserver exits 0 on SIGTERM", ct.returncode)
t.done()
