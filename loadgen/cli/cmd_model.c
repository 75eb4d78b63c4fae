/* cmd_model — `ctload model FILE [--set K=V]... [--json]`: the predicted
 * threshold of every limit for a scenario, without traffic.
 *
 * Values: the kernel defaults a new netns starts with (lab) or this host's
 * live settings (topology = host), then the scenario's own sysctls. Read-only
 * and unprivileged. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/units.h"
#include "loadgen/cli/cli.h"
#include "loadgen/host/hostinfo.h"
#include "loadgen/model/model.h"
#include "loadgen/scenario/scenario.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ctload model FILE [--set SECTION.KEY=VALUE]... [--json]\n"
		"Print the connection rate each limit allows for the scenario in FILE, name the\n"
		"binding one and show the arithmetic. Sends no traffic and changes nothing.\n\n"
		"Values come from the kernel defaults of a new network namespace (topology =\n"
		"lab; global keys such as nf_conntrack_max from this host) or from this host's\n"
		"live settings (topology = host), then from the scenario's [sysctl.*] sections.\n\n"
		"  --set K=V   override a scenario key, e.g. --set "
		"sysctl.client.net.ipv4.tcp_tw_reuse=1\n"
		"  --json      print the model as JSON (the form summary.json records)\n"
		"  -h, --help  this text\n\n"
		"Exit: 0 printed, 2 bad usage or scenario. See ctload(1).\n");
}

static void fmt_cps(double v, char *buf, size_t len)
{
	if (v >= 100)
		snprintf(buf, len, "%.0f/s", v);
	else
		snprintf(buf, len, "%.1f/s", v);
}

static void print_table(const struct ct_model_input *in, const struct ct_model_result *r)
{
	printf("  %-34s %10s %10s %7s  %s\n", "LIMIT", "PREDICTED", "CAPACITY", "HELD", "FORMULA");
	for (int i = 0; i < CT_LIMIT_N; i++) {
		const struct ct_limit *l = &r->limits[i];
		char title[64], cps[32], cap[32], held[32];

		snprintf(title, sizeof(title), "%s%s%s", l->title, l->hard ? "" : " (soft)",
			 l->estimate ? " ~" : "");
		if (!l->applies) {
			printf("  %-34s %10s\n      %s\n", title, "n/a", l->note);
			continue;
		}
		fmt_cps(l->predicted_cps, cps, sizeof(cps));
		snprintf(cap, sizeof(cap), "%.0f", l->capacity);
		snprintf(held, sizeof(held), "%gs", round(l->timer_s * 1000) / 1000);
		printf("%c %-34s %10s %10s %7s  %s\n      %s\n", i == r->binding ? '*' : ' ', title,
		       cps, cap, held, l->formula, l->note);
		if (in->rate > 0 && l->fill_s > 0)
			printf("      at %.0f/s: %.0f%% of it, full after %.1fs\n", in->rate,
			       l->load_pct, l->fill_s);
		else if (in->rate > 0)
			printf("      at %.0f/s: %.0f%% of it\n", in->rate, l->load_pct);
	}
	printf("  (* binding: the lowest limit past which connections fail; soft: degrades or\n"
	       "   changes behaviour without errors; ~ estimate)\n");
}

/* `ctload model`'s command line. */
struct model_opts {
	const char *file;
	char **sets;
	size_t nsets;
	bool json;
};

/* Read the options into o: -1 to go on, else the exit code. */
static int model_parse(int argc, char **argv, struct model_opts *o)
{
	static const struct option opts[] = {
	    {"set", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': {
			char **n = realloc(o->sets, (o->nsets + 1) * sizeof(*n));

			if (!n) {
				ct_error("model: out of memory");
				return CT_EXIT_USAGE;
			}
			o->sets = n;
			o->sets[o->nsets++] = optarg;
			break;
		}
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return CT_EXIT_OK;
		default:
			ct_error(
			    "model: unknown or incomplete option '%s' (try 'ctload model --help')",
			    argv[optind - 1]);
			return CT_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		ct_error("model: expected one scenario FILE, got %d (try 'ctload model --help')",
			 argc - optind);
		return CT_EXIT_USAGE;
	}
	o->file = argv[optind];
	return -1;
}

/* {scenario, model, explain, sources}: the form summary.json records, plus
 * the words and where each value came from. Returns the exit code. */
