/* pktio_dpdk — the packet-I/O backend over DPDK (see pktio.h); the one
 * file of ctload that includes rte_*.h.
 *
 * The EAL is started once per process ([dpdk] eal, plus --file-prefix
 * from the lab so its runtime directory /var/run/dpdk/<prefix> is in the
 * lab's journal and removed with the lab, even after a crash), from
 * ctload's own netns: the EAL's threads would otherwise keep the lab's
 * client netns, and its veth, alive after `ip netns del`. It cannot be
 * started twice in a process, so later engines reuse it.
 *
 * The port ([dpdk] port) is opened per engine: a vdev ("net_af_packet0,
 * iface={iface}") is hot-plugged inside the client netns, where its
 * AF_PACKET socket must live, and unplugged on close; any other name is a
 * device the EAL probed at start (a PCI address with -a in [dpdk] eal),
 * configured and started here, stopped on close.
 *
 * One RX and one TX queue per engine shard (lcore, pshard.c), each with
 * its own mempool; queue 0's open sets the port up with every queue, the
 * others attach, and the port goes when the last lets go. The engine
 * threads are ctload's own, not EAL lcores: each registers itself with the
 * EAL while it runs (rte_thread_register, thread_enter/leave), which gives
 * it an lcore id and so the mempool's per-lcore cache (MBUF_CACHE buffers)
 * for its own allocations and frees and the PMD's; without one (the EAL's
 * lcore ids all taken) it works on, uncached. Each handle also keeps a
 * stash of send buffers, refilled in bulk. No frame is copied here: rx
 * hands out the mbufs' data, tx takes mbufs the engine wrote into.
 * (net_af_packet itself copies between its kernel ring and the mbufs.)
 *
 * Steering: a shard must see the segments of its own source ports. A NIC
 * could do that in hardware (rte_flow on the TCP destination port); the
 * ports tried here cannot (net_af_packet: the kernel's fanout hash picks
 * the queue), so with more than one queue each receive burst sorts its
 * frames by ct_pktio_shard_of() and hands the others' to their owners
 * through one multi-producer, single-consumer ring a queue: the only
 * thing shards share, and only frames, never connection state. ARP
 * replies go to every queue (each shard learns the next hop); other ARP
 * and non-TCP frames to queue 0. */
#include "loadgen/engine/packet/packet_int.h"

#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#define EAL_MAX_ARGS 64
#define DEFAULT_EAL  "--no-huge -m 512 --no-pci --no-telemetry" /* keys.def: [dpdk] eal */
#define STASH	     64
#define RXD_MIN	     512
#define RXD_MAX	     4096
#define TXD	     1024

/* The per-lcore cache of each pool: allocations and frees in bulk without
 * touching the pool's shared ring; up to 1.5x this may be parked in each
 * thread's cache (counted in the pool's size). */
#define MBUF_CACHE 128

#define MAX_QUEUES 64
#define RING_SIZE  4096

/* A port, shared by its queues' handles. */
struct dport {
	char devname[64]; /* the vdev's name, to unplug it */
	uint16_t id;
	bool vdev, started;
	unsigned nq, refs;
	uint16_t steer_lo, steer_hi;
	struct rte_mempool *pool[MAX_QUEUES];
	struct rte_ring *ring[MAX_QUEUES]; /* frames steered to queue q; nq > 1 */
	bool opened[MAX_QUEUES];	   /* queue q has its handle */
};

struct dpdkio {
	struct ct_pktio pub;
	struct dport *p;
	uint16_t queue;
	struct rte_mbuf *stash[STASH];
	unsigned nstash;
	uint64_t steer_drop; /* frames for another queue whose ring was full */
	bool registered;     /* thread_enter made this thread an EAL lcore */
};

