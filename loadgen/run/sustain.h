/* sustain — is a step that held for its duration also sustained?
 *
 * The limits ctload studies bind after their timers: a client port stays in
 * TIME_WAIT 60 s, a conntrack entry 120 s. A step shorter than that can hold
 * a rate that a longer run cannot. So every step has a horizon, the longest
 * timer among the hard limits that could bind at its rate, and a step that
 * held is `sustained` only when every capacity count that could run out
 * (client ports in use, conntrack entries per netns, NAT ports) is proven
 * to stay below its limit:
 *
 *   plateau   the count grew by less than 1% over the last settle window
 *             (10 s): it has reached its steady state below the limit;
 *   bounded   value + slope x (horizon - t) stays under the limit less a 5%
 *             margin. At a steady offered rate a count of connections held
 *             for a timer grows linearly until the timer, then stays; one
 *             bounded by the tuples in use grows ever more slowly (the
 *             laps of connect()'s port search, model/steady.h). Both are concave, so the line
 *             through the current value with the current slope is an upper
 *             bound of the count at the horizon, and past the horizon the
 *             count no longer grows. Past the horizon the look-ahead is
 *             half a horizon more, so a count still growing then is not
 *             waved through. Only for constant and Poisson profiles: a ramp
 *             is proven only by its plateau.
 *   growing   neither: the step is `unsustained`, and the count's slope
 *             projects when it reaches its limit (fail_at_s, in step time);
 *   at_limit  the count reached its limit less the margin.
 * A limit no count shows (a host run has no samplers) is proven when the
 * offered rate times its timer stays under its capacity less the margin
 * (nothing it counts grows faster than the connections do, and each unit is
 * free again after the timer); else only a step that ran past the timer
 * proves it.
 *
 * Pure: ct_sustain_analyse() works on arrays; the tracker collects them from
 * a step's samples. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "loadgen/base/role.h"
#include "loadgen/scenario/scenario.h" /* enum ct_sustain_mode */

#define CT_SUSTAIN_MAX_COUNTS 8
/* The window a plateau is measured over, and the least a count is watched
 * before a slope is trusted. */
#define CT_SUSTAIN_SETTLE_S 10.0
#define CT_SUSTAIN_MIN_S    1.0
/* A count must stay this far below its limit. */
#define CT_SUSTAIN_MARGIN 0.05

/* One count to watch: sample["ns"][role][key] against `limit`. */
struct ct_sustain_count_spec {
	char name[48];	     /* "server.ct.count" */
	enum ct_role role;   /* where in sample.ns */
	const char *key;     /* "ct.count", "ports_in_use" (static) */
	char limit_name[24]; /* the model's name of the limit: "conntrack" */
	double limit;	     /* the count at which the limit binds; 0: the sample's limit_key */
	const char *limit_key; /* with limit 0: sample["ns"][role][limit_key] ("ct.max") */
};

/* A limit no sample shows (a host run, or a limit without a count): the
 * count it bounds cannot grow faster than the offered rate and frees each
 * unit after the limit's timer, so it is proven when rate x timer stays
 * under its capacity less the margin, or once the step ran past the timer. */
struct ct_sustain_unmeasured {
	char limit_name[24];
	double capacity;
	double timer_s;
};

struct ct_sustain_spec {
	struct ct_sustain_count_spec c[CT_SUSTAIN_MAX_COUNTS];
	size_t n;
	struct ct_sustain_unmeasured u[CT_SUSTAIN_MAX_COUNTS];
	size_t n_u;
	double rate; /* the offered rate (the unmeasured limits' bound) */
	double horizon_s; /* the longest timer of the hard limits that apply; 0: none */
	double settle_s;  /* CT_SUSTAIN_SETTLE_S unless a test says otherwise */
	bool steady;	  /* constant or Poisson profile: the bounded rule applies */
};

enum ct_sustain_state {
	CT_SUST_NO_DATA = 0,
	CT_SUST_PLATEAU,
	CT_SUST_BOUNDED,
	CT_SUST_GROWING,
	CT_SUST_AT_LIMIT,
};

struct ct_sustain_count {
	enum ct_sustain_state state;
	double value;	  /* the last sample */
	double limit;	  /* the limit it was held against */
	double slope;	  /* per second, least squares over the window */
	double bound;	  /* value + slope+ x look-ahead */
	double plateau;	  /* the window's mean on a plateau, else NAN */
	double fail_at_s; /* step time it reached (at_limit) or will reach (growing) the limit; NAN */
};

struct ct_sustain_result {
	bool sustained;
	int unmeasured; /* the first unmeasured limit not proven by rate x horizon, -1: none */
	double elapsed_s; /* step time of the last sample */
	double horizon_s;
	size_t n;
	struct ct_sustain_count c[CT_SUSTAIN_MAX_COUNTS];
	int projection; /* the count that runs out first, -1: none or not enough time to tell */
};

/* Analyse n samples at step times t[] of spec->n counts: v[k][i] is count k
 * at t[i] and lim[k][i] its limit there (used when the spec's limit is 0).
 * NAN values are skipped. */
void ct_sustain_analyse(const struct ct_sustain_spec *spec, const double *t,
			const double *const *v, const double *const *lim, size_t n,
			struct ct_sustain_result *out);

/* A step's samples, collected. */
struct ct_sustain;
struct ct_sustain *ct_sustain_new(const struct ct_sustain_spec *spec);
void ct_sustain_free(struct ct_sustain *s);
/* Add one sample taken t_step seconds into the step. 0 or -ENOMEM. */
int ct_sustain_add(struct ct_sustain *s, const json_t *sample, double t_step);
void ct_sustain_eval(const struct ct_sustain *s, struct ct_sustain_result *out);

/* The step's fields for summary.json: sustained, horizon_s, plateau
 * {count: value|null}, projection {limit, count, fail_at_s} or null, and
 * sustain {mode, settle_s, counts: [...]}. */
void ct_sustain_to_step(const struct ct_sustain_spec *spec, const struct ct_sustain_result *r,
			enum ct_sustain_mode mode, json_t *step);

/* One sentence on why a step is not proven sustained ("the conntrack table
 * (server.ct.count) would reach 65536 at about 65 s, past this 12 s step"). */
void ct_sustain_why(const struct ct_sustain_spec *spec, const struct ct_sustain_result *r,
		    char *buf, size_t len);

const char *ct_sustain_state_name(enum ct_sustain_state s);
