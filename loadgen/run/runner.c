#include "loadgen/run/runner.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "loadgen/base/err.h"
#include "loadgen/engine/engine.h"
#include "loadgen/scenario/expr.h"
#include "loadgen/host/hostinfo.h"
#include "loadgen/run/judge.h"
#include "loadgen/run/proof.h"
#include "loadgen/lab/lab.h"
#include "loadgen/probe/failwatch.h"
#include "loadgen/probe/metrics.h"
#include "loadgen/probe/probe.h"
#include "loadgen/model/model.h"
#include "loadgen/mpi/dist.h"
#include "loadgen/scenario/plan.h"
#include "loadgen/report/report.h"
#include "loadgen/run/rundir.h"
#include "loadgen/run/search.h"
#include "loadgen/run/table.h"

/* ---- steps ------------------------------------------------------------------- */

struct run_ctx {
	const struct ct_scenario *sc;
	json_t *summary;
	struct ct_rundir *rd;
	struct ct_lab *lab;
	struct ct_trial_target *target;
	uint64_t origin;
	bool live, quiet;
	size_t npts;
	unsigned steps;	    /* steps run so far (the index of the next) */
	const char *label;  /* the sweep point's label */
	size_t point_first; /* index in steps[] of the current point's first step */
	struct ct_probes *probes;
	bool live_view; /* the live view draws: no status line, no point notes */
	struct ct_dist *dist; /* MPI ranks; NULL: alone */
};

static int lab_prepare_step(struct ct_lab *lab, const struct ct_scenario *pt, size_t p,
			    struct ct_trial_target *target, struct ct_trial_opts *to);

/* The trial of one step under its sustain check: with sustain = prove the
 * step runs up to its horizon + margin and ends once proven (or failed);
 * the step gets its sustain fields, and "sustain.why" when not proven. */
static int run_proved(struct run_ctx *rc, const struct ct_scenario *pt, struct ct_trial_opts *to,
		      json_t **res)
{
	/* The topology, not rc->lab: an MPI rank other than 0 has no lab of its
	 * own but must run a step exactly as long as rank 0. */
	struct ct_proof *proof = ct_proof_new(pt, pt->scenario.topology == CT_TOPO_LAB);
	struct ct_scenario *long_pt = NULL;
	int r;

	if (!proof)
		return -ENOMEM;
	uint64_t dur = ct_proof_duration_ns(proof, pt->load.duration_ns);
	if (dur != pt->load.duration_ns) {
		if (!(long_pt = ct_scenario_dup(pt))) {
			ct_proof_free(proof);
			return -ENOMEM;
		}
		long_pt->load.duration_ns = dur;
		long_pt->load.max_connections = 0;
		to->sc = long_pt;
	}
	struct ct_trial_watch watch = ct_proof_watch(proof);
	to->watch = &watch;
	r = ct_trial_run(to, res);
	if (r == 0 && *res && !ct_proof_finish(proof, *res)) {
		char why[512];
		ct_proof_why(proof, why, sizeof(why));
		json_t *sus = json_object_get(*res, "sustain");
		json_object_set_new(sus, "why", json_string(why));
		json_object_set_new(sus, "limit", json_string(ct_proof_limit(proof)));
	}
	to->sc = pt;
	ct_scenario_free(long_pt);
	ct_proof_free(proof);
	return r;
}

