/* lint — find sysctl.conf / sysctl.d lines that do not do what their author
 * thinks: removed keys, legacy names, keys that are commonly misunderstood,
 * values the kernel refuses, the conntrack hash size set through a sysctl,
 * max/buckets ratios, port ranges over listening ports, unknown keys.
 *
 * Files are read as sysctl(8) reads them (loadgen/model/sysctl_file.h):
 * KEY = VALUE, -KEY = VALUE, -KEY, keys with dots or slashes. Lines
 * accumulate across the files linted, in the order given to lint (the caller
 * orders them as sysctl would: ct_sysctl_file_order); a key takes the last
 * value the kernel accepts, and a refused value leaves the one before.
 * Checks that need several lines run in ct_lint_finish(). Besides sysctl
 * lines, a modprobe.d line `options nf_conntrack hashsize=N` is read as the
 * hash size. The key facts come from loadgen/scenario/sysctl_keys.h (one
 * table for the scenario parser and lint).
 *
 * Reads only the files named, /proc/sys to tell a real key from a typo (and
 * ip_unprivileged_port_start, below which the kernel refuses a port range),
 * and (when opts.live) this host's listening ports and conntrack table size. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen/model/sysctl_file.h"

enum ct_lint_code {
	CT_LINT_SYNTAX,	       /* not KEY = VALUE */
	CT_LINT_UNKNOWN,       /* no such sysctl */
	CT_LINT_REMOVED,       /* tcp_tw_recycle ... */
	CT_LINT_LEGACY,	       /* net.ipv4.netfilter.ip_conntrack_max ... */
	CT_LINT_MISUNDERSTOOD, /* tcp_fin_timeout is not TIME_WAIT ... */
	CT_LINT_BAD_VALUE,     /* the kernel refuses it, or takes only part */
	CT_LINT_HASHSIZE,      /* nf_conntrack_buckets through sysctl */
	CT_LINT_RATIO,	       /* too many entries a bucket */
	CT_LINT_PORT_OVERLAP,  /* ephemeral range over listening ports */
	CT_LINT_PORT_PARITY,   /* range ends of the same parity */
	CT_LINT_REUSE_NO_TS,   /* tcp_tw_reuse without timestamps */
	CT_LINT_DUPLICATE,     /* set twice in one file, or by two names, differently */
	CT_LINT_NOT_READ,      /* a file sysctl --system does not read (line 0) */
};

struct ct_lint_finding {
	char file[256];
	int line;      /* 0: the whole file */
	char key[128]; /* the key as sysctl prints it (dotted), "" for none */
	enum ct_lint_code code;
	char msg[768];
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
/* A file given that sysctl does not read (see ct_sysctl_file_order): one
 * not-read finding on it saying why, and what to do. */
void ct_lint_not_read(struct ct_lint *l, const char *path, const char *why, const char *fix);
/* Run the checks that need every line (ratio, ranges, reuse/timestamps). */
void ct_lint_finish(struct ct_lint *l);
/* What sysctl would write on this host from the lines linted so far: one
 * entry a key, the last value the kernel takes (see ct_sysctl_writes).
 * *out is malloc'ed. Returns 0 or -ENOMEM. */
int ct_lint_writes(struct ct_lint *l, struct ct_sysctl_assign **out, size_t *n);

size_t ct_lint_count(const struct ct_lint *l);
const struct ct_lint_finding *ct_lint_at(const struct ct_lint *l, size_t i);
/* "syntax", "unknown", "removed", "legacy", "misunderstood", "bad-value",
 * "hashsize", "ratio", "port-overlap", "port-parity", "reuse-no-timestamps",
 * "duplicate", "not-read". */
const char *ct_lint_code_name(enum ct_lint_code c);

void ct_lint_free(struct ct_lint *l);
