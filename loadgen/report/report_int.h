/* report_int — what the modules of loadgen/report/ share: the run directory
 * as read (struct ct_rep), its steps, and the entry points each module
 * offers the others. Nothing outside loadgen/report/ includes this.
 *
 *   load        reads the run directory once into struct ct_rep
 *   steps       the per-step figures, from summary.json or the samples
 *   words       numbers, phrases and sentences for people
 *   proven      a step's sustain check (summary.json "sustain") in words
 *   plain       a sweep's settings in plain words, for the headline
 *   points      sweep points alike but for one key, grouped by outcome
 *   charts      the charts over time (and the series they draw)
 *   stepcharts  the charts per step and per sweep value
 *   thchart     the chart per threshold (log scale, labels in a column)
 *   cards       before and after: one card per value of a kernel setting
 *   sections    the page's sections below the header
 *   html        the page around them, and HTML escaping (html.h)
 *   csv         timeseries.csv and connect_hist.csv
 *   report      the entry point (report.h) */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "loadgen/base/role.h"
#include "loadgen/engine/cause.h"
#include "loadgen/run/judge.h"

#define CT_REP_MAX_NOTES 12
#define CT_REP_MAX_SWEEP 8
/* The width of every chart's viewBox, px. */
#define CT_REP_CHART_W 960.0

/* How a step ended, for the page. */
enum ct_rep_outcome {
	CT_REP_HELD = 0, /* every connection completed, or the judge passed the step */
	CT_REP_SLOW,	 /* nothing failed, but the rate was not reached */
	CT_REP_FAILED,	 /* why is the judge's: ct_judge_why() */
	CT_REP_UNSUSTAINED, /* held for its duration, not proven to hold longer
			     * (verdict "unsustained", run/sustain.h): it counts
			     * as failed, and is never told as held */
};

struct ct_rep_step {
	int idx;
	bool partial;	    /* samples but no summary entry: the run ended during it */
	const json_t *js;   /* summary step or NULL */
	char label[256];    /* settings without the rate, for sentences */
	char settings[256]; /* all settings, for the table */
	double rate_target, rate_achieved, attempted, completed, unsent, failed;
	double fail[CT_FAIL_N];
	double p50, p99, pmax;
	double ct_peak, ct_limit, ct_drop;
	double tw_client, tw_server;
	double t0, t1; /* first and last sample time, NAN if none */
	const char *verdict, *fail_reason;
	enum ct_rep_outcome outcome;
	enum ct_judge_why why; /* CT_REP_FAILED only */
	double duration_s;     /* summary's duration_s (a `prove` step may end early), NAN */
	double first_fail_s;   /* earliest time in first_failure{}, NAN */
	/* The sustain check (summary.json "sustain"; absent in runs before it):
	 * proof is "proven: conntrack entries level off at 26,812 of 65,536"
	 * for a sustained step, the projection ("the conntrack table would
	 * fill at about 65 s (12,000 of 65,536, growing 1,000/s)") for one that
	 * is not, proof_short without the numbers in parentheses; uns_phrase
	 * "held 12 s, not proven: " and proof_short. */
	bool has_sustain, sustained, sustain_off;
	double horizon_s;
	char proof[448];
	char proof_short[320];
	char uns_phrase[400];
};

/* A kernel message or a lab action, from the samples or events.log. */
struct ct_rep_event {
	double t;   /* s on the run's time axis, NAN if unknown */
	size_t seq; /* order read, to keep the sort stable */
	char src[16];
	char stamp[32];
	char *text;
};

