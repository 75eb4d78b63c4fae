#!/usr/bin/env python3
"""A real lab target (outside loopback, from a netns with a default route, so
the routeless-netns rule does not apply) is loaded only when the user listed
it: with --allow-target CIDR[:PORTS], or in the root-owned allowlist file
($CTLOAD_TARGETS_FILE here; never the real /etc/ctload/targets). Unlisted,
the run is refused before any packet leaves, and the message says how to
allow it. All traffic stays between two namespaces this test makes."""
import os
import shutil
import subprocess
import tempfile

import ctlib

t = ctlib.start(require_root=True)
tmp = tempfile.mkdtemp(prefix="ctt-allow-")
os.chmod(tmp, 0o755)
N = 20

cli = ctlib.netns_add("acli")
srv = ctlib.netns_add("asrv")
ctlib.veth_pair(cli, "198.18.2.1", srv, "198.18.2.2")
# A default route makes the client netns look like a real host's: the
# routeless-netns rule no longer allows anything outside loopback.
subprocess.run(["ip", "-n", cli, "route", "add", "default", "via", "198.18.2.2"], check=True)
PORT = 11211
ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "198.18.2.2", "--port", str(PORT)],
            netns=srv)
t.ok(ctlib.wait_port("198.18.2.2", PORT, netns=srv), "ctserver listens in the server netns")

sc = ctlib.scenario_file(os.path.join(tmp, "s.ini"), """
    [scenario]
    name = allowlist
    topology = host
    [server]
    target = 198.18.2.2:%d
    [load]
    rate = %d/s
    duration = 1s
    """ % (PORT, N))


def tcp_in_segs():
    """TCP segments the server netns has received (/proc/net/snmp)."""
    lines = [l.split() for l in ctlib.run(["cat", "/proc/net/snmp"], netns=srv).stdout
             .splitlines() if l.startswith("Tcp:")]
    return int(lines[1][lines[0].index("InSegs")])


def run(name, extra=(), env_file=None):
    env = dict(os.environ)
    env["CTLOAD_TARGETS_FILE"] = env_file or os.path.join(tmp, "no-such-file")
    out = os.path.join(tmp, name)
    argv = ["ip", "netns", "exec", cli, ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"]
    r = subprocess.run(argv + list(extra), capture_output=True, text=True, timeout=60, env=env)
    step = {}
    try:
        import json
        with open(os.path.join(out, "summary.json")) as f:
            step = json.load(f)["steps"][0]
    except (OSError, ValueError, KeyError, IndexError):
        pass
    return r, step, out


def refused(name, extra=(), env_file=None, code=2, says=()):
    before = tcp_in_segs()
    r, _, out = run(name, extra, env_file)
    t.ok(r.returncode == code, "%s: exit %d" % (name, code), r.stderr)
    for s in says:
        t.ok(s in r.stderr, "%s: the message says '%s'" % (name, s), r.stderr)
    t.ok(not os.path.exists(out), "%s: no run directory" % name)
    t.ok(tcp_in_segs() == before, "%s: not one TCP segment reached the server" % name)


refused("no-allowlist", says=("is outside the lab", "--allow-target 198.18.2.2/32:%d" % PORT,
                              os.path.join(tmp, "no-such-file")))
refused("other-port", ["--allow-target", "198.18.2.2:80"])
refused("other-net", ["--allow-target", "198.18.3.0/24"])
r, _, _ = run("bad-entry", ["--allow-target", "198.18.2.0/33"])
t.ok(r.returncode == 2 and "--allow-target" in r.stderr and "prefix length" in r.stderr,
     "a malformed --allow-target exits 2 naming the flag", r.stderr)

r, step, _ = run("flag", ["--allow-target", "198.18.2.0/24:%d" % PORT])
t.ok(r.returncode == 0 and step.get("completed") == N,
     "--allow-target 198.18.2.0/24:%d: all %d connections completed (%s)"
     % (PORT, N, step.get("completed")), r.stderr + str(step.get("failures")))
t.ok("allowed by --allow-target" in r.stderr and "real network" in r.stderr,
     "the run says which entry allowed it", r.stderr)

lst = os.path.join(tmp, "targets")
with open(lst, "w") as f:
    f.write("# the device under test\n198.18.2.2:%d  # ctserver\n" % PORT)
os.chmod(lst, 0o644)
r, step, _ = run("file", env_file=lst)
t.ok(r.returncode == 0 and step.get("completed") == N,
     "a root-owned allowlist file allows it: %s completed" % step.get("completed"),
     r.stderr + str(step.get("failures")))
t.ok("allowed by %s:2" % lst in r.stderr, "the run names the file and line", r.stderr)

os.chmod(lst, 0o666)
refused("file-world-writable", env_file=lst, code=3, says=("writable by root alone",))
os.chmod(lst, 0o644)
os.chown(lst, 65534, 65534)
refused("file-not-root", env_file=lst, code=3, says=("owned by root",))
os.chown(lst, 0, 0)
with open(lst, "a") as f:
    f.write("198.18.2.2:notaport\n")
refused("file-bad-line", env_file=lst, says=("%s:3:" % lst,))

shutil.rmtree(tmp, ignore_errors=True)
t.done()
