/* sweep — the [sweep] axes: each line's key resolved ("rate" -> load.rate,
 * a bare sysctl name -> its section), its values expanded ("100..5000 *2",
 * "0,1"), and every value tried on a copy of the scenario, so a bad one is
 * an error with its line before anything runs. The points themselves are
 * plan.c's. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "loadgen/scenario/scenario_int.h"
#include "loadgen/scenario/sysctl_keys.h"

#define MAX_SWEEP_POINTS 1000
#define MAX_AXIS_VALUES	 1000

int ct_scn_axis_push(struct ct_sweep_axis *ax, const char *v)
{
	char **nv;

	if (ax->n >= MAX_AXIS_VALUES)
		return -E2BIG;
	nv = realloc(ax->values, (ax->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	ax->values = nv;
	if (!(nv[ax->n] = strdup(v)))
		return -ENOMEM;
	ax->n++;
	return 0;
}

void ct_scn_axis_free(struct ct_sweep_axis *ax)
{
	for (size_t i = 0; i < ax->n; i++)
		free(ax->values[i]);
	free(ax->values);
	ax->values = NULL;
	ax->n = 0;
}

static int push_num(struct ct_sweep_axis *ax, double x, const char *unit)
{
	char buf[64];

	ct_scn_fmt(buf, sizeof(buf), "%.10g%s", x, unit);
	return ct_scn_axis_push(ax, buf);
}

/* "1.5k/s" -> number 1.5, unit "k/s". */
static int split_num_unit(const char *s, double *num, char *unit, size_t ulen)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -EINVAL;
	errno = 0;
	*num = strtod(s, &e);
	if (errno || e == s || !isfinite(*num))
		return -EINVAL;
	while (isspace((unsigned char)*e))
		e++;
	ct_scn_fmt(unit, ulen, "%s", e);
	for (size_t n = strlen(unit); n && isspace((unsigned char)unit[n - 1]); n--)
		unit[n - 1] = '\0';
	return 0;
}

/* "A..B *F" or "A..B +S", split and checked. */
struct range {
	double a, b, step;
	bool mul;
	char unit[32];
};

static int parse_range(const char *spec, struct range *r, char *why, size_t wlen)
{
	char a_s[64], rest[128], b_s[64], unit_b[32], unit_s[32];
	const char *dots = strstr(spec, ".."), *op;

	ct_scn_fmt(a_s, sizeof(a_s), "%.*s", (int)(dots - spec), spec);
	ct_scn_fmt(rest, sizeof(rest), "%s", dots + 2);
	op = strpbrk(rest, "*+");
	if (!op) {
		ct_scn_fmt(why, wlen,
			   "range '%s' needs a step: '*FACTOR' or '+STEP' (e.g. 100..5000 *2)",
			   spec);
		return -EINVAL;
	}
	r->mul = *op == '*';
	ct_scn_fmt(b_s, sizeof(b_s), "%.*s", (int)(op - rest), rest);
	if (split_num_unit(a_s, &r->a, r->unit, sizeof(r->unit)) < 0 ||
	    split_num_unit(b_s, &r->b, unit_b, sizeof(unit_b)) < 0 ||
	    split_num_unit(op + 1, &r->step, unit_s, sizeof(unit_s)) < 0)
		ct_scn_fmt(why, wlen,
			   "'%s' is not a range; write LOW..HIGH *FACTOR or LOW..HIGH +STEP", spec);
	else if (strcmp(r->unit, unit_b) != 0)
		ct_scn_fmt(why, wlen,
			   "range '%s': write both bounds in the same unit ('%s' vs '%s')", spec,
			   r->unit, unit_b);
	else if (r->mul && unit_s[0])
		ct_scn_fmt(why, wlen, "range '%s': a factor has no unit", spec);
	else if (!r->mul && unit_s[0] && strcmp(unit_s, r->unit) != 0)
		ct_scn_fmt(why, wlen, "range '%s': write the step in the unit of the bounds ('%s')",
			   spec, r->unit);
	else if (r->a > r->b)
		ct_scn_fmt(why, wlen, "range '%s' runs backwards; write LOW..HIGH", spec);
	else if (r->mul ? !(r->step > 1.0) : !(r->step > 0.0))
		ct_scn_fmt(why, wlen, "range '%s': the %s must be more than %s", spec,
			   r->mul ? "factor" : "step", r->mul ? "1" : "0");
	else if (r->mul && !(r->a > 0.0))
		ct_scn_fmt(why, wlen, "range '%s': a multiplied range must start above 0", spec);
	else
		return 0;
	return -EINVAL;
}

