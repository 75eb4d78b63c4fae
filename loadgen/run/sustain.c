/* sustain — the proof that a step is sustained (see sustain.h). */
#include "loadgen/run/sustain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/base/json.h"

static const char *const state_names[] = {"no_data", "plateau", "bounded", "growing",
					  "at_limit"};

const char *ct_sustain_state_name(enum ct_sustain_state s)
{
	return (unsigned)s < 5 ? state_names[s] : "?";
}

/* Least-squares slope and mean of (t, v) for from <= t < to; NAN values
 * skipped. Returns the number of points used. */
static size_t fit(const double *t, const double *v, size_t n, double from, double to,
		  double *slope, double *mean)
{
	double st = 0, sv = 0, stt = 0, stv = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (t[i] < from || t[i] >= to || isnan(v[i]))
			continue;
		st += t[i];
		sv += v[i];
		stt += t[i] * t[i];
		stv += t[i] * v[i];
		m++;
	}
	*slope = 0;
	*mean = m ? sv / (double)m : NAN;
	double den = (double)m * stt - st * st;
	if (m >= 2 && den > 0)
		*slope = ((double)m * stv - st * sv) / den;
	return m;
}

/* The last non-NAN value of v (and its index), or NAN. */
static double last_of(const double *v, size_t n, size_t *at)
{
	for (size_t i = n; i-- > 0;)
		if (!isnan(v[i])) {
			*at = i;
			return v[i];
		}
	return NAN;
}

/* The first step time at which v reached the limit less the margin. */
static double first_at_limit(const double *t, const double *v, const double *lim, double limit,
			     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double l = limit > 0 ? limit : (lim ? lim[i] : NAN);
		if (!isnan(v[i]) && l > 0 && v[i] >= l * (1 - CT_SUSTAIN_MARGIN))
			return t[i];
	}
	return NAN;
}

/* Past the horizon a count should have stopped growing; one still growing is
 * waved through only when it visibly slows down (its slope over the last
 * window under 0.9 of the window before), as a tuple-bounded count does, and
 * not when it grows on at the same pace (a timer the horizon did not know). */
static bool slowing(const double *t, const double *v, size_t n, double now, double win)
{
	double last, before, mean;

	fit(t, v, n, now - win, INFINITY, &last, &mean);
	if (fit(t, v, n, now - 2 * win, now - win, &before, &mean) < 2)
		return false;
	return last <= 0 || last < 0.9 * before;
}

static void analyse_one(const struct ct_sustain_spec *spec, const struct ct_sustain_count_spec *cs,
			const double *t, const double *v, const double *lim, size_t n,
			struct ct_sustain_count *c)
{
	size_t at = 0;
	double value = last_of(v, n, &at);

	*c = (struct ct_sustain_count){.state = CT_SUST_NO_DATA,
				       .value = value,
				       .plateau = NAN,
				       .fail_at_s = NAN,
				       .bound = NAN};
	c->limit = cs->limit > 0 ? cs->limit : (lim && !isnan(value) ? lim[at] : NAN);
	if (isnan(value) || !(c->limit > 0) || t[at] < CT_SUSTAIN_MIN_S)
		return;
	double now = t[at], settle = spec->settle_s > 0 ? spec->settle_s : CT_SUSTAIN_SETTLE_S;
	/* The slope over the last settle window, or the last half of a
	 * shorter step (its first instants say least about the trend). */
	double win = now >= 2 * settle ? settle : now / 2, mean = NAN;
	fit(t, v, n, now - win, INFINITY, &c->slope, &mean);
	double ceiling = c->limit * (1 - CT_SUSTAIN_MARGIN);
	double ahead = spec->horizon_s - now;
	if (ahead < spec->horizon_s / 2)
		ahead = spec->horizon_s / 2;
	c->bound = value + (c->slope > 0 ? c->slope * ahead : 0);
	if (value >= ceiling) {
		c->state = CT_SUST_AT_LIMIT;
		c->fail_at_s = first_at_limit(t, v, lim, cs->limit, n);
		return;
	}
	/* A plateau: watched a whole settle window, grown less than 1 % of
	 * its value (or 0.2 % of the limit, for counts near zero) over it. */
	double growth = fabs(c->slope) * settle;
	if (now >= settle && win >= settle &&
	    (growth <= 0.01 * value || growth <= 0.002 * c->limit)) {
		c->state = CT_SUST_PLATEAU;
		c->plateau = mean;
		return;
	}
	if (spec->steady && c->bound <= ceiling && (now < spec->horizon_s || slowing(t, v, n, now, win))) {
		c->state = CT_SUST_BOUNDED;
		return;
	}
	c->state = CT_SUST_GROWING;
	if (c->slope > 0)
		c->fail_at_s = now + (c->limit - value) / c->slope;
}

