#!/usr/bin/env python3
"""Where ctload stops: what it refuses and what it allows without root.

- lab mode as a non-root user exits 3 with a message that says root is
  needed, and creates no netns and no lab state;
- host mode works unprivileged: a `ctload run` against ctserver on
  127.0.0.1, and model / lint / check / lab status / report;
- in lab mode a target outside the lab is refused (exit 2, file:line);
- sysctl keys come only from the allowlist of networking keys: kernel.*,
  /proc paths and ../ tricks are refused (exit 2) in [sysctl.*], [sweep]
  and --set, before anything runs;
- a scenario's name cannot steer where ctload writes: names with '/' or
  '..' components are refused, and the default run directory stays under
  ./runs/."""
import glob
import json
import os
import shutil
import tempfile

import ctlib

t = ctlib.start(require_root=True)
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
if not shutil.which("setpriv"):
    t.skip_all("setpriv (util-linux) is missing")

tmp = tempfile.mkdtemp(prefix="ctt-bound-")
os.chmod(tmp, 0o777)  # the unprivileged user writes its runs here
data = os.path.join(ctlib.SRCDIR, "tests", "data")


def scen(name, text):
    p = ctlib.scenario_file(os.path.join(tmp, name), text)
    os.chmod(p, 0o644)
    return p


def as_nobody(argv, timeout=60, cwd=None):
    return ctlib.run(NOBODY + argv, timeout=timeout, cwd=cwd)


def state_files():
    return sorted(glob.glob("/run/ctload/*.json"))


# ---- lab mode without root ----------------------------------------------------
lab_sc = scen("lab.ini", """
    [scenario]
    name = bound-lab
    topology = lab
    [load]
    rate = 10/s
    duration = 1s
    [sysctl.client]
    net.ipv4.tcp_tw_reuse = 1
    """)
ns_before, st_before = ctlib.netns_list(""), state_files()
r = as_nobody([ctlib.CTLOAD, "lab", "up", lab_sc])
t.ok(r.returncode == 3, "lab up as non-root exits 3 (%d)" % r.returncode, r.stderr)
t.ok("root" in r.stderr and "sudo" in r.stderr, "... and says root is needed (run with sudo)",
     r.stderr)
r = as_nobody([ctlib.CTLOAD, "lab", "down"])
t.ok(r.returncode == 3 and "root" in r.stderr, "lab down as non-root exits 3 (%d)" %
     r.returncode, r.stderr)
r = as_nobody([ctlib.CTLOAD, "run", lab_sc, "--out", os.path.join(tmp, "lab-run"), "--quiet"])
t.ok(r.returncode == 3, "run topology=lab as non-root exits 3 (%d)" % r.returncode, r.stderr)
t.ok("root" in r.stderr, "... and says root is needed", r.stderr)
t.ok(not os.path.exists(os.path.join(tmp, "lab-run")),
     "... before writing anything: no run directory is made")
ours = [n for n in ctlib.netns_list("") if n not in ns_before and n.startswith("ctl-")]
t.ok(not ours and state_files() == st_before,
     "a refused non-root lab leaves no netns and no lab state", (ours, state_files()))

# ---- host mode without root ----------------------------------------------------
port = ctlib.free_port()
srv = ctlib.spawn(NOBODY + [ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1",
                            "--port", str(port)])
if not ctlib.wait_port("127.0.0.1", port):
    t.ok(False, "ctserver runs as non-root on 127.0.0.1",
         srv.stderr.read1().decode() if srv.poll() is not None else None)
else:
    t.ok(True, "ctserver runs as non-root on 127.0.0.1")
    host_sc = scen("host.ini", """
        [scenario]
        name = ..
        topology = host
        [server]
        target = 127.0.0.1:%d
        [load]
        rate = 200/s
        duration = 1s
        request = "get k{seq}\\r\\n"
        expect = "END\\r\\n"
        """ % port)
    cwd = os.path.join(tmp, "cwd")
    os.mkdir(cwd)
    os.chmod(cwd, 0o777)
    r = as_nobody([ctlib.CTLOAD, "run", host_sc, "--quiet"], cwd=cwd)
    t.ok(r.returncode == 0, "run topology=host as non-root against ctserver exits 0 (%d)" %
         r.returncode, r.stderr)
    rdir = os.path.join(cwd, "runs")
    runs = [os.path.join(rdir, d, "summary.json") for d in
            (os.listdir(rdir) if os.path.isdir(rdir) else [])]  # glob skips ".." names
    runs = [p for p in runs if os.path.exists(p)]
    summary = json.load(open(runs[0])) if len(runs) == 1 else {}
    step = summary["steps"][0] if summary.get("steps") else {}
    t.ok(step.get("completed") == 200, "... all 200 connections completed (%s)" %
         step.get("completed"), runs)
    t.ok(len(runs) == 1 and os.path.basename(os.path.dirname(runs[0])).startswith("..-") and
         os.listdir(cwd) == ["runs"] and "runs" not in os.listdir(tmp),
         "name = '..' writes its run inside ./runs/ and nowhere else (%s)" % runs)
    if runs:
        rundir = os.path.dirname(runs[0])
        r = as_nobody([ctlib.CTLOAD, "report", rundir])
        t.ok(r.returncode == 0 and os.path.exists(os.path.join(rundir, "report.html")),
             "report as non-root builds report.html (%d)" % r.returncode, r.stderr)
ctlib.stop(srv)

