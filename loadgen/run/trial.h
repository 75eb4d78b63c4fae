/* trial — run one step: one scenario copy, one engine run, sampled.
 *
 * ct_trial_run() starts the engine, and every [report] sample_interval
 * writes one object to timeseries.jsonl:
 *   t            s since the run's origin        step      step index
 *   rate_target  the profile's rate at t (conn/s)
 *   scheduled attempted established completed unsent    cumulative in the step
 *   failures{eaddrnotavail,timeout,refused,reset,protocol,emfile,other} cumulative
 *   inflight     connections open now
 *   rate         completions/s over the interval; attempt_rate likewise
 *   connect_ms{p50,p90,p99,max}   scheduled start -> handshake, over the interval
 *   total_ms{p50,p90,p99,max}     scheduled start -> reply and close
 *   connect_call_us{p50,p99,max}  time inside connect() (the port search)
 *   cpu{user,sys}  ctload's CPU seconds over the interval (getrusage)
 *   syn_retrans    cumulative SYN retransmissions (TCP_INFO)
 * plus whatever each sample source adds (the lab's per-netns counters).
 * When the engine is done it returns the step object for summary.json:
 *   step settings rate_target rate_achieved duration_s wall_s threads
 *   scheduled attempted established completed unsent inflight_peak
 *   failures{...} errors (failed+unsent over scheduled, a fraction)
 *   connect_ms{p50,p90,p99,max,mean} total_ms{...} connect_call_us{p50,p99,max}
 *   connect_hist [[ms, count], ...] (the connect-time histogram, non-empty buckets)
 *   cpu{user,sys} cpu_per_conn_us syn_retrans verdict fail_reason
 * (verdict and fail_reason are null, for a judge to fill) plus what each
 * step hook adds. rate_achieved = completed / duration. Every loop is
 * bounded: the step lasts at most duration + connect_timeout +
 * reply_timeout (+ 5 s of slack before in-flight connections are aborted).
 * A step a watch ends early counts its rates over the time it ran
 * ("ended_at_s"). Under MPI (opts.dist) the figures are the sum over
 * ranks, "threads" counts them all, and "ranks" says how many ran it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "loadgen/probe/probe.h" /* struct ct_sample_source */
#include "loadgen/run/rundir.h"
#include "loadgen/scenario/scenario.h"

/* Where the load goes. */
struct ct_trial_target {
	struct sockaddr_storage dst;	    /* port ignored */
	uint16_t port_lo, port_hi;	    /* server ports, used in turn */
	const struct sockaddr_storage *src; /* client addresses, may be NULL */
	size_t n_src;
	int netns_fd; /* -1: current netns (see engine.h) */
	const char *ifname;		 /* packet engines: the client interface */
	struct sockaddr_storage gateway; /* packet engines: the next hop to dst */
	const char *dpdk_prefix;	 /* engine = dpdk: the lab's EAL file prefix */
	/* [lab] client_hosts > 1: each host's netns and its share of src
	 * (engine.h hosts); n 0: all in netns_fd. */
	struct {
		unsigned n;
		const int *fd;
		const size_t *first, *count;
	} hosts;
};

/* Looks at each sample once the sources have filled it; returning 1 ends
 * the step there (no new connection starts; those in flight finish), so a
 * step can stop once it is proven sustained, or once it has failed. */
struct ct_trial_watch {
	int (*fn)(void *ctx, const json_t *sample, double t_step_s);
	void *ctx;
};

struct ct_dist; /* loadgen/mpi/dist.h */

struct ct_trial_opts {
	const struct ct_scenario *sc; /* this step's scenario (sweep point applied) */
	unsigned step, n_steps;	      /* index in summary steps[], and how many (for status) */
	const json_t *settings;	      /* the sweep point, copied into the result; NULL = {} */
	const struct ct_trial_target *target;
	struct ct_rundir *rd; /* NULL: no timeseries */
	uint64_t origin_ns;   /* monotonic time of the run's t = 0 */
	const struct ct_sample_source *sources;
	size_t n_sources;
	const struct ct_sample_source *step_hooks;
	size_t n_step_hooks;
	bool live; /* one-line status on stderr each second */
	const struct ct_trial_watch *watch; /* NULL: none */
	/* MPI ranks (dist.h): this engine runs its share of the schedule, every
	 * tick's counters are the sum over ranks, the result is rank 0's. NULL:
	 * alone. */
	struct ct_dist *dist;
};

/* Returns 0 with *result (a new reference) or -errno when the engine could
 * not run (the reason logged). An interrupted step (SIGINT) still returns
 * its result, with "interrupted": true. */
int ct_trial_run(const struct ct_trial_opts *o, json_t **result);
