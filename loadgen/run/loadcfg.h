/* loadcfg — the one place a scenario becomes an engine's configuration.
 *
 * An engine reads no scenario: [load] (and the scenario's seed) is copied
 * into struct ct_engine_load here, its enums mapped to the engine's, [load]
 * close = auto resolved (ct_scenario_client_close), and [load] engine named
 * as the backend to choose. */
#pragma once

#include "loadgen/engine/engine.h"
#include "loadgen/scenario/scenario.h"

/* Fill cfg->name and cfg->load from sc (whose strings cfg->load then
 * borrows); the target (dst, ports, src, netns) and cfg->threads are left
 * as they are. */
void ct_loadcfg_fill(struct ct_engine_config *cfg, const struct ct_scenario *sc);
