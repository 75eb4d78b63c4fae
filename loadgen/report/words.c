/* words — the report in sentences: numbers as people read them, what went
 * wrong as a phrase, one sentence per step and per threshold, and the
 * headline. Plain text: the page escapes it. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/base/json.h"
#include "loadgen/report/report.h"
#include "loadgen/report/report_int.h"

void ct_report_fmt_count(double v, char *buf, size_t len)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	if (fabs(v) < 10 && v != floor(v)) {
		snprintf(buf, len, "%.1f", v);
		return;
	}
	char digits[40];
	snprintf(digits, sizeof(digits), "%.0f", fabs(v));
	if (!strcmp(digits, "0")) {
		snprintf(buf, len, "0");
		return;
	}
	char out[64];
	size_t n = strlen(digits), o = 0;
	if (v < 0)
		out[o++] = '-';
	for (size_t i = 0; i < n && o + 2 < sizeof(out); i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
	snprintf(buf, len, "%s", out);
}

/* A latency in ms for people: "0.09 ms", "95 ms", "1.02 s". */
void ct_rep_fmt_ms(double ms, char *buf, size_t len)
{
	if (!isfinite(ms))
		snprintf(buf, len, "-");
	else if (ms >= 1000)
		snprintf(buf, len, "%.2f s", ms / 1000);
	else if (ms >= 10)
		snprintf(buf, len, "%.0f ms", ms);
	else
		snprintf(buf, len, "%.2f ms", ms);
}

const char *ct_rep_fmt_count_tmp(double v, char *buf, size_t len)
{
	ct_report_fmt_count(v, buf, len);
	return buf;
}

const char *ct_report_limit_phrase(const char *name)
{
	static const struct {
		const char *name, *phrase;
	} t[] = {
	    {"client_ports", "the client ran out of ports"},
	    {"conntrack", "the firewall's connection table was full"},
	    {"nat_ports", "the NAT ran out of source ports"},
	    {"ct_chains", "the firewall's connection table refused new entries (its hash chains "
			  "grew past the kernel's cap)"},
	    {"tw_buckets.client", "the client's TIME_WAIT limit was reached"},
	    {"tw_buckets.server", "the server's TIME_WAIT limit was reached"},
	    {"listen_backlog", "the server's listen backlog overflowed"},
	    {"neighbours", "the kernel's neighbour table filled"},
	    {"device", "a network device dropped packets"},
	    {"connect_cliff", "the client slowed down searching for a free port"},
	};
	if (name)
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (!strcmp(name, t[i].name))
				return t[i].phrase;
	return "connections started failing";
}

/* Timeouts with no drop counted: the limit the sustain proof saw reached
 * (summary.json's fail_cause, e.g. the NAT's entries at its ports while
 * the server's TIME_WAIT refused the reused tuples), else `plain`. */
static const char *proven_phrase(const struct ct_rep_step *s, const char *plain)
{
	const char *limit = json_string_value(CT_JSON_GET(s->js, "fail_cause", "limit"));

	if (!limit || !CT_JSON_GET(s->js, "sustain", "limit"))
		return plain;
	return ct_report_limit_phrase(limit);
}

/* The server's failure most seen: refused, reset or a wrong reply. */
static const char *server_phrase(const struct ct_rep_step *s)
{
	if (s->fail[CT_FAIL_REFUSED] >= s->fail[CT_FAIL_RESET] &&
	    s->fail[CT_FAIL_REFUSED] >= s->fail[CT_FAIL_PROTOCOL])
		return "the server refused connections";
	if (s->fail[CT_FAIL_RESET] >= s->fail[CT_FAIL_PROTOCOL])
		return "connections were reset";
	return "the server's replies were wrong";
}

/* Judge's cause of a failed step, in the report's words. */
static const char *why_phrase(const struct ct_rep_step *s)
{
	switch (s->why) {
	case CT_JUDGE_PORTS:
		return ct_report_limit_phrase("client_ports");
	case CT_JUDGE_CONNTRACK:
		return ct_report_limit_phrase("conntrack");
	case CT_JUDGE_NAT_PORTS:
		return ct_report_limit_phrase("nat_ports");
	case CT_JUDGE_CT_CHAINS:
		return ct_report_limit_phrase("ct_chains");
	case CT_JUDGE_NEIGH:
		return ct_report_limit_phrase("neighbours");
	case CT_JUDGE_LISTEN:
		return ct_report_limit_phrase("listen_backlog");
	case CT_JUDGE_DEVICE:
		return ct_report_limit_phrase("device");
	case CT_JUDGE_PORT_SEARCH:
		return ct_report_limit_phrase("connect_cliff");
	case CT_JUDGE_SERVER:
		return server_phrase(s);
	case CT_JUDGE_EMFILE:
		return "ctload ran out of file descriptors";
	case CT_JUDGE_TIMEOUT:
		return proven_phrase(s, "connections timed out");
	case CT_JUDGE_SLOW:
		return "the target rate was not reached";
	case CT_JUDGE_CONDITION:
		break;
	}
	return s->failed > 0 ? "connections failed" : "the step failed its criteria";
}

