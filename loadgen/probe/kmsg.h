/* kmsg — kernel log lines about conntrack or TIME_WAIT, as timed events.
 *
 * /dev/kmsg gives one record per read() ("PRI,SEQ,TS_USEC,FLAGS;text");
 * ct_kmsg_open() seeks to the end so only lines logged during the run are
 * seen. The kernel log is not per netns: a line about another netns may
 * show up ("table full in netns N" names it since 6.17). Read non-blocking
 * from the sampling tick. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_kmsg;

/* One kernel line that matched. `ts_us` is the kernel's timestamp (us since
 * boot, CLOCK_MONOTONIC-like); `text` excludes the record header. */
typedef void (*ct_kmsg_cb)(void *ctx, uint64_t ts_us, const char *text);

/* NULL + errno (EACCES without root, ENOENT without /dev/kmsg). */
struct ct_kmsg *ct_kmsg_open(void);
void ct_kmsg_free(struct ct_kmsg *k);
/* Read every pending record and call cb for the ones that match. Returns
 * the number of matches, or -errno. */
int ct_kmsg_poll(struct ct_kmsg *k, ct_kmsg_cb cb, void *ctx);

/* Pure: split a /dev/kmsg record. 0 or -EINVAL. `*text` points into rec
 * and runs to the first newline (continuation lines are dropped). */
int ct_kmsg_parse(const char *rec, size_t len, uint64_t *ts_us, char *text, size_t textlen);
/* Pure: is this line about conntrack or TIME_WAIT? */
bool ct_kmsg_match(const char *text);
