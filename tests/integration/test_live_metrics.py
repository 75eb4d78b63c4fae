#!/usr/bin/env python3
"""--metrics-listen and [report] metrics_listen: while ctload runs, curl
scrapes /metrics; every scrape parses strictly as Prometheus text format
0.0.4 (ctlib.prom_parse), the families have the documented names and types,
and the values equal the sample of timeseries.jsonl they came from (found
by ctload_sample_time_seconds): the load counters, failures by cause, the
connect-time histogram, and, in a lab, node_exporter's conntrack and
sockstat names labelled by netns role. A bad address fails the run before
any load, naming the address."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import ctlib

t = ctlib.start(require_root=True)
if not shutil.which("curl"):
    t.skip_all("curl missing")
tmp = tempfile.mkdtemp(prefix="ctt-metrics-")

TYPES = {
    "ctload_sample_time_seconds": "gauge",
    "ctload_step": "gauge",
    "ctload_rate_target_per_second": "gauge",
    "ctload_rate_per_second": "gauge",
    "ctload_connections_inflight": "gauge",
    "ctload_connections_scheduled_total": "counter",
    "ctload_connections_attempted_total": "counter",
    "ctload_connections_established_total": "counter",
    "ctload_connections_completed_total": "counter",
    "ctload_connections_unsent_total": "counter",
    "ctload_connections_failed_total": "counter",
    "ctload_syn_retransmits_total": "counter",
    "ctload_connect_duration_seconds": "histogram",
}
LAB_TYPES = {
    "node_nf_conntrack_entries": "gauge",
    "node_nf_conntrack_entries_limit": "gauge",
    "node_nf_conntrack_stat_drop": "gauge",
    "node_sockstat_TCP_tw": "gauge",
    "node_sockstat_TCP_inuse": "gauge",
    "ctload_ports_in_use": "gauge",
    "node_netstat_TcpExt_TCPSynRetrans": "untyped",
    "node_netstat_TcpExt_TW": "untyped",
}
# The le labels exactly as ctload writes them.
LE = ["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
      "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]


def scrape_run(argv, addr, timeout=90):
    """Run ctload (argv) and scrape http://addr/metrics every 0.25 s until
    it exits. Returns (returncode, stderr, [scrape texts])."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    texts = []
    deadline = time.time() + timeout
    while p.poll() is None and time.time() < deadline:
        r = subprocess.run(["curl", "-sf", "--max-time", "2", "http://%s/metrics" % addr],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout:
            texts.append(r.stdout)
        time.sleep(0.25)
    if p.poll() is None:
        p.kill()
    err = p.communicate()[1]
    return p.returncode, err, texts


def check_scrapes(what, texts, ts, types):
    parsed, bad = [], None
    for x in texts:
        try:
            parsed.append(ctlib.prom_parse(x))
        except ValueError as e:
            bad = "%s\n%s" % (e, x[:3000])
            break
    t.ok(texts and bad is None, "%s: %d scrapes, each parses strictly as text format 0.0.4"
         % (what, len(texts)), bad)
    with_sample = [f for f in parsed if ctlib.prom_value(f, "ctload_sample_time_seconds")
                   is not None]
    t.ok(len(with_sample) >= 2, "%s: at least two scrapes carry a sample" % what, len(with_sample))
    if not with_sample:
        return
    last = with_sample[-1]
    wrong = {n: (last.get(n, {}).get("type")) for n, ty in types.items()
             if last.get(n, {}).get("type") != ty}
    t.ok(not wrong, "%s: every documented family is there with its type" % what, wrong)
    # timeseries.jsonl keeps 6 significant digits of reals: match on those.
    by_t = {"%.6g" % s["t"]: (i, s) for i, s in enumerate(ts)}
    mism = []
    for f in with_sample:
        st = ctlib.prom_value(f, "ctload_sample_time_seconds")
        if "%.6g" % st not in by_t:
            mism.append("t=%r not in timeseries.jsonl" % st)
            continue
        i, s = by_t["%.6g" % st]
        exp = {
            "ctload_connections_attempted_total": s["attempted"],
            "ctload_connections_completed_total": s["completed"],
            "ctload_connections_established_total": s["established"],
            "ctload_connections_scheduled_total": s["scheduled"],
            "ctload_connections_inflight": s["inflight"],
            "ctload_rate_target_per_second": s["rate_target"],
            "ctload_step": s["step"],
        }
        for cause, n in s["failures"].items():
            got = ctlib.prom_value(f, "ctload_connections_failed_total", cause=cause)
            if got != n:
                mism.append("t=%s failed{cause=%s}: %s != %s" % (st, cause, got, n))
        for name, v in exp.items():
            got = ctlib.prom_value(f, name)
            if got is None or abs(got - v) > 1e-5 * max(1, abs(v)):
                mism.append("t=%s %s: %s != %s" % (st, name, got, v))
        # The histogram: every sample's interval connect times, up to this one.
        pairs = [p for x in ts[:i + 1] for p in x.get("connect_hist", [])]
        cnt = sum(n for _, n in pairs)
        for le in LE:
            want = sum(n for ms, n in pairs if ms / 1e3 <= float(le))
            got = ctlib.prom_value(f, "ctload_connect_duration_seconds_bucket", le=le)
            if got != want:
                mism.append("t=%s bucket le=%s: %s != %s" % (st, le, got, want))
        if ctlib.prom_value(f, "ctload_connect_duration_seconds_count") != cnt:
            mism.append("t=%s histogram _count != %d" % (st, cnt))
        if "ns" in s:
            for role, o in s["ns"].items():
                for name, key in (("node_nf_conntrack_entries", "ct.count"),
                                  ("node_nf_conntrack_entries_limit", "ct.max"),
                                  ("node_sockstat_TCP_tw", "tw"),
                                  ("node_sockstat_TCP_inuse", "inuse"),
                                  ("ctload_ports_in_use", "ports_in_use")):
                    if key in o and ctlib.prom_value(f, name, netns=role) != o[key]:
                        mism.append("t=%s %s{netns=%s}: %s != %s" % (
                            st, name, role, ctlib.prom_value(f, name, netns=role), o[key]))
                for key, name in (("ct.drop", "node_nf_conntrack_stat_drop"),
                                  ("tcpext.TW", "node_netstat_TcpExt_TW")):
                    if key not in o:
                        continue
                    want = sum(x["ns"][role].get(key, 0) for x in ts[:i + 1]
                               if role in x.get("ns", {}))
                    if ctlib.prom_value(f, name, netns=role) != want:
                        mism.append("t=%s %s{netns=%s} != %d" % (st, name, role, want))
    t.ok(not mism, "%s: scraped values equal the timeseries sample they came from" % what,
         "\n".join(mism[:30]))
    t.ok(any("connect_hist" in s for s in ts),
         "%s: samples carry connect_hist (what the histogram is made of)" % what)
    return last


# ---- 1. a lab run, --metrics-listen ---------------------------------------
port = ctlib.free_port()
sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), """
    [scenario]
    name = metrics-lab
    topology = lab
    [lab]
    clients = 1
    conntrack_on = server
    [server]
    port = 11211
    [load]
    rate = 200/s
    duration = 4s
    """)
