/* cmd_run — `ctload run FILE [--set k=v]... [--out DIR] [--metrics-listen A:P] [--quiet]`.
 *
 * Reads the options and the scenario, resolves the target in topology =
 * host under the safety rule (safety.h), and hands the run to runner.h. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/sig.h"
#include "loadgen/cli/cli.h"
#include "loadgen/run/runner.h"
#include "loadgen/run/safety.h"
#include "loadgen/scenario/scenario.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ctload run FILE [--set SECTION.KEY=VALUE]... [--out DIR]\n"
		"                  [--metrics-listen ADDR:PORT] [--quiet]\n"
		"Run the scenario in FILE: build its lab (topology = lab), then for each [sweep]\n"
		"point run one step at the [load] rate, or search for the highest rate that\n"
		"passes fail_when ([search]); sample conntrack, TIME_WAIT and drop counters all\n"
		"along; restore every setting; write a run directory (scenario.ini,\n"
		"timeseries.jsonl, summary.json, report.html, timeseries.csv, connect_hist.csv;\n"
		"in a lab also events.log and server.log).\n\n"
		"  --set K=V             override a key, e.g. --set load.rate=800/s (repeatable)\n"
		"  --out DIR             run directory (default runs/NAME-YYYYmmdd-HHMMSS)\n"
		"  --metrics-listen A:P  serve Prometheus metrics at http://A:P/metrics\n"
		"  --quiet               no live view, no notes, no summary table\n\n"
		"Exit: 0 every [expect] held, 1 an [expect] failed, 2 bad usage or scenario,\n"
		"3 environment (e.g. not root for a lab). See ctload(1).\n");
}

int ct_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"set", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
	    {"quiet", no_argument, NULL, 'q'},	   {"metrics-listen", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	char **sets = calloc((size_t)argc + 1, sizeof(char *));
	size_t n_set = 0;
	struct ct_runner_opts ro = {0};
	struct ct_trial_target target = {.netns_fd = -1};
	struct ct_scenario *sc = NULL;
	struct ct_err err = {0};
	int code = CT_EXIT_USAGE, c;

	if (!sets)
		return CT_EXIT_ENV;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:o:qm:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!strchr(optarg, '=')) {
				ct_error("--set '%s': expected SECTION.KEY=VALUE, e.g. "
					 "load.rate=800/s",
					 optarg);
				goto out;
			}
			sets[n_set++] = optarg;
			break;
		case 'o':
			ro.out_dir = optarg;
			break;
		case 'q':
			ro.quiet = true;
			break;
		case 'm':
			ro.metrics_listen = optarg;
			break;
		case 'h':
			usage(stdout);
			code = CT_EXIT_OK;
			goto out;
		default:
			ct_error("run: unknown or incomplete option '%s' (try 'ctload run --help')",
				 argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		goto out;
	}
	const char *file = argv[optind];
	if (ct_signals_install() < 0) {
		ct_error("cannot install signal handlers: %s", strerror(errno));
		code = CT_EXIT_ENV;
		goto out;
	}
	sc = ct_scenario_load(file, sets, n_set, &err);
	if (!sc) {
		ct_error("%s", err.msg);
		goto out;
	}
	if (sc->scenario.topology == CT_TOPO_HOST) {
		if (ct_safety_host_target(sc, file, &target) < 0)
			goto out;
		ro.host_target = &target;
	}
	code = ct_runner_run(sc, &ro);
out:
	ct_scenario_free(sc);
	free(sets);
	return code;
}
