/* steps — the figures of each step: from its summary.json entry, or from
 * its samples when the run ended before the step did; and the questions
 * the page asks of them (which failed, which value of a sweep key held). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/base/json.h"
#include "loadgen/report/report_int.h"
#include "loadgen/report/svg.h"
#include "loadgen/run/judge.h"

void ct_rep_settings_text(const json_t *set, bool skip_rate, char *buf, size_t len)
{
	const char *k;
	const json_t *v;
	size_t used = 0;
	buf[0] = 0;
	json_object_foreach((json_t *)set, k, v)
	{
		if (skip_rate && !strcmp(k, "load.rate"))
			continue;
		const char *shortk = strrchr(k, '.') ? strrchr(k, '.') + 1 : k;
		char val[64];
		if (json_is_string(v))
			snprintf(val, sizeof(val), "%s", json_string_value(v));
		else
			ct_svg_fmt(ct_json_nan(v), val, sizeof(val));
		int w = snprintf(buf + used, len - used, "%s%s=%s", used ? ", " : "", shortk, val);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

void ct_rep_point_label(const json_t *set, char *buf, size_t len)
{
	ct_rep_settings_text(set, true, buf, len);
	/* A sweep of load.rate alone: without it every point reads the same. */
	if (!buf[0])
		ct_rep_settings_text(set, false, buf, len);
}

static bool verdict_is(const char *v, bool pass)
{
	static const char *const yes[] = {"pass", "passed", "ok", "held"};
	static const char *const no[] = {"fail", "failed"};
	const char *const *set = pass ? yes : no;
	size_t n = pass ? 4 : 2;
	for (size_t i = 0; v && i < n; i++)
		if (!strcmp(v, set[i]))
			return true;
	return false;
}

/* The step's figures as judge reads them, for a step known only from its
 * samples; NULL on ENOMEM. */
static json_t *judged_figures(const struct ct_rep_step *s)
{
	json_t *o =
	    json_pack("{s:f, s:f, s:{s:f}, s:{}}", "rate_target", s->rate_target, "rate_achieved",
		      s->rate_achieved, "ct", "drop", s->ct_drop, "failures");
	json_t *fl = json_object_get(o, "failures");
	for (enum ct_fail c = 0; fl && c < CT_FAIL_N; c++)
		json_object_set_new(fl, ct_fail_name(c), json_real(s->fail[c]));
	return o;
}

/* A judge's verdict is kept (a pass may hold failures within its criteria);
 * a step without one (rebuilt from its samples) failed when connections
 * failed or conntrack dropped packets. Why a step failed is judge's answer,
 * the one summary.json's fail_cause gives. */
static void judge_step(struct ct_rep_step *s)
{
	bool failed;

	if (s->verdict && !strcmp(s->verdict, "unsustained") && !s->partial) {
		s->outcome = CT_REP_UNSUSTAINED;
		return;
	}
	if (verdict_is(s->verdict, true))
		failed = false;
	else if (verdict_is(s->verdict, false))
		failed = true;
	else
		failed = s->failed > 0 || s->ct_drop > 0;
	if (failed) {
		json_t *own = s->js ? NULL : judged_figures(s);
		s->outcome = CT_REP_FAILED;
		s->why = s->js || own ? ct_judge_why(s->js ? s->js : own) : CT_JUDGE_CONDITION;
		json_decref(own);
	} else if (!s->partial && s->rate_target > 0 && s->rate_achieved < 0.95 * s->rate_target) {
		s->outcome = CT_REP_SLOW;
	} else {
		s->outcome = CT_REP_HELD;
	}
}

