"""Shared helpers for ctload's integration tests (python3 stdlib only).

Each test file is a TAP producer: it calls tap.ok(cond, "what a user checks")
for every check and tap.done() at the end; meson reads the TAP stream.

Network namespaces made here are named ctt-<pid>-<name>, carry no default
route, and are deleted on exit (atexit, SIGTERM) so traffic never leaves
them and nothing is left on the host. Processes are ended by their own PID.
"""

import atexit
import json
import re
import os
import signal
import socket
import subprocess
import sys
import time

CTLOAD = os.environ.get("CTLOAD", "build/ctload")
CTSERVER = os.environ.get("CTSERVER", "build/ctserver")
SRCDIR = os.environ.get("CT_SRCDIR", os.getcwd())


class Tap:
    """Minimal TAP 13 writer."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        print("TAP version 13", flush=True)

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, desc), flush=True)
        if not cond and detail is not None:
            for line in str(detail).splitlines()[:40]:
                print("# " + line, flush=True)
        if not cond:
            # meson prints a failed test's stderr (not its TAP stdout) in the
            # log CI shows: the check and its detail go there too.
            print("not ok %d - %s" % (self.n, desc), file=sys.stderr, flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print("  " + line, file=sys.stderr, flush=True)
        return cond

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def skip_all(self, why):
        print("1..0 # SKIP " + why, flush=True)
        sys.exit(0)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


tap = None


def start(require_root=False):
    """Begin a TAP test file; skip it all when root is needed and missing."""
    global tap
    tap = Tap()
    if require_root and os.geteuid() != 0:
        tap.skip_all("needs root (network namespaces)")
    return tap


# ---- processes ------------------------------------------------------------

_procs = []


def spawn(argv, netns=None, **kw):
    """Start a process (optionally inside a netns); it is ended on exit."""
    if netns:
        argv = ["ip", "netns", "exec", netns] + list(argv)
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.PIPE)
    p = subprocess.Popen(argv, **kw)
    _procs.append(p)
    return p


def stop(p, timeout=5):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run(argv, netns=None, timeout=120, check=False, **kw):
    """Run to completion; returns CompletedProcess with text output."""
    if netns:
        argv = ["ip", "netns", "exec", netns] + list(argv)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          check=check, **kw)


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(host, port, netns=None, timeout=5.0):
    """Wait until something accepts on host:port (inside netns if given)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if netns:
            r = run(["ss", "-Hltn", "sport = :%d" % port], netns=netns)
            if r.stdout.strip():
                return True
        else:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return True
            except OSError:
                pass
        time.sleep(0.05)
    return False


# ---- network namespaces ---------------------------------------------------

_netns = []


def netns_add(name):
    """Create netns ctt-<pid>-<name> with lo up; returns its full name."""
    full = "ctt-%d-%s" % (os.getpid(), name)
    subprocess.run(["ip", "netns", "add", full], check=True)
    _netns.append(full)
    subprocess.run(["ip", "-n", full, "link", "set", "lo", "up"], check=True)
    return full


def veth_pair(ns_a, addr_a, ns_b, addr_b, prefix=24):
    """Join two netns with a veth pair and address both ends (no routes
    beyond the connected subnet, so nothing can leave)."""
    a = "v%da" % (len(_netns) * 10 + os.getpid() % 1000)
    b = "v%db" % (len(_netns) * 10 + os.getpid() % 1000)
    subprocess.run(["ip", "link", "add", a, "netns", ns_a, "type", "veth",
                    "peer", "name", b, "netns", ns_b], check=True)
    subprocess.run(["ip", "-n", ns_a, "addr", "add", "%s/%d" % (addr_a, prefix), "dev", a], check=True)
    subprocess.run(["ip", "-n", ns_b, "addr", "add", "%s/%d" % (addr_b, prefix), "dev", b], check=True)
    subprocess.run(["ip", "-n", ns_a, "link", "set", a, "up"], check=True)
    subprocess.run(["ip", "-n", ns_b, "link", "set", b, "up"], check=True)
    return a, b


def sysctl_ns(ns, key, value):
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "%s=%s" % (key, value)], check=True)


