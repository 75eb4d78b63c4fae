#include "loadgen/run/judge.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/base/err.h"
#include "loadgen/engine/cause.h"
#include "loadgen/probe/failwatch.h"
#include "loadgen/scenario/expr.h"

/* Names in base units: seconds, per second, fractions, counts. */
int ct_judge_lookup(void *arg, const char *name, double *value)
{
	const struct ct_judge_ctx *lc = arg;
	static const struct {
		const char *prefix, *field;
		double scale;
	} lat[] = {
	    {"connect.", "connect_ms", 1e-3},
	    {"total.", "total_ms", 1e-3},
	    {"connect_call.", "connect_call_us", 1e-6},
	};
	if (!strcmp(name, "threshold")) {
		const json_t *th = json_object_get(lc->summary, "thresholds");
		size_t n = json_array_size(th);
		if (!n)
			return -ENOENT;
		/* A point that failed without a measurable limit showed no rate
		 * that holds: its threshold is 0, so "threshold >= X" fails
		 * (exit 1) rather than being an unknown name (exit 2). */
		if (ct_json_num(json_object_get(json_array_get(th, n - 1), "measured_cps"), value) <
		    0)
			*value = 0;
		return 0;
	}
	if (!lc->step)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]); i++) {
		size_t pl = strlen(lat[i].prefix);
		if (!strncmp(name, lat[i].prefix, pl)) {
			const json_t *o = CT_JSON_GET(lc->step, lat[i].field, name + pl);
			if (ct_json_num(o, value) < 0)
				return -ENOENT;
			*value *= lat[i].scale;
			return 0;
		}
	}
	if (!strcmp(name, "rate.achieved")) {
		/* The achieved rate as a fraction of the scheduled one. */
		double a, t;
		if (ct_json_num(json_object_get(lc->step, "rate_achieved"), &a) < 0 ||
		    ct_json_num(json_object_get(lc->step, "rate_target"), &t) < 0 || t <= 0)
			return -ENOENT;
		*value = a / t;
		return 0;
	}
	if ((!strncmp(name, "ct.", 3) && !json_object_get(lc->step, "ct")) ||
	    (!strncmp(name, "tw.", 3) && !json_object_get(lc->step, "tw")) ||
	    (!strncmp(name, "neigh.", 6) && !json_object_get(lc->step, "neigh"))) {
		/* topology = host samples no conntrack or TIME_WAIT: nothing
		 * observed reads as 0, so the default fail_when works there. */
		*value = 0;
		return 0;
	}
	if (!strcmp(name, "cpu_per_conn")) {
		if (ct_json_num(json_object_get(lc->step, "cpu_per_conn_us"), value) < 0)
			return -ENOENT;
		*value *= 1e-6;
		return 0;
	}
	if (!strncmp(name, "first_failure.", 14)) {
		/* A step where nothing ran out has no time: no value, so a
		 * comparison with it is false rather than an unknown name. */
		for (int f = 0; f < CT_FIRST_N; f++)
			if (!strcmp(name + 14, ct_failwatch_key(f))) {
				if (ct_json_num(ct_json_path(lc->step, name), value) < 0)
					*value = NAN;
				return 0;
			}
		return -ENOENT;
	}
	if (!strcmp(name, "failed")) {
		const json_t *f = json_object_get(lc->step, "failures");
		const char *k;
		const json_t *v;
		double sum = 0, x;
		json_object_foreach((json_t *)f, k, v) if (!ct_json_num(v, &x)) sum += x;
		*value = sum;
		return 0;
	}
	return ct_json_num(ct_json_path(lc->step, name), value);
}

/* A step with every numeric field the steps of a run carry, all 0 (the
 * trial's result, failwatch's first_failure, a search trial's rate, the
 * sustain proof's sustained, horizon_s and sustain{} and, in a lab, the
 * lab's ct, tw and tuples): a name ct_judge_lookup cannot find here, no
 * step of the run will have. */