/* Run one step of `pt` and append it to summary.steps; *res borrows it. */
static int run_step(struct run_ctx *rc, const struct ct_scenario *pt, const json_t *settings,
		    json_t **res)
{
	struct ct_trial_opts to = {
	    .sc = pt,
	    .step = rc->steps,
	    .n_steps = pt->search.enabled ? rc->steps + 1 : (unsigned)rc->npts,
	    .settings = settings,
	    .target = rc->target,
	    .rd = rc->rd,
	    .origin_ns = rc->origin,
	    .live = rc->live && !rc->live_view,
	    .dist = rc->dist,
	};
	struct ct_sample_source src[16], hooks[16];
	size_t ns = 0, nh = 0;
	int code;

	*res = NULL;
	if (rc->lab && (code = lab_prepare_step(rc->lab, pt, rc->steps, rc->target, &to)) != 0)
		return code < 0 ? CT_EXIT_OK : code; /* < 0: stopped, no step (*res NULL) */
	/* The lab's samplers first; then the run's probes, which read what they
	 * wrote (probe.h has their order). */
	for (size_t i = 0; i < to.n_sources && ns < 10; i++)
		src[ns++] = to.sources[i];
	for (size_t i = 0; i < to.n_step_hooks && nh < 10; i++)
		hooks[nh++] = to.step_hooks[i];
	struct ct_probe_step st = {
	    .index = rc->steps,
	    .label = rc->label,
	    .duration_s = (double)pt->load.duration_ns / 1e9,
	    .rate = pt->load.rate,
	    .t0_s = (double)(ct_now_ns() - rc->origin) / 1e9,
	    .interval_s = (double)pt->report.sample_interval_ns / 1e9,
	    .client_netns_fd = rc->target->netns_fd,
	    .fresh_netns = rc->lab && rc->steps > 0 && pt->search.cooldown == CT_COOL_FRESH_NETNS,
	};
	ct_probes_step_begin(rc->probes, &st);
	ns += ct_probes_sources(rc->probes, src + ns, sizeof(src) / sizeof(src[0]) - ns);
	nh += ct_probes_hooks(rc->probes, hooks + nh, sizeof(hooks) / sizeof(hooks[0]) - nh);
	to.sources = src;
	to.n_sources = ns;
	to.step_hooks = hooks;
	to.n_step_hooks = nh;
	int r = run_proved(rc, pt, &to, res);
	if (r == 0 && rc->dist && (r = ct_dist_step_result(rc->dist, res)) < 0) {
		json_decref(*res);
		*res = NULL;
	}
	if (r < 0)
		return r == -EINVAL ? CT_EXIT_USAGE : CT_EXIT_ENV;
	json_array_append_new(json_object_get(rc->summary, "steps"), *res);
	rc->steps++;
	ct_rundir_flush(rc->rd);
	return CT_EXIT_OK;
}

/* A failed step whose figures name no cause, but one of whose watched
 * counts reached its limit (the sustain counts): that limit, in words. */
static const char *count_at_limit(const json_t *res, char *text, size_t len, const char *dflt)
{
	size_t i;
	const json_t *c;

	json_array_foreach(CT_JSON_GET(res, "sustain", "counts"), i, c)
	{
		const char *state = json_string_value(json_object_get(c, "state"));
		const char *name = json_string_value(json_object_get(c, "limit_name"));
		if (!state || strcmp(state, "at_limit") || !name)
			continue;
		snprintf(text, len,
			 "%s ran out: %s reached %.0f of %.0f at %.0f s, and the step fell behind "
			 "its schedule",
			 name, json_string_value(json_object_get(c, "count")),
			 ct_json_d(c, "value"), ct_json_d(c, "limit"), ct_json_d(c, "fail_at_s"));
		return name;
	}
	return dflt;
}

/* Judge a step by fail_when: verdict "pass"/"fail" and fail_reason. */
static int judge_step(const struct ct_scenario *pt, const struct ct_expr *judge, json_t *summary,
		      json_t *res, bool *failed)
{
	struct ct_judge_ctx lc = {.step = res, .summary = summary};
	char why[512] = "", where[400];

	if (ct_expr_eval(judge, ct_judge_lookup, &lc, failed, why, sizeof(why)) < 0) {
		ct_error("%s: %s",
			 ct_cond_where(pt, &pt->search.fail_when, "[search] fail_when", where,
				       sizeof(where)),
			 why);
		return CT_EXIT_USAGE;
	}
	json_object_set_new(res, "verdict", json_string(*failed ? "fail" : "pass"));
	json_object_set_new(res, "fail_reason", *failed ? json_string(why) : json_null());
	if (*failed) {
		char text[512];
		const char *limit = ct_judge_cause(res, text, sizeof(text));
		if (!strcmp(limit, "unknown"))
			limit = count_at_limit(res, text, sizeof(text), limit);
		json_object_set_new(res, "fail_cause",
				    json_pack("{s:s, s:s}", "limit", limit, "text", text));
	}
	/* Held for its duration, but not proven to hold longer: a failure
	 * unless [load] sustain = off. */
	const json_t *sus = json_object_get(res, "sustain");
	const char *swhy = json_string_value(json_object_get(sus, "why"));
	if (!*failed && swhy && pt->load.sustain != CT_SUSTAIN_OFF) {
		*failed = true;
		json_object_set_new(res, "verdict", json_string("unsustained"));
		json_object_set_new(res, "fail_reason", json_string(swhy));
		json_object_set_new(
		    res, "fail_cause",
		    json_pack("{s:s, s:s}", "limit",
			      json_string_value(json_object_get(sus, "limit")), "text", swhy));
	}
	return CT_EXIT_OK;
}

