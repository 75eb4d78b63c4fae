#!/usr/bin/env python3
"""Close policy: after N connections, TIME_WAIT sockets sit on the side that
--close names (client or server) and on neither side for rst.

Client and server each get a fresh netns joined by a veth, so their
/proc/net/sockstat `tw` counts are separate and start at zero. The client
behaves the same for every policy: request, read the reply, give the
server a moment to close, then close itself."""

import ctypes
import os
import socket
import time

import ctlib

N = 40
PORT = 11211
CLI_IP, SRV_IP = "198.18.0.1", "198.18.0.2"

t = ctlib.start(require_root=True)
libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


host_ns = "/proc/self/ns/net"
host_fd = os.open(host_ns, os.O_RDONLY)


def back_home():
    if libc.setns(host_fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns back")


def stats(port):
    """Ask ctserver for stats from inside the client netns."""
    s = socket.create_connection((SRV_IP, port), timeout=5)
    s.sendall(b"stats\r\n")
    buf = b""
    while not buf.endswith(b"END\r\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return {l.split()[1]: l.split()[2] for l in buf.decode().splitlines() if l.startswith("STAT ")}


def run_policy(policy, mode):
    cli = ctlib.netns_add("c" + policy[:2] + mode[:1])
    srv = ctlib.netns_add("s" + policy[:2] + mode[:1])
    ctlib.veth_pair(cli, CLI_IP, srv, SRV_IP)
    p = ctlib.spawn([ctlib.CTSERVER, "--mode", mode, "--bind", SRV_IP, "--port", str(PORT),
                     "--close", policy, "--workers", "2"], netns=srv)
    if not ctlib.wait_port(SRV_IP, PORT, netns=srv):
        t.ok(False, "%s/%s: ctserver listens in its netns" % (mode, policy), p.stderr.read1(4096) if p.poll() is not None else "")
        return
    setns("/run/netns/" + cli)
    answered = 0
    socks = []
    try:
        for i in range(N):
            s = socket.create_connection((SRV_IP, PORT), timeout=5)
            s.sendall(b"get k%d\r\n" % i)
            want = b"END\r\n" if mode == "memcache" else b"get k%d\r\n" % i
            buf = b""
            while not buf.endswith(want):
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            answered += buf == want
            socks.append(s)
        time.sleep(0.3)  # let a closing server's FIN or RST arrive
        for s in socks:
            s.close()
        time.sleep(0.3)
    finally:
        back_home()
    tw_cli = ctlib.sockstat(cli).get("tw", -1)
    tw_srv = ctlib.sockstat(srv).get("tw", -1)
    t.ok(answered == N, "%s/%s: all %d connections answered" % (mode, policy, N), answered)
    where = {"client": (N, 0), "server": (0, N), "rst": (0, 0)}[policy]
    t.ok(tw_cli >= where[0] and (where[0] or tw_cli == 0) and
         tw_srv >= where[1] and (where[1] or tw_srv == 0),
         "%s/%s: TIME_WAIT on %s (client netns tw=%d, server netns tw=%d)" %
         (mode, policy, {"client": "the client only", "server": "the server only",
                         "rst": "neither side"}[policy], tw_cli, tw_srv))
    if mode == "memcache":
        setns("/run/netns/" + cli)
        try:
            st = stats(PORT)
        finally:
            back_home()
        key = {"client": "ct_closed_by_client", "server": "ct_closed_by_server",
               "rst": "ct_closed_by_rst"}[policy]
        t.ok(int(st.get(key, 0)) >= N and int(st.get("ct_accepted", 0)) >= N + 1,
             "%s/%s: stats counts %s >= %d" % (mode, policy, key, N), st)
        t.ok(int(st.get("ct_tw", -2)) == tw_srv,
             "%s/%s: stats ct_tw matches the server netns's sockstat" % (mode, policy),
             "ct_tw=%s sockstat=%d" % (st.get("ct_tw"), tw_srv))
    ctlib.stop(p)
    t.ok(p.returncode == 0, "%s/%s: ctserver exits 0 on SIGTERM" % (mode, policy), p.returncode)


for mode in ("memcache", "echo"):
    for policy in ("client", "server", "rst"):
        run_policy(policy, mode)
t.done()
