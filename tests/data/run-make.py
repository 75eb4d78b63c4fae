#!/usr/bin/env python3
"""Writes the hand-made run directories used by the report tests:
  run-sweep/   a complete lab sweep (tcp_tw_reuse 0,1 x rate 300,600/s): the
               client runs out of ports with reuse=0, the conntrack table
               fills with reuse=1; thresholds[], events, origin_unix.
  run-killed/  the same scenario killed during its third step: summary.json
               has two steps, timeseries.jsonl a third step that never
               finished and a truncated last line; a hostile description.
  run-refused/ a host sweep of load.rate (50, 100/s) against a port nobody
               listens on: every connection refused, none made a handshake;
               one threshold per point, method none (report wording: labels,
               bullets and the latency caption of a run with no connection).
  run-search-held/  a search whose every trial passed (bounded false): the
               report must not say that anything ran out.
  run-sustain/ a lab sweep with the sustain check ([load] sustain = check,
               summary.json's sustained/horizon_s/plateau/projection/sustain):
               nf_conntrack_max 1024,16384 x tcp_tw_reuse 0,1 at 100/s for
               12 s: the small table fills (fail, twice); the large one with
               reuse=0 holds 12 s but the client's ports (half the range past
               the parity cliff) would run out at about 30 s (unsustained);
               with reuse=1 the conntrack count is bounded by the 4-tuples
               and proven to stay under its limit (pass, sustained). Its
               thresholds span 8.5/s to 6,000/s.
The numbers follow the mechanisms (ports held 60 s in TIME_WAIT, conntrack
entries 120 s, dropped SYNs retried after 1 s, 2 s) at a small scale, so
the files stay small. Rerun after changing it: python3 run-make.py"""
import json
import math
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORIGIN = 1795860000.0  # wall-clock time of t = 0
DT = 0.25
STEP_S = 4.0
PORTS = 1400           # client ports (ip_local_port_range 40000 41399)
CT_MAX = 1800
FAILS = ["eaddrnotavail", "timeout", "refused", "reset", "protocol", "emfile", "other"]

SCENARIO = """; resolved by ctload from scenarios/tw-reuse.ini
[scenario]
name = tw-reuse
description = "%s"
topology = lab
seed = 1

[lab]
clients = 1
path = direct
conntrack_on = server

[server]
mode = memcache
port = 11211
close = client

[load]
rate = 300/s
duration = 4s
connect_timeout = 3s

[sysctl.client]
net.ipv4.ip_local_port_range = 40000 41399

[sysctl.host]
net.netfilter.nf_conntrack_max = %d

[sweep]
sysctl.client.net.ipv4.tcp_tw_reuse = 0,1
load.rate = 300,600

[report]
sample_interval = 250ms
""" 

STEPS = [("0", 300), ("0", 600), ("1", 300), ("1", 600)]


def iso(wall):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + ".%03dZ" % int(wall % 1 * 1000)


