/* dist — one run over several MPI ranks (`mpirun -np N ctload run FILE`).
 *
 * Every rank runs one engine; together they are one generator. Rank 0
 * reads the scenario and broadcasts it, resolved, as scenario.ini text
 * (ct_dist_bcast_text); every rank checks the target where its packets
 * leave (ct_dist_agree: one refusal fails all). Each trial starts after a
 * barrier (ct_dist_trial_begin) that also gives each engine its share of
 * one schedule: the ranks' threads are numbered across the world, so
 * connection n goes to global thread n mod T and the rate splits exactly.
 * Every sample tick the ranks' cumulative engine counters are summed and
 * their histograms merged (MPI_Allreduce with a custom op), so all ranks
 * see the same figures, end the step on the same tick and take the same
 * search decisions; only rank 0's watch (the sustain proof) may end a
 * step, and the finished step object is rank 0's, broadcast
 * (ct_dist_step_result), so every rank judges the same step. Rank 0 alone keeps the run directory.
 *
 * A rank that does not check in within CT_DIST_LATE_S of the others (it
 * died, hangs, or its host is overloaded) is named by rank, host and pid,
 * and the run ends with exit 3: the collective is abandoned and the job
 * aborted (MPI_Abort) once rank 0 has written what it has. Host mode
 * changes nothing on the host, so nothing is left half-applied.
 *
 * Built without MPI (meson -Dmpi=disabled), dist_none.c keeps the same
 * calls: a run alone gets d == NULL everywhere; a run launched by mpirun
 * is refused with how to build with MPI. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "loadgen/base/err.h"
#include "loadgen/engine/engine.h"

/* How long a rank may be late at a step's start or a sample tick. */
#define CT_DIST_LATE_S 10.0
/* How long the other ranks wait for rank 0 between steps (its lab up, fresh
 * netns, drain cooldown: work only rank 0 does). */
#define CT_DIST_GAP_S 1800.0

struct ct_dist;

/* Under an MPI launcher (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK set)
 * with more than one rank: start MPI and learn every rank's host and pid;
 * else *out = NULL (the run is alone). 0, or -errno with err (exit 3). */
int ct_dist_init(int *argc, char ***argv, struct ct_dist **out, struct ct_err *err);

unsigned ct_dist_rank(const struct ct_dist *d); /* 0 when d is NULL */
unsigned ct_dist_size(const struct ct_dist *d); /* 1 when d is NULL */

/* Rank 0's *text (NULL: it failed, and *code says how) to every rank;
 * elsewhere *text becomes a malloc'ed copy (or NULL) and *code rank 0's.
 * 0, or -errno (reported). */
int ct_dist_bcast_text(struct ct_dist *d, char **text, int *code);

/* Every rank's exit code so far; returns the largest (any failure fails
 * all). Rank 0 names the ranks that failed. */
int ct_dist_agree(struct ct_dist *d, int code);

/* The start of a trial: all ranks check in (late ones named: -ETIMEDOUT),
 * then this engine's threads [*base, *base + threads) of *total. */
int ct_dist_trial_begin(struct ct_dist *d, unsigned threads, unsigned *base, unsigned *total);

/* Where a trial sends (run/trial's target, without its types). */
struct ct_dist_target {
	struct sockaddr_storage dst;
	uint16_t port_lo, port_hi;
	const struct sockaddr_storage *src;
	size_t n_src;
	int netns_fd;
};

/* Rank 0's target for this trial, on every rank, with this rank's own
 * share of the client addresses (address i goes to rank i mod N; with
 * fewer addresses than ranks, rank r uses address r mod n). A lab's client
 * netns is rank 0's: the other ranks, on its host, open it through
 * /proc/PID/fd (*own_fd, closed by the caller; -1 when none). *srcbuf is
 * the caller's to free. 0 or -errno (reported). */
int ct_dist_share_target(struct ct_dist *d, const struct ct_dist_target *in,
			 struct ct_dist_target *out, struct sockaddr_storage **srcbuf, int *own_fd);

/* Whether every rank runs on rank 0's host (a lab is one host's). */
bool ct_dist_one_host(const struct ct_dist *d);

/* Every rank's engine exists: the schedules start together. 0 or -ETIMEDOUT. */
int ct_dist_barrier(struct ct_dist *d);

/* One tick: st becomes the sum over ranks (histograms merged, running
 * summed), *flags the OR of every rank's flags. 0 or -ETIMEDOUT
 * (a rank named). */
#define CT_DIST_F_ENDED	      1u /* a watch ended the step */
#define CT_DIST_F_INTERRUPTED 2u /* SIGINT/SIGTERM */
int ct_dist_tick(struct ct_dist *d, struct ct_engine_stats *st, unsigned *flags);

/* The end of a trial: every rank's CPU seconds summed into rank 0's step
 * object, and "ranks" set. 0 or -ETIMEDOUT. */
int ct_dist_step_cpu(struct ct_dist *d, json_t *result);

/* Rank 0's finished step object (sustain proof included) given to every
 * rank in place of its own, so all judge the same step. 0 or -errno. */
int ct_dist_step_result(struct ct_dist *d, json_t **result);

/* [{"rank", "host", "pid", "lost", "client_addresses"}, ...] for
 * summary.json ("lost": rank 0 gave up waiting for it; client_addresses:
 * the lab's client addresses this rank used in the last step, "" when
 * its kernel picked them). */
json_t *ct_dist_ranks(const struct ct_dist *d);

/* Whether a collective was abandoned (a rank late or dead). */
bool ct_dist_broken(const struct ct_dist *d);

/* The end: MPI_Finalize when every rank is there; MPI_Abort(code) when
 * one was lost, which ends this process. Returns code. */
int ct_dist_end(struct ct_dist *d, int code);
