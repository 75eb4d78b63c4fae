#!/usr/bin/env python3
"""`ctload report DIR` on fixed run directories gives the same report.html and
timeseries.csv, byte for byte, as the files kept in tests/data/golden/.

The report is what stakeholders look at: a change to its code (a move, a
split, a new helper) must not change a page it was not meant to change. When
a change is meant to, rebuild the golden files and say why in the commit:
    ctload report DIR; cp DIR/report.html tests/data/golden/NAME.report.html
(run-memcache: rebuild the files in the .tar.xz: report.html, timeseries.csv
and connect_hist.csv)
Fixtures: run-sweep, run-killed and run-sustain (hand-made,
tests/data/run-make.py) and
run-memcache (a real `ctload run scenarios/memcache.ini`, kept as .tar.xz
with the report and CSV it produced)."""
import os
import shutil
import subprocess
import tarfile
import tempfile

import ctlib

tap = ctlib.start()
DATA = os.path.join(ctlib.SRCDIR, "tests", "data")
GOLD = os.path.join(DATA, "golden")
INPUTS = ("scenario.ini", "summary.json", "timeseries.jsonl", "events.log")


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            lo = max(0, i - 80)
            return "byte %d: golden %r / now %r" % (i, a[lo:i + 80], b[lo:i + 80])
    return "lengths differ: golden %d bytes, now %d" % (len(a), len(b))


def check(name, src, golden_html, golden_csv, golden_hist=None):
    with tempfile.TemporaryDirectory(prefix="ctt-golden-") as tmp:
        run = os.path.join(tmp, name)
        os.mkdir(run)
        for f in INPUTS:
            if os.path.exists(os.path.join(src, f)):
                shutil.copy(os.path.join(src, f), run)
        p = subprocess.run([ctlib.CTLOAD, "report", run], capture_output=True, text=True)
        tap.ok(p.returncode == 0, "%s: ctload report exits 0" % name, p.stderr)
        outs = [("report.html", golden_html), ("timeseries.csv", golden_csv)]
        if golden_hist:  # the hand-made runs have no connect_hist
            outs.append(("connect_hist.csv", golden_hist))
        for label, gold in outs:
            path = os.path.join(run, label)
            now = open(path, "rb").read() if os.path.exists(path) else b""
            want = open(gold, "rb").read()
            tap.ok(now == want, "%s: %s is byte-identical to the golden file" % (name, label),
                   None if now == want else first_difference(want, now))


for name in ("run-sweep", "run-killed", "run-sustain"):
    check(name, os.path.join(DATA, name), os.path.join(GOLD, name + ".report.html"),
          os.path.join(GOLD, name + ".timeseries.csv"))

with tempfile.TemporaryDirectory(prefix="ctt-golden-") as tmp:
    with tarfile.open(os.path.join(GOLD, "run-memcache.tar.xz")) as t:
        t.extractall(tmp)
    src = os.path.join(tmp, "run-memcache")
    check("run-memcache", src, os.path.join(src, "report.html"), os.path.join(src, "timeseries.csv"),
          os.path.join(src, "connect_hist.csv"))

tap.done()
