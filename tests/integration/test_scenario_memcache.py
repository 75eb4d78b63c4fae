#!/usr/bin/env python3
"""scenarios/memcache.ini, the README's first command: the memcache story of
seeds 000/001 tells the sustained truth in under 5 minutes. With the
story's (scaled) table the conntrack table fills and SYNs are dropped
whatever tw_reuse and the port range say. With the larger table, what holds
1,000/s sustained is tcp_tw_reuse = 1 (proven: the entries stay at the
tuples in use, under the table), while with reuse off the client's ports
run out (the port search collapses the rate once the preferred half of the
range is in TIME_WAIT), whichever range. The host is left as it was."""

import os
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
out = os.path.join(tempfile.mkdtemp(prefix="ct-memcache-"), "run")
scenario = os.path.join(ctlib.SRCDIR, "scenarios", "memcache.ini")
max_before = ctlib.host_sysctl("net/netfilter/nf_conntrack_max")
ns_before = ctlib.netns_list()

t0 = time.time()
r, s = ctlib.ctload_run(scenario, out, timeout=330)
wall = time.time() - t0
s = s or {}
t.ok(r.returncode == 0, "ctload run scenarios/memcache.ini exits 0 (its [expect] held)",
     r.stderr[-3000:])
t.ok(wall < 300, "it runs in %.0f s, under 5 minutes" % wall)

steps = s.get("steps", [])
t.ok(len(steps) == 8, "8 steps: 2 table sizes x tw_reuse 0/1 x 2 port ranges (%d)" % len(steps))
small = [st for st in steps
         if st.get("settings", {}).get("sysctl.host.net.netfilter.nf_conntrack_max") == "8192"]
large = [st for st in steps
         if st.get("settings", {}).get("sysctl.host.net.netfilter.nf_conntrack_max") == "65536"]
t.ok(len(small) == 4 and len(large) == 4, "4 steps per table size")
t.ok(all(st.get("verdict") == "fail" and st.get("ct", {}).get("drop", 0) > 0 for st in small),
     "with the story's table every step fails with conntrack drops, whatever the other fixes",
     [(st.get("verdict"), st.get("ct")) for st in small])
t.ok(all(st.get("fail_cause", {}).get("limit") == "conntrack" for st in small),
     "each names the conntrack table as the cause", [st.get("fail_cause") for st in small])
t.ok(all(st.get("failures", {}).get("timeout", 0) > 0 for st in small),
     "the dropped SYNs show as connect timeouts")
def reuse(st):
    return st.get("settings", {}).get("sysctl.client.net.ipv4.tcp_tw_reuse")


large_reuse = [st for st in large if reuse(st) == "1"]
large_noreuse = [st for st in large if reuse(st) == "0"]
t.ok(len(large_reuse) == 2 and all(st.get("verdict") == "pass" and st.get("sustained") is True
                                   and st.get("ct", {}).get("drop", 1) == 0 for st in large_reuse),
     "with the larger table, tcp_tw_reuse = 1 holds 1,000/s sustained (proven, no drop), "
     "both port ranges", [(st.get("verdict"), st.get("sustained"), st.get("ct")) for st in large_reuse])
def ct_count(st):
    for c in (st.get("sustain") or {}).get("counts", []):
        if c.get("count") == "server.ct.count":
            return c
    return {}


t.ok(all(ct_count(st).get("state") in ("plateau", "bounded")
         and ct_count(st).get("value", 1e9) < 0.95 * 65536 for st in large_reuse),
     "proven by the conntrack count staying under the table (plateau or bound)",
     [ct_count(st) for st in large_reuse])
t.ok(len(large_noreuse) == 2 and all(st.get("verdict") in ("fail", "unsustained")
                                     for st in large_noreuse),
     "with tcp_tw_reuse = 0 the larger table does not hold 1,000/s, whichever range",
     [(st.get("verdict"), st.get("fail_reason")) for st in large_noreuse])
t.ok(all((st.get("fail_cause") or {}).get("limit") == "client_ports" for st in large_noreuse),
     "and the client's ports are named as what ran out",
     [st.get("fail_cause") for st in large_noreuse])
t.ok(all(st.get("verdict") != "pass" or st.get("sustained") is True for st in steps),
     "no step passes without being proven sustained")

ths = s.get("thresholds", [])
t.ok(len(ths) == 8, "a threshold for every sweep point (%d)" % len(ths))
inferred = [th for th in ths if th.get("method") == "inferred"]
t.ok(len(inferred) == 4 and all(th.get("binding_limit") == "conntrack" for th in inferred),
     "the 4 small-table points have an inferred threshold, conntrack binding",
     [(th.get("method"), th.get("binding_limit")) for th in ths])
want = 8192 / 120
t.ok(all(abs(th.get("measured_cps", 0) - want) <= 0.15 * want for th in inferred),
     "inferred thresholds are within 15%% of 8192 / 120 s = %.1f/s: %s" % (
         want, [round(th.get("measured_cps", 0), 1) for th in inferred]))

with open(os.path.join(out, "events.log")) as f:
    events = f.read()
t.ok("table full" in events, "events.log holds the kernel's 'table full' line")
t.ok(os.path.getsize(os.path.join(out, "report.html")) > 10000, "report.html was written")
t.ok(ctlib.host_sysctl("net/netfilter/nf_conntrack_max") == max_before,
     "the host's nf_conntrack_max is back at %s" % max_before)
t.ok(ctlib.netns_list() == ns_before, "no lab namespace is left")
t.done()
