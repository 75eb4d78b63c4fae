/* cmd_lint — `ctload lint [--no-live] [--order system|given] [--effective]
 * FILE...`: sysctl.conf / sysctl.d lines that do not do what their author
 * thinks, each with file:line and the fix; or what sysctl would write.
 * The checks live in loadgen/model/lint.c and the reading order in
 * loadgen/model/sysctl_file.c; this file is the command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/cli/cli.h"
#include "loadgen/model/lint.h"
#include "loadgen/model/sysctl_file.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: ctload lint [--no-live] [--order system|given] [--effective] FILE...\n"
	    "Check sysctl.conf and sysctl.d files (and modprobe.d 'options nf_conntrack'\n"
	    "lines) for settings that do not do what people think:\n"
	    "  removed keys (tcp_tw_recycle), legacy names (net.ipv4.netfilter.ip_conntrack_max),\n"
	    "  misunderstood keys (tcp_fin_timeout is not TIME_WAIT), values the kernel refuses,\n"
	    "  the conntrack hash size set through a sysctl, nf_conntrack_max/buckets above 8\n"
	    "  entries a bucket, ephemeral port ranges over listening or well-known ports,\n"
	    "  ranges with ends of the same parity, tcp_tw_reuse without timestamps, unknown\n"
	    "  keys, duplicates, files sysctl does not read.\n"
	    "Lines are read as sysctl(8) reads them: KEY = VALUE, -KEY = VALUE (a failed write\n"
	    "is not an error), -KEY (glob lines leave KEY alone), dots or slashes in keys.\n"
	    "The files are applied together, the last value the kernel takes winning, in\n"
	    "the order sysctl would apply them:\n"
	    "  --order system  (default) as 'sysctl --system' and systemd-sysctl at boot: by\n"
	    "                  file name whatever the directory, a name in /etc/sysctl.d hiding\n"
	    "                  the same name in /run, /usr/local/lib, /usr/lib, /lib sysctl.d,\n"
	    "                  only *.conf in sysctl.d, a file sysctl.conf last\n"
	    "  --order given   in the order given, as 'sysctl -p FILE...'\n"
	    "  --effective     print what sysctl would write on this host instead of the\n"
	    "                  findings: KEY = VALUE a key, after a '# FILE:LINE' comment\n"
	    "                  (keys this kernel lacks or cannot write are left out)\n"
	    "  --no-live       do not compare with this host (listening ports, table size)\n"
	    "  -h, --help      this text\n\n"
	    "Exit: 0 nothing found (or --effective), 1 findings, 2 a file could not be read\n"
	    "or bad usage.\n");
}

struct lint_args {
	struct ct_lint_opts lo;
	enum ct_sysctl_order order;
	bool effective;
	const char *const *paths;
	size_t npaths;
};

/* Options into *a; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct lint_args *a)
{
	static const struct option opts[] = {
	    {"no-live", no_argument, NULL, 'n'},  {"order", required_argument, NULL, 'o'},
	    {"effective", no_argument, NULL, 'e'}, {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a->lo.live = false;
			break;
		case 'o':
			if (strcmp(optarg, "system") == 0)
				a->order = CT_SYSCTL_ORDER_SYSTEM;
			else if (strcmp(optarg, "given") == 0)
				a->order = CT_SYSCTL_ORDER_GIVEN;
			else {
				ct_error("lint: --order '%s': give 'system' (as sysctl --system) "
					 "or 'given' (as sysctl -p FILE...)",
					 optarg);
				return CT_EXIT_USAGE;
			}
			break;
		case 'e':
			a->effective = true;
			break;
		case 'h':
			usage(stdout);
			return CT_EXIT_OK;
		default:
			ct_error("lint: unknown option or missing value '%s' (try 'ctload lint "
				 "--help')",
				 argv[optind - 1]);
			return CT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		ct_error(
		    "lint: no FILE given (e.g. ctload lint /etc/sysctl.conf /etc/sysctl.d/*.conf)");
		return CT_EXIT_USAGE;
	}
	a->paths = (const char *const *)argv + optind;
	a->npaths = (size_t)(argc - optind);
	return -1;
}

/* Lint the files in the order sysctl reads them; a finding for each one it
 * does not read. Returns 0, 1 when a file could not be read, -ENOMEM. */
