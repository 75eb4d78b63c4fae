/* table — the summary table `ctload run` prints at its end: one row per
 * step (settings, target and achieved rate, counts, connect latency, CPU per
 * connection, verdict, failures and cause), then one line per threshold
 * (measured, model, binding limit, error, where a search started), then the
 * run directory. Read from summary.json as written, so the table shows the
 * file's truth. */
#pragma once

#include <jansson.h>

/* Print it to stdout for the run in `dir` (named in the last line). */
void ct_run_table_print(const json_t *summary, const char *dir);
