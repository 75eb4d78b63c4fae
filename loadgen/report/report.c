/* report — see report.h. */
#include "loadgen/report/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>
#include <jansson.h>

#include "common/log.h"
#include "loadgen/base/json.h"
#include "loadgen/base/role.h"
#include "loadgen/engine/cause.h"
#include "loadgen/scenario/plan.h"
#include "loadgen/scenario/scenario.h"
#include "loadgen/report/html.h"
#include "loadgen/report/report_css.h"
#include "loadgen/report/svg.h"

/* ---- what the report is built from -------------------------------------------- */

#define MAX_NOTES	 12
#define MAX_TABLE_EVENTS 400

/* The roles in the order the report shows them: legends, series, colours. */
static const enum ct_role roles_shown[CT_ROLE_N] = {CT_ROLE_CLIENT, CT_ROLE_ROUTER, CT_ROLE_SERVER,
						    CT_ROLE_HOST};

/* Why a step failed, judged from its numbers. */
enum diag {
	D_OK = 0,
	D_CT_FULL, /* conntrack dropped or its table reached the limit */
	D_PORTS,   /* EADDRNOTAVAIL */
	D_TIMEOUT,
	D_REFUSED,
	D_RESET,
	D_PROTOCOL,
	D_EMFILE,
	D_OTHER,
	D_SLOW,	  /* nothing failed, but the rate was not reached */
	D_JUDGED, /* the judge said fail, for a reason not above */
};

struct step {
	int idx;
	bool partial;	    /* samples but no summary entry: the run ended during it */
	const json_t *js;   /* summary step or NULL */
	char label[256];    /* settings without the rate, for sentences */
	char settings[256]; /* all settings, for the table */
	double rate_target, rate_achieved, attempted, completed, unsent, failed;
	double fail[CT_FAIL_N];
	double p50, p99, pmax;
	double ct_peak, ct_limit, ct_drop;
	double tw_client, tw_server;
	double t0, t1; /* first and last sample time, NAN if none */
	const char *verdict, *fail_reason;
	enum diag diag;
};

struct event {
	double t;   /* s on the run's time axis, NAN if unknown */
	size_t seq; /* order read, to keep the sort stable */
	char src[16];
	char stamp[32];
	char *text;
};

struct rep {
	const char *dir;
	char *link_base; /* prefix of links to the run's files: "" beside them, else file:///abs/ */
	json_t *summary; /* NULL if unreadable */
	json_t *samples; /* array, possibly empty */
	bool summary_missing, ts_missing, interrupted;
	char *sc_name, *sc_desc, *sc_topology;
	char sweep_keys[8][128];
	json_t *plan; /* settings of every sweep point, from scenario.ini; may be NULL */
	size_t n_sweep;
	struct step *steps;
	size_t n_steps;
	struct event *ev;
	size_t n_ev;
	char notes[MAX_NOTES][320];
	size_t n_notes;
	/* the time axis */
	double *t;
	size_t n;
	double x0, x1;
	bool has_ns[CT_ROLE_N], has_ct[CT_ROLE_N];
};

static void note(struct rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct rep *r, const char *fmt, ...)
{
	va_list ap;
	if (r->n_notes >= MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->n_notes], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
	ct_warn("report: %s", r->notes[r->n_notes]);
	r->n_notes++;
}

static double nz(double v)
{
	return isnan(v) ? 0 : v;
}

static char *path_of(const char *dir, const char *name)
{
	char *s;
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

/* ---- number words ----------------------------------------------------------------- */

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
static void fmt_ms(double ms, char *buf, size_t len)
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

#define FC(v) fmt_count_tmp((v), (char[48]){0}, 48)
static const char *fmt_count_tmp(double v, char *buf, size_t len)
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

static const char *diag_phrase(enum diag d)
{
	switch (d) {
	case D_OK:
		return "every connection completed";
	case D_CT_FULL:
		return "the conntrack table filled";
	case D_PORTS:
		return "the client ran out of ports";
	case D_TIMEOUT:
		return "connections timed out";
	case D_REFUSED:
		return "the server refused connections";
	case D_RESET:
		return "connections were reset";
	case D_PROTOCOL:
		return "the server's replies were wrong";
	case D_EMFILE:
		return "ctload ran out of file descriptors";
	case D_OTHER:
		return "connections failed";
	case D_SLOW:
		return "the target rate was not reached";
	case D_JUDGED:
		return "the step failed its criteria";
	}
	return "?";
}

/* The same phrase, starting with a capital letter. */
static void cap(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
}

/* ---- reading the run directory ----------------------------------------------------- */

static char *unquoted(const char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return strndup(v + 1, n - 2);
	return strdup(v);
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct rep *r = user;
	char **dst = NULL;
	if (!strcmp(section, "scenario")) {
		if (!strcmp(name, "name"))
			dst = &r->sc_name;
		else if (!strcmp(name, "description"))
			dst = &r->sc_desc;
		else if (!strcmp(name, "topology"))
			dst = &r->sc_topology;
		if (dst) {
			free(*dst);
			*dst = unquoted(value);
		}
	} else if (!strcmp(section, "sweep") && r->n_sweep < 8) {
		snprintf(r->sweep_keys[r->n_sweep++], sizeof(r->sweep_keys[0]), "%s", name);
	}
	return 1;
}

static void read_scenario(struct rep *r)
{
	char *p = path_of(r->dir, "scenario.ini");
	if (!p)
		return;
	int rc = ini_parse(p, on_ini, r);
	if (rc < 0)
		note(r, "scenario.ini is missing: the scenario's name and description are unknown");
	else if (rc > 0)
		note(r, "scenario.ini line %d could not be read; the rest was used", rc);
	/* The sweep points in run order name the settings of a step that never
	 * reached summary.json. */
	struct ct_err serr;
	struct ct_scenario *sc = rc == 0 ? ct_scenario_load(p, NULL, 0, &serr) : NULL;
	if (sc) {
		r->plan = json_array();
		for (size_t i = 0, n = ct_plan_points(sc); r->plan && i < n && i < 10000; i++) {
			json_t *set = json_object();
			for (size_t a = 0; set && a < sc->n_sweep; a++) {
				const char *v = ct_plan_value(sc, i, a);
				json_object_set_new(set, sc->sweep[a].key, json_string(v ? v : ""));
			}
			json_array_append_new(r->plan, set);
		}
		ct_scenario_free(sc);
	}
	free(p);
}

static void read_summary(struct rep *r)
{
	char *p = path_of(r->dir, "summary.json");
	json_error_t je;
	if (!p)
		return;
	if (access(p, F_OK) < 0) {
		r->summary_missing = true;
		note(r, "summary.json is missing: the steps are rebuilt from timeseries.jsonl");
	} else {
		r->summary = json_load_file(p, 0, &je);
		if (!r->summary || !json_is_object(r->summary)) {
			json_decref(r->summary);
			r->summary = NULL;
			r->summary_missing = true;
			note(r,
			     "summary.json could not be read (%s, line %d): the steps are rebuilt "
			     "from timeseries.jsonl",
			     je.text, je.line);
		}
	}
	free(p);
	if (r->summary && json_is_true(json_object_get(r->summary, "interrupted")))
		r->interrupted = true;
}

static void read_timeseries(struct rep *r)
{
	char *p = path_of(r->dir, "timeseries.jsonl");
	FILE *f = p ? fopen(p, "r") : NULL;
	char *line = NULL;
	size_t cap_ = 0, lineno = 0, bad = 0, last_bad = 0, last_good = 0;
	ssize_t len;

	r->samples = json_array();
	if (!f) {
		r->ts_missing = true;
		note(r, "timeseries.jsonl %s: no charts over time",
		     errno == ENOENT ? "is missing" : "cannot be read");
		free(p);
		return;
	}
	while ((len = getline(&line, &cap_, f)) >= 0) {
		lineno++;
		if (len <= 1 && (len == 0 || line[0] == '\n'))
			continue;
		json_t *o = json_loadb(line, (size_t)len, JSON_DISABLE_EOF_CHECK, NULL);
		if (!json_is_object(o) || isnan(ct_json_nan(json_object_get(o, "t")))) {
			json_decref(o);
			bad++;
			last_bad = lineno;
			continue;
		}
		json_array_append_new(r->samples, o);
		last_good = lineno;
	}
	if (bad == 1 && last_bad > last_good) {
		note(r,
		     "The last line of timeseries.jsonl (line %zu) is incomplete: the run was cut "
		     "short while writing it; it is left out",
		     last_bad);
		r->interrupted = true;
	} else if (bad) {
		note(r,
		     "Lines of timeseries.jsonl could not be read and are left out (%zu, the "
		     "last: line %zu)",
		     bad, last_bad);
	}
	free(line);
	fclose(f);
	free(p);
}

static double parse_iso(const char *s)
{
	int Y, M, D, h, m, sec, ms = 0;
	if (!s)
		return NAN;
	int n = sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &Y, &M, &D, &h, &m, &sec, &ms);
	if (n < 6)
		return NAN;
	struct tm tm = {.tm_year = Y - 1900,
			.tm_mon = M - 1,
			.tm_mday = D,
			.tm_hour = h,
			.tm_min = m,
			.tm_sec = sec};
	return (double)timegm(&tm) + (n == 7 ? ms / 1000.0 : 0);
}