/* Everything the report is built from, read once (ct_rep_load). */
struct ct_rep {
	const char *dir;
	char *link_base; /* prefix of links to the run's files: "" beside them, else file:///abs/ */
	json_t *summary; /* NULL if unreadable */
	json_t *samples; /* array, possibly empty */
	bool summary_missing, ts_missing, interrupted;
	bool sustain_off; /* a step ran with [load] sustain = off: verdicts for its duration only */
	char *sc_name, *sc_desc; /* from scenario.ini, NULL if unknown */
	const char *sc_topology; /* static; NULL if unknown */
	char sweep_keys[CT_REP_MAX_SWEEP][128];
	json_t *plan; /* settings of every sweep point, from scenario.ini; may be NULL */
	size_t n_sweep;
	struct ct_rep_step *steps;
	size_t n_steps;
	struct ct_rep_event *ev;
	size_t n_ev;
	char notes[CT_REP_MAX_NOTES][320];
	size_t n_notes;
	/* the time axis */
	double *t;
	size_t n;
	double x0, x1;
	bool has_ns[CT_ROLE_N], has_ct[CT_ROLE_N]; /* by position in ct_rep_roles_shown */
};

/* The roles in the order the report shows them: legends, series, colours. */
extern const enum ct_role ct_rep_roles_shown[CT_ROLE_N];

/* NAN as 0. */
static inline double ct_rep_nz(double v)
{
	return isnan(v) ? 0 : v;
}

/* ---- load ---- */

/* Read scenario.ini, summary.json, timeseries.jsonl and events.log of dir
 * into r (zeroed by the caller) and lay out the time axis. What is missing
 * or unreadable becomes a note; 0, or -ENOMEM. ct_rep_free() in any case. */
int ct_rep_load(struct ct_rep *r, const char *dir);
void ct_rep_free(struct ct_rep *r);

