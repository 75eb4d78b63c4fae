/* thchart — the chart per threshold: the measured rate against the model's.
 *
 * Thresholds of one sweep can span four decades (68/s with a small
 * conntrack table, 120,002/s for the client's ports with tcp_tw_reuse), so
 * the rate axis is logarithmic. The bars are horizontal, one row per
 * threshold, and its settings sit in a column of their own at the left,
 * one "key=value" a line (wrapped when a line is longer than the column):
 * no label shares a line or a column with another. Settings that every
 * threshold shares are said once, in the caption. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/base/json.h"
#include "loadgen/report/html.h"
#include "loadgen/report/report_int.h"

#define LBL_X	  8.0 /* the label column */
#define LBL_W	  250.0
#define PLOT_X	  270.0				  /* the bars */
#define PLOT_W	  (CT_REP_CHART_W - PLOT_X - 100) /* room for the value labels */
#define TOP	  26.0				  /* the decade labels above */
#define BAR_H	  11.0
#define BAR_GAP	  3.0
#define LINE_H	  13.0
#define ROW_PAD	  12.0
#define MAX_LINES 8
/* Characters of 11px text that fit the label column, with room to spare
 * (DejaVu Sans averages about 6.2 px a character). */
#define LINE_CH 36

/* One threshold's row. */
struct row {
	char line[MAX_LINES][LINE_CH * 4 + 8];
	size_t n;
	double y, h;
};

/* The log scale from lo to hi (decades). */
struct axis {
	double l0, l1;
};

static double lx(const struct axis *a, double v)
{
	double f = (log10(v) - a->l0) / (a->l1 - a->l0);
	return PLOT_X + (f < 0 ? 0 : f > 1 ? 1 : f) * PLOT_W;
}

/* Whether key has the same value in every threshold. */
static bool shared(const json_t *ths, const char *key)
{
	const json_t *first = CT_JSON_GET(json_array_get(ths, 0), "settings", key), *th;
	size_t i;
	json_array_foreach(ths, i, th)
	{
		if (!first || !json_equal(CT_JSON_GET(th, "settings", key), first))
			return false;
	}
	return true;
}

/* "key=value" in lines of at most LINE_CH characters, broken at a blank or
 * a comma when there is one. */
static void add_wrapped(struct row *rw, const char *text)
{
	size_t len = strlen(text), at = 0;
	while (at < len && rw->n < MAX_LINES) {
		size_t cut = len - at;
		if (cut > LINE_CH) {
			cut = LINE_CH;
			for (size_t k = LINE_CH; k > LINE_CH / 2; k--)
				if (text[at + k] == ' ' || text[at + k - 1] == ',') {
					cut = k;
					break;
				}
		}
		snprintf(rw->line[rw->n++], sizeof(rw->line[0]), "%s%.*s", at ? "  " : "", (int)cut,
			 text + at);
		at += cut;
		while (text[at] == ' ')
			at++;
	}
}

/* The lines of a threshold's label: its settings but load.rate and those
 * all thresholds share (every one when there is a single threshold). */
static void row_label(const json_t *ths, const json_t *th, struct row *rw)
{
	const json_t *set = json_object_get(th, "settings"), *v;
	const char *k;
	bool one = json_array_size(ths) == 1;
	json_object_foreach((json_t *)set, k, v)
	{
		if (!strcmp(k, "load.rate") || (!one && shared(ths, k)))
			continue;
		char text[320], val[64];
		if (json_is_string(v))
			snprintf(val, sizeof(val), "%s", json_string_value(v));
		else
			snprintf(val, sizeof(val), "%g", json_number_value(v));
		snprintf(text, sizeof(text), "%s=%s", strrchr(k, '.') ? strrchr(k, '.') + 1 : k,
			 val);
		add_wrapped(rw, text);
	}
	/* A sweep of load.rate alone: without it every point reads the same. */
	const json_t *rate = json_object_get(set, "load.rate");
	if (!rw->n && rate && (one || !shared(ths, "load.rate"))) {
		char text[80];
		if (json_is_string(rate))
			snprintf(text, sizeof(text), "rate=%s", json_string_value(rate));
		else
			snprintf(text, sizeof(text), "rate=%g", json_number_value(rate));
		add_wrapped(rw, text);
	}
	if (!rw->n)
		snprintf(rw->line[rw->n++], sizeof(rw->line[0]), "as configured");
}

