/* lint — find sysctl.conf / sysctl.d lines that do not do what their author
 * thinks: removed keys, legacy names, keys that are commonly misunderstood,
 * the conntrack hash size set through a sysctl, max/buckets ratios, port
 * ranges over listening ports, unknown keys and bad values.
 *
 * The key facts come from loadgen/scenario/sysctl_keys.h (one table for the scenario
 * parser and lint). Lines accumulate across the files given, as sysctl.d
 * merges them (the last assignment wins); checks that need several lines
 * run in ct_lint_finish(). Besides `key = value` lines, a modprobe.d line
 * `options nf_conntrack hashsize=N` is read as the hash size.
 *
 * Reads only the files named, /proc/sys to tell a real key from a typo, and
 * (when opts.live) this host's listening ports and conntrack table size. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ct_lint_code {
	CT_LINT_SYNTAX,	       /* not KEY = VALUE */
	CT_LINT_UNKNOWN,       /* no such sysctl */
	CT_LINT_REMOVED,       /* tcp_tw_recycle ... */
	CT_LINT_LEGACY,	       /* net.ipv4.netfilter.ip_conntrack_max ... */
	CT_LINT_MISUNDERSTOOD, /* tcp_fin_timeout is not TIME_WAIT ... */
	CT_LINT_BAD_VALUE,     /* out of range, malformed */
	CT_LINT_HASHSIZE,      /* nf_conntrack_buckets through sysctl */
	CT_LINT_RATIO,	       /* too many entries a bucket */
	CT_LINT_PORT_OVERLAP,  /* ephemeral range over listening ports */
	CT_LINT_PORT_PARITY,   /* range ends of the same parity */
	CT_LINT_REUSE_NO_TS,   /* tcp_tw_reuse without timestamps */
	CT_LINT_DUPLICATE,     /* set twice in one file, differently */
};

struct ct_lint_finding {
	char file[256];
	int line;
	char key[128]; /* the key as written (normalized to dots) */
	enum ct_lint_code code;
	char msg[512];
	char fix[256];
	size_t seq, order; /* internal: output order */
};

struct ct_lint_opts {
	const char *proc_root; /* "/proc" when NULL; /proc/sys/... tells real keys */
	bool live;	       /* also use this host's listening ports and table size */
	/* listening ports to check ranges against besides the well-known ones
	 * (tests; with live, the host's are added) */
	const uint16_t *listen;
	size_t nlisten;
};

struct ct_lint;

struct ct_lint *ct_lint_new(const struct ct_lint_opts *opts);
/* Lint a file. Returns 0, or -errno when it cannot be read. */
int ct_lint_file(struct ct_lint *l, const char *path);
/* Lint text as if read from a file named `name`. */
int ct_lint_text(struct ct_lint *l, const char *name, const char *text);
/* Run the checks that need every line (ratio, ranges, reuse/timestamps). */
void ct_lint_finish(struct ct_lint *l);

size_t ct_lint_count(const struct ct_lint *l);
const struct ct_lint_finding *ct_lint_at(const struct ct_lint *l, size_t i);
/* "syntax", "unknown", "removed", "legacy", "misunderstood", "bad-value",
 * "hashsize", "ratio", "port-overlap", "port-parity", "reuse-no-timestamps",
 * "duplicate". */
const char *ct_lint_code_name(enum ct_lint_code c);

void ct_lint_free(struct ct_lint *l);
