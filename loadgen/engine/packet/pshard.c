/* pshard — engine = dpdk: the packet client once per lcore ([load]
 * threads, 0 = half the CPUs as for the kernel engine), each shard a whole
 * packet engine (pengine.c) with its own thread, slots, timer wheel and
 * queue of the one DPDK port, so shards share no connection state.
 *
 * The split, as the kernel engine splits its threads: shard k takes
 * connections k, k+n, ... of the one schedule (ct_schedule_init thread k
 * of n) and a ceil(cap/n) share of [load] max_inflight; the pool's
 * source ports are cut in n contiguous ranges (ct_pktio_shard_of), so a
 * segment's destination port names its shard, which is how the port
 * steers it to that shard's queue. A shard whose work is done polls on
 * until every shard is: frames of the others may still reach its queue. */
#include "loadgen/engine/packet/packet_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/engine/engine_int.h"

struct pshards {
	struct ct_engine pub;
	unsigned n;
	int left; /* shards not done: each polls on until 0 (ploop.c) */
	struct ct_engine *sh[];
};

static void shards_free(struct ct_engine *pub)
{
	struct pshards *p = (struct pshards *)pub;
	if (!p)
		return;
	/* Shard 0 owns the port: the others let go of their queues first. */
	for (unsigned k = p->n; k-- > 0;)
		if (p->sh[k])
			ct_engine_pcap_ops.free(p->sh[k]);
	free(p);
}

/* The first port of shard k: the least offset whose shard is k. */
static uint16_t cut(uint16_t lo, uint16_t hi, unsigned n, unsigned k)
{
	uint32_t span = (uint32_t)hi - lo + 1;
	return (uint16_t)(lo + ((uint64_t)k * span + n - 1) / n);
}

static struct ct_engine *shards_new(const struct ct_engine_config *cfg)
{
	unsigned n = ct_engine_threads(cfg);
	bool own = cfg->load.ports != CT_ENGINE_PORTS_KERNEL;
	uint16_t lo = own ? cfg->load.port_lo : CT_PKT_PORTS_LO;
	uint16_t hi = own ? cfg->load.port_hi : CT_PKT_PORTS_HI;
	unsigned cap = cfg->load.max_inflight ? cfg->load.max_inflight : 10000;

	if (n > (uint32_t)hi - lo + 1)
		n = (uint32_t)hi - lo + 1;
	struct pshards *p = calloc(1, sizeof(*p) + n * sizeof(p->sh[0]));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->n = n;
	for (unsigned k = 0; k < n; k++) {
		struct ct_engine_config c = *cfg;
		c.shard.index = k;
		c.shard.count = n;
		c.shard.port_lo = lo;
		c.shard.port_hi = hi;
		c.load.ports = CT_ENGINE_PORTS_RANGE;
		c.load.port_lo = cut(lo, hi, n, k);
		c.load.port_hi = (uint16_t)(cut(lo, hi, n, k + 1) - 1);
		if (k + 1 == n)
			c.load.port_hi = hi;
		c.load.max_inflight = (cap + n - 1) / n;
		if (k)
			memcpy(c.shard.gw_mac, ((struct pengine *)p->sh[0])->gw_mac, CT_ETH_ALEN);
		p->sh[k] = ct_engine_pcap_ops.new(&c);
		if (!p->sh[k]) {
			int rc = errno;
			shards_free(&p->pub);
			errno = rc;
			return NULL;
		}
		p->sh[k]->ops = &ct_engine_pcap_ops;
	}
	if (n > 1)
		ct_note("engine dpdk: %u lcores, source ports split %u-%u ... %u-%u", n, lo,
			cut(lo, hi, n, 1) - 1, cut(lo, hi, n, n - 1), hi);
	return &p->pub;
}

static int shards_start(struct ct_engine *pub)
{
	struct pshards *p = (struct pshards *)pub;
	p->left = (int)p->n;
	for (unsigned k = 0; k < p->n && p->n > 1; k++)
		((struct pengine *)p->sh[k])->group_left = &p->left;
	for (unsigned k = 0; k < p->n; k++) {
		int rc = ct_engine_pcap_ops.start(p->sh[k]);
		if (rc < 0) {
			for (unsigned j = 0; j < k; j++)
				ct_engine_pcap_ops.stop(p->sh[j], true);
			return rc;
		}
	}
	return 0;
}

static void shards_snapshot(struct ct_engine *pub, struct ct_engine_stats *out)
{
	struct pshards *p = (struct pshards *)pub;
	struct ct_engine_stats *one = malloc(sizeof(*one));
	memset(out, 0, sizeof(*out));
	for (unsigned k = 0; one && k < p->n; k++) {
		ct_engine_pcap_ops.snapshot(p->sh[k], one);
		out->scheduled += one->scheduled;
		out->attempted += one->attempted;
		out->established += one->established;
		out->completed += one->completed;
		for (int f = 0; f < CT_FAIL_N; f++)
			out->failures[f] += one->failures[f];
		out->unsent += one->unsent;
		out->inflight += one->inflight;
		out->syn_retrans += one->syn_retrans;
		out->running += one->running;
		ct_hist_merge(&out->connect, &one->connect);
		ct_hist_merge(&out->total, &one->total);
		out->frames += one->frames;
		out->busy_cycles += one->busy_cycles;
		out->io_cycles += one->io_cycles;
	}
	free(one);
}

static void shards_stop(struct ct_engine *pub, bool abort)
{
	struct pshards *p = (struct pshards *)pub;
	for (unsigned k = 0; k < p->n; k++)
		ct_engine_pcap_ops.stop(p->sh[k], abort);
}

static size_t shards_conn_size(const struct ct_engine *pub)
{
	const struct pshards *p = (const struct pshards *)pub;
	return ct_engine_pcap_ops.conn_size(p->sh[0]);
}

const struct ct_engine_ops ct_engine_dpdk_ops = {
    .name = "dpdk",
    .new = shards_new,
    .start = shards_start,
    .snapshot = shards_snapshot,
    .stop = shards_stop,
    .free = shards_free,
    .conn_size = shards_conn_size,
};
