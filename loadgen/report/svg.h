/* svg — the drawing primitives of report.html's charts.
 *
 * A plot maps data coordinates (x0..x1, y0..y1, y optionally log10) onto a
 * pixel rectangle inside an <svg viewBox>. Everything is written to a FILE
 * as text; callers open the <svg> element themselves and choose classes
 * (the page's CSS gives them colours). Pure helpers (ticks, number format)
 * are separate so they are unit-tested without a browser. Labels are
 * escaped with ct_html_esc() (html.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ct_svg_plot {
	double x, y, w, h;     /* plot rectangle, px, inside the viewBox */
	double x0, x1, y0, y1; /* data range; with ylog y0 > 0 */
	bool ylog;
};

/* Data -> px. Values outside the range are clamped to the rectangle. */
double ct_svg_px(const struct ct_svg_plot *p, double x);
double ct_svg_py(const struct ct_svg_plot *p, double y);

/* "Nice" ticks (1, 2, 2.5, 5 x 10^k) covering lo..hi, about `want` of them.
 * Returns how many were written to out (at most max). */
size_t ct_svg_ticks(double lo, double hi, size_t want, double *out, size_t max);
/* Decade ticks (0.01, 0.1, 1, 10, ...) within lo..hi (lo > 0). */
size_t ct_svg_log_ticks(double lo, double hi, double *out, size_t max);
/* Round a positive upper bound up to a nice number (for the y range). */
double ct_svg_nice_ceil(double v);

/* Short axis label: 0, 0.5, 12, 950, 1.2k, 15k, 2.5M. */
void ct_svg_fmt(double v, char *buf, size_t len);

/* Grid lines and tick labels for both axes (y labels get `yunit` appended
 * to the top tick only, e.g. "/s"). */
void ct_svg_axes(FILE *f, const struct ct_svg_plot *p, const char *xunit, const char *yunit);

/* A polyline through (xs[i], ys[i]); a NaN y breaks the line. More than
 * ~1,500 points are thinned to the min and max of each bucket, so spikes
 * survive. `series` becomes data-series. */
void ct_svg_line(FILE *f, const struct ct_svg_plot *p, const double *xs, const double *ys, size_t n,
		 const char *cls, const char *series);

/* A filled band between lo[i] and hi[i] (stacked areas); NaN = 0. */
void ct_svg_band(FILE *f, const struct ct_svg_plot *p, const double *xs, const double *lo,
		 const double *hi, size_t n, const char *cls, const char *series);