/* "A..B *F" or "A..B +S": A, A*F (or A+S) ... while <= B; B itself is
 * added when the progression overshoots it, so both bounds are always run. */
static int expand_range(struct ct_sweep_axis *ax, const char *spec, char *why, size_t wlen)
{
	struct range r;
	int rc;

	if (parse_range(spec, &r, why, wlen) < 0)
		return -EINVAL;
	for (double x = r.a; x <= r.b * (1 + 1e-12); x = r.mul ? x * r.step : x + r.step) {
		if ((rc = push_num(ax, x, r.unit)) < 0)
			goto too_many;
	}
	/* Overshoot: the last value fell short of B; run B as well. */
	if (ax->n && fabs(strtod(ax->values[ax->n - 1], NULL) - r.b) > 1e-9 * (r.b > 1 ? r.b : 1))
		if ((rc = push_num(ax, r.b, r.unit)) < 0)
			goto too_many;
	return 0;
too_many:
	if (rc == -E2BIG)
		ct_scn_fmt(why, wlen, "range '%s' has more than %d values", spec, MAX_AXIS_VALUES);
	else
		ct_scn_fmt(why, wlen, "out of memory");
	return -EINVAL;
}

static int expand_list(struct ct_sweep_axis *ax, const char *spec, char *why, size_t wlen)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int rc = 0;

	if (!copy) {
		ct_scn_fmt(why, wlen, "out of memory");
		return -ENOMEM;
	}
	/* Keep empty items visible to reject them ("0,,1"). */
	for (tok = copy;; tok = save) {
		char item[128];
		char *comma = strchr(tok, ',');

		if (comma)
			*comma = '\0';
		save = comma ? comma + 1 : NULL;
		ct_scn_unquote(tok, item, sizeof(item));
		if (!*item) {
			ct_scn_fmt(why, wlen, "empty value in list '%s'", spec);
			rc = -EINVAL;
			break;
		}
		if ((rc = ct_scn_axis_push(ax, item)) < 0) {
			ct_scn_fmt(why, wlen,
				   rc == -E2BIG ? "more than 1000 values" : "out of memory");
			break;
		}
		if (!save)
			break;
	}
	free(copy);
	return rc;
}

/* The axis's key, "section.key", with a sysctl's modern name. */
static int axis_key(struct ct_sweep_axis *ax, const struct ct_scn_raw_axis *rs,
		    const struct ct_scn_where *w, struct ct_err *err)
{
	char section[64], key[128], why[300];
	enum ct_sysctl_scope scope;
	const struct ct_sysctl_key *k;
	const char *near;
	bool plain, sysctl;

	if (ct_scn_split_dotted(rs->key, section, sizeof(section), key, sizeof(key), why,
				sizeof(why)) < 0)
		return ct_scn_fail(err, w, "sweep", rs->key, "%s", why);
	if (strcmp(section, "sweep") == 0 || strcmp(section, "expect") == 0 ||
	    (strcmp(section, "search") == 0 && strcmp(key, "fail_when") == 0))
		return ct_scn_fail(err, w, "sweep", rs->key, "[%s] %s cannot be swept", section,
				   key);
	plain = ct_scn_is_plain_section(section);
	sysctl = ct_scn_sysctl_scope_of(section, &scope) == 0;
	if (!plain && !sysctl)
		return ct_scn_fail(err, w, "sweep", rs->key, "unknown section '%s'", section);
	if (plain && !ct_scn_key_find(section, key)) {
		near = ct_scn_nearest_key(section, key);
		return ct_scn_fail(err, w, "sweep", rs->key, "unknown key %s.%s%s%s%s", section,
				   key, near ? "; did you mean '" : "", near ? near : "",
				   near ? "'?" : "");
	}
	if (!sysctl) {
		if (snprintf(ax->key, sizeof(ax->key), "%s.%s", section, key) >=
		    (int)sizeof(ax->key))
			return ct_scn_fail(err, w, "sweep", rs->key, "key too long");
		return 0;
	}
	if (!(k = ct_sysctl_key_resolve(key, NULL, why, sizeof(why))))
		return ct_scn_fail(err, w, "sweep", rs->key, "%s", why);
	ct_scn_fmt(ax->key, sizeof(ax->key), "%s.%s", section, k->name);
	return 0;
}

