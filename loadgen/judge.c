#include "loadgen/judge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/cli.h"
#include "loadgen/expr.h"

int ct_json_num(const json_t *v, double *out)
{
	if (json_is_integer(v))
		*out = (double)json_integer_value(v);
	else if (json_is_real(v))
		*out = json_real_value(v);
	else if (json_is_boolean(v))
		*out = json_is_true(v) ? 1 : 0;
	else
		return -ENOENT;
	return 0;
}

/* A dotted path inside an object ("failures.timeout", "ct.drop"). */
const json_t *ct_json_path(const json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

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
		return ct_json_num(json_object_get(json_array_get(th, n - 1), "measured_cps"), value);
	}
	if (!lc->step)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]); i++) {
		size_t pl = strlen(lat[i].prefix);
		if (!strncmp(name, lat[i].prefix, pl)) {
			const json_t *o =
			    json_object_get(json_object_get(lc->step, lat[i].field), name + pl);
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
	    (!strncmp(name, "tw.", 3) && !json_object_get(lc->step, "tw"))) {
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
	for (size_t i = 0; i < sc->n_expect; i++) {
		const struct ct_cond *c = &sc->expect[i];
		char err[256] = "", why[512] = "";
		bool held = false;
		struct ct_expr *e = ct_expr_parse(c->text, err, sizeof(err));
		if (!e) {
			ct_error("%s:%d: [expect] '%s': %s", sc->path, c->line, c->text, err);
			code = CT_EXIT_USAGE;
			continue;
		}
		int rc = ct_expr_eval(e, ct_judge_lookup, &lc, &held, why, sizeof(why));
		ct_expr_free(e);
		if (rc < 0) {
			ct_error("%s:%d: [expect] '%s': %s (see ctload(1), EXPECT VARIABLES)",
				 sc->path, c->line, c->text, why);
			code = CT_EXIT_USAGE;
			continue;
		}
		json_array_append_new(out, json_pack("{s:s, s:i, s:b, s:s}", "text", c->text,
						     "line", c->line, "held", held, "why", why));
		if (!held) {
			ct_error("%s:%d: expect failed: %s (%s)", sc->path, c->line, c->text, why);
			if (code == CT_EXIT_OK)
				code = CT_EXIT_EXPECT;
		} else {
			ct_info("expect held: %s (%s)", c->text, why);
		}
	}
	return code;
}

double ct_json_d(const json_t *o, const char *path)
{
	double v = 0;
	ct_json_num(ct_json_path(o, path), &v);
	return v;
}
