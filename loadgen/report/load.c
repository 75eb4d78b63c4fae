/* load — the run directory, read once into struct ct_rep (report_int.h):
 * scenario.ini, summary.json, timeseries.jsonl and events.log, each file
 * once, and the time axis of the samples.
 *
 * Every file may be missing, cut short or hostile: what cannot be read
 * becomes a note at the top of the page, never an error. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "loadgen/base/json.h"
#include "loadgen/report/report_int.h"
#include "loadgen/scenario/plan.h"
#include "loadgen/scenario/scenario.h"

const enum ct_role ct_rep_roles_shown[CT_ROLE_N] = {CT_ROLE_CLIENT, CT_ROLE_ROUTER, CT_ROLE_SERVER,
						    CT_ROLE_HOST};

void ct_rep_note(struct ct_rep *r, const char *fmt, ...)
{
	va_list ap;
	if (r->n_notes >= CT_REP_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->n_notes], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
	ct_warn("report: %s", r->notes[r->n_notes]);
	r->n_notes++;
}

char *ct_rep_path(const char *dir, const char *name)
{
	char *s;
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

/* Every sweep point's settings, in run order: they name a step that never
 * reached summary.json. */
static json_t *sweep_plan(const struct ct_scenario *sc)
{
	json_t *plan = json_array();
	for (size_t i = 0, n = ct_plan_points(sc); plan && i < n && i < 10000; i++) {
		json_t *set = json_object();
		for (size_t a = 0; set && a < sc->n_sweep; a++) {
			const char *v = ct_plan_value(sc, i, a);
			json_object_set_new(set, sc->sweep[a].key, json_string(v ? v : ""));
		}
		json_array_append_new(plan, set);
	}
	return plan;
}

/* scenario.ini, read by the scenario parser (the one reader of the format):
 * the name, description and topology of the header, the sweep keys, the
 * plan. A file it refuses (cut short, or written by another version of
 * ctload) costs only these; the header falls back on summary.json. */
static void read_scenario(struct ct_rep *r)
{
	char *p = ct_rep_path(r->dir, "scenario.ini");
	struct ct_err serr = {0};
	struct ct_scenario *sc;

	if (!p)
		return;
	if (access(p, F_OK) < 0) {
		ct_rep_note(
		    r, "scenario.ini is missing: the scenario's name and description are unknown");
		free(p);
		return;
	}
	sc = ct_scenario_load(p, NULL, 0, &serr);
	free(p);
	if (!sc) {
		ct_rep_note(r,
			    "scenario.ini could not be read, so the scenario's name, description "
			    "and sweep are unknown: %s",
			    serr.msg);
		return;
	}
	r->sc_name = sc->scenario.name ? strdup(sc->scenario.name) : NULL;
	r->sc_desc = sc->scenario.description ? strdup(sc->scenario.description) : NULL;
	r->sc_topology = ct_topology_name(sc->scenario.topology);
	for (size_t a = 0; a < sc->n_sweep && r->n_sweep < CT_REP_MAX_SWEEP; a++)
		snprintf(r->sweep_keys[r->n_sweep++], sizeof(r->sweep_keys[0]), "%s",
			 sc->sweep[a].key);
	r->plan = sweep_plan(sc);
	ct_scenario_free(sc);
}

static void read_summary(struct ct_rep *r)
{
	char *p = ct_rep_path(r->dir, "summary.json");
	json_error_t je;
	if (!p)
		return;
	if (access(p, F_OK) < 0) {
		r->summary_missing = true;
		ct_rep_note(r,
			    "summary.json is missing: the steps are rebuilt from timeseries.jsonl");
	} else {
		r->summary = json_load_file(p, 0, &je);
		if (!r->summary || !json_is_object(r->summary)) {
			json_decref(r->summary);
			r->summary = NULL;
			r->summary_missing = true;
			ct_rep_note(
			    r,
			    "summary.json could not be read (%s, line %d): the steps are rebuilt "
			    "from timeseries.jsonl",
			    je.text, je.line);
		}
	}
	free(p);
	if (r->summary && json_is_true(json_object_get(r->summary, "interrupted")))
		r->interrupted = true;
}

static void read_timeseries(struct ct_rep *r)
{
	char *p = ct_rep_path(r->dir, "timeseries.jsonl");
	FILE *f = p ? fopen(p, "r") : NULL;
	char *line = NULL;
	size_t cap_ = 0, lineno = 0, bad = 0, last_bad = 0, last_good = 0;
	ssize_t len;

	r->samples = json_array();
	if (!f) {
		r->ts_missing = true;
		ct_rep_note(r, "timeseries.jsonl %s: no charts over time",
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
		ct_rep_note(
		    r,
		    "The last line of timeseries.jsonl (line %zu) is incomplete: the run was cut "
		    "short while writing it; it is left out",
		    last_bad);
		r->interrupted = true;
	} else if (bad) {
		ct_rep_note(
		    r,
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

/* The kernel prints some messages with their module's prefix twice:
 * nf_conntrack's pr_fmt adds "nf_conntrack: " to a text that begins with
 * it ("nf_conntrack: nf_conntrack: table full, dropping packet"). People
 * read it once; the samples and timeseries.csv keep the line as logged. */
static const char *kernel_text(const char *text)
{
	const char *colon = strstr(text, ": ");
	size_t n = colon ? (size_t)(colon - text) + 2 : 0;
	if (!colon || n > 40 || memchr(text, ' ', n - 2))
		return text;
	return strncmp(text + n, text, n) ? text : text + n;
}

static int add_event(struct ct_rep *r, double t, const char *src, const char *stamp,
		     const char *text)
{
	struct ct_rep_event *ev = realloc(r->ev, (r->n_ev + 1) * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	r->ev = ev;
	ev = &r->ev[r->n_ev];
	memset(ev, 0, sizeof(*ev));
	ev->t = t;
	ev->seq = r->n_ev;
	snprintf(ev->src, sizeof(ev->src), "%s", src);
	snprintf(ev->stamp, sizeof(ev->stamp), "%s", stamp ? stamp : "");
	ev->text = strdup(strcmp(src, "kernel") ? text : kernel_text(text));
	if (!ev->text)
		return -ENOMEM;
	r->n_ev++;
	return 0;
}

/* By time; events without one keep their place relative to each other
 * and go first (they come from before the run's clock started). */
static int cmp_event(const void *a, const void *b)
{
	const struct ct_rep_event *x = a, *y = b;
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
static void read_events(struct ct_rep *r)
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
	char *p = ct_rep_path(r->dir, "events.log");
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

static int prepare_axis(struct ct_rep *r)
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
			const json_t *ns =
			    CT_JSON_GET(o, "ns", ct_role_name(ct_rep_roles_shown[k]));
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
			if (ct_rep_nz(ct_json_nan(CT_JSON_GET(json_array_get(r->samples, i), "ns",
							      ct_role_name(ct_rep_roles_shown[k]),
							      "ct.count"))) > 0)
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

int ct_rep_load(struct ct_rep *r, const char *dir)
{
	r->dir = dir;
	read_scenario(r);
	read_summary(r);
	read_timeseries(r);
	read_events(r);
	return prepare_axis(r);
}

void ct_rep_free(struct ct_rep *r)
{
	json_decref(r->summary);
	json_decref(r->samples);
	json_decref(r->plan);
	free(r->link_base);
	free(r->sc_name);
	free(r->sc_desc);
	free(r->steps);
	for (size_t i = 0; i < r->n_ev; i++)
		free(r->ev[i].text);
	free(r->ev);
	free(r->t);
}
