/* ctload — reproduce TIME_WAIT and conntrack exhaustion, measure where it breaks. */
#include <stdio.h>
#include <string.h>

#include "ct_config.h"
#include "common/log.h"
#include "loadgen/cli/cli.h"

static const struct ct_cmd commands[] = {
	/* {name, fn, summary}: one line per subcommand, each with its own --help. */
	{"run", ct_cmd_run, "run a scenario: open/close connections, write a run directory"},
	{"model", ct_cmd_model, "predicted threshold of each limit for a scenario, no traffic"},
	{"check", ct_cmd_check, "this host: limits, load and headroom, sysctl advice"},
	{"lint", ct_cmd_lint, "sysctl.conf/sysctl.d: removed, legacy and misunderstood keys"},
	{"lab", ct_cmd_lab, "build a lab (netns, settings, ctserver) and leave it up: up|status|down"},
	{"report", ct_cmd_report, "(re)build report.html and timeseries.csv of a run directory"},
	{"respond", ct_cmd_respond, "the stateless responder on an interface (what the lab runs)"},
	{NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: ctload [-v|-q] COMMAND [ARGS]...\n"
		     "Reproduce TCP TIME_WAIT and conntrack exhaustion in a lab, and find the\n"
		     "connection rate at which it breaks.\n\nCommands:\n");
	for (const struct ct_cmd *c = commands; c->name; c++)
		fprintf(out, "  %-8s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'ctload COMMAND --help' for a command's options; see ctload(1).\n"
		     "Exit: 0 ok, 1 an [expect] failed, 2 bad usage or scenario, 3 environment.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return CT_EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("ctload %s\n", CT_VERSION);
			return CT_EXIT_OK;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			ct_log_set_level(ct_log_get_level() < CT_LOG_DEBUG ? ct_log_get_level() + 1
									  : CT_LOG_DEBUG);
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			ct_log_set_level(CT_LOG_WARN);
		} else {
			ct_error("unknown option '%s' (try 'ctload --help')", argv[i]);
			return CT_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CT_EXIT_USAGE;
	}
	for (const struct ct_cmd *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[i]))
			return c->fn(argc - i, argv + i);
	ct_error("unknown command '%s' (try 'ctload --help')", argv[i]);
	return CT_EXIT_USAGE;
}