static json_t *step_shape(unsigned has)
{
	json_t *s =
	    json_pack("{s:i, s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f,"
		      " s:f, s:f, s:i}",
		      "step", 0, "rate_target", 1.0, "rate_achieved", 0.0, "duration_s", 0.0,
		      "wall_s", 0.0, "threads", 0, "scheduled", 0, "attempted", 0, "established", 0,
		      "completed", 0, "unsent", 0, "inflight_peak", 0, "errors", 0.0,
		      "connect_busy", 0.0, "cpu_per_conn_us", 0.0, "syn_retrans", 0);
	json_t *f = json_object(), *ff = json_object();

	if (!s || !f || !ff)
		goto fail;
	for (int c = 0; c < CT_FAIL_N; c++)
		json_object_set_new(f, ct_fail_name(c), json_integer(0));
	for (int c = 0; c < CT_FIRST_N; c++)
		json_object_set_new(ff, ct_failwatch_key(c), json_real(0));
	json_object_set_new(s, "failures", f);
	json_object_set_new(s, "first_failure", ff);
	json_object_set_new(s, "connect_ms",
			    json_pack("{s:i, s:i, s:i, s:i, s:i}", "p50", 0, "p90", 0, "p99", 0,
				      "max", 0, "mean", 0));
	json_object_set_new(s, "total_ms", json_deep_copy(json_object_get(s, "connect_ms")));
	json_object_set_new(s, "connect_call_us",
			    json_pack("{s:i, s:i, s:i}", "p50", 0, "p99", 0, "max", 0));
	json_object_set_new(s, "cpu", json_pack("{s:f, s:f}", "user", 0.0, "sys", 0.0));
	json_object_set_new(s, "engine", json_pack("{s:i}", "conn_bytes", 0));
	if (has & CT_JUDGE_HAS_SEARCH)
		json_object_set_new(s, "search", json_pack("{s:f}", "rate", 0.0));
	if (has & CT_JUDGE_HAS_SUSTAIN) {
		json_object_set_new(s, "sustained", json_true());
		json_object_set_new(s, "horizon_s", json_real(0));
		json_object_set_new(s, "sustain",
				    json_pack("{s:f, s:f}", "settle_s", 0.0, "elapsed_s", 0.0));
	}
	if (has & CT_JUDGE_HAS_LAB) {
		json_object_set_new(s, "ct",
				    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "peak", 0,
					      "limit", 0, "drop", 0, "early_drop", 0, "insert_failed",
					      0, "chaintoolong", 0, "preloaded", 0));
		json_object_set_new(s, "tw",
				    json_pack("{s:i, s:i}", "client_peak", 0, "server_peak", 0));
		json_object_set_new(s, "tuples",
				    json_pack("{s:i, s:i}", "space", 0, "in_use_peak", 0));
		json_object_set_new(s, "neigh",
				    json_pack("{s:i, s:i}", "table_fulls", 0, "unresolved_discards",
					      0));
		json_object_set_new(s, "listen", json_pack("{s:i, s:i}", "overflows", 0, "drops", 0));
		json_object_set_new(s, "dev", json_pack("{s:i, s:i}", "rx_drop", 0, "tx_drop", 0));
	}
	/* Counts only: its connect_ms_max is in ms, not a condition's seconds. */
	if (has & CT_JUDGE_HAS_BYSTANDER)
		json_object_set_new(s, "bystander",
				    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "attempted", 0,
					      "connected", 0, "failed", 0, "timeouts", 0,
					      "syn_retrans", 0, "slow", 0));
	return s;
fail:
	json_decref(s);
	json_decref(f);
	json_decref(ff);
	return NULL;
}

int ct_judge_check_names(const struct ct_expr *e, unsigned has, const char **unknown)
{
	json_t *step = step_shape(has);
	json_t *summary = has & CT_JUDGE_HAS_THRESHOLD
			      ? json_pack("{s:[{s:f}]}", "thresholds", "measured_cps", 0.0)
			      : json_pack("{s:[]}", "thresholds");
	struct ct_judge_ctx lc = {.step = step, .summary = summary};
	int rc = step && summary ? 0 : -ENOMEM;
	double v;

	*unknown = NULL;
	for (size_t i = 0; rc == 0 && i < ct_expr_var_count(e); i++) {
		if (ct_judge_lookup(&lc, ct_expr_var(e, i), &v) < 0) {
			*unknown = ct_expr_var(e, i);
			rc = -ENOENT;
		}
	}
	json_decref(step);
	json_decref(summary);
	return rc;
}

