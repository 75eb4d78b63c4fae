"""Every exit path of a lab puts the host back: SIGINT and SIGTERM of a
`lab up --foreground`, the end of `lab up --for`, and SIGKILL followed by
`ctload lab down` (which says what it restored). Values are compared one by
one with what the host had before."""
import json
import os
import signal
import subprocess
import time

import ctlib

t = ctlib.start(require_root=True)

if not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    t.skip_all("no nf_conntrack in this kernel")
KEYS = ["net.netfilter.nf_conntrack_max",
        "net.netfilter.nf_conntrack_tcp_timeout_time_wait"]
before = {k: ctlib.remember_host_sysctl(k) for k in KEYS}
new = {KEYS[0]: "123461" if before[KEYS[0]] != "123461" else "123463",
       KEYS[1]: "41" if before[KEYS[1]] != "41" else "43"}

sc = ctlib.write_scenario("""
[scenario]
name = lab-signals
[lab]
path = direct
[server]
mode = echo
port = 11400
[load]
rate = 10/s
[sysctl.host]
%s = %s
%s = %s
""" % (KEYS[0], new[KEYS[0]], KEYS[1], new[KEYS[1]]))


def host_values():
    return {k: ctlib.host_sysctl(k) for k in KEYS}


def lab_ids():
    try:
        return sorted(f[:-5] for f in os.listdir("/run/ctload") if f.endswith(".json"))
    except OSError:
        return []


def wait_for(cond, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def lab_info(lab):
    """The lab's state file "info" (written once the lab is complete)."""
    try:
        with open("/run/ctload/%s.json" % lab) as f:
            return json.load(f).get("info")
    except (OSError, ValueError):
        return None


def start_foreground(*extra):
    labs_before = set(lab_ids())
    p = ctlib.spawn([ctlib.CTLOAD, "lab", "up", sc, "--foreground"] + list(extra),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    new_ids = []

    def ready():
        new_ids[:] = sorted(set(lab_ids()) - labs_before)
        return new_ids and lab_info(new_ids[0]) is not None

    up = wait_for(ready) and host_values() == new
    return p, up, (new_ids[0] if new_ids else None)


for signame, signo in (("SIGINT", signal.SIGINT), ("SIGTERM", signal.SIGTERM)):
    p, up, lab = start_foreground()
    t.ok(up, "%s: the foreground lab is up with the host values changed" % signame,
         host_values())
    # Hold a moment so the samplers run, then signal it.
    time.sleep(0.3)
    p.send_signal(signo)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    t.ok(p.returncode == 0, "%s: lab up exits 0 after taking the lab down" % signame,
         "rc=%s\n%s%s" % (p.returncode, out, err))
    for k in KEYS:
        t.ok(ctlib.host_sysctl(k) == before[k], "%s: %s restored to %s" % (signame, k, before[k]),
             ctlib.host_sysctl(k))
    t.ok(not ctlib.lab_netns_left(lab), "%s: no lab netns left" % signame,
         ctlib.netns_list())
    t.ok(lab not in lab_ids(), "%s: the state file is removed" % signame, lab_ids())

# --for: holds for the time, then takes itself down.
r = ctlib.run([ctlib.CTLOAD, "lab", "up", sc, "--for", "1s"], timeout=60)
t.ok(r.returncode == 0 and "lab down" in r.stdout, "--for 1s holds then takes the lab down",
     r.stdout + r.stderr)
t.ok(host_values() == before, "--for: host values restored", host_values())

# SIGKILL: nothing runs at exit; `lab down` must undo it from the state file.
p, up, lab = start_foreground()
t.ok(up, "SIGKILL: the foreground lab is up", host_values())
server_pid = (lab_info(lab) or {}).get("server_pid") if lab else None
p.kill()
p.wait()
t.ok(host_values() == new, "SIGKILL: the changed values are still set after the kill",
     host_values())
st = ctlib.run([ctlib.CTLOAD, "lab", "status"])
t.ok("died" in st.stdout, "lab status says the lab was left by a ctload that died", st.stdout)
r = ctlib.run([ctlib.CTLOAD, "lab", "down"])
t.ok(r.returncode == 0, "lab down after SIGKILL exits 0", r.stdout + r.stderr)
msg = "restored %s = %s (was set to %s by run %s" % (KEYS[0], before[KEYS[0]], new[KEYS[0]], lab)
t.ok(msg in r.stderr and "which died" in r.stderr, "lab down says what it restored", r.stderr)
for k in KEYS:
    t.ok(ctlib.host_sysctl(k) == before[k], "SIGKILL: %s restored to %s" % (k, before[k]),
         ctlib.host_sysctl(k))
t.ok(not ctlib.lab_netns_left(lab), "SIGKILL: stale netns removed",
     ctlib.netns_list())
if server_pid:
    alive = os.path.exists("/proc/%d" % server_pid)
    if alive:
        with open("/proc/%d/stat" % server_pid) as f:
            alive = f.read().split(")")[-1].split()[0] != "Z"
    t.ok(not alive, "SIGKILL: the orphaned ctserver (pid %d) was ended" % server_pid)
else:
    t.ok(False, "SIGKILL: the lab's state names its ctserver")
t.ok(lab not in lab_ids(), "SIGKILL: the state file is removed", lab_ids())
t.done()