for what, argv, ok_rc in (
        ("model", [ctlib.CTLOAD, "model", os.path.join(data, "good", "full.ini")], (0,)),
        ("lint", [ctlib.CTLOAD, "lint", os.path.join(data, "sysctl", "clean.conf")], (0, 1)),
        ("check", [ctlib.CTLOAD, "check"], (0, 1)),
        ("lab status", [ctlib.CTLOAD, "lab", "status"], (0,))):
    r = as_nobody(argv)
    t.ok(r.returncode in ok_rc, "%s works as non-root (exit %d)" % (what, r.returncode),
         r.stderr)

# ---- a target outside the lab ----------------------------------------------------
for target in ("8.8.8.8:80", "127.0.0.1:11211", "[::1]:11211"):
    p = scen("target.ini", """
        [scenario]
        name = bound-target
        topology = lab
        [server]
        target = %s
        [load]
        rate = 10/s
        """ % target)
    out = os.path.join(tmp, "target-run")
    r = ctlib.run([ctlib.CTLOAD, "run", p, "--out", out, "--quiet"], timeout=60)
    t.ok(r.returncode == 2 and "target.ini:5" in r.stderr,
         "lab with target = %s is refused: exit 2 naming file:line (%d)" % (target, r.returncode),
         r.stderr)
    t.ok(not os.path.exists(out), "... before a run directory is made")
r = ctlib.run([ctlib.CTLOAD, "run", lab_sc, "--set", "server.target=10.0.0.1:80", "--out",
               os.path.join(tmp, "t2"), "--quiet"], timeout=60)
t.ok(r.returncode == 2, "--set server.target on a lab scenario is refused (%d)" % r.returncode,
     r.stderr)

# ---- the sysctl allowlist ------------------------------------------------------------
hostile_keys = ["kernel.core_pattern", "/proc/sys/kernel/core_pattern", "../../../etc/passwd",
                "net/../../etc/passwd", "net.ipv4.tcp_tw_reuse/../../../../etc/x",
                "vm.overcommit_memory", "net.ipv4.conf.all.forwarding", "net.ipv4.tcp_tw_reuse/",
                "/etc/passwd"]
core = ctlib.host_sysctl("kernel.core_pattern")
for section in ("client", "server", "router", "host"):
    for key in hostile_keys:
        p = scen("sysctl.ini", """
            [scenario]
            name = bound-sysctl
            [load]
            rate = 10/s
            [sysctl.%s]
            %s = 1
            """ % (section, key))
        out = os.path.join(tmp, "sysctl-run")
        r = ctlib.run([ctlib.CTLOAD, "run", p, "--out", out, "--quiet"], timeout=60)
        good = (r.returncode == 2 and "sysctl.ini:6" in r.stderr and "not a sysctl" in r.stderr
                and not os.path.exists(out))
        if not good or key == hostile_keys[0]:
            t.ok(good, "[sysctl.%s] %s is refused: exit 2 naming file:line, nothing run (%d)" %
                 (section, key, r.returncode), r.stderr)
t.ok(True, "every other hostile key in every [sysctl.*] section is refused the same way")
for argv, what in (
        (["--set", "sysctl.client.kernel.core_pattern=|/bin/sh"], "--set sysctl.client.kernel.*"),
        (["--set", "sysctl.host.../../../etc/passwd=1"], "--set sysctl.host.../../"),
        (["--set", "net.ipv4.tcp_tw_reuse=1 2"], "--set with a value the key cannot take")):
    r = ctlib.run([ctlib.CTLOAD, "run", lab_sc, "--out", os.path.join(tmp, "set-run"),
                   "--quiet"] + argv, timeout=60)
    t.ok(r.returncode == 2, "%s is refused, exit 2 (%d)" % (what, r.returncode), r.stderr)
p = scen("sweep.ini", """
    [scenario]
    name = bound-sweep
    [load]
    rate = 10/s
    [sweep]
    sysctl.client.kernel.core_pattern = a,b
    """)
r = ctlib.run([ctlib.CTLOAD, "run", p, "--out", os.path.join(tmp, "sweep-run"), "--quiet"],
              timeout=60)
t.ok(r.returncode == 2 and "sweep.ini:6" in r.stderr,
     "a [sweep] axis on kernel.core_pattern is refused with file:line (%d)" % r.returncode,
     r.stderr)
t.ok(ctlib.host_sysctl("kernel.core_pattern") == core, "kernel.core_pattern is unchanged")

# ---- names that would steer the run directory ------------------------------------
for name in ("../../x", "a/b", "/etc/cron.d/x", "x/..", "...//", ""):
    p = scen("name.ini", """
        [scenario]
        name = %s
        topology = host
        [server]
        target = 127.0.0.1:9
        [load]
        rate = 10/s
        """ % name)
    cwd = os.path.join(tmp, "namecwd")
    os.makedirs(cwd, exist_ok=True)
    r = ctlib.run([ctlib.CTLOAD, "run", p, "--quiet"], timeout=60, cwd=cwd)
    t.ok(r.returncode == 2 and "name.ini:2" in r.stderr and not os.listdir(cwd),
         "name = %r is refused with file:line and nothing written (%d)" % (name, r.returncode),
         r.stderr)
r = ctlib.run([ctlib.CTLOAD, "model", lab_sc, "--set", "scenario.name=../../x"], timeout=60)
t.ok(r.returncode == 2, "--set scenario.name=../../x is refused (%d)" % r.returncode, r.stderr)

shutil.rmtree(tmp, ignore_errors=True)
t.done()
