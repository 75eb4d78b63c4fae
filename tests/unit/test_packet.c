/* The packet engine's pure parts and its state machine, driven by scripted
 * frames through a fake port (no pcap, no root). Reference bytes are from a
 * lab capture of engine = pcap against ctserver (router path, close =
 * server), decoded by tshark 4.0 (-T fields, checksums checked). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/engine/packet/packet_int.h"
#include "loadgen/engine/packet/responder.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2)
		out[n++] = (uint8_t)strtoul((char[]){h[0], h[1], 0}, NULL, 16);
	return n;
}

/* Frame 3: our ACK carrying "get k0\r\n" (tshark: checksums good). */
static const char *F_REQ = "36780aafaa9726bdf65e78d2080045000030000040004006aea0c6120001c613000180"
			   "002bcb646f173edf6413c65018ffffb5380000676574206b300d0a";
/* Frame 2: the server's SYN-ACK, its TCP checksum left to offload. */
static const char *F_SYNACK = "26bdf65e78d236780aafaa9708004500002c000040003f06afa4c6130001c61200"
			      "012bcb8000df6413c5646f173e6012faf08c460000020405b4";
/* Frame 5: "END\r\n" from the server. */
static const char *F_END = "26bdf65e78d236780aafaa9708004500002d3a3f40003f067564c6130001c6120001"
			   "2bcb8000df6413c6646f17465018fae88c470000454e440d0a";

#define CLI 0xc6120001u /* 198.18.0.1 */
#define SRV 0xc6130001u /* 198.19.0.1 */

Test(packet_wire, builds_the_captured_request_frame_byte_for_byte)
{
	uint8_t want[128], got[256];
	size_t wl = unhex(F_REQ, want);
	struct ct_wire_flow fl = {.src_mac = {0x26, 0xbd, 0xf6, 0x5e, 0x78, 0xd2},
				  .dst_mac = {0x36, 0x78, 0x0a, 0xaf, 0xaa, 0x97},
				  .saddr = CLI, .daddr = SRV, .sport = 32768, .dport = 11211};
	size_t gl = ct_wire_tcp_build(got, &fl, CT_TCP_ACK | CT_TCP_PSH, 1685002046u,
				      3747877830u, 65535, 0, "get k0\r\n", 8);
	cr_assert_eq(gl, wl);
	cr_expect_eq(memcmp(got, want, wl), 0, "the frame tshark decoded with good checksums");
	cr_expect_eq(ct_wire_csum(got + CT_ETH_HLEN, CT_IP_HLEN, 0), 0, "IPv4 header sums to 0");
}

Test(packet_wire, parses_the_servers_frames_as_tshark_does)
{
	uint8_t f[128];
	struct ct_wire_pkt p;
	int partial;
	size_t n = unhex(F_SYNACK, f);
	cr_assert_eq(ct_wire_parse(f, n, &p, &partial), CT_WIRE_TCP);
	cr_expect_eq(partial, 1, "the veth peer's offloaded checksum is accepted as such");
	cr_expect_eq(p.tcp.saddr, SRV);
	cr_expect_eq(p.tcp.sport, 11211);
	cr_expect_eq(p.tcp.dport, 32768);
	cr_expect_eq(p.tcp.seq, 3747877829u);
	cr_expect_eq(p.tcp.ack, 1685002046u);
	cr_expect_eq(p.tcp.flags, 0x12);
	cr_expect_eq(p.tcp.win, 64240);
	cr_expect_eq(p.tcp.len, 0);
	n = unhex(F_END, f);
	cr_assert_eq(ct_wire_parse(f, n, &p, &partial), CT_WIRE_TCP);
	cr_expect_eq(p.tcp.len, 5);
	cr_expect_eq(memcmp(p.tcp.data, "END\r\n", 5), 0);
	cr_expect_eq(p.tcp.flags, 0x18);
}

