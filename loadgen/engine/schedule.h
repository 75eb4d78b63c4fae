/* schedule — when each connection of an open-loop load is due.
 *
 * The profile gives a target rate r(t) over [0, duration): constant r;
 * ramp from rate to rate_end linearly; step, starting at rate and adding
 * step_by every step_every (capped at rate_end when rate_end > rate);
 * poisson, exponential gaps of mean 1/rate from the scenario seed.
 *
 * For the deterministic profiles connection n (0-based, over all threads)
 * is due at the t where the integral of r reaches n; thread k of T takes
 * n = k, k+T, k+2T ... so the threads together keep the exact rate. A
 * poisson thread runs its own process at rate/T (a sum of independent
 * Poisson processes is a Poisson process), seeded by seed and k.
 *
 * Pure arithmetic: no clock is read here. Times are ns from the start. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The shape of the rate over the step ([load] profile). */
enum ct_sched_profile { CT_SCHED_CONSTANT, CT_SCHED_RAMP, CT_SCHED_STEP, CT_SCHED_POISSON };

struct ct_schedule_params {
	enum ct_sched_profile profile;
	double rate, rate_end; /* conn/s */
	uint64_t step_every_ns;
	double step_by;
	uint64_t duration_ns;
	uint64_t max_connections; /* over all threads; 0 = no cap beyond duration */
	uint64_t seed;
};

struct ct_schedule {
	struct ct_schedule_params p;
	unsigned thread, nthreads;
	uint64_t n;	   /* next global index (deterministic profiles) */
	uint64_t issued;   /* connections this thread has been given */
	uint64_t cap;	   /* this thread's share of max_connections */
	double poisson_t;  /* s, poisson: time of the previous arrival */
	uint64_t rng;	   /* poisson: xorshift state */
	unsigned step_seg; /* step: current segment, to search forward only */
};

/* Prepare thread `thread` of `nthreads`. */
void ct_schedule_init(struct ct_schedule *s, const struct ct_schedule_params *p, unsigned thread,
		      unsigned nthreads);

/* The next due time for this thread (ns from start) and, in *seq, the
 * connection's global sequence number. Returns false when the schedule is
 * over (past duration or the thread's share of max_connections). */
bool ct_schedule_next(struct ct_schedule *s, uint64_t *due_ns, uint64_t *seq);

/* The target rate at time t (conn/s). */
double ct_schedule_rate_at(const struct ct_schedule_params *p, uint64_t t_ns);

/* How many connections are due in [0, t) over all threads (the integral
 * of the rate, or its expectation for poisson), capped by max_connections. */
double ct_schedule_expected(const struct ct_schedule_params *p, uint64_t t_ns);
