/* sysctl_keys — the allowlist of networking sysctls ctload understands.
 *
 * A scenario may only write keys in this table (it cannot name an arbitrary
 * /proc path). For each key: whether it is per network namespace or global
 * (writable only in the init netns), what kind of value the kernel takes and
 * its range, a one-line meaning, and a note where the key is commonly
 * misunderstood. Separate tables map legacy names from old tuning guides to
 * the modern key and explain keys that no longer exist. Pure lookups; reused
 * by the scenario parser and by `ctload lint`.
 *
 * Names are dotted ("net.ipv4.tcp_tw_reuse"); every lookup also accepts the
 * slash form ("net/ipv4/tcp_tw_reuse", with or without /proc/sys/). Second
 * names the kernel still has (net.nf_conntrack_max) resolve to their key;
 * legacy names are ones current kernels lack. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum ct_sysctl_key_scope {
	CT_SKEY_NETNS,  /* each netns has its own value */
	CT_SKEY_GLOBAL, /* one value, writable only from the init netns */
};

enum ct_sysctl_kind {
	CT_SKIND_INT,      /* one integer in [min, max] */
	CT_SKIND_BOOL,     /* 0 or 1 */
	CT_SKIND_PAIR,     /* "LO HI", both in [min, max], LO <= HI */
	CT_SKIND_PORTLIST, /* "" or "P,P-Q,..." ports 1..65535 */
};

struct ct_sysctl_key {
	const char *name; /* modern dotted name */
	enum ct_sysctl_key_scope scope;
	enum ct_sysctl_kind kind;
	long long min, max;
	const char *unit;    /* "s", "ms", "entries", "" */
	const char *meaning; /* one line */
	const char *note;    /* common misunderstanding, or NULL */
	const char *since;   /* first kernel that has it ("6.14"), or NULL */
};

struct ct_sysctl_legacy {
	const char *old_name;
	const char *modern; /* a key in the allowlist */
};

/* A second name the kernel still has for a key (same variable). */
struct ct_sysctl_alias {
	const char *name;
	const char *key;   /* a key in the allowlist */
	const char *where; /* where the second name exists ("the init netns only") */
};

struct ct_sysctl_removed {
	const char *name;
	const char *why; /* "removed in Linux 4.12: ..." */
};

/* Dotted form of `name` into out: strips blanks and a leading /proc/sys/,
 * turns '/' into '.'. Returns 0, or -ENAMETOOLONG / -EINVAL (empty). */
int ct_sysctl_key_normalize(const char *name, char *out, size_t len);

/* The allowlist entry for a modern name (dotted or slash form), or NULL. */
const struct ct_sysctl_key *ct_sysctl_key_find(const char *name);
/* The legacy mapping for an old name, or NULL. */
const struct ct_sysctl_legacy *ct_sysctl_key_legacy(const char *name);
/* The alias entry for a second name, or NULL. */
const struct ct_sysctl_alias *ct_sysctl_key_alias(const char *name);
/* Why a key that no longer exists is gone, or NULL. */
const struct ct_sysctl_removed *ct_sysctl_key_removed(const char *name);
/* The known modern key nearest to `name` (edit distance <= 3 on the last
 * component or the whole name), for "did you mean"; NULL if none close. */
const struct ct_sysctl_key *ct_sysctl_key_nearest(const char *name);

/* Iterate the allowlist: entries 0..ct_sysctl_key_count()-1. */
size_t ct_sysctl_key_count(void);
const struct ct_sysctl_key *ct_sysctl_key_at(size_t i);

/* Resolve a name as a user wrote it: normalize, map a second name to its
 * key, map a legacy name (then *legacy is the mapping, else NULL), refuse a
 * removed or unknown key.
 * Returns the entry, or NULL with a reason in why ("net.ipv4.tcp_tw_recycle
 * was removed in Linux 4.12 ...", "unknown sysctl 'x'; did you mean 'y'?"). */
const struct ct_sysctl_key *ct_sysctl_key_resolve(const char *name,
						  const struct ct_sysctl_legacy **legacy,
						  char *why, size_t why_len);

/* Check `value` against the key's kind and range; on success write the
 * value as it will be written to the kernel (blanks normalized, e.g.
 * "1024 65535") into norm. Returns 0 or -EINVAL/-ERANGE with why filled. */
int ct_sysctl_key_check_value(const struct ct_sysctl_key *k, const char *value, char *norm,
			      size_t norm_len, char *why, size_t why_len);

/* Whether the kernel takes `value` for k when sysctl writes it: parsed as
 * the kernel's handler does (proc_dointvec: base 0, text after the number
 * ignored; the bitmap format of a port list) against the handler's own
 * range, which can be wider than the scenario's (tcp_fin_timeout takes any
 * int). port_floor is net.ipv4.ip_unprivileged_port_start, below which the
 * port range's low end is refused. Returns 0 (taken; norm holds the value as
 * the kernel keeps it), 1 (taken in part: why says what changes) or
 * -EINVAL/-ERANGE (refused: the write fails, the key keeps its value; why
 * says why). */
int ct_sysctl_key_kernel_check(const struct ct_sysctl_key *k, const char *value,
			       long long port_floor, char *norm, size_t norm_len, char *why,
			       size_t why_len);

const char *ct_sysctl_key_scope_name(enum ct_sysctl_key_scope s);
const char *ct_sysctl_kind_name(enum ct_sysctl_kind k);