/* A condition that does not parse, or names a variable no step will have:
 * an error naming its line or the --set that gave it. An exit code. */
static int check_cond(const struct ct_scenario *sc, const struct ct_cond *c, const char *what,
		      unsigned has)
{
	struct ct_err eerr = {0};
	struct ct_expr *e = ct_expr_parse(c->text, &eerr);
	const char *unknown = NULL, *u2;
	bool lab = sc->scenario.topology == CT_TOPO_LAB;
	char where[400];

	has |= (lab ? CT_JUDGE_HAS_LAB : 0) | (sc->search.enabled ? CT_JUDGE_HAS_SEARCH : 0) |
	       (sc->load.sustain != CT_SUSTAIN_OFF ? CT_JUDGE_HAS_SUSTAIN : 0) |
	       (lab && sc->lab.bystander > 0 ? CT_JUDGE_HAS_BYSTANDER : 0);
	ct_cond_where(sc, c, what, where, sizeof(where));
	if (!e) {
		ct_error("%s: %s", where, eerr.msg);
		return CT_EXIT_USAGE;
	}
	if (ct_judge_check_names(e, has, &unknown) == -ENOENT)
		ct_error("%s: unknown variable '%s'%s (see ctload(1), EXPECT VARIABLES)", where,
			 unknown,
			 !lab && ct_judge_check_names(e, has | CT_JUDGE_HAS_LAB, &u2) == 0
			     ? " in topology = host (only a lab samples it)"
			     : "");
	ct_expr_free(e);
	return unknown ? CT_EXIT_USAGE : CT_EXIT_OK;
}

int ct_judge_check_conditions(const struct ct_scenario *sc)
{
	/* fail_when judges a step while its point runs: no threshold yet. */
	if (check_cond(sc, &sc->search.fail_when, "[search] fail_when", 0) != CT_EXIT_OK)
		return CT_EXIT_USAGE;
	for (size_t i = 0; i < sc->n_expect; i++)
		if (check_cond(sc, &sc->expect[i], "[expect]", CT_JUDGE_HAS_THRESHOLD) !=
		    CT_EXIT_OK)
			return CT_EXIT_USAGE;
	return CT_EXIT_OK;
}

/* Evaluate every [expect]; record each in summary.expect. Returns the exit
 * code: OK, EXPECT (one failed) or USAGE (a condition is malformed or names
 * an unknown variable). */
int ct_judge_expect(const struct ct_scenario *sc, json_t *summary)
{
	json_t *steps = json_object_get(summary, "steps");
	struct ct_judge_ctx lc = {
	    .step = json_array_get(steps, json_array_size(steps) ? json_array_size(steps) - 1 : 0),
	    .summary = summary,
	};
	json_t *out = json_object_get(summary, "expect");
	int code = CT_EXIT_OK;
	/* A gate passes a configuration only when its step is proven to hold
	 * longer than it ran (run/sustain.h), unless [load] sustain = off. */
	const char *uns = json_string_value(json_object_get(lc.step, "verdict"));
	if (sc->n_expect > 0 && uns && !strcmp(uns, "unsustained")) {
		const char *why = json_string_value(json_object_get(lc.step, "fail_reason"));
		json_array_append_new(out, json_pack("{s:s, s:i, s:b, s:s}", "text",
						     "the last step is sustained", "line", 0,
						     "held", false, "why", why ? why : ""));
		ct_error("%s: expect failed: the last step held for %.0f s but is not proven "
			 "sustained: %s",
			 sc->path, ct_json_d(lc.step, "duration_s"), why ? why : "");
		code = CT_EXIT_EXPECT;
	}
	for (size_t i = 0; i < sc->n_expect; i++) {
		const struct ct_cond *c = &sc->expect[i];
		struct ct_err err = {0};
		char why[512] = "";
		bool held = false;
		char where[400];
		struct ct_expr *e = ct_expr_parse(c->text, &err);
		ct_cond_where(sc, c, "[expect]", where, sizeof(where));
		if (!e) {
			ct_error("%s: %s", where, err.msg);
			code = CT_EXIT_USAGE;
			continue;
		}
		int rc = ct_expr_eval(e, ct_judge_lookup, &lc, &held, why, sizeof(why));
		ct_expr_free(e);
		if (rc < 0) {
			ct_error("%s: %s (see ctload(1), EXPECT VARIABLES)", where, why);
			code = CT_EXIT_USAGE;
			continue;
		}
		json_array_append_new(out, json_pack("{s:s, s:i, s:b, s:s}", "text", c->text,
						     "line", c->line, "held", held, "why", why));
		if (!held) {
			if (c->set[0])
				ct_error("%s: expect failed (%s)", c->set, why);
			else
				ct_error("%s:%d: expect failed: %s (%s)", sc->path, c->line,
					 c->text, why);
			if (code == CT_EXIT_OK)
				code = CT_EXIT_EXPECT;
		} else {
			ct_info("expect held: %s (%s)", c->text, why);
		}
	}
	return code;
}