Test(packet_wire, malformed_frames_are_classified_never_read_past_the_end)
{
	uint8_t f[128], g[128];
	struct ct_wire_pkt p;
	int partial;
	size_t n = unhex(F_REQ, f);

	for (size_t l = 0; l < n; l++) { /* every truncation, on a copy of its own size */
		uint8_t *t = malloc(l ? l : 1);
		memcpy(t, f, l);
		enum ct_wire_kind k = ct_wire_parse(t, l, &p, &partial);
		cr_expect(k == CT_WIRE_BAD_LEN, "cut at %zu: kind %d", l, k);
		free(t);
	}
	struct {
		size_t at;
		uint8_t v;
		enum ct_wire_kind want;
		const char *what;
		bool fix; /* recompute the IPv4 header checksum after the change */
	} cases[] = {
	    {14, 0x44, CT_WIRE_BAD_LEN, "IHL 4", false},
	    {14, 0x4f, CT_WIRE_BAD_LEN, "IHL past the total length", false},
	    {17, 0xff, CT_WIRE_BAD_LEN, "total length past the frame", true},
	    {17, 0x20, CT_WIRE_BAD_LEN, "total length shorter than IP + TCP", true},
	    {46, 0xf0, CT_WIRE_BAD_LEN, "data offset past the segment", false},
	    {46, 0x40, CT_WIRE_BAD_LEN, "data offset 4 words", false},
	    {22, 0x3f, CT_WIRE_BAD_CSUM, "TTL changed: IPv4 checksum wrong", false},
	    {60, 'G', CT_WIRE_BAD_CSUM, "payload changed: TCP checksum wrong", false},
	    {12, 0x86, CT_WIRE_OTHER, "IPv6 ethertype", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(g, f, n);
		g[cases[i].at] = cases[i].v;
		if (cases[i].fix) {
			g[24] = g[25] = 0;
			uint16_t c = ct_wire_csum(g + 14, 20, 0);
			g[24] = (uint8_t)(c >> 8);
			g[25] = (uint8_t)c;
		}
		enum ct_wire_kind k = ct_wire_parse(g, n, &p, &partial);
		cr_expect_eq(k, cases[i].want, "%s: kind %d", cases[i].what, k);
	}
	memcpy(g, f, n);
	g[20] = 0x20; /* MF: a fragment (the header checksum fixed up below) */
	g[24] = g[25] = 0;
	uint16_t c = ct_wire_csum(g + 14, 20, 0);
	g[24] = (uint8_t)(c >> 8);
	g[25] = (uint8_t)c;
	cr_expect_eq(ct_wire_parse(g, n, &p, &partial), CT_WIRE_FRAGMENT);
	cr_expect_eq(ct_wire_parse(NULL, 0, &p, &partial), CT_WIRE_BAD_LEN);
	uint8_t arp[20] = {[12] = 0x08, [13] = 0x06};
	cr_expect_eq(ct_wire_parse(arp, sizeof(arp), &p, &partial), CT_WIRE_BAD_LEN,
		     "a short ARP");
}

Test(packet_wire, arp_round_trip)
{
	uint8_t f[64], mac[6] = {2, 0, 0, 0, 0, 1}, bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct ct_wire_pkt p;
	int partial;
	size_t n = ct_wire_arp_build(f, bc, CT_ARP_REQUEST, mac, CLI, (uint8_t[6]){0}, SRV);
	cr_assert_eq(n, 60);
	cr_assert_eq(ct_wire_parse(f, n, &p, &partial), CT_WIRE_ARP);
	cr_expect_eq(p.arp.op, CT_ARP_REQUEST);
	cr_expect_eq(p.arp.spa, CLI);
	cr_expect_eq(p.arp.tpa, SRV);
	cr_expect_eq(memcmp(p.arp.sha, mac, 6), 0);
}

Test(packet_isn, siphash_reference_vector_and_rfc6528_properties)
{
	/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e. */
	struct ct_isn_key k = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
	uint8_t m[15];
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	cr_expect_eq(ct_siphash24(&k, m, 15), 0xa129ca6149be45e5ull);

	uint32_t a = ct_isn(&k, CLI, 40000, SRV, 11211, 1000000000ull);
	cr_expect_eq(a, ct_isn(&k, CLI, 40000, SRV, 11211, 1000000000ull), "deterministic");
	uint32_t later = ct_isn(&k, CLI, 40000, SRV, 11211, 1000000000ull + 64000000ull);
	cr_expect_eq(later - a, 1000000u, "the same tuple 64 ms later starts 1e6 higher");
	cr_expect_neq(a, ct_isn(&k, CLI, 40001, SRV, 11211, 1000000000ull), "another port");
	struct ct_isn_key k2 = {1, 2};
	cr_expect_neq(a, ct_isn(&k2, CLI, 40000, SRV, 11211, 1000000000ull), "another secret");
}

/* ---- the state machine, through a fake port that keeps what is sent */

struct fakeio {
	struct ct_pktio pub;
	uint8_t buf[8][256];
	bool used[8];
	uint8_t sent[64][256];
	uint32_t sent_len[64];
	unsigned nsent;
};

static unsigned f_alloc(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	struct fakeio *f = (struct fakeio *)io;
	unsigned k = 0;
	for (unsigned i = 0; i < 8 && k < n; i++)
		if (!f->used[i]) {
			f->used[i] = true;
			p[k].data = f->buf[i];
			p[k++].len = 0;
		}
	return k;
}

static void f_free(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	struct fakeio *f = (struct fakeio *)io;
	for (unsigned k = 0; k < n; k++)
		f->used[(p[k].data - f->buf[0]) / 256] = false;
}

static unsigned f_burst(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	struct fakeio *f = (struct fakeio *)io;
	for (unsigned k = 0; k < n; k++) {
		memcpy(f->sent[f->nsent % 64], p[k].data, p[k].len);
		f->sent_len[f->nsent++ % 64] = p[k].len;
	}
	f_free(io, p, n);
	return n;
}

static const struct ct_pktio_ops fake_ops = {
    .name = "fake", .tx_alloc = f_alloc, .tx_burst = f_burst, .tx_free = f_free};

static struct fakeio fio;
static const uint8_t SRV_MAC[6] = {0x36, 0x78, 0x0a, 0xaf, 0xaa, 0x97};
#define T0 (10 * CT_NS_PER_SEC)

static struct pengine *mk(enum ct_engine_close close, uint32_t nports, uint64_t reuse_ns)
{
	struct pengine *e = calloc(1, sizeof(*e));
	struct ct_err err = {0};
	memset(&fio, 0, sizeof(fio));
	fio.pub.ops = &fake_ops;
	memcpy(fio.pub.mac, (uint8_t[6]){0x26, 0xbd, 0xf6, 0x5e, 0x78, 0xd2}, 6);
	e->io = &fio.pub;
	memcpy(e->gw_mac, SRV_MAC, 6);
	e->server = e->gw = SRV;
	e->dport_lo = e->dport_hi = 11211;
	e->addrs = calloc(1, sizeof(*e->addrs));
	e->addrs[0] = CLI;
	e->n_addrs = 1;
	e->addrs_contig = true;
	e->port_lo = 40000;
	e->port_hi = (uint16_t)(40000 + nports - 1);
	e->nports = e->nslots = nports;
	e->slots = calloc(nports, sizeof(*e->slots));
	for (uint32_t i = 0; i < nports; i++)
		e->slots[i].t_next = e->slots[i].t_prev = NO_SLOT;
	for (unsigned b = 0; b < TW_BUCKETS; b++)
		e->wheel[b] = NO_SLOT;
	e->req = ct_reqtmpl_new("get k{seq}\r\n", 12, &err);
	e->wbuf_len = 64;
	e->wbuf = malloc(64);
	e->expect = strdup("END\r\n");
	e->expect_len = 5;
	e->mss = 1460;
	e->reuse_ns = reuse_ns;
	e->load.close = close;
	e->load.connect_timeout_ns = 30 * CT_NS_PER_SEC;
	e->load.reply_timeout_ns = 3 * CT_NS_PER_SEC;
	e->t0 = T0;
	return e;
}

static void rm(struct pengine *e)
{
	ct_reqtmpl_free(e->req);
	free(e->wbuf);
	free(e->expect);
	free(e->slots);
	free(e->addrs);
	free(e);
}

/* A frame from the server to client port `port`, fed to the engine. */
static void srv(struct pengine *e, uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack,
		const char *data, uint64_t now)
{
	uint8_t f[256];
	struct ct_wire_flow fl = {.saddr = SRV, .daddr = CLI, .sport = 11211, .dport = port};
	memcpy(fl.src_mac, SRV_MAC, 6);
	memcpy(fl.dst_mac, fio.pub.mac, 6);
	size_t n = ct_wire_tcp_build(f, &fl, flags, seq, ack, 64240, 0, data,
				     data ? strlen(data) : 0);
	ct_ploop_frame(e, f, (uint32_t)n, now);
	ct_ploop_flush(e);
}

/* The last frame the engine sent, parsed. */
static struct ct_wire_tcp last(void)
{
	struct ct_wire_pkt p;
	int partial;
	cr_assert_gt(fio.nsent, 0);
	unsigned i = (fio.nsent - 1) % 64;
	cr_assert_eq(ct_wire_parse(fio.sent[i], fio.sent_len[i], &p, &partial), CT_WIRE_TCP);
	cr_assert_eq(partial, 0, "the engine's own checksums are complete");
	return p.tcp;
}

static uint32_t launch(struct pengine *e, uint64_t seq, uint64_t now)
{
	ct_pconn_launch(e, now, seq, now);
	ct_ploop_flush(e);
	struct ct_wire_tcp t = last();
	cr_assert_eq(t.flags, CT_TCP_SYN);
	return t.seq;
}

Test(packet_conn, handshake_request_on_its_ack_reply_then_fin)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 4, 0);
	uint64_t now = T0 + CT_NS_PER_MSEC;
	uint32_t isn = launch(e, 7, now);
	struct ct_wire_tcp t = last();
	cr_expect_eq(t.dport, 11211);
	cr_expect_geq(t.sport, 40000);
	uint16_t port = t.sport;

	srv(e, port, CT_TCP_SYN | CT_TCP_ACK, 1000, isn + 1, NULL, now + 100000);
	t = last();
	cr_expect_eq(t.flags, CT_TCP_ACK | CT_TCP_PSH, "the request rides on the handshake's ACK");
	cr_expect_eq(t.seq, isn + 1);
	cr_expect_eq(t.ack, 1001);
	cr_assert_eq(t.len, 8);
	cr_expect_eq(memcmp(t.data, "get k7\r\n", 8), 0);
	cr_expect_eq(e->c.established, 1);

	srv(e, port, CT_TCP_ACK | CT_TCP_PSH, 1001, isn + 9, "END\r\n", now + 200000);
	t = last();
	cr_expect_eq(t.flags, CT_TCP_FIN | CT_TCP_ACK, "close = fin after the reply");
	cr_expect_eq(t.seq, isn + 9);
	cr_expect_eq(t.ack, 1006);
	cr_expect_eq(e->c.completed, 1);
	cr_expect_eq(e->c.inflight, 0);

	srv(e, port, CT_TCP_FIN | CT_TCP_ACK, 1006, isn + 10, NULL, now + 300000);
	t = last();
	cr_expect_eq(t.flags, CT_TCP_ACK, "the server's FIN is acknowledged");
	cr_expect_eq(t.ack, 1007);
	cr_expect_eq(e->busy, 0, "the slot is free once both FINs are acknowledged");
	rm(e);
}

