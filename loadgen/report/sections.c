/* sections — the page below its header, in reading order: what happened
 * (a sentence per threshold and per step), the threshold chart, before and
 * after for a kernel setting, the charts over time, the chart per step,
 * the table of every step, the event log and the run's files. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "loadgen/base/json.h"
#include "loadgen/report/html.h"
#include "loadgen/report/report_int.h"

#define MAX_TABLE_EVENTS 400

/* The page class of a step: held (ok), failed (bad), held but not proven
 * to last (uns). */
static const char *step_class(const struct ct_rep_step *s)
{
	return s->outcome == CT_REP_UNSUSTAINED ? "uns" : ct_rep_step_failed(s) ? "bad" : "ok";
}

/* A threshold that is a rate that held is good news; one whose point held
 * but is not proven to last is amber. */
static const char *threshold_class(struct ct_rep *r, const json_t *th)
{
	const char *method = json_string_value(json_object_get(th, "method"));
	const struct ct_rep_step *fs = ct_rep_first_fail_with(r, json_object_get(th, "settings"));
	double m = ct_json_nan(json_object_get(th, "measured_cps")),
	       pr = ct_json_nan(json_object_get(th, "predicted_cps"));
	/* held for its duration only, above the limit the model predicts */
	if (method && !strcmp(method, "held") && m > pr * 1.005)
		return "uns";
	/* held, proven sustained, or a search whose every trial passed */
	if (ct_rep_threshold_held(th))
		return "ok";
	if (method && !strcmp(method, "none") && fs && fs->outcome == CT_REP_UNSUSTAINED)
		return "uns";
	return "bad";
}

static void section_story(struct ct_rep *r, FILE *f)
{
	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;
	if (!r->n_steps && !json_array_size(ths))
		return;
	fputs("<h2>What happened</h2><ul class=\"story\">", f);
	size_t i;
	const json_t *th;
	json_array_foreach(ths, i, th)
	{
		char s[1400];
		ct_rep_threshold_sentence(r, th, true, false, s, sizeof(s));
		fprintf(f, "<li class=\"%s\">", threshold_class(r, th));
		ct_html_esc(f, s);
		fputs(".</li>", f);
	}
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		fprintf(f, "<li class=\"%s\" data-step=\"%d\">", step_class(s), s->idx);
		if (r->n_steps > 1)
			fprintf(f, "<b>Step %zu.</b> ", k + 1);
		char sentence[1200];
		ct_rep_step_sentence(s, sentence, sizeof(sentence));
		ct_html_esc(f, sentence);
		if (s->partial)
			fputs(" <span class=\"pill part\">cut short</span>", f);
		fputs("</li>", f);
	}
	fputs("</ul>", f);
}

/* The verdict cell: a pill, and for a step that held what its sustain
 * check says (the proof of a sustained one in its tooltip). */
static void table_verdict(const struct ct_rep_step *s, FILE *f)
{
	if (s->partial) {
		fputs("<span class=\"pill part\">cut short</span>", f);
	} else if (s->outcome == CT_REP_UNSUSTAINED) {
		fputs("<span class=\"pill uns\">not proven</span>", f);
		return;
	} else if (ct_rep_step_failed(s)) {
		fputs("<span class=\"pill bad\">failed</span>", f);
	} else if (s->has_sustain && s->sustain_off) {
		fprintf(f,
			"<span class=\"pill ok\" title=\"for its %s s only ([load] sustain = "
			"off)\">held</span>",
			CT_REP_FC(s->duration_s));
	} else if (s->has_sustain && s->sustained) {
		fputs("<span class=\"pill ok\" title=\"", f);
		ct_html_esc(f, s->proof);
		fputs("\">sustained</span>", f);
	} else {
		fputs("<span class=\"pill ok\">held</span>", f);
	}
	if (s->verdict && strcmp(s->verdict, "pass") && strcmp(s->verdict, "fail")) {
		fputs(" ", f);
		ct_html_esc(f, s->verdict);
	}
}

