/* ct_engine_bench — the packet engine's own cycles per connection, with no
 * I/O: the engine's real loop (ct_ploop_main: schedule, receive bursts,
 * parse, state machine, timer wheel, histograms, send bursts) runs against
 * the stateless responder (responder.c) through a port in memory. The
 * port's tx_burst hands each frame to the responder and queues its answers
 * for rx_burst; the loop already counts the cycles spent inside rx_burst
 * and tx_burst (io_cycles) apart from its busy cycles, so
 *     own cycles/conn = (busy cycles - io cycles) / completed
 * is the engine's work alone: what a DPDK core would spend besides the
 * PMD's rx/tx (the responder's and the port's copying are left out).
 *
 * Usage: ct_engine_bench [CONNS [INFLIGHT [RATE [CLIENTS [EVICT_KB]]]]]
 *   CONNS     connections (default 2000000)
 *   INFLIGHT  [load] max_inflight (default 1000)
 *   RATE      conn/s offered (default 0: as fast as the engine goes, full
 *             bursts; a rate paces it in real time, small bursts)
 *   CLIENTS   client addresses x ports 1024-65535 (default 16, as
 *             scripts/bench-pps: 1M tuples, 64 MB of slots, cold in cache)
 *   EVICT_KB  each tx_burst also reads this many KB of other memory (default
 *             0), as the kernel's path behind a veth's send does: the
 *             engine's slots and frames are then cold at each turn, a
 *             pessimistic case for a real NIC (whose PMD touches little)
 * Prints one line of key=value; scripts/bench-engine-cpu runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "loadgen/engine/packet/packet_int.h"
#include "loadgen/engine/packet/responder.h"

#define NBUF	 (1u << 17) /* port buffers (a power of two) */
#define BUF_SIZE 256	    /* a memcache frame is < 100 bytes */
#define CLI	 0x0a000001u
#define SRV	 0x0a640001u

/* The port: one pool of buffers, a FIFO of frames for rx, the responder. */
struct memio {
	struct ct_pktio pub;
	uint8_t *mem;
	uint8_t *free_[NBUF];
	unsigned nfree;
	uint8_t *q[NBUF];
	unsigned head, tail; /* q[head..tail) waits for rx, indexes mod NBUF */
	struct ct_resp resp;
	uint64_t dropped;
	uint8_t *evict;
	size_t evict_len;
	uint64_t evict_sum;
};

static unsigned m_alloc(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	struct memio *m = (struct memio *)io;
	unsigned k = 0;
	for (; k < n && m->nfree; k++) {
		p[k].data = m->free_[--m->nfree];
		p[k].len = 0;
		p[k].priv = NULL;
	}
	return k;
}

static void m_free(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	struct memio *m = (struct memio *)io;
	for (unsigned k = 0; k < n; k++)
		m->free_[m->nfree++] = p[k].data;
}

/* Each frame sent is answered at once; the answers wait for rx. */
static unsigned m_tx(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	struct memio *m = (struct memio *)io;
	static uint8_t b0[2048], b1[2048];
	uint8_t *out[2] = {b0, b1};
	size_t olen[2];
	for (unsigned k = 0; k < n; k++) {
		unsigned a = ct_resp_answer(&m->resp, p[k].data, p[k].len, 1000, out, olen);
		for (unsigned j = 0; j < a; j++) {
			if (!m->nfree || olen[j] > BUF_SIZE) {
				m->dropped++;
				continue;
			}
			uint8_t *b = m->free_[--m->nfree];
			memcpy(b, out[j], olen[j]);
			/* the frame's length in its buffer's last bytes */
			memcpy(b + BUF_SIZE - 4, &(uint32_t){(uint32_t)olen[j]}, 4);
			m->q[m->tail++ % NBUF] = b;
		}
	}
	m_free(io, p, n);
	io->st.tx += n;
	for (size_t o = 0; o < m->evict_len; o += 64)
		m->evict_sum += m->evict[o];
	return n;
}

static unsigned m_rx(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	struct memio *m = (struct memio *)io;
	unsigned k = 0;
	for (; k < n && m->head != m->tail; k++) {
		p[k].data = m->q[m->head++ % NBUF];
		memcpy(&p[k].len, p[k].data + BUF_SIZE - 4, 4);
		p[k].priv = NULL;
	}
	io->st.rx += k;
	return k;
}

static int m_fd(struct ct_pktio *io)
{
	(void)io;
	return -1; /* busy-poll, as the DPDK port */
}

static const struct ct_pktio_ops mem_ops = {.name = "memory",
					    .rx_burst = m_rx,
					    .rx_free = m_free,
					    .tx_alloc = m_alloc,
					    .tx_burst = m_tx,
					    .tx_free = m_free,
					    .fd = m_fd};

static void mem_open(struct memio *m)
{
	static const uint8_t cmac[6] = {2, 0, 0, 0, 0, 1}, smac[6] = {2, 0, 0, 0, 0, 2};
	m->pub.ops = &mem_ops;
	memcpy(m->pub.mac, cmac, 6);
	m->pub.mtu = 1500;
	m->pub.frame_size = BUF_SIZE - 4;
	m->mem = aligned_alloc(64, (size_t)NBUF * BUF_SIZE);
	if (!m->mem)
		exit(3);
	for (unsigned i = 0; i < NBUF; i++)
		m->free_[m->nfree++] = m->mem + (size_t)i * BUF_SIZE;
	m->resp = (struct ct_resp){.addr = SRV, .port_lo = 11211, .port_hi = 11211,
				   .key = {7, 9}, .mode = CT_RESP_MEMCACHE,
				   .close = CT_RESP_CLOSE_CLIENT};
	memcpy(m->resp.mac, smac, 6);
}