Test(packet_conn, lost_syn_is_resent_on_linux_schedule_then_times_out)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 1, 0);
	uint64_t now = T0;
	uint32_t isn = launch(e, 0, now);
	/* Resent at 1, 2, 3, 4, 5, 7, 11, 19 s after the first SYN. */
	static const uint32_t at[] = {1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000};
	for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		cr_assert_eq(e->slots[0].deadline_ms, at[k], "retransmission %zu due at %u ms", k + 1,
			     at[k]);
		unsigned before = fio.nsent;
		ct_pconn_timer(e, 0, T0 + (uint64_t)at[k] * CT_NS_PER_MSEC);
		ct_ploop_flush(e);
		cr_assert_eq(fio.nsent, before + 1);
		struct ct_wire_tcp t = last();
		cr_expect_eq(t.flags, CT_TCP_SYN);
		cr_expect_eq(t.seq, isn, "the same ISN");
	}
	/* connect_timeout = 30 s: the next timer is capped there, and fails. */
	cr_expect_eq(e->slots[0].deadline_ms, 30001);
	ct_pconn_timer(e, 0, T0 + 30001 * CT_NS_PER_MSEC);
	cr_expect_eq(e->c.failures[CT_FAIL_TIMEOUT], 1);
	cr_expect_eq(e->busy, 0);
	rm(e);
}

