#!/usr/bin/env python3
"""The source tree keeps the shape docs/ARCHITECTURE.md describes:
  - loadgen/ holds one folder per part; only main.c sits at its top;
  - no C source file of ctload, ctserver or common/ is over 800 lines;
  - no function is over 80 lines, except the few listed below, each a table
    or one state machine's switch (say why when you add one);
  - libpcap headers are included only by the files that own capture and the
    packet engine's pcap backend, DPDK headers only by the DPDK backend;
  - the module map in docs/ARCHITECTURE.md names every loadgen module, and
    every module it names exists.
Reads files only: no build, no root."""
import os
import re

import ctlib

tap = ctlib.start()
SRC = ctlib.SRCDIR
MAX_FILE_LINES = 800
MAX_FUNC_LINES = 80
# function name -> why it may be longer (a table, or one state machine's switch)
LONG_OK = {
}
PCAP_OK = re.compile(r"^loadgen/(probe/capture|engine/packet/pcap[^/]*)\.[ch]$")
DPDK_OK = re.compile(r"^loadgen/engine/packet/(pktio_)?dpdk[^/]*\.[ch]$")


def sources(*tops):
    for top in tops:
        for d, _, files in os.walk(os.path.join(SRC, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), SRC)


def functions(path):
    """(name, first line, length) of each top-level function body in a C file."""
    lines = open(os.path.join(SRC, path), encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{" and i > 0:
            j = i - 1
            while j > 0 and not re.match(r"^[A-Za-z_]", lines[j]):
                j -= 1
            m = re.search(r"([A-Za-z_][A-Za-z_0-9]*)\s*\(", lines[j])
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            yield (m.group(1) if m else lines[j].strip()), j + 1, k - i + 1
            i = k
        i += 1


tops = [f for f in os.listdir(os.path.join(SRC, "loadgen")) if f.endswith(".c")]
tap.ok(tops == ["main.c"], "loadgen/ holds no .c file but main.c at its top", tops)

big, long_funcs, pcap_bad, dpdk_bad = [], [], [], []
for path in sources("loadgen", "server", "common"):
    text = open(os.path.join(SRC, path), encoding="utf-8").read()
    n = text.count("\n")
    if n > MAX_FILE_LINES:
        big.append("%s: %d lines" % (path, n))
    if re.search(r"#\s*include\s*[<\"]pcap", text) and not PCAP_OK.match(path):
        pcap_bad.append(path)
    if re.search(r"#\s*include\s*[<\"]rte_", text) and not DPDK_OK.match(path):
        dpdk_bad.append(path)
    if path.endswith(".c"):
        for name, line, length in functions(path):
            if length > MAX_FUNC_LINES and name not in LONG_OK:
                long_funcs.append("%s:%d: %s() is %d lines" % (path, line, name, length))
tap.ok(not big, "no source file is over %d lines" % MAX_FILE_LINES, "\n".join(big))
tap.ok(not long_funcs, "no function is over %d lines (tables and state-machine switches listed)"
       % MAX_FUNC_LINES, "\n".join(long_funcs))
tap.ok(not pcap_bad, "only capture and the pcap backend include libpcap headers", pcap_bad)
tap.ok(not dpdk_bad, "only the DPDK backend includes DPDK headers", dpdk_bad)

# The module map: lines "    loadgen/<folder>/<module>  what it owns".
arch = open(os.path.join(SRC, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
mapped = set(re.findall(r"^\s{4}(loadgen/[a-z_/]+)\s", arch, re.M))
modules = set()
for path in sources("loadgen"):
    if path.endswith(".c"):
        modules.add(path[:-2])
missing = sorted(modules - mapped)
stale = sorted(m for m in mapped if not os.path.exists(os.path.join(SRC, m + ".c"))
               and not os.path.isdir(os.path.join(SRC, m)))
tap.ok(not missing, "docs/ARCHITECTURE.md's module map names every loadgen module", missing)
tap.ok(not stale, "every module the map names exists", stale)
tap.done()
