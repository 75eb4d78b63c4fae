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
 * One RX and one TX queue per engine thread (lcore); the engine threads
 * are ctload's own, not EAL lcores, so the mempool's per-lcore cache is
 * off and this backend keeps its own stash of send buffers, refilled in
 * bulk. No frame is copied here: rx hands out the mbufs' data, tx takes
 * mbufs the engine wrote into. (net_af_packet itself copies between its
 * kernel ring and the mbufs.) */
#include "loadgen/engine/packet/packet_int.h"

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

#define EAL_MAX_ARGS 64
#define DEFAULT_EAL  "--no-huge -m 512 --no-pci --no-telemetry" /* keys.def: [dpdk] eal */
#define STASH	     64
#define RXD_MIN	     512
#define RXD_MAX	     4096
#define TXD	     1024

struct dpdkio {
	struct ct_pktio pub;
	uint16_t port, queue;
	bool vdev, started;
	char devname[64]; /* the vdev's name, to unplug it */
	struct rte_mempool *pool;
	struct rte_mbuf *stash[STASH];
	unsigned nstash;
};

/* The process's EAL: started once, by the first engine. */
static struct {
	pthread_mutex_t mu;
	bool done;
	int rc; /* 0, or the -errno of the failed start */
	unsigned pools;
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
static int find_port(struct dpdkio *io, const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	const char *spec = cfg->port && *cfg->port ? cfg->port : "net_af_packet0,iface={iface}";
	char args[256];
	vdev_split(spec, cfg->ifname, io->devname, sizeof(io->devname), args, sizeof(args));
	io->vdev = !strncmp(io->devname, "net_", 4);
	if (io->vdev) {
		int rc = rte_eal_hotplug_add("vdev", io->devname, args);
		if (rc < 0) {
			ct_err_set(err, CT_EXIT_ENV,
				   "[dpdk] port: cannot plug %s (%s): %s; is the PMD's package "
				   "(librte-net-*) installed and the interface up?",
				   io->devname, args, rte_strerror(-rc));
			io->vdev = false;
			return rc;
		}
	}
	if (rte_eth_dev_get_port_by_name(io->devname, &io->port) != 0) {
		ct_err_set(err, CT_EXIT_ENV,
			   "[dpdk] port: no DPDK port named %s (a PCI device must be probed: "
			   "-a ADDRESS in [dpdk] eal, bound to vfio-pci)",
			   io->devname);
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

/* One queue pair, rings and pool sized from the in-flight cap: each
 * connection in flight may have one frame arriving at once. */
static int setup_port(struct dpdkio *io, const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	struct rte_eth_conf conf = {0};
	uint32_t want = pow2_at_least(2 * (cfg->inflight ? cfg->inflight : 10000));
	uint16_t nrx = want < RXD_MIN ? RXD_MIN : want > RXD_MAX ? RXD_MAX : (uint16_t)want;
	uint16_t ntx = TXD;
	int socket = rte_eth_dev_socket_id(io->port);
	int rc = rte_eth_dev_configure(io->port, 1, 1, &conf);
	if (!rc)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(io->port, &nrx, &ntx);
	if (rc)
		goto fail;
	/* Held at once: both rings, the engine's send buffers and bursts. */
	uint32_t n = pow2_at_least(nrx + ntx + cfg->tx_bufs + 4 * cfg->burst + STASH) - 1;
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof(name), "ct_pool%u", __atomic_fetch_add(&eal.pools, 1, 0));
	io->pool = rte_pktmbuf_pool_create(name, n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   socket < 0 ? SOCKET_ID_ANY : socket);
	if (!io->pool) {
		ct_err_set(err, CT_EXIT_ENV,
			   "[dpdk] eal: no memory for %u buffers of %u bytes (%s): raise -m",
			   n, (unsigned)RTE_MBUF_DEFAULT_BUF_SIZE, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = rte_eth_rx_queue_setup(io->port, 0, nrx, socket, NULL, io->pool);
	if (!rc)
		rc = rte_eth_tx_queue_setup(io->port, 0, ntx, socket, NULL);
	if (!rc)
		rc = rte_eth_dev_start(io->port);
	if (rc)
		goto fail;
	io->started = true;
	return 0;
fail:
	ct_err_set(err, CT_EXIT_ENV, "[dpdk] port %s: setting it up failed: %s", io->devname,
		   rte_strerror(-rc));
	return rc;
}

static void dpdk_close(struct ct_pktio *pub)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	if (io->nstash)
		rte_pktmbuf_free_bulk(io->stash, io->nstash);
	if (io->started)
		rte_eth_dev_stop(io->port);
	if (io->vdev)
		rte_eal_hotplug_remove("vdev", io->devname); /* closes the port */
	if (io->pool)
		rte_mempool_free(io->pool);
	free(io);
}

static struct ct_pktio *dpdk_open(const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	struct dpdkio *io = calloc(1, sizeof(*io));
	if (!io) {
		ct_err_set(err, CT_EXIT_ENV, "packet engine: out of memory");
		return NULL;
	}
	if (dpdk_prepare(cfg, err) < 0 || find_port(io, cfg, err) < 0 ||
	    setup_port(io, cfg, err) < 0)
		goto fail;
	struct rte_ether_addr mac;
	uint16_t mtu = 1500;
	if (rte_eth_macaddr_get(io->port, &mac) == 0)
		memcpy(io->pub.mac, mac.addr_bytes, 6);
	(void)rte_eth_dev_get_mtu(io->port, &mtu);
	io->pub.mtu = mtu;
	io->pub.frame_size = RTE_MBUF_DEFAULT_DATAROOM;
	if (io->pub.frame_size < io->pub.mtu + CT_ETH_HLEN) {
		ct_err_set(err, CT_EXIT_ENV, "[dpdk] port %s: MTU %u is above %u", io->devname,
			   io->pub.mtu, (unsigned)(io->pub.frame_size - CT_ETH_HLEN));
		goto fail;
	}
	return &io->pub;
fail:
	dpdk_close(&io->pub);
	return NULL;
}

static unsigned dpdk_rx_burst(struct ct_pktio *pub, struct ct_pkt *pkts, unsigned n)
{
	struct dpdkio *io = (struct dpdkio *)pub;
	struct rte_mbuf *m[PKT_BURST];
	if (n > PKT_BURST)
		n = PKT_BURST;
	unsigned got = rte_eth_rx_burst(io->port, io->queue, m, (uint16_t)n), k = 0;
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
			if (rte_pktmbuf_alloc_bulk(io->pool, io->stash, STASH) != 0)
				break;
			io->nstash = STASH;
		}
		struct rte_mbuf *m = io->stash[--io->nstash];
		pkts[k].data = rte_pktmbuf_mtod(m, uint8_t *);
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
	unsigned k = rte_eth_tx_burst(io->port, io->queue, m, (uint16_t)n);
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
    .close = dpdk_close,
};
