/* The table walker's schedule: a walk's CPU stays within its budget as the
 * table grows, and a small table is still walked once a second. */
#include <criterion/criterion.h>

#include "common/ctime.h"
#include "loadgen/probe/ctwalk.h"

Test(ctwalk, small_table_each_second)
{
	/* 1,000 entries at 1.5 us: 1.5 ms a walk, under 0.5% of a second. */
	uint64_t p = ct_ctwalk_predict_ns(1000, 1500.0, 0);

	cr_expect_eq(p, 1500000);
	cr_expect_eq(ct_ctwalk_interval_ns(p, 0.005), CT_CTWALK_MIN_INTERVAL_NS);
	cr_expect_eq(ct_ctwalk_interval_ns(0, 0.005), CT_CTWALK_MIN_INTERVAL_NS);
}

Test(ctwalk, backs_off_as_the_table_grows)
{
	/* A million entries at 1.5 us: 1.5 s a walk; at 0.5% of a core, one
	 * walk every 300 s. 200k: every 60 s. */
	uint64_t big = ct_ctwalk_predict_ns(1000000, 1500.0, 0);
	uint64_t mid = ct_ctwalk_predict_ns(200000, 1500.0, 0);

	cr_expect_eq(ct_ctwalk_interval_ns(big, 0.005), 300 * CT_NS_PER_SEC);
	cr_expect_eq(ct_ctwalk_interval_ns(mid, 0.005), 60 * CT_NS_PER_SEC);
	cr_expect_eq(ct_ctwalk_interval_ns(big, 0.01), 150 * CT_NS_PER_SEC);
}

Test(ctwalk, last_walk_cost_is_a_floor)
{
	/* An empty netns on a host whose other netns hold a large table pays
	 * for the whole hash table: its last walk's cost counts, not its own
	 * (zero) entries. */
	cr_expect_eq(ct_ctwalk_predict_ns(0, 1500.0, 300000000), 300000000);
	cr_expect_eq(ct_ctwalk_interval_ns(300000000, 0.005), 60 * CT_NS_PER_SEC);
	/* A grown table outweighs a cheap last walk. */
	cr_expect_eq(ct_ctwalk_predict_ns(1000000, 1500.0, 1000), 1500000000);
}

Test(ctwalk, finite_for_absurd_input)
{
	cr_expect_eq(ct_ctwalk_interval_ns(UINT64_MAX, 0.005), 86400 * CT_NS_PER_SEC);
	cr_expect_eq(ct_ctwalk_interval_ns(1000000000, 0), 200 * CT_NS_PER_SEC);
	cr_expect_leq(ct_ctwalk_predict_ns(UINT64_MAX, 1e9, 0), 1000000000000000ull);
}