static int add_event(struct rep *r, double t, const char *src, const char *stamp, const char *text)
{
	struct event *ev = realloc(r->ev, (r->n_ev + 1) * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	r->ev = ev;
	ev = &r->ev[r->n_ev];
	memset(ev, 0, sizeof(*ev));
	ev->t = t;
	ev->seq = r->n_ev;
	snprintf(ev->src, sizeof(ev->src), "%s", src);
	snprintf(ev->stamp, sizeof(ev->stamp), "%s", stamp ? stamp : "");
	ev->text = strdup(text);
	if (!ev->text)
		return -ENOMEM;
	r->n_ev++;
	return 0;
}

/* By time; events without one keep their place relative to each other
 * and go first (they come from before the run's clock started). */
static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	bool xn = isnan(x->t), yn = isnan(y->t);
	if (xn != yn)
		return xn ? -1 : 1;
	if (!xn && x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Kernel lines from the samples (exact times on the run's axis), then
 * events.log: its lab actions, placed on the axis when the summary says
 * when t = 0 was (origin_unix), and its kernel lines when no sample
 * carried them. */
static void read_events(struct rep *r)
{
	size_t i;
	const json_t *s;
	bool sample_kernel = false;
	json_array_foreach(r->samples, i, s)
	{
		const json_t *evs = json_object_get(s, "events");
		size_t k;
		const json_t *e;
		json_array_foreach(evs, k, e) if (json_is_string(e))
		{
			add_event(r, ct_json_nan(json_object_get(s, "t")), "kernel", NULL,
				  json_string_value(e));
			sample_kernel = true;
		}
	}

	double origin = r->summary ? ct_json_nan(json_object_get(r->summary, "origin_unix")) : NAN;
	char *p = path_of(r->dir, "events.log");
	FILE *f = p ? fopen(p, "r") : NULL;
	char *line = NULL;
	size_t cap_ = 0;
	ssize_t len;
	while (f && (len = getline(&line, &cap_, f)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len)
			continue;
		char stamp[32] = "", src[16] = "";
		const char *sp = strchr(line, ' ');
		const char *colon = sp ? strstr(sp + 1, ": ") : NULL;
		const char *text = line;
		if (sp && colon && (size_t)(sp - line) < sizeof(stamp) &&
		    (size_t)(colon - sp - 1) < sizeof(src)) {
			memcpy(stamp, line, (size_t)(sp - line));
			memcpy(src, sp + 1, (size_t)(colon - sp - 1));
			text = colon + 2;
		}
		if (!strcmp(src, "kernel") && sample_kernel)
			continue;
		double wall = parse_iso(stamp);
		add_event(r, isnan(origin) || isnan(wall) ? NAN : wall - origin,
			  src[0] ? src : "log", stamp, text);
	}
	free(line);
	if (f)
		fclose(f);
	free(p);
	if (r->n_ev > 1)
		qsort(r->ev, r->n_ev, sizeof(*r->ev), cmp_event);
}

/* ---- steps ------------------------------------------------------------------------- */

static void settings_text(const json_t *set, bool skip_rate, char *buf, size_t len)
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

/* A judge's pass is kept (a few failures may be within its criteria); else
 * the numbers say what went wrong first. */
static enum diag diagnose(const struct step *s)
{
	if (verdict_is(s->verdict, true))
		return D_OK;
	if (s->ct_drop > 0 || (s->ct_limit > 0 && s->ct_peak >= s->ct_limit))
		return D_CT_FULL;
	static const enum diag by_cause[CT_FAIL_N] = {D_PORTS,	  D_TIMEOUT, D_REFUSED, D_RESET,
						      D_PROTOCOL, D_EMFILE,  D_OTHER};
	size_t worst = 0;
	for (size_t i = 1; i < CT_FAIL_N; i++)
		if (s->fail[i] > s->fail[worst])
			worst = i;
	if (s->fail[worst] > 0)
		return by_cause[worst];
	if (verdict_is(s->verdict, false))
		return D_JUDGED;
	if (!s->partial && s->rate_target > 0 && s->rate_achieved < 0.95 * s->rate_target)
		return D_SLOW;
	return D_OK;
}

/* The step's fields from its summary entry. */
static void step_from_summary(struct step *s, const json_t *js)
{
	s->js = js;
	s->rate_target = nz(ct_json_nan(CT_JSON_GET(js, "rate_target")));
	s->rate_achieved = nz(ct_json_nan(CT_JSON_GET(js, "rate_achieved")));
	s->attempted = nz(ct_json_nan(CT_JSON_GET(js, "attempted")));
	s->completed = nz(ct_json_nan(CT_JSON_GET(js, "completed")));
	s->unsent = nz(ct_json_nan(CT_JSON_GET(js, "unsent")));
	for (size_t i = 0; i < CT_FAIL_N; i++) {
		s->fail[i] = nz(ct_json_nan(CT_JSON_GET(js, "failures", ct_fail_name(i))));
		s->failed += s->fail[i];
	}
	s->p50 = ct_json_nan(CT_JSON_GET(js, "connect_ms", "p50"));
	s->p99 = ct_json_nan(CT_JSON_GET(js, "connect_ms", "p99"));
	s->pmax = ct_json_nan(CT_JSON_GET(js, "connect_ms", "max"));
	s->ct_peak = ct_json_nan(CT_JSON_GET(js, "ct", "peak"));
	s->ct_limit = ct_json_nan(CT_JSON_GET(js, "ct", "limit"));
	s->ct_drop = nz(ct_json_nan(CT_JSON_GET(js, "ct", "drop")));
	s->tw_client = ct_json_nan(CT_JSON_GET(js, "tw", "client_peak"));
	s->tw_server = ct_json_nan(CT_JSON_GET(js, "tw", "server_peak"));
	const json_t *v = json_object_get(js, "verdict");
	s->verdict = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(js, "fail_reason");
	s->fail_reason = json_is_string(v) ? json_string_value(v) : NULL;
	settings_text(json_object_get(js, "settings"), true, s->label, sizeof(s->label));
	settings_text(json_object_get(js, "settings"), false, s->settings, sizeof(s->settings));
	/* SIGINT during the step: its rate counts a shortened step */
	s->partial = json_is_true(json_object_get(js, "interrupted"));
}

/* A step known only from its samples: the last one holds the cumulative
 * counts, the peaks come from all of them. */
static void step_from_samples(struct rep *r, struct step *s)
{
	const json_t *last = NULL;
	size_t i;
	const json_t *o;
	double ctp = NAN, ctl = NAN, drop = 0, twc = NAN, tws = NAN, pmax = NAN, p99 = NAN;
	json_array_foreach(r->samples, i, o)
	{
		if ((int)nz(ct_json_nan(CT_JSON_GET(o, "step"))) != s->idx)
			continue;
		last = o;
		for (size_t k = 0; k < CT_ROLE_N; k++) {
			double c = ct_json_nan(
				   CT_JSON_GET(o, "ns", ct_role_name(roles_shown[k]), "ct.count")),
			       m = ct_json_nan(
				   CT_JSON_GET(o, "ns", ct_role_name(roles_shown[k]), "ct.max"));
			if (!isnan(c) && !(c <= ctp))
				ctp = c;
			if (!isnan(m))
				ctl = m;
			drop += nz(ct_json_nan(
			    CT_JSON_GET(o, "ns", ct_role_name(roles_shown[k]), "ct.drop")));
		}
		double tw = ct_json_nan(CT_JSON_GET(o, "ns", "client", "tw"));
		if (!isnan(tw) && !(tw <= twc))
			twc = tw;
		tw = ct_json_nan(CT_JSON_GET(o, "ns", "server", "tw"));
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
	s->rate_target = nz(ct_json_nan(CT_JSON_GET(last, "rate_target")));
	s->attempted = nz(ct_json_nan(CT_JSON_GET(last, "attempted")));
	s->completed = nz(ct_json_nan(CT_JSON_GET(last, "completed")));
	s->unsent = nz(ct_json_nan(CT_JSON_GET(last, "unsent")));
	for (size_t k = 0; k < CT_FAIL_N; k++) {
		s->fail[k] = nz(ct_json_nan(CT_JSON_GET(last, "failures", ct_fail_name(k))));
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

static int build_steps(struct rep *r)
{
	const json_t *js = r->summary ? json_object_get(r->summary, "steps") : NULL;
	size_t n_sum = json_array_size(js);
	int max_idx = -1;
	size_t i;
	const json_t *o;

	json_array_foreach(r->samples, i, o)
	{
		int st = (int)nz(ct_json_nan(CT_JSON_GET(o, "step")));
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
	}
	json_array_foreach(r->samples, i, o)
	{
		int st = (int)nz(ct_json_nan(CT_JSON_GET(o, "step")));
		if (st < 0 || (size_t)st >= n)
			continue;
		double t = ct_json_nan(CT_JSON_GET(o, "t"));
		struct step *s = &r->steps[st];
		if (isnan(s->t0) || t < s->t0)
			s->t0 = t;
		if (isnan(s->t1) || t > s->t1)
			s->t1 = t;
	}
	for (size_t k = 0; k < n; k++) {
		struct step *s = &r->steps[k];
		const json_t *sj = json_array_get(js, k);
		if (k < n_sum && json_is_object(sj)) {
			int at = (int)nz(ct_json_nan(CT_JSON_GET(sj, "step")));
			s->idx = at;
			step_from_summary(s, sj);
		} else {
			s->partial = !r->summary_missing;
			step_from_samples(r, s);
			const json_t *set = json_array_get(r->plan, k);
			if (set) {
				settings_text(set, true, s->label, sizeof(s->label));
				settings_text(set, false, s->settings, sizeof(s->settings));
			}
		}
		s->diag = diagnose(s);
	}
	if (n > n_sum && r->summary) {
		r->interrupted = true;
		note(r,
		     "Step %zu has samples but no result in summary.json: the run ended during "
		     "it; its numbers come from the last sample",
		     n);
	}
	return 0;
}

/* ---- the page ------------------------------------------------------------------------ */

#define W 960.0

struct chart {
	FILE *f;
	struct ct_svg_plot p;
	double height;
	const char *yunit;
};

/* Open a chart: title, caption, legend; the <svg> with grid and step bands. */
static void chart_open(struct rep *r, struct chart *c, FILE *f, const char *name, const char *title,
		       const char *caption, double ymax, bool ylog, double ymin, const char *yunit)
{
	c->f = f;
	c->height = 260;
	c->yunit = yunit;
	c->p = (struct ct_svg_plot){.x = 62,
				    .y = 18,
				    .w = W - 62 - 30,
				    .h = c->height - 18 - 30,
				    .x0 = r->x0,
				    .x1 = r->x1,
				    .y0 = ymin,
				    .y1 = ymax,
				    .ylog = ylog};
	fprintf(f, "<section class=\"chart\" id=\"chart-%s\"><h3>", name);
	ct_html_esc(f, title);
	fputs("</h3>", f);
	if (caption) {
		fputs("<p class=\"cap\">", f);
		ct_html_esc(f, caption);
		fputs("</p>", f);
	}
	(void)r;
}

static void legend(FILE *f, const char *const *labels, const char *const *colors, size_t n)
{
	fputs("<div class=\"legend\">", f);
	for (size_t i = 0; i < n; i++) {
		if (!labels[i])
			continue;
		fprintf(f, "<span><i style=\"background:%s\"></i>", colors[i]);
		ct_html_esc(f, labels[i]);
		fputs("</span>", f);
	}
	fputs("</div>", f);
}

static void svg_open(struct rep *r, struct chart *c, const char *name, const char *aria)
{
	FILE *f = c->f;
	fprintf(f, "<svg data-chart=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
		name, W, c->height);
	ct_html_esc(f, aria);
	fputs("\">", f);
	/* step bands, numbered */
	if (r->n_steps > 1) {
		for (size_t k = 0; k < r->n_steps; k++) {
			const struct step *s = &r->steps[k];
			if (isnan(s->t0))
				continue;
			double a = ct_svg_px(&c->p, k ? s->t0 : r->x0);
			double b = ct_svg_px(&c->p, k + 1 < r->n_steps && !isnan(r->steps[k + 1].t0)
							? r->steps[k + 1].t0
							: s->t1);
			fprintf(f,
				"<rect class=\"band%zu\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\"/>",
				k % 2, a, c->p.y, b - a > 0 ? b - a : 0, c->p.h);
			if (b - a > 18)
				fprintf(f,
					"<text class=\"bandlbl\" x=\"%.1f\" y=\"%.1f\">%zu</text>",
					a + 3, c->p.y + 10, k + 1);
		}
	}
	ct_svg_axes(f, &c->p, " s", c->yunit);
}

/* Kernel events as red marks along the top; lab actions as grey lines.
 * Close marks are merged into one with all their texts as a tooltip. */
static void draw_events(struct rep *r, struct chart *c)
{
	FILE *f = c->f;
	fputs("<g class=\"ev\">", f);
	for (size_t i = 0; i < r->n_ev;) {
		struct event *e = &r->ev[i];
		if (strcmp(e->src, "kernel") || isnan(e->t) || e->t < r->x0 || e->t > r->x1) {
			i++;
			continue;
		}
		double x = ct_svg_px(&c->p, e->t);
		size_t j = i + 1;
		while (j < r->n_ev && !strcmp(r->ev[j].src, "kernel") && !isnan(r->ev[j].t) &&
		       ct_svg_px(&c->p, r->ev[j].t) - x < 6)
			j++;
		fprintf(f, "<g data-t=\"%.3f\"><title>", e->t);
		for (size_t k = i; k < j && k < i + 5; k++) {
			fprintf(f, "t=%.1f s: ", r->ev[k].t);
			ct_html_esc(f, r->ev[k].text);
			fputs("\n", f);
		}
		if (j - i > 5)
			fprintf(f, "(and %zu more)", j - i - 5);
		fprintf(f,
			"</title><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<path d=\"M%.1f %.1f l-4 -7 h8 z\"/></g>",
			x, x, c->p.y, c->p.y + c->p.h, x, c->p.y);
		i = j;
	}
	fputs("</g><g class=\"evlab\">", f);
	for (size_t i = 0; i < r->n_ev; i++) {
		struct event *e = &r->ev[i];
		if (!strcmp(e->src, "kernel") || isnan(e->t) || e->t < r->x0 || e->t > r->x1)
			continue;
		double x = ct_svg_px(&c->p, e->t);
		fprintf(f, "<g><title>t=%.1f s: ", e->t);
		ct_html_esc(f, e->text);
		fprintf(f, "</title><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/></g>", x,
			x, c->p.y, c->p.y + c->p.h);
	}
	fputs("</g>", f);
}

static void chart_close(struct rep *r, struct chart *c)
{
	draw_events(r, c);
	fputs("</svg></section>\n", c->f);
}

static double *series(struct rep *r, double (*get)(const json_t *o, const void *arg),
		      const void *arg)
{
	double *y = malloc((r->n ? r->n : 1) * sizeof(double));
	if (!y)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		y[i] = get(json_array_get(r->samples, i), arg);
	return y;
}

static double maxof(const double *y, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i]) && y[i] > m)
			m = y[i];
	return m;
}

/* Path of up to 3 keys, e.g. {"connect_ms", "p99"}. */
struct path3 {
	const char *a, *b, *c;
};
static double get_path(const json_t *o, const void *arg)
{
	const struct path3 *p = arg;
	return ct_json_nan(CT_JSON_GET(o, p->a, p->b, p->c));
}

/* Failures per second of one cause: the counters are cumulative within a
 * step, so the first sample of a step counts from zero. */
static double *fail_rate(struct rep *r, const char *key)
{
	double *y = malloc((r->n ? r->n : 1) * sizeof(double));
	if (!y)
		return NULL;
	double prev_v = 0, prev_t = r->n ? r->t[0] : 0;
	int prev_step = -1;
	double interval = r->n > 1 ? (r->t[r->n - 1] - r->t[0]) / (double)(r->n - 1) : 1;
	for (size_t i = 0; i < r->n; i++) {
		const json_t *o = json_array_get(r->samples, i);
		int st = (int)nz(ct_json_nan(CT_JSON_GET(o, "step")));
		double v = nz(ct_json_nan(CT_JSON_GET(o, "failures", key)));
		double base = st == prev_step ? prev_v : 0;
		double dt = st == prev_step ? r->t[i] - prev_t : interval;
		y[i] = dt > 0 && v >= base ? (v - base) / dt : 0;
		prev_v = v;
		prev_t = r->t[i];
		prev_step = st;
	}
	return y;
}

static void chart_rates(struct rep *r, FILE *f)
{
	struct path3 pt = {"rate_target", NULL, NULL}, pa = {"attempt_rate", NULL, NULL},
		     pc = {"rate", NULL, NULL};
	double *yt = series(r, get_path, &pt), *ya = series(r, get_path, &pa),
	       *yc = series(r, get_path, &pc);
	double *fr[CT_FAIL_N] = {0}, *stack[CT_FAIL_N + 1] = {0};
	bool any_fail[CT_FAIL_N] = {0};
	struct chart c;
	if (!yt || !ya || !yc)
		goto out;
	for (size_t k = 0; k <= CT_FAIL_N; k++) {
		stack[k] = calloc(r->n ? r->n : 1, sizeof(double));
		if (!stack[k])
			goto out;
	}
	/* completed at the bottom, each cause of failure stacked on it */
	for (size_t i = 0; i < r->n; i++)
		stack[0][i] = nz(yc[i]);
	for (size_t k = 0; k < CT_FAIL_N; k++) {
		if (!(fr[k] = fail_rate(r, ct_fail_name(k))))
			goto out;
		for (size_t i = 0; i < r->n; i++) {
			stack[k + 1][i] = stack[k][i] + fr[k][i];
			any_fail[k] |= fr[k][i] > 0;
		}
	}
	double *zero = calloc(r->n ? r->n : 1, sizeof(double));
	if (!zero)
		goto out;
	double ymax = maxof(yt, r->n);
	ymax = fmax(ymax, maxof(ya, r->n));
	ymax = fmax(ymax, maxof(yc, r->n));
	ymax = fmax(ymax, maxof(stack[CT_FAIL_N], r->n));
	chart_open(r, &c, f, "rates", "Connections per second",
		   "What ctload tried (attempted, blue line) against what finished (completed, "
		   "green); what failed is stacked on top of it, by cause. The numbered bands "
		   "are the steps; red marks at the top are kernel messages.",
		   ct_svg_nice_ceil(ymax), false, 0, "/s");
	const char *labels[3 + CT_FAIL_N] = {"target", "attempted", "completed"};
	const char *colors[3 + CT_FAIL_N] = {"#7b8794", "#2f6fd6", "#1b9e55"};
	static const char *const fcol[CT_FAIL_N] = {
	    [CT_FAIL_EADDRNOTAVAIL] = "#e67e22", [CT_FAIL_TIMEOUT] = "#c0392b",
	    [CT_FAIL_REFUSED] = "#8e44ad",	 [CT_FAIL_RESET] = "#7f4f24",
	    [CT_FAIL_PROTOCOL] = "#d63384",	 [CT_FAIL_EMFILE] = "#34495e",
	    [CT_FAIL_OTHER] = "#95a5a6"};
	for (size_t k = 0; k < CT_FAIL_N; k++) {
		labels[3 + k] = any_fail[k] ? ct_fail_info(k)->title : NULL;
		colors[3 + k] = fcol[k];
	}
	legend(f, labels, colors, 3 + CT_FAIL_N);
	svg_open(r, &c, "rates", "connections per second over time");
	ct_svg_band(f, &c.p, r->t, zero, stack[0], r->n, "a-completed", "completed-area");
	free(zero);
	for (size_t k = 0; k < CT_FAIL_N; k++) {
		if (!any_fail[k])
			continue;
		char cls[32];
		snprintf(cls, sizeof(cls), "f-%s", ct_fail_name(k));
		ct_svg_band(f, &c.p, r->t, stack[k], stack[k + 1], r->n, cls, ct_fail_name(k));
	}
	ct_svg_line(f, &c.p, r->t, yt, r->n, "s-target", "target");
	ct_svg_line(f, &c.p, r->t, ya, r->n, "s-attempted", "attempted");
	ct_svg_line(f, &c.p, r->t, yc, r->n, "s-completed", "completed");
	chart_close(r, &c);
out:
	free(yt);
	free(ya);
	free(yc);
	for (size_t k = 0; k < CT_FAIL_N; k++)
		free(fr[k]);
	for (size_t k = 0; k <= CT_FAIL_N; k++)
		free(stack[k]);
}

static const char *const role_color[CT_ROLE_N] = {"#2f6fd6", "#8e44ad", "#0e9a8a", "#b7791f"};

static void chart_conntrack(struct rep *r, FILE *f)
{
	double *cnt[CT_ROLE_N] = {0}, *mx[CT_ROLE_N] = {0};
	double ymax = 0, limit = NAN;
	struct chart c;
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!r->has_ct[k])
			continue;
		struct path3 pc = {"ns", ct_role_name(roles_shown[k]), "ct.count"},
			     pm = {"ns", ct_role_name(roles_shown[k]), "ct.max"};
		cnt[k] = series(r, get_path, &pc);
		mx[k] = series(r, get_path, &pm);
		if (!cnt[k] || !mx[k])
			goto out;
		ymax = fmax(ymax, fmax(maxof(cnt[k], r->n), maxof(mx[k], r->n)));
		for (size_t i = 0; i < r->n; i++)
			if (!isnan(mx[k][i]))
				limit = mx[k][i];
	}
	char cap_[320];
	snprintf(cap_, sizeof(cap_),
		 "Entries in the connection-tracking table, per network namespace, against its "
		 "limit (nf_conntrack_max%s%s). When the count meets the dashed line, new "
		 "connections are dropped; red ticks at the bottom mark samples with drops.",
		 isnan(limit) ? "" : " = ", isnan(limit) ? "" : FC(limit));
	chart_open(r, &c, f, "conntrack", "Conntrack table: entries against the limit", cap_,
		   ct_svg_nice_ceil(ymax * 1.05), false, 0, NULL);
	const char *labels[CT_ROLE_N + 1] = {0}, *colors[CT_ROLE_N + 1] = {0};
	char lb[CT_ROLE_N][48];
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		snprintf(lb[k], sizeof(lb[k]), "entries (%s)", ct_role_name(roles_shown[k]));
		labels[k] = r->has_ct[k] ? lb[k] : NULL;
		colors[k] = role_color[k];
	}
	labels[CT_ROLE_N] = "limit";
	colors[CT_ROLE_N] = "#c0392b";
	legend(f, labels, colors, CT_ROLE_N + 1);
	svg_open(r, &c, "conntrack", "conntrack entries over time against the limit");
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!cnt[k])
			continue;
		char cls[32];
		snprintf(cls, sizeof(cls), "s-%s", ct_role_name(roles_shown[k]));
		ct_svg_line(f, &c.p, r->t, mx[k], r->n, "s-limit", "limit");
		ct_svg_line(f, &c.p, r->t, cnt[k], r->n, cls, ct_role_name(roles_shown[k]));
	}
	fputs("<g class=\"drops\">", f);
	for (size_t i = 0; i < r->n; i++) {
		const json_t *o = json_array_get(r->samples, i);
		double d = 0;
		for (size_t k = 0; k < CT_ROLE_N; k++)
			d += nz(ct_json_nan(
			    CT_JSON_GET(o, "ns", ct_role_name(roles_shown[k]), "ct.drop")));
		if (d > 0)
			fprintf(f,
				"<rect class=\"drop\" data-t=\"%.3f\" data-v=\"%.0f\" x=\"%.1f\" "
				"y=\"%.1f\" width=\"2\" height=\"8\"/>",
				r->t[i], d, ct_svg_px(&c.p, r->t[i]) - 1, c.p.y + c.p.h - 8);
	}
	fputs("</g>", f);
	chart_close(r, &c);
