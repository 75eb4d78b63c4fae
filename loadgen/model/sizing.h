/* sizing — how big the conntrack table should be for this much RAM, what a
 * table costs, how full its hash chains get, and from these the sysctl
 * advice `ctload check` prints for a host (lint uses the same sizes). Pure:
 * the host's values come in as a struct. The figures and their sources are
 * in docs/ARCHITECTURE.md (kernel facts). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kernel default nf_conntrack_buckets (= default max): RAM/16KiB/8 bytes a
 * bucket; 65536 above 1 GiB, 262144 above 4 GiB (64-bit); at least 1024. */
uint64_t ct_model_kernel_default_buckets(uint64_t ram_bytes);
/* The tuning guides' rule CONNTRACK_MAX = RAM_SIZE / 16384 / (x / 32), x the
 * pointer bits: RAM / 16384 / 2 on 64 bits. round_pow2 rounds up to a power
 * of two (sysctl values are usually given so). */
uint64_t ct_model_advise_ct_max(uint64_t ram_bytes, bool round_pow2);
/* Buckets for a max at `per_bucket` entries a bucket (guides use 4; lint warns
 * past 8). */
uint64_t ct_model_advise_buckets(uint64_t ct_max, unsigned per_bucket);
/* Memory of a table: entries x bytes_per_entry + buckets x 8. docs/ARCHITECTURE.md (kernel facts)
 * measures ~256 B an entry; reports read from slabinfo give up to 400. */
#define CT_MODEL_ENTRY_BYTES_LOW  256
#define CT_MODEL_ENTRY_BYTES_HIGH 400
uint64_t ct_model_table_bytes(uint64_t ct_max, uint64_t buckets, unsigned bytes_per_entry);
/* Average entries per bucket at a full table. */
double ct_model_entries_per_bucket(uint64_t ct_max, uint64_t buckets);

/* ---- advice for a host (`ctload check`) -------------------------------- */

struct ct_hostinfo;
struct ct_model_input;

/* One sysctl line to change, why, and the kernel memory it costs. */
struct ct_model_advice {
	char line[160]; /* what to write (sysctl.conf syntax or a command) */
	char why[400];
	uint64_t mem_lo, mem_hi; /* extra kernel memory, bytes; 0 if none */
};

/* At most this many pieces of advice come out of ct_model_advise(). */
#define CT_MODEL_ADVICE_MAX 8

/* The advice for a host from its live values (hi) and the model's inputs
 * for it (in: the conntrack timeouts and port range in use), in order:
 * nf_conntrack_max sized from RAM, buckets at 4 entries each, the conntrack
 * TIME_WAIT timeout, a wider port range (reserving the `listen` ports it
 * would cover), tcp_tw_reuse, timestamps. Writes at most max entries into
 * adv; returns how many. */
size_t ct_model_advise(const struct ct_hostinfo *hi, const struct ct_model_input *in,
		       const uint16_t *listen, size_t nlisten, struct ct_model_advice *adv,
		       size_t max);
