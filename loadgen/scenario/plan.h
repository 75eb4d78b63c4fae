/* plan — the sweep points of a scenario: the cartesian product of its
 * [sweep] axes, in file order with the last axis varying fastest.
 *
 * Pure: each point is a copy of the scenario with the axis values applied
 * through ct_scenario_set, so a point is validated exactly like the file. */
#pragma once

#include <stddef.h>

#include "loadgen/scenario/scenario.h"

/* Number of sweep points (1 when there is no [sweep]). */
size_t ct_plan_points(const struct ct_scenario *sc);

/* The scenario of point `idx` (0-based): a new copy the caller frees.
 * `label` receives "key=value, key=value" ("" for a scenario without sweep).
 * Returns NULL with err filled when a value is refused. */
struct ct_scenario *ct_plan_point(const struct ct_scenario *sc, size_t idx, char *label,
				  size_t label_len, struct ct_err *err);

/* The value axis `axis` takes at point `idx`. */
const char *ct_plan_value(const struct ct_scenario *sc, size_t idx, size_t axis);
