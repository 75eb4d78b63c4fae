/* input — the model's inputs for a scenario, taken from one source after the
 * other, each overriding the one before: the kernel defaults of a new netns,
 * this host's live values (all of them for topology = host; only the global
 * keys for a lab, whose netns start from kernel defaults), the topology,
 * close modes and ports of the scenario, then its [sysctl.*] sections.
 *
 * Pure: reads only its arguments (the host values come in as a struct). */
#pragma once

#include <stddef.h>

#include "loadgen/model/model.h"

struct ct_scenario;
struct ct_hostinfo;

/* Fill `in` for a scenario: defaults, then the live host values (for a
 * host-topology scenario every key; for a lab only the global keys, since a
 * new netns starts from kernel defaults), then the scenario's own sysctls,
 * topology, close modes and ports. hi may be NULL. `src` (may be NULL)
 * receives one line per input naming where its value came from. */
int ct_model_input_from_scenario(struct ct_model_input *in, const struct ct_scenario *sc,
				 const struct ct_hostinfo *hi, char *src, size_t srclen);

/* How many ports of lo..hi a port list ("8080,9000-9010", as in
 * ip_local_reserved_ports) covers; -EINVAL when malformed. */
int ct_model_ports_in_list(const char *list, unsigned lo, unsigned hi);
