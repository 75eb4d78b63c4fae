/* fuzz_packet — libFuzzer target for the packet engine's frame parser
 * (loadgen/engine/packet/wire.h) and its TCP state machine (pconn.c).
 *
 * The input is a list of records, each a length byte and that many bytes.
 * A record whose first byte is even is a raw frame: parsed on an exact-size
 * copy (ASan sees a read past its end) and fed to the engine. An odd one
 * describes a segment from the server (flags, seq and ack offsets relative
 * to the connection's, client port, payload), built with good checksums so
 * that it reaches the state machine: RST storms, SYN-ACK floods, wrong
 * ACKs, data out of order. Timers run between records; two connections
 * are launched first and more as slots free up. Raw frames also go to the
 * stateless responder (responder.h), whose answers must parse. Built only with libpcap
 * (CT_HAVE_PCAP), as the packet engine is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if CT_HAVE_PCAP
#include "loadgen/engine/packet/packet_int.h"
#include "loadgen/engine/packet/responder.h"

#define CLI 0xc6120001u
#define SRV 0xc6130001u
#define NPORTS 4

static uint8_t bufs[8][256];
static bool used[8];

static unsigned f_alloc(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	unsigned k = 0;
	(void)io;
	for (unsigned i = 0; i < 8 && k < n; i++)
		if (!used[i]) {
			used[i] = true;
			p[k].data = bufs[i];
			p[k++].len = 0;
		}
	return k;
}

static void f_free(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	(void)io;
	for (unsigned k = 0; k < n; k++)
		used[(p[k].data - bufs[0]) / 256] = false;
}

static unsigned f_burst(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (p[k].len > 256)
			abort(); /* a frame larger than the buffer it was built in */
	f_free(io, p, n);
	return n;
}

static const struct ct_pktio_ops fake_ops = {
    .name = "fake", .tx_alloc = f_alloc, .tx_burst = f_burst, .tx_free = f_free};

static void setup(struct pengine *e, struct ct_pktio *io, struct pslot *slots, uint32_t *addr)
{
	struct ct_err err = {0};
	memset(used, 0, sizeof(used));
	io->ops = &fake_ops;
	memcpy(io->mac, (uint8_t[6]){2, 0, 0, 0, 0, 1}, 6);
	e->io = io;
	e->server = e->gw = SRV;
	e->dport_lo = e->dport_hi = 11211;
	*addr = CLI;
	e->addrs = addr;
	e->n_addrs = 1;
	e->addrs_contig = true;
	e->port_lo = 40000;
	e->port_hi = 40000 + NPORTS - 1;
	e->nports = e->nslots = NPORTS;
	e->slots = slots;
	for (uint32_t i = 0; i < NPORTS; i++)
		slots[i].t_next = slots[i].t_prev = NO_SLOT;
	for (unsigned b = 0; b < TW_BUCKETS; b++)
		e->wheel[b] = NO_SLOT;
	e->req = ct_reqtmpl_new("get k{seq}\r\n", 12, &err);
	e->wbuf_len = 64;
	e->expect = "END\r\n";
	e->expect_len = 5;
	e->mss = 1460;
	e->load.close = CT_ENGINE_CLOSE_FIN;
	e->load.connect_timeout_ns = 3 * CT_NS_PER_SEC;
	e->load.reply_timeout_ns = 3 * CT_NS_PER_SEC;
	e->t0 = CT_NS_PER_SEC;
}

/* The stateless responder (on the client's address, so the same frames
 * reach it) answers each frame too; its answers must parse. */
static void answer(const uint8_t *f, size_t n, uint64_t now)
{
	static uint8_t b0[1600], b1[1600];
	uint8_t *out[2] = {b0, b1};
	size_t olen[2];
	struct ct_wire_pkt p;
	int partial;
	struct ct_resp r = {.mac = {2, 0, 0, 0, 0, 1}, .addr = CLI, .port_lo = 40000,
			    .port_hi = 40003, .key = {1, 2}, .mode = CT_RESP_ECHO};
	unsigned k = ct_resp_answer(&r, f, n, now / CT_NS_PER_SEC, out, olen);
	for (unsigned j = 0; j < k; j++) {
		enum ct_wire_kind kind = ct_wire_parse(out[j], olen[j], &p, &partial);
		if (olen[j] > sizeof(b0) || (kind != CT_WIRE_TCP && kind != CT_WIRE_ARP) || partial)
			abort();
	}
}

/* A segment from the server, with checksums the parser accepts. */
static void segment(struct pengine *e, const uint8_t *r, size_t n, uint64_t now)
{
	uint8_t f[256];
	if (n < 11)
		return;
	uint32_t i = r[1] % NPORTS, dseq, dack;
	memcpy(&dseq, r + 3, 4);
	memcpy(&dack, r + 7, 4);
	const struct pslot *s = &e->slots[i];
	struct ct_wire_flow fl = {.saddr = SRV, .daddr = CLI, .sport = 11211,
				  .dport = (uint16_t)(40000 + i)};
	memcpy(fl.dst_mac, e->io->mac, 6);
	/* Small offsets hit the window edges; others land anywhere. */
	uint32_t seq = s->rcv_nxt + (dseq % 4 == 0 ? 0 : dseq), ack = s->isn + (dack % 64);
	size_t len = n - 11 < 180 ? n - 11 : 180;
	size_t fl_len = ct_wire_tcp_build(f, &fl, r[2], seq, ack, 1000, 0, r + 11, len);
	ct_ploop_frame(e, f, (uint32_t)fl_len, now);
	answer(f, fl_len, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pengine e;
	static struct ct_pktio io;
	static struct pslot slots[NPORTS];
	uint32_t addr;
	char wbuf[64];
	uint64_t now = CT_NS_PER_SEC, seq = 0;

	memset(&e, 0, sizeof(e));
	memset(&io, 0, sizeof(io));
	memset(slots, 0, sizeof(slots));
	setup(&e, &io, slots, &addr);
	e.wbuf = wbuf;
	for (int k = 0; k < 2; k++)
		ct_pconn_launch(&e, now, seq++, now);
	ct_ploop_flush(&e);
	while (size > 0) {
		size_t n = data[0] < size - 1 ? data[0] : size - 1;
		const uint8_t *r = data + 1;
		if (n && r[0] % 2 == 0) {
			uint8_t *f = malloc(n);
			memcpy(f, r, n);
			ct_ploop_frame(&e, f, (uint32_t)n, now);
			answer(f, n, now);
			free(f);
		} else if (n) {
			segment(&e, r, n, now);
		}
		ct_ploop_flush(&e);
		now += (n ? r[0] : 1) * 20 * CT_NS_PER_MSEC;
		for (uint32_t i = 0; i < NPORTS; i++)
			if (e.slots[i].state != PS_FREE && e.slots[i].deadline_ms <= ct_ploop_ms(&e, now))
				ct_pconn_timer(&e, i, now);
		if (e.busy < NPORTS)
			ct_pconn_launch(&e, now, seq++, now);
		ct_ploop_flush(&e);
		if (e.busy > NPORTS || PLOAD(&e.c.inflight) > NPORTS)
			abort(); /* the counts lost track of the slots */
		data += n + 1;
		size -= n + 1;
	}
	ct_pconn_abort_all(&e, now);
	if (e.busy != 0 || PLOAD(&e.c.inflight) != 0)
		abort();
	ct_reqtmpl_free(e.req);
	return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
#endif
