/* html — report.html around its sections (see html.h): the head with the
 * embedded CSS, the header with the headline and the notes, and the JSON
 * data island; and the escaping every text of a run directory goes
 * through. */
#include "loadgen/report/html.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include <jansson.h>

#include "loadgen/report/report_css.h"
#include "loadgen/report/report_int.h"

void ct_html_esc(FILE *f, const char *s)
{
	if (!s)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			/* C0 controls and DEL are not allowed in HTML text. */
			if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
				break;
			fputc(*p, f);
		}
	}
}

char *ct_html_esc_str(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	ct_html_esc(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* JSON in a <script> block: "<" never appears raw, so no "</script>" or
 * "<!--" can end or confuse it. */
static void data_island(struct ct_rep *r, FILE *f)
{
	json_t *root = json_object(), *steps = json_array();
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		json_t *o = json_pack("{s:i, s:b, s:f, s:f, s:f, s:f, s:f, s:s}", "step", s->idx,
				      "partial", s->partial, "rate_target", s->rate_target,
				      "rate_achieved", s->rate_achieved, "attempted", s->attempted,
				      "completed", s->completed, "failed", s->failed, "diagnosis",
				      ct_rep_outcome_phrase(s));
		if (!o)
			continue;
		if (!isnan(s->ct_peak))
			json_object_set_new(o, "ct_peak", json_real(s->ct_peak));
		if (!isnan(s->ct_limit))
			json_object_set_new(o, "ct_limit", json_real(s->ct_limit));
		if (!isnan(s->p99))
			json_object_set_new(o, "connect_p99_ms", json_real(s->p99));
		if (s->has_sustain) {
			json_object_set_new(o, "verdict",
					    json_string(s->verdict ? s->verdict : ""));
			json_object_set_new(o, "sustained", json_boolean(s->sustained));
		}
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

/* The page name: the scenario's, else summary.json's, else a generic one. */
static const char *page_name(const struct ct_rep *r)
{
	if (r->sc_name)
		return r->sc_name;
	if (r->summary && json_is_string(json_object_get(r->summary, "scenario")))
		return json_string_value(json_object_get(r->summary, "scenario"));
	return "ctload run";
}

/* An MPI run's ranks: " · 2 MPI ranks: 0 on host-a, 1 on host-b (lost)". */
static void header_ranks(struct ct_rep *r, FILE *f)
{
	json_t *ranks =
	    r->summary ? json_object_get(json_object_get(r->summary, "mpi"), "ranks") : NULL;
	size_t i, n = json_array_size(ranks);
	json_t *rk;
	if (!n)
		return;
	fprintf(f, " \u00b7 <span id=\"ranks\">%zu MPI ranks:", n);
	json_array_foreach(ranks, i, rk)
	{
		fprintf(f, "%s %lld on ", i ? "," : "",
			(long long)json_integer_value(json_object_get(rk, "rank")));
		const char *host = json_string_value(json_object_get(rk, "host"));
		ct_html_esc(f, host ? host : "?");
		if (json_is_true(json_object_get(rk, "lost")))
			fputs(" (lost)", f);
	}
	fputs("</span>", f);
}

/* "topology lab · target … · started … · 4 steps, 68 samples" */
static void header_meta(struct ct_rep *r, FILE *f)
{
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
	header_ranks(r, f);
	fprintf(f, " \u00b7 %zu step%s, %zu samples</p>", r->n_steps, r->n_steps == 1 ? "" : "s",
		r->n);
}

/* What was missing or cut short, before anything else is read. */
static void header_notes(struct ct_rep *r, FILE *f)
{
	if (!r->interrupted && !r->n_notes && !r->sustain_off)
		return;
	fputs("<div class=\"notes\" id=\"notes\">", f);
	if (r->sustain_off)
		fputs("<p id=\"sustain-off\"><b>Each verdict is for its step's duration only</b> "
		      "([load] sustain = off): a step that held is not proven to hold longer, and "
		      "the limits whose timers outlast a step (60 s in TIME_WAIT, 120 s in the "
		      "conntrack table) can fail a longer run where it held.</p>",
		      f);
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

/* The head (title, CSP, the embedded CSS) and the header: the scenario's
 * name, the headline, its description, the run's facts and the notes. */
static void page_top(struct ct_rep *r, FILE *f)
{
	const char *name = page_name(r);
	char headline[1400];
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
	bool bad = ct_rep_headline(r, headline, sizeof(headline));
	fprintf(f, "<h1 class=\"%s\" id=\"headline\">", bad ? "bad" : "ok");
	ct_html_esc(f, headline);
	fputs("</h1>", f);
	if (r->sc_desc && r->sc_desc[0]) {
		fputs("<p class=\"desc\" id=\"description\">", f);
		ct_html_esc(f, r->sc_desc);
		fputs("</p>", f);
	}
	header_meta(r, f);
	header_notes(r, f);
	fputs("</header>", f);
}

int ct_rep_write_html(struct ct_rep *r, FILE *f)
{
	page_top(r, f);
	ct_rep_sections(r, f);
	data_island(r, f);
	fputs("</main></body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