def sockstat(ns=None):
    """/proc/net/sockstat TCP line as a dict (inside ns if given)."""
    if ns:
        text = run(["cat", "/proc/net/sockstat"], netns=ns).stdout
    else:
        with open("/proc/net/sockstat") as f:
            text = f.read()
    for line in text.splitlines():
        if line.startswith("TCP:"):
            parts = line.split()[1:]
            return {parts[i]: int(parts[i + 1]) for i in range(0, len(parts), 2)}
    return {}


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _cleanup():
    for p in _procs:
        try:
            stop(p, timeout=2)
        except Exception:
            pass
    for ns in reversed(_netns):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    _netns.clear()


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


# ---- ctload run helpers (engine tests) ------------------------------------

def scenario_file(path, text):
    """Write a scenario file at `path` (text dedented) and return the path."""
    import textwrap
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip())
    return path


def ctload_run(scenario, out, sets=(), netns=None, timeout=120):
    """`ctload run SCENARIO --out OUT [--set ...] --quiet`; returns
    (CompletedProcess, summary dict or None)."""
    argv = [CTLOAD, "run", scenario, "--out", out, "--quiet"]
    for s in sets:
        argv += ["--set", s]
    r = run(argv, netns=netns, timeout=timeout)
    summary = None
    try:
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
    except (OSError, ValueError):
        pass
    return r, summary