out:
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		free(cnt[k]);
		free(mx[k]);
	}
}

static void chart_tw(struct rep *r, FILE *f)
{
	double *tw[CT_ROLE_N] = {0};
	double ymax = 0;
	struct chart c;
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!r->has_ns[k])
			continue;
		struct path3 p = {"ns", ct_role_name(roles_shown[k]), "tw"};
		if (!(tw[k] = series(r, get_path, &p)))
			goto out;
		ymax = fmax(ymax, maxof(tw[k], r->n));
	}
	chart_open(r, &c, f, "tw", "Sockets in TIME_WAIT, per side",
		   "The side that closes first keeps each connection in TIME_WAIT for 60 s; on "
		   "the client every such socket holds a local port.",
		   ct_svg_nice_ceil(ymax * 1.05), false, 0, NULL);
	const char *labels[CT_ROLE_N], *colors[CT_ROLE_N];
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		labels[k] = tw[k] ? ct_role_name(roles_shown[k]) : NULL;
		colors[k] = role_color[k];
	}
	legend(f, labels, colors, CT_ROLE_N);
	svg_open(r, &c, "tw", "TIME_WAIT sockets over time");
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!tw[k])
			continue;
		char cls[32];
		snprintf(cls, sizeof(cls), "s-%s", ct_role_name(roles_shown[k]));
		ct_svg_line(f, &c.p, r->t, tw[k], r->n, cls, ct_role_name(roles_shown[k]));
	}
	chart_close(r, &c);
