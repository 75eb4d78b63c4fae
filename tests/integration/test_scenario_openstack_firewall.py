#!/usr/bin/env python3
"""scenarios/openstack-firewall.ini, the OpenStack firewall story of seed
004 on a current kernel, tables scaled by 1/32: on 512 hash buckets the
firewall's conntrack refuses inserts into chains past the kernel's cap
long before its max (ct_chains named, chaintoolong counted, no "table
full" line), with the kernel's TIME_WAIT and with the fix's 60 s alike;
32,768 buckets hold 500 connections/s, proven sustained. Under 5 minutes,
and the host is left as it was."""

import os
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
out = os.path.join(tempfile.mkdtemp(prefix="ct-openstack-fw-"), "run")
scenario = os.path.join(ctlib.SRCDIR, "scenarios", "openstack-firewall.ini")
max_before = ctlib.host_sysctl("net/netfilter/nf_conntrack_max")
buckets_before = ctlib.host_sysctl("net/netfilter/nf_conntrack_buckets")
ns_before = ctlib.netns_list()

t0 = time.time()
r, s = ctlib.ctload_run(scenario, out, timeout=330)
wall = time.time() - t0
s = s or {}
t.ok(r.returncode == 0, "ctload run scenarios/openstack-firewall.ini exits 0 (its [expect] held)",
     r.stderr[-3000:])
t.ok(wall < 300, "it runs in %.0f s, under 5 minutes" % wall)
steps = s.get("steps", [])
t.ok(len(steps) == 4, "4 steps: 2 bucket counts x 2 TIME_WAIT timeouts (%d)" % len(steps))


def point(buckets, tw):
    for st in steps:
        se = st.get("settings", {})
        if (se.get("sysctl.host.net.netfilter.nf_conntrack_buckets") == buckets and
                se.get("sysctl.router.net.netfilter.nf_conntrack_tcp_timeout_time_wait") == tw):
            return st
    return {}


for tw in ("120", "60"):
    st = point("512", tw)
    ct = st.get("ct", {})
    t.ok(st.get("verdict") == "fail" and ct.get("chaintoolong", 0) > 0
         and st.get("failures", {}).get("timeout", 0) > 0,
         "512 buckets, TIME_WAIT %s s: inserts refused for long chains, connections time out"
         % tw, (st.get("verdict"), ct, st.get("failures")))
    t.ok((st.get("fail_cause") or {}).get("limit") == "ct_chains",
         "512 buckets, TIME_WAIT %s s: the hash chains are named, not the table or NAT" % tw,
         st.get("fail_cause"))
    t.ok(ct.get("drop", 1) == 0 and ct.get("peak", 1e9) < 0.5 * ct.get("limit", 0),
         "512 buckets, TIME_WAIT %s s: the table stopped at %s of %s, nothing dropped as "
         "'table full'" % (tw, ct.get("peak"), ct.get("limit")))
    t.ok(20 * 512 < ct.get("peak", 0) < 80 * 512,
         "512 buckets: it stopped between 20 and 80 entries a bucket (%.1f)"
         % (ct.get("peak", 0) / 512.0))
for tw in ("120", "60"):
    st = point("32768", tw)
    t.ok(st.get("verdict") == "pass" and st.get("sustained") is True
         and not any(st.get("failures", {}).values())
         and st.get("ct", {}).get("chaintoolong", 1) == 0,
         "32,768 buckets, TIME_WAIT %s s: 500/s holds, proven sustained, no insert refused" % tw,
         (st.get("verdict"), st.get("sustained"), st.get("failures"), st.get("ct")))

with open(os.path.join(out, "events.log")) as f:
    events = f.read()
t.ok("table full" not in events, "the kernel logged no 'table full' line")
t.ok(ctlib.host_sysctl("net/netfilter/nf_conntrack_max") == max_before
     and ctlib.host_sysctl("net/netfilter/nf_conntrack_buckets") == buckets_before,
     "the host's nf_conntrack_max and buckets are back at %s and %s"
     % (max_before, buckets_before))
t.ok(ctlib.netns_list() == ns_before, "no lab namespace is left")
t.done()