/* ---- the model and the threshold of a point ----------------------------------- */

/* From the steps of this point that ran out of a resource above its limit,
 * the sustained limit: capacity = rate x time to exhaustion, limit =
 * capacity / timer. Picks the step whose exhaustion came latest before the
 * timer ran (the least relative error from the sample interval). Returns
 * the limit (0: none) and what ran out. */
static double infer_limit(const json_t *steps, size_t first, const struct ct_model_result *mr,
			  const char **what, double *capacity, double *t_fail_out)
{
	static const struct {
		enum ct_first_failure first;
		enum ct_limit_id id;
	} causes[] = {
	    {CT_FIRST_PORTS, CT_LIMIT_CLIENT_PORTS},
	    {CT_FIRST_CT_DROP, CT_LIMIT_CONNTRACK},
	    {CT_FIRST_CT_INSERT, CT_LIMIT_NAT_PORTS},
	};
	double best = 0, best_t = -1;

	for (size_t i = first; i < json_array_size(steps); i++) {
		const json_t *s = json_array_get(steps, i);
		const json_t *ff = json_object_get(s, "first_failure");
		double rate = ct_json_d(s, "rate_target");

		for (size_t c = 0; c < sizeof(causes) / sizeof(causes[0]); c++) {
			const json_t *tv = json_object_get(ff, ct_failwatch_key(causes[c].first));
			const struct ct_limit *lim = &mr->limits[causes[c].id];
			double cap, limit;

			if (!json_is_number(tv) || !lim->applies || lim->timer_s <= 0)
				continue;
			double t = json_number_value(tv);
			if (t < 0.5) /* within the first samples: no measure of capacity */
				continue;
			if (ct_model_infer(rate, t, lim->timer_s, &cap, &limit) < 0)
				continue;
			if (t > best_t) {
				best_t = t;
				best = limit;
				*capacity = cap;
				*what = lim->name;
				*t_fail_out = t;
			}
		}
	}
	return best;
}

/* A plain step that passed: proven sustained, the limit is at least its
 * rate ("sustained"). With [load] sustain = off it only held for its
 * duration: "held", and never above a hard limit the model predicts (a
 * longer run would fail there), which gets "none" and says so. */
static double held_threshold(json_t *th, const struct ct_scenario *pt, double rate)
{
	double pred = ct_json_d(th, "predicted_cps");
	const char *method = pt->load.sustain != CT_SUSTAIN_OFF ? "sustained" : "held";

	if (pt->load.sustain == CT_SUSTAIN_OFF && pred > 0 && rate > pred) {
		json_object_set_new(th, "method", json_string("none"));
		json_object_set_new(th, "measured_cps", json_null());
		json_object_set_new(th, "bounded", json_true());
		json_object_set_new(th, "note",
				    json_string("held for its duration only ([load] sustain = "
						"off), above the limit the model predicts"));
		return 0;
	}
	json_object_set_new(th, "method", json_string(method));
	json_object_set_new(th, "measured_cps", json_real(rate));
	json_object_set_new(th, "bounded", json_false());
	return rate;
}

/* Record the threshold of the point whose steps start at rc->point_first.
 * `found`/`bounded` come from a search (searched = true) or, for a plain
 * step, from its verdict. */