def memcached_stat(host, port, name, timeout=3.0):
    """One counter from memcached's `stats` (also ctserver's, if it has it)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"stats\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    for line in buf.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "STAT" and parts[1] == name:
            return int(parts[2])
    return None


# ---- ctload labs (ctload lab up/down) ------------------------------------

_labs = []
_host_sysctls = {}


def host_sysctl(key):
    """A sysctl of the init netns (this process's), as text."""
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return " ".join(f.read().split())


def remember_host_sysctl(key):
    """Note a host value so that it is put back at exit even if a test (or
    the code under test) fails to restore it."""
    _host_sysctls.setdefault(key, host_sysctl(key))
    return _host_sysctls[key]


def netns_sysctl(ns, key):
    return run(["sysctl", "-n", key], netns=ns).stdout.strip().replace("\t", " ")


def write_scenario(text, name="lab"):
    """Write an INI scenario to a temp file; returns its path."""
    import tempfile
    d = tempfile.mkdtemp(prefix="ctlab-")
    path = os.path.join(d, name + ".ini")
    with open(path, "w") as f:
        f.write(text)
    return path


def lab_up(scenario, *args, timeout=60):
    """`ctload lab up SCENARIO ARGS...` (left up). Returns (CompletedProcess,
    lab id or None); the lab is taken down at exit if a test does not."""
    r = run([CTLOAD, "lab", "up", scenario] + list(args), timeout=timeout)
    lab_id = None
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "lab" and parts[2] == "up:":
            lab_id = parts[1]
            _labs.append(lab_id)
            break
    return r, lab_id


def proc_running(pid):
    """Is pid a live process? A zombie (ended, its parent not yet reaping:
    init, for a process whose ctload is gone) is not; give it 2 s."""
    end = time.time() + 2
    while True:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state in ("Z", "X") or time.time() > end:
            return state not in ("Z", "X")
        time.sleep(0.05)


def run_lab_id(out):
    """The id of the lab a `ctload run --out OUT` built (from its events.log),
    or None."""
    try:
        with open(os.path.join(out, "events.log")) as f:
            m = re.search(r"lab ([0-9a-f]{4}) up", f.read())
            return m.group(1) if m else None
    except OSError:
        return None


def check_engine_capture(t, cap, n, src="198.18.0.1"):
    """What a capture of a packet engine's client link must show, read by
    tshark: one SYN and one SYN-ACK per connection (n), no RST (the kernel
    stays out of the way), no bad IPv4 or TCP checksum in frames from src."""
    segs = tshark_tcp(cap) if os.path.exists(cap) else []
    if segs is None:
        t.ok(True, "# SKIP tshark is missing")
        return
    c = tcp_flag_counts(segs)
    t.ok(c["syn"] == n and c["synack"] == n and c["syn_retrans"] == 0,
         "the capture holds one SYN and one SYN-ACK per connection", c)
    t.ok(c["rst"] == 0, "no RST on the client link (the kernel stays out of the way)", c)
    bad = subprocess.run(
        ["tshark", "-n", "-r", cap, "-o", "tcp.check_checksum:TRUE", "-o",
         "ip.check_checksum:TRUE", "-Y",
         "ip.src == %s && (tcp.checksum.status == 0 || ip.checksum.status == 0)" % src],
        capture_output=True, text=True, timeout=60)
    t.ok(bad.returncode == 0 and bad.stdout.strip() == "",
         "tshark finds no bad checksum in the engine's frames", bad.stdout[:500])


def lab_of(pid):
    """The id of the lab that the ctload with this pid made and filled in
    (its state file names it the owner and has its info), or None."""
    for f in os.listdir("/run/ctload") if os.path.isdir("/run/ctload") else []:
        if not f.endswith(".json"):
            continue
        try:
            with open(os.path.join("/run/ctload", f)) as fh:
                st = json.load(fh)
        except (OSError, ValueError):
            continue
        if st.get("owner", {}).get("pid") == pid and st.get("info"):
            return st["run_id"]
    return None


def wait_lab_of(pid, timeout=20):
    """lab_of(pid), waiting up to `timeout` s for the lab to come up."""
    end = time.time() + timeout
    while time.time() < end:
        lab = lab_of(pid)
        if lab:
            return lab
        time.sleep(0.05)
    return None


def lab_down(lab_id=None, *args, timeout=60):
    argv = [CTLOAD, "lab", "down"] + ([lab_id] if lab_id else []) + list(args)
    r = run(argv, timeout=timeout)
    if lab_id in _labs and r.returncode == 0:
        _labs.remove(lab_id)
    return r


def lab_netns(lab_id, role):
    """Netns name of a lab role: 'cli', 'srv' or 'rtr'."""
    return "ctl-%s-%s" % (lab_id, role)


def netns_list(prefix="ctl-"):
    r = run(["ip", "netns", "list"])
    return [l.split()[0] for l in r.stdout.splitlines() if l.startswith(prefix)]


def ns_connect_many(ns, host, ports, count, payload=b"hi\r\n", timeout=2.0, wait_close=False):
    """Open and close `count` TCP connections from inside netns `ns` to
    host:ports (in turn), each sending payload and reading a reply (with
    wait_close, reading until the server closes first); bounded in count
    and time. Returns how many completed."""
    code = (
        "import socket,sys\n"
        "ok=0\n"
        "ports=%r\n"
        "for i in range(%d):\n"
        "    try:\n"
        "        s=socket.create_connection((%r,ports[i%%len(ports)]),timeout=%r)\n"
        "        s.sendall(%r); d=s.recv(64)\n"
        "        while %r and d: d=s.recv(64)\n"
        "        s.close(); ok+=1\n"
        "    except OSError as e:\n"
        "        print(e, file=sys.stderr)\n"
        "print(ok)\n" % (list(ports), count, host, timeout, payload, bool(wait_close)))
    r = run([sys.executable, "-c", code], netns=ns, timeout=count * timeout + 30)
    try:
        return int(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0


def _lab_cleanup():
    # Foreground labs (lab up --foreground) take themselves down on SIGTERM;
    # give them time, then undo whatever one that had to be killed left.
    pids = set()
    for p in _procs:
        pids.add(p.pid)
        try:
            stop(p, timeout=15)
        except Exception:
            pass
    try:
        names = os.listdir("/run/ctload")
    except OSError:
        names = []
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join("/run/ctload", name)) as f:
                owner = json.load(f).get("owner", {}).get("pid")
        except (OSError, ValueError):
            continue
        if owner in pids:
            _labs.append(name[:-5])
    for lab_id in list(_labs):
        subprocess.run([CTLOAD, "lab", "down", lab_id], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    _labs.clear()
    for key, value in _host_sysctls.items():
        try:
            if host_sysctl(key) != value:
                with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                    f.write(value)
        except OSError:
            pass


atexit.register(_lab_cleanup)


def lab_netns_left(*lab_ids):
    """Netns of these labs that still exist (other runs' labs are ignored,
    so checks hold while another ctload works on the same host)."""
    return [ns for ns in netns_list() for i in lab_ids if i and ns.startswith("ctl-%s-" % i)]


# ---- packet captures (tshark) ----------------------------------------------

def tshark_tcp(path):
    """The TCP segments of a pcap file as read by tshark: a list of dicts
    with len, caplen, src, dst, sport, dport, seq (raw ISN-based), flags
    (int), t (epoch seconds). None when tshark is missing; raises on a file
    tshark cannot read."""
    import shutil
    if not shutil.which("tshark"):
        return None
    fields = ["frame.time_epoch", "frame.len", "frame.cap_len", "ip.src", "ip.dst",
              "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
              "tcp.flags"]
    argv = ["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=|"]
    for f in fields:
        argv += ["-e", f]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("tshark -r %s: %s" % (path, r.stderr.strip()))
    out = []
    for line in r.stdout.splitlines():
        v = line.split("|")
        if len(v) != len(fields):
            continue
        out.append({"t": float(v[0]), "len": int(v[1]), "caplen": int(v[2]),
                    "src": v[3] or v[5], "dst": v[4] or v[6],
                    "sport": int(v[7]), "dport": int(v[8]), "seq": int(v[9] or 0),
                    "flags": int(v[10], 16)})
    return out


def tcp_flag_counts(segs):
    """syn (SYN without ACK), syn_retrans (a SYN whose 4-tuple and ISN came
    before), synack, rst, fin — as ctload's capture counts them."""
    c = {"syn": 0, "syn_retrans": 0, "synack": 0, "rst": 0, "fin": 0}
    seen = set()
    for s in segs:
        f = s["flags"]
        if f & 0x02 and not f & 0x10:
            c["syn"] += 1
            key = (s["src"], s["dst"], s["sport"], s["dport"], s["seq"])
            if key in seen:
                c["syn_retrans"] += 1
            seen.add(key)
        elif f & 0x02:
            c["synack"] += 1
        if f & 0x04:
            c["rst"] += 1
        if f & 0x01:
            c["fin"] += 1
    return c


# ---- Prometheus text exposition format 0.0.4 --------------------------------

import re as _re

_PROM_NAME = _re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PROM_LABEL = _re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_PROM_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def _prom_float(s):
    if s in ("+Inf", "Inf"):
        return float("inf")
    if s == "-Inf":
        return float("-inf")
    if s == "NaN":
        return float("nan")
    if not _re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError("not a number: %r" % s)
    return float(s)


def _prom_labels(s, i, lineno):
    """Parse {a="x",b="y"} starting at s[i] == '{'; returns (dict, next i)."""
    labels = {}
    i += 1
    while True:
        if s[i] == "}":
            return labels, i + 1
        m = _PROM_LABEL.match(s, i)
        if not m:
            raise ValueError("line %d: bad label name at %r" % (lineno, s[i:]))
        name = m.group(0)
        if name.startswith("__"):
            raise ValueError("line %d: reserved label name %s" % (lineno, name))
        if name in labels:
            raise ValueError("line %d: label %s twice" % (lineno, name))
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError("line %d: expected =\" after label %s" % (lineno, name))
        i += 2
        val = []
        while True:
            c = s[i]
            if c == "\\":
                e = s[i + 1]
                if e not in '\\"n':
                    raise ValueError("line %d: bad escape \\%s in a label value" % (lineno, e))
                val.append("\n" if e == "n" else e)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("line %d: raw newline in a label value" % lineno)
            else:
                val.append(c)
                i += 1
        labels[name] = "".join(val)
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            raise ValueError("line %d: expected , or } after a label" % lineno)


def prom_parse(text):
    """Parse Prometheus text format 0.0.4 strictly. Returns {family: {"type",
    "help", "samples": [(name, labels, value)]}}; raises ValueError naming the
    line on anything a strict reader would reject: names, label syntax and
    escapes, TYPE/HELP once and before the samples, families contiguous,
    duplicate series, counters not ending in _total or negative, histograms
    (le on every bucket, cumulative, +Inf bucket = _count, _sum present)."""
    if text and not text.endswith("\n"):
        raise ValueError("the text does not end with a newline")
    fams = {}
    order = []        # family of each run of samples, to check contiguity
    seen = set()
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            raise ValueError("line %d: empty line" % lineno)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not _PROM_NAME.fullmatch(name):
                    raise ValueError("line %d: bad metric name %r" % (lineno, name))
                f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
                if f["samples"]:
                    raise ValueError("line %d: %s after samples of %s" % (lineno, parts[1], name))
                if parts[1] == "TYPE":
                    if f["type"] is not None:
                        raise ValueError("line %d: second TYPE for %s" % (lineno, name))
                    if len(parts) != 4 or parts[3] not in _PROM_TYPES:
                        raise ValueError("line %d: bad type %r" % (lineno, parts[3:]))
                    f["type"] = parts[3]
                else:
                    if f["help"] is not None:
                        raise ValueError("line %d: second HELP for %s" % (lineno, name))
                    doc = parts[3] if len(parts) == 4 else ""
                    if _re.search(r"\\[^\\n]", doc.replace("\\\\", "")):
                        raise ValueError("line %d: bad escape in HELP" % lineno)
                    f["help"] = doc
            continue
        m = _PROM_NAME.match(line)
        if not m:
            raise ValueError("line %d: bad metric name: %r" % (lineno, line))
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _prom_labels(line + "\n", i, lineno)
        rest = line[i:]
        if not rest.startswith(" "):
            raise ValueError("line %d: expected a space before the value" % lineno)
        fields = rest[1:].split(" ")
        if len(fields) not in (1, 2):
            raise ValueError("line %d: expected value [timestamp]" % lineno)
        value = _prom_float(fields[0])
        if len(fields) == 2 and not _re.fullmatch(r"-?\d+", fields[1]):
            raise ValueError("line %d: bad timestamp" % lineno)
        fam = name
        if name not in fams:
            for suf in ("_bucket", "_sum", "_count"):
                base = name[:-len(suf)] if name.endswith(suf) else None
                if base and base in fams and fams[base]["type"] in ("histogram", "summary"):
                    fam = base
                    break
        f = fams.setdefault(fam, {"type": None, "help": None, "samples": []})
        if f["type"] is None:
            f["type"] = "untyped"
        if order and order[-1] != fam and fam in order:
            raise ValueError("line %d: samples of %s are not together" % (lineno, fam))
        if not order or order[-1] != fam:
            order.append(fam)
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise ValueError("line %d: duplicate series %s%s" % (lineno, name, labels))
        seen.add(key)
        f["samples"].append((name, labels, value))
    for fam, f in fams.items():
        if f["type"] == "counter":
            if not fam.endswith("_total"):
                raise ValueError("counter %s does not end in _total" % fam)
            if any(v < 0 for _, _, v in f["samples"]):
                raise ValueError("counter %s is negative" % fam)
        if f["type"] == "histogram" and f["samples"]:
            groups = {}
            for n, lab, v in f["samples"]:
                other = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
                g = groups.setdefault(other, {"b": [], "sum": None, "count": None})
                if n == fam + "_bucket":
                    if "le" not in lab:
                        raise ValueError("%s_bucket without le" % fam)
                    g["b"].append((_prom_float(lab["le"]), v))
                elif n == fam + "_sum":
                    g["sum"] = v
                elif n == fam + "_count":
                    g["count"] = v
                else:
                    raise ValueError("%s in histogram %s" % (n, fam))
            for g in groups.values():
                b = sorted(g["b"])
                if not b or b[-1][0] != float("inf"):
                    raise ValueError("histogram %s has no le=\"+Inf\" bucket" % fam)
                if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
                    raise ValueError("histogram %s buckets are not cumulative" % fam)
                if g["count"] is None or g["sum"] is None:
                    raise ValueError("histogram %s lacks _sum or _count" % fam)
                if b[-1][1] != g["count"]:
                    raise ValueError("histogram %s: +Inf bucket %s != _count %s"
                                     % (fam, b[-1][1], g["count"]))
    return fams


def prom_value(fams, name, **labels):
    """The value of series name{labels} in a prom_parse() result, or None."""
    for f in fams.values():
        for n, lab, v in f["samples"]:
            if n == name and lab == labels:
                return v
    return None


# ---- sanitizer builds ----------------------------------------------------------

def sanitized(path):
    """Whether the program at `path` is built with AddressSanitizer (meson
    -Db_sanitize=address...): its RSS is not comparable to a plain build's
    (shadow memory, quarantine), and valgrind cannot run it."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False
