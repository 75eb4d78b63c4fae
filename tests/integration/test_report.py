#!/usr/bin/env python3
"""ctload report: a short real run against ctserver on 127.0.0.1 gets a
report.html that headless Chromium renders with the charts and with the
numbers of summary.json on its bars; the screenshot is not blank; a run
killed mid-way (SIGKILL, then a half-written last sample) still renders and
says it was cut short; a hostile scenario description stays text; bad
arguments exit 2 with a message naming the directory. The lab fixture
(tests/data/run-sweep) checks the conntrack/TIME_WAIT charts and the
thresholds, the sustain fixture (tests/data/run-sustain) that a step that
held but is not proven to last is never told or drawn as held, and on it and
a real memcache run Chromium measures that no two labels of the thresholds
chart overlap and that failed areas are red; a lab run does the same for real
when `ctload run` supports topology = lab."""
import csv as csvmod
import html as htmlmod
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tarfile
import tempfile
import time
import zlib

import ctlib

t = ctlib.start()
tmp = tempfile.mkdtemp(prefix="ctt-report-")
CHROMIUM = shutil.which("chromium")
HOSTILE = "Report test </p><script>alert('x')</script><img src=x onerror=alert(1)> & more"


def chromium(args, timeout=60):
    """Headless Chromium on a file, no network, a throwaway profile."""
    prof = tempfile.mkdtemp(prefix="ctt-chromium-", dir=tmp)
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--user-data-dir=" + prof] + args
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def dump_dom(html):
    r = chromium(["--dump-dom", "file://" + os.path.abspath(html)])
    return r.stdout


def screenshot(html, png):
    chromium(["--screenshot=" + png, "--window-size=1280,2400",
              "file://" + os.path.abspath(html)])
    return os.path.exists(png)


def png_pixels(path):
    """(width, height, rows of bytes, bytes per pixel) of an 8-bit RGB/RGBA
    PNG, decoded with zlib and the five PNG filters."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("PNG colour type %d depth %d" % (ctype, depth))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        ft, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def not_blank(png):
    """(distinct colours, share of non-white pixels) over every 4th row."""
    w, h, rows, bpp = png_pixels(png)
    colours, dark, total = set(), 0, 0
    for y in range(0, h, 4):
        row = rows[y]
        for x in range(0, w * bpp, bpp):
            px = row[x:x + 3]
            colours.add(px)
            total += 1
            if sum(px) < 700:
                dark += 1
    return len(colours), dark / max(total, 1)


def bars(dom, step):
    """{class: data-v} of the bars of one step in the steps chart."""
    m = re.search(r'<g data-step="%d">(.*?)</g>' % step, dom, re.S)
    out = {}
    for cls, v in re.findall(r'<rect class="(bar-[a-z]+)[^"]*" data-v="([^"]+)"',
                             m.group(1) if m else ""):
        out[cls] = float(v)
    return out


def measure(path):
    """What Chromium lays out: the box of every text of the thresholds chart
    and of the chart itself, and the fill of the drawn series. The page
    forbids scripts (its Content-Security-Policy), so a copy without it gets
    a script that writes the measures into the document; --dump-dom prints
    them."""
    with open(path) as f:
        page = f.read()
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    script = """<script>
const out = {labels: [], chart: null, fills: {}};
const svg = document.querySelector('svg[data-chart="thresholds"]');
if (svg) {
  const c = svg.getBoundingClientRect();
  out.chart = [c.left, c.top, c.right, c.bottom];
  svg.querySelectorAll('text').forEach(t => {
    const b = t.getBoundingClientRect();
    out.labels.push([b.left, b.top, b.right, b.bottom, t.textContent]);
  });
}
for (const cls of ['a-failed', 'a-completed-solid', 'a-unsustained', 'bar-failed']) {
  const e = document.querySelector('.' + cls);
  if (e) out.fills[cls] = getComputedStyle(e).fill;
}
const pre = document.createElement('pre');
pre.id = 'ct-measured';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""
    probe = path + ".measure.html"
    with open(probe, "w") as f:
        f.write(page.replace("</body>", script + "</body>"))
    m = re.search(r'<pre id="ct-measured">(.*?)</pre>', dump_dom(probe), re.S)
    try:
        return json.loads(htmlmod.unescape(m.group(1))) if m else None
    except ValueError:
        return None