/* One [sweep] line: its key, its values; *points grows by its count. */
static int add_axis(struct ct_scenario *sc, const struct ct_scn_raw_axis *rs, const char *path,
		    double *points, struct ct_err *err)
{
	struct ct_sweep_axis *ax = &sc->sweep[sc->n_sweep];
	struct ct_scn_where w = {path, rs->line};
	char why[300], spec[256];
	int rc;

	if (axis_key(ax, rs, &w, err) < 0)
		return -EINVAL;
	for (size_t j = 0; j < sc->n_sweep; j++)
		if (strcmp(sc->sweep[j].key, ax->key) == 0)
			return ct_scn_fail(err, &w, "sweep", rs->key,
					   "%s is already swept at line %d", ax->key,
					   sc->sweep[j].line);
	ax->line = rs->line;
	ct_scn_unquote(rs->values, spec, sizeof(spec));
	if (strstr(spec, ".."))
		rc = expand_range(ax, spec, why, sizeof(why));
	else
		rc = expand_list(ax, spec, why, sizeof(why));
	sc->n_sweep++;
	if (rc < 0)
		return ct_scn_fail(err, &w, "sweep", rs->key, "%s", why);
	*points *= (double)ax->n;
	if (*points > MAX_SWEEP_POINTS)
		return ct_scn_fail(
		    err, &w, "sweep", rs->key,
		    "the sweep has %.0f points or more (limit %d); use fewer values or "
		    "split the scenario",
		    *points, MAX_SWEEP_POINTS);
	return 0;
}

/* Each value, alone, on a throwaway copy: a bad one is an error now, with
 * its line, not minutes into a run. */
static int try_values(const struct ct_scenario *sc, const char *path, struct ct_err *err)
{
	for (size_t i = 0; i < sc->n_sweep; i++) {
		const struct ct_sweep_axis *ax = &sc->sweep[i];
		struct ct_scn_where w = {path, ax->line};
		char section[64], key[128], why[300];

		ct_scn_split_dotted(ax->key, section, sizeof(section), key, sizeof(key), why,
				    sizeof(why));
		for (size_t j = 0; j < ax->n; j++) {
			struct ct_scenario *t = ct_scenario_dup(sc);
			struct ct_err e2;
			int rc;

			if (!t)
				return ct_scn_fail(err, &w, "sweep", ax->key, "out of memory");
			rc = ct_scn_set_section_key(t, &w, &e2, section, key, ax->values[j], false);
			if (rc == 0)
				rc = ct_scn_check_whole(t, &w, NULL, &e2);
			ct_scenario_free(t);
			if (rc < 0) {
				/* e2 already says FILE:LINE: [section] key: ... */
				ct_err_set(err, CT_EXIT_USAGE, "%s (sweep value '%s' of %s)",
					   e2.msg, ax->values[j], ax->key);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int ct_scn_sweep_build(struct ct_scenario *sc, const char *path, const struct ct_scn_raw_axis *raw,
		       size_t n, struct ct_err *err)
{
	double points = 1;

	if (!n)
		return 0;
	sc->sweep = calloc(n, sizeof(*sc->sweep));
	if (!sc->sweep)
		return ct_scn_fail(err, &(struct ct_scn_where){path, 0}, "sweep", NULL,
				   "out of memory");
	for (size_t i = 0; i < n; i++)
		if (add_axis(sc, &raw[i], path, &points, err) < 0)
			return -EINVAL;
	/* The rate may come from the sweep alone. */
	if (!(sc->load.rate > 0.0))
		for (size_t i = 0; i < sc->n_sweep; i++)
			if (strcmp(sc->sweep[i].key, "load.rate") == 0)
				ct_parse_rate(sc->sweep[i].values[0], &sc->load.rate, NULL, 0);
	return try_values(sc, path, err);
}