def simulate(step, reuse, rate, t0, n_samples):
    """Samples of one step, and its summary entry."""
    samples = []
    cum = {k: 0 for k in FAILS}
    attempted = completed = 0
    tw_c = ct = ct_drop_total = ct_peak = tw_peak = 0
    syn = 0
    events = []
    for i in range(n_samples):
        t = round(t0 + (i + 1) * DT, 6)
        ts = (i + 1) * DT
        active = ts <= STEP_S
        att = int(rate * DT) if active else 0
        ok = att
        fail_p = fail_t = 0
        drop = 0
        lat = {"p50": 0.11, "p90": 0.2, "p99": 0.6, "max": 1.4}
        if reuse == "0" and tw_c + att > PORTS:
            ok = max(0, PORTS - tw_c)
            fail_p = att - ok
        if reuse == "1" and ct + ok > CT_MAX:
            room = max(0, CT_MAX - ct)
            drop = ok - room
            syn += drop
            fail_t = drop // 4 if ts > 2.5 else 0
            ok = room + (drop - fail_t) // 2
            lat = {"p50": 0.14, "p90": 1003.0, "p99": 2011.0, "max": 3007.0}
            if not events:
                events = ["nf_conntrack: nf_conntrack: table full, dropping packet"]
        attempted += att
        completed += ok
        cum["eaddrnotavail"] += fail_p
        cum["timeout"] += fail_t
        tw_c = min(PORTS, tw_c + ok) if reuse == "0" else tw_c + ok
        ct = min(CT_MAX, ct + ok + drop // 2)
        ct_peak = max(ct_peak, ct)
        tw_peak = max(tw_peak, tw_c)
        ct_drop_total += drop
        s = {"t": t, "step": step, "rate_target": float(rate) if active else 0.0,
             "scheduled": attempted, "attempted": attempted, "established": completed,
             "completed": completed, "unsent": 0, "failures": dict(cum), "inflight": 2,
             "rate": ok / DT, "attempt_rate": att / DT, "syn_retrans": syn,
             "connect_ms": dict(lat),
             "total_ms": {k: v + 0.05 for k, v in lat.items()},
             "connect_call_us": {"p50": 21.0, "p99": 130.0, "max": 400.0},
             "cpu": {"user": 0.004, "sys": 0.011},
             "ns": {"client": {"tw": tw_c, "inuse": 2, "orphan": 0, "ports_in_use": tw_c + 2,
                               "tcpext.TW": 0, "tcp.ActiveOpens": att},
                    "server": {"ct.count": ct, "ct.max": CT_MAX, "ct.drop": drop,
                               "ct.early_drop": 0, "ct.insert_failed": 0, "tw": 0,
                               "inuse": 3, "orphan": 0, "tcp.PassiveOpens": ok}}}
        if events and drop and len(events) == 1 and not any("events" in x for x in samples):
            s["events"] = events
        samples.append(s)
    failed = sum(cum.values())
    worst = {"p50": 0.12, "p90": 0.3, "p99": 0.9, "max": 1.4, "mean": 0.15}
    if reuse == "1" and ct_drop_total:
        worst = {"p50": 0.15, "p90": 1003.0, "p99": 2011.0, "max": 3007.0, "mean": 240.0}
    summ = {"step": step,
            "settings": {"sysctl.client.net.ipv4.tcp_tw_reuse": reuse, "load.rate": str(rate)},
            "rate_target": float(rate), "rate_achieved": round(completed / STEP_S, 3),
            "duration_s": STEP_S, "wall_s": STEP_S + 0.2, "threads": 2,
            "scheduled": attempted, "attempted": attempted, "established": completed,
            "completed": completed, "unsent": 0, "inflight_peak": 4,
            "failures": dict(cum), "errors": round(failed / attempted, 6),
            "connect_ms": worst, "total_ms": {k: v + 0.05 for k, v in worst.items()},
            "connect_call_us": {"p50": 21.0, "p99": 130.0, "max": 400.0},
            "cpu": {"user": 0.05, "sys": 0.12}, "cpu_per_conn_us": 120.0,
            "syn_retrans": syn,
            "engine": {"name": "kernel", "conn_bytes": 216},
            "ct": {"peak": ct_peak, "limit": CT_MAX, "drop": ct_drop_total, "early_drop": 0,
                   "insert_failed": 0},
            "tw": {"client_peak": tw_peak, "server_peak": 0},
            "tuples": {"space": PORTS},
            "verdict": "fail" if failed or ct_drop_total else "pass",
            "fail_reason": ("errors > 0.1%" if failed else "ct.drop > 0") if failed or ct_drop_total else None}
    return samples, summ


def build(name, n_steps_summary, cut_step=None, description="", thresholds=True, origin=True):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "scenario.ini"), "w") as f:
        f.write(SCENARIO % (description, CT_MAX))
    samples, steps, ev = [], [], []
    t0 = 0.0
    ev.append((-1.8, "lab", "lab 3f2a up for tw-reuse (path=direct, conntrack_on=server, clients=1)"))
    ev.append((-1.7, "lab", "sysctl nf_conntrack_max = %d [host]" % CT_MAX))
    for i, (reuse, rate) in enumerate(STEPS):
        n = int(STEP_S / DT) + 1
        if cut_step is not None and i == cut_step:
            n = 9
        if i:
            ev.append((t0 - 0.1, "lab", "fresh netns: rebuilding the lab"))
        ev.append((t0, "lab", "sysctl net.ipv4.tcp_tw_reuse = %s [client]" % reuse))
        s, summ = simulate(i, reuse, rate, t0, n)
        for x in s:
            for e in x.get("events", []):
                ev.append((x["t"] - 0.1, "kernel", e))
        samples += s
        if i < n_steps_summary:
            steps.append(summ)
        t0 = s[-1]["t"] + 0.3
        if cut_step is not None and i == cut_step:
            break
    summary = {"ctload_version": "0.1.0", "scenario": "tw-reuse", "topology": "lab",
               "started": iso(ORIGIN - 2)[:19] + "Z", "steps": steps, "thresholds": [],
               "expect": [], "finished": iso(ORIGIN + t0)[:19] + "Z"}
    if origin:
        summary["origin_unix"] = ORIGIN
    if thresholds:
        summary["thresholds"] = [
            {"settings": {"sysctl.client.net.ipv4.tcp_tw_reuse": "0"}, "measured_cps": 470.0,
             "predicted_cps": 500.0, "binding_limit": "client_ports", "error_pct": -6.0},
            {"settings": {"sysctl.client.net.ipv4.tcp_tw_reuse": "1"}, "measured_cps": 450.0,
             "predicted_cps": 530.0, "binding_limit": "conntrack"}]
        summary["exit_code"] = 0
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "timeseries.jsonl"), "w") as f:
        for x in samples:
            f.write(json.dumps(x, separators=(",", ":")) + "\n")
        if cut_step is not None:
            line = json.dumps(samples[-1], separators=(",", ":"))
            f.write(line[:len(line) // 2])  # killed while writing a line
    with open(os.path.join(d, "events.log"), "w") as f:
        for t, src, text in sorted(ev, key=lambda e: e[0]):
            f.write("%s %s: %s\n" % (iso(ORIGIN + t), src, text))


build("run-sweep", 4,
      description="Does tcp_tw_reuse move the failure from the client's ports to the "
                  "conntrack table? Two settings, two rates, a small port range.")
build("run-killed", 2, cut_step=2, thresholds=False, origin=False,
      description="Killed mid-run </p><script>alert('x')</script><img src=x onerror=alert(1)> "
                  "& \\\"quoted\\\"")


HOST_SCENARIO = """; resolved by ctload from %s.ini
[scenario]
name = %s
topology = host
seed = 1

[server]
target = 127.0.0.1:%d

[load]
rate = %s
duration = 1s
%s"""


def write_run(name, scenario, samples, steps, thresholds):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "scenario.ini"), "w") as f:
        f.write(scenario)
    summary = {"ctload_version": "0.1.0", "scenario": name, "topology": "host",
               "started": iso(ORIGIN - 1)[:19] + "Z", "steps": steps,
               "thresholds": thresholds, "expect": [], "origin_unix": ORIGIN,
               "finished": iso(ORIGIN + samples[-1]["t"])[:19] + "Z", "exit_code": 0}
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "timeseries.jsonl"), "w") as f:
        for x in samples:
            f.write(json.dumps(x, separators=(",", ":")) + "\n")


