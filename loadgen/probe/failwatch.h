/* failwatch — when, in a step, each resource first ran out.
 *
 * Watches the samples of one step for the first sign of exhaustion: an
 * EADDRNOTAVAIL (client ports), a conntrack drop (table full) or an insert
 * failure (NAT found no port) in any netns. Times are seconds from the
 * step's start, taken as the middle of the sample interval in which the
 * count first rose. Step hook: the step result gets
 *   "first_failure": {eaddrnotavail_s, ct_drop_s, ct_insert_failed_s}
 * with only the ones seen. Always on (run/runner infers a sustained limit
 * from these times). */
#pragma once

#include "loadgen/probe/probe.h"

/* Kind "failures" of the probe table. */
extern const struct ct_probe_kind ct_probe_failwatch;
