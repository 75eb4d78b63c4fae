/* responder — stateless answers of the server side (see responder.h). */
#include "loadgen/engine/packet/responder.h"

#include <string.h>

uint32_t ct_resp_cookie(const struct ct_resp *r, uint32_t caddr, uint16_t cport, uint16_t sport,
			uint64_t now_s)
{
	uint8_t t[20];
	uint64_t epoch = now_s >> 6;
	memcpy(t, &caddr, 4);
	memcpy(t + 4, &r->addr, 4);
	memcpy(t + 8, &cport, 2);
	memcpy(t + 10, &sport, 2);
	memcpy(t + 12, &epoch, 8);
	return (uint32_t)ct_siphash24(&r->key, t, sizeof(t));
}

/* Was our ISN for this segment's tuple `isn` (this epoch or the last)? */
static int cookie_ok(const struct ct_resp *r, const struct ct_wire_tcp *t, uint32_t off,
		     uint64_t now_s, uint32_t *isn)
{
	for (uint64_t back = 0; back <= 64 && back <= now_s; back += 64) {
		*isn = ct_resp_cookie(r, t->saddr, t->sport, t->dport, now_s - back);
		if (t->ack - *isn - 1 <= off)
			return 1;
	}
	return 0;
}

static size_t seg(const struct ct_resp *r, const uint8_t *peer_mac, const struct ct_wire_tcp *t,
		  uint8_t *out, uint8_t flags, uint32_t seq, uint32_t ack, const void *d, size_t n)
{
	struct ct_wire_flow fl = {.saddr = r->addr, .daddr = t->saddr, .sport = t->dport,
				  .dport = t->sport};
	memcpy(fl.src_mac, r->mac, CT_ETH_ALEN);
	memcpy(fl.dst_mac, peer_mac, CT_ETH_ALEN);
	return ct_wire_tcp_build(out, &fl, flags, seq, ack, 65535,
				 (flags & CT_TCP_SYN) ? 1460 : 0, d, n);
}

/* The reply to a request: its bytes. */
static const void *reply_of(const struct ct_resp *r, const struct ct_wire_tcp *t, size_t *n)
{
	switch (r->mode) {
	case CT_RESP_ECHO:
		*n = t->len;
		return t->data;
	case CT_RESP_FIXED:
		*n = r->fixed_len;
		return r->fixed;
	case CT_RESP_MEMCACHE:
	default:
		*n = 5;
		return "END\r\n";
	}
}

/* One segment of at most CT_RESP_MAX_REPLY bytes: a stateless responder
 * cannot send more than it can in one answer (a longer echo is cut). */
static const void *reply_cut(const struct ct_resp *r, const struct ct_wire_tcp *t, size_t *n)
{
	const void *d = reply_of(r, t, n);
	if (*n > CT_RESP_MAX_REPLY)
		*n = CT_RESP_MAX_REPLY;
	return d;
}

static unsigned answer_tcp(struct ct_resp *r, const struct ct_wire_pkt *p, uint64_t now_s,
			   uint8_t *out[2], size_t olen[2])
{
	const struct ct_wire_tcp *t = &p->tcp;
	uint32_t isn;
	size_t n;

	if (t->daddr != r->addr || t->dport < r->port_lo || t->dport > r->port_hi ||
	    (t->flags & CT_TCP_RST)) {
		r->st.ignored++;
		return 0;
	}
	if ((t->flags & (CT_TCP_SYN | CT_TCP_ACK)) == CT_TCP_SYN) {
		r->st.syn++;
		olen[0] = seg(r, p->src, t, out[0], CT_TCP_SYN | CT_TCP_ACK,
			      ct_resp_cookie(r, t->saddr, t->sport, t->dport, now_s), t->seq + 1,
			      NULL, 0);
		return 1;
	}
	if (!(t->flags & CT_TCP_ACK) || (!t->len && !(t->flags & CT_TCP_FIN))) {
		r->st.ignored++; /* a bare ACK needs no answer */
		return 0;
	}
	/* Data is acked at isn + 1; a FIN after our reply (and our FIN) up to
	 * isn + 1 + reply + 1. */
	if (!cookie_ok(r, t, t->len ? 0 : 65536, now_s, &isn)) {
		r->st.bad_cookie++;
		olen[0] = seg(r, p->src, t, out[0], CT_TCP_RST, t->ack, 0, NULL, 0);
		return 1;
	}
	uint32_t ack = t->seq + t->len + !!(t->flags & CT_TCP_FIN);
	if (t->len) {
		const void *d = reply_cut(r, t, &n);
		r->st.request++;
		uint8_t fl = CT_TCP_ACK | CT_TCP_PSH;
		if (r->close == CT_RESP_CLOSE_SERVER || (t->flags & CT_TCP_FIN))
			fl |= CT_TCP_FIN;
		olen[0] = seg(r, p->src, t, out[0], fl, isn + 1, ack, d, n);
		if (r->close != CT_RESP_CLOSE_RST)
			return 1;
		olen[1] = seg(r, p->src, t, out[1], CT_TCP_RST | CT_TCP_ACK, isn + 1 + (uint32_t)n,
			      ack, NULL, 0);
		return 2;
	}
	r->st.fin++;
	/* close = server: our FIN went with the reply; else answer FIN with FIN. */
	uint8_t fl = r->close == CT_RESP_CLOSE_SERVER ? CT_TCP_ACK : CT_TCP_FIN | CT_TCP_ACK;
	olen[0] = seg(r, p->src, t, out[0], fl, t->ack, ack, NULL, 0);
	return 1;
}

unsigned ct_resp_answer(struct ct_resp *r, const uint8_t *f, size_t len, uint64_t now_s,
			uint8_t *out[2], size_t olen[2])
{
	struct ct_wire_pkt p;
	int partial;

	switch (ct_wire_parse(f, len, &p, &partial)) {
	case CT_WIRE_TCP:
		if (memcmp(p.dst, r->mac, CT_ETH_ALEN)) {
			r->st.ignored++;
			return 0;
		}
		return answer_tcp(r, &p, now_s, out, olen);
	case CT_WIRE_ARP:
		if (p.arp.op != CT_ARP_REQUEST || p.arp.tpa != r->addr)
			return 0;
		r->st.arp++;
		olen[0] = ct_wire_arp_build(out[0], p.arp.sha, CT_ARP_REPLY, r->mac, r->addr,
					    p.arp.sha, p.arp.spa);
		return 1;
	default:
		r->st.ignored++;
		return 0;
	}
}