/* The process's EAL: started once, by the first engine. */
static struct {
	pthread_mutex_t mu;
	bool done;
	int rc; /* 0, or the -errno of the failed start */
	unsigned pools;
	struct dport *port; /* the one port the engine's shards share */
} eal = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Split [dpdk] eal on blanks into argv (argv[0] = "ctload"), add the file
 * prefix. The scenario already refused what cannot work (see keys.def). */
static int eal_argv(const char *eal_args, const char *prefix, char *buf, size_t blen,
		    char **argv, struct ct_err *err)
{
	int argc = 0;
	snprintf(buf, blen, "%s", eal_args ? eal_args : "");
	static char name[] = "ctload";
	argv[argc++] = name;
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (argc >= EAL_MAX_ARGS - 2) {
			ct_err_set(err, CT_EXIT_USAGE, "[dpdk] eal: more than %d arguments",
				   EAL_MAX_ARGS - 3);
			return -EINVAL;
		}
		argv[argc++] = t;
	}
	static char fp[128];
	snprintf(fp, sizeof(fp), "--file-prefix=%s", prefix);
	argv[argc++] = fp;
	argv[argc] = NULL;
	return argc;
}

static int eal_start(const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	static char buf[4096];
	char *argv[EAL_MAX_ARGS];
	int argc = eal_argv(cfg->eal ? cfg->eal : DEFAULT_EAL, cfg->file_prefix ? cfg->file_prefix : "ctload", buf,
			    sizeof(buf), argv, err);
	if (argc < 0)
		return argc;
	/* rte_eal_init pins the calling thread to its main lcore, and the
	 * threads it makes later would inherit that: give it back its CPUs. */
	cpu_set_t cpus;
	bool have_cpus = pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus) == 0;
	rte_log_set_global_level(RTE_LOG_WARNING);
	int rc = rte_eal_init(argc, argv);
	int why = rte_errno;
	if (have_cpus)
		pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (rc >= 0)
		return 0;
	/* EAL says what it disliked on stderr just above. */
	bool bad = why == EINVAL || why == ENOEXEC;
	ct_err_set(err, bad ? CT_EXIT_USAGE : CT_EXIT_ENV,
		   "[dpdk] eal: the DPDK EAL refused '%s': %s (%s)", cfg->eal ? cfg->eal : "",
		   rte_strerror(why),
		   bad ? "see EAL's message above; ctload adds --file-prefix itself"
		       : "is ctload root, and is there memory for -m?");
	return bad ? -EINVAL : -(why ? why : EIO);
}

static int dpdk_prepare(const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	pthread_mutex_lock(&eal.mu);
	if (!eal.done) {
		eal.rc = eal_start(cfg, err);
		eal.done = true;
	} else if (eal.rc) {
		ct_err_set(err, eal.rc == -EINVAL ? CT_EXIT_USAGE : CT_EXIT_ENV,
			   "[dpdk] eal: the DPDK EAL did not start earlier in this run");
	}
	int rc = eal.rc;
	pthread_mutex_unlock(&eal.mu);
	return rc;
}

/* "net_af_packet0,iface={iface}": the name, and the arguments with
 * {iface} replaced by the engine's interface. */
static void vdev_split(const char *spec, const char *ifname, char *name, size_t nlen,
		       char *args, size_t alen)
{
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	snprintf(name, nlen, "%.*s", (int)n, spec);
	args[0] = 0;
	for (const char *p = comma ? comma + 1 : ""; *p && strlen(args) + 1 < alen;) {
		if (!strncmp(p, "{iface}", 7)) {
			strncat(args, ifname ? ifname : "", alen - strlen(args) - 1);
			p += 7;
		} else {
			size_t l = strlen(args);
			args[l] = *p++;
			args[l + 1] = 0;
		}
	}
}

