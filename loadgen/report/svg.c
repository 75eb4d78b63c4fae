/* svg — see svg.h. */
#include "loadgen/report/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/report/html.h"

/* Beyond this many points a line is thinned: more than a chart's pixel
 * width adds bytes, not information. */
#define MAX_POINTS 1500

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

double ct_svg_px(const struct ct_svg_plot *p, double x)
{
	double span = p->x1 - p->x0;
	double f = span > 0 ? (x - p->x0) / span : 0;
	return p->x + clamp(f, 0, 1) * p->w;
}

double ct_svg_py(const struct ct_svg_plot *p, double y)
{
	double f;
	if (p->ylog) {
		double lo = log10(p->y0), hi = log10(p->y1);
		double v = y > 0 ? log10(y) : lo;
		f = hi > lo ? (v - lo) / (hi - lo) : 0;
	} else {
		double span = p->y1 - p->y0;
		f = span > 0 ? (y - p->y0) / span : 0;
	}
	return p->y + p->h - clamp(f, 0, 1) * p->h;
}

static double nice_step(double range, size_t want)
{
	double raw = range / (double)(want ? want : 1);
	double mag = pow(10, floor(log10(raw)));
	double n = raw / mag;
	double s = n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10;
	return s * mag;
}

size_t ct_svg_ticks(double lo, double hi, size_t want, double *out, size_t max)
{
	size_t n = 0;
	if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) {
		if (max && isfinite(lo))
			out[n++] = lo;
		return n;
	}
	double step = nice_step(hi - lo, want);
	double v = ceil(lo / step - 1e-9) * step;
	for (; v <= hi + step * 1e-9 && n < max; v += step)
		out[n++] = fabs(v) < step * 1e-9 ? 0 : v;
	return n;
}

size_t ct_svg_log_ticks(double lo, double hi, double *out, size_t max)
{
	size_t n = 0;
	if (!(lo > 0) || !(hi > lo))
		return 0;
	for (double e = ceil(log10(lo) - 1e-9); e <= log10(hi) + 1e-9 && n < max; e++)
		out[n++] = pow(10, e);
	return n;
}

double ct_svg_nice_ceil(double v)
{
	if (!(v > 0) || !isfinite(v))
		return 1;
	double mag = pow(10, floor(log10(v)));
	static const double steps[] = {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (v <= steps[i] * mag * (1 + 1e-9))
			return steps[i] * mag;
	return 10 * mag;
}

/* Shortest of %.0f/%.1f/%.2f that shows v (no trailing zeros). */
static void trim_fmt(double v, const char *suffix, char *buf, size_t len)
{
	char tmp[48];
	double a = fabs(v);
	int prec = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
	snprintf(tmp, sizeof(tmp), "%.*f", prec, v);
	if (strchr(tmp, '.')) {
		char *e = tmp + strlen(tmp) - 1;
		while (*e == '0')
			*e-- = 0;
		if (*e == '.')
			*e = 0;
	}
	if (!strcmp(tmp, "-0"))
		strcpy(tmp, "0");
	snprintf(buf, len, "%s%s", tmp, suffix);
}

void ct_svg_fmt(double v, char *buf, size_t len)
{
	double a = fabs(v);
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (a >= 1e9)
		trim_fmt(v / 1e9, "G", buf, len);
	else if (a >= 1e6)
		trim_fmt(v / 1e6, "M", buf, len);
	else if (a >= 1e4)
		trim_fmt(v / 1e3, "k", buf, len);
	else
		trim_fmt(v, "", buf, len);
}

void ct_svg_axes(FILE *f, const struct ct_svg_plot *p, const char *xunit, const char *yunit)
{
	double ticks[32];
	char lbl[32];
	size_t n;

	fputs("<g class=\"grid\">", f);
	n = p->ylog ? ct_svg_log_ticks(p->y0, p->y1, ticks, 32)
		    : ct_svg_ticks(p->y0, p->y1, 5, ticks, 32);
	for (size_t i = 0; i < n; i++) {
		double y = ct_svg_py(p, ticks[i]);
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->x,
			p->x + p->w, y, y);
	}
	fputs("</g><g class=\"ylabels\">", f);
	for (size_t i = 0; i < n; i++) {
		ct_svg_fmt(ticks[i], lbl, sizeof(lbl));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", p->x - 6, ct_svg_py(p, ticks[i]) + 4);
		ct_html_esc(f, lbl);
		if (i + 1 == n && yunit)
			ct_html_esc(f, yunit);
		fputs("</text>", f);
	}
	fputs("</g><g class=\"xlabels\">", f);
	n = ct_svg_ticks(p->x0, p->x1, 8, ticks, 32);
	for (size_t i = 0; i < n; i++) {
		double x = ct_svg_px(p, ticks[i]);
		ct_svg_fmt(ticks[i], lbl, sizeof(lbl));
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x,
			p->y + p->h, p->y + p->h + 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x, p->y + p->h + 16);
		ct_html_esc(f, lbl);
		if (i + 1 == n && xunit)
			ct_html_esc(f, xunit);
		fputs("</text>", f);
	}
	fprintf(f,
		"</g><rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
		p->x, p->y, p->w, p->h);
}

