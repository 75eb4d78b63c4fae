/* safety — where ctload may send load in topology = host.
 *
 * Traffic goes only to loopback (127/8, ::1), or, when ctload itself runs
 * inside a non-init network namespace that has no default route, to any
 * address routed there (a test's own netns). Anything else is refused: a
 * load generator must not be pointed at a real network. In topology = lab
 * the engine runs inside the lab's client netns, which has no default
 * route, so the rule holds by construction.
 *
 * The one way past the rule is the target allowlist (allow.h): a target the
 * user listed on purpose, with its ports, on the command line or in the
 * root-owned allowlist file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loadgen/run/allow.h"
#include "loadgen/scenario/scenario.h"
#include "loadgen/run/trial.h"

/* "HOST:PORT", "HOST:LO-HI", "[V6]:PORT" -> address and port range.
 * 0, or -EINVAL with `why` filled. */
int ct_safety_parse_target(const char *text, struct sockaddr_storage *ss, uint16_t *lo,
			   uint16_t *hi, char *why, size_t whylen);

/* Whether the rule above allows sending to `ss` from this netns. */
bool ct_safety_target_allowed(const struct sockaddr_storage *ss);

/* topology = host: resolve [server] target into `target` and apply the rule,
 * or find it in `allow` (may be NULL: nothing allowed beyond the rule);
 * sysctl sweep axes are refused (host mode changes nothing on the host).
 * 0, -EINVAL (bad scenario, reported) or -EPERM (refused, reported, with how
 * to allow it). */
int ct_safety_host_target(const struct ct_scenario *sc, const char *file,
			  const struct ct_allow *allow, struct ct_trial_target *target);
