#!/usr/bin/env python3
"""The live terminal view, seen through tmux (a real TTY): during a lab run
the pane shows the step with its progress bar and the conntrack fill bar
with count / max, TIME_WAIT and ports in use; the block is redrawn in place
(never more than one copy on screen); at the end the step's summary line
stays and the cursor is visible again. --quiet, or stderr not a TTY, draws
nothing (no escape codes in a file)."""
import os
import re
import shutil
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not shutil.which("tmux"):
    t.skip_all("tmux missing: run scripts/setup")
tmp = tempfile.mkdtemp(prefix="ctt-live-")
SOCK = "ctt-%d" % os.getpid()  # our own tmux server, ended at the end


def tmux(*args, check=False):
    return subprocess.run(["tmux", "-L", SOCK] + list(args), capture_output=True, text=True,
                          timeout=10, check=check)


def pane():
    return tmux("capture-pane", "-p", "-t", "live").stdout


sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), """
    [scenario]
    name = liveview
    topology = lab
    [lab]
    clients = 1
    conntrack_on = server
    [server]
    port = 11211
    [load]
    rate = 300/s
    duration = 5s
    """)
out = os.path.join(tmp, "run")
done_flag = os.path.join(tmp, "done")
cmd = "%s run %s --out %s; echo $? > %s; sleep 60" % (ctlib.CTLOAD, sc, out, done_flag)
tmux("new-session", "-d", "-s", "live", "-x", "120", "-y", "40", cmd, check=True)

progress = re.compile(r"step 1/1 .*\[(#+)\.*\]\s+\d+%")
ctbar = re.compile(r"conntrack server\s+\[(#*)\.*\]\s+([\d,]+) / ([\d,]+)")
seen_progress, seen_ct, copies, fills, screens = False, False, 0, [], []
deadline = time.time() + 90
while time.time() < deadline and not os.path.exists(done_flag):
    p = pane()
    screens.append(p)
    copies = max(copies, len(re.findall(r"^step 1/1 ", p, re.M)))
    m = progress.search(p)
    if m:
        seen_progress = True
        fills.append(len(m.group(1)))
    c = ctbar.search(p)
    if c and int(c.group(2).replace(",", "")) > 0 and int(c.group(3).replace(",", "")) > 0:
        seen_ct = True
    time.sleep(0.3)
final = pane()
rc = open(done_flag).read().strip() if os.path.exists(done_flag) else None
t.ok(rc == "0", "ctload run in tmux exits 0", final)
t.ok(seen_progress, "the pane showed the step and its progress bar", screens[-3:] if screens
     else None)
t.ok(len(fills) >= 2 and fills[-1] > fills[0], "the progress bar grew during the step", fills)
t.ok(seen_ct, "the pane showed the conntrack fill bar with count / max",
     screens[-3:] if screens else None)
t.ok(any("TIME_WAIT client" in s and "ports in use" in s for s in screens),
     "TIME_WAIT per side and ports in use were shown")
t.ok(copies == 1, "the block was redrawn in place (one copy on screen at a time)", copies)
t.ok(re.search(r"step 1/1 .*done: .* achieved of .*completed", final),
     "the step's summary line stays at the end", final)
cur = tmux("display", "-p", "-t", "live", "#{cursor_flag}").stdout.strip()
t.ok(cur == "1", "the cursor is visible again after the run", cur)
tmux("kill-server")

# --quiet in a TTY, and a TTY-less stderr: no live view.
sport = ctlib.free_port()
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                   str(sport), "--workers", "1"])
t.ok(ctlib.wait_port("127.0.0.1", sport), "ctserver listens on 127.0.0.1")
sc2 = ctlib.scenario_file(os.path.join(tmp, "host.ini"), """
    [scenario]
    name = liveview-host
    topology = host
    [server]
    mode = memcache
    target = 127.0.0.1:%d
    [load]
    rate = 200/s
    duration = 1s
    """ % sport)
flag2 = os.path.join(tmp, "done2")
cmd = "%s run %s --out %s --quiet; echo $? > %s; sleep 60" % (ctlib.CTLOAD, sc2,
                                                              os.path.join(tmp, "q"), flag2)
tmux("new-session", "-d", "-s", "live", "-x", "120", "-y", "40", cmd, check=True)
saw = False
deadline = time.time() + 30
while time.time() < deadline and not os.path.exists(flag2):
    saw |= "step 1/1" in pane()
    time.sleep(0.2)
saw |= "step 1/1" in pane()
t.ok(os.path.exists(flag2) and not saw, "--quiet on a TTY: no live view", pane())
tmux("kill-server")
errf = os.path.join(tmp, "stderr.txt")
with open(errf, "w") as f:
    r = subprocess.run([ctlib.CTLOAD, "run", sc2, "--out", os.path.join(tmp, "f")],
                       stdout=subprocess.DEVNULL, stderr=f, timeout=60)
text = open(errf).read()
t.ok(r.returncode == 0 and "\033" not in text and "[##" not in text,
     "stderr to a file: no live view, no escape codes", text[-2000:])
ctlib.stop(srv)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
