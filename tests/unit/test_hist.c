#include <criterion/criterion.h>
#include <math.h>

#include "loadgen/engine/hist.h"

static struct ct_hist h, h2, d;

Test(hist, bucket_bounds_cover_every_value_without_gaps)
{
	for (unsigned i = 0; i + 1 < CT_HIST_NBUCKETS; i++)
		cr_assert_eq(ct_hist_bucket_hi(i) + 1, ct_hist_bucket_lo(i + 1),
			     "gap after bucket %u", i);
	uint64_t samples[] = {0,    1,	    127,	   128,		  129,
			      1000, 999999, 1000000000ULL, 3000000001ULL, UINT64_MAX};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		unsigned idx = ct_hist_index(samples[i]);
		cr_assert_lt(idx, CT_HIST_NBUCKETS);
		cr_assert_geq(samples[i], ct_hist_bucket_lo(idx));
		cr_assert_leq(samples[i], ct_hist_bucket_hi(idx));
	}
}

Test(hist, quantile_relative_error_at_most_2_percent)
{
	/* Every single value from 1 us to 100 s, reported back within 2%. */
	for (double v = 1000; v < 100e9; v *= 1.37) {
		ct_hist_reset(&h);
		ct_hist_record(&h, (uint64_t)v);
		ct_hist_record(&h, (uint64_t)v + 1); /* keep max from masking the bucket */
		double got = (double)ct_hist_quantile(&h, 0.5);
		cr_assert_lt(fabs(got - v) / v, 0.02, "value %.0f reported as %.0f", v, got);
	}
}

Test(hist, dropped_syn_steps_show_as_separate_peaks)
{
	/* 90% answered at 0.2 ms, then SYNs retransmitted at 1 s, 2 s, 3 s. */
	ct_hist_reset(&h);
	for (int i = 0; i < 900; i++)
		ct_hist_record(&h, 200000);
	for (int s = 1; s <= 3; s++)
		for (int i = 0; i < 33; i++)
			ct_hist_record(&h, (uint64_t)s * 1000000000ULL + 300000);
	double p50 = (double)ct_hist_quantile(&h, 0.50) / 1e9;
	double p93 = (double)ct_hist_quantile(&h, 0.93) / 1e9;
	double p96 = (double)ct_hist_quantile(&h, 0.96) / 1e9;
	double p99 = (double)ct_hist_quantile(&h, 0.99) / 1e9;
	cr_expect_lt(p50, 0.001);
	cr_expect(fabs(p93 - 1.0) < 0.02, "p93 %.3f s should be the 1 s step", p93);
	cr_expect(fabs(p96 - 2.0) < 0.04, "p96 %.3f s should be the 2 s step", p96);
	cr_expect(fabs(p99 - 3.0) < 0.06, "p99 %.3f s should be the 3 s step", p99);
	cr_expect_eq(h.max, 3000300000ULL);
	cr_expect_eq(h.n, 999);
}

Test(hist, merge_and_interval_difference)
{
	ct_hist_reset(&h);
	ct_hist_reset(&h2);
	for (int i = 1; i <= 100; i++)
		ct_hist_record(&h, (uint64_t)i * 1000000);
	struct ct_hist *snap = &h2;
	ct_hist_merge(snap, &h); /* snapshot after 100 */
	for (int i = 0; i < 100; i++)
		ct_hist_record(&h, 5000000000ULL);
	ct_hist_sub(&d, &h, snap);
	cr_assert_eq(d.n, 100);
	double p50 = (double)ct_hist_quantile(&d, 0.5) / 1e9;
	cr_expect(fabs(p50 - 5.0) < 0.1, "interval p50 %.3f should be 5 s", p50);
	cr_expect_eq(ct_hist_quantile(&d, 0.5) <= d.max, 1);
	ct_hist_reset(&d);
	ct_hist_merge(&d, &h);
	ct_hist_merge(&d, &h);
	cr_expect_eq(d.n, 400);
	cr_expect_eq(d.max, 5000000000ULL);
}

Test(hist, empty_reports_zero)
{
	ct_hist_reset(&h);
	cr_expect_eq(ct_hist_quantile(&h, 0.99), 0);
}
