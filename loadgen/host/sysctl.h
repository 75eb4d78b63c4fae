/* sysctl — read and write sysctls in a netns, journaled in the lab state.
 *
 * Keys are dotted ("net.ipv4.tcp_tw_reuse"), values as the kernel prints
 * them with runs of blanks folded to one space ("32768 60999"). Writing
 * happens in a thread inside the netns (see netns.h): /proc/sys/net follows
 * the netns of the opener. The host scope (nsfd -1) is ctload's own netns,
 * the init netns, where the global keys (nf_conntrack_max, _buckets) live.
 *
 * A value the kernel refuses is an error whose message names the key, the
 * value, the netns and the kernel's answer. */
#pragma once

#include <stddef.h>

#include "loadgen/base/err.h"

struct ct_labstate;

/* Read `key` (or a path under /proc/sys when it contains '/') in netns
 * `nsfd` (-1: here). 0 or -errno (-ENOENT: no such key in this kernel). */
int ct_sysctl_read(int nsfd, const char *key, char *buf, size_t len);
/* Same with an explicit file path (tests use a fake /proc/sys). */
int ct_sysctl_read_path(int nsfd, const char *path, char *buf, size_t len);

/* Write `value`; on failure `err` (may be NULL; code CT_EXIT_ENV) says what
 * the kernel answered ("the kernel refused it: Invalid argument (...)"). */
int ct_sysctl_write(int nsfd, const char *key, const char *value, struct ct_err *err);
int ct_sysctl_write_path(int nsfd, const char *path, const char *value, struct ct_err *err);

/* Record the current value in `st` (fsync'd), then write `value`, then read
 * it back (a note is logged when the kernel stored something else, e.g. a
 * clamped value). On failure `err` (may be NULL; code CT_EXIT_ENV) reads
 * "KEY = VALUE (netns NS): the kernel refused it: ...". `scope` is
 * "client", "server", "router" or "host"; `netns` its name (NULL for host).
 * `st` may be NULL (no journal). */
int ct_sysctl_apply(struct ct_labstate *st, const char *scope, int nsfd, const char *netns,
		    const char *key, const char *value, struct ct_err *err);

/* Fold blanks (tabs, repeated spaces, trailing newline) to single spaces. */
void ct_sysctl_normalize(char *value);
