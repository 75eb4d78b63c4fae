/* charts — the charts over time: connections per second with failures
 * stacked by cause, the conntrack count against its limit, TIME_WAIT
 * sockets per side, connect latency on a log scale. Each shares the time
 * axis of the run, with the steps as numbered bands and kernel events as
 * marks along the top. */
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

/* A chart over time being written. */
struct chart {
	FILE *f;
	struct ct_svg_plot p;
	double height;
	const char *yunit;
};

/* A role's colour in legends (its series' colour is .s-ROLE in report.css). */
static const char *const role_color[CT_ROLE_N] = {
    [CT_ROLE_CLIENT] = "#2f6fd6",
    [CT_ROLE_ROUTER] = "#8e44ad",
    [CT_ROLE_SERVER] = "#0e9a8a",
    [CT_ROLE_HOST] = "#b7791f",
};

/* Open a chart: title, caption, legend; the <svg> with grid and step bands. */
static void chart_open(struct ct_rep *r, struct chart *c, FILE *f, const char *name,
		       const char *title, const char *caption, double ymax, bool ylog, double ymin,
		       const char *yunit)
{
	c->f = f;
	c->height = 260;
	c->yunit = yunit;
	c->p = (struct ct_svg_plot){.x = 62,
				    .y = 18,
				    .w = CT_REP_CHART_W - 62 - 30,
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

void ct_rep_legend(FILE *f, const char *const *labels, const char *const *colors, size_t n)
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

static void svg_open(struct ct_rep *r, struct chart *c, const char *name, const char *aria)
{
	FILE *f = c->f;
	fprintf(f, "<svg data-chart=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
		name, CT_REP_CHART_W, c->height);
	ct_html_esc(f, aria);
	fputs("\">", f);
	/* step bands, numbered */
	if (r->n_steps > 1) {
		for (size_t k = 0; k < r->n_steps; k++) {
			const struct ct_rep_step *s = &r->steps[k];
			if (isnan(s->t0))
				continue;
			double a = ct_svg_px(&c->p, k ? s->t0 : r->x0);
			double b = ct_svg_px(&c->p, k + 1 < r->n_steps && !isnan(r->steps[k + 1].t0)
							? r->steps[k + 1].t0
							: s->t1);
			/* a step that held but is not proven to last is tinted amber */
			if (s->outcome == CT_REP_UNSUSTAINED)
				fputs("<rect class=\"band-uns\"", f);
			else
				fprintf(f, "<rect class=\"band%zu\"", k % 2);
			fprintf(f, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", a,
				c->p.y, b - a > 0 ? b - a : 0, c->p.h);
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
static void draw_events(struct ct_rep *r, struct chart *c)
{
	FILE *f = c->f;
	fputs("<g class=\"ev\">", f);
	for (size_t i = 0; i < r->n_ev;) {
		struct ct_rep_event *e = &r->ev[i];
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
		struct ct_rep_event *e = &r->ev[i];
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

static void chart_close(struct ct_rep *r, struct chart *c)
{
	draw_events(r, c);
	fputs("</svg></section>\n", c->f);
}

double *ct_rep_series(struct ct_rep *r, const char *a, const char *b, const char *c)
{
	double *y = malloc((r->n ? r->n : 1) * sizeof(double));
	if (!y)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		y[i] = ct_json_nan(CT_JSON_GET(json_array_get(r->samples, i), a, b, c));
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

/* Failures per second of one cause: the counters are cumulative within a
 * step, so the first sample of a step counts from zero. */
double *ct_rep_fail_rate(struct ct_rep *r, const char *key)
{
	double *y = malloc((r->n ? r->n : 1) * sizeof(double));
	if (!y)
		return NULL;
	double prev_v = 0, prev_t = r->n ? r->t[0] : 0;
	int prev_step = -1;
	double interval = r->n > 1 ? (r->t[r->n - 1] - r->t[0]) / (double)(r->n - 1) : 1;
	for (size_t i = 0; i < r->n; i++) {
		const json_t *o = json_array_get(r->samples, i);
		int st = (int)ct_rep_nz(ct_json_nan(CT_JSON_GET(o, "step")));
		double v = ct_rep_nz(ct_json_nan(CT_JSON_GET(o, "failures", key)));
		double base = st == prev_step ? prev_v : 0;
		double dt = st == prev_step ? r->t[i] - prev_t : interval;
		y[i] = dt > 0 && v >= base ? (v - base) / dt : 0;
		prev_v = v;
		prev_t = r->t[i];
		prev_step = st;
	}
	return y;
}

void ct_rep_chart_rates(struct ct_rep *r, FILE *f)
{
	double *yt = ct_rep_series(r, "rate_target", NULL, NULL),
	       *ya = ct_rep_series(r, "attempt_rate", NULL, NULL),
	       *yc = ct_rep_series(r, "rate", NULL, NULL);
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
		stack[0][i] = ct_rep_nz(yc[i]);
	for (size_t k = 0; k < CT_FAIL_N; k++) {
		if (!(fr[k] = ct_rep_fail_rate(r, ct_fail_name(k))))
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
	bool any_uns = false;
	for (size_t k = 0; k < r->n_steps; k++)
		any_uns |= r->steps[k].outcome == CT_REP_UNSUSTAINED;
	chart_open(r, &c, f, "rates", "Connections per second",
		   any_uns ? "What ctload tried (attempted, blue line) against what finished "
			     "(completed, green); what failed is stacked on top of it, by cause. "
			     "The numbered bands are the steps, amber where a step held but is not "
			     "proven to hold longer; red marks at the top are kernel messages."
			   : "What ctload tried (attempted, blue line) against what finished "
			     "(completed, green); what failed is stacked on top of it, by cause. "
			     "The numbered bands are the steps; red marks at the top are kernel "
			     "messages.",
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
	ct_rep_legend(f, labels, colors, 3 + CT_FAIL_N);
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

/* How old the per-state counts (ns.ROLE.ct.states in timeseries.csv) got:
 * the sampler counts states by a table walk off its tick, on a CPU budget,
 * so on a large table the counts lag and are marked degraded. Nothing for
 * runs whose samples carry no age (before the walk had one). */
static void states_age_note(struct ct_rep *r, FILE *f)
{
	double oldest = NAN;
	bool degraded = false;
	for (size_t i = 0; i < r->n; i++) {
		const json_t *o = json_array_get(r->samples, i);
		for (size_t k = 0; k < CT_ROLE_N; k++) {
			const char *role = ct_role_name(ct_rep_roles_shown[k]);
			double a = ct_json_nan(CT_JSON_GET(o, "ns", role, "ct.states_age_s"));
			if (!isnan(a) && (isnan(oldest) || a > oldest))
				oldest = a;
			degraded |= json_is_true(CT_JSON_GET(o, "ns", role, "ct.states_degraded"));
		}
	}
	if (isnan(oldest))
		return;
	fprintf(f,
		"<p class=\"cap\" id=\"states-age\">Entries by TCP state (ns.ROLE.ct.states.* in "
		"timeseries.csv) come from a walk of the table off the sampling tick; the oldest "
		"counts a sample carried were %.1f s old (ct.states_age_s).%s</p>\n",
		oldest,
		degraded ? " <b>Degraded</b>: the table was too large to walk every second within "
			   "the walk's CPU budget, so the counts lag the table (the entry count "
			   "above is always current)."
			 : "");
}

void ct_rep_chart_conntrack(struct ct_rep *r, FILE *f)
{
	double *cnt[CT_ROLE_N] = {0}, *mx[CT_ROLE_N] = {0};
	double ymax = 0, limit = NAN;
	struct chart c;
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!r->has_ct[k])
			continue;
		const char *role = ct_role_name(ct_rep_roles_shown[k]);
		cnt[k] = ct_rep_series(r, "ns", role, "ct.count");
		mx[k] = ct_rep_series(r, "ns", role, "ct.max");
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
		 isnan(limit) ? "" : " = ", isnan(limit) ? "" : CT_REP_FC(limit));
	chart_open(r, &c, f, "conntrack", "Conntrack table: entries against the limit", cap_,
		   ct_svg_nice_ceil(ymax * 1.05), false, 0, NULL);
	const char *labels[CT_ROLE_N + 1] = {0}, *colors[CT_ROLE_N + 1] = {0};
	char lb[CT_ROLE_N][48];
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		snprintf(lb[k], sizeof(lb[k]), "entries (%s)", ct_role_name(ct_rep_roles_shown[k]));
		labels[k] = r->has_ct[k] ? lb[k] : NULL;
		colors[k] = role_color[ct_rep_roles_shown[k]];
	}
	labels[CT_ROLE_N] = "limit";
	colors[CT_ROLE_N] = "#c0392b";
	ct_rep_legend(f, labels, colors, CT_ROLE_N + 1);
	svg_open(r, &c, "conntrack", "conntrack entries over time against the limit");
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!cnt[k])
			continue;
		char cls[32];
		snprintf(cls, sizeof(cls), "s-%s", ct_role_name(ct_rep_roles_shown[k]));
		ct_svg_line(f, &c.p, r->t, mx[k], r->n, "s-limit", "limit");
		ct_svg_line(f, &c.p, r->t, cnt[k], r->n, cls, ct_role_name(ct_rep_roles_shown[k]));
	}
	fputs("<g class=\"drops\">", f);
	for (size_t i = 0; i < r->n; i++) {
		const json_t *o = json_array_get(r->samples, i);
		double d = 0;
		for (size_t k = 0; k < CT_ROLE_N; k++)
			d += ct_rep_nz(ct_json_nan(
			    CT_JSON_GET(o, "ns", ct_role_name(ct_rep_roles_shown[k]), "ct.drop")));
		if (d > 0)
			fprintf(f,
				"<rect class=\"drop\" data-t=\"%.3f\" data-v=\"%.0f\" x=\"%.1f\" "
				"y=\"%.1f\" width=\"2\" height=\"8\"/>",
				r->t[i], d, ct_svg_px(&c.p, r->t[i]) - 1, c.p.y + c.p.h - 8);
	}
	fputs("</g>", f);
	chart_close(r, &c);
	states_age_note(r, f);
out:
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		free(cnt[k]);
		free(mx[k]);
	}
}

void ct_rep_chart_tw(struct ct_rep *r, FILE *f)
{
	double *tw[CT_ROLE_N] = {0};
	double ymax = 0;
	struct chart c;
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!r->has_ns[k])
			continue;
		if (!(tw[k] = ct_rep_series(r, "ns", ct_role_name(ct_rep_roles_shown[k]), "tw")))
			goto out;
		ymax = fmax(ymax, maxof(tw[k], r->n));
	}
	chart_open(r, &c, f, "tw", "Sockets in TIME_WAIT, per side",
		   "The side that closes first keeps each connection in TIME_WAIT for 60 s; on "
		   "the client every such socket holds a local port.",
		   ct_svg_nice_ceil(ymax * 1.05), false, 0, NULL);
	const char *labels[CT_ROLE_N], *colors[CT_ROLE_N];
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		labels[k] = tw[k] ? ct_role_name(ct_rep_roles_shown[k]) : NULL;
		colors[k] = role_color[ct_rep_roles_shown[k]];
	}
	ct_rep_legend(f, labels, colors, CT_ROLE_N);
	svg_open(r, &c, "tw", "TIME_WAIT sockets over time");
	for (size_t k = 0; k < CT_ROLE_N; k++) {
		if (!tw[k])
			continue;
		char cls[32];
		snprintf(cls, sizeof(cls), "s-%s", ct_role_name(ct_rep_roles_shown[k]));
		ct_svg_line(f, &c.p, r->t, tw[k], r->n, cls, ct_role_name(ct_rep_roles_shown[k]));
	}
	chart_close(r, &c);
out:
	for (size_t k = 0; k < CT_ROLE_N; k++)
		free(tw[k]);
}

/* Latency on a log scale: a dropped SYN is retried after 1 s, then in 1 s
 * steps (docs/ARCHITECTURE.md (kernel facts)), so such connections sit on the 1 s, 2 s, 3 s lines.
 */
/* The latency chart's caption: no handshake at all, SYNs retransmitted
 * (hi, the slowest, past 700 ms: refs), or neither. */
static void latency_caption(bool none, bool refs, double hi, char *cap, size_t len)
{
	static const char what[] = "Time from a connection's scheduled start to its handshake, "
				   "per sample (log scale).";
	char hs[32];

	ct_rep_fmt_ms(hi, hs, sizeof(hs));
	if (none)
		snprintf(cap, len,
			 "%s No connection completed a handshake: there is no latency "
			 "to draw.",
			 what);
	else if (refs)
		snprintf(cap, len,
			 "%s A lost SYN is sent again after 1 s, then every second: "
			 "connections on the dashed lines waited for retransmitted SYNs.",
			 what);
	else
		snprintf(cap, len,
			 "%s No connection waited for a retransmitted SYN (the slowest: "
			 "%s).",
			 what, hs);
}

void ct_rep_chart_latency(struct ct_rep *r, FILE *f)
{
	static const char *const pk[] = {"p50", "p90", "p99", "max"};
	double *y[4] = {0};
	double lo = INFINITY, hi = 0;
	struct chart c;
	for (size_t k = 0; k < 4; k++) {
		if (!(y[k] = ct_rep_series(r, "connect_ms", pk[k], NULL)))
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
	/* No interval completed a handshake (every connection refused, say):
	 * an empty chart on a default scale, and a caption that says so. */
	bool none = !(hi > 0);
	if (none) {
		lo = 0.01;
		hi = 1;
	}
	double y0 = pow(10, floor(log10(lo))), y1 = pow(10, ceil(log10(hi * 1.2)));
	if (y1 < 10 * y0)
		y1 = 10 * y0;
	bool refs = hi >= 700;
	if (refs)
		y1 = hi > 3500 ? ct_svg_nice_ceil(hi * 1.2) : 4000;
	char cap_[256];
	latency_caption(none, refs, hi, cap_, sizeof(cap_));
	chart_open(r, &c, f, "latency", "Connect latency", cap_, y1, true, y0, " ms");
	c.height = 330;
	c.p.h = c.height - 18 - 30;
	const char *labels[4] = {"median", "90th percentile", "99th percentile", "slowest"};
	const char *colors[4] = {"#1b9e55", "#2f6fd6", "#e67e22", "#a3261b"};
	ct_rep_legend(f, labels, colors, 4);
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

/* The 1 s, 2 s, ... lines of retransmitted SYNs up to y1. */
static void syn_refs(struct chart *c, double y1)
{
	fputs("<g class=\"ref\">", c->f);
	for (int s = 1; s <= 5 && s * 1000.0 <= y1; s++) {
		double yy = ct_svg_py(&c->p, s * 1000.0);
		fprintf(c->f,
			"<line data-v=\"%d\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\">%d s</text>",
			s * 1000, c->p.x, c->p.x + c->p.w, yy, yy, c->p.x + c->p.w + 3, yy + 3, s);
	}
	fputs("</g>", c->f);
}

/* What a bystander sees ([lab] bystander): each of its connects as a dot
 * at its connect time (log scale), each failure as a red mark on top. */
void ct_rep_chart_bystander(struct ct_rep *r, FILE *f)
{
	double n_ok = 0, n_fail = 0, n_slow = 0, hi = 0, lo = INFINITY;
	struct chart c;
	char cap[512], hs[32], port[16] = "?";

	for (size_t i = 0; i < r->n; i++) {
		const json_t *b = json_object_get(json_array_get(r->samples, i), "bystander");
		const json_t *v;
		size_t k;
		n_fail += ct_rep_nz(ct_json_nan(json_object_get(b, "failed")));
		json_array_foreach(json_object_get(b, "connect_ms"), k, v)
		{
			double ms = json_number_value(v);
			n_ok++;
			n_slow += ms >= 900;
			hi = fmax(hi, ms);
			lo = fmin(lo, ms > 0 ? ms : 0.01);
		}
	}
	if (!(n_ok + n_fail > 0))
		return;
	for (size_t k = 0; k < r->n_steps; k++)
		if (r->steps[k].js && CT_JSON_GET(r->steps[k].js, "bystander", "port"))
			snprintf(port, sizeof(port), "%.0f",
				 ct_json_nan(CT_JSON_GET(r->steps[k].js, "bystander", "port")));
	if (!(hi > 0))
		lo = 0.01, hi = 1;
	double y0 = pow(10, floor(log10(lo))), y1 = hi >= 700
							? fmax(4000, ct_svg_nice_ceil(hi * 1.2))
							: pow(10, ceil(log10(hi * 1.2)));
	if (y1 < 10 * y0)
		y1 = 10 * y0;
	ct_rep_fmt_ms(hi, hs, sizeof(hs));
	snprintf(cap, sizeof(cap),
		 "A third party's connections to port %s of the server (the story's "
		 "monitoring), from its own netns behind the same router: one dot per connect "
		 "(time to the handshake, log scale), a red mark on top per connect that failed. "
		 "%s connected, %s of them after a retransmitted SYN (1 s or more), %s failed; "
		 "the slowest took %s.",
		 port, CT_REP_FC(n_ok), CT_REP_FC(n_slow), CT_REP_FC(n_fail), hs);
	chart_open(r, &c, f, "bystander", "What a bystander sees", cap, y1, true, y0, " ms");
	svg_open(r, &c, "bystander", "the bystander's connect times and failures over time");
	if (y1 >= 1000)
		syn_refs(&c, y1);
	fputs("<g class=\"bys\">", f);
	for (size_t i = 0; i < r->n; i++) {
		const json_t *b = json_object_get(json_array_get(r->samples, i), "bystander");
		const json_t *v;
		size_t k;
		double x = ct_svg_px(&c.p, r->t[i]);
		json_array_foreach(json_object_get(b, "connect_ms"), k, v) fprintf(
		    f,
		    "<circle class=\"bys-ok\" data-ms=\"%.3f\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>",
		    json_number_value(v), x, ct_svg_py(&c.p, json_number_value(v)));
		if (ct_rep_nz(ct_json_nan(json_object_get(b, "failed"))) > 0)
			fprintf(f,
				"<path class=\"bys-fail\" data-n=\"%.0f\" d=\"M%.1f %.1f l-3 8 h6 "
				"z\"/>",
				ct_json_nan(json_object_get(b, "failed")), x, c.p.y);
	}
	fputs("</g>", f);
	chart_close(r, &c);
}