const char *ct_rep_outcome_phrase(const struct ct_rep_step *s)
{
	switch (s->outcome) {
	case CT_REP_HELD:
		return "every connection completed";
	case CT_REP_SLOW:
		return "the target rate was not reached";
	case CT_REP_UNSUSTAINED:
		return s->uns_phrase;
	case CT_REP_FAILED:
		break;
	}
	return why_phrase(s);
}

/* The same phrase, starting with a capital letter. */
void ct_rep_cap(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
}

/* A step that completed its connections: held (and whether that is proven
 * to last), or held for its duration but not proven to last. */
static void held_sentence(const struct ct_rep_step *s, const char *head, char *buf, size_t len)
{
	char tail[480] = "", done[200];
	if (s->failed > 0)
		snprintf(
		    done, sizeof(done),
		    "%s connections completed (%s/s) and %s failed, within the step's criteria",
		    CT_REP_FC(s->completed), CT_REP_FC(s->rate_achieved), CT_REP_FC(s->failed));
	else
		snprintf(done, sizeof(done), "all %s connections completed (%s/s), none failed",
			 CT_REP_FC(s->completed), CT_REP_FC(s->rate_achieved));
	if (s->outcome == CT_REP_UNSUSTAINED) {
		snprintf(buf, len, "%s, %s in %s s, but that is not proven to last: %s.", head,
			 done, CT_REP_FC(s->duration_s), s->proof);
		return;
	}
	ct_rep_proven_held_tail(s, tail, sizeof(tail));
	if (s->partial)
		snprintf(tail, sizeof(tail), "%s",
			 s->failed > 0 ? ", before the run was cut short"
				       : " before the run was cut short");
	snprintf(buf, len, "%s, %s%s.", head, done, tail);
}

/* A failed step: what broke (and when), how many failed and by what cause. */
static void failed_sentence(const struct ct_rep_step *s, const char *head, char *buf, size_t len)
{
	char causes[256] = "", when[64] = "";
	size_t used = 0;
	for (size_t i = 0; i < CT_FAIL_N; i++)
		if (s->fail[i] > 0) {
			int w = snprintf(causes + used, sizeof(causes) - used, "%s%s %s",
					 used ? ", " : "", CT_REP_FC(s->fail[i]),
					 ct_fail_info(i)->words);
			if (w > 0 && (size_t)w < sizeof(causes) - used)
				used += (size_t)w;
		}
	if (!isnan(s->first_fail_s))
		snprintf(when, sizeof(when), " %.*f s into the step",
			 s->first_fail_s < 100 && s->first_fail_s != floor(s->first_fail_s) ? 1 : 0,
			 s->first_fail_s);
	snprintf(buf, len, "%s, %s%s: %s of %s connections failed%s%s; %s/s completed.", head,
		 ct_rep_outcome_phrase(s), when, CT_REP_FC(s->failed), CT_REP_FC(s->attempted),
		 used ? " \u2014 " : "", causes, CT_REP_FC(s->rate_achieved));
	if (s->ct_drop > 0) {
		char drops[96];
		snprintf(drops, sizeof(drops), "; conntrack dropped %s packets",
			 CT_REP_FC(s->ct_drop));
		size_t l = strlen(buf);
		if (l && buf[l - 1] == '.')
			buf[l - 1] = 0;
		strncat(buf, drops, len - strlen(buf) - 2);
		strcat(buf, ".");
	}
}

/* Three cases of success (none failed, some failed within the criteria,
 * nothing failed but the rate fell short), one of a step that held but is
 * not proven to last, one of failure with its causes. */