/* Find or plug the port. 0 or -errno with err filled. */
static int find_port(struct dport *p, const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	const char *spec = cfg->port && *cfg->port ? cfg->port : "net_af_packet0,iface={iface}";
	char args[256];
	vdev_split(spec, cfg->ifname, p->devname, sizeof(p->devname), args, sizeof(args));
	p->vdev = !strncmp(p->devname, "net_", 4);
	/* af_packet makes one socket a queue pair: as many as the shards. */
	if (p->vdev && p->nq > 1 && !strncmp(p->devname, "net_af_packet", 13) &&
	    !strstr(args, "qpairs="))
		snprintf(args + strlen(args), sizeof(args) - strlen(args), ",qpairs=%u", p->nq);
	if (p->vdev) {
		int rc = rte_eal_hotplug_add("vdev", p->devname, args);
		if (rc < 0) {
			ct_err_set(err, CT_EXIT_ENV,
				   "[dpdk] port: cannot plug %s (%s): %s; is the PMD's package "
				   "(librte-net-*) installed and the interface up?",
				   p->devname, args, rte_strerror(-rc));
			p->vdev = false;
			return rc;
		}
	}
	if (rte_eth_dev_get_port_by_name(p->devname, &p->id) != 0) {
		ct_err_set(err, CT_EXIT_ENV,
			   "[dpdk] port: no DPDK port named %s (a PCI device must be probed: "
			   "-a ADDRESS in [dpdk] eal, bound to vfio-pci)",
			   p->devname);
		return -ENODEV;
	}
	return 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

/* Queue q's pool and, with several queues, its steering ring. */
static int make_queue_mem(struct dport *p, unsigned q, uint32_t n, int socket, struct ct_err *err)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned id = __atomic_fetch_add(&eal.pools, 1, 0);
	snprintf(name, sizeof(name), "ct_pool%u", id);
	p->pool[q] = rte_pktmbuf_pool_create(name, n, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     socket);
	if (p->pool[q] && p->nq > 1) {
		snprintf(name, sizeof(name), "ct_steer%u", id);
		p->ring[q] = rte_ring_create(name, RING_SIZE, socket, RING_F_SC_DEQ);
	}
	if (p->pool[q] && (p->nq == 1 || p->ring[q]))
		return 0;
	ct_err_set(err, CT_EXIT_ENV, "[dpdk] eal: no memory for %u buffers of %u bytes (%s): raise -m",
		   n, (unsigned)RTE_MBUF_DEFAULT_BUF_SIZE, rte_strerror(rte_errno));
	return -ENOMEM;
}

/* Every queue pair, rings and pools sized from the in-flight cap: each
 * connection in flight may have one frame arriving at once. */
static int setup_port(struct dport *p, const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	struct rte_eth_conf conf = {0};
	uint32_t want = pow2_at_least(2 * (cfg->inflight ? cfg->inflight : 10000));
	uint16_t nrx = want < RXD_MIN ? RXD_MIN : want > RXD_MAX ? RXD_MAX : (uint16_t)want;
	uint16_t ntx = TXD;
	int socket = rte_eth_dev_socket_id(p->id);
	socket = socket < 0 ? SOCKET_ID_ANY : socket;
	int rc = rte_eth_dev_configure(p->id, (uint16_t)p->nq, (uint16_t)p->nq, &conf);
	if (!rc)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &nrx, &ntx);
	/* Held at once: both rings, the engine's send buffers and bursts,
	 * frames waiting in the steering ring, and what the lcore caches hold
	 * (every shard's thread may free another's frames, and the main
	 * lcore the ones it read before the shards started). */
	uint32_t n = pow2_at_least(nrx + ntx + cfg->tx_bufs + 4 * cfg->burst + STASH +
				   (p->nq > 1 ? RING_SIZE : 0) + (p->nq + 1) * MBUF_CACHE * 3 / 2) - 1;
	for (unsigned q = 0; !rc && q < p->nq; q++) {
		if (make_queue_mem(p, q, n, socket, err) < 0)
			return -ENOMEM;
		rc = rte_eth_rx_queue_setup(p->id, (uint16_t)q, nrx, (unsigned)socket, NULL,
					    p->pool[q]);
		if (!rc)
			rc = rte_eth_tx_queue_setup(p->id, (uint16_t)q, ntx, (unsigned)socket, NULL);
	}
	if (!rc)
		rc = rte_eth_dev_start(p->id);
	if (rc) {
		ct_err_set(err, CT_EXIT_ENV, "[dpdk] port %s: setting up %u queue(s) failed: %s",
			   p->devname, p->nq, rte_strerror(-rc));
		return rc;
	}
	p->started = true;
	return 0;
}

