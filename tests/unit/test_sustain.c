#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "loadgen/run/sustain.h"

/* Counts sampled at 10 Hz for `secs`, one curve. */
#define HZ 10
struct series {
	double t[4000], v[4000];
	size_t n;
};

static void make(struct series *s, double secs, double (*f)(double t, const double *p),
		 const double *p)
{
	s->n = 0;
	for (double t = 0.1; t <= secs + 1e-9 && s->n < 4000; t += 1.0 / HZ) {
		s->t[s->n] = t;
		s->v[s->n] = f(t, p);
		s->n++;
	}
}

/* p[0] rate, p[1] timer: rate x min(t, timer), as entries held for a timer. */
static double held(double t, const double *p)
{
	return p[0] * (t < p[1] ? t : p[1]);
}

/* p[0] rate, p[1] tuples: the coupon collector's curve of a tuple-bounded table. */
static double coupon(double t, const double *p)
{
	return p[1] * (1 - exp(-p[0] * t / p[1]));
}

/* p[0] rate, p[1] cap: a table that fills and stays full. */
static double full(double t, const double *p)
{
	double v = p[0] * t;
	return v < p[1] ? v : p[1];
}

static struct ct_sustain_spec spec1(double limit, double horizon, bool steady)
{
	struct ct_sustain_spec sp = {.n = 1, .horizon_s = horizon, .settle_s = 10,
				     .steady = steady};
	snprintf(sp.c[0].name, sizeof(sp.c[0].name), "server.ct.count");
	snprintf(sp.c[0].limit_name, sizeof(sp.c[0].limit_name), "conntrack");
	sp.c[0].role = CT_ROLE_SERVER;
	sp.c[0].key = "ct.count";
	sp.c[0].limit = limit;
	return sp;
}

static struct ct_sustain_result analyse(const struct ct_sustain_spec *sp, const struct series *s)
{
	struct ct_sustain_result r;
	const double *v[1] = {s->v};
	ct_sustain_analyse(sp, s->t, v, NULL, s->n, &r);
	return r;
}

static struct series s;

Test(sustain, a_short_step_above_the_limit_is_unsustained_with_its_time_to_fail)
{
	/* 1000/s into a 65536-entry table whose entries live 120 s: 12 s
	 * hold, the table fills at 65.5 s. */
	double p[] = {1000, 120};
	make(&s, 12, held, p);
	struct ct_sustain_spec sp = spec1(65536, 120, true);
	struct ct_sustain_result r = analyse(&sp, &s);
	cr_assert_not(r.sustained);
	cr_assert_eq(r.c[0].state, CT_SUST_GROWING);
	cr_assert_eq(r.projection, 0);
	cr_assert_float_eq(r.c[0].fail_at_s, 65.5, 0.6, "fill at %g s", r.c[0].fail_at_s);
	char why[256];
	ct_sustain_why(&sp, &r, why, sizeof(why));
	cr_assert(strstr(why, "conntrack") && strstr(why, "65536"), "%s", why);
}

Test(sustain, a_rate_that_cannot_reach_the_limit_by_the_horizon_is_proven_early)
{
	/* 200/s for 3 s against 262144 entries: 24000 at most by 120 s. */
	double p[] = {200, 120};
	make(&s, 3, held, p);
	struct ct_sustain_spec sp = spec1(262144, 120, true);
	struct ct_sustain_result r = analyse(&sp, &s);
	cr_assert(r.sustained);
	cr_assert_eq(r.c[0].state, CT_SUST_BOUNDED);
	cr_assert(r.c[0].bound < 30000, "bound %g", r.c[0].bound);
}

Test(sustain, a_tuple_bounded_table_is_proven_before_its_horizon)
{
	/* tcp_tw_reuse = 1: 28232 tuples at 1000/s, a 65536-entry table:
	 * not proven at 15 s, proven by 40 s, well before the 120 s horizon. */
	double p[] = {1000, 28232};
	struct ct_sustain_spec sp = spec1(65536, 120, true);
	make(&s, 15, coupon, p);
	cr_assert_not(analyse(&sp, &s).sustained);
	make(&s, 40, coupon, p);
	struct ct_sustain_result r = analyse(&sp, &s);
	cr_assert(r.sustained);
	cr_assert_eq(r.c[0].state, CT_SUST_BOUNDED);
	/* and by its plateau once it has flattened */
	make(&s, 120, coupon, p);
	r = analyse(&sp, &s);
	cr_assert(r.sustained);
	cr_assert_eq(r.c[0].state, CT_SUST_PLATEAU);
	cr_assert_float_eq(r.c[0].plateau, 28232, 600);
}

Test(sustain, a_count_flat_past_the_horizon_is_a_plateau)
{
	double p[] = {1000, 60};
	make(&s, 80, held, p);
	struct ct_sustain_spec sp = spec1(65536, 60, true);
	struct ct_sustain_result r = analyse(&sp, &s);
	cr_assert(r.sustained);
	cr_assert_eq(r.c[0].state, CT_SUST_PLATEAU);
	cr_assert_float_eq(r.c[0].plateau, 60000, 1);
}

