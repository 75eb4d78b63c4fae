/* cmd_check — `ctload check [--json] [--interval DURATION]`: this host's
 * live limits, the load on them now, and sysctl advice sized from its RAM.
 *
 * Read-only and unprivileged: it reads procfs twice, an interval apart, and
 * changes nothing. Rates come from counter deltas (Tcp ActiveOpens and
 * PassiveOpens, conntrack count), so a quiet host shows full headroom. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/units.h"
#include "loadgen/cli/cli.h"
#include "loadgen/host/hostinfo.h"
#include "loadgen/model/model.h"

/* Listening ports this host may have that a port range must not cover. */
#define MAX_LISTEN 4096

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ctload check [--json] [--interval DURATION]\n"
		"Show this host's limits on short-lived TCP connections (ephemeral ports,\n"
		"TIME_WAIT, conntrack), the load on each over a short interval, the binding\n"
		"limit, and the sysctl lines to change with the memory they cost. Read-only;\n"
		"needs no privileges.\n\n"
		"  --interval D  how long to measure connection rates (default 3s; 0 = no rates)\n"
		"  --json        print the result as JSON\n"
		"  -h, --help    this text\n\n"
		"Exit: 0 printed, 2 bad usage, 3 procfs unreadable. See ctload(1).\n");
}

struct row {
	const struct ct_limit *l;
	double load_cps;  /* now, from the counters; NAN when not measured */
	double headroom;  /* % of the limit left at that load */
	double occupancy; /* % of the capacity in use now, NAN if unknown */
	const char *load_from;
};

struct check {
	struct ct_hostinfo hi;
	struct ct_model_input in;
	struct ct_model_result res;
	struct ct_host_counters c0, c1;
	double interval_s;
	bool rates;
	double active_cps, passive_cps, ct_growth_cps;
	struct row rows[CT_LIMIT_N];
	size_t nrows;
	struct ct_model_advice adv[CT_MODEL_ADVICE_MAX];
	size_t nadv;
	uint16_t listen[MAX_LISTEN];
	size_t nlisten;
};

static void build_rows(struct check *ck)
{
	const struct ct_hostinfo *hi = &ck->hi;

	for (int i = 0; i < CT_LIMIT_N; i++) {
		const struct ct_limit *l = &ck->res.limits[i];
		struct row *r;

		if (!l->applies)
			continue;
		r = &ck->rows[ck->nrows++];
		r->l = l;
		r->load_cps = NAN;
		r->occupancy = NAN;
		r->load_from = "";
		switch (l->id) {
		case CT_LIMIT_CLIENT_PORTS:
		case CT_LIMIT_CONNECT_CLIFF:
			r->load_cps = ck->active_cps;
			r->load_from = "ActiveOpens/s, as if all to one destination";
			break;
		case CT_LIMIT_CONNTRACK:
			r->load_cps = ck->active_cps + ck->passive_cps;
			r->load_from = "(ActiveOpens + PassiveOpens)/s";
			if (hi->ct_max)
				r->occupancy = (double)ck->c1.ct_count / (double)hi->ct_max * 100.0;
			break;
		case CT_LIMIT_TW_CLIENT:
		case CT_LIMIT_TW_SERVER:
			r->load_cps = ck->active_cps + ck->passive_cps;
			r->load_from = "(ActiveOpens + PassiveOpens)/s";
			if (hi->tw_buckets)
				r->occupancy = (double)ck->c1.tw / (double)hi->tw_buckets * 100.0;
			break;
		default:
			break;
		}
		if (!ck->rates)
			r->load_cps = NAN;
		r->headroom = isnan(r->load_cps) || l->predicted_cps <= 0
				  ? NAN
				  : (1.0 - r->load_cps / l->predicted_cps) * 100.0;
	}
}

static void fmt_pct(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f%%", v);
}

