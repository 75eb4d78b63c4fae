#!/usr/bin/env python3
"""Embed a text file (report.css) in the program as a C array.

Usage: embed.py NAME INPUT OUT_C OUT_H

Writes OUT_H declaring `extern const char NAME[];` and OUT_C defining it: the
input without /* comments */, without line breaks and without the blanks that
begin or end a line, NUL-terminated. So that joining lines can never glue two
words together, every line must end with { } ; or , (anything else stops the
build with the line named). An array rather than a string literal: ISO C
compilers need not take literals over 4095 characters (-Woverlength-strings).
"""
import os
import re
import sys


def squeeze(path, text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        if line[-1] not in "{};,":
            sys.exit("%s:%d: a line must end with { } ; or , (line breaks are dropped): %s"
                     % (path, n, line))
        out.append(line)
    return "".join(out).encode("utf-8")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().split("\n\n")[1])
    name, src, out_c, out_h = sys.argv[1:]
    with open(src, encoding="utf-8") as f:
        data = squeeze(src, f.read())
    what = os.path.basename(src)
    with open(out_h, "w") as f:
        f.write("/* %s — generated from %s by embed.py; do not edit. */\n" % (name, what))
        f.write("#pragma once\n\n")
        f.write("/* %s without comments and line breaks, NUL-terminated (%d bytes). */\n"
                % (what, len(data)))
        f.write("extern const char %s[];\n" % name)
    with open(out_c, "w") as f:
        f.write("/* %s — generated from %s by embed.py; do not edit. */\n" % (name, what))
        f.write('#include "%s"\n\n' % os.path.basename(out_h))
        f.write("const char %s[] = {\n" % name)
        for i in range(0, len(data), 12):
            f.write("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]) + "\n")
        f.write("\t0x00,\n};\n")


main()
