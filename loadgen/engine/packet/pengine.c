/* pengine — the packet engine's ops table: setup (the port opened inside
 * the client netns, the next hop's MAC by ARP, the tuple pool, the request
 * and the expect), start, snapshot, stop, free. See packet_int.h. */
#include "loadgen/engine/packet/packet_int.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "loadgen/engine/engine_int.h"

#define ARP_TRIES 15
/* 16 Mi tuples: 1 GiB of 64-byte slots. */
#define MAX_SLOTS (16u << 20)
#define ARP_GAP_NS (200 * CT_NS_PER_MSEC)

static void packet_free(struct ct_engine *pub);

static uint32_t v4(const struct sockaddr_storage *ss)
{
	return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
}

/* The backend, as [load] engine names it: what the messages say. */
static const char *ename(const struct ct_engine_config *cfg)
{
	return cfg->name ? cfg->name : "pcap";
}

/* The client pool: addresses and ports, and the slot array over them. */
static int make_pool(struct pengine *e, const struct ct_engine_config *cfg)
{
	if (!cfg->n_src) {
		ct_error("engine %s: no client addresses (the lab gives them)", ename(cfg));
		return EINVAL;
	}
	e->n_addrs = (uint32_t)cfg->n_src;
	e->addrs = calloc(e->n_addrs, sizeof(*e->addrs));
	if (!e->addrs)
		return ENOMEM;
	e->addrs_contig = true;
	for (uint32_t a = 0; a < e->n_addrs; a++) {
		if (cfg->src[a].ss_family != AF_INET) {
			ct_error("engine %s: IPv4 client addresses only", ename(cfg));
			return EINVAL;
		}
		e->addrs[a] = v4(&cfg->src[a]);
		if (e->addrs[a] != e->addrs[0] + a)
			e->addrs_contig = false;
	}
	bool own = e->load.ports != CT_ENGINE_PORTS_KERNEL;
	e->port_lo = own ? e->load.port_lo : CT_PKT_PORTS_LO;
	e->port_hi = own ? e->load.port_hi : CT_PKT_PORTS_HI;
	e->nports = (uint32_t)e->port_hi - e->port_lo + 1;
	uint64_t n = (uint64_t)e->nports * e->n_addrs;
	if (n > MAX_SLOTS) {
		ct_error("engine %s: %u ports x %u client addresses = %llu tuples would need "
			 "%llu MiB of connection slots (at most %u tuples); use fewer [lab] clients "
			 "or a narrower [load] ports range",
			 ename(cfg), e->nports, e->n_addrs, (unsigned long long)n,
			 (unsigned long long)(n * sizeof(struct pslot) >> 20), MAX_SLOTS);
		return EINVAL;
	}
	e->nslots = (uint32_t)n;
	e->slots = calloc(e->nslots, sizeof(*e->slots));
	if (!e->slots)
		return ENOMEM;
	for (uint32_t i = 0; i < e->nslots; i++)
		e->slots[i].t_next = e->slots[i].t_prev = NO_SLOT;
	for (unsigned b = 0; b < TW_BUCKETS; b++)
		e->wheel[b] = NO_SLOT;
	return 0;
}

/* [load] request compiled, [load] expect decoded (at most CT_PKT_TAIL). */
static int make_request(struct pengine *e, const struct ct_engine_load *ld)
{
	struct ct_err err = {0};
	const char *req = ld->request ? ld->request : "";
	const char *exp = ld->expect ? ld->expect : "";
	char *raw = malloc(strlen(req) + 1);
	long rlen = raw ? ct_reqtmpl_unescape(req, raw) : -ENOMEM;
	if (rlen < 0) {
		free(raw);
		ct_error("[load] request: bad escape; use \\r \\n \\t \\\\ \\\" or \\xHH");
		return (int)-rlen;
	}
	e->req = ct_reqtmpl_new(raw, (size_t)rlen, &err);
	free(raw);
	if (!e->req) {
		ct_error("[load] request: %s", err.msg[0] ? err.msg : strerror(errno));
		return EINVAL;
	}
	e->wbuf_len = ct_reqtmpl_max_len(e->req) + 1;
	if (e->wbuf_len > (size_t)e->mss) {
		ct_error("[load] request: up to %zu bytes; the pcap engine sends it in one "
			 "segment of at most %u",
			 e->wbuf_len - 1, e->mss);
		return EINVAL;
	}
	e->wbuf = malloc(e->wbuf_len);
	e->expect = exp[0] ? malloc(strlen(exp) + 1) : NULL;
	if (!e->wbuf || (exp[0] && !e->expect))
		return ENOMEM;
	if (!exp[0])
		return 0;
	long el = ct_reqtmpl_unescape(exp, e->expect);
	if (el < 0 || el > CT_PKT_TAIL) {
		ct_error(el < 0 ? "[load] expect: bad escape"
				: "[load] expect: the pcap engine matches at most %d bytes: use "
				  "the reply's last %d",
			 CT_PKT_TAIL, CT_PKT_TAIL);
		return EINVAL;
	}
	e->expect_len = (size_t)el;
	return 0;
}