static void print_text(const struct check *ck)
{
	const struct ct_hostinfo *hi = &ck->hi;
	const struct ct_limit *b = ct_model_binding(&ck->res);
	char s1[32];

	printf("This host (kernel %s, RAM %s)\n", hi->kernel[0] ? hi->kernel : "?",
	       hi->have_mem_total ? ct_fmt_size(hi->mem_total, s1, sizeof(s1)) : "?");
	if (hi->have_port_range)
		printf("  net.ipv4.ip_local_port_range = %u %u  (%u ports)\n", hi->port_lo,
		       hi->port_hi, hi->port_hi - hi->port_lo + 1);
	if (hi->reserved_ports[0])
		printf("  net.ipv4.ip_local_reserved_ports = %s\n", hi->reserved_ports);
	if (hi->have_tw_reuse)
		printf("  net.ipv4.tcp_tw_reuse = %d\n", hi->tw_reuse);
	printf("  net.ipv4.tcp_tw_reuse_delay = %u%s\n", hi->reuse_delay_ms,
	       hi->have_reuse_delay ? "" : "  (no sysctl before 6.14: fixed at 1 s)");
	if (hi->have_tw_buckets)
		printf("  net.ipv4.tcp_max_tw_buckets = %llu\n",
		       (unsigned long long)hi->tw_buckets);
	if (hi->have_somaxconn)
		printf("  net.core.somaxconn = %d\n", hi->somaxconn);
	if (hi->conntrack) {
		printf("  net.netfilter.nf_conntrack_max = %llu\n", (unsigned long long)hi->ct_max);
		printf("  net.netfilter.nf_conntrack_buckets = %llu  (%.1f entries a bucket when "
		       "full)\n",
		       (unsigned long long)hi->ct_buckets,
		       ct_model_entries_per_bucket(hi->ct_max, hi->ct_buckets));
		printf("  net.netfilter.nf_conntrack_tcp_timeout_time_wait = %g\n",
		       ck->in.ct_timeout_s[CT_MST_TIME_WAIT]);
	} else {
		printf("  nf_conntrack is not loaded: no conntrack limit\n");
	}
	if (ck->rates)
		printf("\nOver %.1fs: %.1f outgoing and %.1f incoming connections/s; TIME_WAIT now "
		       "%llu; conntrack now %llu (%+.1f/s)%s\n",
		       ck->interval_s, ck->active_cps, ck->passive_cps,
		       (unsigned long long)ck->c1.tw, (unsigned long long)ck->c1.ct_count,
		       ck->ct_growth_cps,
		       ck->c1.ct_drop > ck->c0.ct_drop ? "; conntrack DROPPING" : "");
	printf("\n  %-34s %10s %10s %9s %9s  %s\n", "LIMIT", "PREDICTED", "LOAD NOW", "HEADROOM",
	       "IN USE", "FORMULA");
	for (size_t i = 0; i < ck->nrows; i++) {
		const struct row *r = &ck->rows[i];
		char cps[32], load[32], head[16], occ[16];

		snprintf(cps, sizeof(cps), r->l->predicted_cps < 10000 ? "%.1f/s" : "%.0f/s",
			 r->l->predicted_cps);
		if (isnan(r->load_cps))
			snprintf(load, sizeof(load), "-");
		else
			snprintf(load, sizeof(load), "%.1f/s", r->load_cps);
		fmt_pct(r->headroom, head, sizeof(head));
		fmt_pct(r->occupancy, occ, sizeof(occ));
		printf("%c %-34s %10s %10s %9s %9s  %s%s\n", r->l == b ? '*' : ' ', r->l->title,
		       cps, load, head, occ, r->l->formula, r->l->estimate ? " (estimate)" : "");
	}
	printf("  (client limits are per destination IP and port; load assumes one "
	       "destination)\n");
	if (b)
		printf("\nBinding: %s at %.1f/s for non-loopback destinations.\n", b->title,
		       b->predicted_cps);
	if (ck->nadv) {
		printf("\nAdvice (sysctl.conf lines; check each against what this host does):\n");
		for (size_t i = 0; i < ck->nadv; i++) {
			const struct ct_model_advice *a = &ck->adv[i];

			printf("  %s\n      %s", a->line, a->why);
			if (a->mem_hi)
				printf(" [memory: up to %s]",
				       ct_fmt_size(a->mem_hi, s1, sizeof(s1)));
			printf("\n");
		}
	} else {
		printf("\nNo advice: the settings already match the sizing rules.\n");
	}
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static void json_conntrack_settings(json_t *set, const struct ct_hostinfo *hi)
{
	json_object_set_new(set, "net.netfilter.nf_conntrack_max",
			    json_integer((json_int_t)hi->ct_max));
	json_object_set_new(set, "net.netfilter.nf_conntrack_buckets",
			    json_integer((json_int_t)hi->ct_buckets));
	json_object_set_new(set, "net.netfilter.nf_conntrack_count",
			    json_integer((json_int_t)hi->ct_count));
	for (int s = 0; s < CT_MST_N; s++)
		if (hi->have_ct_timeout[s]) {
			char key[96];

			snprintf(key, sizeof(key), "net.netfilter.nf_conntrack_tcp_timeout_%s",
				 ct_model_ct_state_name((enum ct_model_ct_state)s));
			json_object_set_new(set, key,
					    json_integer((json_int_t)hi->ct_timeout_s[s]));
		}
}

/* The host's settings as procfs shows them (sysctl names as keys). NULL
 * when out of memory. */
static json_t *json_settings(const struct ct_hostinfo *hi)
{
	json_t *set = json_object();

	if (!set)
		return NULL;
	json_object_set_new(set, "kernel", json_string(hi->kernel));
	if (hi->have_mem_total)
		json_object_set_new(set, "mem_total_bytes",
				    json_integer((json_int_t)hi->mem_total));
	if (hi->have_port_range)
		json_object_set_new(set, "net.ipv4.ip_local_port_range",
				    json_pack("[ii]", (int)hi->port_lo, (int)hi->port_hi));
	json_object_set_new(set, "net.ipv4.ip_local_reserved_ports",
			    json_string(hi->reserved_ports));
	if (hi->have_tw_reuse)
		json_object_set_new(set, "net.ipv4.tcp_tw_reuse", json_integer(hi->tw_reuse));
	json_object_set_new(set, "net.ipv4.tcp_tw_reuse_delay",
			    hi->have_reuse_delay ? json_integer(hi->reuse_delay_ms) : json_null());
	if (hi->have_timestamps)
		json_object_set_new(set, "net.ipv4.tcp_timestamps", json_integer(hi->timestamps));
	if (hi->have_tw_buckets)
		json_object_set_new(set, "net.ipv4.tcp_max_tw_buckets",
				    json_integer((json_int_t)hi->tw_buckets));
	if (hi->have_fin_timeout)
		json_object_set_new(set, "net.ipv4.tcp_fin_timeout", json_integer(hi->fin_timeout));
	if (hi->have_somaxconn)
		json_object_set_new(set, "net.core.somaxconn", json_integer(hi->somaxconn));
	json_object_set_new(set, "conntrack_loaded", json_boolean(hi->conntrack));
	if (hi->conntrack)
		json_conntrack_settings(set, hi);
	if (hi->have_hashsize)
		json_object_set_new(set, "hashsize", json_integer((json_int_t)hi->hashsize));
	return set;
}

/* The load over the interval: rates (null without an interval), counters. */
static json_t *json_load(const struct check *ck)
{
	json_t *rates = json_object();

	if (!rates)
		return NULL;
	json_object_set_new(rates, "interval_s",
			    ck->rates ? json_real(ck->interval_s) : json_null());
	json_object_set_new(rates, "active_opens_per_s",
			    ck->rates ? jnum(ck->active_cps) : json_null());
	json_object_set_new(rates, "passive_opens_per_s",
			    ck->rates ? jnum(ck->passive_cps) : json_null());
	json_object_set_new(rates, "ct_growth_per_s",
			    ck->rates ? jnum(ck->ct_growth_cps) : json_null());
	json_object_set_new(rates, "tw", json_integer((json_int_t)ck->c1.tw));
	json_object_set_new(rates, "ct_count",
			    ck->c1.have_ct ? json_integer((json_int_t)ck->c1.ct_count)
					   : json_null());
	json_object_set_new(rates, "ct_drop_delta",
			    json_integer((json_int_t)(ck->c1.ct_drop - ck->c0.ct_drop)));
	json_object_set_new(rates, "tw_overflow_delta",
			    json_integer((json_int_t)(ck->c1.tw_overflow - ck->c0.tw_overflow)));
	return rates;
}

/* The rows of the table: each limit, the load on it and the headroom. */
static json_t *json_limits(const struct check *ck)
{
	json_t *lims = json_array();

	for (size_t i = 0; lims && i < ck->nrows; i++) {
		const struct row *r = &ck->rows[i];

		json_array_append_new(
		    lims,
		    json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:b,s:b}", "name", r->l->name,
			      "formula", r->l->formula, "predicted_cps", jnum(r->l->predicted_cps),
			      "load_cps", jnum(r->load_cps), "headroom_pct", jnum(r->headroom),
			      "in_use_pct", jnum(r->occupancy), "load_from", r->load_from, "hard",
			      r->l->hard, "estimate", r->l->estimate));
	}
	return lims;
}