/* Time inside connect() past which the port search is what slows it:
 * a free port is found in a few microseconds; the cliff measured on this
 * kind of lab went from 10 us to 100 ms. */
#define CT_PORT_SEARCH_SLOW_US 1000.0
/* Or: the client threads spend most of their time inside connect(), and a
 * call takes longer than a whole loopback handshake does (10-100 us p99).
 * One client thread on a full range: 700 us per call, 95 % of the thread,
 * 12k/s falling to 1.4k/s, with no call reaching CT_PORT_SEARCH_SLOW_US. */
#define CT_PORT_SEARCH_BUSY    0.5
#define CT_PORT_SEARCH_BUSY_US 200.0
/* The share of the lab's 4-tuples the client must hold for a slow connect()
 * to be its port search: the search's expected length is 1 / (1 - share),
 * two tries at one half. */
#define CT_PORT_SEARCH_HELD 0.5

/* The figures of a step that tell why it failed. */
struct figures {
	double eaddr, drop, insert, chain, timeout, call_p99, achieved, target, emfile, refused, reset,
	    protocol, busy;
	/* Drops outside conntrack the lab counted (0 in topology = host). */
	double neigh_full, neigh_unres, listen_over, listen_drop, dev_rx, dev_tx;
	/* The 4-tuples the lab offers and the most the client held (0: not
	 * known, as in topology = host). */
	double tuple_space, tuple_peak;
	const char *errs; /* "few errors" or "no error at all", for the port-search sentences */
};

/* failures.<cause> of a step, 0 when absent. */
static double failures_of(const json_t *step, enum ct_fail f)
{
	double v = 0;
	ct_json_num(CT_JSON_GET(step, "failures", ct_fail_name(f)), &v);
	return v;
}

static void read_figures(const json_t *step, struct figures *f)
{
	f->eaddr = failures_of(step, CT_FAIL_EADDRNOTAVAIL);
	f->drop = ct_json_d(step, "ct.drop");
	f->insert = ct_json_d(step, "ct.insert_failed");
	f->chain = ct_json_d(step, "ct.chaintoolong");
	f->timeout = failures_of(step, CT_FAIL_TIMEOUT);
	f->call_p99 = ct_json_d(step, "connect_call_us.p99");
	f->achieved = ct_json_d(step, "rate_achieved");
	f->target = ct_json_d(step, "rate_target");
	f->emfile = failures_of(step, CT_FAIL_EMFILE);
	f->refused = failures_of(step, CT_FAIL_REFUSED);
	f->reset = failures_of(step, CT_FAIL_RESET);
	f->protocol = failures_of(step, CT_FAIL_PROTOCOL);
	f->busy = ct_json_d(step, "connect_busy");
	f->tuple_space = ct_json_d(step, "tuples.space");
	f->tuple_peak = ct_json_d(step, "tuples.in_use_peak");
	f->neigh_full = ct_json_d(step, "neigh.table_fulls");
	f->neigh_unres = ct_json_d(step, "neigh.unresolved_discards");
	f->listen_over = ct_json_d(step, "listen.overflows");
	f->listen_drop = ct_json_d(step, "listen.drops");
	f->dev_rx = ct_json_d(step, "dev.rx_drop");
	f->dev_tx = ct_json_d(step, "dev.tx_drop");
	f->errs = f->eaddr + f->timeout + f->refused + f->reset + f->protocol > 0
		      ? "few errors"
		      : "no error at all";
}

