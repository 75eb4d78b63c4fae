/* search — the rate search of one sweep point, as a pure state machine.
 *
 * RFC 2544 §26.1 / RFC 9693 style: an exponential phase doubles the rate
 * from `start` until a trial fails (or `max` passes), then a binary phase
 * halves the interval between the highest pass and the lowest fail until
 * (fail - pass) / fail <= precision. The caller runs each trial and reports
 * pass or fail; the machine says which rate to try next, or that it is done.
 *
 * Worst case trials: log2(max/start) + log2(1/precision) + 1 — with the
 * defaults (start = max/64, 2%) at most 12. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum ct_search_phase { CT_SEARCH_EXPONENTIAL, CT_SEARCH_BINARY, CT_SEARCH_DONE };

struct ct_search {
	double start, max, precision;
	double pass;  /* highest rate that passed, 0 = none yet */
	double fail;  /* lowest rate that failed, 0 = none yet */
	double next;  /* rate of the next trial */
	enum ct_search_phase phase;
	unsigned trials;
	unsigned max_trials;
};

/* Where a search starts without [load] rate when the model predicts no
 * limit: low enough for any server, and 64 times it is 6400/s. */
#define CT_SEARCH_START_DEFAULT 100.0

/* Where to start: `rate` ([load] rate) when > 0, *from = "scenario"; else a
 * quarter of `binding_cps` (the model's binding limit), whole, at least 1/s,
 * *from = "model": the doubling passes the limit within four trials, and
 * the search goes up to 64 times the start, 16 times the limit, so a limit
 * the model puts too low by up to 16 times is still bracketed; else
 * CT_SEARCH_START_DEFAULT, *from = "default". Pure. */
double ct_search_start(double rate, double binding_cps, const char **from);

/* start > 0, max >= start, 0 < precision < 1. Returns 0 or -EINVAL. */
int ct_search_init(struct ct_search *s, double start, double max, double precision,
		   unsigned max_trials);

/* The rate the next trial should run at; 0 when done. */
double ct_search_next(const struct ct_search *s);

/* Report the outcome of the trial at ct_search_next(). */
void ct_search_report(struct ct_search *s, bool passed);

/* When done: the highest passing rate (the threshold), 0 if even `start`
 * failed. `*bounded` says whether a failing rate was found above it (false:
 * `max` passed, so the real threshold is higher than the search could go). */
double ct_search_result(const struct ct_search *s, bool *bounded);