Test(packet_conn, syn_ack_after_retransmissions_counts_them)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 1, 0);
	uint32_t isn = launch(e, 0, T0);
	ct_pconn_timer(e, 0, T0 + CT_NS_PER_SEC);
	ct_pconn_timer(e, 0, T0 + 2 * CT_NS_PER_SEC);
	srv(e, 40000, CT_TCP_SYN | CT_TCP_ACK, 5, isn + 1, NULL, T0 + 2100 * CT_NS_PER_MSEC);
	cr_expect_eq(e->c.syn_retrans, 2);
	cr_expect_geq(ct_hist_quantile(&e->c.connect, 0.5), 2000 * CT_NS_PER_MSEC,
		      "connect latency shows the 2 s of retransmissions");
	rm(e);
}

Test(packet_conn, rst_to_syn_is_refused_and_a_wrong_one_is_ignored)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 1, 0);
	uint32_t isn = launch(e, 0, T0);
	srv(e, 40000, CT_TCP_RST | CT_TCP_ACK, 0, isn + 77, NULL, T0 + 1000);
	cr_expect_eq(e->pc.rst_ignored, 1, "a RST that does not acknowledge our SYN");
	cr_expect_eq(e->busy, 1);
	srv(e, 40000, CT_TCP_RST | CT_TCP_ACK, 0, isn + 1, NULL, T0 + 2000);
	cr_expect_eq(e->c.failures[CT_FAIL_REFUSED], 1);
	cr_expect_eq(e->busy, 0);
	rm(e);
}

