/* cmd_lint — `ctload lint [--no-live] FILE...`: sysctl.conf / sysctl.d lines
 * that do not do what their author thinks, each with file:line and the fix.
 * The checks live in loadgen/model/lint.c; this file is the command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/cli/cli.h"
#include "loadgen/model/lint.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: ctload lint [--no-live] FILE...\n"
	    "Check sysctl.conf and sysctl.d files (and modprobe.d 'options nf_conntrack'\n"
	    "lines) for settings that do not do what people think:\n"
	    "  removed keys (tcp_tw_recycle), legacy names (net.ipv4.netfilter.ip_conntrack_max),\n"
	    "  misunderstood keys (tcp_fin_timeout is not TIME_WAIT), the conntrack hash size set\n"
	    "  through a sysctl, nf_conntrack_max/buckets above 8 entries a bucket, ephemeral\n"
	    "  port ranges over listening or well-known ports, ranges with ends of the same\n"
	    "  parity, tcp_tw_reuse without timestamps, unknown keys, bad values, duplicates.\n"
	    "The files are read together, as sysctl.d applies them (the last line wins).\n\n"
	    "  --no-live   do not compare with this host (listening ports, table size)\n"
	    "  -h, --help  this text\n\n"
	    "Exit: 0 nothing found, 1 findings, 2 a file could not be read or bad usage.\n");
}

int ct_cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-live", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ct_lint_opts lo = {.live = true};
	struct ct_lint *l;
	bool unreadable = false;
	size_t n;
	int c, nfiles;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			lo.live = false;
			break;
		case 'h':
			usage(stdout);
			return CT_EXIT_OK;
		default:
			ct_error("lint: unknown option '%s' (try 'ctload lint --help')",
				 argv[optind - 1]);
			return CT_EXIT_USAGE;
		}
	}
	nfiles = argc - optind;
	if (nfiles < 1) {
		ct_error(
		    "lint: no FILE given (e.g. ctload lint /etc/sysctl.conf /etc/sysctl.d/*.conf)");
		return CT_EXIT_USAGE;
	}
	if (!(l = ct_lint_new(&lo))) {
		ct_error("lint: out of memory");
		return CT_EXIT_ENV;
	}
	for (int i = optind; i < argc; i++) {
		int rc = ct_lint_file(l, argv[i]);

		if (rc == -EINVAL) {
			ct_error("lint: %s: not a text file; give sysctl.conf or sysctl.d files",
				 argv[i]);
			unreadable = true;
		} else if (rc < 0) {
			ct_error("lint: cannot read %s: %s", argv[i], strerror(-rc));
			unreadable = true;
		}
	}
	ct_lint_finish(l);
	n = ct_lint_count(l);
	for (size_t i = 0; i < n; i++) {
		const struct ct_lint_finding *f = ct_lint_at(l, i);

		printf("%s:%d: %s%s%s [%s]\n    fix: %s\n", f->file, f->line, f->key,
		       f->key[0] ? ": " : "", f->msg, ct_lint_code_name(f->code), f->fix);
	}
	printf("%zu finding%s in %d file%s\n", n, n == 1 ? "" : "s", nfiles,
	       nfiles == 1 ? "" : "s");
	ct_lint_free(l);
	if (unreadable)
		return CT_EXIT_USAGE;
	return n ? CT_EXIT_EXPECT : CT_EXIT_OK;
}