static json_t *point_threshold(struct run_ctx *rc, const struct ct_scenario *pt,
			       const json_t *settings, bool searched, double found, bool bounded)
{
	struct ct_model_input *in = calloc(1, sizeof(*in));
	struct ct_model_result *mr = calloc(1, sizeof(*mr));
	json_t *steps = json_object_get(rc->summary, "steps");
	json_t *th = NULL;
	const char *what = NULL;
	double capacity = 0, t_fail = 0, inferred = 0;
	bool modeled = in && mr && ct_proof_model(pt, in, mr) == 0;

	if (modeled) {
		inferred = infer_limit(steps, rc->point_first, mr, &what, &capacity, &t_fail);
		th = ct_model_threshold_json(found, mr);
	}
	if (!th)
		th = json_object();
	json_object_set_new(th, "settings", json_deep_copy(settings));
	json_object_set_new(th, "label", json_string(rc->label ? rc->label : ""));
	if (inferred > 0 && (!searched || found <= 0 || inferred < found)) {
		/* The search's short trials cannot see a limit whose timer is
		 * longer than a trial; the time to exhaustion can. */
		json_object_set_new(th, "method", json_string("inferred"));
		json_object_set_new(th, "measured_cps", json_real(inferred));
		json_object_set_new(th, "bounded", json_true());
		json_object_set_new(th, "inferred",
				    json_pack("{s:s, s:f, s:f}", "limit", what, "capacity",
					      capacity, "time_to_exhaustion_s", t_fail));
		if (searched)
			json_object_set_new(th, "search_cps", json_real(found));
		found = inferred;
	} else if (searched) {
		json_object_set_new(th, "method", json_string("search"));
		json_object_set_new(th, "measured_cps", json_real(found));
		json_object_set_new(th, "bounded", json_boolean(bounded));
	} else if (bounded) {
		/* A plain step that failed without running out of a resource
		 * we can time: no threshold measured, only the model's. */
		json_object_set_new(th, "method", json_string("none"));
		json_object_set_new(th, "measured_cps", json_null());
		json_object_set_new(th, "bounded", json_true());
		found = 0;
	} else {
		found = held_threshold(th, pt, found);
	}
	/* A lower bound ("sustained", "held", or a search whose ceiling passed) is no
	 * measurement to compare with the model. */
	bool measured = found > 0 && json_is_true(json_object_get(th, "bounded"));
	if (measured && modeled && json_is_number(json_object_get(th, "predicted_cps"))) {
		double pred = json_number_value(json_object_get(th, "predicted_cps"));
		json_object_set_new(th, "error_pct", json_real(ct_model_error_pct(found, pred)));
	} else {
		json_object_set_new(th, "error_pct", json_null());
	}
	if (modeled)
		json_object_set_new(th, "model", ct_model_to_json(in, mr));
	free(in);
	free(mr);
	return th;
}

/* ---- one sweep point ---------------------------------------------------------- */

/* One search trial at `rate` for `dur_ns`, judged by fail_when. */
static int search_trial(struct run_ctx *rc, const struct ct_scenario *pt, const json_t *settings,
			const struct ct_expr *judge, double rate, uint64_t dur_ns, bool prove,
			bool *failed)
{
	struct ct_scenario *tr = ct_scenario_dup(pt);
	json_t *res = NULL;

	if (!tr)
		return CT_EXIT_ENV;
	tr->load.profile = CT_PROFILE_CONSTANT;
	tr->load.rate = tr->load.rate_end = rate;
	tr->load.duration_ns = dur_ns;
	tr->load.max_connections = 0;
	if (prove)
		tr->load.sustain = CT_SUSTAIN_PROVE;
	int code = run_step(rc, tr, settings, &res);
	if (code == CT_EXIT_OK && res) {
		json_object_set_new(res, "search", json_pack("{s:f}", "rate", rate));
		code = judge_step(tr, judge, rc->summary, res, failed);
	}
	ct_scenario_free(tr);
	if (code != CT_EXIT_OK || !res)
		return code;
	if (!rc->quiet)
		ct_note("search: %.0f/s %s%s", rate, *failed ? "fails: " : "passes",
			*failed ? json_string_value(json_object_get(res, "fail_reason")) : "");
	ct_rundir_flush(rc->rd);
	return CT_EXIT_OK;
}

/* Where the search of `pt` starts (ct_search_start): [load] rate, else from
 * the model's binding limit, said in a note. *from as ct_search_start's. */
