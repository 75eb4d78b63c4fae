/* lint_int — what lint.c (reading the lines) and lint_checks.c (what a
 * line or several lines mean) share inside loadgen/model. */
#pragma once

#include <stdio.h>

#include "loadgen/model/lint.h"
#include "loadgen/model/sysctl_file.h"
#include "loadgen/scenario/sysctl_keys.h"

/* The last value a key took, as sysctl.d applies them. */
struct ct_lint_setting {
	bool set;
	char file[256];
	int line;
	char value[128];
	char name[128]; /* as written: net.nf_conntrack_max or net.netfilter.nf_conntrack_max */
};

/* The settings the checks over several lines need. */
enum ct_lint_setting_id {
	CT_LSET_NONE = -1,
	CT_LSET_CT_MAX,
	CT_LSET_BUCKETS,
	CT_LSET_HASHSIZE_OPT, /* modprobe.d: options nf_conntrack hashsize=N */
	CT_LSET_PORT_RANGE,
	CT_LSET_RESERVED,
	CT_LSET_TW_REUSE,
	CT_LSET_TIMESTAMPS,
	CT_LSET_N
};

struct ct_lint {
	struct ct_lint_opts opts;
	struct ct_lint_finding *v;
	size_t n, cap;
	struct ct_lint_setting set[CT_LSET_N];
	char files[256][256]; /* names seen, for output order */
	size_t nfiles;
	uint16_t *listen; /* opts.listen + the host's, sorted */
	size_t nlisten;
	struct ct_sysctl_assign *asg; /* every assignment, in the order sysctl meets them */
	size_t nasg, capasg;
	long long port_floor; /* net.ipv4.ip_unprivileged_port_start here, else 1024 */
	int oom;
};

/* A line's place, for its findings, and the key as sysctl prints it. */
struct ct_lint_at {
	const char *file;
	int line;
	const char *key;
};

#define CT_LINT_SET(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

/* A new finding (NULL when out of memory: the caller skips its text). */
struct ct_lint_finding *ct_lint_add(struct ct_lint *l, const char *file, int line, const char *key,
				    enum ct_lint_code code);

/* A value the kernel took for known key k (norm as the kernel keeps it):
 * run its own check and remember it for the checks over several lines. */
void ct_lint_key_taken(struct ct_lint *l, const struct ct_lint_at *at, const struct ct_sysctl_key *k,
		       const char *norm);

/* The checks over every line: ratio, port ranges, reuse without timestamps. */
void ct_lint_cross_checks(struct ct_lint *l);

int ct_lint_cmp_u16(const void *a, const void *b);
