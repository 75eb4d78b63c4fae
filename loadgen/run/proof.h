/* proof — the sustain check of one step, wired to the run.
 *
 * From the model of the step's scenario (ct_proof_model) it picks the counts
 * that could run out and their limits (run/sustain.h):
 *   client.ports_in_use  against the client's ports, when the client holds
 *                        TIME_WAIT for 60 s (reuse off) in a lab: the whole
 *                        range, or half of it past the parity cliff (the
 *                        model's client_ports, model.c ct_model_parity_cliff);
 *   ROLE.ct.count        the conntrack entries where conntrack tracks (server
 *                        or router), against nf_conntrack_max, also when the
 *                        model says the tuples cannot fill the table (a
 *                        claim the count's plateau must prove);
 *   router.ct.count      with NAT, against the NAT's source ports (64512 per
 *                        NAT address and destination).
 * The horizon is the longest timer of the hard limits that apply, and the
 * conntrack timeout of the end state wherever conntrack tracks. A trial
 * watch collects the samples; with [load] sustain = prove it ends the step
 * once it is proven, or 5 s after a count reached its limit. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "loadgen/model/model.h"
#include "loadgen/run/sustain.h"
#include "loadgen/run/trial.h"
#include "loadgen/scenario/scenario.h"

/* prove: how far past the horizon a step may run before it is judged. */
#define CT_PROOF_MARGIN_S 15.0

/* The model of a scenario with this host's live values. 0 or -errno. */
int ct_proof_model(const struct ct_scenario *pt, struct ct_model_input *in,
		   struct ct_model_result *res);

struct ct_proof;

/* The proof of one step of `pt` at its [load] rate (lab: whether lab
 * samplers run). NULL + errno. */
struct ct_proof *ct_proof_new(const struct ct_scenario *pt, bool lab);
void ct_proof_free(struct ct_proof *p);

/* The spec it watches (the counts, their limits, the horizon). */
const struct ct_sustain_spec *ct_proof_spec(const struct ct_proof *p);

/* The step's [load] duration under the scenario's sustain mode: prove runs
 * up to max(duration, horizon + CT_PROOF_MARGIN_S). */
uint64_t ct_proof_duration_ns(const struct ct_proof *p, uint64_t duration_ns);

/* The trial watch that feeds it (ct_trial_opts.watch). */
struct ct_trial_watch ct_proof_watch(struct ct_proof *p);

/* After the step: its sustain fields into `step` (sustained, horizon_s,
 * plateau, projection, sustain{}); returns whether it is proven sustained
 * (always true with sustain = off). */
bool ct_proof_finish(struct ct_proof *p, json_t *step);

/* Why it is not proven: one sentence (after ct_proof_finish). */
void ct_proof_why(const struct ct_proof *p, char *buf, size_t len);

/* The limit the projection names ("conntrack"), or "horizon" when there is
 * not enough time to tell (after ct_proof_finish). */
const char *ct_proof_limit(const struct ct_proof *p);