/* A note for the top of the report (also logged with ct_warn). */
void ct_rep_note(struct ct_rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "DIR/NAME" (free()); NULL on ENOMEM. */
char *ct_rep_path(const char *dir, const char *name);

/* ---- steps ---- */

/* r->steps from summary.json, and from the samples for a step that never
 * reached it. 0, or -ENOMEM. */
int ct_rep_steps_build(struct ct_rep *r);

/* "tcp_tw_reuse=0, rate=300" from a settings object (skip_rate: without
 * load.rate). */
void ct_rep_settings_text(const json_t *set, bool skip_rate, char *buf, size_t len);
/* A sweep point's (a threshold's) settings as text: without load.rate
 * (told with the rate already), unless load.rate is all that tells the
 * points apart. "" when it has no settings. */
void ct_rep_point_label(const json_t *set, char *buf, size_t len);

/* Whether the step failed: a failure, or held but not proven sustained
 * (a step that fell short of its rate without a failure did not). */
bool ct_rep_step_failed(const struct ct_rep_step *s);

/* Whether the step has key = val (key NULL: any) and every key of ctx
 * (an object of sweep key -> value string; NULL: none) as there. */
bool ct_rep_step_matches(const struct ct_rep_step *s, const char *key, const char *val,
			 const json_t *ctx);

/* The failing step of the lowest rate with these settings (load.rate
 * aside), or NULL. */
const struct ct_rep_step *ct_rep_first_fail_with(struct ct_rep *r, const json_t *settings);

/* The step that held at the highest rate with these settings (load.rate
 * aside), or NULL. */
const struct ct_rep_step *ct_rep_best_held_with(struct ct_rep *r, const json_t *settings);

/* Distinct values of a sweep key over the steps, in step order. */
size_t ct_rep_axis_values(struct ct_rep *r, const char *key, const char **vals, size_t max);

/* What the steps with key = val and the settings of ctx (NULL: any) did. */
struct ct_rep_tally {
	size_t n;			/* how many steps */
	double clean;			/* the highest rate that held, 0: none */
	const struct ct_rep_step *best; /* the step that held it, or NULL */
	const struct ct_rep_step *ff;	/* the lowest-rate step that failed or was not
					 * proven sustained, or NULL */
};
void ct_rep_value_outcome(struct ct_rep *r, const char *key, const char *val, const json_t *ctx,
			  struct ct_rep_tally *o);

/* The first sweep axis that is a kernel setting with two values or more:
 * the before/after of the run. NULL if none. */
const char *ct_rep_tuning_axis(struct ct_rep *r);

/* ---- words ---- */

/* A latency in ms for people: "0.09 ms", "95 ms", "1.02 s". */
void ct_rep_fmt_ms(double ms, char *buf, size_t len);

/* ct_report_fmt_count into buf, returned; CT_REP_FC(v) with a buffer of
 * its own, for a printf argument. */
const char *ct_rep_fmt_count_tmp(double v, char *buf, size_t len);
#define CT_REP_FC(v) ct_rep_fmt_count_tmp((v), (char[48]){0}, 48)

/* How a step ended, as a phrase: "every connection completed", "the
 * conntrack table filled". */
const char *ct_rep_outcome_phrase(const struct ct_rep_step *s);

/* s starting with a capital letter. */
void ct_rep_cap(const char *s, char *buf, size_t len);

/* One sentence about a step. */
void ct_rep_step_sentence(const struct ct_rep_step *s, char *buf, size_t len);

/* Whether a threshold is a lower bound where nothing failed: a plain step
 * that held or was proven sustained, or a search whose every trial passed. */
bool ct_rep_threshold_held(const json_t *th);

/* "With tcp_tw_reuse=0, the client ran out of ports at 470/s — 6% below
 * the model's 500/s" (first_cap: starting with a capital letter; plain:
 * the settings in words, for the headline). */
void ct_rep_threshold_sentence(struct ct_rep *r, const json_t *th, bool first_cap, bool plain,
			       char *buf, size_t len);

/* The headline: one sentence for people who read only this. True when it
 * tells of a failure. */
bool ct_rep_headline(struct ct_rep *r, char *buf, size_t len);

/* ---- plain ---- */

/* A sweep key as a noun for people, "the FIN timeout" (for "whatever the
 * FIN timeout"). */
void ct_rep_key_words(const char *key, char *buf, size_t len);
/* key = val in plain words, no sysctl name: "a firewall connection table
 * of 8,192 entries", "the server closing with a reset". */
void ct_rep_setting_words(const char *key, const char *val, char *buf, size_t len);
/* Every setting of `set` so, joined by ", " (load.rate left out when
 * skip_rate). */
void ct_rep_settings_words(const json_t *set, bool skip_rate, char *buf, size_t len);
/* ct_rep_point_label() in plain words. */
void ct_rep_point_words(const json_t *set, char *buf, size_t len);

/* ---- proven ---- */

/* The step's sustain fields from its summary entry js: has_sustain,
 * sustained, sustain_off, horizon_s, proof, proof_short and uns_phrase. */
void ct_rep_proven_read(struct ct_rep_step *s, const json_t *js);

/* What a limit of the model is, as a noun: "conntrack" -> "the conntrack
 * table", "client_ports" -> "the client's ports". */
const char *ct_rep_limit_noun(const char *binding_limit);

/* ", held, sustained (proven: ...)" or " for its 12 s only ([load]
 * sustain = off)" or "": what a step that held adds to its sentence. */
void ct_rep_proven_held_tail(const struct ct_rep_step *s, char *buf, size_t len);

/* ---- points ---- */

/* The other sweep keys than `key` and load.rate: what must be alike for
 * two values of `key` to compare. Returns how many (at most max). */
size_t ct_rep_other_keys(struct ct_rep *r, const char *key, const char **keys, size_t max);

/* The distinct settings of `keys` over the steps, in step order: an array
 * of objects key -> value (json_decref); NULL on ENOMEM. With no keys, one
 * empty object. */
json_t *ct_rep_contexts(struct ct_rep *r, const char *const *keys, size_t nk);

/* Settings as "k=v, k=v" with short keys; "" for none. */
void ct_rep_ctx_text(const json_t *ctx, char *buf, size_t len);

/* The outcome of key = val with ctx, short, for a cell: "held 1,000/s,
 * sustained", "held 12 s at 1,000/s, not proven: ...", "the conntrack
 * table filled at 1,000/s". Returns the page class: "ok", "uns" or "bad". */
const char *ct_rep_outcome_short(struct ct_rep *r, const char *key, const char *val,
				 const json_t *ctx, char *buf, size_t len);

/* The headline of a sweep of two keys or more (load.rate aside): the
 * points grouped by what happened, each group's settings factored ("with
 * nf_conntrack_max=65536, tcp_tw_reuse=1 (either ip_local_port_range),
 * 1,000 conn/s held, sustained; ..."). False when the sweep has fewer
 * keys (then buf is untouched); *bad tells of a failure. */
bool ct_rep_points_headline(struct ct_rep *r, char *buf, size_t len, bool *bad);

/* ---- charts ---- */

/* The number at o[a][b][c] of every sample (b, c may be NULL), NAN where
 * there is none; NULL on ENOMEM. */
double *ct_rep_series(struct ct_rep *r, const char *a, const char *b, const char *c);

/* Failures per second of one cause (a failures.KEY of the samples); NULL
 * on ENOMEM. */
double *ct_rep_fail_rate(struct ct_rep *r, const char *key);

/* A chart's legend: a colour and a label each; a NULL label is skipped. */
void ct_rep_legend(FILE *f, const char *const *labels, const char *const *colors, size_t n);

/* The charts over time, each a <section class="chart">. */
void ct_rep_chart_rates(struct ct_rep *r, FILE *f);
void ct_rep_chart_conntrack(struct ct_rep *r, FILE *f);
void ct_rep_chart_tw(struct ct_rep *r, FILE *f);
void ct_rep_chart_latency(struct ct_rep *r, FILE *f);
/* What a bystander sees ([lab] bystander): its connect times and failures;
 * nothing when the run had none. */
void ct_rep_chart_bystander(struct ct_rep *r, FILE *f);

/* ---- stepcharts ---- */

/* Bars per step: offered, completed, failed. */
void ct_rep_chart_steps(struct ct_rep *r, FILE *f);
/* Bars per threshold (summary thresholds[]): measured against the model. */
void ct_rep_chart_thresholds(struct ct_rep *r, FILE *f, const json_t *ths);
/* What the before/after cards' small charts draw, for every sample:
 * completed per second, completed plus failed per second, and the y scale
 * they share so that the cards compare at a glance. */
struct ct_rep_mini {
	double *yc, *yf; /* free() both */
	double ymax;
};
/* 0, or -ENOMEM (then a series may be NULL: no small charts). */
int ct_rep_mini_series(struct ct_rep *r, struct ct_rep_mini *mini);
/* The steps with key = val and the settings of ctx (NULL: any) back to
 * back. */
void ct_rep_chart_mini(struct ct_rep *r, FILE *f, const char *key, const char *val,
		       const json_t *ctx, const struct ct_rep_mini *mini);

/* ---- cards ---- */

/* Before and after, for every sweep key that is a kernel setting: a card
 * per value, each comparing steps whose other settings are alike. */
void ct_rep_before_after(struct ct_rep *r, FILE *f);

/* ---- sections, html, csv ---- */

/* Everything below the page's header: the story, the charts, the table of
 * steps, the events and the links to the run's files. */
void ct_rep_sections(struct ct_rep *r, FILE *f);

/* report.html. 0, or -EIO when f failed. */
int ct_rep_write_html(struct ct_rep *r, FILE *f);

/* timeseries.csv. 0, -ENOMEM, or -EIO when f failed. */
int ct_rep_write_csv(struct ct_rep *r, FILE *f);
/* connect_hist.csv: t,step,connect_ms,count, one row per bucket of each
 * sample's connect_hist. 0, or -EIO when f failed. */
int ct_rep_write_hist_csv(struct ct_rep *r, FILE *f);
