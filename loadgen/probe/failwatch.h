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

/* What the watch times. */
enum ct_first_failure {
	CT_FIRST_PORTS = 0, /* a connect() found no free port (EADDRNOTAVAIL) */
	CT_FIRST_CT_DROP,   /* a conntrack table was full: packets dropped */
	CT_FIRST_CT_INSERT, /* conntrack could not insert an entry (NAT found no port) */
	CT_FIRST_N
};

/* Its key in "first_failure": "eaddrnotavail_s", "ct_drop_s",
 * "ct_insert_failed_s"; NULL when out of range. */
const char *ct_failwatch_key(enum ct_first_failure f);

/* Kind "failures" of the probe table. */
extern const struct ct_probe_kind ct_probe_failwatch;
