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
#include <unistd.h>

#include "common/log.h"
#include "common/sig.h"
#include "loadgen/cli/cli.h"
#include "loadgen/mpi/dist.h"
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
	    {"set", required_argument, NULL, 's'},
	    {"out", required_argument, NULL, 'o'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"metrics-listen", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {"allow-target", required_argument, NULL, 'a'},
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
			if (ct_allow_add(&a->allow, optarg, "--allow-target", why, sizeof(why)) <
			    0) {
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

/* The scenario as rank 0 read it, resolved (--set and all), as text. */
static char *scenario_text(const struct ct_scenario *sc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int rc = ct_scenario_write(sc, f);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Under MPI: rank 0 reads FILE and broadcasts it; the other ranks load
 * what it sent. Alone: FILE. NULL with *code set when it cannot run. */
static struct ct_scenario *load_scenario(struct ct_dist *d, const char *file, struct run_args *a,
					 int *code)
{
	struct ct_err err = {0};
	struct ct_scenario *sc = NULL;
	char *text = NULL;
	*code = CT_EXIT_USAGE;
	if (ct_dist_rank(d) == 0) {
		sc = ct_scenario_load(file, a->sets, a->n_set, &err);
		if (!sc)
			ct_error("%s", err.msg);
		else if (d && sc->scenario.topology == CT_TOPO_LAB && !ct_dist_one_host(d))
			ct_error("%s: [scenario] topology = lab: a lab is one host's namespaces, "
				 "so every MPI rank must run on rank 0's host; for several hosts "
				 "use topology = host (see docs/distributed.md)",
				 file);
		else
			*code = CT_EXIT_OK;
		if (!d)
			return sc;
		if (*code == CT_EXIT_OK && !(text = scenario_text(sc)))
			*code = CT_EXIT_ENV;
	}
	if (ct_dist_bcast_text(d, &text, code) < 0)
		*code = CT_EXIT_ENV;
	if (ct_dist_rank(d) != 0 && text && *code == CT_EXIT_OK) {
		char path[] = "/tmp/ctload-scenario-XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
		if (f && fputs(text, f) >= 0 && fclose(f) == 0)
			sc = ct_scenario_load(path, NULL, 0, &err);
		if (!sc)
			ct_error("MPI rank %u: rank 0's scenario: %s", ct_dist_rank(d),
				 err.msg[0] ? err.msg : strerror(errno));
		if (fd >= 0)
			unlink(path);
		*code = sc ? CT_EXIT_OK : CT_EXIT_ENV;
	}
	free(text);
	if (*code != CT_EXIT_OK) {
		ct_scenario_free(sc);
		return NULL;
	}
	return sc;
}

/* topology = host: the target under the rule and the allowlist, on every
 * rank (each checks where its own packets leave). An exit code. */
static int host_target(struct ct_dist *d, const struct ct_scenario *sc, const char *file,
		       struct run_args *a, struct ct_trial_target *target)
{
	struct ct_err err = {0};
	int code = CT_EXIT_OK;
	if (ct_allow_load_file(&a->allow, ct_allow_file_path(), &err) < 0) {
		ct_error("%s", err.msg);
		code = ct_err_code(&err, CT_EXIT_ENV);
	} else if (ct_safety_host_target(sc, file, &a->allow, target) < 0)
		code = CT_EXIT_USAGE;
	return d ? ct_dist_agree(d, code) : code;
}

int ct_cmd_run(int argc, char **argv)
{
	struct run_args a = {.sets = calloc((size_t)argc + 1, sizeof(char *))};
	struct ct_trial_target target = {.netns_fd = -1};
	struct ct_scenario *sc = NULL;
	struct ct_dist *dist = NULL;
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
	if (ct_dist_init(&argc, &argv, &dist, &err) < 0) {
		ct_error("%s", err.msg);
		code = ct_err_code(&err, CT_EXIT_ENV);
		goto out;
	}
	if (ct_dist_rank(dist) != 0) { /* rank 0 speaks for the run */
		a.ro.quiet = true;
		a.ro.metrics_listen = NULL;
	}
	a.ro.dist = dist;
	if (!(sc = load_scenario(dist, file, &a, &code)))
		goto out;
	if (sc->scenario.topology == CT_TOPO_HOST) {
		if ((code = host_target(dist, sc, file, &a, &target)) != CT_EXIT_OK)
			goto out;
		a.ro.host_target = &target;
	}
	code = ct_runner_run(sc, &a.ro);
out:
	code = ct_dist_end(dist, code);
	ct_scenario_free(sc);
	ct_allow_free(&a.allow);
	free(a.sets);
	return code;
}
