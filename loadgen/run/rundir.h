/* rundir — the run directory, the contract other tools read:
 *   scenario.ini      the resolved scenario (ct_scenario_write)
 *   timeseries.jsonl  one JSON object per sample, flushed as written
 *   summary.json      {ctload_version, scenario, topology, target, started,
 *                      finished, steps[], thresholds[], expect[], exit_code},
 *                     rewritten (write + rename) after every step so that an
 *                     interrupted run still leaves valid JSON.
 * A directory that already holds a summary.json is refused rather than
 * overwritten. */
#pragma once

#include <jansson.h>

#include "loadgen/scenario/scenario.h"

struct ct_rundir;

/* Create `dir` (NULL: runs/<scenario name>-<YYYYmmdd-HHMMSS> under the
 * current directory) and write scenario.ini. NULL + errno, with the reason
 * logged. */
struct ct_rundir *ct_rundir_open(const char *dir, const struct ct_scenario *sc);
/* A run directory in memory only: the summary, no files, path NULL (an
 * MPI rank other than 0, whose figures rank 0 writes). */
struct ct_rundir *ct_rundir_memory(const struct ct_scenario *sc);
const char *ct_rundir_path(const struct ct_rundir *rd);

/* Append one sample line and flush. 0 or -errno. */
int ct_rundir_sample(struct ct_rundir *rd, const json_t *sample);

/* The summary object (owned by rd): callers add to "steps", "thresholds",
 * "expect" or set top-level keys, then call ct_rundir_flush(). */
json_t *ct_rundir_summary(struct ct_rundir *rd);
int ct_rundir_flush(struct ct_rundir *rd);

/* Flush and close. NULL is a no-op. */
void ct_rundir_close(struct ct_rundir *rd);