void ct_sustain_analyse(const struct ct_sustain_spec *spec, const double *t,
			const double *const *v, const double *const *lim, size_t n,
			struct ct_sustain_result *out)
{
	*out = (struct ct_sustain_result){.horizon_s = spec->horizon_s, .projection = -1};
	out->elapsed_s = n ? t[n - 1] : 0;
	out->n = spec->n;
	bool all = true;
	double first = INFINITY;

	for (size_t k = 0; k < spec->n; k++) {
		struct ct_sustain_count *c = &out->c[k];
		analyse_one(spec, &spec->c[k], t, v[k], lim ? lim[k] : NULL, n, c);
		if (c->state != CT_SUST_PLATEAU && c->state != CT_SUST_BOUNDED)
			all = false;
		if (!isnan(c->fail_at_s) && c->fail_at_s < first) {
			first = c->fail_at_s;
			out->projection = (int)k;
		}
	}
	out->unmeasured = -1;
	for (size_t k = 0; k < spec->n_u; k++) {
		const struct ct_sustain_unmeasured *u = &spec->u[k];
		if (spec->rate * u->timer_s <= u->capacity * (1 - CT_SUSTAIN_MARGIN) ||
		    out->elapsed_s >= u->timer_s)
			continue;
		all = false;
		if (out->unmeasured < 0)
			out->unmeasured = (int)k;
	}
	out->sustained = all;
}

/* ---- the tracker ---------------------------------------------------------------- */

struct ct_sustain {
	struct ct_sustain_spec spec;
	double *t;
	double *v[CT_SUSTAIN_MAX_COUNTS], *lim[CT_SUSTAIN_MAX_COUNTS];
	size_t n, cap;
};

struct ct_sustain *ct_sustain_new(const struct ct_sustain_spec *spec)
{
	struct ct_sustain *s = calloc(1, sizeof(*s));
	if (s)
		s->spec = *spec;
	return s;
}

void ct_sustain_free(struct ct_sustain *s)
{
	if (!s)
		return;
	free(s->t);
	for (size_t k = 0; k < CT_SUSTAIN_MAX_COUNTS; k++) {
		free(s->v[k]);
		free(s->lim[k]);
	}
	free(s);
}

