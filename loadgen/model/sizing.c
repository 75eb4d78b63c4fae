/* sizing — table sizes from RAM and the sysctl advice of `ctload check` (see
 * sizing.h). */
#include "loadgen/model/sizing.h"

#include <math.h>

uint64_t ct_model_kernel_default_buckets(uint64_t ram_bytes)
{
	const uint64_t GiB = 1024ULL * 1024 * 1024;
	uint64_t b = ram_bytes / 16384 / 8; /* 8 bytes: one hlist_head */

	/* nf_conntrack_core.c since 5.15: big machines get fixed sizes. */
	if (ram_bytes > 4 * GiB)
		b = 262144;
	else if (ram_bytes > GiB)
		b = 65536;
	if (b < 1024)
		b = 1024;
	return b;
}

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v && p < (1ULL << 62))
		p <<= 1;
	return p;
}

uint64_t ct_model_advise_ct_max(uint64_t ram_bytes, bool round_pow2)
{
	uint64_t m = ram_bytes / 16384 / 2;

	return round_pow2 ? pow2_up(m) : m;
}

uint64_t ct_model_advise_buckets(uint64_t ct_max, unsigned per_bucket)
{
	uint64_t b;

	if (per_bucket == 0)
		per_bucket = 4;
	b = (ct_max + per_bucket - 1) / per_bucket;
	return b ? b : 1;
}

uint64_t ct_model_table_bytes(uint64_t ct_max, uint64_t buckets, unsigned bytes_per_entry)
{
	return ct_max * bytes_per_entry + buckets * 8;
}

double ct_model_entries_per_bucket(uint64_t ct_max, uint64_t buckets)
{
	return buckets ? (double)ct_max / (double)buckets : NAN;
}