/* The step's fields from its summary entry. */
static void step_from_summary(struct ct_rep_step *s, const json_t *js)
{
	s->js = js;
	s->rate_target = ct_rep_nz(ct_json_nan(CT_JSON_GET(js, "rate_target")));
	s->rate_achieved = ct_rep_nz(ct_json_nan(CT_JSON_GET(js, "rate_achieved")));
	s->attempted = ct_rep_nz(ct_json_nan(CT_JSON_GET(js, "attempted")));
	s->completed = ct_rep_nz(ct_json_nan(CT_JSON_GET(js, "completed")));
	s->unsent = ct_rep_nz(ct_json_nan(CT_JSON_GET(js, "unsent")));
	for (size_t i = 0; i < CT_FAIL_N; i++) {
		s->fail[i] = ct_rep_nz(ct_json_nan(CT_JSON_GET(js, "failures", ct_fail_name(i))));
		s->failed += s->fail[i];
	}
	s->p50 = ct_json_nan(CT_JSON_GET(js, "connect_ms", "p50"));
	s->p99 = ct_json_nan(CT_JSON_GET(js, "connect_ms", "p99"));
	s->pmax = ct_json_nan(CT_JSON_GET(js, "connect_ms", "max"));
	s->ct_peak = ct_json_nan(CT_JSON_GET(js, "ct", "peak"));
	s->ct_limit = ct_json_nan(CT_JSON_GET(js, "ct", "limit"));
	s->ct_drop = ct_rep_nz(ct_json_nan(CT_JSON_GET(js, "ct", "drop")));
	s->tw_client = ct_json_nan(CT_JSON_GET(js, "tw", "client_peak"));
	s->tw_server = ct_json_nan(CT_JSON_GET(js, "tw", "server_peak"));
	const json_t *v = json_object_get(js, "verdict");
	s->verdict = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(js, "fail_reason");
	s->fail_reason = json_is_string(v) ? json_string_value(v) : NULL;
	ct_rep_settings_text(json_object_get(js, "settings"), true, s->label, sizeof(s->label));
	ct_rep_settings_text(json_object_get(js, "settings"), false, s->settings,
			     sizeof(s->settings));
	/* SIGINT during the step: its rate counts a shortened step */
	s->partial = json_is_true(json_object_get(js, "interrupted"));
	s->duration_s = ct_json_nan(json_object_get(js, "duration_s"));
	const char *k;
	json_object_foreach((json_t *)json_object_get(js, "first_failure"), k, v)
	{
		double t = ct_json_nan(v);
		if (!isnan(t) && !(t >= s->first_fail_s))
			s->first_fail_s = t;
	}
	ct_rep_proven_read(s, js);
}

/* A step known only from its samples: the last one holds the cumulative
 * counts, the peaks come from all of them. */