/* The engine as pengine.c's setup makes it, minus the netns and ARP. */
static struct pengine *engine(struct memio *m, uint64_t conns, unsigned inflight, double rate,
			      unsigned clients)
{
	struct pengine *e = calloc(1, sizeof(*e));
	struct ct_err err = {0};
	if (!e)
		exit(3);
	e->io = &m->pub;
	memcpy(e->gw_mac, m->resp.mac, 6);
	e->server = e->gw = SRV;
	e->dport_lo = e->dport_hi = 11211;
	e->n_addrs = clients;
	e->addrs = calloc(clients, sizeof(*e->addrs));
	for (unsigned a = 0; a < clients; a++)
		e->addrs[a] = CLI + a;
	e->addrs_contig = true;
	e->port_lo = 1024;
	e->port_hi = 65535;
	e->nports = 65535 - 1024 + 1;
	e->nslots = e->nports * clients;
	e->slots = calloc(e->nslots, sizeof(*e->slots));
	if (!e->addrs || !e->slots)
		exit(3);
	for (uint32_t i = 0; i < e->nslots; i++)
		e->slots[i].t_next = e->slots[i].t_prev = NO_SLOT;
	for (unsigned b = 0; b < TW_BUCKETS; b++)
		e->wheel[b] = NO_SLOT;
	e->req = ct_reqtmpl_new("get k{seq}\r\n", 12, &err);
	e->wbuf_len = ct_reqtmpl_max_len(e->req) + 1;
	e->wbuf = malloc(e->wbuf_len);
	e->expect = strdup("END\r\n");
	e->expect_len = 5;
	e->mss = 1460;
	e->key = (struct ct_isn_key){1, 2};
	e->load.close = CT_ENGINE_CLOSE_FIN;
	e->load.connect_timeout_ns = 3 * CT_NS_PER_SEC;
	e->load.reply_timeout_ns = 3 * CT_NS_PER_SEC;
	e->load.max_inflight = inflight;
	e->load.launch_window_ns = 4 * CT_NS_PER_MSEC;
	e->load.sched = (struct ct_schedule_params){
	    .profile = CT_SCHED_CONSTANT,
	    .rate = rate > 0 ? rate : 1e9,
	    /* unpaced: all due at once, the cap ends the schedule */
	    .duration_ns = rate > 0 ? (uint64_t)((double)conns / rate * 1e9) + CT_NS_PER_SEC
				    : 3600 * CT_NS_PER_SEC,
	    .max_connections = conns};
	ct_schedule_init(&e->sched, &e->load.sched, 0, 1);
	return e;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	uint64_t conns = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	unsigned inflight = argc > 2 ? (unsigned)atoi(argv[2]) : 1000;
	double rate = argc > 3 ? atof(argv[3]) : 0;
	unsigned clients = argc > 4 ? (unsigned)atoi(argv[4]) : 16;
	size_t evict_kb = argc > 5 ? (size_t)atol(argv[5]) : 0;
	if (!conns || !inflight || rate < 0 || !clients || clients > 256) {
		fprintf(stderr, "usage: ct_engine_bench [CONNS [INFLIGHT [RATE [CLIENTS<=256 "
				"[EVICT_KB]]]]]\n");
		return 2;
	}
	static struct memio m;
	mem_open(&m);
	if (evict_kb) {
		m.evict_len = evict_kb << 10;
		m.evict = calloc(1, m.evict_len);
		if (!m.evict)
			return 3;
		for (size_t o = 0; o < m.evict_len; o += 4096)
			m.evict[o] = 1; /* not the shared zero page */
	}
	struct pengine *e = engine(&m, conns, inflight, rate, clients);
	double c0 = cpu_s();
	uint64_t t0 = ct_now_ns();
	e->t0 = t0;
	ct_ploop_main(e);
	double wall = (double)(ct_now_ns() - t0) / 1e9, cpu = cpu_s() - c0;
	uint64_t done = e->c.completed, fails = 0;
	for (int f = 0; f < CT_FAIL_N; f++)
		fails += e->c.failures[f];
	double own = (double)(e->c.busy_cycles - e->c.io_cycles);
	double frames = (double)(m.pub.st.rx + m.pub.st.tx);
	printf("conns=%llu failed=%llu frames_per_conn=%.2f own_cycles_per_conn=%.0f "
	       "own_cycles_per_frame=%.0f io_cycles_per_conn=%.0f conn_per_s=%.0f "
	       "cpu_s=%.2f dropped=%llu\n",
	       (unsigned long long)done, (unsigned long long)fails, frames / (double)done,
	       own / (double)done, own / frames, (double)e->c.io_cycles / (double)done,
	       (double)done / wall, cpu, (unsigned long long)m.dropped);
	return done == conns && !fails && !m.dropped ? 0 : 1;
}