void ct_rep_step_sentence(const struct ct_rep_step *s, char *buf, size_t len)
{
	char head[300];
	if (s->label[0])
		snprintf(head, sizeof(head), "With %s at %s/s", s->label,
			 CT_REP_FC(s->rate_target));
	else
		snprintf(head, sizeof(head), "At %s/s", CT_REP_FC(s->rate_target));
	if (s->outcome == CT_REP_HELD || s->outcome == CT_REP_UNSUSTAINED)
		held_sentence(s, head, buf, len);
	else if (s->outcome == CT_REP_SLOW)
		snprintf(buf, len,
			 "%s, nothing failed but only %s/s completed: the client or the server "
			 "could not keep up.",
			 head, CT_REP_FC(s->rate_achieved));
	else
		failed_sentence(s, head, buf, len);
	if (s->fail_reason && s->outcome != CT_REP_HELD && s->outcome != CT_REP_UNSUSTAINED) {
		size_t l = strlen(buf);
		if (l && buf[l - 1] == '.')
			buf[--l] = 0;
		snprintf(buf + l, len - l, " (failed the criterion %s).", s->fail_reason);
	}
}

bool ct_rep_threshold_held(const json_t *th)
{
	const char *method = json_string_value(json_object_get(th, "method"));

	/* A plain step that held (and, with [load] sustain, was proven
	 * sustained), or a search whose every trial passed: a lower bound,
	 * nothing reached. */
	return method &&
	       (!strcmp(method, "held") || !strcmp(method, "sustained") ||
		(!strcmp(method, "search") && json_is_false(json_object_get(th, "bounded"))));
}

/* ", 15% below the model's 470/s" against a measured m. */
static void model_tail(double m, double pr, double e, char *tail, size_t len)
{
	tail[0] = 0;
	if (isnan(pr) || pr <= 0 || isnan(m))
		return;
	if (isnan(e))
		e = (m - pr) / pr * 100;
	if (fabs(e) < 0.5)
		snprintf(tail, len, ", as the model predicted (%s/s)", CT_REP_FC(pr));
	else
		snprintf(tail, len, " \u2014 %.0f%% %s the model's %s/s", fabs(e),
			 e < 0 ? "below" : "above", CT_REP_FC(pr));
}

/* The model's word beside a rate that held: " (the model puts the
 * sustained limit at 941/s, set by the client's ports)", or that it is
 * above. Nothing ran out, so nothing is said to have. */
static void model_aside(const json_t *th, double m, bool after_paren, char *buf, size_t len)
{
	double pr = ct_json_nan(CT_JSON_GET(th, "predicted_cps"));
	const json_t *bl = json_object_get(th, "binding_limit");
	const char *noun = ct_rep_limit_noun(json_is_string(bl) ? json_string_value(bl) : NULL);
	char by[96] = "";
	if (json_is_string(bl)) /* a limit the model names */
		snprintf(by, sizeof(by), ", set by %s", noun);
	if (isnan(pr))
		snprintf(buf, len, "%s", "");
	else if (m > pr * 1.005)
		snprintf(buf, len, " \u2014 above the sustained limit the model predicts, %s/s%s",
			 CT_REP_FC(pr), by);
	else if (after_paren) /* no two parentheses in a row */
		snprintf(buf, len, "; the model puts the sustained limit at %s/s%s", CT_REP_FC(pr),
			 by);
	else
		snprintf(buf, len, " (the model puts the sustained limit at %s/s%s)", CT_REP_FC(pr),
			 by);
}

/* A threshold that is a rate that held, not a limit reached: proven
 * sustained, held for its duration only, held but not proven, or a search
 * whose every trial passed. False when th is none of these. */
static bool held_threshold(struct ct_rep *r, const json_t *th, const char *lbl, char *s, size_t len)
{
	const char *method = json_string_value(json_object_get(th, "method"));
	const json_t *set = json_object_get(th, "settings");
	const struct ct_rep_step *hs = ct_rep_best_held_with(r, set);
	const struct ct_rep_step *fs = ct_rep_first_fail_with(r, set);
	bool none = method && !strcmp(method, "none");
	double m = ct_json_nan(CT_JSON_GET(th, "measured_cps"));
	char with[300], aside[200], how[600], dur[48] = "its duration";
	snprintf(with, sizeof(with), "%s%s%s", lbl[0] ? "with " : "", lbl, lbl[0] ? ", " : "");
	if (hs && !isnan(hs->duration_s))
		snprintf(dur, sizeof(dur), "the step's %s s", CT_REP_FC(hs->duration_s));
	if (method && !strcmp(method, "sustained")) {
		bool proof = hs && hs->proof[0]; /* none without the step's sustain fields */
		snprintf(how, sizeof(how), "%s conn/s held, sustained%s%s%s", CT_REP_FC(m),
			 proof ? " (" : "", proof ? hs->proof : "", proof ? ")" : "");
	} else if (method && !strcmp(method, "held")) {
		snprintf(how, sizeof(how), "every connection held at %s conn/s for %s only, %s",
			 CT_REP_FC(m), dur,
			 hs && hs->has_sustain ? "not proven to hold longer ([load] sustain = off)"
					       : "not proven to hold longer");
	} else if (ct_rep_threshold_held(th) && !isnan(m)) { /* a search, nothing failed */
		snprintf(how, sizeof(how), "nothing broke up to %s conn/s, the highest rate tried",
			 CT_REP_FC(m));
	} else if (none && fs && fs->outcome == CT_REP_UNSUSTAINED) {
		m = fs->rate_target;
		snprintf(how, sizeof(how), "%s conn/s held %s s but is not proven to last: %s",
			 CT_REP_FC(m), CT_REP_FC(fs->duration_s), fs->proof);
	} else if (none && json_object_get(th, "note") && hs) {
		m = hs->rate_target;
		snprintf(how, sizeof(how),
			 "every connection held at %s conn/s for %s only ([load] sustain = off), "
			 "not proven to hold longer",
			 CT_REP_FC(m), dur);
	} else {
		return false;
	}
	model_aside(th, m, how[0] && how[strlen(how) - 1] == ')', aside, sizeof(aside));
	snprintf(s, len, "%s%s%s", with, how, aside);
	return true;
}