/* Packets lost outside conntrack where the lab can see it: the neighbour
 * table (the whole host's, so only with timeouts to explain), the server's
 * listen queue, a device. NULL when no such counter moved. */
static const char *cause_dropped(const struct figures *f, char *text, size_t len)
{
	if (f->timeout > 0 && f->neigh_full + f->neigh_unres > 0) {
		snprintf(text, len,
			 "the kernel's neighbour table was full: it failed %.0f times to make an "
			 "entry (arp_cache table_fulls) and dropped %.0f packets waiting for an "
			 "address (unresolved_discards); %.0f connections timed out (raise "
			 "net.ipv4.neigh.default.gc_thresh3 in [sysctl.host])",
			 f->neigh_full, f->neigh_unres, f->timeout);
		return "neighbours";
	}
	if (f->listen_drop + f->listen_over > 0) {
		snprintf(text, len,
			 "the server's listen queue was full: it dropped %.0f SYNs or handshakes "
			 "(TcpExt ListenDrops; ListenOverflows %.0f); %.0f connections timed out "
			 "(the server accepts too slowly for the rate: raise [server] backlog and "
			 "net.core.somaxconn, or give it more workers)",
			 f->listen_drop > f->listen_over ? f->listen_drop : f->listen_over,
			 f->listen_over, f->timeout);
		return "listen_backlog";
	}
	if (f->timeout > 0 && f->dev_rx + f->dev_tx > 0) {
		snprintf(text, len,
			 "the lab's network devices dropped packets (%.0f received, %.0f sent, as "
			 "'ip -s link' counts them); %.0f connections timed out",
			 f->dev_rx, f->dev_tx, f->timeout);
		return "device";
	}
	return NULL;
}

/* A table that ran out: client ports (counted, or seen as a slow port
 * search), conntrack entries, NAT ports, or packets dropped outside
 * conntrack. NULL when none did. */
static const char *cause_exhausted(const struct figures *f, char *text, size_t len)
{
	const char *dropped;

	if (f->eaddr > 0) {
		snprintf(text, len,
			 "the client ran out of ephemeral ports: %.0f connect() calls failed with "
			 "EADDRNOTAVAIL (every port of the range held, most in TIME_WAIT)",
			 f->eaddr);
		return "client_ports";
	}
	if (f->drop > 0) {
		snprintf(text, len,
			 "the conntrack table was full: the kernel dropped %.0f packets (\"table "
			 "full, dropping packet\"), %.0f connections timed out",
			 f->drop, f->timeout);
		return "conntrack";
	}
	/* Before the NAT: a chain past the kernel's cap also counts as
	 * insert_failed, and a huge max over few buckets hits it first. */
	if (f->chain > 0) {
		snprintf(text, len,
			 "conntrack refused %.0f inserts because a hash chain was past the kernel's "
			 "cap of 50-79 entries (chaintoolong), with the table short of its max: "
			 "their SYNs were dropped silently, %.0f connections timed out",
			 f->chain, f->timeout);
		return "ct_chains";
	}
	if (f->insert > 0) {
		snprintf(text, len,
			 "conntrack could not insert %.0f new entries (NAT found no free source "
			 "port): their SYNs were dropped silently",
			 f->insert);
		return "nat_ports";
	}
	if ((dropped = cause_dropped(f, text, len)))
		return dropped;
	/* A slow connect() is the port search only when the ports are mostly
	 * held: with the client's sockets at a few percent of the tuples it
	 * offers, a loaded CPU is what slowed the call (seen in the image-server
	 * lab: p99 past 1 ms with 214 of 451,712 tuples held). */
	if (f->tuple_space > 0 && f->tuple_peak < CT_PORT_SEARCH_HELD * f->tuple_space)
		return NULL;
	if (f->call_p99 < CT_PORT_SEARCH_SLOW_US && f->busy >= CT_PORT_SEARCH_BUSY &&
	    f->call_p99 >= CT_PORT_SEARCH_BUSY_US && f->target > 0 &&
	    f->achieved < 0.95 * f->target) {
		snprintf(text, len,
			 "the client spent %.0f%% of its time inside connect() (%.2f ms a call, "
			 "p99) searching the port range for a free port as it filled with "
			 "TIME_WAIT: it fell to %.0f of %.0f conn/s with %s",
			 f->busy * 100, f->call_p99 / 1000, f->achieved, f->target, f->errs);
		return "client_ports";
	}
	if (f->call_p99 >= CT_PORT_SEARCH_SLOW_US) {
		snprintf(text, len,
			 "connect() itself slowed to %.1f ms (p99) searching the port range for a "
			 "free port as it filled with TIME_WAIT: the client fell to %.0f of %.0f "
			 "conn/s with %s",
			 f->call_p99 / 1000, f->achieved, f->target, f->errs);
		return "client_ports";
	}
	return NULL;
}