static json_t *json_advice(const struct check *ck)
{
	json_t *adv = json_array();

	for (size_t i = 0; adv && i < ck->nadv; i++)
		json_array_append_new(
		    adv, json_pack("{s:s,s:s,s:o}", "sysctl", ck->adv[i].line, "why",
				   ck->adv[i].why, "memory_bytes_max",
				   ck->adv[i].mem_hi ? json_integer((json_int_t)ck->adv[i].mem_hi)
						     : json_null()));
	return adv;
}

static int print_json(const struct check *ck)
{
	const struct ct_limit *b = ct_model_binding(&ck->res);
	json_t *root = json_object(), *set = json_settings(&ck->hi), *rates = json_load(ck);
	json_t *lims = json_limits(ck), *adv = json_advice(ck), *model;
	char *dump;
	int rc = -ENOMEM;

	if (!root || !set || !rates || !lims || !adv)
		goto out;
	json_object_set_new(root, "settings", set);
	set = NULL;
	json_object_set_new(root, "load", rates);
	rates = NULL;
	json_object_set_new(root, "limits", lims);
	lims = NULL;
	json_object_set_new(root, "binding", b ? json_string(b->name) : json_null());
	json_object_set_new(root, "advice", adv);
	adv = NULL;
	if ((model = ct_model_to_json(&ck->in, &ck->res)))
		json_object_set_new(root, "model", model);
	if (!(dump = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS)))
		goto out;
	printf("%s\n", dump);
	free(dump);
	rc = 0;