/* "With tcp_tw_reuse=0, the client ran out of ports at 470/s — 6% below the
 * model's 500/s". What broke is the cause of the point's first failed step
 * (judge's); without one, the model's binding limit. */
void ct_rep_threshold_sentence(struct ct_rep *r, const json_t *th, bool first_cap, bool plain,
			       char *buf, size_t len)
{
	char lbl[256], w[300], what[400], tail[160], s[1400];
	const json_t *bl = json_object_get(th, "binding_limit");
	const char *method = json_string_value(json_object_get(th, "method"));
	const struct ct_rep_step *fs = ct_rep_first_fail_with(r, json_object_get(th, "settings"));
	double m = ct_json_nan(CT_JSON_GET(th, "measured_cps")),
	       pr = ct_json_nan(CT_JSON_GET(th, "predicted_cps"));

	if (plain)
		ct_rep_point_words(json_object_get(th, "settings"), lbl, sizeof(lbl));
	else
		ct_rep_point_label(json_object_get(th, "settings"), lbl, sizeof(lbl));
	snprintf(w, sizeof(w), "%s%s%s", lbl[0] ? "with " : "", lbl, lbl[0] ? ", " : "");
	snprintf(what, sizeof(what), "%s",
		 fs ? ct_rep_outcome_phrase(fs)
		    : ct_report_limit_phrase(json_is_string(bl) ? json_string_value(bl) : NULL));
	model_tail(m, pr, ct_json_nan(CT_JSON_GET(th, "error_pct")), tail, sizeof(tail));
	if (held_threshold(r, th, lbl, s, sizeof(s))) {
		;
	} else if (method && !strcmp(method, "none")) {
		snprintf(s, sizeof(s), "%s%s, but no limit could be measured from it", w, what);
	} else if (isnan(m)) { /* the search found no rate that broke */
		snprintf(s, sizeof(s), "%snothing broke at the rates tried%s%s%s", w,
			 isnan(pr) ? "" : " (the model expected a limit at ",
			 isnan(pr) ? "" : CT_REP_FC(pr), isnan(pr) ? "" : "/s)");
	} else if (!(m > 0)) { /* a search where no rate held */
		snprintf(s, sizeof(s), "%s%s at every rate tried: none held", w, what);
	} else {
		snprintf(s, sizeof(s), "%s%s at %s conn/s%s", w, what, CT_REP_FC(m), tail);
	}
	if (first_cap)
		ct_rep_cap(s, buf, len);
	else
		snprintf(buf, len, "%s", s);
}

/* One value's clause of the headline: "300 conn/s held, then the client ran
 * out of ports at 600 conn/s", "every step held, up to 600 conn/s". */
static bool value_clause(struct ct_rep *r, const char *key, const char *val, char *buf, size_t len)
{
	struct ct_rep_tally o;
	const char *sus;
	ct_rep_value_outcome(r, key, val, NULL, &o);
	sus = o.best && o.best->has_sustain && !o.best->sustain_off && o.best->sustained
		  ? ", sustained"
		  : "";
	if (o.ff && o.ff->outcome == CT_REP_UNSUSTAINED) {
		char held[96] = "";
		if (o.clean > 0)
			snprintf(held, sizeof(held), "%s conn/s held%s, then ", CT_REP_FC(o.clean),
				 sus);
		snprintf(buf, len, "%s%s conn/s held %s s but is not proven: %s", held,
			 CT_REP_FC(o.ff->rate_target), CT_REP_FC(o.ff->duration_s),
			 o.ff->proof_short);
	} else if (o.ff) {
		char held[96] = "";
		if (o.clean > 0)
			snprintf(held, sizeof(held), "%s conn/s held%s, then ", CT_REP_FC(o.clean),
				 sus);
		snprintf(buf, len, "%s%s at %s conn/s", held, ct_rep_outcome_phrase(o.ff),
			 CT_REP_FC(o.ff->rate_target));
	} else {
		snprintf(buf, len, "every step held%s, up to %s conn/s", sus, CT_REP_FC(o.clean));
	}
	return o.ff != NULL;
}