const char *ct_judge_cause(const json_t *step, char *text, size_t len)
{
	struct figures f;
	const char *limit;

	read_figures(step, &f);
	if ((limit = cause_exhausted(&f, text, len)))
		return limit;
	if (f.refused + f.reset + f.protocol > 0) {
		snprintf(
		    text, len,
		    "the server refused %.0f, reset %.0f and answered %.0f connections wrongly",
		    f.refused, f.reset, f.protocol);
		return "server";
	}
	if (f.emfile > 0) {
		snprintf(text, len, "the client ran out of file descriptors (%.0f EMFILE)",
			 f.emfile);
		return "client";
	}
	if (f.timeout > 0) {
		snprintf(text, len,
			 "%.0f connections timed out without a drop counted in the lab (SYNs or "
			 "replies lost elsewhere)",
			 f.timeout);
		return "unknown";
	}
	if (f.target > 0 && f.achieved < 0.95 * f.target) {
		snprintf(text, len,
			 "the client reached only %.0f of %.0f conn/s with no error and connect() "
			 "fast: its own CPU or the server's was the limit",
			 f.achieved, f.target);
		return "client";
	}
	snprintf(text, len, "no resource ran out; the condition itself failed");
	return "unknown";
}

enum ct_judge_why ct_judge_why(const json_t *step)
{
	char text[512];
	const char *limit = ct_judge_cause(step, text, sizeof(text));

	/* ct_judge_cause decides; within one limit name, the branch it took
	 * follows from the figure that branch tests first. */
	if (!strcmp(limit, "client_ports"))
		return ct_json_d(step, "failures.eaddrnotavail") > 0 ? CT_JUDGE_PORTS
								     : CT_JUDGE_PORT_SEARCH;
	if (!strcmp(limit, "conntrack"))
		return CT_JUDGE_CONNTRACK;
	if (!strcmp(limit, "nat_ports"))
		return CT_JUDGE_NAT_PORTS;
	if (!strcmp(limit, "ct_chains"))
		return CT_JUDGE_CT_CHAINS;
	if (!strcmp(limit, "neighbours"))
		return CT_JUDGE_NEIGH;
	if (!strcmp(limit, "listen_backlog"))
		return CT_JUDGE_LISTEN;
	if (!strcmp(limit, "device"))
		return CT_JUDGE_DEVICE;
	if (!strcmp(limit, "server"))
		return CT_JUDGE_SERVER;
	if (!strcmp(limit, "client"))
		return ct_json_d(step, "failures.emfile") > 0 ? CT_JUDGE_EMFILE : CT_JUDGE_SLOW;
	return ct_json_d(step, "failures.timeout") > 0 ? CT_JUDGE_TIMEOUT : CT_JUDGE_CONDITION;
}