/* What the port itself dropped (its ring full, no buffer), a note when
 * anything was. */
static void port_stats(const struct dport *p)
{
	struct rte_eth_stats st;
	if (rte_eth_stats_get(p->id, &st) != 0)
		return;
	ct_log(st.imissed || st.rx_nombuf || st.ierrors || st.oerrors ? CT_LOG_NOTE : CT_LOG_DEBUG,
	       "engine dpdk: port %s: rx %llu tx %llu, missed %llu, no buffer %llu, errors in "
	       "%llu out %llu",
	       p->devname, (unsigned long long)st.ipackets, (unsigned long long)st.opackets,
	       (unsigned long long)st.imissed, (unsigned long long)st.rx_nombuf,
	       (unsigned long long)st.ierrors, (unsigned long long)st.oerrors);
}

static void port_put(struct dport *p)
{
	if (!p || --p->refs)
		return;
	if (p->started) {
		port_stats(p);
		rte_eth_dev_stop(p->id);
	}
	if (p->vdev)
		rte_eal_hotplug_remove("vdev", p->devname); /* closes the port */
	for (unsigned q = 0; q < p->nq; q++) {
		void *m;
		while (p->ring[q] && rte_ring_dequeue(p->ring[q], &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(p->ring[q]);
	}
	for (unsigned q = 0; q < p->nq; q++)
		rte_mempool_free(p->pool[q]);
	if (eal.port == p)
		eal.port = NULL;
	free(p);
}

/* Queue 0 makes the port; the others attach to it. */
static struct dport *port_get(const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	unsigned nq = cfg->queues ? cfg->queues : 1;
	if (nq > MAX_QUEUES || cfg->queue >= nq) {
		ct_err_set(err, CT_EXIT_USAGE, "engine dpdk: %u lcores; at most %d", nq, MAX_QUEUES);
		return NULL;
	}
	if (cfg->queue) {
		if (!eal.port || eal.port->nq != nq) {
			ct_err_set(err, CT_EXIT_ENV, "engine dpdk: queue %u opened before queue 0",
				   cfg->queue);
			return NULL;
		}
		eal.port->refs++;
		eal.port->opened[cfg->queue] = true;
		return eal.port;
	}
	struct dport *p = calloc(1, sizeof(*p));
	if (!p) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: out of memory");
		return NULL;
	}
	p->nq = nq;
	p->refs = 1;
	p->steer_lo = cfg->steer_lo;
	p->steer_hi = cfg->steer_hi;
	if (find_port(p, cfg, err) < 0 || setup_port(p, cfg, err) < 0) {
		port_put(p);
		return NULL;
	}
	p->opened[0] = true;
	eal.port = p;
	return p;
}

static void dpdk_close(struct ct_pktio *pub)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	if (io->nstash)
		rte_pktmbuf_free_bulk(io->stash, io->nstash);
	if (io->steer_drop)
		ct_note("engine dpdk: queue %u dropped %llu frames for a full steering ring",
			io->queue, (unsigned long long)io->steer_drop);
	port_put(io->p);
	free(io);
}

