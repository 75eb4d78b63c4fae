/* points — the points of a sweep, compared like with like.
 *
 * A sweep of several keys (nf_conntrack_max x tcp_tw_reuse x the port
 * range) has one point per combination. Two values of one key compare only
 * between points whose other keys are alike (their "context"); load.rate
 * is no context, as every value is tried at the same rates. The headline of
 * such a sweep groups the points by what happened and names each group's
 * settings factored, in plain words: "with a connection table of
 * 65,536 entries, TIME_WAIT ports reused (whatever the client port range),
 * 1,000 conn/s held, sustained". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/report/report_int.h"

#define MAX_KEYS CT_REP_MAX_SWEEP

size_t ct_rep_other_keys(struct ct_rep *r, const char *key, const char **keys, size_t max)
{
	size_t n = 0;
	for (size_t a = 0; a < r->n_sweep && n < max; a++)
		if ((!key || strcmp(r->sweep_keys[a], key)) &&
		    strcmp(r->sweep_keys[a], "load.rate"))
			keys[n++] = r->sweep_keys[a];
	return n;
}

json_t *ct_rep_contexts(struct ct_rep *r, const char *const *keys, size_t nk)
{
	json_t *out = json_array();
	for (size_t k = 0; out && k < r->n_steps; k++) {
		const json_t *set =
		    r->steps[k].js ? json_object_get(r->steps[k].js, "settings") : NULL;
		json_t *ctx = json_object();
		bool whole = set != NULL || nk == 0;
		for (size_t i = 0; ctx && set && i < nk; i++) {
			const json_t *v = json_object_get(set, keys[i]);
			if (json_is_string(v))
				json_object_set(ctx, keys[i], (json_t *)v);
			else
				whole = false;
		}
		bool seen = !ctx || !whole;
		for (size_t j = 0; !seen && j < json_array_size(out); j++)
			seen = json_equal(json_array_get(out, j), ctx);
		if (!seen)
			json_array_append(out, ctx);
		json_decref(ctx);
	}
	if (out && !json_array_size(out))
		json_array_append_new(out, json_object());
	return out;
}

void ct_rep_ctx_text(const json_t *ctx, char *buf, size_t len)
{
	ct_rep_settings_text(ctx, true, buf, len);
}

/* What the steps of key = val with ctx did, in words for people; u is the
 * unit after a rate ("/s", " conn/s"). Returns "ok", "uns" or "bad". */
static const char *clause(struct ct_rep *r, const char *key, const char *val, const json_t *ctx,
			  const char *u, char *buf, size_t len)
{
	struct ct_rep_tally o;
	char held[120] = "";
	ct_rep_value_outcome(r, key, val, ctx, &o);
	const struct ct_rep_step *b = o.best;
	const char *sus = !b || !b->has_sustain ? ""
			  : b->sustain_off	? " for its duration only"
			  : b->sustained	? ", sustained"
						: "";
	if (o.ff && o.clean > 0)
		snprintf(held, sizeof(held), "%s%s held%s, then ", CT_REP_FC(o.clean), u, sus);
	if (o.ff && o.ff->outcome == CT_REP_UNSUSTAINED) {
		snprintf(buf, len, "%s%s%s held %s s but is not proven: %s", held,
			 CT_REP_FC(o.ff->rate_target), u, CT_REP_FC(o.ff->duration_s),
			 o.ff->proof_short);
		return "uns";
	}
	if (o.ff) {
		snprintf(buf, len, "%s%s at %s%s", held, ct_rep_outcome_phrase(o.ff),
			 CT_REP_FC(o.ff->rate_target), u);
		return "bad";
	}
	if (!o.n) {
		snprintf(buf, len, "not run");
		return "";
	}
	if (o.n == 1)
		snprintf(buf, len, "%s%s held%s", CT_REP_FC(o.clean), u, sus);
	else
		snprintf(buf, len, "every step held%s, up to %s%s", sus, CT_REP_FC(o.clean), u);
	return "ok";
}

const char *ct_rep_outcome_short(struct ct_rep *r, const char *key, const char *val,
				 const json_t *ctx, char *buf, size_t len)
{
	return clause(r, key, val, ctx, "/s", buf, len);
}

/* Distinct values of key over the points pts (objects), in order. */
static size_t values_in(const json_t *pts, const char *key, const char **vals, size_t max)
{
	size_t n = 0, i;
	const json_t *p;
	json_array_foreach(pts, i, p)
	{
		const char *v = json_string_value(json_object_get(p, key));
		bool seen = !v;
		for (size_t j = 0; !seen && j < n; j++)
			seen = !strcmp(vals[j], v);
		if (!seen && n < max)
			vals[n++] = v;
	}
	return n;
}