/* Open the port inside the client netns (an AF_PACKET socket belongs to
 * the netns it was made in), then come back. 0 or an errno, logged. */
static int open_port(struct pengine *e, const struct ct_engine_config *cfg)
{
	const char *name = ename(cfg);
	struct ct_pktio_cfg pc = {.ifname = cfg->ifname, .burst = PKT_BURST,
				  .tx_bufs = 4 * PKT_BURST,
				  .inflight = e->load.max_inflight,
				  .eal = cfg->dpdk.eal,
				  .port = cfg->dpdk.port,
				  .file_prefix = cfg->dpdk.file_prefix,
				  .queue = cfg->shard.index,
				  .queues = cfg->shard.count,
				  .steer_lo = cfg->shard.port_lo,
				  .steer_hi = cfg->shard.port_hi};
	struct ct_err err = {0};
	int home = -1, rc = 0;

	/* What is set up once per process is set up from ctload's netns. */
	if (ct_pktio_prepare(name, &pc, &err) < 0) {
		ct_error("%s", err.msg);
		return err.code == CT_EXIT_USAGE ? EINVAL : EIO;
	}
	if (cfg->netns_fd >= 0) {
		home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home < 0 || setns(cfg->netns_fd, CLONE_NEWNET) < 0) {
			rc = errno;
			ct_error("engine %s: cannot enter the client netns: %s; is ctload root?",
				 name, strerror(rc));
			if (home >= 0)
				close(home);
			return rc;
		}
	}
	e->io = ct_pktio_open(name, &pc, &err);
	if (!e->io) {
		ct_error("%s", err.msg);
		rc = err.code == CT_EXIT_USAGE ? EINVAL : EIO;
	}
	if (home >= 0) {
		if (setns(home, CLONE_NEWNET) < 0)
			ct_warn("engine %s: cannot return to ctload's netns: %s", name,
				strerror(errno));
		close(home);
	}
	return rc;
}

