/* cmd_run — `ctload run FILE [--set k=v]... [--out DIR] [--metrics-listen A:P]
 * [--allow-target CIDR[:PORTS]]... [--quiet]`.
 *
 * Reads the options and the scenario, resolves the target in topology =
 * host under the safety rule (safety.h) and the target allowlist (allow.h:
 * the --allow-target entries and the root-owned file), and hands the run to
 * runner.h. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/sig.h"
#include "loadgen/cli/cli.h"
#include "loadgen/run/allow.h"
#include "loadgen/run/runner.h"
#include "loadgen/run/safety.h"
#include "loadgen/scenario/scenario.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ctload run FILE [--set SECTION.KEY=VALUE]... [--out DIR]\n"
		"                  [--metrics-listen ADDR:PORT] [--allow-target CIDR[:PORTS]]...\n"
		"                  [--quiet]\n"
		"Run the scenario in FILE: build its lab (topology = lab), then for each [sweep]\n"
		"point run one step at the [load] rate, or search for the highest rate that\n"
		"passes fail_when ([search]); sample conntrack, TIME_WAIT and drop counters all\n"
		"along; restore every setting; write a run directory (scenario.ini,\n"
		"timeseries.jsonl, summary.json, report.html, timeseries.csv, connect_hist.csv;\n"
		"in a lab also events.log and server.log).\n\n"
		"  --set K=V             override a key, e.g. --set load.rate=800/s (repeatable)\n"
		"  --out DIR             run directory (default runs/NAME-YYYYmmdd-HHMMSS)\n"
		"  --metrics-listen A:P  serve Prometheus metrics at http://A:P/metrics\n"
		"  --allow-target C[:P]  topology = host: allow a real target outside loopback,\n"
		"                        e.g. 198.51.100.7/32:11211 (repeatable; also read from\n"
		"                        the root-owned /etc/ctload/targets). It sends real load:\n"
		"                        list only a device under test you own\n"
		"  --quiet               no live view, no notes, no summary table\n\n"
		"Exit: 0 every [expect] held, 1 an [expect] failed, 2 bad usage or scenario,\n"
		"3 environment (e.g. not root for a lab). See ctload(1).\n");
}

/* What the command line asked for. */
struct run_args {
	char **sets;
	size_t n_set;
	struct ct_runner_opts ro;
	struct ct_allow allow;
};

/* Read the options into a; 0, 1 (--help printed) or -1 (reported). */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
	    {"set", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
	    {"quiet", no_argument, NULL, 'q'},	   {"metrics-listen", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},	   {"allow-target", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	char why[400];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:o:qm:ha:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!strchr(optarg, '=')) {
				ct_error("--set '%s': expected SECTION.KEY=VALUE, e.g. "
					 "load.rate=800/s",
					 optarg);
				return -1;
			}
			a->sets[a->n_set++] = optarg;
			break;
		case 'o':
			a->ro.out_dir = optarg;
			break;
		case 'q':
			a->ro.quiet = true;
			break;
		case 'm':
			a->ro.metrics_listen = optarg;
			break;
		case 'a':
			if (ct_allow_add(&a->allow, optarg, "--allow-target", why, sizeof(why)) < 0) {
				ct_error("--allow-target: %s (write CIDR[:PORTS], e.g. "
					 "198.51.100.0/24:80,9000-9100)",
					 why);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			ct_error("run: unknown or incomplete option '%s' (try 'ctload run --help')",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int ct_cmd_run(int argc, char **argv)
{
	struct run_args a = {.sets = calloc((size_t)argc + 1, sizeof(char *))};
	struct ct_trial_target target = {.netns_fd = -1};
	struct ct_scenario *sc = NULL;
	struct ct_err err = {0};
	int code = CT_EXIT_USAGE, rc;

	if (!a.sets)
		return CT_EXIT_ENV;
	if ((rc = parse_args(argc, argv, &a)) != 0) {
		code = rc > 0 ? CT_EXIT_OK : CT_EXIT_USAGE;
		goto out;
	}
	const char *file = argv[optind];
	if (ct_signals_install() < 0) {
		ct_error("cannot install signal handlers: %s", strerror(errno));
		code = CT_EXIT_ENV;
		goto out;
	}
	sc = ct_scenario_load(file, a.sets, a.n_set, &err);
	if (!sc) {
		ct_error("%s", err.msg);
		goto out;
	}
	if (sc->scenario.topology == CT_TOPO_HOST) {
		if (ct_allow_load_file(&a.allow, ct_allow_file_path(), &err) < 0) {
			ct_error("%s", err.msg);
			code = ct_err_code(&err, CT_EXIT_ENV);
			goto out;
		}
		if (ct_safety_host_target(sc, file, &a.allow, &target) < 0)
			goto out;
		a.ro.host_target = &target;
	}
	code = ct_runner_run(sc, &a.ro);
out:
	ct_scenario_free(sc);
	ct_allow_free(&a.allow);
	free(a.sets);
	return code;
}