static void step_from_samples(struct ct_rep *r, struct ct_rep_step *s)
{
	const json_t *last = NULL;
	size_t i;
	const json_t *o;
	double ctp = NAN, ctl = NAN, drop = 0, twc = NAN, tws = NAN, pmax = NAN, p99 = NAN;
	json_array_foreach(r->samples, i, o)
	{
		if ((int)ct_rep_nz(ct_json_nan(CT_JSON_GET(o, "step"))) != s->idx)
			continue;
		last = o;
		for (size_t k = 0; k < CT_ROLE_N; k++) {
			const char *role = ct_role_name(ct_rep_roles_shown[k]);
			double c = ct_json_nan(CT_JSON_GET(o, "ns", role, "ct.count")),
			       m = ct_json_nan(CT_JSON_GET(o, "ns", role, "ct.max"));
			if (!isnan(c) && !(c <= ctp))
				ctp = c;
			if (!isnan(m))
				ctl = m;
			drop += ct_rep_nz(ct_json_nan(CT_JSON_GET(o, "ns", role, "ct.drop")));
		}
		double tw = ct_json_nan(CT_JSON_GET(o, "ns", ct_role_name(CT_ROLE_CLIENT), "tw"));
		if (!isnan(tw) && !(tw <= twc))
			twc = tw;
		tw = ct_json_nan(CT_JSON_GET(o, "ns", ct_role_name(CT_ROLE_SERVER), "tw"));
		if (!isnan(tw) && !(tw <= tws))
			tws = tw;
		double x = ct_json_nan(CT_JSON_GET(o, "connect_ms", "max"));
		if (!isnan(x) && !(x <= pmax))
			pmax = x;
		x = ct_json_nan(CT_JSON_GET(o, "connect_ms", "p99"));
		if (!isnan(x) && !(x <= p99))
			p99 = x;
	}
	if (!last)
		return;
	s->rate_target = ct_rep_nz(ct_json_nan(CT_JSON_GET(last, "rate_target")));
	s->attempted = ct_rep_nz(ct_json_nan(CT_JSON_GET(last, "attempted")));
	s->completed = ct_rep_nz(ct_json_nan(CT_JSON_GET(last, "completed")));
	s->unsent = ct_rep_nz(ct_json_nan(CT_JSON_GET(last, "unsent")));
	for (size_t k = 0; k < CT_FAIL_N; k++) {
		s->fail[k] = ct_rep_nz(ct_json_nan(CT_JSON_GET(last, "failures", ct_fail_name(k))));
		s->failed += s->fail[k];
	}
	double dur = s->t1 - s->t0;
	/* the first sample closes the first interval, not the step's start */
	double interval = r->n > 1 ? (r->t[r->n - 1] - r->t[0]) / (double)(r->n - 1) : 0;
	if (dur + interval > 0)
		s->rate_achieved = s->completed / (dur + interval);
	s->p50 = NAN;
	s->p99 = p99;
	s->pmax = pmax;
	s->ct_peak = ctp;
	s->ct_limit = ctl;
	s->ct_drop = drop;
	s->tw_client = twc;
	s->tw_server = tws;
}

int ct_rep_steps_build(struct ct_rep *r)
{
	const json_t *js = r->summary ? json_object_get(r->summary, "steps") : NULL;
	size_t n_sum = json_array_size(js);
	int max_idx = -1;
	size_t i;
	const json_t *o;

	json_array_foreach(r->samples, i, o)
	{
		int st = (int)ct_rep_nz(ct_json_nan(CT_JSON_GET(o, "step")));
		if (st > max_idx && st < 100000)
			max_idx = st;
	}
	size_t n = n_sum;
	if (max_idx >= 0 && (size_t)max_idx + 1 > n)
		n = (size_t)max_idx + 1;
	r->steps = calloc(n ? n : 1, sizeof(*r->steps));
	if (!r->steps)
		return -ENOMEM;
	r->n_steps = n;
	for (size_t k = 0; k < n; k++) {
		r->steps[k].idx = (int)k;
		r->steps[k].t0 = r->steps[k].t1 = NAN;
		r->steps[k].duration_s = r->steps[k].first_fail_s = r->steps[k].horizon_s = NAN;
	}
	json_array_foreach(r->samples, i, o)
	{
		int st = (int)ct_rep_nz(ct_json_nan(CT_JSON_GET(o, "step")));
		if (st < 0 || (size_t)st >= n)
			continue;
		double t = ct_json_nan(CT_JSON_GET(o, "t"));
		struct ct_rep_step *s = &r->steps[st];
		if (isnan(s->t0) || t < s->t0)
			s->t0 = t;
		if (isnan(s->t1) || t > s->t1)
			s->t1 = t;
	}
	for (size_t k = 0; k < n; k++) {
		struct ct_rep_step *s = &r->steps[k];
		const json_t *sj = json_array_get(js, k);
		if (k < n_sum && json_is_object(sj)) {
			int at = (int)ct_rep_nz(ct_json_nan(CT_JSON_GET(sj, "step")));
			s->idx = at;
			step_from_summary(s, sj);
		} else {
			s->partial = !r->summary_missing;
			step_from_samples(r, s);
			const json_t *set = json_array_get(r->plan, k);
			if (set) {
				ct_rep_settings_text(set, true, s->label, sizeof(s->label));
				ct_rep_settings_text(set, false, s->settings, sizeof(s->settings));
			}
		}
		judge_step(s);
		r->sustain_off |= s->sustain_off;
	}
	if (n > n_sum && r->summary) {
		r->interrupted = true;
		ct_rep_note(
		    r,
		    "Step %zu has samples but no result in summary.json: the run ended during "
		    "it; its numbers come from the last sample",
		    n);
	}
	return 0;
}

