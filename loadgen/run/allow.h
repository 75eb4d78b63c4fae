/* allow — the target allowlist: real lab targets a user opted into.
 *
 * Host mode sends to loopback or into a routeless netns only (safety.h).
 * A real device under test (a firewall, a NAT box, a lab server) is
 * reachable only when the user listed it on purpose, either with
 * `--allow-target CIDR[:PORTS]` on the command line or in a root-owned file
 * (/etc/ctload/targets, or $CTLOAD_TARGETS_FILE). The file must be owned by
 * root and not writable by group or others: anyone who can write it can
 * point every ctload on the host at any network.
 *
 * An entry is `CIDR[:PORTS]`: 198.51.100.0/24, 198.51.100.7:11211,
 * 198.51.100.0/24:80,443,9000-9100, [2001:db8::/64]:80 or 2001:db8::/64
 * (no ports = every port). A target is allowed when one entry holds its
 * address and its whole port range. File lines are entries; `#` starts a
 * comment. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loadgen/base/err.h"

#define CT_ALLOW_DEFAULT_FILE "/etc/ctload/targets"
#define CT_ALLOW_FILE_ENV     "CTLOAD_TARGETS_FILE"

struct ct_allow_entry {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network address, host bits cleared */
	int plen;	  /* prefix length */
	uint16_t lo, hi;  /* port range; 0-65535 when the entry named none */
	char from[96];	  /* where it came from: "--allow-target" or FILE:LINE */
};

struct ct_allow {
	struct ct_allow_entry *v;
	size_t n, cap;
};

/* Add the entries of one `CIDR[:PORTS]` text (one per comma-separated port
 * range). `from` names where it was written. 0, -EINVAL (why filled) or
 * -ENOMEM. */
int ct_allow_add(struct ct_allow *a, const char *text, const char *from, char *why, size_t whylen);

/* The file of the allowlist: $CTLOAD_TARGETS_FILE, else /etc/ctload/targets. */
const char *ct_allow_file_path(void);

/* Read `path` into `a`. A missing file is an empty list (0). A file not
 * owned by root, writable by group or others, or not a regular file is
 * refused (-EPERM, exit 3); a bad line is -EINVAL naming FILE:LINE (exit 2). */
int ct_allow_load_file(struct ct_allow *a, const char *path, struct ct_err *err);

/* The entry that allows ss with ports lo..hi, or NULL. */
const struct ct_allow_entry *ct_allow_match(const struct ct_allow *a,
					    const struct sockaddr_storage *ss, uint16_t lo,
					    uint16_t hi);

void ct_allow_free(struct ct_allow *a);
