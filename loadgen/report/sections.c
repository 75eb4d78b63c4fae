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
		char s[600];
		ct_rep_threshold_sentence(r, th, true, s, sizeof(s));
		fputs(ct_rep_threshold_held(th) ? "<li class=\"ok\">" : "<li class=\"bad\">", f);
		ct_html_esc(f, s);
		fputs(".</li>", f);
	}
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		fprintf(f, "<li class=\"%s\" data-step=\"%d\">",
			ct_rep_step_failed(s) ? "bad" : "ok", s->idx);
		if (r->n_steps > 1)
			fprintf(f, "<b>Step %zu.</b> ", k + 1);
		char sentence[768];
		ct_rep_step_sentence(s, sentence, sizeof(sentence));
		ct_html_esc(f, sentence);
		if (s->partial)
			fputs(" <span class=\"pill part\">cut short</span>", f);
		fputs("</li>", f);
	}
	fputs("</ul>", f);
}

/* The peaks over the steps with one value of a sweep key, for its card. */
struct peaks {
	double ctp, ctl, twc, tws, p99;
};

static void value_peaks(struct ct_rep *r, const char *key, const char *val, struct peaks *pk)
{
	*pk = (struct peaks){NAN, NAN, NAN, NAN, NAN};
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		const json_t *v = s->js ? CT_JSON_GET(s->js, "settings", key) : NULL;
		if (!json_is_string(v) || strcmp(json_string_value(v), val))
			continue;
		if (!isnan(s->ct_peak))
			pk->ctp = isnan(pk->ctp) ? s->ct_peak : fmax(pk->ctp, s->ct_peak);
		if (!isnan(s->ct_limit))
			pk->ctl = s->ct_limit;
		if (!isnan(s->tw_client))
			pk->twc = isnan(pk->twc) ? s->tw_client : fmax(pk->twc, s->tw_client);
		if (!isnan(s->tw_server))
			pk->tws = isnan(pk->tws) ? s->tw_server : fmax(pk->tws, s->tw_server);
		if (!isnan(s->p99))
			pk->p99 = isnan(pk->p99) ? s->p99 : fmax(pk->p99, s->p99);
	}
}

/* One card: key = val, the best rate that held, what broke first, the
 * peaks, and the small chart of its steps. */
static void value_card(struct ct_rep *r, FILE *f, const char *key, const char *val,
		       const struct ct_rep_mini *mini)
{
	const char *shortk = strrchr(key, '.') + 1;
	double clean;
	const struct ct_rep_step *ff;
	struct peaks pk;
	ct_rep_value_outcome(r, key, val, &clean, &ff);
	value_peaks(r, key, val, &pk);
	fputs("<div class=\"card\" data-value=\"", f);
	ct_html_esc(f, val);
	fputs("\"><h3>", f);
	ct_html_esc(f, shortk);
	fputs(" = ", f);
	ct_html_esc(f, val);
	if (clean > 0)
		fprintf(f,
			"</h3><div class=\"big\">%s/s</div><div class=\"meta\">the "
			"highest rate that completed without failures</div>",
			CT_REP_FC(clean));
	else
		fputs("</h3><div class=\"big\">none</div><div class=\"meta\">no step "
		      "completed without failures</div>",
		      f);
	if (ff) {
		char ph[128];
		ct_rep_cap(ct_rep_outcome_phrase(ff), ph, sizeof(ph));
		fputs("<p>", f);
		ct_html_esc(f, ph);
		fprintf(f, " at %s/s.</p>", CT_REP_FC(ff->rate_target));
	} else {
		fputs("<p>No step failed.</p>", f);
	}
	char ms[32];
	ct_rep_fmt_ms(pk.p99, ms, sizeof(ms));
	fprintf(f, "<dl><dt>conntrack peak</dt><dd>%s", CT_REP_FC(pk.ctp));
	if (!isnan(pk.ctl))
		fprintf(f, " of %s", CT_REP_FC(pk.ctl));
	fprintf(f,
		"</dd><dt>TIME_WAIT peak, client</dt><dd>%s</dd><dt>TIME_WAIT peak, "
		"server</dt><dd>%s</dd><dt>worst connect p99</dt><dd>%s</dd></dl>",
		CT_REP_FC(pk.twc), CT_REP_FC(pk.tws), ms);
	if (mini->yc && mini->yf && r->n > 1)
		ct_rep_chart_mini(r, f, key, val, mini);
	fputs("</div>", f);
}

/* Sweep axes that change the kernel (sysctl.*) get their values side by side. */
static void section_before_after(struct ct_rep *r, FILE *f)
{
	for (size_t a = 0; a < r->n_sweep; a++) {
		const char *key = r->sweep_keys[a];
		if (strncmp(key, "sysctl.", 7))
			continue;
		const char *vals[16];
		size_t nv = ct_rep_axis_values(r, key, vals, 16);
		if (nv < 2)
			continue;
		struct ct_rep_mini mini;
		ct_rep_mini_series(r, &mini);
		fputs("<h2>Before and after: ", f);
		ct_html_esc(f, strrchr(key, '.') + 1);
		fputs("</h2><p class=\"cap\">The same load with each value of <code>", f);
		ct_html_esc(f, key + 7);
		fputs("</code>.</p><div class=\"cards\">", f);
		for (size_t j = 0; j < nv; j++)
			value_card(r, f, key, vals[j], &mini);
		fputs("</div>", f);
		free(mini.yc);
		free(mini.yf);
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
			s->partial		? "partial"
			: ct_rep_step_failed(s) ? "fail"
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
		if (s->partial)
			fputs("<span class=\"pill part\">cut short</span>", f);
		else if (ct_rep_step_failed(s))
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
}

void ct_rep_sections(struct ct_rep *r, FILE *f)
{
	const json_t *ths = r->summary ? json_object_get(r->summary, "thresholds") : NULL;

	section_story(r, f);
	if (json_array_size(ths))
		ct_rep_chart_thresholds(r, f, ths);
	section_before_after(r, f);
	section_over_time(r, f);
	if (r->n_steps > 1)
		ct_rep_chart_steps(r, f);
	section_table(r, f);
	section_events(r, f);
	section_files(r, f);
}