static double search_start(const struct run_ctx *rc, const struct ct_scenario *pt,
			   const char **from)
{
	struct ct_model_input *in = pt->load.rate > 0 ? NULL : calloc(1, sizeof(*in));
	struct ct_model_result *mr = in ? calloc(1, sizeof(*mr)) : NULL;
	const struct ct_limit *b = mr && ct_proof_model(pt, in, mr) == 0 ? ct_model_binding(mr) : NULL;
	double start = ct_search_start(pt->load.rate, b ? b->predicted_cps : 0, from);

	if (!rc->quiet && !strcmp(*from, "model"))
		ct_note("search: no [load] rate: starting at %.0f/s, a quarter of the model's "
			"binding limit (%s, %.0f/s)",
			start, b->name, b->predicted_cps);
	else if (!rc->quiet && !strcmp(*from, "default"))
		ct_note("search: no [load] rate and no limit from the model: starting at %.0f/s",
			start);
	free(in);
	free(mr);
	return start;
}

/* [search]: RFC 2544-style exponential then binary search on the rate of
 * this point, from its start (search_start) up to 64 times it. Each trial
 * is a step (with "search": {"rate"}) judged by fail_when. */
static int run_search(struct run_ctx *rc, const struct ct_scenario *pt, const json_t *settings,
		      const struct ct_expr *judge)
{
	struct ct_search s;
	int code = CT_EXIT_OK;
	const char *from = "scenario";
	double start = search_start(rc, pt, &from), max = start * 64;

	if (ct_search_init(&s, start, max, pt->search.precision, 24) < 0) {
		ct_error("%s: [search]: cannot search from %g/s with precision %g", pt->path, start,
			 pt->search.precision);
		return CT_EXIT_USAGE;
	}
	for (double rate; (rate = ct_search_next(&s)) > 0 && !ct_stop_requested();) {
		bool failed = false;
		code = search_trial(rc, pt, settings, judge, rate, pt->search.trial_ns, false, &failed);
		if (code != CT_EXIT_OK)
			return code;
		ct_search_report(&s, !failed);
	}
	if (ct_stop_requested())
		return CT_EXIT_OK;
	bool bounded = false;
	double found = ct_search_result(&s, &bounded);
	json_t *th = point_threshold(rc, pt, settings, true, found, bounded);
	json_object_set_new(th, "trials", json_integer((json_int_t)s.trials));
	json_object_set_new(th, "start_cps", json_real(start));
	json_object_set_new(th, "start_from", json_string(from));
	json_object_set_new(th, "precision", json_real(pt->search.precision));
	double limit = ct_json_d(th, "measured_cps");
	if (pt->search.confirm && limit > 0 && !ct_stop_requested()) {
		/* One trial at the limit, at least as long as the timer of the
		 * limit that binds (short trials pass a rate that a table
		 * filling in 20 s cannot hold) and as [load] duration. */
		const json_t *m = json_object_get(th, "model");
		uint64_t dur = pt->load.duration_ns;
		size_t i;
		const json_t *l;
		json_array_foreach(json_object_get(m, "limits"), i, l)
		{
			const char *name = json_string_value(json_object_get(l, "name"));
			const char *binding =
			    json_string_value(json_object_get(th, "binding_limit"));
			if (name && binding && !strcmp(name, binding)) {
				uint64_t t = (uint64_t)((ct_json_d(l, "timer_s") + 5) * 1e9);
				dur = t > dur ? t : dur;
			}
		}
		bool failed = false;
		code = search_trial(rc, pt, settings, judge, limit, dur, true, &failed);
		json_object_set_new(th, "confirmed",
				    code == CT_EXIT_OK ? json_boolean(!failed) : json_null());
		json_t *steps = json_object_get(rc->summary, "steps");
		json_t *last = json_array_get(steps, json_array_size(steps) - 1);
		if (code == CT_EXIT_OK && last)
			json_object_set_new(json_object_get(last, "search"), "confirm",
					    json_true());
	}
	json_array_append_new(json_object_get(rc->summary, "thresholds"), th);
	ct_rundir_flush(rc->rd);
	if (!rc->quiet)
		ct_note("threshold: %.0f/s (%s)%s", limit,
			json_string_value(json_object_get(th, "method")),
			json_is_false(json_object_get(th, "bounded"))
			    ? " - the highest rate tried passed: the limit is higher"
			    : "");
	return code;
}