/* "10/s", "1k/s", "100k/s". */
static void decade_label(double v, char *buf, size_t len)
{
	if (v >= 1e6)
		snprintf(buf, len, "%gM/s", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%gk/s", v / 1e3);
	else
		snprintf(buf, len, "%g/s", v);
}

/* The decades: a grid line each, its label above the plot. */
static void decades(FILE *f, const struct axis *a, double bottom)
{
	fputs("<g class=\"grid\">", f);
	for (double e = a->l0; e <= a->l1 + 1e-9; e++)
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			lx(a, pow(10, e)), lx(a, pow(10, e)), TOP, bottom);
	fputs("</g><g class=\"xlabels\">", f);
	for (double e = a->l0; e <= a->l1 + 1e-9; e++) {
		char l[32];
		decade_label(pow(10, e), l, sizeof(l));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", lx(a, pow(10, e)), TOP - 8, l);
	}
	fputs("</g>", f);
}

/* One bar and its value at the bar's end ("≥" before a rate that held),
 * then `note` when it fits in the chart. */
static void bar(FILE *f, const struct axis *a, const char *cls, double v, double y, bool lower,
		const char *note)
{
	double x1 = lx(a, v);
	char val[64];
	snprintf(val, sizeof(val), "%s%s/s", lower ? "\u2265 " : "", CT_REP_FC(v));
	bool fits = note && x1 + 4 + 6.6 * (double)(strlen(val) + strlen(note)) < CT_REP_CHART_W;
	fprintf(f,
		"<rect class=\"%s\" data-v=\"%g\"%s x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%.1f\"/><text class=\"thval\" x=\"%.1f\" y=\"%.1f\">%s%s</text>",
		cls, v, lower ? " data-lower=\"1\"" : "", PLOT_X, y, fmax(x1 - PLOT_X, 1), BAR_H,
		x1 + 4, y + BAR_H - 1.5, val, fits ? note : "");
}

/* A threshold's row: its label lines, its measured bar (or why there is
 * none), the model's bar. */
static void draw_row(struct ct_rep *r, FILE *f, const struct axis *a, const json_t *th,
		     const struct row *rw, size_t i)
{
	double m = ct_json_nan(CT_JSON_GET(th, "measured_cps")),
	       pr = ct_json_nan(CT_JSON_GET(th, "predicted_cps"));
	double yb = rw->y + (rw->h - (2 * BAR_H + BAR_GAP)) / 2;
	fprintf(f, "<g data-threshold=\"%zu\"><text class=\"thlbl\">", i);
	for (size_t k = 0; k < rw->n; k++) {
		fprintf(f, "<tspan x=\"%.1f\" y=\"%.1f\">", LBL_X, rw->y + 10 + LINE_H * (double)k);
		ct_html_esc(f, rw->line[k]);
		fputs("</tspan>", f);
	}
	fputs("</text>", f);
	const char *method = json_string_value(json_object_get(th, "method"));
	if (m > 0 && method && !strcmp(method, "held")) /* for its duration only */
		bar(f, a, "bar-measured dur", m, yb, true, " for its duration only");
	else if (m > 0)
		bar(f, a, "bar-measured", m, yb, json_is_false(json_object_get(th, "bounded")),
		    NULL);
	else {
		const struct ct_rep_step *fs =
		    ct_rep_first_fail_with(r, json_object_get(th, "settings"));
		bool uns = fs && fs->outcome == CT_REP_UNSUSTAINED;
		fprintf(f, "<text class=\"thnote%s\" x=\"%.1f\" y=\"%.1f\">", uns ? " uns" : "",
			PLOT_X + 4, yb + BAR_H - 1.5);
		if (uns)
			fprintf(f, "not proven at %s/s", CT_REP_FC(fs->rate_target));
		else
			fputs("no limit measured", f);
		fputs("</text>", f);
	}
	if (pr > 0)
		bar(f, a, "bar-predicted", pr, yb + BAR_H + BAR_GAP, false, NULL);
	fputs("</g>", f);
}