Test(packet_conn, reply_mismatch_is_protocol_and_reset_is_reset)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 2, 0);
	uint32_t isn = launch(e, 0, T0);
	srv(e, 40000, CT_TCP_SYN | CT_TCP_ACK, 100, isn + 1, NULL, T0 + 1000);
	srv(e, 40000, CT_TCP_ACK | CT_TCP_FIN, 101, isn + 9, "ERROR\r\n", T0 + 2000);
	cr_expect_eq(e->c.failures[CT_FAIL_PROTOCOL], 1, "the server closed without END");
	cr_expect_eq(last().flags, CT_TCP_RST | CT_TCP_ACK);

	isn = launch(e, 1, T0 + 3000);
	uint16_t port = last().sport;
	srv(e, port, CT_TCP_SYN | CT_TCP_ACK, 500, isn + 1, NULL, T0 + 4000);
	srv(e, port, CT_TCP_RST, 400, 0, NULL, T0 + 5000);
	cr_expect_eq(e->pc.rst_ignored, 1, "a RST outside the window");
	srv(e, port, CT_TCP_RST, 501, 0, NULL, T0 + 6000);
	cr_expect_eq(e->c.failures[CT_FAIL_RESET], 1);
	cr_expect_eq(e->busy, 0);
	rm(e);
}

Test(packet_conn, server_fin_first_with_close_wait)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_WAIT, 1, 0);
	uint32_t isn = launch(e, 0, T0);
	srv(e, 40000, CT_TCP_SYN | CT_TCP_ACK, 100, isn + 1, NULL, T0 + 1000);
	srv(e, 40000, CT_TCP_ACK | CT_TCP_PSH, 101, isn + 9, "END\r\n", T0 + 2000);
	cr_expect_eq(last().flags, CT_TCP_ACK, "the reply is acknowledged, no FIN yet");
	cr_expect_eq(e->c.completed, 0);
	srv(e, 40000, CT_TCP_ACK | CT_TCP_FIN, 106, isn + 9, NULL, T0 + 3000);
	struct ct_wire_tcp t = last();
	cr_expect_eq(t.flags, CT_TCP_FIN | CT_TCP_ACK);
	cr_expect_eq(t.ack, 107);
	cr_expect_eq(e->c.completed, 1);
	srv(e, 40000, CT_TCP_ACK, 107, isn + 10, NULL, T0 + 4000);
	cr_expect_eq(e->busy, 0, "the server's last ACK frees the slot");
	rm(e);
}