/* Ask for the next hop's MAC until it answers (3 s at most). */
static int resolve_gw(struct pengine *e)
{
	static const uint8_t bcast[CT_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[CT_ETH_ALEN];
	struct ct_pkt rx[PKT_BURST];

	for (int t = 0; t < ARP_TRIES && !memcmp(e->gw_mac, zero, CT_ETH_ALEN); t++) {
		if (ct_pktio_tx_alloc(e->io, &e->tx[0], 1) == 1) {
			e->tx[0].len = (uint32_t)ct_wire_arp_build(e->tx[0].data, bcast,
								   CT_ARP_REQUEST, e->io->mac,
								   e->addrs[0], zero, e->gw);
			e->ntx = 1;
			ct_ploop_flush(e);
		}
		uint64_t end = ct_now_ns() + ARP_GAP_NS;
		while (ct_now_ns() < end && !memcmp(e->gw_mac, zero, CT_ETH_ALEN)) {
			unsigned n = ct_pktio_rx_burst(e->io, rx, PKT_BURST);
			for (unsigned k = 0; k < n; k++)
				ct_ploop_frame(e, rx[k].data, rx[k].len, ct_now_ns());
			ct_pktio_rx_free(e->io, rx, n);
			ct_ploop_flush(e);
			if (!n)
				usleep(1000);
		}
	}
	if (memcmp(e->gw_mac, zero, CT_ETH_ALEN))
		return 0;
	struct in_addr a = {.s_addr = htonl(e->gw)};
	char buf[INET_ADDRSTRLEN];
	ct_error("engine %s: no ARP answer from the next hop %s on %s after 3 s",
		 e->io->ops->name, inet_ntop(AF_INET, &a, buf, sizeof(buf)),
		 "the client interface");
	return EHOSTUNREACH;
}

static struct ct_engine *packet_new(const struct ct_engine_config *cfg)
{
	struct pengine *e = calloc(1, sizeof(*e));
	int rc = ENOMEM;

	if (!e)
		goto fail;
	e->load = cfg->load;
	e->load.request = e->load.expect = NULL;
	e->reuse_ns = cfg->load.reuse_after_ns;
	if (cfg->dst.ss_family != AF_INET || !cfg->ifname || !cfg->gateway.ss_family) {
		ct_error("engine %s: needs an IPv4 server, an interface and a next hop (a lab "
			 "gives them: use topology = lab)",
			 ename(cfg));
		rc = EINVAL;
		goto fail;
	}
	e->server = v4(&cfg->dst);
	e->gw = v4(&cfg->gateway);
	e->dport_lo = cfg->dport_lo;
	e->dport_hi = cfg->dport_hi;
	if (getrandom(&e->key, sizeof(e->key), 0) != sizeof(e->key)) {
		rc = errno;
		goto fail;
	}
	if ((rc = make_pool(e, cfg)) || (rc = open_port(e, cfg)))
		goto fail;
	e->mss = (uint16_t)(e->io->mtu - CT_IP_HLEN - CT_TCP_HLEN);
	memcpy(e->gw_mac, cfg->shard.gw_mac, CT_ETH_ALEN); /* known: no ARP */
	if ((rc = make_request(e, &cfg->load)) || (rc = resolve_gw(e)))
		goto fail;
	/* A shard takes its share of the one schedule, as a kernel thread. */
	ct_schedule_init(&e->sched, &e->load.sched, cfg->shard.index,
			 cfg->shard.count ? cfg->shard.count : 1);
	return &e->pub;
fail:
	packet_free(e ? &e->pub : NULL);
	errno = rc;
	return NULL;
}

static int packet_start(struct ct_engine *pub)
{
	struct pengine *e = (struct pengine *)pub;
	e->t0 = ct_now_ns() + 20 * CT_NS_PER_MSEC;
	PSTORE(&e->running, 1);
	int rc = pthread_create(&e->th, NULL, ct_ploop_main, e);
	if (rc) {
		PSTORE(&e->running, 0);
		ct_error("engine %s: cannot start its thread: %s", e->io->ops->name, strerror(rc));
		return -rc;
	}
	e->started = true;
	return 0;
}

static void packet_snapshot(struct ct_engine *pub, struct ct_engine_stats *out)
{
	struct pengine *e = (struct pengine *)pub;
	struct pstats *c = &e->c;
	memset(out, 0, sizeof(*out));
	out->attempted = PLOAD(&c->attempted);
	out->established = PLOAD(&c->established);
	out->completed = PLOAD(&c->completed);
	out->unsent = PLOAD(&c->unsent);
	out->inflight = PLOAD(&c->inflight);
	out->syn_retrans = PLOAD(&c->syn_retrans);
	out->busy_cycles = PLOAD(&c->busy_cycles);
	out->io_cycles = PLOAD(&c->io_cycles);
	out->frames = PLOAD(&c->frames);
	for (int f = 0; f < CT_FAIL_N; f++)
		out->failures[f] = PLOAD(&c->failures[f]);
	ct_hist_merge(&out->connect, &c->connect);
	ct_hist_merge(&out->total, &c->total);
	out->running = (unsigned)PLOAD(&e->running);
	out->scheduled = out->attempted + out->unsent;
}

static void packet_stop(struct ct_engine *pub, bool abort)
{
	struct pengine *e = (struct pengine *)pub;
	int want = abort ? 2 : 1;
	if (PLOAD(&e->stop_ns) == 0)
		PSTORE(&e->stop_ns, ct_now_ns());
	if (PLOAD(&e->stop_req) < want)
		PSTORE(&e->stop_req, want);
}

/* What the engine dropped or answered, at the end of a step. */
static void log_counters(const struct pengine *e)
{
	const struct pcounters *p = &e->pc;
	const struct ct_pktio_stats *s = &e->io->st;
	uint64_t odd = p->bad[CT_WIRE_BAD_LEN] + p->bad[CT_WIRE_BAD_CSUM] + p->bad_ack +
		       p->rst_ignored + p->tx_nobuf + s->tx_fail + p->close_timeouts;
	/* A note only when something went wrong: a clean step stays quiet. */
	ct_log(odd ? CT_LOG_NOTE : CT_LOG_DEBUG, "engine %s: frames rx %llu tx %llu (tx refused %llu, no buffer %llu); "
		 "dropped: bad length %llu, bad checksum %llu, fragments %llu, not ours %llu, "
		 "bad ACK %llu, out of order %llu, RST out of window %llu; offloaded checksums "
		 "%llu, ARP answers %llu, closes timed out %llu",
		 e->io->ops->name, (unsigned long long)s->rx, (unsigned long long)s->tx,
		 (unsigned long long)s->tx_fail, (unsigned long long)p->tx_nobuf,
		 (unsigned long long)p->bad[CT_WIRE_BAD_LEN],
		 (unsigned long long)p->bad[CT_WIRE_BAD_CSUM],
		 (unsigned long long)p->bad[CT_WIRE_FRAGMENT], (unsigned long long)p->no_conn,
		 (unsigned long long)p->bad_ack, (unsigned long long)p->out_of_order,
		 (unsigned long long)p->rst_ignored, (unsigned long long)p->partial_csum,
		 (unsigned long long)p->arp_answered, (unsigned long long)p->close_timeouts);
}

static void packet_free(struct ct_engine *pub)
{
	struct pengine *e = (struct pengine *)pub;
	if (!e)
		return;
	if (e->started) {
		PSTORE(&e->stop_req, 2);
		pthread_join(e->th, NULL);
	}
	if (e->io)
		log_counters(e);
	ct_pktio_close(e->io);
	ct_reqtmpl_free(e->req);
	free(e->expect);
	free(e->wbuf);
	free(e->slots);
	free(e->addrs);
	free(e);
}

static size_t packet_conn_size(const struct ct_engine *pub)
{
	(void)pub;
	return sizeof(struct pslot);
}

const struct ct_engine_ops ct_engine_pcap_ops = {
    .name = "pcap",
    .new = packet_new,
    .start = packet_start,
    .snapshot = packet_snapshot,
    .stop = packet_stop,
    .free = packet_free,
    .conn_size = packet_conn_size,
};
