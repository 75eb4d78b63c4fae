#!/usr/bin/env python3
"""The report's headline tells the story in plain words: for every scenario
in scenarios/, `ctload report` on a real run of it gives a headline that
names no kernel setting (nf_conntrack_max, tcp_tw_reuse, net.ipv4...), but
says what they mean ("a connection table of 8,192 entries", "the NAT ran
out of source ports"). The setting names stay in the detail below it.

Fixtures: tests/data/headlines.tar.xz, one real `ctload run` per scenario
(its scenario.ini and summary.json; the steps' connect_hist left out to
keep it small). A new scenario needs its run there: this test fails until
it has one. No root, no lab."""
import glob
import os
import re
import subprocess
import tarfile
import tempfile

import ctlib

tap = ctlib.start()
SRC = ctlib.SRCDIR
readme = open(os.path.join(SRC, "scenarios", "README.md")).read()
# Every sysctl the scenario reference lists (the allowlist, legacy names).
names = set(re.findall(r"`(net\.[a-z0-9_.]+[a-z0-9_])`", readme))
words = {n.rsplit(".", 1)[1] for n in names} | {"net.ipv4", "net.netfilter", "net.core"}
tap.ok(len(names) > 20 and "tcp_tw_reuse" in words and "nf_conntrack_max" in words,
       "scenarios/README.md lists the sysctl names (%d)" % len(names))


def scenario_name(path):
    m = re.search(r"^name\s*=\s*(\S+)", open(path).read(), re.M)
    return m.group(1) if m else os.path.basename(path)


def headline(run):
    p = subprocess.run([ctlib.CTLOAD, "report", run], capture_output=True, text=True)
    page = open(os.path.join(run, "report.html")).read() if p.returncode == 0 else ""
    m = re.search(r'<h1[^>]*id="headline">(.*?)</h1>', page, re.S)
    return p, page, m.group(1) if m else ""


with tempfile.TemporaryDirectory(prefix="ctt-headline-") as tmp:
    with tarfile.open(os.path.join(SRC, "tests", "data", "headlines.tar.xz")) as t:
        t.extractall(tmp)
    for ini in sorted(glob.glob(os.path.join(SRC, "scenarios", "*.ini"))):
        name = scenario_name(ini)
        run = os.path.join(tmp, "headlines", name)
        if not tap.ok(os.path.isdir(run), "%s: a real run of it is in headlines.tar.xz" % name):
            continue
        p, page, head = headline(run)
        tap.ok(p.returncode == 0 and len(head) > 40, "%s: the report has a headline" % name,
               p.stderr or page[:400])
        named = sorted(w for w in words if w in head)
        tap.ok(not named, "%s: its headline names no sysctl" % name,
               "%s in: %s" % (", ".join(named), head))
        # The names are still on the page, below the headline.
        body = page.split("</h1>", 1)[-1]
        tap.ok(any(w in body for w in words), "%s: the detail still names the settings" % name)

    # What the stories' headlines say, in words a reader knows.
    want = {
        "image-server": ("the server closing with a reset", "the NAT ran out of source ports"),
        "memcache": ("a connection table of 8,192 entries", "TIME_WAIT ports reused",
                     "the firewall's connection table was full"),
        "docker-nat": ("closed connections kept 10 s in the table",),
        "openstack-firewall": ("512 hash buckets", "refused new entries"),
    }
    for name, phrases in want.items():
        run = os.path.join(tmp, "headlines", name)
        if os.path.isdir(run):
            head = headline(run)[2].replace("&#39;", "'")
            missing = [ph for ph in phrases if ph not in head]
            tap.ok(not missing, "%s: the headline says %s" % (name, "; ".join(phrases)),
                   "missing %s in: %s" % (missing, head))
tap.done()