out:
	json_decref(root);
	json_decref(set);
	json_decref(rates);
	json_decref(lims);
	json_decref(adv);
	return rc;
}

/* check's options: -1 to go on, else the exit code. */
static int check_parse(int argc, char **argv, uint64_t *interval_ns, bool *json)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"interval", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char why[160];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'i':
			if (ct_parse_duration(optarg, interval_ns, why, sizeof(why)) < 0) {
				ct_error("check: --interval: %s", why);
				return CT_EXIT_USAGE;
			}
			if (*interval_ns > 3600ULL * 1000000000ULL) {
				ct_error("check: --interval %s is longer than an hour; use e.g. 3s",
					 optarg);
				return CT_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return CT_EXIT_OK;
		default:
			ct_error(
			    "check: unknown or incomplete option '%s' (try 'ctload check --help')",
			    argv[optind - 1]);
			return CT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ct_error("check: unexpected argument '%s' (try 'ctload check --help')",
			 argv[optind]);
		return CT_EXIT_USAGE;
	}
	return -1;
}

/* Read the settings, and the counters twice interval_ns apart: 0, or the
 * exit code. */
static int measure(struct check *ck, uint64_t interval_ns, bool quiet)
{
	uint64_t t0, t1;
	int rc;

	if (ct_hostinfo_read(&ck->hi, NULL) < 0) {
		ct_error(
		    "check: cannot read this host's settings under /proc/sys; is procfs mounted?");
		return CT_EXIT_ENV;
	}
	if ((rc = ct_hostinfo_counters(&ck->c0, NULL)) < 0) {
		ct_error("check: cannot read /proc/net/snmp: %s", strerror(-rc));
		return CT_EXIT_ENV;
	}
	t0 = ct_now_ns();
	if (interval_ns > 0) {
		struct timespec ts = {(time_t)(interval_ns / 1000000000ULL),
				      (long)(interval_ns % 1000000000ULL)};

		if (!quiet)
			ct_info("check: measuring connection rates for %.1fs", interval_ns / 1e9);
		/* Ctrl-C cuts the wait short; the rates then cover what elapsed. */
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !ct_stop_requested())
			;
	}
	t1 = ct_now_ns();
	ct_hostinfo_counters(&ck->c1, NULL);
	ck->interval_s = (double)(t1 - t0) / 1e9;
	ck->rates = interval_ns > 0 && ck->interval_s > 0.05;
	if (ck->rates) {
		ck->active_cps =
		    (double)(ck->c1.active_opens - ck->c0.active_opens) / ck->interval_s;
		ck->passive_cps =
		    (double)(ck->c1.passive_opens - ck->c0.passive_opens) / ck->interval_s;
		ck->ct_growth_cps =
		    ((double)ck->c1.ct_count - (double)ck->c0.ct_count) / ck->interval_s;
	}
	return 0;
}