/* "with tcp_tw_reuse=0, the client ran out of ports at 200 conn/s; with
 * tcp_tw_reuse=1, every step held, up to 600 conn/s" */
static bool axis_headline(struct ct_rep *r, const char *key, char *buf, size_t len)
{
	const char *vals[4];
	size_t nv = ct_rep_axis_values(r, key, vals, 4), used = 0;
	bool bad = false;
	buf[0] = 0;
	for (size_t j = 0; j < nv && used < len; j++) {
		char clause[700], set[256];
		bad |= value_clause(r, key, vals[j], clause, sizeof(clause));
		ct_rep_setting_words(key, vals[j], set, sizeof(set));
		int w = snprintf(buf + used, len - used, "%swith %s, %s", j ? "; " : "", set,
				 clause);
		if (w > 0)
			used += (size_t)w;
	}
	if (used + 2 < len)
		strcat(buf, ".");
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	return bad;
}

/* Without a tuning key or thresholds: the first step that failed, or that
 * nothing did. */
static bool steps_headline(struct ct_rep *r, char *buf, size_t len)
{
	const struct ct_rep_step *fs = NULL;
	double best = 0;
	for (size_t k = 0; k < r->n_steps; k++) {
		if (ct_rep_step_failed(&r->steps[k]) && !fs)
			fs = &r->steps[k];
		best = fmax(best, r->steps[k].rate_achieved);
	}
	char label[256] = "";
	if (fs && fs->js)
		ct_rep_settings_words(json_object_get(fs->js, "settings"), true, label,
				      sizeof(label));
	if (fs && fs->outcome == CT_REP_UNSUSTAINED) {
		snprintf(buf, len, "%s conn/s held %s s%s%s%s, but is not proven to last: %s.",
			 CT_REP_FC(fs->rate_target), CT_REP_FC(fs->duration_s),
			 label[0] ? " (with " : "", label, label[0] ? ")" : "", fs->proof);
	} else if (fs) {
		char ph[128];
		ct_rep_cap(ct_rep_outcome_phrase(fs), ph, sizeof(ph));
		if (label[0])
			snprintf(buf, len,
				 "%s at %s conn/s (with %s): %s of %s connections failed.", ph,
				 CT_REP_FC(fs->rate_target), label, CT_REP_FC(fs->failed),
				 CT_REP_FC(fs->attempted));
		else
			snprintf(buf, len, "%s at %s conn/s: %s of %s connections failed.", ph,
				 CT_REP_FC(fs->rate_target), CT_REP_FC(fs->failed),
				 CT_REP_FC(fs->attempted));
	} else if (r->n_steps) {
		bool proven = true;
		for (size_t k = 0; k < r->n_steps; k++)
			proven &= r->steps[k].has_sustain && r->steps[k].sustained &&
				  !r->steps[k].sustain_off;
		snprintf(buf, len,
			 "No limit was reached: %s held%s, up to %s connections/s with no "
			 "failures.",
			 r->n_steps == 1 ? "the step" : "every step", proven ? ", sustained" : "",
			 CT_REP_FC(best));
	} else {
		snprintf(buf, len, "This run recorded no step.");
	}
	return fs || !r->n_steps;
}

bool ct_rep_headline(struct ct_rep *r, char *buf, size_t len)
{
	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;
	bool bad = false;

	buf[0] = 0;
	/* One sentence for people who read only this: the points of a sweep of
	 * several keys grouped by what happened, the before/after of the
	 * tuning key when there is one, else the first threshold. */
	if (ct_rep_tuning_axis(r) && ct_rep_points_headline(r, buf, len, &bad))
		return bad;
	if (ct_rep_tuning_axis(r))
		return axis_headline(r, ct_rep_tuning_axis(r), buf, len);
	if (json_array_size(ths)) {
		const json_t *th = json_array_get(ths, 0);
		ct_rep_threshold_sentence(r, th, true, true, buf, len);
		strncat(buf, ".", len - strlen(buf) - 1);
		return !ct_rep_threshold_held(th);
	}
	return steps_headline(r, buf, len);
}
