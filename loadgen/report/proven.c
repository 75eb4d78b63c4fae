/* proven — a step's sustain check in words.
 *
 * summary.json gives each step of a run since the check (run/sustain.h):
 * "sustained", "horizon_s", "plateau", "projection" {limit, count,
 * fail_at_s} and "sustain" {mode, settle_s, elapsed_s, counts[], why}. A
 * step proven sustained is told with the counts that prove it ("conntrack
 * entries level off at 26,812 of 65,536"); one that held but is not proven
 * with its projection ("the conntrack table would fill at about 65 s"), so
 * that the page never calls it held. With [load] sustain = off a step that
 * held is told as held for its duration only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/base/json.h"
#include "loadgen/report/report_int.h"

/* The limits of the model (model/model.h names) in words. */
static const struct limit_words {
	const char *name;  /* the model's name of the limit */
	const char *noun;  /* what runs out */
	const char *count; /* what its count counts */
	const char *would; /* what would happen when it runs out */
} limits[] = {
    {"client_ports", "the client's ports", "client ports in use",
     "the client would run out of ports"},
    {"conntrack", "the conntrack table", "conntrack entries", "the conntrack table would fill"},
    {"nat_ports", "the NAT's source ports", "NAT entries", "the NAT would run out of source ports"},
    {"ct_chains", "the conntrack hash chains", "conntrack entries",
     "the conntrack hash chains would pass the kernel's cap"},
    {"tw_buckets.client", "the client's TIME_WAIT buckets", "client TIME_WAIT sockets",
     "the client's TIME_WAIT buckets would run out"},
    {"tw_buckets.server", "the server's TIME_WAIT buckets", "server TIME_WAIT sockets",
     "the server's TIME_WAIT buckets would run out"},
    {"listen_backlog", "the server's listen backlog", "queued connections",
     "the server's listen backlog would overflow"},
    {"connect_cliff", "connect()'s search for a free port", "client ports in use",
     "connect() would slow down searching for a free port"},
};

static const struct limit_words *limit_words(const char *name)
{
	for (size_t i = 0; name && i < sizeof(limits) / sizeof(limits[0]); i++)
		if (!strcmp(name, limits[i].name))
			return &limits[i];
	return NULL;
}

const char *ct_rep_limit_noun(const char *name)
{
	const struct limit_words *w = limit_words(name);
	return w ? w->noun : "a limit";
}

/* Seconds for people: "12 s", "8.3 s". */
static const char *fmt_s(double s, char *buf, size_t len)
{
	if (!isfinite(s))
		snprintf(buf, len, "?");
	else if (s < 10 && s != floor(s))
		snprintf(buf, len, "%.1f", s);
	else
		snprintf(buf, len, "%.0f", s);
	return buf;
}
#define FS(v) fmt_s((v), (char[32]){0}, 32)