/* A point without [search]: one step at the [load] rate, judged. */
static int run_plain(struct run_ctx *rc, const struct ct_scenario *pt, const json_t *settings,
		     const struct ct_expr *judge)
{
	json_t *res = NULL;
	bool failed = false;
	int code = run_step(rc, pt, settings, &res);

	if (code != CT_EXIT_OK || !res)
		return code;
	if ((code = judge_step(pt, judge, rc->summary, res, &failed)) != CT_EXIT_OK)
		return code;
	if (ct_stop_requested() && json_is_true(json_object_get(res, "interrupted")))
		return CT_EXIT_OK;
	json_t *th = point_threshold(rc, pt, settings, false, pt->load.rate, failed);
	json_array_append_new(json_object_get(rc->summary, "thresholds"), th);
	ct_rundir_flush(rc->rd);
	return CT_EXIT_OK;
}

/* ---- the lab ------------------------------------------------------------------ */

/* topology = lab: before step `p`, a fresh lab when the cooldown asks for
 * one, this point's sysctls, and the target, samplers and hooks. */
static int lab_prepare_step(struct ct_lab *lab, const struct ct_scenario *pt, size_t p,
			    struct ct_trial_target *target, struct ct_trial_opts *to)
{
	struct ct_err lerr = {.code = CT_EXIT_ENV};
	if (p > 0 && pt->search.cooldown == CT_COOL_FRESH_NETNS && ct_lab_fresh(lab, &lerr) < 0)
		goto fail;
	if (p > 0 && pt->search.cooldown == CT_COOL_DRAIN && ct_lab_drain(lab, 0, &lerr) < 0)
		goto fail;
	if (ct_lab_apply_sysctls(lab, pt, &lerr) < 0)
		goto fail;
	/* Every step, the first too: a sweep may change the server. */
	if (ct_lab_set_server(lab, pt, &lerr) < 0)
		goto fail;
	/* After set_server: the ports and client addresses may have moved. */
	ct_lab_target(lab, target);
	ct_lab_step_begin(lab);
	to->sources = ct_lab_sources(lab, &to->n_sources);
	to->step_hooks = ct_lab_step_hooks(lab, &to->n_step_hooks);
	return CT_EXIT_OK;
fail:
	if (ct_stop_requested())
		return -1; /* interrupted while preparing: not an error */
	ct_error("%s", lerr.msg);
	return lerr.code ? lerr.code : CT_EXIT_ENV;
}

/* ---- the run ------------------------------------------------------------------ */

/* What the scenario and options ask of the probes; rc NULL: before the
 * run directory and the lab exist (a check). */
static struct ct_probe_config probe_config(const struct ct_scenario *sc,
					   const struct ct_runner_opts *o, const struct run_ctx *rc)
{
	return (struct ct_probe_config){
	    .run_dir = rc ? ct_rundir_path(rc->rd) : NULL,
	    .client_netns_fd = rc && rc->lab ? ct_lab_client_netns_fd(rc->lab) : -1,
	    .capture =
		sc->report.capture && !(rc && ct_dist_rank(rc->dist) != 0), /* rank 0's lab */
	    .metrics_listen = o->metrics_listen ? o->metrics_listen : sc->report.metrics_listen,
	    .quiet = o->quiet,
	    .live = rc && rc->live ? stderr : NULL,
	    .n_steps = rc && !sc->search.enabled ? (unsigned)rc->npts : 0,
	};
}

/* Live view, metrics endpoint and capture, as the scenario and options ask. */
static int open_probes(struct run_ctx *rc, const struct ct_runner_opts *o)
{
	struct ct_probe_config cfg = probe_config(rc->sc, o, rc);
	struct ct_err err = {0};

	rc->probes = ct_probes_open(&cfg, &err);
	if (!rc->probes) {
		ct_error("%s", err.msg);
		return ct_err_code(&err, CT_EXIT_ENV);
	}
	rc->live_view = ct_probes_has(rc->probes, "liveview");
	return CT_EXIT_OK;
}

