"""`ctload lab down` with several labs: it asks which one, takes down the
one named (by id or by a netns name), --all takes every lab and stray ctl-*
netns; a lab in use by a running ctload is never taken from under it; and
without root, up and down exit 3 with the reason while status still reads.
Note: --all also ends labs of another ctload test run on the same host
(CI runs one suite at a time)."""
import os
import signal
import subprocess
import time

import ctlib

t = ctlib.start(require_root=True)
if os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    ctlib.remember_host_sysctl("net.netfilter.nf_conntrack_max")

sc = ctlib.write_scenario("""
[scenario]
name = lab-down
[lab]
path = direct
conntrack_on = none
[server]
mode = echo
port = 11800
[load]
rate = 10/s
""")

r1, a = ctlib.lab_up(sc)
r2, b = ctlib.lab_up(sc)
t.ok(a and b and a != b, "two labs of the same scenario get different ids", (a, b))
t.ok(set(ctlib.netns_list()) >= {ctlib.lab_netns(a, "srv"), ctlib.lab_netns(b, "srv")},
     "both labs' netns exist side by side", ctlib.netns_list())

r = ctlib.run([ctlib.CTLOAD, "lab", "down"])
t.ok(r.returncode == 2 and "name one" in r.stderr, "plain down with two labs asks which one",
     r.stdout + r.stderr)
t.ok(ctlib.lab_netns(a, "cli") in ctlib.netns_list(), "and takes nothing down")

r = ctlib.lab_down(ctlib.lab_netns(a, "cli"))
t.ok(r.returncode == 0, "down by a netns name of the lab", r.stdout + r.stderr)
t.ok(ctlib.lab_netns(a, "cli") not in ctlib.netns_list()
     and ctlib.lab_netns(b, "cli") in ctlib.netns_list(), "only that lab went down",
     ctlib.netns_list())
if a in ctlib._labs:
    ctlib._labs.remove(a)

r = ctlib.run([ctlib.CTLOAD, "lab", "down", "ffff-nosuch"])
t.ok(r.returncode == 2, "down of an unknown lab exits 2", r.stdout + r.stderr)

# A stray netns with the lab prefix and no state file (e.g. from a crash
# before the journal existed) is removed by --all only.
stray = "ctl-%04x-cli" % (os.getpid() & 0xffff)
subprocess.run(["ip", "netns", "add", stray], check=True)
st = ctlib.run([ctlib.CTLOAD, "lab", "status"])
t.ok(stray in st.stdout, "status lists the stray netns", st.stdout)

# A foreground lab belongs to its running ctload: --all leaves it alone.
p = ctlib.spawn([ctlib.CTLOAD, "lab", "up", sc, "--foreground"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE)
fg = ctlib.wait_lab_of(p.pid)
time.sleep(0.5)

r = ctlib.run([ctlib.CTLOAD, "lab", "down", "--all"])
t.ok(r.returncode == 0, "down --all exits 0", r.stdout + r.stderr)
left = set(ctlib.netns_list())
t.ok(stray not in left and ctlib.lab_netns(b, "cli") not in left,
     "down --all removed the other lab and the stray netns", left)
t.ok(fg and ctlib.lab_netns(fg, "cli") in left, "the running foreground lab was left alone",
     (fg, left))
if b in ctlib._labs:
    ctlib._labs.remove(b)
p.send_signal(signal.SIGINT)
try:
    p.communicate(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
t.ok(p.returncode == 0, "the foreground lab took itself down", p.returncode)
t.ok(not ctlib.lab_netns_left(a, b, fg), "no lab netns left", ctlib.netns_list())

# `lab recover`: a foreground lab whose ctload was SIGKILLed is rolled back
# (its netns, the host sysctl it raised), the lab made by `lab up` stays.
ct_max = ctlib.host_sysctl("net/netfilter/nf_conntrack_max")
sc_host = ctlib.write_scenario("""
[scenario]
name = lab-recover
[lab]
path = direct
conntrack_on = none
[server]
mode = echo
port = 11801
[load]
rate = 10/s
[sysctl.host]
net.netfilter.nf_conntrack_max = %d
""" % (int(ct_max) + 1024))
r3, kept = ctlib.lab_up(sc)
p = ctlib.spawn([ctlib.CTLOAD, "lab", "up", sc_host, "--foreground"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE)
dead = ctlib.wait_lab_of(p.pid)
time.sleep(0.5)
raised = ctlib.host_sysctl("net/netfilter/nf_conntrack_max")
p.kill()
p.communicate(timeout=30)
t.ok(dead and raised == str(int(ct_max) + 1024)
     and ctlib.lab_netns(dead, "srv") in ctlib.netns_list(),
     "a SIGKILLed foreground lab leaves its netns and the raised nf_conntrack_max behind",
     (dead, raised, ctlib.netns_list()))
r = ctlib.run([ctlib.CTLOAD, "lab", "recover"])
left = set(ctlib.netns_list())
t.ok(r.returncode == 0 and dead and "died" in r.stderr,
     "lab recover exits 0 and says it rolled back the run that died", r.stdout + r.stderr)
t.ok(dead and ctlib.lab_netns(dead, "srv") not in left
     and ctlib.host_sysctl("net/netfilter/nf_conntrack_max") == ct_max,
     "lab recover removed the dead lab's netns and put nf_conntrack_max back at %s" % ct_max,
     (left, ctlib.host_sysctl("net/netfilter/nf_conntrack_max")))
t.ok(kept and ctlib.lab_netns(kept, "srv") in left, "the lab made by 'lab up' is still up",
     (kept, left))
r = ctlib.run([ctlib.CTLOAD, "lab", "recover"])
t.ok(r.returncode == 0 and "nothing to recover" in r.stderr,
     "a second lab recover finds nothing to do and says so", r.stdout + r.stderr)
r = ctlib.lab_down(kept)
t.ok(r.returncode == 0 and not ctlib.lab_netns_left(kept), "and lab down takes it down after",
     r.stdout + r.stderr)

# Without root.
os.chmod(os.path.dirname(sc), 0o755)  # readable, so that only root is missing
nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
r = ctlib.run(nobody + [ctlib.CTLOAD, "lab", "up", sc])
t.ok(r.returncode == 3 and "needs root" in r.stderr, "lab up without root exits 3 saying why",
     r.stdout + r.stderr)
r = ctlib.run(nobody + [ctlib.CTLOAD, "lab", "down"])
t.ok(r.returncode == 3 and "needs root" in r.stderr, "lab down without root exits 3",
     r.stdout + r.stderr)
r = ctlib.run(nobody + [ctlib.CTLOAD, "lab", "status"])
t.ok(r.returncode == 0, "lab status works without root", r.stdout + r.stderr)
t.done()
