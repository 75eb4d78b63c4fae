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
	    {"conntrack", "the conntrack table filled"},
	    {"nat_ports", "the NAT ran out of source ports"},
	    {"tw_buckets.client", "the client's TIME_WAIT limit was reached"},
	    {"tw_buckets.server", "the server's TIME_WAIT limit was reached"},
	    {"listen_backlog", "the server's listen backlog overflowed"},
	    {"connect_cliff", "connect() slowed down searching for a free port"},
	};
	if (name)
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (!strcmp(name, t[i].name))
				return t[i].phrase;
	return "connections started failing";
}

/* What sets a limit, as a noun: for a limit the model predicts and that was
 * not reached, where "ran out" would tell of a failure that did not happen. */
static const char *limit_noun(const char *name)
{
	static const struct {
		const char *name, *noun;
	} t[] = {
	    {"client_ports", "the client's ports"},
	    {"conntrack", "the conntrack table"},
	    {"nat_ports", "the NAT's source ports"},
	    {"tw_buckets.client", "the client's TIME_WAIT limit"},
	    {"tw_buckets.server", "the server's TIME_WAIT limit"},
	    {"listen_backlog", "the server's listen backlog"},
	    {"connect_cliff", "connect()'s search for a free port"},
	};
	if (name)
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (!strcmp(name, t[i].name))
				return t[i].noun;
	return NULL;
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
	case CT_JUDGE_PORT_SEARCH:
		return ct_report_limit_phrase("connect_cliff");
	case CT_JUDGE_SERVER:
		return server_phrase(s);
	case CT_JUDGE_EMFILE:
		return "ctload ran out of file descriptors";
	case CT_JUDGE_TIMEOUT:
		return "connections timed out";
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

/* Three cases of success (none failed, some failed within the criteria,
 * nothing failed but the rate fell short), one of failure with its causes. */
void ct_rep_step_sentence(const struct ct_rep_step *s, char *buf, size_t len)
{
	char head[300];
	if (s->label[0])
		snprintf(head, sizeof(head), "With %s at %s/s", s->label,
			 CT_REP_FC(s->rate_target));
	else
		snprintf(head, sizeof(head), "At %s/s", CT_REP_FC(s->rate_target));
	if (s->outcome == CT_REP_HELD && s->failed > 0)
		snprintf(buf, len,
			 "%s, %s connections completed (%s/s) and %s failed, within the step's "
			 "criteria%s.",
			 head, CT_REP_FC(s->completed), CT_REP_FC(s->rate_achieved),
			 CT_REP_FC(s->failed), s->partial ? ", before the run was cut short" : "");
	else if (s->outcome == CT_REP_HELD)
		snprintf(buf, len, "%s, all %s connections completed (%s/s), none failed%s.", head,
			 CT_REP_FC(s->completed), CT_REP_FC(s->rate_achieved),
			 s->partial ? " before the run was cut short" : "");
	else if (s->outcome == CT_REP_SLOW)
		snprintf(buf, len,
			 "%s, nothing failed but only %s/s completed: the client or the server "
			 "could not keep up.",
			 head, CT_REP_FC(s->rate_achieved));
	else {
		char causes[256] = "";
		size_t used = 0;
		for (size_t i = 0; i < CT_FAIL_N; i++)
			if (s->fail[i] > 0) {
				int w = snprintf(causes + used, sizeof(causes) - used, "%s%s %s",
						 used ? ", " : "", CT_REP_FC(s->fail[i]),
						 ct_fail_info(i)->words);
				if (w > 0 && (size_t)w < sizeof(causes) - used)
					used += (size_t)w;
			}
		char drops[96] = "";
		if (s->ct_drop > 0)
			snprintf(drops, sizeof(drops), "; conntrack dropped %s packets",
				 CT_REP_FC(s->ct_drop));
		snprintf(buf, len, "%s, %s: %s of %s connections failed%s%s; %s/s completed.", head,
			 ct_rep_outcome_phrase(s), CT_REP_FC(s->failed), CT_REP_FC(s->attempted),
			 used ? " — " : "", causes, CT_REP_FC(s->rate_achieved));
		if (drops[0]) {
			size_t l = strlen(buf);
			if (l && buf[l - 1] == '.')
				buf[l - 1] = 0;
			strncat(buf, drops, len - strlen(buf) - 2);
			strcat(buf, ".");
		}
	}
	if (s->fail_reason && s->outcome != CT_REP_HELD) {
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

/* A threshold that is a lower bound (ct_rep_threshold_held): what held, and
 * where the model puts the limit and what sets it (the binding limit's
 * name): nothing ran out, so nothing is said to have. */
static void held_sentence(const json_t *th, const char *w, double m, double pr, const char *binding,
			  char *s, size_t len)
{
	const char *method = json_string_value(json_object_get(th, "method"));
	const char *noun = limit_noun(binding);
	char model[160] = "";

	if (!isnan(pr))
		snprintf(model, sizeof(model), " (the model puts the sustained limit at %s/s%s%s)",
			 CT_REP_FC(pr), noun ? ", set by " : "", noun ? noun : "");
	if (!strcmp(method, "held") || !strcmp(method, "sustained"))
		snprintf(s, len, "%severy connection held at %s conn/s%s%s", w, CT_REP_FC(m),
			 !strcmp(method, "sustained") ? ", proven sustained" : "", model);
	else
		snprintf(s, len, "%snothing broke up to %s conn/s, the highest rate tried%s", w,
			 CT_REP_FC(m), model);
}

/* "With tcp_tw_reuse=0, the client ran out of ports at 470/s — 6% below the
 * model's 500/s". What broke is the cause of the point's first failed step
 * (judge's); without one, the model's binding limit. */
void ct_rep_threshold_sentence(struct ct_rep *r, const json_t *th, bool first_cap, char *buf,
			       size_t len)
{
	char lbl[256], w[300], what[128], tail[160], s[600];
	const json_t *bl = json_object_get(th, "binding_limit");
	const char *method = json_string_value(json_object_get(th, "method"));
	const struct ct_rep_step *fs = ct_rep_first_fail_with(r, json_object_get(th, "settings"));
	double m = ct_json_nan(CT_JSON_GET(th, "measured_cps")),
	       pr = ct_json_nan(CT_JSON_GET(th, "predicted_cps"));

	ct_rep_point_label(json_object_get(th, "settings"), lbl, sizeof(lbl));
	snprintf(w, sizeof(w), "%s%s%s", lbl[0] ? "with " : "", lbl, lbl[0] ? ", " : "");
	snprintf(what, sizeof(what), "%s",
		 fs ? ct_rep_outcome_phrase(fs)
		    : ct_report_limit_phrase(json_is_string(bl) ? json_string_value(bl) : NULL));
	model_tail(m, pr, ct_json_nan(CT_JSON_GET(th, "error_pct")), tail, sizeof(tail));
	if (ct_rep_threshold_held(th) && !isnan(m)) {
		held_sentence(th, w, m, pr, json_string_value(bl), s, sizeof(s));
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

/* "with tcp_tw_reuse=0, the client ran out of ports at 200 conn/s; with
 * tcp_tw_reuse=1, every step held, up to 600 conn/s" */
static bool axis_headline(struct ct_rep *r, const char *key, char *buf, size_t len)
{
	const char *vals[4];
	size_t nv = ct_rep_axis_values(r, key, vals, 4), used = 0;
	bool bad = false;
	const char *shortk = strrchr(key, '.') + 1;
	buf[0] = 0;
	for (size_t j = 0; j < nv && used < len; j++) {
		double clean;
		const struct ct_rep_step *ff;
		ct_rep_value_outcome(r, key, vals[j], &clean, &ff);
		int w;
		if (ff) {
			char held[64] = "";
			if (clean > 0)
				snprintf(held, sizeof(held), "%s conn/s held, then ",
					 CT_REP_FC(clean));
			w = snprintf(buf + used, len - used, "%swith %s=%s, %s%s at %s conn/s",
				     j ? "; " : "", shortk, vals[j], held,
				     ct_rep_outcome_phrase(ff), CT_REP_FC(ff->rate_target));
			bad = true;
		} else {
			w = snprintf(buf + used, len - used,
				     "%swith %s=%s, every step held, up to %s "
				     "conn/s",
				     j ? "; " : "", shortk, vals[j], CT_REP_FC(clean));
		}
		if (w > 0)
			used += (size_t)w;
	}
	if (used + 2 < len)
		strcat(buf, ".");
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	return bad;
}

bool ct_rep_headline(struct ct_rep *r, char *buf, size_t len)
{
	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;
	size_t nth = json_array_size(ths);
	bool bad = false;

	buf[0] = 0;
	/* One sentence for people who read only this: the before/after of the
	 * tuning key when there is one, else the first threshold. */
	if (ct_rep_tuning_axis(r)) {
		bad = axis_headline(r, ct_rep_tuning_axis(r), buf, len);
	} else if (nth) {
		const json_t *th = json_array_get(ths, 0);
		ct_rep_threshold_sentence(r, th, true, buf, len);
		strncat(buf, ".", len - strlen(buf) - 1);
		bad = !ct_rep_threshold_held(th);
	} else {
		const struct ct_rep_step *fs = NULL;
		double best = 0;
		for (size_t k = 0; k < r->n_steps; k++) {
			if (ct_rep_step_failed(&r->steps[k]) && !fs)
				fs = &r->steps[k];
			best = fmax(best, r->steps[k].rate_achieved);
		}
		if (fs) {
			char ph[128];
			ct_rep_cap(ct_rep_outcome_phrase(fs), ph, sizeof(ph));
			if (fs->label[0])
				snprintf(buf, len,
					 "%s at %s conn/s (with %s): %s of %s "
					 "connections failed.",
					 ph, CT_REP_FC(fs->rate_target), fs->label,
					 CT_REP_FC(fs->failed), CT_REP_FC(fs->attempted));
			else
				snprintf(buf, len, "%s at %s conn/s: %s of %s connections failed.",
					 ph, CT_REP_FC(fs->rate_target), CT_REP_FC(fs->failed),
					 CT_REP_FC(fs->attempted));
			bad = true;
		} else if (r->n_steps) {
			snprintf(buf, len,
				 "No limit was reached: %s held, up to %s connections/s with no "
				 "failures.",
				 r->n_steps == 1 ? "the step" : "every step", CT_REP_FC(best));
		} else {
			snprintf(buf, len, "This run recorded no step.");
			bad = true;
		}
	}
	return bad;
}