/* What can be refused before anything is written or changed. */
static int preflight(const struct ct_scenario *sc, const struct ct_runner_opts *o)
{
	struct ct_probe_config pcfg = probe_config(sc, o, NULL);
	struct ct_err perr = {0};

	if (sc->scenario.topology == CT_TOPO_LAB && geteuid() != 0) {
		ct_error("%s: topology = lab: ctload builds network namespaces and needs root "
			 "(CAP_NET_ADMIN, CAP_SYS_ADMIN); run it with sudo, or use topology = "
			 "host against a server on 127.0.0.1",
			 sc->path);
		return CT_EXIT_ENV;
	}
	/* Before any lab is built: an engine this binary lacks, or a packet
	 * engine outside a lab (it needs the lab's veth and next hop). */
	if (!ct_engine_built(ct_engine_kind_name(sc->load.engine), &perr)) {
		ct_error("%s: [load] %s", sc->path, perr.msg);
		return CT_EXIT_ENV;
	}
	if (sc->server.engine == CT_SRVENG_RESPONDER_DPDK && !ct_engine_built("dpdk", &perr)) {
		ct_error("%s: [server] engine = responder-dpdk: %s", sc->path, perr.msg);
		return CT_EXIT_ENV;
	}
	if (sc->load.engine != CT_ENGINE_KERNEL && sc->scenario.topology != CT_TOPO_LAB) {
		ct_error("%s: [load] engine = %s runs in a lab only (topology = lab): it sends "
			 "frames on the lab's client veth; use engine = kernel for topology = host",
			 sc->path, ct_engine_kind_name(sc->load.engine));
		return CT_EXIT_USAGE;
	}
	if (sc->report.capture && sc->scenario.topology != CT_TOPO_LAB) {
		ct_error("%s: [report] capture = on: ctload captures on the lab link only "
			 "(topology = lab); set capture = off for topology = host",
			 sc->path);
		return CT_EXIT_USAGE;
	}
	if (ct_probes_check(&pcfg, &perr) < 0) {
		ct_error("%s: %s", sc->path, perr.msg);
		return ct_err_code(&perr, CT_EXIT_USAGE);
	}
	/* A taken port would otherwise show only after the directory is made. */
	if (pcfg.metrics_listen && ct_metrics_check_listen(pcfg.metrics_listen, &perr) < 0) {
		ct_error("%s", perr.msg);
		return ct_err_code(&perr, CT_EXIT_ENV);
	}
	return ct_judge_check_conditions(sc);
}

/* Each sweep point in turn: a search, or one step at the [load] rate. */
static int run_points(struct run_ctx *rc, const struct ct_runner_opts *o,
		      const struct ct_expr *judge)
{
	const struct ct_scenario *sc = rc->sc;
	struct ct_err err = {0};
	int code = CT_EXIT_OK;

	for (size_t p = 0; p < rc->npts && !ct_stop_requested() && code == CT_EXIT_OK; p++) {
		char label[256];
		struct ct_scenario *pt = ct_plan_point(sc, p, label, sizeof(label), &err);
		if (!pt) {
			ct_error("%s", err.msg);
			code = CT_EXIT_USAGE;
			break;
		}
		json_t *settings = json_object();
		for (size_t a = 0; a < sc->n_sweep; a++)
			json_object_set_new(settings, sc->sweep[a].key,
					    json_string(ct_plan_value(sc, p, a)));
		if (!o->quiet && rc->npts > 1 && !rc->live_view)
			ct_note("point %zu/%zu: %s", p + 1, rc->npts, label[0] ? label : "-");
		rc->label = label;
		rc->point_first = json_array_size(json_object_get(rc->summary, "steps"));
		if (pt->search.enabled)
			code = run_search(rc, pt, settings, judge);
		else
			code = run_plain(rc, pt, settings, judge);
		rc->label = NULL;
		json_decref(settings);
		ct_scenario_free(pt);
	}
	return code;
}

/* topology = lab: the lab; then the probes. An exit code. */
static int start_run(struct run_ctx *rc, const struct ct_runner_opts *o)
{
	const struct ct_scenario *sc = rc->sc;

	/* Under MPI rank 0 alone builds the lab; the others load from its
	 * client netns (ct_dist_share_target). */
	if (sc->scenario.topology == CT_TOPO_LAB && ct_dist_rank(rc->dist) == 0) {
		struct ct_err lerr = {.code = CT_EXIT_ENV};
		rc->lab = ct_lab_up(sc, ct_rundir_path(rc->rd), &lerr);
		if (!rc->lab) {
			ct_error("%s", lerr.msg);
			return lerr.code ? lerr.code : CT_EXIT_ENV;
		}
		json_object_set_new(rc->summary, "lab", json_deep_copy(ct_lab_info(rc->lab)));
	}
	return open_probes(rc, o);
}