out:
	for (size_t k = 0; k < CT_ROLE_N; k++)
		free(tw[k]);
}

/* Latency on a log scale: a dropped SYN is retried after 1 s, then in 1 s
 * steps (docs/ARCHITECTURE.md (kernel facts)), so such connections sit on the 1 s, 2 s, 3 s lines.
 */
static void chart_latency(struct rep *r, FILE *f)
{
	static const char *const pk[] = {"p50", "p90", "p99", "max"};
	double *y[4] = {0};
	double lo = INFINITY, hi = 0;
	struct chart c;
	for (size_t k = 0; k < 4; k++) {
		struct path3 p = {"connect_ms", pk[k], NULL};
		if (!(y[k] = series(r, get_path, &p)))
			goto out;
		for (size_t i = 0; i < r->n; i++) {
			/* an interval with no completion reports 0: not a point */
			if (!(y[k][i] > 0)) {
				y[k][i] = NAN;
				continue;
			}
			lo = fmin(lo, y[k][i]);
			hi = fmax(hi, y[k][i]);
		}
	}
	if (!(hi > 0)) {
		lo = 0.01;
		hi = 1;
	}
	double y0 = pow(10, floor(log10(lo))), y1 = pow(10, ceil(log10(hi * 1.2)));
	if (y1 < 10 * y0)
		y1 = 10 * y0;
	bool refs = hi >= 700;
	if (refs)
		y1 = hi > 3500 ? ct_svg_nice_ceil(hi * 1.2) : 4000;
	char cap_[256], hs[32];
	fmt_ms(hi, hs, sizeof(hs));
	if (refs)
		snprintf(cap_, sizeof(cap_), "%s",
			 "Time from a connection's scheduled start to its handshake, per sample "
			 "(log scale). A lost SYN is sent again after 1 s, then every second: "
			 "connections on the dashed lines waited for retransmitted SYNs.");
	else
		snprintf(cap_, sizeof(cap_),
			 "Time from a connection's scheduled start to its handshake, per sample "
			 "(log scale). No connection waited for a retransmitted SYN (the slowest: "
			 "%s).",
			 hs);
	chart_open(r, &c, f, "latency", "Connect latency", cap_, y1, true, y0, " ms");
	c.height = 330;
	c.p.h = c.height - 18 - 30;
	const char *labels[4] = {"median", "90th percentile", "99th percentile", "slowest"};
	const char *colors[4] = {"#1b9e55", "#2f6fd6", "#e67e22", "#a3261b"};
	legend(f, labels, colors, 4);
	svg_open(r, &c, "latency", "connect latency percentiles over time, log scale");
	if (refs) {
		fputs("<g class=\"ref\">", f);
		for (int s = 1; s <= 5 && s * 1000.0 <= y1 && s * 1000.0 <= fmax(hi * 1.1, 3000);
		     s++) {
			double yy = ct_svg_py(&c.p, s * 1000.0);
			fprintf(f,
				"<line data-v=\"%d\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
				"y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\">%d s</text>",
				s * 1000, c.p.x, c.p.x + c.p.w, yy, yy, c.p.x + c.p.w + 3, yy + 3,
				s);
		}
		fputs("</g>", f);
	}
	for (size_t k = 0; k < 4; k++) {
		char cls[16];
		snprintf(cls, sizeof(cls), "s-%s", pk[k]);
		ct_svg_line(f, &c.p, r->t, y[k], r->n, cls, pk[k]);
	}
	chart_close(r, &c);
out:
	for (size_t k = 0; k < 4; k++)
		free(y[k]);
}

/* Horizontal grid lines and y labels from 0 to ymax, the top one in /s:
 * the axis of the per-step and threshold bar charts. */
static void rate_axis(FILE *f, const struct ct_svg_plot *p, double ymax)
{
	double ticks[16];
	size_t nt = ct_svg_ticks(0, ymax, 5, ticks, 16);

	fputs("<g class=\"grid\">", f);
	for (size_t i = 0; i < nt; i++)
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->x,
			p->x + p->w, ct_svg_py(p, ticks[i]), ct_svg_py(p, ticks[i]));
	fputs("</g><g class=\"ylabels\">", f);
	for (size_t i = 0; i < nt; i++) {
		char l[32];
		ct_svg_fmt(ticks[i], l, sizeof(l));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s%s</text>", p->x - 6,
			ct_svg_py(p, ticks[i]) + 4, l, i + 1 == nt ? "/s" : "");
	}
	fputs("</g>", f);
}

/* Bars per step: the target (light), what completed (green) and what
 * failed (red, per second of the step). */
static void chart_steps(struct rep *r, FILE *f)
{
	double ymax = 0, h = 250;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		ymax = fmax(ymax, fmax(s->rate_target, s->rate_achieved));
	}
	ymax = ct_svg_nice_ceil(ymax * 1.08);
	struct ct_svg_plot p = {.x = 62,
				.y = 18,
				.w = W - 80,
				.h = h - 18 - 44,
				.x0 = 0,
				.x1 = (double)r->n_steps,
				.y0 = 0,
				.y1 = ymax};
	fputs("<section class=\"chart\" id=\"chart-steps\"><h3>Each step: offered against "
	      "completed</h3><p class=\"cap\">The light bar is the rate ctload offered, the green "
	      "bar what completed per second, the red bar what failed per second.</p>",
	      f);
	const char *labels[] = {"offered", "completed", "failed"};
	const char *colors[] = {"#dfe5ec", "#1b9e55", "#c0392b"};
	legend(f, labels, colors, 3);
	fprintf(f,
		"<svg data-chart=\"steps\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		"aria-label=\"rate per step\">",
		W, h);
	rate_axis(f, &p, ymax);
	double slot = p.w / (double)r->n_steps;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		double x = p.x + slot * (double)k + slot * 0.12, bw = slot * 0.76;
		double dur = s->js ? nz(ct_json_nan(CT_JSON_GET(s->js, "duration_s"))) : 0;
		if (!(dur > 0))
			dur = !isnan(s->t0) ? s->t1 - s->t0 + 0.1 : 1;
		double frate = s->failed / dur;
		double base = ct_svg_py(&p, 0);
		fprintf(f, "<g data-step=\"%d\">", s->idx);
		fprintf(
		    f,
		    "<rect class=\"bar-target\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\"><title>step %zu offered %s/s</title></rect>",
		    s->rate_target, x, ct_svg_py(&p, s->rate_target), bw,
		    base - ct_svg_py(&p, s->rate_target), k + 1, FC(s->rate_target));
		double iw = bw * 0.5, ix = x + bw * 0.25;
		fprintf(
		    f,
		    "<rect class=\"bar-achieved\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\"><title>step %zu completed %s/s</title></rect>",
		    s->rate_achieved, ix, ct_svg_py(&p, s->rate_achieved), iw,
		    base - ct_svg_py(&p, s->rate_achieved), k + 1, FC(s->rate_achieved));
		if (s->failed > 0) {
			double top = ct_svg_py(&p, s->rate_achieved + frate);
			fprintf(f,
				"<rect class=\"bar-failed\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
				"width=\"%.1f\" height=\"%.1f\"><title>step %zu: %s failed</title>"
				"</rect>",
				s->failed, ix, top, iw, ct_svg_py(&p, s->rate_achieved) - top,
				k + 1, FC(s->failed));
		}
		if (slot > 34)
			fprintf(f, "<text class=\"barval\" x=\"%.1f\" y=\"%.1f\">%s</text>",
				x + bw / 2,
				ct_svg_py(&p, fmax(s->rate_target, s->rate_achieved)) - 4,
				FC(s->rate_achieved));
		fprintf(f, "<text class=\"barlbl\" x=\"%.1f\" y=\"%.1f\">%zu</text>", x + bw / 2,
			p.y + p.h + 14, k + 1);
		if (slot > 70) {
			fprintf(f, "<text class=\"barlbl\" x=\"%.1f\" y=\"%.1f\">", x + bw / 2,
				p.y + p.h + 28);
			ct_html_esc(f, s->label[0] ? s->label : "");
			fputs("</text>", f);
		}
		fputs("</g>", f);
	}
	fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
		p.x, p.y, p.w, p.h);
	fputs("</svg></section>\n", f);
}