static int grow(struct ct_sustain *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	double *t = realloc(s->t, cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	s->t = t;
	for (size_t k = 0; k < s->spec.n; k++) {
		double *v = realloc(s->v[k], cap * sizeof(*v));
		if (v)
			s->v[k] = v;
		double *l = realloc(s->lim[k], cap * sizeof(*l));
		if (l)
			s->lim[k] = l;
		if (!v || !l)
			return -ENOMEM;
	}
	s->cap = cap;
	return 0;
}

int ct_sustain_add(struct ct_sustain *s, const json_t *sample, double t_step)
{
	if (s->n == s->cap && grow(s) < 0)
		return -ENOMEM;
	s->t[s->n] = t_step;
	for (size_t k = 0; k < s->spec.n; k++) {
		const struct ct_sustain_count_spec *cs = &s->spec.c[k];
		const json_t *ns = CT_JSON_GET(sample, "ns", ct_role_name(cs->role));
		s->v[k][s->n] = ct_json_nan(json_object_get(ns, cs->key));
		s->lim[k][s->n] =
		    cs->limit_key ? ct_json_nan(json_object_get(ns, cs->limit_key)) : NAN;
	}
	s->n++;
	return 0;
}

void ct_sustain_eval(const struct ct_sustain *s, struct ct_sustain_result *out)
{
	ct_sustain_analyse(&s->spec, s->t, (const double *const *)s->v,
			   (const double *const *)s->lim, s->n, out);
}

/* ---- what it says ---------------------------------------------------------------- */

static json_t *num_or_null(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(round(v * 100) / 100);
}

void ct_sustain_to_step(const struct ct_sustain_spec *spec, const struct ct_sustain_result *r,
			enum ct_sustain_mode mode, json_t *step)
{
	json_t *plateau = json_object(), *counts = json_array();

	for (size_t k = 0; k < r->n; k++) {
		const struct ct_sustain_count *c = &r->c[k];
		json_object_set_new(plateau, spec->c[k].name, num_or_null(c->plateau));
		json_array_append_new(
		    counts, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "count",
				      spec->c[k].name, "limit_name", spec->c[k].limit_name, "state",
				      ct_sustain_state_name(c->state), "value",
				      num_or_null(c->value), "limit", num_or_null(c->limit),
				      "slope_per_s", num_or_null(c->slope), "bound_at_horizon",
				      num_or_null(c->bound), "fail_at_s", num_or_null(c->fail_at_s)));
	}
	json_object_set_new(step, "sustained", json_boolean(r->sustained));
	json_object_set_new(step, "horizon_s", num_or_null(r->horizon_s));
	json_object_set_new(step, "plateau", plateau);
	json_t *proj = json_null();
	if (!r->sustained && r->projection >= 0) {
		const struct ct_sustain_count *c = &r->c[r->projection];
		proj = json_pack("{s:s, s:s, s:o}", "limit", spec->c[r->projection].limit_name,
				 "count", spec->c[r->projection].name, "fail_at_s",
				 num_or_null(c->fail_at_s));
	}
	json_object_set_new(step, "projection", proj);
	json_t *unm = json_array();
	for (size_t k = 0; k < spec->n_u; k++)
		json_array_append_new(unm, json_pack("{s:s, s:o, s:o}", "limit_name",
						      spec->u[k].limit_name, "capacity",
						      num_or_null(spec->u[k].capacity), "timer_s",
						      num_or_null(spec->u[k].timer_s)));
	json_object_set_new(step, "sustain",
			    json_pack("{s:s, s:f, s:f, s:o, s:o}", "mode", ct_sustain_mode_name(mode),
				      "settle_s", spec->settle_s, "elapsed_s", r->elapsed_s,
				      "counts", counts, "unmeasured", unm));
}

void ct_sustain_why(const struct ct_sustain_spec *spec, const struct ct_sustain_result *r,
		    char *buf, size_t len)
{
	if (r->sustained) {
		snprintf(buf, len, "sustained: every count stays below its limit");
		return;
	}
	if (r->projection >= 0) {
		const struct ct_sustain_count_spec *cs = &spec->c[r->projection];
		const struct ct_sustain_count *c = &r->c[r->projection];
		if (c->state == CT_SUST_AT_LIMIT)
			snprintf(buf, len, "%s (%s) reached %.0f of %.0f at %.0f s", cs->limit_name,
				 cs->name, c->value, c->limit, c->fail_at_s);
		else
			snprintf(buf, len,
				 "%s (%s) at %.0f, growing %.0f/s, would reach %.0f at about %.0f s, "
				 "past this %.0f s step",
				 cs->limit_name, cs->name, c->value, c->slope, c->limit, c->fail_at_s,
				 r->elapsed_s);
		return;
	}
	if (r->unmeasured >= 0) {
		const struct ct_sustain_unmeasured *u = &spec->u[r->unmeasured];
		snprintf(buf, len,
			 "not enough time to tell: %s is not sampled here, and at %.0f/s its %.0f "
			 "would be used up in %.0f s, before its %.0f s timer frees any; this step "
			 "ran %.1f s",
			 u->limit_name, spec->rate, u->capacity, u->capacity / spec->rate,
			 u->timer_s, r->elapsed_s);
		return;
	}
	snprintf(buf, len,
		 "not enough time to tell: %.1f s run, its limits' horizon is %.0f s and no count "
		 "is proven to stay below its limit",
		 r->elapsed_s, r->horizon_s);
}