/* On every path out once the run directory exists: the exit code in
 * summary.json, the probes closed, the host restored (the lab's journal),
 * report.html, and the table. Returns the exit code. */
static int end_run(struct run_ctx *rc, const struct ct_runner_opts *o, const char *run_path,
		   int code)
{
	json_object_set_new(rc->summary, "exit_code", json_integer(code));
	ct_rundir_flush(rc->rd);
	ct_probes_close(rc->probes);
	rc->probes = NULL;
	/* On every path: the lab restores the host before we return. */
	if (rc->lab && ct_lab_down(rc->lab) < 0 && code == CT_EXIT_OK)
		code = CT_EXIT_ENV;
	ct_rundir_close(rc->rd);
	if (run_path[0]) {
		struct ct_err rerr = {0};
		if (ct_report_build(run_path, &rerr) < 0)
			ct_warn("report.html not written: %s", rerr.msg);
	}
	if (!o->quiet && run_path[0]) {
		/* Reread what was written: the table shows the file's truth. */
		char path[4200];
		snprintf(path, sizeof(path), "%s/summary.json", run_path);
		json_t *summary = json_load_file(path, 0, NULL);
		if (summary)
			ct_run_table_print(summary, run_path);
		json_decref(summary);
	}
	return code;
}

int ct_runner_run(const struct ct_scenario *sc, const struct ct_runner_opts *o)
{
	struct ct_trial_target target = {.netns_fd = -1};
	struct ct_expr *judge = NULL;
	char run_path[4096] = "";
	struct ct_err jerr = {0};
	int code;

	code = preflight(sc, o);
	if (o->dist) /* all ranks go on, or none: a collective must not wait alone */
		code = ct_dist_agree(o->dist, code);
	if (code != CT_EXIT_OK)
		return code;
	judge = ct_expr_parse(sc->search.fail_when.text, &jerr);
	if (!judge) { /* preflight parsed it: only ENOMEM is left */
		ct_error("[search] fail_when: %s", jerr.msg);
		return CT_EXIT_ENV;
	}
	if (o->host_target)
		target = *o->host_target;

	struct run_ctx rc = {
	    .sc = sc,
	    .target = &target,
	    .quiet = o->quiet,
	    .live = !o->quiet && isatty(STDERR_FILENO),
	    .npts = ct_plan_points(sc),
	    .dist = o->dist,
	};
	bool worker = ct_dist_rank(o->dist) != 0;
	rc.rd = worker ? ct_rundir_memory(sc) : ct_rundir_open(o->out_dir, sc);
	if (!rc.rd) {
		ct_expr_free(judge);
		return CT_EXIT_ENV;
	}
	if (!worker)
		snprintf(run_path, sizeof(run_path), "%s", ct_rundir_path(rc.rd));
	rc.summary = ct_rundir_summary(rc.rd);
	if (o->dist && !worker)
		json_object_set_new(rc.summary, "mpi",
				    json_pack("{s:o}", "ranks", ct_dist_ranks(o->dist)));
	if ((code = start_run(&rc, o)) == CT_EXIT_OK) {
		rc.origin = ct_now_ns();
		/* The wall time of t = 0, so a report can place events.log lines. */
		json_object_set_new(rc.summary, "origin_unix", json_real(ct_wall_s()));
		code = run_points(&rc, o, judge);
		if (ct_stop_requested()) {
			json_object_set_new(rc.summary, "interrupted", json_true());
			if (!worker) /* rank 0 speaks for an MPI run */
				ct_warn("interrupted: the run directory holds the steps done so far");
		}
		if (code == CT_EXIT_OK)
			code = ct_judge_expect(sc, rc.summary);
	}
	if (o->dist && !worker) /* now with the ranks that were lost */
		json_object_set_new(rc.summary, "mpi",
				    json_pack("{s:o}", "ranks", ct_dist_ranks(o->dist)));
	code = end_run(&rc, o, run_path, code);
	ct_expr_free(judge);
	return code;
}