/* A threshold's settings as text. */
static void th_label(const json_t *th, char *buf, size_t len)
{
	settings_text(json_object_get(th, "settings"), true, buf, len);
	if (!buf[0])
		snprintf(buf, len, "as configured");
}

static void chart_thresholds(struct rep *r, FILE *f, const json_t *ths)
{
	size_t n = json_array_size(ths), i;
	const json_t *th;
	double ymax = 0, h = 250;
	(void)r;
	json_array_foreach(ths, i, th)
	{
		ymax = fmax(ymax, nz(ct_json_nan(CT_JSON_GET(th, "measured_cps"))));
		ymax = fmax(ymax, nz(ct_json_nan(CT_JSON_GET(th, "predicted_cps"))));
	}
	ymax = ct_svg_nice_ceil(ymax * 1.1);
	struct ct_svg_plot p = {.x = 62,
				.y = 18,
				.w = W - 80,
				.h = h - 18 - 40,
				.x0 = 0,
				.x1 = (double)n,
				.y0 = 0,
				.y1 = ymax};
	fputs("<section class=\"chart\" id=\"chart-thresholds\"><h3>Measured threshold against "
	      "the model</h3><p class=\"cap\">The highest rate that held, per setting (blue), "
	      "beside the rate the model predicted from the kernel's limits (grey).</p>",
	      f);
	const char *labels[] = {"measured", "model"};
	const char *colors[] = {"#2f6fd6", "#b8c4d1"};
	legend(f, labels, colors, 2);
	fprintf(f,
		"<svg data-chart=\"thresholds\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		"aria-label=\"measured against predicted threshold\">",
		W, h);
	rate_axis(f, &p, ymax);
	double slot = p.w / (double)n, base = ct_svg_py(&p, 0);
	json_array_foreach(ths, i, th)
	{
		double m = ct_json_nan(CT_JSON_GET(th, "measured_cps")),
		       pr = ct_json_nan(CT_JSON_GET(th, "predicted_cps"));
		double x = p.x + slot * (double)i + slot * 0.2, bw = slot * 0.3;
		char lbl[256];
		th_label(th, lbl, sizeof(lbl));
		fprintf(f, "<g data-threshold=\"%zu\">", i);
		if (!isnan(m))
			fprintf(f,
				"<rect class=\"bar-measured\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
				"width=\"%.1f\" height=\"%.1f\"/><text class=\"barval\" x=\"%.1f\" "
				"y=\"%.1f\">%s/s</text>",
				m, x, ct_svg_py(&p, m), bw, base - ct_svg_py(&p, m), x + bw / 2,
				ct_svg_py(&p, m) - 4, FC(m));
		if (!isnan(pr))
			fprintf(f,
				"<rect class=\"bar-predicted\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
				"width=\"%.1f\" height=\"%.1f\"/><text class=\"barval\" x=\"%.1f\" "
				"y=\"%.1f\">%s/s</text>",
				pr, x + bw, ct_svg_py(&p, pr), bw, base - ct_svg_py(&p, pr),
				x + bw * 1.5, ct_svg_py(&p, pr) - 4, FC(pr));
		fprintf(f, "<text class=\"barlbl\" x=\"%.1f\" y=\"%.1f\">", x + bw, p.y + p.h + 16);
		ct_html_esc(f, lbl);
		fputs("</text></g>", f);
	}
	fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
		p.x, p.y, p.w, p.h);
	fputs("</svg></section>\n", f);
}

/* ---- sentences ------------------------------------------------------------------------ */

static bool step_failed(const struct step *s)
{
	return s->diag != D_OK && s->diag != D_SLOW;
}

/* One sentence about a step (HTML-escaped into f). */
static void step_sentence(const struct step *s, FILE *f)
{
	char buf[768], head[300];
	if (s->label[0])
		snprintf(head, sizeof(head), "With %s at %s/s", s->label, FC(s->rate_target));
	else
		snprintf(head, sizeof(head), "At %s/s", FC(s->rate_target));
	if (s->diag == D_OK && s->failed > 0)
		snprintf(buf, sizeof(buf),
			 "%s, %s connections completed (%s/s) and %s failed, within the step's "
			 "criteria%s.",
			 head, FC(s->completed), FC(s->rate_achieved), FC(s->failed),
			 s->partial ? ", before the run was cut short" : "");
	else if (s->diag == D_OK)
		snprintf(buf, sizeof(buf),
			 "%s, all %s connections completed (%s/s), none failed%s.", head,
			 FC(s->completed), FC(s->rate_achieved),
			 s->partial ? " before the run was cut short" : "");
	else if (s->diag == D_SLOW)
		snprintf(buf, sizeof(buf),
			 "%s, nothing failed but only %s/s completed: the client or the server "
			 "could not keep up.",
			 head, FC(s->rate_achieved));
	else {
		char causes[256] = "";
		size_t used = 0;
		for (size_t i = 0; i < CT_FAIL_N; i++)
			if (s->fail[i] > 0) {
				int w = snprintf(causes + used, sizeof(causes) - used, "%s%s %s",
						 used ? ", " : "", FC(s->fail[i]),
						 ct_fail_info(i)->words);
				if (w > 0 && (size_t)w < sizeof(causes) - used)
					used += (size_t)w;
			}
		char drops[96] = "";
		if (s->ct_drop > 0)
			snprintf(drops, sizeof(drops), "; conntrack dropped %s packets",
				 FC(s->ct_drop));
		snprintf(buf, sizeof(buf),
			 "%s, %s: %s of %s connections failed%s%s; %s/s completed.", head,
			 diag_phrase(s->diag), FC(s->failed), FC(s->attempted), used ? " — " : "",
			 causes, FC(s->rate_achieved));
		if (drops[0]) {
			size_t l = strlen(buf);
			if (l && buf[l - 1] == '.')
				buf[l - 1] = 0;
			strncat(buf, drops, sizeof(buf) - strlen(buf) - 2);
			strcat(buf, ".");
		}
	}
	if (s->fail_reason && s->diag != D_OK) {
		size_t l = strlen(buf);
		if (l && buf[l - 1] == '.')
			buf[--l] = 0;
		snprintf(buf + l, sizeof(buf) - l, " (failed the criterion %s).", s->fail_reason);
	}
	ct_html_esc(f, buf);
}

/* The observed reason for the first failing step with these settings. */
static const struct step *first_fail_with(struct rep *r, const json_t *settings)
{
	const struct step *best = NULL;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		if (!step_failed(s) || !s->js)
			continue;
		const json_t *ss = json_object_get(s->js, "settings");
		const char *key;
		const json_t *v;
		bool match = true;
		json_object_foreach((json_t *)settings, key,
				    v) if (strcmp(key, "load.rate") &&
					   !json_equal(json_object_get(ss, key), v)) match = false;
		if (match && (!best || s->rate_target < best->rate_target))
			best = s;
	}
	return best;
}

/* "With tcp_tw_reuse=0, the client ran out of ports at 470/s — 6% below the
 * model's 500/s". */
static void threshold_sentence(struct rep *r, const json_t *th, bool first_cap, char *buf,
			       size_t len)
{
	char lbl[256], what[128];
	settings_text(json_object_get(th, "settings"), true, lbl, sizeof(lbl));
	const struct step *fs = first_fail_with(r, json_object_get(th, "settings"));
	const json_t *bl = json_object_get(th, "binding_limit");
	if (fs && fs->diag != D_JUDGED && fs->diag != D_OTHER)
		snprintf(what, sizeof(what), "%s", diag_phrase(fs->diag));
	else
		snprintf(what, sizeof(what), "%s",
			 ct_report_limit_phrase(json_is_string(bl) ? json_string_value(bl) : NULL));
	double m = ct_json_nan(CT_JSON_GET(th, "measured_cps")),
	       pr = ct_json_nan(CT_JSON_GET(th, "predicted_cps")),
	       e = ct_json_nan(CT_JSON_GET(th, "error_pct"));
	char tail[160] = "";
	if (!isnan(pr) && pr > 0 && !isnan(m)) {
		if (isnan(e))
			e = (m - pr) / pr * 100;
		if (fabs(e) < 0.5)
			snprintf(tail, sizeof(tail), ", as the model predicted (%s/s)", FC(pr));
		else
			snprintf(tail, sizeof(tail), " \u2014 %.0f%% %s the model's %s/s", fabs(e),
				 e < 0 ? "below" : "above", FC(pr));
	}
	char s[600];
	const char *method = json_string_value(json_object_get(th, "method"));
	if (method && !strcmp(method, "held")) {
		/* A plain step that held: a lower bound, not a limit reached. */
		snprintf(s, sizeof(s), "%s%s%severy connection held at %s conn/s%s%s%s%s",
			 lbl[0] ? "with " : "", lbl, lbl[0] ? ", " : "", FC(m),
			 isnan(pr) ? "" : " (the model puts the sustained limit at ",
			 isnan(pr) ? "" : FC(pr), isnan(pr) ? "" : "/s: ", isnan(pr) ? "" : what);
		if (!isnan(pr))
			strncat(s, ")", sizeof(s) - strlen(s) - 1);
	} else if (method && !strcmp(method, "none"))
		snprintf(s, sizeof(s), "%s%s%s%s, but no limit could be measured from it",
			 lbl[0] ? "with " : "", lbl, lbl[0] ? ", " : "", what);
	else if (isnan(m)) /* the search found no rate that broke */
		snprintf(s, sizeof(s), "%s%s%snothing broke at the rates tried%s%s%s",
			 lbl[0] ? "with " : "", lbl, lbl[0] ? ", " : "",
			 isnan(pr) ? "" : " (the model expected a limit at ",
			 isnan(pr) ? "" : FC(pr), isnan(pr) ? "" : "/s)");
	else if (lbl[0])
		snprintf(s, sizeof(s), "with %s, %s at %s conn/s%s", lbl, what, FC(m), tail);
	else
		snprintf(s, sizeof(s), "%s at %s conn/s%s", what, FC(m), tail);
	if (first_cap)
		cap(s, buf, len);
	else
		snprintf(buf, len, "%s", s);
}

