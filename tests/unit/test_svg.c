/* The chart primitives: axis ticks a person can read, short labels, data
 * mapped inside the plot (the escaping of labels is tested in test_html.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/report/svg.h"

Test(svg, ticks_are_round_numbers_covering_the_range)
{
	double t[32];
	size_t n = ct_svg_ticks(0, 950, 5, t, 32);
	cr_assert_eq(n, 5);
	cr_expect_float_eq(t[0], 0, 1e-9);
	cr_expect_float_eq(t[1], 200, 1e-9);
	cr_expect_float_eq(t[4], 800, 1e-9);
	n = ct_svg_ticks(0, 2500, 5, t, 32);
	cr_expect_float_eq(t[1], 500, 1e-9, "2500 in ~5 ticks steps by 500, got %g", t[1]);
	cr_expect_float_eq(t[n - 1], 2500, 1e-9);
	n = ct_svg_ticks(0.3, 17.8, 8, t, 32);
	cr_expect_float_eq(t[0], 2.5, 1e-9, "ticks start inside the range, got %g", t[0]);
	cr_expect(t[n - 1] <= 17.8);
	cr_expect_eq(ct_svg_ticks(5, 5, 5, t, 32), 1, "an empty range gives one tick");
	cr_expect_eq(ct_svg_ticks(0, 1e9, 5, t, 3), 3, "never more than max");
}

Test(svg, log_ticks_are_decades)
{
	double t[16];
	size_t n = ct_svg_log_ticks(0.01, 4000, t, 16);
	cr_assert_eq(n, 6);
	cr_expect_float_eq(t[0], 0.01, 1e-12);
	cr_expect_float_eq(t[5], 1000, 1e-9);
	cr_expect_eq(ct_svg_log_ticks(0, 10, t, 16), 0, "no log scale from 0");
}

Test(svg, nice_ceil)
{
	cr_expect_float_eq(ct_svg_nice_ceil(950), 1000, 1e-9);
	cr_expect_float_eq(ct_svg_nice_ceil(2184), 2500, 1e-9);
	cr_expect_float_eq(ct_svg_nice_ceil(600), 600, 1e-9);
	cr_expect_float_eq(ct_svg_nice_ceil(0), 1, 1e-9, "an all-zero chart still has a range");
	cr_expect_float_eq(ct_svg_nice_ceil(NAN), 1, 1e-9);
}

Test(svg, short_labels)
{
	char b[32];
	ct_svg_fmt(0, b, sizeof(b));
	cr_expect_str_eq(b, "0");
	ct_svg_fmt(2.5, b, sizeof(b));
	cr_expect_str_eq(b, "2.5");
	ct_svg_fmt(1200, b, sizeof(b));
	cr_expect_str_eq(b, "1200");
	ct_svg_fmt(15000, b, sizeof(b));
	cr_expect_str_eq(b, "15k");
	ct_svg_fmt(262144, b, sizeof(b));
	cr_expect_str_eq(b, "262k");
	ct_svg_fmt(2.5e6, b, sizeof(b));
	cr_expect_str_eq(b, "2.5M");
	ct_svg_fmt(0.01, b, sizeof(b));
	cr_expect_str_eq(b, "0.01");
	ct_svg_fmt(-0.0001, b, sizeof(b));
	cr_expect_str_eq(b, "0");
}

Test(svg, mapping_stays_inside_the_plot)
{
	struct ct_svg_plot p = {
	    .x = 50, .y = 10, .w = 100, .h = 200, .x0 = 0, .x1 = 10, .y0 = 0, .y1 = 1000};
	cr_expect_float_eq(ct_svg_px(&p, 5), 100, 1e-9);
	cr_expect_float_eq(ct_svg_py(&p, 0), 210, 1e-9, "y grows downwards in SVG");
	cr_expect_float_eq(ct_svg_py(&p, 1000), 10, 1e-9);
	cr_expect_float_eq(ct_svg_py(&p, 5000), 10, 1e-9, "clamped to the top");
	cr_expect_float_eq(ct_svg_px(&p, -3), 50, 1e-9, "clamped to the left");
	p.ylog = true;
	p.y0 = 0.1;
	p.y1 = 1000;
	cr_expect_float_eq(ct_svg_py(&p, 10), 110, 1e-9, "10 is half way from 0.1 to 1000 in log");
	cr_expect_float_eq(ct_svg_py(&p, 0), 210, 1e-9, "0 on a log axis sits at the bottom");
}

static char *capture_line(const double *ys, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	double xs[4000];
	struct ct_svg_plot p = {
	    .x = 0, .y = 0, .w = 1000, .h = 100, .x0 = 0, .x1 = (double)n, .y0 = 0, .y1 = 10};
	for (size_t i = 0; i < n; i++)
		xs[i] = (double)i;
	ct_svg_line(f, &p, xs, ys, n, "c", "s");
	cr_assert_eq(fclose(f), 0);
	char *out = strdup(buf);
	free(buf);
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(svg, a_gap_breaks_the_line)
{
	double ys[] = {1, 2, NAN, 3, 4};
	char *s = capture_line(ys, 5);
	cr_expect_eq(count(s, "<polyline"), 2, "%s", s);
	cr_expect(strstr(s, "data-series=\"s\""));
	free(s);
}

Test(svg, thinning_keeps_a_spike)
{
	double ys[4000];
	for (size_t i = 0; i < 4000; i++)
		ys[i] = 1;
	ys[2345] = 9; /* one sample: a latency spike must not vanish */
	char *s = capture_line(ys, 4000);
	cr_expect(count(s, ",") < 2000, "4000 points are thinned");
	cr_expect(strstr(s, ",10.0") != NULL, "the spike at y=9 (px 10) is still drawn: %.200s", s);
	free(s);
}
