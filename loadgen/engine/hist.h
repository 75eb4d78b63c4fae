/* hist — a log-linear latency histogram with bounded relative error.
 *
 * Values are unsigned 64-bit (nanoseconds by convention). Values below 128
 * are counted exactly; above, each power of two is split into 64 equal
 * buckets, so a bucket is at most 1/64 of its lower bound wide and a
 * reported quantile (the bucket's midpoint, clamped to the observed max) is
 * within 0.8% of a recorded value: fine enough to show the whole-second
 * steps of a retransmitted SYN (1 s, 2 s, 3 s) as separate peaks.
 *
 * The struct is public so that an engine thread can embed one without an
 * allocation. One thread writes (ct_hist_record, relaxed atomic stores) and
 * any thread may read concurrently (ct_hist_merge, relaxed atomic loads): a
 * reader sees each counter either before or after an update, never torn. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define CT_HIST_SUB_BITS 6
#define CT_HIST_SUB	 (1u << CT_HIST_SUB_BITS) /* buckets per power of two */
/* Exact region [0, 2*SUB) plus 64-bucket octaves up to 2^64. */
#define CT_HIST_NBUCKETS (2 * CT_HIST_SUB + (64 - CT_HIST_SUB_BITS - 1) * CT_HIST_SUB)

struct ct_hist {
	uint64_t n;   /* values recorded */
	uint64_t max; /* largest value recorded (exact) */
	uint64_t sum; /* for a mean; wraps after 584 years of nanoseconds */
	uint64_t count[CT_HIST_NBUCKETS];
};

/* Zero it. */
void ct_hist_reset(struct ct_hist *h);
/* Record one value. Single writer per histogram. */
void ct_hist_record(struct ct_hist *h, uint64_t v);
/* dst += src (src may be written concurrently by its owner). */
void ct_hist_merge(struct ct_hist *dst, const struct ct_hist *src);
/* dst = a - b, for the values recorded between two snapshots (b taken
 * before a). dst->max is the upper bound of the highest non-empty bucket
 * of the difference, clamped to a->max. */
void ct_hist_sub(struct ct_hist *dst, const struct ct_hist *a, const struct ct_hist *b);
/* The value at quantile q (0..1), 0 when empty. */
uint64_t ct_hist_quantile(const struct ct_hist *h, double q);
/* Bucket arithmetic, exposed for tests and for dumping a distribution. */
unsigned ct_hist_index(uint64_t v);
uint64_t ct_hist_bucket_lo(unsigned idx);
uint64_t ct_hist_bucket_hi(unsigned idx); /* inclusive */