static struct ct_pktio *dpdk_open(const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	struct dpdkio *io = calloc(1, sizeof(*io));
	if (!io) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: out of memory");
		return NULL;
	}
	io->queue = (uint16_t)cfg->queue;
	if (dpdk_prepare(cfg, err) < 0 || !(io->p = port_get(cfg, err)))
		goto fail;
	struct rte_ether_addr mac;
	uint16_t mtu = 1500;
	if (rte_eth_macaddr_get(io->p->id, &mac) == 0)
		memcpy(io->pub.mac, mac.addr_bytes, 6);
	(void)rte_eth_dev_get_mtu(io->p->id, &mtu);
	io->pub.mtu = mtu;
	io->pub.frame_size = RTE_MBUF_DEFAULT_DATAROOM;
	if (io->pub.frame_size < io->pub.mtu + CT_ETH_HLEN) {
		ct_err_set(err, CT_EXIT_ENV, "[dpdk] port %s: MTU %u is above %u", io->p->devname,
			   io->pub.mtu, (unsigned)(io->pub.frame_size - CT_ETH_HLEN));
		goto fail;
	}
	return &io->pub;
fail:
	dpdk_close(&io->pub);
	return NULL;
}

/* The queue a received frame belongs to; -1: every queue (ARP replies). */
static int steer_of(const struct dport *p, const uint8_t *f, uint32_t len)
{
	if (len < 14 + 20)
		return 0;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0806)
		return len >= 14 + 8 && f[14 + 7] == 2 ? -1 : 0; /* ARP op 2: reply */
	uint32_t ihl = (uint32_t)(f[14] & 0xf) * 4;
	if (type != 0x0800 || f[14 + 9] != 6 || len < 14 + ihl + 4)
		return 0;
	uint16_t dport = (uint16_t)(f[14 + ihl + 2] << 8 | f[14 + ihl + 3]);
	return (int)ct_pktio_shard_of(dport, p->steer_lo, p->steer_hi, p->nq);
}

/* Sort a burst: this queue's frames stay in m[0..return), the others go
 * to their owners' rings (ARP replies to every ring, as well as here). */
static unsigned steer(struct dpdkio *io, struct rte_mbuf **m, unsigned got)
{
	struct dport *p = io->p;
	unsigned keep = 0;
	for (unsigned i = 0; i < got; i++) {
		int q = steer_of(p, rte_pktmbuf_mtod(m[i], uint8_t *), rte_pktmbuf_data_len(m[i]));
		if (q == io->queue) {
			m[keep++] = m[i];
			continue;
		}
		if (q < 0) {
			for (unsigned o = 0; o < p->nq; o++) {
				if (o == io->queue)
					continue;
				rte_mbuf_refcnt_update(m[i], 1);
				if (rte_ring_enqueue(p->ring[o], m[i]) != 0) {
					rte_mbuf_refcnt_update(m[i], -1);
					io->steer_drop++;
				}
			}
			m[keep++] = m[i];
			continue;
		}
		if (rte_ring_enqueue(p->ring[q], m[i]) != 0) {
			rte_pktmbuf_free(m[i]);
			io->steer_drop++;
		}
	}
	return keep;
}