static double num(const json_t *o, const char *key)
{
	return ct_json_nan(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* src into dst, cut to its size (a shorter field of the same text). */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Append to buf at *used, "; " between parts. */
static void add_part(char *buf, size_t len, size_t *used, const char *part)
{
	int w = snprintf(buf + *used, len - *used, "%s%s", *used ? "; " : "", part);
	if (w > 0 && (size_t)w < len - *used)
		*used += (size_t)w;
}

/* What proves a sustained step: each count on a plateau or bounded below
 * its limit, or a run past the horizon when there was nothing to watch. */
static void proof_text(struct ct_rep_step *s, const json_t *js, const json_t *sus)
{
	const json_t *counts = json_object_get(sus, "counts"), *c;
	size_t i, used = 0;
	char part[200], body[sizeof(s->proof)] = "";

	json_array_foreach(counts, i, c)
	{
		const struct limit_words *w = limit_words(str(c, "limit_name"));
		const char *state = str(c, "state"), *what = w ? w->count : str(c, "count");
		double v = num(CT_JSON_GET(js, "plateau"), str(c, "count"));
		if (isnan(v))
			v = num(c, "value");
		if (!state || !what)
			continue;
		if (!strcmp(state, "plateau"))
			snprintf(part, sizeof(part), "%s level off at %s of %s", what, CT_REP_FC(v),
				 CT_REP_FC(num(c, "limit")));
		else if (!strcmp(state, "bounded"))
			snprintf(part, sizeof(part),
				 "%s stay under %s of %s through the %s s horizon", what,
				 CT_REP_FC(num(c, "bound_at_horizon")), CT_REP_FC(num(c, "limit")),
				 FS(s->horizon_s));
		else
			continue;
		add_part(body, sizeof(body), &used, part);
	}
	if (!used && s->horizon_s > 0)
		snprintf(body, sizeof(body),
			 "it ran past its %s s horizon, the longest timer of "
			 "its limits",
			 FS(s->horizon_s));
	else if (!used)
		snprintf(body, sizeof(body), "no limit with a timer applies");
	snprintf(s->proof, sizeof(s->proof), "proven: %s", body);
}

/* Why a step that held is not proven: the count that runs out first and
 * when, or that the step was too short to tell. */
static void projection_text(struct ct_rep_step *s, const json_t *js, const json_t *sus)
{
	const json_t *proj = json_object_get(js, "projection"), *c = NULL, *x;
	double ran = num(sus, "elapsed_s");
	size_t i;

	if (isnan(ran))
		ran = s->duration_s;
	if (json_is_object(proj)) {
		const char *want = str(proj, "count");
		/* With NAT one count (router.ct.count) is watched against two
		 * limits, the table and the NAT's ports: take the one named. */
		json_array_foreach(json_object_get(sus, "counts"), i, x)
		{
			const char *ln = str(x, "limit_name"), *pl = str(proj, "limit");
			if (want && str(x, "count") && !strcmp(str(x, "count"), want) &&
			    (!c || (ln && pl && !strcmp(ln, pl))))
				c = x;
		}
		const struct limit_words *w = limit_words(str(proj, "limit"));
		const char *state = str(c, "state");
		double at = num(proj, "fail_at_s");
		char nums[120] = "";
		if (c && !isnan(num(c, "value")))
			snprintf(nums, sizeof(nums), " (%s of %s%s%s%s)",
				 CT_REP_FC(num(c, "value")), CT_REP_FC(num(c, "limit")),
				 num(c, "slope_per_s") > 0 ? ", growing " : "",
				 num(c, "slope_per_s") > 0 ? CT_REP_FC(num(c, "slope_per_s")) : "",
				 num(c, "slope_per_s") > 0 ? "/s" : "");
		if (state && !strcmp(state, "at_limit"))
			snprintf(s->proof_short, sizeof(s->proof_short),
				 "%s reached its limit at %s s", w ? w->noun : str(proj, "count"),
				 FS(at));
		else if (!isnan(at))
			snprintf(s->proof_short, sizeof(s->proof_short), "%s at about %s s",
				 w ? w->would : "a count would reach its limit", FS(at));
		else
			snprintf(s->proof_short, sizeof(s->proof_short),
				 "%s still grow: not enough time to tell",
				 w ? w->count : "a count");
		snprintf(s->proof, sizeof(s->proof), "%s%s", s->proof_short, nums);
		return;
	} else if (s->horizon_s > 0 && !isnan(ran)) {
		snprintf(s->proof, sizeof(s->proof),
			 "not enough time to tell: it ran %s s, and its limits take %s s to show",
			 FS(ran), FS(s->horizon_s));
	} else {
		snprintf(s->proof, sizeof(s->proof), "%s",
			 str(sus, "why") ? str(sus, "why") : "not enough time to tell");
	}
	copy_text(s->proof_short, sizeof(s->proof_short), s->proof);
}

void ct_rep_proven_read(struct ct_rep_step *s, const json_t *js)
{
	const json_t *sus = json_object_get(js, "sustain");
	const char *mode = str(sus, "mode");

	s->horizon_s = num(js, "horizon_s");
	if (!json_is_object(sus))
		return;
	s->has_sustain = true;
	s->sustained = json_is_true(json_object_get(js, "sustained"));
	s->sustain_off = mode && !strcmp(mode, "off");
	if (s->sustained) {
		proof_text(s, js, sus);
		copy_text(s->proof_short, sizeof(s->proof_short), s->proof);
	} else {
		projection_text(s, js, sus);
	}
	snprintf(s->uns_phrase, sizeof(s->uns_phrase), "held %s s, not proven: %s",
		 FS(s->duration_s), s->proof_short);
}

void ct_rep_proven_held_tail(const struct ct_rep_step *s, char *buf, size_t len)
{
	if (!s->has_sustain)
		snprintf(buf, len, "%s", "");
	else if (s->sustain_off)
		snprintf(buf, len,
			 ", for its %s s only ([load] sustain = off: not proven to hold longer)",
			 FS(s->duration_s));
	else if (s->sustained)
		snprintf(buf, len, ": held, sustained (%s)", s->proof);
	else
		snprintf(buf, len, ", for its %s s only (not proven to hold longer: %s)",
			 FS(s->duration_s), s->proof);
}
