#!/usr/bin/env python3
"""valgrind memcheck over ctload: model, lint and check on fixtures, and a
short host-mode `ctload run` (2 s) against ctserver on 127.0.0.1 — and over
ctserver while it serves that run — and a short lab run (2 s, path = nat). Every program must end with its usual
exit code, no memcheck error and no definite or indirect leak
(--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

import ctlib

t = ctlib.start()
if not shutil.which("valgrind"):
    t.skip_all("valgrind is missing (scripts/setup installs it)")
if ctlib.sanitized(ctlib.CTLOAD):
    t.skip_all("an ASan build: valgrind cannot run it")

tmp = tempfile.mkdtemp(prefix="ctt-vg-")
data = os.path.join(ctlib.SRCDIR, "tests", "data")
VG = ["valgrind", "--error-exitcode=99", "--leak-check=full",
      "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
      "--track-fds=no", "--num-callers=30", "-q"]


def vg(name, argv, want_rc, timeout=120):
    log = os.path.join(tmp, name + ".vg")
    r = ctlib.run(VG + ["--log-file=" + log] + argv, timeout=timeout)
    with open(log, errors="replace") as f:
        report = f.read()
    t.ok(r.returncode != 99 and "ERROR SUMMARY" not in report and
         "definitely lost" not in report and "Invalid" not in report,
         "%s: memcheck finds no error and no leak" % name, report[-3000:])
    t.ok(r.returncode in want_rc, "%s: exits %s as without valgrind (%d)" %
         (name, "/".join(map(str, want_rc)), r.returncode), r.stderr[-1500:])
    return r


# ---- analysis commands on fixtures ------------------------------------------
sc_full = os.path.join(data, "good", "full.ini")
vg("model full.ini", [ctlib.CTLOAD, "model", sc_full], (0,))
vg("model --json", [ctlib.CTLOAD, "model", sc_full, "--json"], (0,))
vg("lint planted.conf", [ctlib.CTLOAD, "lint", os.path.join(data, "sysctl", "planted.conf")],
   (0, 1))
vg("lint a missing file", [ctlib.CTLOAD, "lint", os.path.join(tmp, "nope.conf")], (2, 3))
vg("check", [ctlib.CTLOAD, "check"], (0, 1))
vg("a bad scenario", [ctlib.CTLOAD, "model", os.path.join(data, "bad", "unknown_key.ini")], (2,))

# ---- a short host-mode run against ctserver ----------------------------------
port = ctlib.free_port()
srv_log = os.path.join(tmp, "ctserver.vg")
srv = ctlib.spawn(VG + ["--log-file=" + srv_log, ctlib.CTSERVER, "--mode", "memcache",
                        "--bind", "127.0.0.1", "--port", str(port), "--close", "client"])
# ctserver under valgrind starts slowly.
if not ctlib.wait_port("127.0.0.1", port, timeout=30):
    t.ok(False, "ctserver under valgrind listens", srv.stderr.read1().decode()
         if srv.poll() is not None else None)
    t.done()
sc = ctlib.scenario_file(os.path.join(tmp, "host.ini"), """
    [scenario]
    name = valgrind-host
    topology = host
    [server]
    mode = memcache
    target = 127.0.0.1:%d
    [load]
    rate = 100/s
    duration = 2s
    request = "get k{seq}\\r\\n"
    expect = "END\\r\\n"
    """ % port)
out = os.path.join(tmp, "run")
r = vg("run topology=host 2s", [ctlib.CTLOAD, "run", sc, "--out", out, "--quiet"], (0,),
       timeout=120)
try:
    s = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl"))
except (OSError, ValueError) as e:
    s = e
t.ok(isinstance(s, list) and len(s) > 0, "the run under valgrind wrote its samples", s)
vg("report on that run", [ctlib.CTLOAD, "report", out], (0,))

srv.send_signal(signal.SIGTERM)
try:
    rc = srv.wait(60)
except subprocess.TimeoutExpired:
    srv.kill()
    rc = srv.wait()
with open(srv_log, errors="replace") as f:
    report = f.read()
t.ok(rc != 99 and "definitely lost" not in report and "Invalid" not in report,
     "ctserver: memcheck finds no error and no leak after serving the run", report[-3000:])
t.ok(rc == 0, "ctserver: exits 0 on SIGTERM under valgrind (%s)" % rc)

# ---- a short lab run (as root, when this build has topology = lab) ------------
if os.geteuid() != 0:
    t.ok(True, "# SKIP the lab run needs root")
else:
    lab_sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), """
        [scenario]
        name = valgrind-lab
        [lab]
        path = nat
        conntrack_on = router
        [server]
        mode = memcache
        port = 11438
        [load]
        rate = 100/s
        duration = 2s
        request = "get k{seq}\\r\\n"
        expect = "END\\r\\n"
        [sysctl.client]
        net.ipv4.tcp_tw_reuse = 1
        """)
    out = os.path.join(tmp, "lab-run")
    ns_before = set(ctlib.netns_list())
    r = vg("run topology=lab 2s", [ctlib.CTLOAD, "run", lab_sc, "--out", out, "--quiet"], (0,),
           timeout=120)
    if "not available" in r.stderr:
        t.diag("ctload run has no topology = lab yet")
    else:
        try:
            with open(os.path.join(out, "summary.json")) as f:
                steps = json.load(f).get("steps", [])
        except (OSError, ValueError):
            steps = []
        t.ok(steps and steps[0].get("completed") == 200,
             "the lab run under valgrind completed its 200 connections",
             steps[:1] or r.stderr[-1500:])
        left = set(ctlib.netns_list()) - ns_before
        t.ok(not left, "and took its lab down", left)

shutil.rmtree(tmp, ignore_errors=True)
t.done()