bool ct_rep_step_failed(const struct ct_rep_step *s)
{
	return s->outcome == CT_REP_FAILED || s->outcome == CT_REP_UNSUSTAINED;
}

bool ct_rep_step_matches(const struct ct_rep_step *s, const char *key, const char *val,
			 const json_t *ctx)
{
	const json_t *ss = s->js ? json_object_get(s->js, "settings") : NULL;
	const char *k;
	const json_t *v;

	if (!ss)
		return false;
	if (key) {
		v = json_object_get(ss, key);
		if (!json_is_string(v) || strcmp(json_string_value(v), val))
			return false;
	}
	json_object_foreach((json_t *)ctx, k, v)
	{
		if (!json_equal(json_object_get(ss, k), v))
			return false;
	}
	return true;
}

/* The settings of a threshold without load.rate: what its steps share. */
static json_t *point_of(const json_t *settings)
{
	json_t *ctx = json_deep_copy(settings);
	json_object_del(ctx, "load.rate");
	return ctx;
}

/* The observed reason for the first failing step with these settings. */
const struct ct_rep_step *ct_rep_first_fail_with(struct ct_rep *r, const json_t *settings)
{
	const struct ct_rep_step *best = NULL;
	json_t *ctx = point_of(settings);
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		if (ct_rep_step_failed(s) && ct_rep_step_matches(s, NULL, NULL, ctx) &&
		    (!best || s->rate_target < best->rate_target))
			best = s;
	}
	json_decref(ctx);
	return best;
}

const struct ct_rep_step *ct_rep_best_held_with(struct ct_rep *r, const json_t *settings)
{
	const struct ct_rep_step *best = NULL;
	json_t *ctx = point_of(settings);
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		if (s->outcome == CT_REP_HELD && ct_rep_step_matches(s, NULL, NULL, ctx) &&
		    (!best || s->rate_target > best->rate_target))
			best = s;
	}
	json_decref(ctx);
	return best;
}

/* Distinct values of a sweep key over the steps, in step order. */
size_t ct_rep_axis_values(struct ct_rep *r, const char *key, const char **vals, size_t max)
{
	size_t nv = 0;
	for (size_t k = 0; k < r->n_steps; k++) {
		const json_t *v =
		    r->steps[k].js ? CT_JSON_GET(r->steps[k].js, "settings", key) : NULL;
		if (!json_is_string(v))
			continue;
		bool seen = false;
		for (size_t j = 0; j < nv; j++)
			seen |= !strcmp(vals[j], json_string_value(v));
		if (!seen && nv < max)
			vals[nv++] = json_string_value(v);
	}
	return nv;
}

void ct_rep_value_outcome(struct ct_rep *r, const char *key, const char *val, const json_t *ctx,
			  struct ct_rep_tally *o)
{
	*o = (struct ct_rep_tally){0};
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		if (!ct_rep_step_matches(s, key, val, ctx))
			continue;
		o->n++;
		if (!ct_rep_step_failed(s)) {
			if (s->rate_achieved > o->clean) {
				o->clean = s->rate_achieved;
				o->best = s;
			}
		} else if (!o->ff || s->rate_target < o->ff->rate_target) {
			o->ff = s;
		}
	}
}

/* The first sweep axis that is a kernel setting with two values or more:
 * the before/after of the run. NULL if none. */
const char *ct_rep_tuning_axis(struct ct_rep *r)
{
	const char *vals[2];
	for (size_t a = 0; a < r->n_sweep; a++)
		if (!strncmp(r->sweep_keys[a], "sysctl.", 7) &&
		    ct_rep_axis_values(r, r->sweep_keys[a], vals, 2) == 2)
			return r->sweep_keys[a];
	return NULL;
}
