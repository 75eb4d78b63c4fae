/* report — report.html and timeseries.csv, rebuilt from a run directory.
 *
 * Reads only the files of the run directory (rundir.h): scenario.ini,
 * summary.json, timeseries.jsonl and events.log, so it works on a run that
 * was cut short or killed: a truncated last line of timeseries.jsonl is
 * skipped, a step that has samples but never reached summary.json is shown
 * as cut short, and without a readable summary.json the steps are rebuilt
 * from the samples. What was missing is said at the top of the report.
 * Why a step failed is judge's answer (ct_judge_why, run/judge.h), the one
 * summary.json's fail_cause gives, so the page and the summary agree.
 *
 * report.html is self-contained (inline CSS and SVG, no script, no network)
 * and prints well. It opens with one headline sentence, then one plain
 * sentence per sweep point or threshold, the charts over time (connections
 * per second with failures stacked by cause, the conntrack count against
 * its limit, TIME_WAIT sockets per side, connect latency on a log scale
 * with the 1 s steps of dropped SYNs marked, kernel events on the same
 * time axis), per-step and threshold charts for sweeps, a before/after
 * comparison when a sweep axis is a sysctl, the table of every step and
 * the event log.
 *
 * For tools and tests: every chart is an <svg data-chart="NAME">; bars
 * carry data-step and data-v (the summary.json number they draw), lines
 * carry data-series, and <script type="application/json" id="ct-report">
 * holds the per-step numbers the page was drawn from.
 *
 * timeseries.csv: one row per sample, one column per flattened key
 * ("failures.timeout", "ns.server.ct.count"), in the order keys first
 * appear; lists (kernel events) are joined with " | ". The samples'
 * connect-time histograms are in connect_hist.csv beside it: t, step,
 * connect_ms (the bucket's midpoint), count, one row per bucket. */
#pragma once

#include <stddef.h>

#include "loadgen/base/err.h"

/* Build DIR/report.html, DIR/timeseries.csv and DIR/connect_hist.csv. 0, or -errno with a
 * sentence in err (may be NULL): -ENOENT no such directory, -ENOTDIR not a
 * run directory (neither summary.json nor timeseries.jsonl), both with code
 * CT_EXIT_USAGE; -EIO/-EACCES cannot write, CT_EXIT_ENV. -ENOMEM leaves err
 * empty. Partial inputs are not errors (they are logged with ct_warn and
 * named in the report). */
int ct_report_build(const char *run_dir, struct ct_err *err);

/* As ct_report_build with the HTML written to `html_path` (NULL: inside the
 * run directory); the CSV files go next to it. */
int ct_report_write(const char *run_dir, const char *html_path, struct ct_err *err);

/* 2184.4 -> "2,184"; 9.46 -> "9.5" (one decimal below 10). */
void ct_report_fmt_count(double v, char *buf, size_t len);

/* What a binding limit name of the model (summary thresholds[].binding_limit)
 * means when it is reached, for people: "conntrack" -> "the conntrack table
 * filled". Unknown names get a generic phrase. */
const char *ct_report_limit_phrase(const char *binding_limit);
