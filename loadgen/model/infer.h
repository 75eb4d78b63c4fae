/* infer — from a measurement back to the model: the capacity a trial's time
 * to failure implies, how far a measured threshold is from the prediction,
 * and the model's part of summary.json's thresholds[]. Pure. */
#pragma once

#include <jansson.h>

#include "loadgen/model/model.h"

/* (measured - predicted) / predicted x 100; NAN when predicted <= 0. */
double ct_model_error_pct(double measured_cps, double predicted_cps);

/* Time-to-failure inference: a trial offered `rate` (above the limit) and
 * the resource filled (first failure) after t_fail_s. Before anything
 * expires (t_fail < timer) the resource holds rate x t_fail units, so
 * capacity = rate x t_fail and the sustained limit = capacity / timer.
 * Returns 0, -EINVAL for non-positive inputs, -EDOM when t_fail >= timer
 * (units were already expiring: the fill time says nothing about capacity). */
int ct_model_infer(double rate, double t_fail_s, double timer_s, double *capacity,
		   double *limit_cps);

/* The model's part of one summary.json thresholds[] entry: {measured_cps,
 * predicted_cps, binding_limit, error_pct}; the last three are null when no
 * limit binds (measured_cps null when measured <= 0). NULL on allocation
 * failure. */
json_t *ct_model_threshold_json(double measured_cps, const struct ct_model_result *r);
