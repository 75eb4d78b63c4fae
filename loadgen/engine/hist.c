/* hist — see hist.h. Layout: index = v for v < 2*SUB; above, the octave of
 * the most significant bit picks a group of SUB buckets and the next
 * SUB_BITS bits pick the bucket inside it. */
#include "loadgen/engine/hist.h"

#include <string.h>

static inline uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

void ct_hist_reset(struct ct_hist *h)
{
	memset(h, 0, sizeof(*h));
}

unsigned ct_hist_index(uint64_t v)
{
	if (v < 2 * CT_HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - CT_HIST_SUB_BITS;
	unsigned mant = (unsigned)(v >> shift); /* in [SUB, 2*SUB) */
	return 2 * CT_HIST_SUB + (shift - 1) * CT_HIST_SUB + (mant - CT_HIST_SUB);
}

uint64_t ct_hist_bucket_lo(unsigned idx)
{
	if (idx < 2 * CT_HIST_SUB)
		return idx;
	unsigned rel = idx - 2 * CT_HIST_SUB;
	unsigned shift = rel / CT_HIST_SUB + 1;
	uint64_t mant = CT_HIST_SUB + rel % CT_HIST_SUB;
	return mant << shift;
}

uint64_t ct_hist_bucket_hi(unsigned idx)
{
	if (idx < 2 * CT_HIST_SUB)
		return idx;
	unsigned shift = (idx - 2 * CT_HIST_SUB) / CT_HIST_SUB + 1;
	return ct_hist_bucket_lo(idx) + ((1ULL << shift) - 1);
}

void ct_hist_record(struct ct_hist *h, uint64_t v)
{
	unsigned i = ct_hist_index(v);
	store(&h->count[i], load(&h->count[i]) + 1);
	store(&h->sum, load(&h->sum) + v);
	if (v > load(&h->max))
		store(&h->max, v);
	/* n last: a reader that sees n also tends to see the bucket. */
	store(&h->n, load(&h->n) + 1);
}

void ct_hist_merge(struct ct_hist *dst, const struct ct_hist *src)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < CT_HIST_NBUCKETS; i++) {
		uint64_t c = load(&src->count[i]);
		dst->count[i] += c;
		n += c;
	}
	/* Count n from the buckets so that quantiles stay consistent with
	 * them even while the owner is writing. */
	dst->n += n;
	dst->sum += load(&src->sum);
	uint64_t m = load(&src->max);
	if (m > dst->max)
		dst->max = m;
}

void ct_hist_sub(struct ct_hist *dst, const struct ct_hist *a, const struct ct_hist *b)
{
	int top = -1;
	dst->n = 0;
	for (unsigned i = 0; i < CT_HIST_NBUCKETS; i++) {
		uint64_t c = a->count[i] >= b->count[i] ? a->count[i] - b->count[i] : 0;
		dst->count[i] = c;
		dst->n += c;
		if (c)
			top = (int)i;
	}
	dst->sum = a->sum >= b->sum ? a->sum - b->sum : 0;
	if (top < 0) {
		dst->max = 0;
	} else {
		uint64_t hi = ct_hist_bucket_hi((unsigned)top);
		dst->max = hi < a->max ? hi : a->max;
	}
}

uint64_t ct_hist_quantile(const struct ct_hist *h, double q)
{
	if (h->n == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* The rank of the q-th value, 1-based: the smallest value with at
	 * least ceil(q*n) values at or below it. */
	uint64_t rank = (uint64_t)((double)h->n * q + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < CT_HIST_NBUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank) {
			uint64_t lo = ct_hist_bucket_lo(i), hi = ct_hist_bucket_hi(i);
			uint64_t mid = lo + (hi - lo) / 2;
			return mid < h->max || h->max == 0 ? mid : h->max;
		}
	}
	return h->max;
}
