/* sizing — table sizes from RAM and the sysctl advice of `ctload check` (see
 * sizing.h). */
#include "loadgen/model/sizing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"
#include "loadgen/host/hostinfo.h"
#include "loadgen/model/model.h"

/* Proposed ephemeral range when the current one is narrow: even/odd ends so
 * both parities are the same size, above the usual service ports. */
#define ADVISE_PORT_LO 16384
#define ADVISE_PORT_HI 65535
#define WIDE_RANGE     40000

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

/* ---- advice -------------------------------------------------------------- */

struct advice_list {
	struct ct_model_advice *v;
	size_t n, max;
};

static struct ct_model_advice *adv_new(struct advice_list *al)
{
	if (al->n >= al->max)
		return NULL;
	memset(&al->v[al->n], 0, sizeof(al->v[0]));
	return &al->v[al->n++];
}

/* The listening ports within lo..hi as "P,P,...", false when none. */
static bool listening_in(const uint16_t *listen, size_t nlisten, unsigned lo, unsigned hi,
			 char *list, size_t len)
{
	size_t used = 0;
	bool any = false;

	list[0] = '\0';
	for (size_t i = 0; i < nlisten; i++)
		if (listen[i] >= lo && listen[i] <= hi) {
			int n =
			    snprintf(list + used, len - used, "%s%u", any ? "," : "", listen[i]);

			if (n < 0 || used + (size_t)n >= len)
				break;
			used += (size_t)n;
			any = true;
		}
	return any;
}

/* nf_conntrack_max from RAM, buckets for it, the TIME_WAIT timeout. */
static void advise_conntrack(const struct ct_hostinfo *hi, const struct ct_model_input *in,
			     struct advice_list *al)
{
	uint64_t want = ct_model_advise_ct_max(hi->mem_total, true);
	uint64_t buckets = hi->ct_buckets ? hi->ct_buckets : 1;
	struct ct_model_advice *a;
	char sz1[32], sz2[32], sz3[32];

	if (want > hi->ct_max && (a = adv_new(al))) {
		snprintf(a->line, sizeof(a->line), "net.netfilter.nf_conntrack_max = %llu",
			 (unsigned long long)want);
		a->mem_lo = (want - hi->ct_max) * CT_MODEL_ENTRY_BYTES_LOW;
		a->mem_hi = (want - hi->ct_max) * CT_MODEL_ENTRY_BYTES_HIGH;
		snprintf(a->why, sizeof(a->why),
			 "RAM %s / 16384 / 2 rounded up to a power of two: the tuning "
			 "guides' rule CONNTRACK_MAX = RAM / 16384 / (pointer bits / 32); "
			 "raises the conntrack limit from %.0f/s to %.0f/s at the %g s "
			 "time_wait timeout. Memory is used only by entries that exist: "
			 "%s-%s more when full (256-400 bytes an entry)",
			 ct_fmt_size(hi->mem_total, sz3, sizeof(sz3)),
			 (double)hi->ct_max / in->ct_timeout_s[CT_MST_TIME_WAIT],
			 (double)want / in->ct_timeout_s[CT_MST_TIME_WAIT],
			 in->ct_timeout_s[CT_MST_TIME_WAIT],
			 ct_fmt_size(a->mem_lo, sz1, sizeof(sz1)),
			 ct_fmt_size(a->mem_hi, sz2, sizeof(sz2)));
	}
	if (want < hi->ct_max)
		want = hi->ct_max;
	if (ct_model_entries_per_bucket(want, buckets) > 8 && (a = adv_new(al))) {
		uint64_t b = ct_model_advise_buckets(want, 4);

		snprintf(a->line, sizeof(a->line), "net.netfilter.nf_conntrack_buckets = %llu",
			 (unsigned long long)b);
		a->mem_lo = a->mem_hi = b > buckets ? (b - buckets) * 8 : 0;
		snprintf(
		    a->why, sizeof(a->why),
		    "%.0f entries a bucket at a full table make every lookup walk a long "
		    "chain (current kernels default to 1); max/4 keeps it at 4. Writable only in "
		    "the init netns; or at boot: 'options nf_conntrack hashsize=%llu' in "
		    "/etc/modprobe.d/ (8 bytes a bucket: %s)",
		    ct_model_entries_per_bucket(want, buckets), (unsigned long long)b,
		    ct_fmt_size(b * 8, sz1, sizeof(sz1)));
	}
	if (in->ct_timeout_s[CT_MST_TIME_WAIT] > CT_MODEL_TIMEWAIT_S && (a = adv_new(al))) {
		snprintf(a->line, sizeof(a->line),
			 "net.netfilter.nf_conntrack_tcp_timeout_time_wait = 60");
		snprintf(a->why, sizeof(a->why),
			 "a finished connection holds its entry %g s, twice the socket's 60 s "
			 "TIME_WAIT; 60 s halves the entries and doubles the conntrack "
			 "limit. Per netns; optional",
			 in->ct_timeout_s[CT_MST_TIME_WAIT]);
	}
}

