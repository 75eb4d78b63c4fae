"""ctload lint reads sysctl files as sysctl(8) does: for the same files, the
keys `ctload lint --effective` says sysctl would set, and their values, are
the ones `sysctl --dry-run` prints, the last write of each key winning, less
the writes the kernel refuses. Which writes the kernel refuses is found by
making them, through /proc/sys, in a network namespace of this test's own.

sysctl itself only ever runs with --dry-run. The files of tests/data/sysctl/agree
are read with `sysctl --dry-run -p A B` and `-p B A` (lint --order given),
and installed in sysctl.d directories of a private mount namespace (tmpfs
over /etc/sysctl.d, /usr/lib/sysctl.d, ...; /etc/sysctl.conf bound over)
for `sysctl --dry-run --system` (lint's default order, files given in any
order). Everything runs under `unshare --mount --net`: the host's settings,
directories and links are untouched. net.nf_conntrack_max, which exists
only in the init netns, is compared there, with --dry-run only."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctlib  # noqa: E402

AGREE = os.path.join(ctlib.SRCDIR, "tests", "data", "sysctl", "agree")
SYSCTL_DIRS = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
               "/usr/lib/sysctl.d", "/lib/sysctl.d"]


def dry_run_writes(out):
    """[(key, value)] from sysctl --dry-run's "key = value" lines, in order."""
    writes = []
    for line in out.splitlines():
        if " = " in line and not line.startswith("*"):
            key, _, value = line.partition(" = ")
            writes.append((key, value))
        elif line.endswith(" =") and not line.startswith("*"):
            writes.append((line[:-2], ""))
    return writes


def kernel_takes(writes):
    """Replay the writes through /proc/sys (net.* only: per netns here) and
    keep, per key, the last value the kernel took."""
    took = {}
    for key, value in writes:
        path = "/proc/sys/" + key.translate(str.maketrans("./", "/."))
        if key.startswith("net."):
            try:
                with open(path, "w") as f:
                    f.write(value + "\n")
            except OSError:
                continue
        took[key] = value
    return took


def effective(out):
    """{key: value} from `ctload lint --effective`."""
    got = {}
    for line in out.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(" = ")
            got[key] = value
    return got


def lint(args):
    r = subprocess.run([ctlib.CTLOAD, "lint", "--no-live"] + args, capture_output=True,
                       text=True, timeout=60)
    return {"rc": r.returncode, "out": r.stdout, "err": r.stderr}


def dry_run(args):
    r = subprocess.run(["sysctl", "--dry-run"] + args, capture_output=True, text=True,
                       timeout=60)
    return dry_run_writes(r.stdout)


def install_system_dirs(tmp):
    """tmpfs over each sysctl.d directory there is (this mount namespace
    only), our files in /etc's and /usr/lib's, our sysctl.conf bound over
    /etc's. Nothing is created on the host: None when a place is missing."""
    if not (os.path.isdir("/etc/sysctl.d") and os.path.isdir("/usr/lib/sysctl.d")
            and os.path.isfile("/etc/sysctl.conf")):
        return None
    for d in SYSCTL_DIRS:
        if os.path.isdir(d) and os.path.realpath(d) == d:
            subprocess.run(["mount", "-t", "tmpfs", "tmpfs", d], check=True)
    shutil.copy(os.path.join(AGREE, "10-base.conf"), "/usr/lib/sysctl.d/10-base.conf")
    shutil.copy(os.path.join(AGREE, "20-override.vendor.conf"),
                "/usr/lib/sysctl.d/20-override.conf")
    shutil.copy(os.path.join(AGREE, "20-override.conf"), "/etc/sysctl.d/20-override.conf")
    shutil.copy(os.path.join(AGREE, "README"), "/etc/sysctl.d/README")
    conf = os.path.join(tmp, "sysctl.conf")
    shutil.copy(os.path.join(AGREE, "sysctl.conf"), conf)
    subprocess.run(["mount", "--bind", conf, "/etc/sysctl.conf"], check=True)
    return ["/etc/sysctl.d/20-override.conf", "/etc/sysctl.d/README",
            "/usr/lib/sysctl.d/10-base.conf", "/usr/lib/sysctl.d/20-override.conf",
            "/etc/sysctl.conf"]


def inside():
    """Runs under unshare --mount --net: prints what sysctl and lint say."""
    # a veth (the lab uses them; dummy may be missing): its peer is one more link
    subprocess.run(["ip", "link", "add", "eth0.100", "type", "veth", "peer", "name", "ctpeer0"],
                   check=True)
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    a, b = os.path.join(AGREE, "10-base.conf"), os.path.join(AGREE, "20-override.conf")
    res = {"given": [], "system": {}}
    for files in ([a, b], [b, a]):
        writes = dry_run(["-p"] + files)
        res["given"].append({
            "files": files, "writes": writes,
            "lint": lint(["--effective", "--order", "given"] + files),
            "lint_default": lint(["--effective"] + files),
            "findings": lint(["--order", "given"] + files)})
    with tempfile.TemporaryDirectory() as tmp:
        files = install_system_dirs(tmp)
        if files:
            sysw = dry_run(["--system"])
            res["system"] = {
                "writes": sysw,
                "lint": [lint(["--effective"] + files), lint(["--effective"] + files[::-1])],
                "findings": [lint(files), lint(files[::-1])]}
    # Last: the replays change this netns's values.
    for g in res["given"]:
        g["took"] = kernel_takes(g["writes"])
    if res["system"]:
        res["system"]["took"] = kernel_takes(res["system"]["writes"])
    print(json.dumps(res))