def host_step(i, rate, settings, refused, t0, extra=None):
    """Samples and summary entry of one 1 s host step at `rate`: every
    connection refused (no handshake, latencies 0) or every one completed."""
    zero = {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    lat = dict(zero) if refused else {"p50": 0.05, "p90": 0.08, "p99": 0.12, "max": 0.3}
    samples = []
    n = 4
    for k in range(n):
        done = int(rate * 0.25 * (k + 1))
        fails = dict.fromkeys(FAILS, 0)
        fails["refused"] = done if refused else 0
        samples.append({"t": round(t0 + 0.25 * (k + 1), 6), "step": i,
                        "rate_target": float(rate), "scheduled": done, "attempted": done,
                        "established": 0 if refused else done,
                        "completed": 0 if refused else done, "unsent": 0,
                        "failures": fails, "inflight": 0,
                        "rate": 0.0 if refused else rate, "attempt_rate": float(rate),
                        "syn_retrans": 0, "connect_ms": dict(lat),
                        "total_ms": dict(zero) if refused else
                        {k2: v + 0.02 for k2, v in lat.items()},
                        "connect_call_us": {"p50": 25.0, "p99": 60.0, "max": 90.0},
                        "cpu": {"user": 0.001, "sys": 0.001}})
    total = int(rate)
    fails = dict.fromkeys(FAILS, 0)
    fails["refused"] = total if refused else 0
    step = {"step": i, "settings": settings, "rate_target": float(rate),
            "rate_achieved": 0.0 if refused else float(rate), "duration_s": 1.0,
            "wall_s": 1.1, "threads": 1, "scheduled": total, "attempted": total,
            "established": 0 if refused else total, "completed": 0 if refused else total,
            "unsent": 0, "inflight_peak": 0 if refused else 2, "failures": fails,
            "errors": 1.0 if refused else 0.0,
            "connect_ms": dict(lat, mean=0.0 if refused else 0.06),
            "total_ms": dict(zero, mean=0.0) if refused else
            {"p50": 0.07, "p90": 0.1, "p99": 0.14, "max": 0.32, "mean": 0.08},
            "connect_call_us": {"p50": 25.0, "p99": 60.0, "max": 90.0},
            "cpu": {"user": 0.01, "sys": 0.01}, "cpu_per_conn_us": 200.0,
            "syn_retrans": 0, "engine": {"name": "kernel", "conn_bytes": 216},
            "verdict": "fail" if refused else "pass",
            "fail_reason": "errors = 100% > 0.1% and rate.achieved = 0% < 95%"
            if refused else None}
    if refused:
        step["fail_cause"] = {"limit": "server", "text": "the server refused %d, reset 0 "
                              "and answered 0 connections wrongly" % total}
    if extra:
        step.update(extra)
    return samples, step


def build_refused():
    samples, steps, ths = [], [], []
    t0 = 0.0
    for i, rate in enumerate((50, 100)):
        s, st = host_step(i, rate, {"load.rate": str(rate)}, True, t0)
        samples += s
        steps.append(st)
        t0 = s[-1]["t"] + 0.2
        ths.append({"measured_cps": None, "predicted_cps": 470.5,
                    "binding_limit": "client_ports", "error_pct": None,
                    "settings": {"load.rate": str(rate)}, "label": "load.rate=%d" % rate,
                    "method": "none", "bounded": True})
    write_run("run-refused", HOST_SCENARIO % ("refused", "refused", 9, "50/s",
                                              "\n[sweep]\nload.rate = 50,100\n"),
              samples, steps, ths)


def build_search_held():
    samples, steps = [], []
    t0 = 0.0
    for i, rate in enumerate((100, 200, 400)):
        s, st = host_step(i, rate, {}, False, t0, {"search": {"rate": float(rate)}})
        samples += s
        steps.append(st)
        t0 = s[-1]["t"] + 0.2
    ths = [{"measured_cps": 400.0, "predicted_cps": 470.5, "binding_limit": "client_ports",
            "error_pct": None, "settings": {}, "label": "", "method": "search",
            "bounded": False, "trials": 3, "precision": 0.02}]
    write_run("run-search-held", HOST_SCENARIO % ("search-held", "search-held", 11211,
                                                  "100/s", "\n[search]\ntrial = 1s\n"),
              samples, steps, ths)


build_refused()
build_search_held()


# ---- run-sustain ------------------------------------------------------------------
SUS_SCENARIO = """; resolved by ctload from scenarios/sustain-test.ini
[scenario]
name = sustain
description = "Which fix holds 100 connections/s for longer than a 12 s step? A small conntrack table and a small port range; every step is checked for what a longer run would do."
topology = lab
seed = 1

[lab]
clients = 1
path = direct
conntrack_on = server

[server]
mode = memcache
port = 11211
close = client

[load]
rate = 100/s
duration = 12s
connect_timeout = 3s
sustain = check

[sysctl.client]
net.ipv4.ip_local_port_range = 40000 45999
net.ipv4.tcp_tw_reuse = 0

[sysctl.host]
net.netfilter.nf_conntrack_max = 1024

[sweep]
sysctl.host.net.netfilter.nf_conntrack_max = 1024,16384
sysctl.client.net.ipv4.tcp_tw_reuse = 0,1

[report]
sample_interval = 500ms
"""
SUS_RATE = 100
SUS_STEP_S = 12.0
SUS_DT = 0.5
SUS_PORTS = 6000        # 40000-45999, one client address
SUS_HALF = SUS_PORTS // 2  # connect() prefers one parity: half the range
SUS_HORIZON = 120.0     # the conntrack entry's TIME_WAIT timeout
SUS_POINTS = [("1024", "0"), ("1024", "1"), ("16384", "0"), ("16384", "1")]


def sus_entries(reuse, ts):
    """Conntrack entries ts seconds into a step: with reuse=0 every
    connection a new 4-tuple; with reuse=1 ports come back after 1 s, so
    the distinct 4-tuples grow ever more slowly towards SUS_PORTS."""
    if reuse == "0":
        return SUS_RATE * ts
    return SUS_PORTS * (1 - math.exp(-SUS_RATE * ts / SUS_PORTS))


def sus_samples(step, ct_max, reuse, t0):
    """The samples of one step and what the summary needs from them."""
    out, cum_t, att = [], 0, 0
    done = drop_total = syn = 0
    full_at = None
    for i in range(int(SUS_STEP_S / SUS_DT)):
        ts = (i + 1) * SUS_DT
        n = int(SUS_RATE * SUS_DT)
        att += n
        want = sus_entries(reuse, ts)
        ct = min(ct_max, int(want))
        drop = 0
        ok = n
        lat = {"p50": 0.12, "p90": 0.21, "p99": 0.55, "max": 1.3}
        if want > ct_max:
            full_at = full_at or ts
            drop = int(min(n, want - ct_max)) * 2
            syn += drop // 2
            fail = drop // 8 if ts - full_at >= 0.5 else 0
            ok = n - fail
            cum_t += fail
            lat = {"p50": 0.14, "p90": 1003.0, "p99": 2010.0, "max": 3004.0}
        done += ok
        drop_total += drop
        ports = int(SUS_RATE * ts) + 2 if reuse == "0" else min(SUS_PORTS, 100 + 2)
        s = {"t": round(t0 + ts, 6), "step": step, "rate_target": float(SUS_RATE),
             "scheduled": att, "attempted": att, "established": done, "completed": done,
             "unsent": 0, "failures": {k: (cum_t if k == "timeout" else 0) for k in FAILS},
             "inflight": 1, "rate": ok / SUS_DT, "attempt_rate": n / SUS_DT,
             "syn_retrans": syn, "connect_ms": dict(lat),
             "total_ms": {k: v + 0.05 for k, v in lat.items()},
             "ns": {"client": {"tw": ports - 2, "inuse": 2, "orphan": 0,
                               "ports_in_use": ports},
                    "server": {"ct.count": ct, "ct.max": int(ct_max), "ct.drop": drop,
                               "ct.early_drop": 0, "ct.insert_failed": 0, "tw": 0,
                               "inuse": 3, "orphan": 0}}}
        if drop and full_at == ts:
            s["events"] = ["nf_conntrack: nf_conntrack: table full, dropping packet"]
        out.append(s)
    return out, {"attempted": att, "completed": done, "timeout": cum_t, "drop": drop_total,
                 "syn": syn, "full_at": full_at}


def sus_check(ct_max, reuse, fig):
    """The step's sustain fields as run/sustain.c writes them."""
    ct_lim = float(ct_max)
    ct_max = int(ct_max)
    counts, proj = [], None
    if reuse == "0":
        v = float(SUS_RATE * SUS_STEP_S + 2)
        counts.append({"count": "client.ports_in_use", "limit_name": "client_ports",
                       "state": "growing", "value": v, "limit": float(SUS_HALF),
                       "slope_per_s": float(SUS_RATE),
                       "bound_at_horizon": v + SUS_RATE * (SUS_HORIZON - SUS_STEP_S),
                       "fail_at_s": round((SUS_HALF - 2) / SUS_RATE, 2)})
    v = float(min(ct_max, int(sus_entries(reuse, SUS_STEP_S))))
    slope = SUS_RATE * (1 if reuse == "0" else math.exp(-SUS_RATE * SUS_STEP_S / SUS_PORTS))
    bound = round(v + slope * (SUS_HORIZON - SUS_STEP_S), 2)
    if fig["full_at"]:
        c = {"state": "at_limit", "fail_at_s": fig["full_at"]}
    elif bound < ct_lim * 0.95:
        c = {"state": "bounded", "fail_at_s": None}
    else:
        c = {"state": "growing", "fail_at_s": round(v / slope + (ct_lim - v) / slope, 2)}
    counts.append(dict({"count": "server.ct.count", "limit_name": "conntrack", "value": v,
                        "limit": ct_lim, "slope_per_s": round(slope, 2),
                        "bound_at_horizon": bound}, **c))
    order = {"count": 0, "limit_name": 1, "state": 2, "value": 3, "limit": 4, "slope_per_s": 5,
             "bound_at_horizon": 6, "fail_at_s": 7}
    counts = [dict(sorted(c.items(), key=lambda kv: order[kv[0]])) for c in counts]
    bad = [c for c in counts if c["state"] in ("growing", "at_limit")]
    sustained = not bad
    if bad:
        first = min(bad, key=lambda c: c["fail_at_s"])
        proj = {"limit": first["limit_name"], "count": first["count"],
                "fail_at_s": first["fail_at_s"]}
    sus = {"mode": "check", "settle_s": 10.0, "elapsed_s": SUS_STEP_S, "counts": counts}
    why = None
    if not sustained:
        c = next(c for c in counts if c["count"] == proj["count"])
        if c["state"] == "at_limit":
            why = "%s (%s) reached %.0f of %.0f at %.0f s" % (
                c["limit_name"], c["count"], c["value"], c["limit"], c["fail_at_s"])
        else:
            why = ("%s (%s) at %.0f, growing %.0f/s, would reach %.0f at about %.0f s, past "
                   "this %.0f s step" % (c["limit_name"], c["count"], c["value"],
                                         c["slope_per_s"], c["limit"], c["fail_at_s"],
                                         SUS_STEP_S))
        sus["why"] = why
        sus["limit"] = proj["limit"]
    return {"sustained": sustained, "horizon_s": SUS_HORIZON,
            "plateau": {c["count"]: None for c in counts}, "projection": proj,
            "sustain": sus}, why


def sus_summary_step(step, ct_max, reuse, fig):
    failed = fig["timeout"]
    check, why = sus_check(ct_max, reuse, fig)
    worst = {"p50": 0.12, "p90": 0.21, "p99": 0.55, "max": 1.3, "mean": 0.14}
    if fig["drop"]:
        worst = {"p50": 0.14, "p90": 1003.0, "p99": 2010.0, "max": 3004.0, "mean": 180.0}
    st = {"step": step,
          "settings": {"sysctl.host.net.netfilter.nf_conntrack_max": ct_max,
                       "sysctl.client.net.ipv4.tcp_tw_reuse": reuse},
          "rate_target": float(SUS_RATE), "rate_achieved": round(fig["completed"] / SUS_STEP_S, 3),
          "duration_s": SUS_STEP_S, "wall_s": SUS_STEP_S + 0.2, "threads": 1,
          "scheduled": fig["attempted"], "attempted": fig["attempted"],
          "established": fig["completed"], "completed": fig["completed"], "unsent": 0,
          "inflight_peak": 3, "failures": {k: (failed if k == "timeout" else 0) for k in FAILS},
          "errors": round(failed / fig["attempted"], 6), "connect_ms": worst,
          "syn_retrans": fig["syn"],
          "ct": {"peak": min(int(ct_max), int(sus_entries(reuse, SUS_STEP_S))),
                 "limit": int(ct_max), "drop": fig["drop"], "early_drop": 0,
                 "insert_failed": 0},
          "tw": {"client_peak": SUS_RATE * SUS_STEP_S if reuse == "0" else 100,
                 "server_peak": 0}}
    if fig["full_at"]:
        st["first_failure"] = {"ct_drop_s": fig["full_at"]}
    st.update(check)
    if fig["drop"]:
        st["verdict"] = "fail"
        st["fail_reason"] = "errors > 0.1% and ct.drop > 0"
        st["fail_cause"] = {"limit": "conntrack", "text": "the conntrack table was full"}
    elif not check["sustained"]:
        st["verdict"] = "unsustained"
        st["fail_reason"] = why
        st["fail_cause"] = {"limit": check["projection"]["limit"], "text": why}
    else:
        st["verdict"] = "pass"
        st["fail_reason"] = None
    return st


def sus_thresholds():
    def th(ct_max, reuse, **kw):
        return dict({"settings": {"sysctl.host.net.netfilter.nf_conntrack_max": ct_max,
                                  "sysctl.client.net.ipv4.tcp_tw_reuse": reuse}}, **kw)
    return [th("1024", "0", method="inferred", measured_cps=8.54, predicted_cps=8.53,
               binding_limit="conntrack", error_pct=0.1, bounded=True),
            th("1024", "1", method="inferred", measured_cps=9.15, predicted_cps=8.53,
               binding_limit="conntrack", error_pct=7.3, bounded=True),
            th("16384", "0", method="none", measured_cps=None, predicted_cps=50.0,
               binding_limit="client_ports", error_pct=None, bounded=True),
            th("16384", "1", method="sustained", measured_cps=100.0, predicted_cps=6000.0,
               binding_limit="client_ports", error_pct=None, bounded=False)]


def build_sustain(name):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "scenario.ini"), "w") as f:
        f.write(SUS_SCENARIO)
    samples, steps, ev, t0 = [], [], [], 0.0
    ev.append((-1.8, "lab", "lab 5c1e up for sustain (path=direct, conntrack_on=server, clients=1)"))
    for i, (ct_max, reuse) in enumerate(SUS_POINTS):
        ev.append((t0, "lab", "sysctl nf_conntrack_max = %s [host]" % ct_max))
        ev.append((t0, "lab", "sysctl net.ipv4.tcp_tw_reuse = %s [client]" % reuse))
        s, fig = sus_samples(i, int(ct_max), reuse, t0)
        for x in s:
            for e in x.get("events", []):
                ev.append((x["t"] - 0.1, "kernel", e))
        samples += s
        steps.append(sus_summary_step(i, ct_max, reuse, fig))
        t0 = s[-1]["t"] + 0.3
    summary = {"ctload_version": "0.1.0", "scenario": "sustain", "topology": "lab",
               "started": iso(ORIGIN - 2)[:19] + "Z", "steps": steps,
               "thresholds": sus_thresholds(), "expect": [],
               "finished": iso(ORIGIN + t0)[:19] + "Z", "origin_unix": ORIGIN, "exit_code": 1}
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "timeseries.jsonl"), "w") as f:
        for x in samples:
            f.write(json.dumps(x, separators=(",", ":")) + "\n")
    with open(os.path.join(d, "events.log"), "w") as f:
        for t, src, text in sorted(ev, key=lambda e: e[0]):
            f.write("%s %s: %s\n" % (iso(ORIGIN + t), src, text))


build_sustain("run-sustain")
