/* probe — the one interface of what watches a run: each probe is a sample
 * source (it adds to each sample, or reads all of it), a step hook (it adds
 * to the step result), or both.
 *
 * A trial calls its sources as struct ct_sample_source: one callback bound
 * to its context (the lab hands over its per-netns samplers and the kernel
 * log this way, ct_lab_sources()). The probes a run opens for itself are
 * kinds in one table (probe.c), each a struct ct_probe_kind of callbacks:
 * wanted, open, step_begin, sample (each tick), step_end (the step hook),
 * close. In the table's order, which is the order they see each sample:
 *   failures  the first sign of each exhaustion in a step (failwatch.h)
 *   capture   packet counts on the lab link (capture.h); adds "pkt"
 *   metrics   the Prometheus endpoint (metrics.h); reads the whole sample
 *   liveview  the terminal view (liveview.h); reads the whole sample, last
 * A kind that this ctload was built without (capture, without libpcap) is
 * still in the table: asking for it is refused there, with the message
 * that says how to get it, before anything is written. */
#pragma once

#include "loadgen/base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Something that adds fields to each sample (or, as a step hook, to the
 * step result). fill returns 0 or -errno (an error is logged once and the
 * source is skipped for the rest of the step). */
struct ct_sample_source {
	const char *name;
	int (*fill)(void *ctx, json_t *obj);
	void *ctx;
};

/* What a run asks of its probes ([report] and the command line). */
struct ct_probe_config {
	const char *run_dir; /* the run directory (capture.pcap goes there); NULL in a check */
	int client_netns_fd; /* the lab's client netns; -1: no lab (yet) */
	bool capture;	     /* [report] capture = on (a lab run) */
	const char *metrics_listen; /* "ADDR:PORT"; NULL: no endpoint */
	bool quiet;		    /* no notes */
	FILE *live;		    /* the terminal of the live view; NULL: none */
	unsigned n_steps;	    /* steps the run plans, 0 when unknown (a search) */
};

/* A step about to run. */
struct ct_probe_step {
	unsigned index;		 /* in summary.json steps[] */
	const char *label;	 /* the sweep point ("rate=500/s"); may be NULL */
	double duration_s, rate; /* its [load] duration and rate */
	double t0_s;		 /* its start, s since the run's origin */
	double interval_s;	 /* [report] sample_interval */
	int client_netns_fd;	 /* the client netns it runs in; -1: none */
	bool fresh_netns;	 /* the lab replaced the client netns for it */
};

struct ct_probe_kind {
	const char *name;
	/* 1 when cfg asks for this probe, 0 when not; -errno with err filled
	 * (message and exit code) when it asks for what this ctload cannot
	 * do. Pure: called before anything is written, and again to open. */
	int (*wanted)(const struct ct_probe_config *cfg, struct ct_err *err);
	/* Its context for the run, or NULL + errno with err filled. */
	void *(*open)(const struct ct_probe_config *cfg, struct ct_err *err);
	/* Before each step. NULL: nothing to do. */
	void (*step_begin)(void *ctx, const struct ct_probe_step *st);
	/* Each sample (a ct_sample_source's fill). NULL: not a sample source. */
	int (*sample)(void *ctx, json_t *sample);
	/* The step result (a step hook's fill). NULL: no step hook. */
	int (*step_end)(void *ctx, json_t *step);
	/* End of the run. NULL ctx is a no-op. */
	void (*close)(void *ctx);
};

/* The probes one run opened. */
struct ct_probes;

/* Whether every probe cfg asks for can be had. 0, or -errno with err
 * filled (the caller prefixes the scenario file). */
int ct_probes_check(const struct ct_probe_config *cfg, struct ct_err *err);

/* Open every probe cfg asks for, from the end of the table: the live view
 * and the endpoint (whose address a user may have mistyped) before the
 * capture, which creates a file. NULL + errno with err filled (the message
 * and exit code); nothing stays open then. */
struct ct_probes *ct_probes_open(const struct ct_probe_config *cfg, struct ct_err *err);

/* Whether the probe of that kind is open ("liveview": the live view draws,
 * so nothing else should write status lines). */
bool ct_probes_has(const struct ct_probes *p, const char *name);

/* A step begins: each open probe in turn. */
void ct_probes_step_begin(struct ct_probes *p, const struct ct_probe_step *st);

/* Append the open probes' sample sources (or step hooks) to v, which has
 * room for max more; returns how many were added. */
size_t ct_probes_sources(const struct ct_probes *p, struct ct_sample_source *v, size_t max);
size_t ct_probes_hooks(const struct ct_probes *p, struct ct_sample_source *v, size_t max);

/* Close each probe, from the end of the table too (the live view gives
 * the terminal back before the others' last words), and free. NULL is a
 * no-op. */
void ct_probes_close(struct ct_probes *p);