out = os.path.join(tmp, "lab")
addr = "127.0.0.1:%d" % port
rc, err, texts = scrape_run([ctlib.CTLOAD, "run", sc, "--out", out, "--quiet",
                             "--metrics-listen", addr], addr)
t.ok(rc == 0, "ctload run (lab) --metrics-listen %s exits 0" % addr, err)
ts = ctlib.read_jsonl(os.path.join(out, "timeseries.jsonl")) if os.path.exists(
    os.path.join(out, "timeseries.jsonl")) else []
types = dict(TYPES)
types.update(LAB_TYPES)
last = check_scrapes("lab", texts, ts, types)
if last:
    srv = ctlib.prom_value(last, "node_nf_conntrack_entries", netns="server")
    t.ok(srv is not None and srv > 0, "conntrack entries of the server netns are > 0", srv)
    t.ok(ctlib.prom_value(last, "node_nf_conntrack_entries", netns="client") in (None, 0),
         "no conntrack entries in the client netns (it does not track)")
r = subprocess.run(["curl", "-s", "--max-time", "2", "http://%s/metrics" % addr],
                   capture_output=True)
t.ok(r.returncode != 0, "the endpoint is gone when the run is over")

# ---- 2. host mode, [report] metrics_listen in the scenario -----------------
sport = ctlib.free_port()
srvp = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                    str(sport), "--workers", "1"])
t.ok(ctlib.wait_port("127.0.0.1", sport), "ctserver listens on 127.0.0.1")
mport = ctlib.free_port()
sc2 = ctlib.scenario_file(os.path.join(tmp, "host.ini"), """
    [scenario]
    name = metrics-host
    topology = host
    [server]
    mode = memcache
    target = 127.0.0.1:%d
    [load]
    rate = 300/s
    duration = 3s
    [report]
    metrics_listen = 127.0.0.1:%d
    """ % (sport, mport))
out2 = os.path.join(tmp, "host")
addr2 = "127.0.0.1:%d" % mport
rc, err, texts = scrape_run([ctlib.CTLOAD, "run", sc2, "--out", out2, "--quiet"], addr2)
t.ok(rc == 0, "ctload run (host) with [report] metrics_listen exits 0", err)
ts2 = ctlib.read_jsonl(os.path.join(out2, "timeseries.jsonl")) if os.path.exists(
    os.path.join(out2, "timeseries.jsonl")) else []
last = check_scrapes("host", texts, ts2, TYPES)
if last and ts2:
    t.ok(ctlib.prom_value(last, "ctload_connections_completed_total") > 0,
         "connections completed show in the counters")

# ---- 3. an address this host does not own ---------------------------------
r = ctlib.run([ctlib.CTLOAD, "run", sc2, "--out", os.path.join(tmp, "bad"), "--quiet",
               "--metrics-listen", "192.0.2.77:9464"], timeout=60)
t.ok(r.returncode in (2, 3) and "192.0.2.77:9464" in r.stderr,
     "--metrics-listen on an address not ours: exit 2/3, the address named", (r.returncode,
                                                                             r.stderr))
ts3 = os.path.join(tmp, "bad", "timeseries.jsonl")
t.ok(not os.path.exists(ts3) or os.path.getsize(ts3) == 0, "no load ran")
ctlib.stop(srvp)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