/* A wider ephemeral range, and the listening ports it must leave alone. */
static void advise_ports(const struct ct_hostinfo *hi, const uint16_t *listen, size_t nlisten,
			 struct advice_list *al)
{
	struct ct_model_advice *a;
	char busy[256];
	bool clash;

	if (!hi->have_port_range || hi->port_hi - hi->port_lo + 1 >= WIDE_RANGE ||
	    !(a = adv_new(al)))
		return;
	clash = listening_in(listen, nlisten, ADVISE_PORT_LO, ADVISE_PORT_HI, busy, sizeof(busy));
	snprintf(a->line, sizeof(a->line), "net.ipv4.ip_local_port_range = %d %d", ADVISE_PORT_LO,
		 ADVISE_PORT_HI);
	snprintf(a->why, sizeof(a->why),
		 "%u ports per destination instead of %u (without reuse %.0f/s instead of "
		 "%.0f/s); even/odd ends keep both parities equal.%s%s%s",
		 ADVISE_PORT_HI - ADVISE_PORT_LO + 1, hi->port_hi - hi->port_lo + 1,
		 (ADVISE_PORT_HI - ADVISE_PORT_LO + 1) / CT_MODEL_TIMEWAIT_S,
		 (hi->port_hi - hi->port_lo + 1) / CT_MODEL_TIMEWAIT_S,
		 clash ? " This host listens on " : "", clash ? busy : "",
		 clash ? " inside it: add them to net.ipv4.ip_local_reserved_ports" : "");
	if (clash && (a = adv_new(al))) {
		snprintf(a->line, sizeof(a->line), "net.ipv4.ip_local_reserved_ports = %s", busy);
		snprintf(a->why, sizeof(a->why),
			 "keeps connect() from taking ports this host listens on");
	}
}

/* tcp_tw_reuse on, and the timestamps it needs. */
static void advise_reuse(const struct ct_hostinfo *hi, const struct ct_model_input *in,
			 struct advice_list *al)
{
	struct ct_model_advice *a;

	if (hi->have_tw_reuse && hi->tw_reuse != 1 && (a = adv_new(al))) {
		snprintf(a->line, sizeof(a->line), "net.ipv4.tcp_tw_reuse = 1");
		snprintf(a->why, sizeof(a->why),
			 "tcp_tw_reuse=%d reuses TIME_WAIT ports %s; 1 lets outgoing "
			 "connect() reuse a 4-tuple after %u ms: %.0f/s per destination "
			 "instead of %.0f/s. Needs TCP timestamps on both ends; affects "
			 "outgoing connections only (clients, proxies)",
			 hi->tw_reuse, hi->tw_reuse == 2 ? "on loopback only" : "never",
			 hi->reuse_delay_ms,
			 (double)(in->port_hi - in->port_lo + 1) / (hi->reuse_delay_ms / 1000.0),
			 (double)(in->port_hi - in->port_lo + 1) / CT_MODEL_TIMEWAIT_S);
	}
	if (hi->have_timestamps && hi->timestamps == 0 && (a = adv_new(al))) {
		snprintf(a->line, sizeof(a->line), "net.ipv4.tcp_timestamps = 1");
		snprintf(a->why, sizeof(a->why),
			 "tcp_tw_reuse works only when both ends use TCP timestamps");
	}
}

size_t ct_model_advise(const struct ct_hostinfo *hi, const struct ct_model_input *in,
		       const uint16_t *listen, size_t nlisten, struct ct_model_advice *adv,
		       size_t max)
{
	struct advice_list al = {adv, 0, max};

	if (hi->conntrack && hi->have_mem_total)
		advise_conntrack(hi, in, &al);
	advise_ports(hi, listen, nlisten, &al);
	advise_reuse(hi, in, &al);
	return al.n;
}
