#include <criterion/criterion.h>
#include <math.h>

#include "loadgen/engine/schedule.h"

static struct ct_schedule_params params(enum ct_sched_profile prof, double rate, double rate_end,
					double dur_s)
{
	struct ct_schedule_params p = {
	    .profile = prof,
	    .rate = rate,
	    .rate_end = rate_end,
	    .duration_ns = (uint64_t)(dur_s * 1e9),
	    .seed = 42,
	};
	return p;
}

/* All threads' due times, counted per second. */
static uint64_t count_all(const struct ct_schedule_params *p, unsigned threads, uint64_t *per_s,
			  size_t nsec, uint64_t *maxseq)
{
	uint64_t n = 0;
	*maxseq = 0;
	for (unsigned t = 0; t < threads; t++) {
		struct ct_schedule s;
		uint64_t due, seq, last = 0;
		ct_schedule_init(&s, p, t, threads);
		while (ct_schedule_next(&s, &due, &seq)) {
			cr_assert_geq(due, last, "due times go forward");
			cr_assert_lt(due, p->duration_ns);
			last = due;
			if (due / 1000000000ULL < nsec)
				per_s[due / 1000000000ULL]++;
			if (seq > *maxseq)
				*maxseq = seq;
			n++;
		}
	}
	return n;
}

Test(schedule, constant_exact_count_split_over_threads)
{
	struct ct_schedule_params p = params(CT_SCHED_CONSTANT, 1000, 1000, 10);
	uint64_t per_s[10] = {0}, maxseq;
	cr_assert_eq(count_all(&p, 3, per_s, 10, &maxseq), 10000);
	cr_expect_eq(maxseq, 9999, "sequence numbers are 0..n-1 across threads");
	for (int i = 0; i < 10; i++)
		cr_expect_eq(per_s[i], 1000, "second %d: %llu", i, (unsigned long long)per_s[i]);
}

Test(schedule, max_connections_caps_the_total)
{
	struct ct_schedule_params p = params(CT_SCHED_CONSTANT, 1000, 1000, 10);
	p.max_connections = 101;
	uint64_t per_s[10] = {0}, maxseq;
	cr_assert_eq(count_all(&p, 4, per_s, 10, &maxseq), 101);
	cr_expect_eq(maxseq, 100);
}

Test(schedule, ramp_rises_linearly)
{
	struct ct_schedule_params p = params(CT_SCHED_RAMP, 100, 1100, 10);
	uint64_t per_s[10] = {0}, maxseq;
	uint64_t n = count_all(&p, 2, per_s, 10, &maxseq);
	cr_expect(llabs((long long)n - 6000) <= 2, "ramp 100->1100 over 10 s: %llu",
		  (unsigned long long)n);
	for (int i = 0; i < 10; i++) {
		double want = 100 + 100 * i + 50; /* mean rate over second i */
		cr_expect(fabs((double)per_s[i] - want) <= 2, "second %d: %llu, want %.0f", i,
			  (unsigned long long)per_s[i], want);
	}
	cr_expect(fabs(ct_schedule_rate_at(&p, 5000000000ULL) - 600) < 1e-6);
	cr_expect(fabs(ct_schedule_expected(&p, 10000000000ULL) - 6000) < 1e-6);
}

Test(schedule, step_adds_step_by_every_period_up_to_rate_end)
{
	struct ct_schedule_params p = params(CT_SCHED_STEP, 100, 300, 5);
	p.step_every_ns = 1000000000ULL;
	p.step_by = 100;
	uint64_t per_s[5] = {0}, maxseq;
	uint64_t n = count_all(&p, 1, per_s, 5, &maxseq);
	cr_expect_eq(per_s[0], 100);
	cr_expect_eq(per_s[1], 200);
	cr_expect_eq(per_s[2], 300);
	cr_expect_eq(per_s[4], 300, "capped at rate_end");
	cr_expect_eq(n, 1200);
}

Test(schedule, poisson_mean_rate_and_seed_determinism)
{
	struct ct_schedule_params p = params(CT_SCHED_POISSON, 2000, 2000, 10);
	uint64_t per_s[10] = {0}, maxseq;
	uint64_t n = count_all(&p, 2, per_s, 10, &maxseq);
	/* sd of a Poisson count of mean 20000 is ~141: 5 sd */
	cr_expect(fabs((double)n - 20000) < 710, "poisson count %llu", (unsigned long long)n);
	struct ct_schedule a, b;
	uint64_t da, db, sa, sb;
	ct_schedule_init(&a, &p, 0, 2);
	ct_schedule_init(&b, &p, 0, 2);
	for (int i = 0; i < 100; i++) {
		cr_assert(ct_schedule_next(&a, &da, &sa));
		cr_assert(ct_schedule_next(&b, &db, &sb));
		cr_assert_eq(da, db, "same seed, same schedule");
	}
	p.seed = 43;
	ct_schedule_init(&b, &p, 0, 2);
	struct ct_schedule_params p42 = params(CT_SCHED_POISSON, 2000, 2000, 10);
	ct_schedule_init(&a, &p42, 0, 2);
	ct_schedule_next(&a, &da, &sa);
	ct_schedule_next(&b, &db, &sb);
	cr_expect_neq(da, db, "another seed, another schedule");
}
