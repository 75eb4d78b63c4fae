#!/usr/bin/env python3
"""ctserver(1) is clean for mandoc, the man page checker a user (and
Debian's lintian) would run: `mandoc -Tlint` reports nothing, not even a
style note (a date it cannot parse, input lines over 80 bytes).
Reads files only: no build, no root."""
import os
import shutil

import ctlib

t = ctlib.start()
PAGE = os.path.join(ctlib.SRCDIR, "docs", "ctserver.1")
if not shutil.which("mandoc"):
    t.skip_all("mandoc not installed (scripts/setup installs it: apt-get install mandoc)")

r = ctlib.run(["mandoc", "-Tlint", PAGE], timeout=30)
t.ok(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
     "mandoc -Tlint docs/ctserver.1 reports nothing",
     "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
# What a reader gets: the page renders, and says what ctserver does with a
# value over --item-max (read and discarded, not kept in memory).
r = ctlib.run(["mandoc", "-Tutf8", PAGE], timeout=30)
text = " ".join(r.stdout.replace("\u2010\n", "").split())
t.ok(r.returncode == 0 and "discarded, never held whole in memory" in text,
     "the page renders and says a value over --item-max is read and discarded",
     "exit %d\n%s" % (r.returncode, r.stderr))
t.done()