/* The model of this host as a client of many peers: 0, or the exit code. */
static int model_host(struct check *ck)
{
	ct_model_input_defaults(&ck->in);
	ct_hostinfo_to_model(&ck->hi, &ck->in);
	ck->in.loopback = false;
	ck->in.closer = CT_MCLOSE_CLIENT;
	ck->in.many_peers = true;
	if (ct_model_compute(&ck->in, &ck->res) < 0) {
		ct_error(
		    "check: this host's settings make no sense to the model (port range %u-%u)",
		    ck->in.port_lo, ck->in.port_hi);
		return CT_EXIT_ENV;
	}
	return 0;
}

int ct_cmd_check(int argc, char **argv)
{
	struct check *ck;
	uint64_t interval_ns = 3000000000ULL;
	bool json = false;
	int rc;

	if ((rc = check_parse(argc, argv, &interval_ns, &json)) >= 0)
		return rc;
	if (!(ck = calloc(1, sizeof(*ck)))) {
		ct_error("check: out of memory");
		return CT_EXIT_ENV;
	}
	if ((rc = measure(ck, interval_ns, json)) != 0 || (rc = model_host(ck)) != 0)
		goto out;
	if (ct_hostinfo_listen_ports(NULL, ck->listen, MAX_LISTEN, &ck->nlisten) < 0)
		ck->nlisten = 0;
	build_rows(ck);
	ck->nadv = ct_model_advise(&ck->hi, &ck->in, ck->listen, ck->nlisten, ck->adv,
				   CT_MODEL_ADVICE_MAX);
	if (json && print_json(ck) < 0) {
		ct_error("check: out of memory building JSON");
		rc = CT_EXIT_ENV;
		goto out;
	}
	if (!json)
		print_text(ck);
	rc = CT_EXIT_OK;
out:
	free(ck);
	return rc;
}