def main():
    t = ctlib.start(require_root=True)
    for tool in ("sysctl", "unshare", "ip"):
        if not shutil.which(tool):
            t.skip_all("needs %s" % tool)
    r = subprocess.run(["unshare", "--mount", "--net", sys.executable, __file__, "--inside"],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if not t.ok(r.returncode == 0, "the throwaway namespaces ran", r.stderr[-3000:]):
        t.done()
    res = json.loads(r.stdout)

    for g in res["given"]:
        order = " ".join(os.path.basename(f) for f in g["files"])
        want, got = g["took"], effective(g["lint"]["out"])
        t.ok(g["lint"]["rc"] == 0 and got == want,
             "sysctl -p %s and lint --order given agree on every key and value" % order,
             "sysctl (less refused writes): %r\nlint: %r\n%s" % (want, got, g["lint"]["err"]))
        # the cases of issue 17, named so a failure says which
        t.ok(got.get("net.ipv4.conf.eth0/100.forwarding") == want.get(
            "net.ipv4.conf.eth0/100.forwarding") is not None,
             "%s: eth0/100 is the eth0.100 interface's key" % order, got)
        t.ok(got.get("net.ipv4.tcp_fin_timeout") == want.get("net.ipv4.tcp_fin_timeout"),
             "%s: a '-KEY = VALUE' line is applied" % order, got)
        t.ok("net.ipv4.conf.lo.rp_filter" not in got and "net.ipv4.conf.lo.rp_filter"
             not in want, "%s: '-KEY' keeps the glob off lo" % order, (want, got))
        f = g["findings"]["out"]
        t.ok(f.count("[syntax]") == 1 and ":18: " in f.split("[syntax]")[0].splitlines()[-1],
             "%s: only the line that is not KEY = VALUE is a syntax finding" % order, f)
        t.ok("takes effect" not in f and "keeps '1' from line 3" in f,
             "%s: the refused tcp_tw_reuse = 7 leaves line 3's value" % order, f)
    g0, g1 = res["given"]
    t.ok(g0["lint_default"]["out"] == g1["lint_default"]["out"],
         "by default (sysctl --system's order) the argument order changes nothing",
         g0["lint_default"]["out"] + "\n--\n" + g1["lint_default"]["out"])

    s = res["system"]
    if not s:
        t.diag("no /etc/sysctl.d, /usr/lib/sysctl.d or /etc/sysctl.conf: --system not compared")
        s = {"took": {}, "lint": [], "findings": [{"out": ""}, {"out": ""}]}
    want = s["took"]
    for i, out in enumerate(s["lint"]):
        got = effective(out["out"])
        t.ok(out["rc"] == 0 and got == want,
             "sysctl --system and lint agree on every key and value (files given %s)"
             % ("sorted" if i == 0 else "reversed"),
             "sysctl --system (less refused writes): %r\nlint: %r\n%s" % (want, got,
                                                                       out["err"]))
    t.ok(s["findings"][0]["out"] == s["findings"][1]["out"],
         "the findings are the same whatever the order the files are given in",
         s["findings"][0]["out"] + "\n--\n" + s["findings"][1]["out"])
    f = s["findings"][0]["out"]
    t.ok(not s["lint"] or "/usr/lib/sysctl.d/20-override.conf: sysctl --system does not read" in f
         and "/etc/sysctl.d/README: sysctl --system reads only" in f,
         "the shadowed and the non-.conf files are said not to be read", f)

    # net.nf_conntrack_max: a second name current kernels have (init netns only).
    if os.path.exists("/proc/sys/net/nf_conntrack_max"):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as tf:
            cur = open("/proc/sys/net/netfilter/nf_conntrack_max").read().strip()
            tf.write("net.netfilter.nf_conntrack_max = %s\nnet.nf_conntrack_max = %s\n"
                     % (cur, cur))
        try:
            want = dict(dry_run(["-p", tf.name]))
            got = lint(["--effective", tf.name])
            t.ok(effective(got["out"]) == want and "net.nf_conntrack_max" in want,
                 "sysctl and lint both write net.nf_conntrack_max in the init netns",
                 (want, got))
            f = lint([tf.name])["out"]
            t.ok("[legacy]" not in f and "[removed]" not in f,
                 "net.nf_conntrack_max is not called a legacy or removed name", f)
        finally:
            os.unlink(tf.name)
    else:
        t.diag("nf_conntrack not loaded here: net.nf_conntrack_max not compared")
    t.done()


if __name__ == "__main__":
    if "--inside" in sys.argv:
        inside()
    else:
        main()
