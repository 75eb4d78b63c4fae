/* cmd_report — `ctload report DIR [--out FILE]`: rebuild report.html and
 * timeseries.csv from a run directory's files (also of a run that was cut
 * short). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/cli/cli.h"
#include "loadgen/report/report.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ctload report DIR [--out FILE]\n"
		"Rebuild DIR/report.html, DIR/timeseries.csv and DIR/connect_hist.csv from the\n"
		"run directory DIR (scenario.ini, summary.json, timeseries.jsonl, events.log).\n"
		"Works on a run that was interrupted or killed: whatever was recorded is\n"
		"shown, and what is missing is named at the top of the report.\n\n"
		"  --out FILE  write the HTML to FILE instead (the CSV files go next to it)\n\n"
		"The page is self-contained (no network): open it in any browser or print it.\n"
		"Exit: 0 written, 2 bad usage or DIR is not a run directory, 3 cannot write.\n");
}

int ct_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return CT_EXIT_OK;
		default:
			ct_error("report: unknown or incomplete option '%s' (try 'ctload report "
				 "--help')",
				 argv[optind - 1]);
			return CT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return CT_EXIT_USAGE;
	}
	const char *dir = argv[optind];
	struct ct_err err = {0};
	int rc = ct_report_write(dir, out, &err);
	if (rc < 0) {
		ct_error("%s", err.msg[0] ? err.msg : strerror(-rc));
		return ct_err_code(&err, CT_EXIT_ENV);
	}
	if (out)
		ct_note("wrote %s (timeseries.csv and connect_hist.csv beside it)", out);
	else
		ct_note("wrote %s/report.html, timeseries.csv and connect_hist.csv", dir);
	return CT_EXIT_OK;
}
