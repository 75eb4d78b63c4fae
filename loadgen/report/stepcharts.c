/* stepcharts — the charts by step: bars per step (offered, completed,
 * failed) and the small charts of the before/after cards (the steps of one
 * sweep value back to back). The chart per threshold is thchart.c's. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/base/json.h"
#include "loadgen/report/html.h"
#include "loadgen/report/report_int.h"
#include "loadgen/report/svg.h"

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

/* One step's bars in its slot: the target, what completed (amber when the
 * step held but is not proven to last), what failed; its value, number
 * and settings below when they fit the slot. */
static void step_bars(FILE *f, const struct ct_svg_plot *p, const struct ct_rep_step *s, size_t k,
		      double slot)
{
	double x = p->x + slot * (double)k + slot * 0.12, bw = slot * 0.76;
	double dur = s->js ? ct_rep_nz(ct_json_nan(CT_JSON_GET(s->js, "duration_s"))) : 0;
	if (!(dur > 0))
		dur = !isnan(s->t0) ? s->t1 - s->t0 + 0.1 : 1;
	double frate = s->failed / dur, base = ct_svg_py(p, 0);
	fprintf(f, "<g data-step=\"%d\">", s->idx);
	fprintf(f,
		"<rect class=\"bar-target\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
		"width=\"%.1f\" height=\"%.1f\"><title>step %zu offered %s/s</title></rect>",
		s->rate_target, x, ct_svg_py(p, s->rate_target), bw,
		base - ct_svg_py(p, s->rate_target), k + 1, CT_REP_FC(s->rate_target));
	double iw = bw * 0.5, ix = x + bw * 0.25;
	bool uns = s->outcome == CT_REP_UNSUSTAINED;
	fprintf(f,
		"<rect class=\"bar-achieved%s\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
		"width=\"%.1f\" height=\"%.1f\"><title>step %zu completed %s/s%s",
		uns ? " uns" : "", s->rate_achieved, ix, ct_svg_py(p, s->rate_achieved), iw,
		base - ct_svg_py(p, s->rate_achieved), k + 1, CT_REP_FC(s->rate_achieved),
		uns ? ": " : "");
	if (uns)
		ct_html_esc(f, s->uns_phrase);
	fputs("</title></rect>", f);
	if (s->failed > 0) {
		double top = ct_svg_py(p, s->rate_achieved + frate);
		fprintf(f,
			"<rect class=\"bar-failed\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%.1f\"><title>step %zu: %s failed</title>"
			"</rect>",
			s->failed, ix, top, iw, ct_svg_py(p, s->rate_achieved) - top, k + 1,
			CT_REP_FC(s->failed));
	}
	if (slot > 34)
		fprintf(f, "<text class=\"barval\" x=\"%.1f\" y=\"%.1f\">%s</text>", x + bw / 2,
			ct_svg_py(p, fmax(s->rate_target, s->rate_achieved)) - 4,
			CT_REP_FC(s->rate_achieved));
	fprintf(f, "<text class=\"barlbl\" x=\"%.1f\" y=\"%.1f\">%zu</text>", x + bw / 2,
		p->y + p->h + 14, k + 1);
	/* the settings only where they fit (about 6.2 px a character): else
	 * neighbours would overlap; the table of steps has them all */
	if (slot > 70 && 6.6 * (double)strlen(s->label) < slot - 4) {
		fprintf(f, "<text class=\"barlbl\" x=\"%.1f\" y=\"%.1f\">", x + bw / 2,
			p->y + p->h + 28);
		ct_html_esc(f, s->label);
		fputs("</text>", f);
	}
	fputs("</g>", f);
}

/* Bars per step: the target (light), what completed (green, amber when not
 * proven to last) and what failed (red, per second of the step). */