Test(packet_conn, frames_for_no_connection_are_counted_and_dropped)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 4, 0);
	/* A flood of SYN-ACKs for connections never opened, and one to a port
	 * outside the pool. */
	for (uint32_t i = 0; i < 100; i++)
		srv(e, (uint16_t)(40000 + i % 8), CT_TCP_SYN | CT_TCP_ACK, i, i * 7, NULL, T0);
	cr_expect_eq(e->pc.no_conn, 100);
	cr_expect_eq(fio.nsent, 0, "nothing answered");
	uint32_t isn = launch(e, 0, T0);
	uint16_t port = last().sport;
	srv(e, port, CT_TCP_SYN | CT_TCP_ACK, 1, isn + 2, NULL, T0 + 1000);
	cr_expect_eq(e->pc.bad_ack, 1, "a SYN-ACK acknowledging the wrong ISN");
	cr_expect_eq(e->c.established, 0);
	rm(e);
}

Test(packet_conn, a_tuple_rests_reuse_after_before_it_is_used_again)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_RST, 1, 120 * CT_NS_PER_SEC);
	uint32_t isn = launch(e, 0, T0);
	srv(e, 40000, CT_TCP_SYN | CT_TCP_ACK, 100, isn + 1, NULL, T0 + 1000);
	srv(e, 40000, CT_TCP_ACK, 101, isn + 9, "END\r\n", T0 + 2000);
	cr_expect_eq(last().flags, CT_TCP_RST | CT_TCP_ACK, "close = rst");
	cr_expect_eq(e->c.completed, 1);
	ct_pconn_launch(e, T0 + CT_NS_PER_SEC, 1, T0 + CT_NS_PER_SEC);
	cr_expect_eq(e->c.failures[CT_FAIL_EADDRNOTAVAIL], 1, "no rested tuple: ports exhausted");
	ct_pconn_launch(e, T0 + 121 * CT_NS_PER_SEC, 2, T0 + 121 * CT_NS_PER_SEC);
	cr_expect_eq(e->busy, 1, "120 s later the tuple is used again");
	rm(e);
}

Test(packet_conn, slots_are_indexed_by_client_address_and_port)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 4, 0);
	uint32_t three[] = {CLI, CLI + 1, CLI + 2};
	free(e->addrs);
	e->addrs = malloc(sizeof(three));
	memcpy(e->addrs, three, sizeof(three));
	e->n_addrs = 3;
	cr_expect_eq(ct_pconn_slot_of(e, CLI + 2, 40001), 2 * 4 + 1);
	cr_expect_eq(ct_pconn_slot_of(e, CLI, 40000), 0);
	cr_expect_eq(ct_pconn_slot_of(e, CLI + 3, 40000), NO_SLOT);
	cr_expect_eq(ct_pconn_slot_of(e, CLI - 1, 40000), NO_SLOT);
	cr_expect_eq(ct_pconn_slot_of(e, CLI, 40004), NO_SLOT);
	cr_expect_eq(ct_pconn_slot_of(e, CLI, 39999), NO_SLOT);
	e->addrs[1] = CLI + 100; /* not contiguous: looked up in the list */
	e->addrs_contig = false;
	cr_expect_eq(ct_pconn_slot_of(e, CLI + 100, 40003), 1 * 4 + 3);
	cr_expect_eq(ct_pconn_slot_of(e, CLI + 1, 40003), NO_SLOT);
	cr_expect_eq(sizeof(struct pslot), 64);
	rm(e);
}