/* The caption, with the settings every threshold shares. */
static void caption(FILE *f, const json_t *ths)
{
	const json_t *set = CT_JSON_GET(json_array_get(ths, 0), "settings"), *v;
	const char *k;
	size_t n = 0;
	fputs(
	    "<p class=\"cap\">Per setting, the measured threshold (blue; \u2265 marks a rate that "
	    "held, not a limit reached) beside the rate the model predicts from the kernel's "
	    "limits (grey). Log scale: each grid line is ten times the one before.",
	    f);
	json_object_foreach((json_t *)set, k, v)
	{
		if (json_array_size(ths) < 2 || !strcmp(k, "load.rate") || !shared(ths, k))
			continue;
		fputs(n++ ? ", " : " All with ", f);
		ct_html_esc(f, strrchr(k, '.') ? strrchr(k, '.') + 1 : k);
		fputs("=", f);
		ct_html_esc(f, json_string_value(v));
	}
	fputs(n ? ".</p>" : "</p>", f);
}

void ct_rep_chart_thresholds(struct ct_rep *r, FILE *f, const json_t *ths)
{
	size_t n = json_array_size(ths), i;
	const json_t *th;
	double lo = INFINITY, hi = 0, y = TOP + 4;
	struct row rows[64];
	json_array_foreach(ths, i, th)
	{
		static const char *const keys[] = {"measured_cps", "predicted_cps"};
		for (size_t k = 0; k < 2; k++) {
			double v = ct_json_nan(CT_JSON_GET(th, keys[k]));
			if (v > 0) {
				lo = fmin(lo, v);
				hi = fmax(hi, v);
			}
		}
		if (i < 64) {
			rows[i] = (struct row){.y = y};
			row_label(ths, th, &rows[i]);
			rows[i].h = fmax(2 * BAR_H + BAR_GAP, LINE_H * (double)rows[i].n) + ROW_PAD;
			y += rows[i].h;
		}
	}
	if (!(hi > 0))
		lo = hi = 1;
	struct axis a = {floor(log10(lo)), ceil(log10(hi))};
	if (a.l1 <= a.l0)
		a.l1 = a.l0 + 1;
	fputs("<section class=\"chart\" id=\"chart-thresholds\"><h3>Measured threshold against "
	      "the model</h3>",
	      f);
	caption(f, ths);
	bool any_held = false;
	json_array_foreach(ths, i, th)
	{
		const char *method = json_string_value(json_object_get(th, "method"));
		any_held |= method && !strcmp(method, "held");
	}
	const char *labels[] = {"measured", "model",
				any_held ? "held for its duration only, not proven to last" : NULL};
	const char *colors[] = {"#2f6fd6", "#b8c4d1", "#9dbbe9"};
	ct_rep_legend(f, labels, colors, 3);
	fprintf(f,
		"<svg data-chart=\"thresholds\" data-scale=\"log\" viewBox=\"0 0 %.0f %.0f\" "
		"role=\"img\" aria-label=\"measured against predicted threshold, log scale\">",
		CT_REP_CHART_W, y + 6);
	decades(f, &a, y);
	for (i = 0; i < n && i < 64; i++)
		draw_row(r, f, &a, json_array_get(ths, i), &rows[i], i);
	fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
		PLOT_X, TOP, PLOT_W, y - TOP);
	fputs("</svg></section>\n", f);
}