/* Distinct values of a sweep key over the steps, in step order. */
static size_t axis_values(struct rep *r, const char *key, const char **vals, size_t max)
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

/* With key = val: the best rate that held (0 if none) and the lowest-rate
 * step that failed (NULL if none). */
static void value_outcome(struct rep *r, const char *key, const char *val, double *clean,
			  const struct step **ff)
{
	*clean = 0;
	*ff = NULL;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		const json_t *v = s->js ? CT_JSON_GET(s->js, "settings", key) : NULL;
		if (!json_is_string(v) || strcmp(json_string_value(v), val))
			continue;
		if (!step_failed(s))
			*clean = fmax(*clean, s->rate_achieved);
		else if (!*ff || s->rate_target < (*ff)->rate_target)
			*ff = s;
	}
}

/* The first sweep axis that is a kernel setting with two values or more:
 * the before/after of the run. NULL if none. */
static const char *tuning_axis(struct rep *r)
{
	const char *vals[2];
	for (size_t a = 0; a < r->n_sweep; a++)
		if (!strncmp(r->sweep_keys[a], "sysctl.", 7) &&
		    axis_values(r, r->sweep_keys[a], vals, 2) == 2)
			return r->sweep_keys[a];
	return NULL;
}

/* "with tcp_tw_reuse=0, the client ran out of ports at 200 conn/s; with
 * tcp_tw_reuse=1, every step held, up to 600 conn/s" */
static bool axis_headline(struct rep *r, const char *key, char *buf, size_t len)
{
	const char *vals[4];
	size_t nv = axis_values(r, key, vals, 4), used = 0;
	bool bad = false;
	const char *shortk = strrchr(key, '.') + 1;
	buf[0] = 0;
	for (size_t j = 0; j < nv && used < len; j++) {
		double clean;
		const struct step *ff;
		value_outcome(r, key, vals[j], &clean, &ff);
		int w;
		if (ff) {
			char held[64] = "";
			if (clean > 0)
				snprintf(held, sizeof(held), "%s conn/s held, then ", FC(clean));
			w = snprintf(buf + used, len - used, "%swith %s=%s, %s%s at %s conn/s",
				     j ? "; " : "", shortk, vals[j], held, diag_phrase(ff->diag),
				     FC(ff->rate_target));
			bad = true;
		} else {
			w = snprintf(buf + used, len - used,
				     "%swith %s=%s, every step held, up to %s "
				     "conn/s",
				     j ? "; " : "", shortk, vals[j], FC(clean));
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

static void headline(struct rep *r, FILE *f)
{
	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;
	size_t nth = json_array_size(ths);
	char buf[1400] = "";
	bool bad = false;
	/* One sentence for people who read only this: the before/after of the
	 * tuning key when there is one, else the first threshold. */
	if (tuning_axis(r)) {
		bad = axis_headline(r, tuning_axis(r), buf, sizeof(buf));
	} else if (nth) {
		const json_t *th = json_array_get(ths, 0);
		const char *method = json_string_value(json_object_get(th, "method"));
		threshold_sentence(r, th, true, buf, sizeof(buf));
		strncat(buf, ".", sizeof(buf) - strlen(buf) - 1);
		bad = !method || strcmp(method, "held");
	} else {
		const struct step *fs = NULL;
		double best = 0;
		for (size_t k = 0; k < r->n_steps; k++) {
			if (step_failed(&r->steps[k]) && !fs)
				fs = &r->steps[k];
			best = fmax(best, r->steps[k].rate_achieved);
		}
		if (fs) {
			char ph[128];
			cap(diag_phrase(fs->diag), ph, sizeof(ph));
			if (fs->label[0])
				snprintf(buf, sizeof(buf),
					 "%s at %s conn/s (with %s): %s of %s "
					 "connections failed.",
					 ph, FC(fs->rate_target), fs->label, FC(fs->failed),
					 FC(fs->attempted));
			else
				snprintf(buf, sizeof(buf),
					 "%s at %s conn/s: %s of %s connections failed.", ph,
					 FC(fs->rate_target), FC(fs->failed), FC(fs->attempted));
			bad = true;
		} else if (r->n_steps) {
			snprintf(buf, sizeof(buf),
				 "No limit was reached: %s held, up to %s connections/s with no "
				 "failures.",
				 r->n_steps == 1 ? "the step" : "every step", FC(best));
		} else {
			snprintf(buf, sizeof(buf), "This run recorded no step.");
			bad = true;
		}
	}
	fprintf(f, "<h1 class=\"%s\" id=\"headline\">", bad ? "bad" : "ok");
	ct_html_esc(f, buf);
	fputs("</h1>", f);
}

/* ---- sections -------------------------------------------------------------------------- */

static void section_story(struct rep *r, FILE *f)
{
	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;
	if (!r->n_steps && !json_array_size(ths))
		return;
	fputs("<h2>What happened</h2><ul class=\"story\">", f);
	size_t i;
	const json_t *th;
	json_array_foreach(ths, i, th)
	{
		char s[600];
		threshold_sentence(r, th, true, s, sizeof(s));
		const char *method = json_string_value(json_object_get(th, "method"));
		fputs(method && !strcmp(method, "held") ? "<li class=\"ok\">"
							: "<li class=\"bad\">",
		      f);
		ct_html_esc(f, s);
		fputs(".</li>", f);
	}
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		fprintf(f, "<li class=\"%s\" data-step=\"%d\">", step_failed(s) ? "bad" : "ok",
			s->idx);
		if (r->n_steps > 1)
			fprintf(f, "<b>Step %zu.</b> ", k + 1);
		step_sentence(s, f);
		if (s->partial)
			fputs(" <span class=\"pill part\">cut short</span>", f);
		fputs("</li>", f);
	}
	fputs("</ul>", f);
}

/* The steps with one value of a sweep axis, back to back: what completed
 * (green) and what failed (red) per second, on a y scale shared by the
 * cards so that before and after compare at a glance. */
static void mini_chart(struct rep *r, FILE *f, const char *key, const char *val, const double *yc,
		       const double *yf, double ymax)
{
	double span = 0;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		const json_t *v = s->js ? CT_JSON_GET(s->js, "settings", key) : NULL;
		if (json_is_string(v) && !strcmp(json_string_value(v), val) && !isnan(s->t0))
			span += s->t1 - s->t0 + 0.5;
	}
	if (!(span > 0))
		return;
	struct ct_svg_plot p = {
	    .x = 50, .y = 10, .w = 495, .h = 130, .x0 = 0, .x1 = span, .y0 = 0, .y1 = ymax};
	double *xs = malloc(r->n * sizeof(double)), *lo = calloc(r->n, sizeof(double));
	if (!xs || !lo)
		goto out;
	fputs("<svg data-chart=\"before-after\" data-value=\"", f);
	ct_html_esc(f, val);
	fputs("\" viewBox=\"0 0 560 166\" role=\"img\" aria-label=\"completed and failed per "
	      "second\">",
	      f);
	ct_svg_axes(f, &p, " s", "/s");
	double offset = 0;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		const json_t *v = s->js ? CT_JSON_GET(s->js, "settings", key) : NULL;
		if (!json_is_string(v) || strcmp(json_string_value(v), val) || isnan(s->t0))
			continue;
		size_t first = r->n, m = 0;
		for (size_t i = 0; i < r->n; i++) {
			if ((size_t)nz(ct_json_nan(
				CT_JSON_GET(json_array_get(r->samples, i), "step"))) != k)
				continue;
			if (first == r->n)
				first = i;
			else if (i != first + m) /* samples of a step are contiguous */
				break;
			xs[first + m++] = offset + r->t[i] - s->t0;
		}
		if (m > 1) {
			ct_svg_band(f, &p, xs + first, lo + first, yc + first, m,
				    "a-completed-solid", "completed");
			ct_svg_band(f, &p, xs + first, yc + first, yf + first, m, "a-failed",
				    "failed");
		}
		offset += s->t1 - s->t0 + 0.5;
	}
	fputs("</svg><div class=\"meta\">completed (green) and failed (red) per second, "
	      "these steps back to back</div>",
	      f);
out:
	free(xs);
	free(lo);
}

/* Sweep axes that change the kernel (sysctl.*) get their values side by side. */
static void section_before_after(struct rep *r, FILE *f)
{
	for (size_t a = 0; a < r->n_sweep; a++) {
		const char *key = r->sweep_keys[a];
		if (strncmp(key, "sysctl.", 7))
			continue;
		const char *vals[16];
		size_t nv = axis_values(r, key, vals, 16);
		if (nv < 2)
			continue;
		/* completed/s and completed+failed/s of every sample, and a y scale
		 * shared by the cards */
		struct path3 pc = {"rate", NULL, NULL};
		double *yc = series(r, get_path, &pc),
		       *yf = calloc(r->n ? r->n : 1, sizeof(double));
		double ymax = 0;
		for (size_t i = 0; yc && yf && i < r->n; i++) {
			yc[i] = nz(yc[i]);
			yf[i] = yc[i];
		}
		for (size_t c = 0; yc && yf && c < CT_FAIL_N; c++) {
			double *fr = fail_rate(r, ct_fail_name(c));
			for (size_t i = 0; fr && i < r->n; i++)
				yf[i] += fr[i];
			free(fr);
		}
		for (size_t i = 0; yf && i < r->n; i++)
			ymax = fmax(ymax, yf[i]);
		ymax = ct_svg_nice_ceil(ymax * 1.05);
		const char *shortk = strrchr(key, '.') + 1;
		fputs("<h2>Before and after: ", f);
		ct_html_esc(f, shortk);
		fputs("</h2><p class=\"cap\">The same load with each value of <code>", f);
		ct_html_esc(f, key + 7);
		fputs("</code>.</p><div class=\"cards\">", f);
		for (size_t j = 0; j < nv; j++) {
			double clean, ctp = NAN, ctl = NAN, twc = NAN, tws = NAN, p99 = NAN;
			const struct step *ff;
			value_outcome(r, key, vals[j], &clean, &ff);
			for (size_t k = 0; k < r->n_steps; k++) {
				const struct step *s = &r->steps[k];
				const json_t *v =
				    s->js ? CT_JSON_GET(s->js, "settings", key) : NULL;
				if (!json_is_string(v) || strcmp(json_string_value(v), vals[j]))
					continue;
				if (!isnan(s->ct_peak))
					ctp = isnan(ctp) ? s->ct_peak : fmax(ctp, s->ct_peak);
				if (!isnan(s->ct_limit))
					ctl = s->ct_limit;
				if (!isnan(s->tw_client))
					twc = isnan(twc) ? s->tw_client : fmax(twc, s->tw_client);
				if (!isnan(s->tw_server))
					tws = isnan(tws) ? s->tw_server : fmax(tws, s->tw_server);
				if (!isnan(s->p99))
					p99 = isnan(p99) ? s->p99 : fmax(p99, s->p99);
			}
			fputs("<div class=\"card\" data-value=\"", f);
			ct_html_esc(f, vals[j]);
			fputs("\"><h3>", f);
			ct_html_esc(f, shortk);
			fputs(" = ", f);
			ct_html_esc(f, vals[j]);
			if (clean > 0)
				fprintf(f,
					"</h3><div class=\"big\">%s/s</div><div class=\"meta\">the "
					"highest rate that completed without failures</div>",
					FC(clean));
			else
				fputs(
				    "</h3><div class=\"big\">none</div><div class=\"meta\">no step "
				    "completed without failures</div>",
				    f);
			if (ff) {
				char ph[128];
				cap(diag_phrase(ff->diag), ph, sizeof(ph));
				fputs("<p>", f);
				ct_html_esc(f, ph);
				fprintf(f, " at %s/s.</p>", FC(ff->rate_target));
			} else {
				fputs("<p>No step failed.</p>", f);
			}
			char ms[32];
			fmt_ms(p99, ms, sizeof(ms));
			fprintf(f, "<dl><dt>conntrack peak</dt><dd>%s", FC(ctp));
			if (!isnan(ctl))
				fprintf(f, " of %s", FC(ctl));
			fprintf(
			    f,
			    "</dd><dt>TIME_WAIT peak, client</dt><dd>%s</dd><dt>TIME_WAIT peak, "
			    "server</dt><dd>%s</dd><dt>worst connect p99</dt><dd>%s</dd></dl>",
			    FC(twc), FC(tws), ms);
			if (yc && yf && r->n > 1)
				mini_chart(r, f, key, vals[j], yc, yf, ymax);
			fputs("</div>", f);
		}
		fputs("</div>", f);
		free(yc);
		free(yf);
	}
}

