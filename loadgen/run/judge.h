/* judge — the figures of a step as the variables of a condition, for
 * [search] fail_when and [expect].
 *
 * Names are dotted paths into the step object of summary.json, in base
 * units: seconds (connect.p99, total.max, connect_call.p99), fractions
 * (errors, rate.achieved = achieved / scheduled), per second (rate_achieved),
 * counts (failed, failures.timeout, ct.drop, tw.client_peak ...). `threshold`
 * is the last measured threshold of the run. In topology = host, ct.* and
 * tw.* read 0: nothing is observed there. The list is in ctload(1). */
#pragma once

#include "loadgen/base/json.h"

#include <stdbool.h>

#include <jansson.h>

#include "loadgen/scenario/expr.h"
#include "loadgen/scenario/scenario.h"

struct ct_judge_ctx {
	const json_t *step;    /* the step judged (may be NULL) */
	const json_t *summary; /* the run's summary (thresholds) */
};

/* ct_expr_lookup_fn over a struct ct_judge_ctx. 0 or -ENOENT. */
int ct_judge_lookup(void *ctx, const char *name, double *value);

/* What the steps of a run carry beyond the trial's own figures. */
#define CT_JUDGE_HAS_LAB       1u /* topology = lab: ct.*, tw.*, tuples.* */
#define CT_JUDGE_HAS_SEARCH    2u /* [search]: search.rate */
#define CT_JUDGE_HAS_THRESHOLD 4u /* [expect], after the run: threshold */
#define CT_JUDGE_HAS_SUSTAIN   8u /* sustain != off: sustained, horizon_s, sustain.* */
#define CT_JUDGE_HAS_BYSTANDER 16u /* [lab] bystander: bystander.* */

/* Whether every variable of `e` is one a step of such a run will have: 0, or
 * -ENOENT with *unknown the first name that is not (it lives as long as e);
 * -ENOMEM. Lets a run refuse a condition before it starts rather than
 * after. */
int ct_judge_check_names(const struct ct_expr *e, unsigned has, const char **unknown);

/* [search] fail_when and every [expect] of `sc`, checked before the run:
 * each parses and names only variables its steps will have (ctload(1),
 * EXPECT VARIABLES). CT_EXIT_OK, or CT_EXIT_USAGE with an error logged that
 * names FILE:LINE or the --set that gave the condition. */
int ct_judge_check_conditions(const struct ct_scenario *sc);

/* Evaluate every [expect] on the last step; record each in summary.expect.
 * Returns CT_EXIT_OK, CT_EXIT_EXPECT (one failed) or CT_EXIT_USAGE (a
 * condition is malformed or names an unknown variable). */
int ct_judge_expect(const struct ct_scenario *sc, json_t *summary);

/* Why a failed step failed, from its figures, in the model's limit names:
 * "client_ports" (EADDRNOTAVAIL, or connect() slowed by the port search with
 * no error at all), "conntrack" (table full: drops), "nat_ports" (insert
 * failures), "neighbours" (the neighbour table full, with timeouts),
 * "listen_backlog" (the listen queue dropped), "device" (a lab device
 * dropped, with timeouts), "server" (refused, reset,
 * protocol), "client" (EMFILE, the client's own CPU), "unknown". Writes a
 * sentence for people into `text`. Returns the limit name (static). */
const char *ct_judge_cause(const json_t *step, char *text, size_t len);

/* ct_judge_cause's answer as a value, for code that words it itself (the
 * report): one per branch of ct_judge_cause, in its order, with the limit
 * name each is told under. */
enum ct_judge_why {
	CT_JUDGE_PORTS,	      /* client_ports: connect() failed with EADDRNOTAVAIL */
	CT_JUDGE_CONNTRACK,   /* conntrack: the table was full, packets dropped */
	CT_JUDGE_CT_CHAINS,   /* ct_chains: a hash chain past its cap refused inserts */
	CT_JUDGE_NAT_PORTS,   /* nat_ports: new entries could not be inserted */
	CT_JUDGE_NEIGH,	      /* neighbours: the neighbour table was full */
	CT_JUDGE_LISTEN,      /* listen_backlog: the server's listen queue dropped */
	CT_JUDGE_DEVICE,      /* device: a lab device dropped packets */
	CT_JUDGE_PORT_SEARCH, /* client_ports: connect() slowed by the port search */
	CT_JUDGE_SERVER,      /* server: refused, reset or answered wrongly */
	CT_JUDGE_EMFILE,      /* client: out of file descriptors */
	CT_JUDGE_TIMEOUT,     /* unknown: timeouts without a drop counted */
	CT_JUDGE_SLOW,	      /* client: the rate fell short, no error, connect() fast */
	CT_JUDGE_CONDITION,   /* unknown: no resource ran out; the condition failed */
};

/* Why a failed step failed, as ct_judge_cause decides it. */
enum ct_judge_why ct_judge_why(const json_t *step);