static unsigned dpdk_rx_burst(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	struct rte_mbuf *m[PKT_BURST];
	unsigned got = 0, k = 0;
	if (n > PKT_BURST)
		n = PKT_BURST;
	/* Frames other queues steered here first, then the queue's own. */
	if (io->p->nq > 1)
		got = rte_ring_dequeue_burst(io->p->ring[io->queue], (void **)m, n, NULL);
	if (got < n) {
		unsigned more = rte_eth_rx_burst(io->p->id, io->queue, m + got, (uint16_t)(n - got));
		got += io->p->nq > 1 ? steer(io, m + got, more) : more;
	}
	/* Until a queue has its handle nobody reads it: queue 0 does, so the
	 * first shard's ARP for the next hop is answered whatever queue the
	 * kernel's hash picks (the other shards are handed its MAC). */
	for (unsigned q = 1; io->queue == 0 && q < io->p->nq && got < n; q++) {
		if (io->p->opened[q])
			continue;
		unsigned more = rte_eth_rx_burst(io->p->id, (uint16_t)q, m + got, (uint16_t)(n - got));
		got += steer(io, m + got, more);
	}
	for (unsigned i = 0; i < got; i++) {
		if (m[i]->nb_segs != 1) { /* larger than one buffer: not ours */
			pub->st.rx_trunc++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
		pkts[k].data = rte_pktmbuf_mtod(m[i], uint8_t *);
		pkts[k].len = rte_pktmbuf_data_len(m[i]);
		pkts[k++].priv = m[i];
	}
	pub->st.rx += k;
	return k;
}

static void free_pkts(struct ct_pkt *pkts, unsigned n)
{
	struct rte_mbuf *m[PKT_BURST];
	while (n) {
		unsigned k = n < PKT_BURST ? n : PKT_BURST;
		for (unsigned i = 0; i < k; i++)
			m[i] = pkts[i].priv;
		rte_pktmbuf_free_bulk(m, k);
		pkts += k;
		n -= k;
	}
}

static void dpdk_rx_free(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	(void)pub;
	free_pkts(pkts, n);
}

static unsigned dpdk_tx_alloc(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	unsigned k = 0;
	for (; k < n; k++) {
		if (!io->nstash) {
			if (rte_pktmbuf_alloc_bulk(io->p->pool[io->queue], io->stash, STASH) != 0)
				break;
			io->nstash = STASH;
		}
		struct rte_mbuf *m = io->stash[--io->nstash];
		/* Where a fresh mbuf's data starts, from the pool alone: reading
		 * it from the mbuf was a cache miss a frame (rte_mbuf_buf_addr). */
		pkts[k].data = (uint8_t *)rte_mbuf_buf_addr(m, io->p->pool[io->queue]) +
			       RTE_PKTMBUF_HEADROOM;
		pkts[k].len = 0;
		pkts[k].priv = m;
	}
	return k;
}

static unsigned dpdk_tx_burst(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	struct rte_mbuf *m[PKT_BURST];
	if (n > PKT_BURST)
		n = PKT_BURST;
	for (unsigned i = 0; i < n; i++) {
		m[i] = pkts[i].priv;
		m[i]->data_len = (uint16_t)pkts[i].len;
		m[i]->pkt_len = pkts[i].len;
	}
	unsigned k = rte_eth_tx_burst(io->p->id, io->queue, m, (uint16_t)n);
	pub->st.tx += k;
	if (k < n)
		pub->st.tx_fail++;
	return k; /* pkts[k..n) stay the caller's */
}

static void dpdk_tx_free(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	(void)pub;
	free_pkts(pkts, n);
}

/* The engine's thread becomes an lcore while it runs (see the top). */
static void dpdk_thread_enter(struct ct_pktio *pub)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	if (rte_lcore_id() != LCORE_ID_ANY)
		return; /* already one (the EAL's main thread) */
	io->registered = rte_thread_register() == 0;
	if (!io->registered)
		ct_note("engine dpdk: queue %u runs without a mempool cache: %s", io->queue,
			rte_strerror(rte_errno));
}

static void dpdk_thread_leave(struct ct_pktio *pub)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	if (io->registered)
		rte_thread_unregister(); /* its cache goes back to the pool */
	io->registered = false;
}

static int dpdk_fd(struct ct_pktio *pub)
{
	(void)pub;
	return -1; /* busy-poll, as DPDK does */
}

const struct ct_pktio_ops ct_pktio_dpdk_ops = {
    .name = "dpdk",
    .prepare = dpdk_prepare,
    .open = dpdk_open,
    .rx_burst = dpdk_rx_burst,
    .rx_free = dpdk_rx_free,
    .tx_alloc = dpdk_tx_alloc,
    .tx_burst = dpdk_tx_burst,
    .tx_free = dpdk_tx_free,
    .fd = dpdk_fd,
    .thread_enter = dpdk_thread_enter,
    .thread_leave = dpdk_thread_leave,
    .close = dpdk_close,
};