static void section_table(struct rep *r, FILE *f)
{
	if (!r->n_steps)
		return;
	fputs("<h2>Every step</h2><div class=\"tablewrap\"><table "
	      "id=\"steps\"><thead><tr><th>#</th><th class=\"l\">"
	      "settings</th><th>offered/s</th><th>completed/s</th><th>attempted</th>"
	      "<th>completed</th><th>failed</th><th class=\"l\">failures by cause</th>"
	      "<th>connect p50</th><th>p99</th><th>max</th><th>conntrack<br>peak / limit</th>"
	      "<th>ct drops</th><th>TIME_WAIT<br>client / server</th><th class=\"l\">verdict</th>"
	      "</tr></thead><tbody>",
	      f);
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		char a[32], b[32], c[32];
		fmt_ms(s->p50, a, sizeof(a));
		fmt_ms(s->p99, b, sizeof(b));
		fmt_ms(s->pmax, c, sizeof(c));
		fprintf(f, "<tr class=\"%s\" data-step=\"%d\"><td>%zu</td><td class=\"l\">",
			s->partial	 ? "partial"
			: step_failed(s) ? "fail"
					 : "",
			s->idx, k + 1);
		ct_html_esc(f, s->settings[0] ? s->settings : "-");
		fprintf(f, "</td><td>%s</td><td>%s</td>", FC(s->rate_target), FC(s->rate_achieved));
		fprintf(f, "<td>%s</td><td>%s</td><td>%s</td><td class=\"l\">", FC(s->attempted),
			FC(s->completed), FC(s->failed));
		bool any = false;
		for (size_t i = 0; i < CT_FAIL_N; i++)
			if (s->fail[i] > 0) {
				fprintf(f, "%s%s %s", any ? "<br>" : "", FC(s->fail[i]),
					ct_fail_name(i));
				any = true;
			}
		fprintf(f, "%s</td><td>%s</td><td>%s</td><td>%s</td>", any ? "" : "-", a, b, c);
		fprintf(f, "<td>%s / %s</td><td>%s</td>", FC(s->ct_peak), FC(s->ct_limit),
			isnan(s->ct_peak) ? "-" : FC(s->ct_drop));
		fprintf(f, "<td>%s / %s</td><td class=\"l\">", FC(s->tw_client), FC(s->tw_server));
		if (s->partial)
			fputs("<span class=\"pill part\">cut short</span>", f);
		else if (step_failed(s))
			fputs("<span class=\"pill bad\">failed</span>", f);
		else
			fputs("<span class=\"pill ok\">held</span>", f);
		if (s->verdict && strcmp(s->verdict, "pass") && strcmp(s->verdict, "fail")) {
			fputs(" ", f);
			ct_html_esc(f, s->verdict);
		}
		fputs("</td></tr>", f);
	}
	fputs("</tbody></table></div>", f);
}

static void section_events(struct rep *r, FILE *f)
{
	if (!r->n_ev)
		return;
	fputs("<h2>Events</h2><p class=\"cap\">Kernel messages (red marks on the charts) and what "
	      "the lab did, in order.</p><table id=\"events\"><thead><tr><th>t</th><th "
	      "class=\"l\">source</th><th class=\"l\">message</th></tr></thead><tbody>",
	      f);
	for (size_t i = 0; i < r->n_ev && i < MAX_TABLE_EVENTS; i++) {
		const struct event *e = &r->ev[i];
		if (isnan(e->t)) {
			fputs("<tr><td>", f);
			ct_html_esc(f,
				    e->stamp[0] ? e->stamp + (strlen(e->stamp) > 11 ? 11 : 0) : "");
		} else {
			fprintf(f, "<tr><td>%.1f s", e->t);
		}
		fputs("</td><td class=\"l\">", f);
		ct_html_esc(f, e->src);
		fputs("</td><td class=\"ev\">", f);
		ct_html_esc(f, e->text);
		fputs("</td></tr>", f);
	}
	fputs("</tbody></table>", f);
	if (r->n_ev > MAX_TABLE_EVENTS)
		fprintf(f, "<p class=\"cap\">%zu more in events.log.</p>",
			r->n_ev - MAX_TABLE_EVENTS);
}

/* A path in an href: unreserved characters as they are, the rest %XX. */
static void url_put(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-~:", *p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

/* Links to the files that exist (timeseries.csv is written with the page). */
static void section_files(struct rep *r, FILE *f)
{
	static const struct {
		const char *name, *what;
	} files[] = {
	    {"scenario.ini", "the scenario as run"},
	    {"summary.json", "every step's numbers"},
	    {"timeseries.jsonl", "every sample"},
	    {"timeseries.csv", "the samples for a spreadsheet"},
	    {"events.log", "kernel messages and lab actions"},
	};
	bool any = false;
	fputs("<footer>Files of this run: ", f);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = path_of(r->dir, files[i].name);
		bool there =
		    p && (access(p, F_OK) == 0 || !strcmp(files[i].name, "timeseries.csv"));
		free(p);
		if (!there)
			continue;
		fprintf(f, "%s<a href=\"", any ? " \u00b7 " : "");
		/* timeseries.csv is written beside the page, wherever that is */
		if (r->link_base && strcmp(files[i].name, "timeseries.csv"))
			url_put(f, r->link_base);
		url_put(f, files[i].name);
		fprintf(f, "\">%s</a> (%s)", files[i].name, files[i].what);
		any = true;
	}
	fputs(". Rebuild this page with <code>ctload report DIR</code>.</footer>", f);
}

/* JSON in a <script> block: "<" never appears raw, so no "</script>" or
 * "<!--" can end or confuse it. */
static void data_island(struct rep *r, FILE *f)
{
	json_t *root = json_object(), *steps = json_array();
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct step *s = &r->steps[k];
		json_t *o =
		    json_pack("{s:i, s:b, s:f, s:f, s:f, s:f, s:f, s:s}", "step", s->idx, "partial",
			      s->partial, "rate_target", s->rate_target, "rate_achieved",
			      s->rate_achieved, "attempted", s->attempted, "completed",
			      s->completed, "failed", s->failed, "diagnosis", diag_phrase(s->diag));
		if (!o)
			continue;
		if (!isnan(s->ct_peak))
			json_object_set_new(o, "ct_peak", json_real(s->ct_peak));
		if (!isnan(s->ct_limit))
			json_object_set_new(o, "ct_limit", json_real(s->ct_limit));
		if (!isnan(s->p99))
			json_object_set_new(o, "connect_p99_ms", json_real(s->p99));
		if (!isnan(s->t0)) {
			json_object_set_new(o, "t0", json_real(s->t0));
			json_object_set_new(o, "t1", json_real(s->t1));
		}
		json_array_append_new(steps, o);
	}
	json_object_set_new(root, "steps", steps);
	json_object_set_new(root, "samples", json_integer((json_int_t)r->n));
	json_object_set_new(root, "interrupted", json_boolean(r->interrupted));
	json_object_set_new(root, "summary_missing", json_boolean(r->summary_missing));
	if (r->summary && json_object_get(r->summary, "thresholds"))
		json_object_set(root, "thresholds", json_object_get(r->summary, "thresholds"));
	char *txt = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(root);
	fputs("<script type=\"application/json\" id=\"ct-report\">", f);
	for (const char *p = txt; p && *p; p++) {
		if (*p == '<')
			fputs("\\u003c", f);
		else if (*p == '>')
			fputs("\\u003e", f);
		else if (*p == '&')
			fputs("\\u0026", f);
		else
			fputc(*p, f);
	}
	fputs("</script>\n", f);
	free(txt);
}