void ct_rep_chart_steps(struct ct_rep *r, FILE *f)
{
	double ymax = 0, h = 250;
	bool any_uns = false;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		ymax = fmax(ymax, fmax(s->rate_target, s->rate_achieved));
		any_uns |= s->outcome == CT_REP_UNSUSTAINED;
	}
	ymax = ct_svg_nice_ceil(ymax * 1.08);
	struct ct_svg_plot p = {.x = 62,
				.y = 18,
				.w = CT_REP_CHART_W - 80,
				.h = h - 18 - 44,
				.x0 = 0,
				.x1 = (double)r->n_steps,
				.y0 = 0,
				.y1 = ymax};
	fprintf(f,
		"<section class=\"chart\" id=\"chart-steps\"><h3>Each step: offered against "
		"completed</h3><p class=\"cap\">The light bar is the rate ctload offered, the "
		"green bar what completed per second, the red bar what failed per second%s.</p>",
		any_uns ? "; an amber bar is a step that held for its duration but is not proven "
			  "to hold longer"
			: "");
	const char *labels[] = {"offered", "completed", "failed",
				any_uns ? "held, not proven to last" : NULL};
	const char *colors[] = {"#dfe5ec", "#1b9e55", "#c0392b", "#e0a100"};
	ct_rep_legend(f, labels, colors, 4);
	fprintf(f,
		"<svg data-chart=\"steps\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		"aria-label=\"rate per step\">",
		CT_REP_CHART_W, h);
	rate_axis(f, &p, ymax);
	for (size_t k = 0; k < r->n_steps; k++)
		step_bars(f, &p, &r->steps[k], k, p.w / (double)r->n_steps);
	fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
		p.x, p.y, p.w, p.h);
	fputs("</svg></section>\n", f);
}

/* The steps with one value of a sweep axis, back to back: what completed
 * (green) and what failed (red) per second, on a y scale shared by the
 * cards so that before and after compare at a glance. */
void ct_rep_chart_mini(struct ct_rep *r, FILE *f, const char *key, const char *val,
		       const json_t *ctx, const struct ct_rep_mini *mini)
{
	const double *yc = mini->yc, *yf = mini->yf;
	double span = 0;
	bool any_uns = false;
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		if (ct_rep_step_matches(s, key, val, ctx) && !isnan(s->t0)) {
			span += s->t1 - s->t0 + 0.5;
			any_uns |= s->outcome == CT_REP_UNSUSTAINED;
		}
	}
	if (!(span > 0))
		return;
	struct ct_svg_plot p = {
	    .x = 50, .y = 10, .w = 495, .h = 130, .x0 = 0, .x1 = span, .y0 = 0, .y1 = mini->ymax};
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
		const struct ct_rep_step *s = &r->steps[k];
		if (!ct_rep_step_matches(s, key, val, ctx) || isnan(s->t0))
			continue;
		size_t first = r->n, m = 0;
		for (size_t i = 0; i < r->n; i++) {
			if ((size_t)ct_rep_nz(ct_json_nan(
				CT_JSON_GET(json_array_get(r->samples, i), "step"))) != k)
				continue;
			if (first == r->n)
				first = i;
			else if (i != first + m) /* samples of a step are contiguous */
				break;
			xs[first + m++] = offset + r->t[i] - s->t0;
		}
		if (m > 1) {
			/* a step that held but is not proven to last is not drawn as held */
			ct_svg_band(f, &p, xs + first, lo + first, yc + first, m,
				    s->outcome == CT_REP_UNSUSTAINED ? "a-unsustained"
								     : "a-completed-solid",
				    "completed");
			ct_svg_band(f, &p, xs + first, yc + first, yf + first, m, "a-failed",
				    "failed");
		}
		offset += s->t1 - s->t0 + 0.5;
	}
	fprintf(f,
		"</svg><div class=\"meta\">completed (green%s) and failed (red) per second, "
		"these steps back to back</div>",
		any_uns ? "; amber: held, not proven to last" : "");
out:
	free(xs);
	free(lo);
}

int ct_rep_mini_series(struct ct_rep *r, struct ct_rep_mini *mini)
{
	double *yc = ct_rep_series(r, "rate", NULL, NULL),
	       *yf = calloc(r->n ? r->n : 1, sizeof(double));
	double ymax = 0;
	for (size_t i = 0; yc && yf && i < r->n; i++) {
		yc[i] = ct_rep_nz(yc[i]);
		yf[i] = yc[i];
	}
	for (size_t c = 0; yc && yf && c < CT_FAIL_N; c++) {
		double *fr = ct_rep_fail_rate(r, ct_fail_name(c));
		for (size_t i = 0; fr && i < r->n; i++)
			yf[i] += fr[i];
		free(fr);
	}
	for (size_t i = 0; yf && i < r->n; i++)
		ymax = fmax(ymax, yf[i]);
	mini->yc = yc;
	mini->yf = yf;
	mini->ymax = ct_svg_nice_ceil(ymax * 1.05);
	return yc && yf ? 0 : -ENOMEM;
}