def overlaps(boxes):
    """Pairs of boxes that share more than half a pixel each way."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and
                    a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5):
                out.append((a[4], b[4]))
    return out


def check_labels_apart(html, name):
    """The thresholds chart's labels do not overlap and stay in the chart;
    failed areas are drawn red."""
    got = measure(html)
    if not t.ok(got and got["chart"] and len(got["labels"]) > 4,
                "%s: Chromium measures the thresholds chart" % name, got):
        return
    t.ok(not overlaps(got["labels"]), "%s: no two labels of the thresholds chart overlap "
         "(%d measured)" % (name, len(got["labels"])), overlaps(got["labels"])[:5])
    c = got["chart"]
    out = [b[4] for b in got["labels"]
           if b[0] < c[0] - 0.5 or b[2] > c[2] + 0.5 or b[1] < c[1] - 0.5 or b[3] > c[3] + 0.5]
    t.ok(not out, "%s: every label is inside the chart" % name, out)
    if "a-failed" in got["fills"]:
        t.ok(got["fills"]["a-failed"] == "rgb(192, 57, 43)",
             "%s: failed areas are drawn red, as the caption says" % name, got["fills"])
    return got


def island(dom):
    m = re.search(r'<script type="application/json" id="ct-report">(.*?)</script>', dom, re.S)
    try:
        return json.loads(m.group(1)) if m else None
    except ValueError:
        return None


def close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def check_render(html, name, summary=None, charts=("rates", "latency")):
    """The checks every rendered report gets."""
    if not CHROMIUM:
        return None
    dom = dump_dom(html)
    t.ok("<h1" in dom and 'id="headline"' in dom, "%s: Chromium renders the page" % name,
         dom[:400])
    for c in charts:
        t.ok('<svg data-chart="%s"' % c in dom, "%s: the %s chart is drawn" % (name, c))
    if summary is not None and len(summary.get("steps", [])) > 1:
        bad = []
        for i, s in enumerate(summary["steps"]):
            b = bars(dom, i)
            if not (close(b.get("bar-target", -1), s["rate_target"]) and
                    close(b.get("bar-achieved", -1), s["rate_achieved"])):
                bad.append((i, b, s["rate_target"], s["rate_achieved"]))
        t.ok(not bad, "%s: each step's bars carry summary.json's target and achieved rate"
             % name, bad)
        isl = island(dom) or {}
        got = [(x["step"], x["completed"]) for x in isl.get("steps", [])]
        want = [(s["step"], float(s["completed"])) for s in summary["steps"]]
        t.ok(got[:len(want)] == want, "%s: the data island has summary.json's completions"
             % name, (got, want))
    png = os.path.join(tmp, name + ".png")
    if t.ok(screenshot(html, png), "%s: Chromium takes a screenshot" % name):
        try:
            n, share = not_blank(png)
        except (ValueError, zlib.error) as e:
            n, share = 0, 0.0
            t.diag("cannot decode %s: %s" % (png, e))
        t.ok(n > 30 and share > 0.03, "%s: the screenshot is not blank (%d colours, %.0f%% "
             "not white)" % (name, n, share * 100))
    return dom


if not CHROMIUM:
    t.diag("chromium is not installed (scripts/setup installs it): rendering checks skipped")

# ---- usage and errors ---------------------------------------------------------
r = ctlib.run([ctlib.CTLOAD, "report", "--help"])
t.ok(r.returncode == 0 and "Usage: ctload report DIR" in r.stdout, "report --help", r.stdout)
r = ctlib.run([ctlib.CTLOAD, "report"])
t.ok(r.returncode == 2, "report without DIR exits 2", r.stderr)
r = ctlib.run([ctlib.CTLOAD, "report", os.path.join(tmp, "nope")])
t.ok(r.returncode == 2 and os.path.join(tmp, "nope") in r.stderr,
     "a missing directory exits 2 and is named", r.stderr)
empty = os.path.join(tmp, "empty")
os.mkdir(empty)
r = ctlib.run([ctlib.CTLOAD, "report", empty])
t.ok(r.returncode == 2 and "not a run directory" in r.stderr,
     "a directory without a run exits 2: not a run directory", r.stderr)
r = ctlib.run([ctlib.CTLOAD, "report", empty, "--bogus"])
t.ok(r.returncode == 2 and "--bogus" in r.stderr, "an unknown option exits 2", r.stderr)

# ---- a real run on loopback ----------------------------------------------------
port = ctlib.free_port()
srv = ctlib.spawn([ctlib.CTSERVER, "--mode", "memcache", "--bind", "127.0.0.1", "--port",
                   str(port), "--workers", "1"])
t.ok(ctlib.wait_port("127.0.0.1", port), "ctserver listens on 127.0.0.1:%d" % port)
sc = ctlib.scenario_file(os.path.join(tmp, "report.ini"), """
    [scenario]
    name = report-test
    description = "%s"
    topology = host
    [server]
    target = 127.0.0.1:%d
    [load]
    rate = 150/s
    duration = 2s
    connect_timeout = 1s
    reply_timeout = 1s
    request = "get k{seq}\\r\\n"
    expect = "END\\r\\n"
    [sweep]
    load.rate = 150,300
    """ % (HOSTILE, port))
run1 = os.path.join(tmp, "run1")
r, summary = ctlib.ctload_run(sc, run1, timeout=60)
t.ok(r.returncode == 0 and summary and len(summary["steps"]) == 2,
     "a two-step host run against ctserver completes", r.stderr)
r = ctlib.run([ctlib.CTLOAD, "report", run1])
html = os.path.join(run1, "report.html")
t.ok(r.returncode == 0 and os.path.exists(html), "ctload report DIR exits 0 and writes "
     "report.html", r.stderr)
samples = ctlib.read_jsonl(os.path.join(run1, "timeseries.jsonl"))
with open(os.path.join(run1, "timeseries.csv")) as f:
    csv = f.read().splitlines()
t.ok(len(csv) == len(samples) + 1 and csv[0].startswith("t,step,"),
     "timeseries.csv beside it: a header and one row per sample (%d)" % len(samples), csv[:2])
# What a spreadsheet reads: every cell but the kernel events is a plain number.
rows = list(csvmod.DictReader(csv))
bad = [(k, v) for row in rows for k, v in row.items()
       if k != "events" and v != "" and not re.fullmatch(r"-?[0-9.]+(e[-+]?[0-9]+)?", v)]
t.ok(rows and not bad and "connect_hist" not in rows[0],
     "timeseries.csv: plain numbers in every column, no connect_hist text cell", bad[:5])
with open(os.path.join(run1, "connect_hist.csv")) as f:
    hist = list(csvmod.DictReader(f))
want = {}
for smp in samples:
    for ms, n in smp.get("connect_hist", []):
        key = ("%.9g" % smp["t"], "%.6g" % ms)
        want[key] = want.get(key, 0) + n
got = {}
for h in hist:
    key = (h["t"], h["connect_ms"])
    got[key] = got.get(key, 0) + int(h["count"])
t.ok(hist and got == want and all(len(h["connect_ms"].replace(".", "").lstrip("0")) <= 6
                                  for h in hist),
     "connect_hist.csv: t, step, connect_ms (6 digits), count for every bucket of every "
     "sample of timeseries.jsonl", (len(got), len(want), hist[:3]))
with open(html) as f:
    page = f.read()
t.ok(page.count("<script") == 1 and "<img" not in page and
     "&lt;script&gt;alert(&#39;x&#39;)" in page,
     "the hostile description is text, not markup")
t.ok("http://" not in page and "https://" not in page, "the page loads nothing from a network")
dom = check_render(html, "host run", summary, charts=("rates", "latency", "steps"))
if dom:
    t.ok("onerror" not in re.sub(r"&lt;img[^<]*", "", dom) and dom.count("<script") == 1,
         "after rendering, the description created no element")

r = ctlib.run([ctlib.CTLOAD, "report", run1, "--out", os.path.join(tmp, "elsewhere.html")])
t.ok(r.returncode == 0 and os.path.exists(os.path.join(tmp, "elsewhere.html")) and
     os.path.exists(os.path.join(tmp, "timeseries.csv")),
     "--out FILE writes the page there, the CSV beside it", r.stderr)

# ---- a run killed mid-way -------------------------------------------------------
run2 = os.path.join(tmp, "run2")
p = subprocess.Popen([ctlib.CTLOAD, "run", sc, "--out", run2, "--quiet",
                      "--set", "load.duration=3s"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
ts = os.path.join(run2, "timeseries.jsonl")
deadline = time.time() + 20
seen_step1 = False
while time.time() < deadline and p.poll() is None and not seen_step1:
    time.sleep(0.2)
    try:
        with open(ts) as f:
            lines = f.read().splitlines()
        seen_step1 = any('"step":1' in l for l in lines[-3:])
    except OSError:
        pass
time.sleep(0.5)
if p.poll() is None:
    os.kill(p.pid, signal.SIGKILL)
p.wait()
t.ok(seen_step1, "the second run reached its second step before it was killed")
with open(ts) as f:
    last = f.read().splitlines()[-1]
with open(ts, "a") as f:
    f.write(last[:len(last) // 2])  # the write a kill can cut in half
r = ctlib.run([ctlib.CTLOAD, "report", run2])
html2 = os.path.join(run2, "report.html")
t.ok(r.returncode == 0 and os.path.exists(html2), "a killed run's directory still gets a "
     "report", r.stderr)
with open(html2) as f:
    page2 = f.read()
t.ok("This run was cut short" in page2 and "is incomplete" in page2,
     "the report says the run was cut short and the last line was incomplete")
t.ok('<span class="pill part">cut short</span>' in page2,
     "the unfinished step is marked as cut short")
check_render(html2, "killed run", None, charts=("rates", "latency"))

# ---- the lab fixture: conntrack, TIME_WAIT, thresholds ---------------------------
fx = os.path.join(tmp, "run-sweep")
shutil.copytree(os.path.join(ctlib.SRCDIR, "tests", "data", "run-sweep"), fx)
r = ctlib.run([ctlib.CTLOAD, "report", fx])
t.ok(r.returncode == 0, "the lab sweep fixture reports", r.stderr)
with open(os.path.join(fx, "summary.json")) as f:
    fsum = json.load(f)
dom = check_render(os.path.join(fx, "report.html"), "lab fixture", fsum,
                   charts=("rates", "conntrack", "tw", "latency", "steps", "thresholds"))
if dom:
    got = [float(v) for v in re.findall(r'class="bar-measured" data-v="([^"]+)"', dom)]
    want = [x["measured_cps"] for x in fsum["thresholds"]]
    t.ok(got == want, "the threshold bars are summary.json's measured_cps", (got, want))
    got = [float(v) for v in re.findall(r'class="bar-predicted" data-v="([^"]+)"', dom)]
    want = [x["predicted_cps"] for x in fsum["thresholds"]]
    t.ok(got == want, "beside the model's predicted_cps", (got, want))
    t.ok("the client ran out of ports at 470 conn/s" in dom, "the headline tells the story")

# ---- the sustained truth, and the thresholds chart as Chromium lays it out ------------
fx = os.path.join(tmp, "run-sustain")
shutil.copytree(os.path.join(ctlib.SRCDIR, "tests", "data", "run-sustain"), fx)
r = ctlib.run([ctlib.CTLOAD, "report", fx])
t.ok(r.returncode == 0, "the sustain fixture reports", r.stderr)
with open(os.path.join(fx, "summary.json")) as f:
    fsum = json.load(f)
dom = check_render(os.path.join(fx, "report.html"), "sustain fixture", fsum,
                   charts=("rates", "conntrack", "tw", "latency", "steps", "thresholds"))
if dom:
    head = re.search(r'<h1[^>]*id="headline">(.*?)</h1>', dom, re.S)
    t.ok(head and "no reuse of TIME_WAIT ports, 100 conn/s held 12 s but is not proven: the "
         "client would run out of ports at about 30 s" in head.group(1),
         "the headline says the unsustained point is not proven", head and head.group(1))
    m = re.search(r'<li class="(\w+)" data-step="2">(.*?)</li>', dom, re.S)
    t.ok(m and m.group(1) == "uns" and "not proven to last" in m.group(2) and
         "none failed." not in m.group(2),
         "What happened: the unsustained step is not told as held", m and m.group(0))
    b = bars(dom, 2)
    t.ok('class="bar-achieved uns"' in dom and b.get("bar-achieved") == 100.0,
         "its bar has a colour of its own", b)
    check_labels_apart(os.path.join(fx, "report.html"), "sustain fixture")
    check_labels_apart(os.path.join(tmp, "run-sweep", "report.html"), "lab fixture")

# A real run of scenarios/memcache.ini (tests/data/golden): thresholds from
# 68/s to 120,002/s, eight of them, three keys each.
with tarfile.open(os.path.join(ctlib.SRCDIR, "tests", "data", "golden",
                               "run-memcache.tar.xz")) as tf:
    tf.extractall(tmp)
mc = os.path.join(tmp, "run-memcache")
r = ctlib.run([ctlib.CTLOAD, "report", mc])
t.ok(r.returncode == 0, "the memcache run reports", r.stderr)
if CHROMIUM:
    got = check_labels_apart(os.path.join(mc, "report.html"), "memcache run")
    png = os.path.join(tmp, "memcache.png")
    if t.ok(screenshot(os.path.join(mc, "report.html"), png), "memcache run: a screenshot"):
        n, share = not_blank(png)
        t.ok(n > 30 and share > 0.03, "memcache run: the screenshot is not blank")
    with open(os.path.join(mc, "report.html")) as f:
        page = f.read()
    cards = re.findall(r'<div class="card".*?</dl>', page, re.S)
    bad = [c[:200] for c in cards
           if re.search(r'<div class="big">([\d,]+)/s</div>', c) and
           " at %s/s.</p>" % re.search(r'<div class="big">([\d,]+)/s</div>', c).group(1) in c]
    t.ok(cards and not bad, "memcache run: no card says a rate held and broke (%d cards)"
         % len(cards), bad)

# ---- a real lab run, when this build has it -----------------------------------------
if os.geteuid() == 0 and os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
    lab_sc = ctlib.scenario_file(os.path.join(tmp, "lab.ini"), """
        [scenario]
        name = report-lab
        description = A short lab run for the report test.
        topology = lab
        [lab]
        path = direct
        conntrack_on = server
        [server]
        mode = memcache
        [load]
        rate = 300/s
        duration = 2s
        connect_timeout = 1s
        """)
    run3 = os.path.join(tmp, "run3")
    r, s3 = ctlib.ctload_run(lab_sc, run3, timeout=60)
    if r.returncode == 3 and "not available" in r.stderr:
        t.diag("ctload run has no topology = lab yet: lab run skipped")
    else:
        t.ok(r.returncode == 0 and s3, "a 2 s lab run completes", r.stderr)
        r = ctlib.run([ctlib.CTLOAD, "report", run3])
        t.ok(r.returncode == 0, "the lab run reports", r.stderr)
        dom = check_render(os.path.join(run3, "report.html"), "lab run", s3,
                           charts=("rates", "conntrack", "tw", "latency"))
        if dom:
            m = re.search(r'<svg data-chart="conntrack".*?</svg>', dom, re.S)
            t.ok(m and 'data-series="server"' in m.group(0),
                 "the conntrack chart has the server's entries")

ctlib.stop(srv)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
