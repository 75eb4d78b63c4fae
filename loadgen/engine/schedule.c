/* schedule — see schedule.h. */
#include "loadgen/engine/schedule.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void ct_schedule_init(struct ct_schedule *s, const struct ct_schedule_params *p, unsigned thread,
		      unsigned nthreads)
{
	memset(s, 0, sizeof(*s));
	s->p = *p;
	s->thread = thread;
	s->nthreads = nthreads ? nthreads : 1;
	s->n = thread;
	s->cap = UINT64_MAX;
	if (p->max_connections) {
		uint64_t share = p->max_connections / s->nthreads;
		if (thread < p->max_connections % s->nthreads)
			share++;
		s->cap = share;
	}
	s->rng = p->seed ^ (0x632be59bd9b4e019ULL * (thread + 1));
	splitmix64(&s->rng);
}

static bool step_capped(const struct ct_schedule_params *p)
{
	return p->rate_end > p->rate;
}

double ct_schedule_rate_at(const struct ct_schedule_params *p, uint64_t t_ns)
{
	double t = (double)t_ns / 1e9, d = (double)p->duration_ns / 1e9;
	switch (p->profile) {
	case CT_SCHED_RAMP:
		if (d <= 0)
			return p->rate;
		return p->rate + (p->rate_end - p->rate) * (t < d ? t / d : 1.0);
	case CT_SCHED_STEP: {
		if (!p->step_every_ns)
			return p->rate;
		double r = p->rate + p->step_by * (double)(t_ns / p->step_every_ns);
		if (step_capped(p) && r > p->rate_end)
			r = p->rate_end;
		return r;
	}
	case CT_SCHED_CONSTANT:
	case CT_SCHED_POISSON:
	default:
		return p->rate;
	}
}

/* Connections due in [0, t) for the step profile: segment j lasts E
 * seconds at rate r0 + j*b (capped). */
static double step_integral(const struct ct_schedule_params *p, double t)
{
	double e = (double)p->step_every_ns / 1e9, acc = 0;
	unsigned j = 0;
	while (t > 0) {
		double r = p->rate + p->step_by * j;
		if (step_capped(p) && r > p->rate_end)
			r = p->rate_end;
		double len = t < e ? t : e;
		acc += r * len;
		t -= len;
		j++;
	}
	return acc;
}

double ct_schedule_expected(const struct ct_schedule_params *p, uint64_t t_ns)
{
	if (t_ns > p->duration_ns)
		t_ns = p->duration_ns;
	double t = (double)t_ns / 1e9, d = (double)p->duration_ns / 1e9, n;
	switch (p->profile) {
	case CT_SCHED_RAMP:
		n = d > 0 ? p->rate * t + (p->rate_end - p->rate) * t * t / (2 * d) : 0;
		break;
	case CT_SCHED_STEP:
		n = p->step_every_ns ? step_integral(p, t) : p->rate * t;
		break;
	default:
		n = p->rate * t;
		break;
	}
	if (p->max_connections && n > (double)p->max_connections)
		n = (double)p->max_connections;
	return n;
}

/* The time (s) at which the integral of the rate reaches n. */
static double due_of(struct ct_schedule *s, double n)
{
	const struct ct_schedule_params *p = &s->p;
	double d = (double)p->duration_ns / 1e9;
	switch (p->profile) {
	case CT_SCHED_RAMP: {
		double a = d > 0 ? (p->rate_end - p->rate) / d : 0;
		if (fabs(a) < 1e-12)
			return n / p->rate;
		/* a/2 t^2 + r0 t - n = 0 */
		double disc = p->rate * p->rate + 2 * a * n;
		if (disc < 0)
			return INFINITY; /* a falling ramp that never reaches n */
		return (-p->rate + sqrt(disc)) / a;
	}
	case CT_SCHED_STEP: {
		if (!p->step_every_ns)
			return n / p->rate;
		double e = (double)p->step_every_ns / 1e9;
		for (;;) {
			unsigned j = s->step_seg;
			double r = p->rate + p->step_by * j;
			if (step_capped(p) && r > p->rate_end)
				r = p->rate_end;
			double c0 = step_integral(p, j * e);
			if (r <= 0)
				return INFINITY;
			if (n < c0 + r * e || (step_capped(p) && r >= p->rate_end))
				return j * e + (n - c0) / r;
			s->step_seg++;
			if ((double)s->step_seg * e > d + e)
				return INFINITY;
		}
	}
	default:
		return n / p->rate;
	}
}

bool ct_schedule_next(struct ct_schedule *s, uint64_t *due_ns, uint64_t *seq)
{
	double t;
	if (s->issued >= s->cap || s->p.rate <= 0)
		return false;
	if (s->p.profile == CT_SCHED_POISSON) {
		double per_thread = s->p.rate / s->nthreads;
		/* 53 random bits -> u in (0, 1] so log(u) is finite. */
		double u = ((double)(splitmix64(&s->rng) >> 11) + 1.0) / 9007199254740992.0;
		s->poisson_t += -log(u) / per_thread;
		t = s->poisson_t;
		*seq = s->issued * s->nthreads + s->thread;
	} else {
		t = due_of(s, (double)s->n);
		*seq = s->n;
	}
	if (!(t * 1e9 < (double)s->p.duration_ns))
		return false;
	*due_ns = (uint64_t)(t * 1e9);
	s->n += s->nthreads;
	s->issued++;
	return true;
}
