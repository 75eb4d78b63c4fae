#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "loadgen/run/search.h"

/* Drive the search against a device whose true threshold is `limit`. */
static double run_against(double limit, double start, double max, double precision,
			  unsigned *trials, bool *bounded)
{
	struct ct_search s;

	cr_assert_eq(ct_search_init(&s, start, max, precision, 32), 0);
	for (double r; (r = ct_search_next(&s)) > 0;)
		ct_search_report(&s, r <= limit);
	*trials = s.trials;
	return ct_search_result(&s, bounded);
}

Test(search, finds_threshold_within_precision_in_12_trials)
{
	static const double limits[] = {470, 2184, 16.7, 28232, 800, 400, 1234.5};

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		unsigned trials;
		bool bounded;
		double max = 64000, start = max / 64;
		double got = run_against(limits[i], start, max, 0.02, &trials, &bounded);

		cr_expect(got <= limits[i], "limit %g: result %g passes only below it", limits[i],
			  got);
		cr_expect(got >= limits[i] * 0.98, "limit %g: result %g not within 2%%", limits[i],
			  got);
		cr_expect(bounded, "limit %g: a failing rate was found", limits[i]);
		cr_expect(trials <= 12 || limits[i] < start, "limit %g took %u trials", limits[i],
			  trials);
	}
}

Test(search, ceiling_that_passes_is_reported_unbounded)
{
	unsigned trials;
	bool bounded;
	double got = run_against(1e9, 100, 6400, 0.02, &trials, &bounded);

	cr_expect_float_eq(got, 6400, 1e-9);
	cr_expect_not(bounded);
	cr_expect_eq(trials, 7); /* 100 200 400 800 1600 3200 6400 */
}

Test(search, nothing_passes_gives_zero)
{
	unsigned trials;
	bool bounded;
	double got = run_against(0.5, 100, 6400, 0.02, &trials, &bounded);

	cr_expect_float_eq(got, 0, 1e-9);
	cr_expect(bounded);
	cr_expect_leq(trials, 8);
}

Test(search, limit_below_start_is_found_going_down)
{
	unsigned trials;
	bool bounded;
	double got = run_against(16.7, 1000, 64000, 0.02, &trials, &bounded);

	cr_expect(got <= 16.7 && got >= 16.7 * 0.98, "got %g", got);
}

Test(search, trial_cap_is_respected)
{
	struct ct_search s;

	cr_assert_eq(ct_search_init(&s, 1, 1e6, 0.001, 5), 0);
	while (ct_search_next(&s) > 0)
		ct_search_report(&s, true);
	cr_expect_eq(s.trials, 5);
}

Test(search, rejects_bad_parameters)
{
	struct ct_search s;

	cr_expect_eq(ct_search_init(&s, 0, 100, 0.02, 12), -EINVAL);
	cr_expect_eq(ct_search_init(&s, 200, 100, 0.02, 12), -EINVAL);
	cr_expect_eq(ct_search_init(&s, 10, 100, 0, 12), -EINVAL);
	cr_expect_eq(ct_search_init(&s, 10, 100, 1.5, 12), -EINVAL);
}

/* Without [load] rate a search starts from the model: a quarter of its
 * binding limit, so that the doubling brackets the limit; with no limit from
 * the model, a fixed low rate. The scenario's rate always wins. */
Test(search, start_from_scenario_model_or_default)
{
	const char *from = NULL;

	cr_expect_float_eq(ct_search_start(800, 470.5, &from), 800, 1e-9);
	cr_expect_str_eq(from, "scenario");
	cr_expect_float_eq(ct_search_start(0, 470.5, &from), 118, 1e-9);
	cr_expect_str_eq(from, "model");
	cr_expect_float_eq(ct_search_start(0, 2, &from), 1, 1e-9, "at least 1/s");
	cr_expect_float_eq(ct_search_start(0, 0, &from), CT_SEARCH_START_DEFAULT, 1e-9);
	cr_expect_str_eq(from, "default");
	cr_expect_float_eq(ct_search_start(0, INFINITY, &from), CT_SEARCH_START_DEFAULT, 1e-9);

	/* Started there, the search brackets the model's limit: a server that
	 * breaks exactly at it is found within the precision. */
	struct ct_search s;
	double limit = 470.5, start = ct_search_start(0, limit, &from), r;
	bool bounded = false;
	cr_assert_eq(ct_search_init(&s, start, start * 64, 0.02, 24), 0);
	while ((r = ct_search_next(&s)) > 0)
		ct_search_report(&s, r <= limit);
	double found = ct_search_result(&s, &bounded);
	cr_expect(bounded && found <= limit && found >= limit * 0.98, "found %g", found);
}