static void write_html(struct rep *r, FILE *f)
{
	const char *name = r->sc_name ? r->sc_name
			   : r->summary && json_is_string(json_object_get(r->summary, "scenario"))
			       ? json_string_value(json_object_get(r->summary, "scenario"))
			       : "ctload run";
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">"
	      "<title>",
	      f);
	ct_html_esc(f, name);
	fprintf(f, " \u2014 ctload report</title><style>%s</style></head><body><main><header>",
		ct_report_css);
	fputs("<div class=\"kicker\">ctload report \u00b7 ", f);
	ct_html_esc(f, name);
	fputs("</div>", f);
	headline(r, f);
	if (r->sc_desc && r->sc_desc[0]) {
		fputs("<p class=\"desc\" id=\"description\">", f);
		ct_html_esc(f, r->sc_desc);
		fputs("</p>", f);
	}
	fputs("<p class=\"meta\">", f);
	const char *topo = r->sc_topology ? r->sc_topology
			   : r->summary ? json_string_value(json_object_get(r->summary, "topology"))
					: NULL;
	if (topo) {
		fputs("topology ", f);
		ct_html_esc(f, topo);
	}
	if (r->summary) {
		static const char *const k[] = {"target", "started", "finished", "ctload_version"};
		static const char *const lbl[] = {"target", "started", "last written", "ctload"};
		for (size_t i = 0; i < 4; i++) {
			const char *v = json_string_value(json_object_get(r->summary, k[i]));
			if (!v)
				continue;
			fprintf(f, " \u00b7 %s ", lbl[i]);
			ct_html_esc(f, v);
		}
	}
	fprintf(f, " \u00b7 %zu step%s, %zu samples</p>", r->n_steps, r->n_steps == 1 ? "" : "s",
		r->n);
	if (r->interrupted || r->n_notes) {
		fputs("<div class=\"notes\" id=\"notes\">", f);
		if (r->interrupted)
			fputs("<p><b>This run was cut short.</b> The report shows what it recorded "
			      "before it stopped.</p>",
			      f);
		for (size_t i = 0; i < r->n_notes; i++) {
			fputs("<p>", f);
			ct_html_esc(f, r->notes[i]);
			fputs("</p>", f);
		}
		fputs("</div>", f);
	}
	fputs("</header>", f);
	section_story(r, f);

	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;
	if (json_array_size(ths))
		chart_thresholds(r, f, ths);
	section_before_after(r, f);
	if (r->n > 1) {
		fputs("<h2>Over time</h2>", f);
		chart_rates(r, f);
		bool any_ct = false, any_ns = false;
		for (size_t k = 0; k < CT_ROLE_N; k++) {
			any_ct |= r->has_ct[k];
			any_ns |= r->has_ns[k];
		}
		if (any_ct)
			chart_conntrack(r, f);
		if (any_ns)
			chart_tw(r, f);
		if (!any_ct || !any_ns)
			fputs(
			    "<p class=\"cap\" id=\"no-ns\">The conntrack table and TIME_WAIT "
			    "sockets "
			    "were not sampled in this run: they are counted per network namespace, "
			    "in a lab run (topology = lab).</p>",
			    f);
		chart_latency(r, f);
	}
	if (r->n_steps > 1)
		chart_steps(r, f);
	section_table(r, f);
	section_events(r, f);
	section_files(r, f);
	data_island(r, f);
	fputs("</main></body></html>\n", f);
}

/* ---- timeseries.csv -------------------------------------------------------------------- */

static void flatten_cols(json_t *cols, const char *prefix, const json_t *o)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		char name[512];
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (json_is_object(v))
			flatten_cols(cols, name, v);
		else if (!json_object_get(cols, name))
			json_object_set_new(cols, name, json_integer(json_object_size(cols)));
	}
}

static void flatten_row(const json_t *cols, const char *prefix, const json_t *o, const json_t **row)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		char name[512];
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (json_is_object(v))
			flatten_row(cols, name, v, row);
		else {
			const json_t *i = json_object_get(cols, name);
			if (i)
				row[json_integer_value(i)] = v;
		}
	}
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_value(FILE *f, const json_t *v)
{
	char buf[64];
	if (!v || json_is_null(v))
		return;
	if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.9g", json_real_value(v));
		fputs(buf, f);
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "true" : "false", f);
	} else if (json_is_string(v)) {
		csv_field(f, json_string_value(v));
	} else if (json_is_array(v)) {
		char *b = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&b, &len);
		size_t i;
		const json_t *e;
		if (!m)
			return;
		json_array_foreach(v, i, e)
		{
			if (i)
				fputs(" | ", m);
			if (json_is_string(e))
				fputs(json_string_value(e), m);
			else {
				char *t = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
				fputs(t ? t : "", m);
				free(t);
			}
		}
		fclose(m);
		csv_field(f, b ? b : "");
		free(b);
	}
}

static int write_csv(struct rep *r, FILE *f)
{
	json_t *cols = json_object();
	size_t i;
	const json_t *o;
	if (!cols)
		return -ENOMEM;
	json_array_foreach(r->samples, i, o) flatten_cols(cols, "", o);
	size_t nc = json_object_size(cols);
	const json_t **row = calloc(nc ? nc : 1, sizeof(*row));
	if (!row) {
		json_decref(cols);
		return -ENOMEM;
	}
	const char *k;
	json_t *v;
	json_object_foreach(cols, k, v)
	{
		if (json_integer_value(v))
			fputc(',', f);
		csv_field(f, k);
	}
	fputc('\n', f);
	json_array_foreach(r->samples, i, o)
	{
		memset(row, 0, nc * sizeof(*row));
		flatten_row(cols, "", o, row);
		for (size_t c = 0; c < nc; c++) {
			if (c)
				fputc(',', f);
			csv_value(f, row[c]);
		}
		fputc('\n', f);
	}
	free(row);
	json_decref(cols);
	return 0;
}

/* ---- putting it together ---------------------------------------------------------------- */

/* Write `path` through a temporary file and rename, so a reader never
 * sees half a file. */
static int write_atomic(struct rep *r, const char *path, int (*fn)(struct rep *, FILE *),
			struct ct_err *err)
{
	char *tmp = NULL;
	int rc = 0;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	FILE *f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		ct_err_set(err, CT_EXIT_ENV, "cannot write %s: %s%s", path, strerror(errno),
			 errno == EACCES || errno == EROFS ? " (write elsewhere with --out FILE)"
							   : "");
		goto out;
	}
	rc = fn(r, f);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		ct_err_set(err, CT_EXIT_ENV, "cannot write %s: %s", tmp, strerror(-rc));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		ct_err_set(err, CT_EXIT_ENV, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

static int html_fn(struct rep *r, FILE *f)
{
	write_html(r, f);
	return ferror(f) ? -EIO : 0;
}

static int csv_fn(struct rep *r, FILE *f)
{
	int rc = write_csv(r, f);
	return rc < 0 ? rc : ferror(f) ? -EIO : 0;
}

static void rep_free(struct rep *r)
{
	json_decref(r->summary);
	json_decref(r->samples);
	json_decref(r->plan);
	free(r->link_base);
	free(r->sc_name);
	free(r->sc_desc);
	free(r->sc_topology);
	free(r->steps);
	for (size_t i = 0; i < r->n_ev; i++)
		free(r->ev[i].text);
	free(r->ev);
	free(r->t);
}

static int prepare_axis(struct rep *r)
{
	r->n = json_array_size(r->samples);
	r->t = malloc((r->n ? r->n : 1) * sizeof(double));
	if (!r->t)
		return -ENOMEM;
	r->x0 = INFINITY;
	r->x1 = -INFINITY;
	for (size_t i = 0; i < r->n; i++) {
		const json_t *o = json_array_get(r->samples, i);
		r->t[i] = ct_json_nan(CT_JSON_GET(o, "t"));
		r->x0 = fmin(r->x0, r->t[i]);
		r->x1 = fmax(r->x1, r->t[i]);
		for (size_t k = 0; k < CT_ROLE_N; k++) {
			const json_t *ns = CT_JSON_GET(o, "ns", ct_role_name(roles_shown[k]));
			if (json_is_object(ns)) {
				r->has_ns[k] = true;
				r->has_ct[k] |= json_object_get(ns, "ct.count") != NULL;
			}
		}
	}
	/* conntrack is global: every netns has the counters, but a role whose
	 * table stayed empty while another's filled only adds a flat line */
	bool any_nonzero = false, nonzero[CT_ROLE_N] = {0};
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; k < CT_ROLE_N; k++)
			if (nz(ct_json_nan(CT_JSON_GET(json_array_get(r->samples, i), "ns",
						       ct_role_name(roles_shown[k]), "ct.count"))) >
			    0)
				any_nonzero = nonzero[k] = true;
	for (size_t k = 0; k < CT_ROLE_N && any_nonzero; k++)
		r->has_ct[k] = nonzero[k];
	if (!r->n) {
		r->x0 = 0;
		r->x1 = 1;
	}
	/* t = 0 is the run's start: show it, as the first sample closes the
	 * first interval */
	if (r->x0 > 0 && r->x0 < 5)
		r->x0 = 0;
	if (r->x1 <= r->x0)
		r->x1 = r->x0 + 1;
	return 0;
}

int ct_report_write(const char *run_dir, const char *html_path, struct ct_err *err)
{
	struct rep r = {.dir = run_dir};
	struct stat st;
	char *html = NULL, *csv = NULL;
	int rc;

	if (stat(run_dir, &st) < 0) {
		rc = -errno;
		ct_err_set(err, errno == ENOENT || errno == ENOTDIR ? CT_EXIT_USAGE : CT_EXIT_ENV,
			   "%s: %s", run_dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		ct_err_set(err, CT_EXIT_USAGE,
			 "%s is not a directory (give the run directory `ctload run` "
			 "wrote)",
			 run_dir);
		return -ENOTDIR;
	}
	char *ps = path_of(run_dir, "summary.json"), *pt = path_of(run_dir, "timeseries.jsonl");
	bool has = ps && pt && (access(ps, F_OK) == 0 || access(pt, F_OK) == 0);
	free(ps);
	free(pt);
	if (!has) {
		ct_err_set(err, CT_EXIT_USAGE,
			 "%s is not a run directory: it has neither summary.json nor "
			 "timeseries.jsonl",
			 run_dir);
		return -ENOTDIR;
	}
	read_scenario(&r);
	read_summary(&r);
	read_timeseries(&r);
	read_events(&r);
	if ((rc = prepare_axis(&r)) < 0 || (rc = build_steps(&r)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "report of %s: %s", run_dir, strerror(-rc));
		goto out;
	}
	if (html_path) {
		char *abs = realpath(run_dir, NULL);
		if (abs && asprintf(&r.link_base, "file://%s/", abs) < 0)
			r.link_base = NULL;
		free(abs);
	}
	html = html_path ? strdup(html_path) : path_of(run_dir, "report.html");
	if (!html) {
		rc = -ENOMEM;
		goto out;
	}
	char *slash = strrchr(html, '/');
	if (slash) {
		if (asprintf(&csv, "%.*s/timeseries.csv", (int)(slash - html), html) < 0)
			csv = NULL;
	} else {
		csv = strdup("timeseries.csv");
	}
	if (!csv) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = write_atomic(&r, html, html_fn, err)) < 0)
		goto out;
	rc = write_atomic(&r, csv, csv_fn, err);
out:
	free(html);
	free(csv);
	rep_free(&r);
	return rc;
}

int ct_report_build(const char *run_dir, struct ct_err *err)
{
	return ct_report_write(run_dir, NULL, err);
}