static void section_table(struct ct_rep *r, FILE *f)
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
		const struct ct_rep_step *s = &r->steps[k];
		char a[32], b[32], c[32];
		/* 0 is what a step with no handshake reports: no latency, not 0 ms */
		ct_rep_fmt_ms(s->pmax > 0 ? s->p50 : NAN, a, sizeof(a));
		ct_rep_fmt_ms(s->pmax > 0 ? s->p99 : NAN, b, sizeof(b));
		ct_rep_fmt_ms(s->pmax > 0 ? s->pmax : NAN, c, sizeof(c));
		fprintf(f, "<tr class=\"%s\" data-step=\"%d\"><td>%zu</td><td class=\"l\">",
			s->partial			   ? "partial"
			: s->outcome == CT_REP_UNSUSTAINED ? "uns"
			: ct_rep_step_failed(s)		   ? "fail"
							   : "",
			s->idx, k + 1);
		ct_html_esc(f, s->settings[0] ? s->settings : "-");
		fprintf(f, "</td><td>%s</td><td>%s</td>", CT_REP_FC(s->rate_target),
			CT_REP_FC(s->rate_achieved));
		fprintf(f, "<td>%s</td><td>%s</td><td>%s</td><td class=\"l\">",
			CT_REP_FC(s->attempted), CT_REP_FC(s->completed), CT_REP_FC(s->failed));
		bool any = false;
		for (size_t i = 0; i < CT_FAIL_N; i++)
			if (s->fail[i] > 0) {
				fprintf(f, "%s%s %s", any ? "<br>" : "", CT_REP_FC(s->fail[i]),
					ct_fail_name(i));
				any = true;
			}
		fprintf(f, "%s</td><td>%s</td><td>%s</td><td>%s</td>", any ? "" : "-", a, b, c);
		fprintf(f, "<td>%s / %s</td><td>%s</td>", CT_REP_FC(s->ct_peak),
			CT_REP_FC(s->ct_limit), isnan(s->ct_peak) ? "-" : CT_REP_FC(s->ct_drop));
		fprintf(f, "<td>%s / %s</td><td class=\"l\">", CT_REP_FC(s->tw_client),
			CT_REP_FC(s->tw_server));
		table_verdict(s, f);
		fputs("</td></tr>", f);
		/* why it is not proven, on a line of its own: the table stays narrow */
		if (s->outcome == CT_REP_UNSUSTAINED && !s->partial) {
			fprintf(f,
				"<tr class=\"uns why\" data-step=\"%d\"><td></td><td class=\"l\" "
				"colspan=\"14\">",
				s->idx);
			ct_html_esc(f, s->uns_phrase);
			fputs("</td></tr>", f);
		}
	}
	fputs("</tbody></table></div>", f);
}

static void section_events(struct ct_rep *r, FILE *f)
{
	if (!r->n_ev)
		return;
	fputs("<h2>Events</h2><p class=\"cap\">Kernel messages (red marks on the charts) and what "
	      "the lab did, in order.</p><table id=\"events\"><thead><tr><th>t</th><th "
	      "class=\"l\">source</th><th class=\"l\">message</th></tr></thead><tbody>",
	      f);
	for (size_t i = 0; i < r->n_ev && i < MAX_TABLE_EVENTS; i++) {
		const struct ct_rep_event *e = &r->ev[i];
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

/* Links to the files that exist (the CSV files are written with the page). */
static void section_files(struct ct_rep *r, FILE *f)
{
	static const struct {
		const char *name, *what;
		bool with_page; /* written beside the page, wherever that is */
	} files[] = {
	    {"scenario.ini", "the scenario as run", false},
	    {"summary.json", "every step's numbers", false},
	    {"timeseries.jsonl", "every sample", false},
	    {"timeseries.csv", "the samples for a spreadsheet", true},
	    {"connect_hist.csv", "each sample's connect times, for a spreadsheet", true},
	    {"events.log", "kernel messages and lab actions", false},
	};
	bool any = false;
	fputs("<footer>Files of this run: ", f);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = ct_rep_path(r->dir, files[i].name);
		bool there = p && (access(p, F_OK) == 0 || files[i].with_page);
		free(p);
		if (!there)
			continue;
		fprintf(f, "%s<a href=\"", any ? " \u00b7 " : "");
		if (r->link_base && !files[i].with_page)
			url_put(f, r->link_base);
		url_put(f, files[i].name);
		fprintf(f, "\">%s</a> (%s)", files[i].name, files[i].what);
		any = true;
	}
	fputs(". Rebuild this page with <code>ctload report DIR</code>.</footer>", f);
}

/* The charts over time, when there are two samples or more. */
static void section_over_time(struct ct_rep *r, FILE *f)
{
	bool any_ct = false, any_ns = false;
	if (r->n <= 1)
		return;
	fputs("<h2>Over time</h2>", f);
	ct_rep_chart_rates(r, f);
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		any_ct |= r->has_ct[k];
		any_ns |= r->has_ns[k];
	}
	if (any_ct)
		ct_rep_chart_conntrack(r, f);
	if (any_ns)
		ct_rep_chart_tw(r, f);
	if (!any_ct || !any_ns)
		fputs("<p class=\"cap\" id=\"no-ns\">The conntrack table and TIME_WAIT "
		      "sockets "
		      "were not sampled in this run: they are counted per network namespace, "
		      "in a lab run (topology = lab).</p>",
		      f);
	ct_rep_chart_latency(r, f);
	ct_rep_chart_bystander(r, f);
}

void ct_rep_sections(struct ct_rep *r, FILE *f)
{
	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;

	section_story(r, f);
	if (json_array_size(ths))
		ct_rep_chart_thresholds(r, f, ths);
	ct_rep_before_after(r, f);
	section_over_time(r, f);
	if (r->n_steps > 1)
		ct_rep_chart_steps(r, f);
	section_table(r, f);
	section_events(r, f);
	section_files(r, f);
}