static int read_files(struct ct_lint *l, const struct lint_args *a)
{
	struct ct_sysctl_file *ord = calloc(a->npaths, sizeof(*ord));
	char why[600], fix[300];
	int unreadable = 0;

	if (!ord || ct_sysctl_file_order(a->paths, a->npaths, a->order, ord) < 0) {
		free(ord);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->npaths; i++) {
		const char *p = a->paths[ord[i].arg];
		int rc = 0;

		switch (ord[i].skip) {
		case CT_SFILE_READ:
			rc = ct_lint_file(l, p);
			break;
		case CT_SFILE_SHADOWED:
			snprintf(why, sizeof(why),
				 "sysctl --system does not read this file: %s has the same name "
				 "and its directory comes first",
				 a->paths[ord[i].by]);
			snprintf(fix, sizeof(fix), "merge it into %s, or give it another name",
				 a->paths[ord[i].by]);
			ct_lint_not_read(l, p, why, fix);
			break;
		case CT_SFILE_NOT_CONF:
			ct_lint_not_read(l, p,
					 "sysctl --system reads only the *.conf files of a sysctl.d "
					 "directory",
					 "if its lines are meant to apply, give it a name ending in "
					 ".conf");
			break;
		case CT_SFILE_AGAIN:
			break;
		}
		if (rc == -EINVAL)
			ct_error("lint: %s: not a text file; give sysctl.conf or sysctl.d files", p);
		else if (rc < 0)
			ct_error("lint: cannot read %s: %s", p, strerror(-rc));
		unreadable |= rc < 0;
	}
	free(ord);
	return unreadable;
}

static int print_effective(struct ct_lint *l)
{
	struct ct_sysctl_assign *w;
	size_t n;

	if (ct_lint_writes(l, &w, &n) < 0) {
		ct_error("lint: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		printf("# %s:%d\n%s = %s\n", w[i].file, w[i].line, w[i].key, w[i].value);
	free(w);
	return 0;
}

static void print_findings(const struct ct_lint *l, size_t nfiles)
{
	size_t n = ct_lint_count(l);

	for (size_t i = 0; i < n; i++) {
		const struct ct_lint_finding *f = ct_lint_at(l, i);

		if (f->line > 0)
			printf("%s:%d: %s%s", f->file, f->line, f->key, f->key[0] ? ": " : "");
		else
			printf("%s: ", f->file);
		printf("%s [%s]\n    fix: %s\n", f->msg, ct_lint_code_name(f->code), f->fix);
	}
	printf("%zu finding%s in %zu file%s\n", n, n == 1 ? "" : "s", nfiles,
	       nfiles == 1 ? "" : "s");
}

int ct_cmd_lint(int argc, char **argv)
{
	struct lint_args a = {.lo = {.live = true}, .order = CT_SYSCTL_ORDER_SYSTEM};
	struct ct_lint *l;
	int rc;

	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	if (!(l = ct_lint_new(&a.lo))) {
		ct_error("lint: out of memory");
		return CT_EXIT_ENV;
	}
	rc = read_files(l, &a);
	if (rc < 0) {
		ct_error("lint: out of memory");
		ct_lint_free(l);
		return CT_EXIT_ENV;
	}
	ct_lint_finish(l);
	if (a.effective) {
		if (print_effective(l) < 0) {
			ct_lint_free(l);
			return CT_EXIT_ENV;
		}
	} else {
		print_findings(l, a.npaths);
	}
	if (rc > 0) {
		ct_lint_free(l);
		return CT_EXIT_USAGE;
	}
	rc = !a.effective && ct_lint_count(l) ? CT_EXIT_EXPECT : CT_EXIT_OK;
	ct_lint_free(l);
	return rc;
}