Test(packet_conn, syn_ack_again_gets_the_ack_and_the_request_again)
{
	struct pengine *e = mk(CT_ENGINE_CLOSE_FIN, 1, 0);
	uint32_t isn = launch(e, 3, T0);
	srv(e, 40000, CT_TCP_SYN | CT_TCP_ACK, 100, isn + 1, NULL, T0 + 1000);
	srv(e, 40000, CT_TCP_SYN | CT_TCP_ACK, 100, isn + 1, NULL, T0 + 2000);
	struct ct_wire_tcp t = last();
	cr_expect_eq(t.flags, CT_TCP_ACK | CT_TCP_PSH, "our ACK was lost: send it and the request");
	cr_expect_eq(t.seq, isn + 1);
	cr_expect_eq(t.ack, 101);
	cr_assert_eq(t.len, 8);
	cr_expect_eq(memcmp(t.data, "get k3\r\n", 8), 0);
	cr_expect_eq(e->c.established, 1, "counted once");
	rm(e);
}

/* ---- the stateless responder, alone and against the client */

static struct ct_resp mkresp(enum ct_resp_close close)
{
	struct ct_resp r = {.addr = SRV, .port_lo = 11211, .port_hi = 11211, .key = {7, 9},
			    .mode = CT_RESP_MEMCACHE, .close = close};
	memcpy(r.mac, SRV_MAC, 6);
	return r;
}

/* Frames go back and forth between the client (fake port) and the
 * responder until neither has anything to say. */
static void converse(struct pengine *e, struct ct_resp *r, uint64_t now)
{
	static uint8_t b0[1600], b1[1600];
	uint8_t *out[2] = {b0, b1};
	size_t olen[2];
	for (int round = 0; round < 20; round++) {
		unsigned from = fio.nsent;
		ct_ploop_flush(e);
		if (round && fio.nsent == from)
			return;
		if (!round)
			from = fio.nsent - 1;
		for (unsigned k = from; k < fio.nsent; k++) {
			unsigned m = ct_resp_answer(r, fio.sent[k % 64], fio.sent_len[k % 64],
						    now / CT_NS_PER_SEC, out, olen);
			for (unsigned j = 0; j < m; j++)
				ct_ploop_frame(e, out[j], (uint32_t)olen[j], now);
		}
	}
}

Test(packet_resp, client_against_responder_every_close)
{
	struct {
		enum ct_engine_close client;
		enum ct_resp_close server;
		const char *what;
	} cases[] = {
	    {CT_ENGINE_CLOSE_FIN, CT_RESP_CLOSE_CLIENT, "client FIN, server answers FIN"},
	    {CT_ENGINE_CLOSE_WAIT, CT_RESP_CLOSE_SERVER, "server FIN with the reply"},
	    {CT_ENGINE_CLOSE_RST, CT_RESP_CLOSE_CLIENT, "client RST"},
	    {CT_ENGINE_CLOSE_FIN, CT_RESP_CLOSE_RST, "server RST after the reply"},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct pengine *e = mk(cases[c].client, 4, 0);
		struct ct_resp r = mkresp(cases[c].server);
		for (uint64_t k = 0; k < 3; k++) {
			ct_pconn_launch(e, T0 + k, k, T0 + k);
			converse(e, &r, T0 + k);
		}
		cr_expect_eq(e->c.completed, 3, "%s: completed %llu", cases[c].what,
			     (unsigned long long)e->c.completed);
		cr_expect_eq(e->busy, 0, "%s: every slot freed", cases[c].what);
		cr_expect_eq(r.st.syn, 3);
		cr_expect_eq(r.st.request, 3);
		cr_expect_eq(r.st.bad_cookie, 0);
		rm(e);
	}
}