static int print_json(const char *file, const struct ct_model_input *in,
		      const struct ct_model_result *r, char *src, const char *words)
{
	json_t *j = ct_model_to_json(in, r), *root = json_object(), *srcs = json_array();
	char *dump = NULL;

	if (j && root && srcs) {
		char *save = NULL;

		for (char *t = strtok_r(src, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
			json_array_append_new(srcs, json_string(t));
		json_object_set_new(root, "scenario", json_string(file));
		json_object_set_new(root, "model", j);
		j = NULL;
		json_object_set_new(root, "explain", json_string(words));
		json_object_set_new(root, "sources", srcs);
		srcs = NULL;
		dump = json_dumps(root, JSON_INDENT(2));
	}
	json_decref(j);
	json_decref(srcs);
	json_decref(root);
	if (!dump) {
		ct_error("model: out of memory building JSON");
		return CT_EXIT_ENV;
	}
	printf("%s\n", dump);
	free(dump);
	return CT_EXIT_OK;
}

/* The inputs, the table of limits, the words, and the sources, for people. */
static void print_text(const char *file, const struct ct_model_input *in,
		       const struct ct_model_result *r, char *src, const char *words)
{
	char *save = NULL;

	printf("Model of %s (no traffic)\n", file);
	printf("  client: ports %u-%u (%u reserved), tw_reuse=%d, reuse delay %u ms, %u client "
	       "IP(s)%s\n",
	       in->port_lo, in->port_hi, in->reserved_in_range, in->tw_reuse, in->reuse_delay_ms,
	       in->clients, in->loopback ? ", loopback target" : "");
	printf("  server: %u port(s), closes first: %s, backlog %d (somaxconn %d)\n",
	       in->server_ports, ct_model_closer_name(in->closer), in->backlog, in->somaxconn);
	printf("  conntrack: %s, max %llu, time_wait %gs, close %gs%s\n",
	       ct_model_ct_where_name(in->ct_where), (unsigned long long)in->ct_max,
	       in->ct_timeout_s[CT_MST_TIME_WAIT], in->ct_timeout_s[CT_MST_CLOSE],
	       in->nat ? "; NAT on the path" : "");
	if (in->rate > 0) {
		char rb[32];

		printf("  offered rate: %s\n", ct_fmt_rate(in->rate, rb, sizeof(rb)));
	}
	printf("\n");
	print_table(in, r);
	printf("\n%s", words);
	printf("\nWhere the values came from:\n");
	for (char *t = strtok_r(src, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		printf("  %s\n", t);
}

/* Load the scenario, compute and print: the exit code. */
static int model_run(const struct model_opts *o)
{
	struct ct_err err = {0};
	struct ct_scenario *sc;
	struct ct_hostinfo hi;
	struct ct_model_input in;
	struct ct_model_result r;
	char src[2048], words[2048];
	bool have_hi;
	int rc = CT_EXIT_USAGE;

	if (!(sc = ct_scenario_load(o->file, o->sets, o->nsets, &err))) {
		ct_error("%s", err.msg);
		return CT_EXIT_USAGE;
	}
	have_hi = ct_hostinfo_read(&hi, NULL) == 0;
	if (!have_hi)
		ct_warn("model: could not read this host's settings under /proc; using kernel "
			"defaults");
	ct_model_input_from_scenario(&in, sc, have_hi ? &hi : NULL, src, sizeof(src));
	if (ct_model_compute(&in, &r) < 0) {
		ct_error("model: %s: the settings make no sense together (port range %u-%u, %u "
			 "client IPs, %u server ports); fix the scenario",
			 o->file, in.port_lo, in.port_hi, in.clients, in.server_ports);
		goto out;
	}
	ct_model_explain(&in, &r, words, sizeof(words));
	if (o->json) {
		rc = print_json(o->file, &in, &r, src, words);
	} else {
		print_text(o->file, &in, &r, src, words);
		rc = CT_EXIT_OK;
	}
out:
	ct_scenario_free(sc);
	return rc;
}

int ct_cmd_model(int argc, char **argv)
{
	struct model_opts o = {0};
	int rc = model_parse(argc, argv, &o);

	if (rc < 0)
		rc = model_run(&o);
	free(o.sets);
	return rc;
}
