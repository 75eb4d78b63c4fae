/* runner — a whole `ctload run`: the lab (topology = lab), then for each
 * sweep point either one step at the [load] rate or a [search] for the
 * highest rate that passes fail_when, every step judged; the model's
 * prediction and the measured (or inferred) threshold per point; [expect];
 * the run directory, report.html, and the live view, metrics endpoint and
 * packet capture when asked for.
 *
 * Long timers (TIME_WAIT 60 s, conntrack 120 s) make a sustained limit
 * slow to observe directly. A step that exhausts a resource above its limit
 * tells the capacity instead: capacity = rate x time to exhaustion, and the
 * sustained limit = capacity / timer (ct_model_infer). Such a threshold is
 * marked "inferred" in summary.json; `confirm = on` runs one trial of at
 * least the timer's length at it.
 *
 * Every path out restores the host (the lab's journal) before returning. */
#pragma once

#include <stdbool.h>

#include "loadgen/scenario/scenario.h"
#include "loadgen/run/trial.h"

struct ct_runner_opts {
	const char *out_dir;        /* NULL: runs/NAME-YYYYmmdd-HHMMSS */
	const char *metrics_listen; /* overrides [report] metrics_listen; NULL: none */
	bool quiet;                 /* no live view, no notes, no table */
	/* topology = host: the resolved, allowed target (safety.h) */
	const struct ct_trial_target *host_target;
	/* MPI ranks (loadgen/mpi/dist.h), NULL: alone. Rank 0 keeps the run
	 * directory, the report and the table; the other ranks run quiet with
	 * their summary in memory (ct_rundir_memory). */
	struct ct_dist *dist;
};

/* Returns an exit code (enum ct_exit). */
int ct_runner_run(const struct ct_scenario *sc, const struct ct_runner_opts *o);