Test(packet_resp, answers_are_stateless_and_checked)
{
	struct ct_resp r = mkresp(CT_RESP_CLOSE_SERVER);
	static uint8_t f2[1600];
	uint8_t f[256], b0[1600], b1[1600], *out[2] = {b0, b1};
	size_t olen[2];
	struct ct_wire_pkt p;
	int partial;
	struct ct_wire_flow fl = {.saddr = CLI, .daddr = SRV, .sport = 40000, .dport = 11211};
	memcpy(fl.dst_mac, SRV_MAC, 6);

	size_t n = ct_wire_tcp_build(f, &fl, CT_TCP_SYN, 500, 0, 65535, 1460, NULL, 0);
	cr_assert_eq(ct_resp_answer(&r, f, n, 1000, out, olen), 1);
	cr_assert_eq(ct_wire_parse(b0, olen[0], &p, &partial), CT_WIRE_TCP);
	uint32_t isn = p.tcp.seq;
	cr_expect_eq(p.tcp.flags, CT_TCP_SYN | CT_TCP_ACK);
	cr_expect_eq(p.tcp.ack, 501);
	cr_expect_eq(isn, ct_resp_cookie(&r, CLI, 40000, 11211, 1000), "the ISN is the cookie");

	/* The request 30 s later (same or next epoch) still matches its cookie. */
	n = ct_wire_tcp_build(f, &fl, CT_TCP_ACK | CT_TCP_PSH, 501, isn + 1, 65535, 0,
			      "get a\r\n", 7);
	cr_assert_eq(ct_resp_answer(&r, f, n, 1030, out, olen), 1);
	cr_assert_eq(ct_wire_parse(b0, olen[0], &p, &partial), CT_WIRE_TCP);
	cr_expect_eq(p.tcp.flags, CT_TCP_ACK | CT_TCP_PSH | CT_TCP_FIN, "close = server");
	cr_expect_eq(p.tcp.seq, isn + 1);
	cr_expect_eq(p.tcp.ack, 508);
	cr_expect_eq(memcmp(p.tcp.data, "END\r\n", 5), 0);

	/* A request acknowledging an ISN we never sent: reset, counted. */
	n = ct_wire_tcp_build(f, &fl, CT_TCP_ACK | CT_TCP_PSH, 501, isn + 99, 65535, 0, "x", 1);
	cr_assert_eq(ct_resp_answer(&r, f, n, 1030, out, olen), 1);
	cr_assert_eq(ct_wire_parse(b0, olen[0], &p, &partial), CT_WIRE_TCP);
	cr_expect_eq(p.tcp.flags, CT_TCP_RST);
	cr_expect_eq(r.st.bad_cookie, 1);
	/* Another port, a RST, a bare ACK: no answer. */
	fl.dport = 80;
	n = ct_wire_tcp_build(f, &fl, CT_TCP_SYN, 1, 0, 65535, 0, NULL, 0);
	cr_expect_eq(ct_resp_answer(&r, f, n, 1030, out, olen), 0);
	fl.dport = 11211;
	n = ct_wire_tcp_build(f, &fl, CT_TCP_RST, 1, 0, 65535, 0, NULL, 0);
	cr_expect_eq(ct_resp_answer(&r, f, n, 1030, out, olen), 0);
	n = ct_wire_tcp_build(f, &fl, CT_TCP_ACK, 1, isn + 1, 65535, 0, NULL, 0);
	cr_expect_eq(ct_resp_answer(&r, f, n, 1030, out, olen), 0);
	/* An echo of a request longer than one segment is cut to one. */
	static char big[1500];
	memset(big, 'x', sizeof(big));
	r.mode = CT_RESP_ECHO;
	n = ct_wire_tcp_build(f2, &fl, CT_TCP_ACK | CT_TCP_PSH, 501, isn + 1, 65535, 0, big,
			      sizeof(big));
	cr_assert_eq(ct_resp_answer(&r, f2, n, 1030, out, olen), 1);
	cr_expect_leq(olen[0], CT_WIRE_MAX_HDR + CT_RESP_MAX_REPLY);
	cr_assert_eq(ct_wire_parse(b0, olen[0], &p, &partial), CT_WIRE_TCP);
	cr_expect_eq(p.tcp.len, CT_RESP_MAX_REPLY);
	/* ARP for its address. */
	n = ct_wire_arp_build(f, (uint8_t[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, CT_ARP_REQUEST,
			      (uint8_t[6]){2, 0, 0, 0, 0, 5}, CLI, (uint8_t[6]){0}, SRV);
	cr_assert_eq(ct_resp_answer(&r, f, n, 1030, out, olen), 1);
	cr_assert_eq(ct_wire_parse(b0, olen[0], &p, &partial), CT_WIRE_ARP);
	cr_expect_eq(p.arp.op, CT_ARP_REPLY);
	cr_expect_eq(memcmp(p.arp.sha, SRV_MAC, 6), 0);
}