/* a then b at buf + *used. */
static void append(char *buf, size_t len, size_t *used, const char *a, const char *b)
{
	int w = snprintf(buf + *used, len - *used, "%s%s", a, b);
	if (w > 0 && (size_t)w < len - *used)
		*used += (size_t)w;
}

/* Points that are every combination of their keys' values, in plain words
 * (plain.c): a key with one value, "v1 or v2" for some, "(whatever the
 * k)" for all of the sweep's values. Others are split on a key and told part by part. */
static void describe(const json_t *pts, const json_t *all, const char *const *keys, size_t nk,
		     char *buf, size_t len, size_t *used)
{
	const char *vals[16], *every[16], *anys[16];
	size_t product = 1, nany = 0, split = nk, start = *used;
	for (size_t k = 0; k < nk; k++) {
		size_t n = values_in(pts, keys[k], vals, 16);
		product *= n ? n : 1;
		if (n > 1 && split == nk)
			split = k;
	}
	if (product != json_array_size(pts) && split < nk) {
		size_t n = values_in(pts, keys[split], vals, 16), i;
		const json_t *p;
		for (size_t j = 0; j < n; j++) {
			json_t *part = json_array();
			json_array_foreach(pts, i, p)
			{
				const char *v = json_string_value(json_object_get(p, keys[split]));
				if (v && !strcmp(v, vals[j]))
					json_array_append(part, (json_t *)p);
			}
			if (j)
				append(buf, len, used, " and with ", "");
			describe(part, all, keys, nk, buf, len, used);
			json_decref(part);
		}
		return;
	}
	for (size_t k = 0; k < nk; k++) {
		size_t n = values_in(pts, keys[k], vals, 16);
		if (n > 1 && n == values_in(all, keys[k], every, 16)) {
			anys[nany++] = keys[k];
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			char w[256];
			ct_rep_setting_words(keys[k], vals[j], w, sizeof(w));
			append(buf, len, used, j ? " or " : *used > start ? ", " : "", w);
		}
	}
	bool fixed = *used > start;
	for (size_t j = 0; j < nany; j++) {
		char w[256];
		ct_rep_key_words(anys[j], w, sizeof(w));
		append(buf, len, used, j ? " and " : fixed ? " (whatever " : "whatever ", w);
	}
	if (nany && fixed)
		append(buf, len, used, ")", "");
}

/* One group of the headline: the points in `order` whose clause and class
 * equal those of point i (marked done), described and told. */
static void tell_group(struct ct_rep *r, const json_t *pts, const char *const *keys, size_t nk,
		       char (*cl)[600], const char **cls, bool *done, size_t i, char *buf,
		       size_t len, size_t *used)
{
	json_t *group = json_array();
	for (size_t j = i; group && j < json_array_size(pts); j++)
		if (!done[j] && !strcmp(cls[j], cls[i]) && !strcmp(cl[j], cl[i])) {
			json_array_append(group, json_array_get(pts, j));
			done[j] = true;
		}
	append(buf, len, used, *used ? "; " : "", "with ");
	describe(group, pts, keys, nk, buf, len, used);
	append(buf, len, used, ", ", cl[i]);
	json_decref(group);
	(void)r;
}

bool ct_rep_points_headline(struct ct_rep *r, char *buf, size_t len, bool *bad)
{
	const char *keys[MAX_KEYS], *cls[64];
	static const char *const order[] = {"ok", "uns", "bad", ""};
	size_t nk = ct_rep_other_keys(r, NULL, keys, MAX_KEYS), used = 0;
	json_t *pts = nk >= 2 ? ct_rep_contexts(r, keys, nk) : NULL;
	size_t np = json_array_size(pts);
	char(*cl)[600] = np && np <= 64 ? calloc(np, sizeof(*cl)) : NULL;
	bool done[64] = {0};

	if (!cl) {
		json_decref(pts);
		return false;
	}
	*bad = false;
	buf[0] = 0;
	for (size_t i = 0; i < np; i++) {
		cls[i] =
		    clause(r, NULL, NULL, json_array_get(pts, i), " conn/s", cl[i], sizeof(cl[i]));
		*bad |= strcmp(cls[i], "ok") != 0;
	}
	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
		for (size_t i = 0; i < np; i++)
			if (!done[i] && !strcmp(cls[i], order[o]))
				tell_group(r, pts, keys, nk, cl, cls, done, i, buf, len, &used);
	if (used + 2 < len)
		strcat(buf, ".");
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	free(cl);
	json_decref(pts);
	return true;
}