Test(sustain, a_count_at_its_limit_says_when_it_got_there)
{
	double p[] = {1000, 8192};
	make(&s, 12, full, p);
	struct ct_sustain_spec sp = spec1(8192, 120, true);
	struct ct_sustain_result r = analyse(&sp, &s);
	cr_assert_not(r.sustained);
	cr_assert_eq(r.c[0].state, CT_SUST_AT_LIMIT);
	cr_assert_float_eq(r.c[0].fail_at_s, 7.8, 0.15, "at %g", r.c[0].fail_at_s);
}

Test(sustain, a_ramp_is_proven_only_by_its_plateau)
{
	double p[] = {200, 120};
	make(&s, 3, held, p);
	struct ct_sustain_spec sp = spec1(262144, 120, false);
	struct ct_sustain_result r = analyse(&sp, &s);
	cr_assert_not(r.sustained);
	cr_assert_eq(r.c[0].state, CT_SUST_GROWING);
}

Test(sustain, still_growing_past_the_horizon_is_not_waved_through)
{
	/* Entries that live 300 s (a timer the horizon did not know) at
	 * 300/s against 65536: 39000 at 130 s and still growing. */
	double p[] = {300, 300};
	make(&s, 130, held, p);
	struct ct_sustain_spec sp = spec1(65536, 120, true);
	struct ct_sustain_result r = analyse(&sp, &s);
	cr_assert_not(r.sustained, "bound %g", r.c[0].bound);
	cr_assert_float_eq(r.c[0].fail_at_s, 65536.0 / 300, 2);
	/* while a tuple-bounded count still creeping up past the horizon is
	 * slowing down, and stays under the limit */
	double q[] = {1000, 60000};
	make(&s, 130, coupon, q);
	r = analyse(&sp, &s);
	cr_assert(r.sustained, "state %d", r.c[0].state);
}

Test(sustain, an_unsampled_limit_is_proven_by_rate_times_its_timer_or_by_the_timer)
{
	/* A host run: nothing samples the client's 28232 ports, held 60 s. */
	struct ct_sustain_spec sp = {.n = 0, .horizon_s = 60, .settle_s = 10, .steady = true,
				     .rate = 1000, .n_u = 1};
	snprintf(sp.u[0].limit_name, sizeof(sp.u[0].limit_name), "client_ports");
	sp.u[0].capacity = 28232;
	sp.u[0].timer_s = 60;
	double t[] = {10, 30};
	struct ct_sustain_result r;
	ct_sustain_analyse(&sp, t, NULL, NULL, 2, &r);
	cr_assert_not(r.sustained, "1000/s x 60 s > 28232: not proven in 30 s");
	cr_assert_eq(r.projection, -1);
	cr_assert_eq(r.unmeasured, 0);
	char why[256];
	ct_sustain_why(&sp, &r, why, sizeof(why));
	cr_assert(strstr(why, "not enough time to tell") && strstr(why, "client_ports"), "%s", why);
	double t2[] = {30, 61};
	ct_sustain_analyse(&sp, t2, NULL, NULL, 2, &r);
	cr_assert(r.sustained, "past its horizon");
	sp.rate = 200; /* 12000 in 60 s at most: proven at once */
	ct_sustain_analyse(&sp, t, NULL, NULL, 2, &r);
	cr_assert(r.sustained);
}

Test(sustain, the_tracker_reads_counts_and_limits_from_samples)
{
	struct ct_sustain_spec sp = spec1(0, 120, true);
	sp.c[0].limit_key = "ct.max";
	struct ct_sustain *tr = ct_sustain_new(&sp);
	cr_assert_not_null(tr);
	for (int i = 1; i <= 120; i++) {
		json_t *smp = json_pack("{s:{s:{s:i, s:i}}}", "ns", "server", "ct.count", i * 100,
					"ct.max", 65536);
		cr_assert_eq(ct_sustain_add(tr, smp, i / 10.0), 0);
		json_decref(smp);
	}
	struct ct_sustain_result r;
	ct_sustain_eval(tr, &r);
	cr_assert_float_eq(r.c[0].limit, 65536, 0.5);
	cr_assert_float_eq(r.c[0].slope, 1000, 1);
	cr_assert_not(r.sustained);
	json_t *step = json_object();
	ct_sustain_to_step(&sp, &r, CT_SUSTAIN_CHECK, step);
	cr_assert(json_is_false(json_object_get(step, "sustained")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(step, "projection"),
							   "limit")),
			 "conntrack");
	cr_assert(json_is_null(json_object_get(json_object_get(step, "plateau"),
					       "server.ct.count")));
	json_decref(step);
	ct_sustain_free(tr);
}
