#include "loadgen/run/search.h"

#include <errno.h>
#include <math.h>

int ct_search_init(struct ct_search *s, double start, double max, double precision,
		   unsigned max_trials)
{
	if (!(start > 0) || !(max >= start) || !(precision > 0 && precision < 1) || !max_trials)
		return -EINVAL;
	*s = (struct ct_search){
		.start = start,
		.max = max,
		.precision = precision,
		.next = start,
		.phase = CT_SEARCH_EXPONENTIAL,
		.max_trials = max_trials,
	};
	return 0;
}

double ct_search_next(const struct ct_search *s)
{
	return s->phase == CT_SEARCH_DONE ? 0 : s->next;
}

static bool converged(const struct ct_search *s)
{
	return s->fail > 0 && (s->fail - s->pass) / s->fail <= s->precision;
}

void ct_search_report(struct ct_search *s, bool passed)
{
	if (s->phase == CT_SEARCH_DONE)
		return;
	s->trials++;
	if (passed)
		s->pass = s->next;
	else
		s->fail = s->next;

	if (s->phase == CT_SEARCH_EXPONENTIAL) {
		if (passed && s->next >= s->max) {
			s->phase = CT_SEARCH_DONE; /* the ceiling passed: unbounded */
			return;
		}
		if (passed) {
			s->next = fmin(s->next * 2, s->max);
		} else {
			s->phase = CT_SEARCH_BINARY;
		}
	}
	if (s->phase == CT_SEARCH_BINARY) {
		if (converged(s) || (s->pass == 0 && s->fail < 2)) {
			s->phase = CT_SEARCH_DONE;
			return;
		}
		/* Nothing passed yet: halve downwards until something does. */
		s->next = s->pass > 0 ? (s->pass + s->fail) / 2 : s->fail / 2;
	}
	if (s->trials >= s->max_trials)
		s->phase = CT_SEARCH_DONE;
}

double ct_search_result(const struct ct_search *s, bool *bounded)
{
	if (bounded)
		*bounded = s->fail > 0;
	return s->pass;
}

double ct_search_start(double rate, double binding_cps, const char **from)
{
	if (rate > 0) {
		*from = "scenario";
		return rate;
	}
	if (binding_cps > 0 && isfinite(binding_cps)) {
		*from = "model";
		return fmax(1.0, round(binding_cps / 4));
	}
	*from = "default";
	return CT_SEARCH_START_DEFAULT;
}