/* Indices to draw: all, or per bucket the first of min and max in order. */
static size_t pick(const double *ys, size_t n, size_t *idx)
{
	if (n <= MAX_POINTS) {
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		return n;
	}
	size_t buckets = MAX_POINTS / 2, m = 0;
	for (size_t b = 0; b < buckets; b++) {
		size_t lo = n * b / buckets, hi = n * (b + 1) / buckets;
		size_t imin = lo, imax = lo;
		for (size_t i = lo; i < hi; i++) {
			if (isnan(ys[i]))
				continue;
			if (isnan(ys[imin]) || ys[i] < ys[imin])
				imin = i;
			if (isnan(ys[imax]) || ys[i] > ys[imax])
				imax = i;
		}
		bool gap = false;
		for (size_t i = lo; i < hi; i++)
			gap |= isnan(ys[i]);
		if (gap) /* keep the break visible */
			for (size_t i = lo; i < hi; i++)
				if (isnan(ys[i])) {
					idx[m++] = i;
					break;
				}
		if (imin == imax) {
			idx[m++] = imin;
		} else {
			idx[m++] = imin < imax ? imin : imax;
			idx[m++] = imin < imax ? imax : imin;
		}
	}
	return m;
}

void ct_svg_line(FILE *f, const struct ct_svg_plot *p, const double *xs, const double *ys, size_t n,
		 const char *cls, const char *series)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!idx)
		return;
	size_t m = pick(ys, n, idx);
	bool open = false;
	size_t run = 0;
	for (size_t k = 0; k < m; k++) {
		size_t i = idx[k];
		if (isnan(ys[i]) || isnan(xs[i])) {
			if (open)
				fputs("\"/>", f);
			open = false;
			continue;
		}
		if (!open) {
			fprintf(f, "<polyline class=\"%s\" data-series=\"%s\" points=\"", cls,
				series ? series : "");
			open = true;
			run = 0;
		}
		fprintf(f, "%s%.1f,%.1f", run++ ? " " : "", ct_svg_px(p, xs[i]),
			ct_svg_py(p, ys[i]));
	}
	if (open)
		fputs("\"/>", f);
	free(idx);
}

void ct_svg_band(FILE *f, const struct ct_svg_plot *p, const double *xs, const double *lo,
		 const double *hi, size_t n, const char *cls, const char *series)
{
	if (!n)
		return;
	size_t *idx = malloc(n * sizeof(*idx));
	if (!idx)
		return;
	size_t m = pick(hi, n, idx);
	fprintf(f, "<polygon class=\"%s\" data-series=\"%s\" points=\"", cls, series ? series : "");
	for (size_t k = 0; k < m; k++) {
		size_t i = idx[k];
		fprintf(f, "%s%.1f,%.1f", k ? " " : "", ct_svg_px(p, xs[i]),
			ct_svg_py(p, isnan(hi[i]) ? 0 : hi[i]));
	}
	for (size_t k = m; k-- > 0;) {
		size_t i = idx[k];
		fprintf(f, " %.1f,%.1f", ct_svg_px(p, xs[i]),
			ct_svg_py(p, isnan(lo[i]) ? 0 : lo[i]));
	}
	fputs("\"/>", f);
	free(idx);
}
