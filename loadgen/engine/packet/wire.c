/* wire — frames parsed and built (see wire.h). */
#include "loadgen/engine/packet/wire.h"

#include <string.h>

#define ETH_P_IP  0x0800
#define ETH_P_ARP 0x0806

static inline int ct_wire_host_is_le(void)
{
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 1071's sum in the host's byte order, 8 bytes a step (a frame's
 * headers are 40 to 60 bytes: the byte-pair loop was the engine's largest
 * cost per frame); the ones' complement sum does not depend on the order
 * of bytes within the words, so the folded result is swapped once at the
 * end on a little-endian host (RFC 1071 section 2, B). */
static uint16_t sum_native(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		s += (uint64_t)a + b;
	}
	if (len >= 4) {
		uint32_t a;
		memcpy(&a, p, 4);
		s += a;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t a;
		memcpy(&a, p, 2);
		s += a;
		p += 2;
		len -= 2;
	}
	if (len) /* the last byte is the high half of a big-endian word */
		s += ct_wire_host_is_le() ? p[0] : (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint32_t ct_wire_sum(const void *buf, size_t len, uint32_t sum)
{
	uint16_t n = sum_native(buf, len);
	if (ct_wire_host_is_le())
		n = (uint16_t)(n << 8 | n >> 8);
	uint64_t s = (uint64_t)sum + n;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint16_t ct_wire_csum(const void *buf, size_t len, uint32_t sum)
{
	return (uint16_t)~fold(ct_wire_sum(buf, len, sum));
}

/* The pseudo-header of a TCP segment of tcp_len bytes. */
static uint32_t pseudo_sum(uint32_t saddr, uint32_t daddr, size_t tcp_len)
{
	return (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) + 6u +
	       (uint32_t)tcp_len;
}

static enum ct_wire_kind parse_arp(const uint8_t *a, size_t len, struct ct_wire_arp *out)
{
	if (len < 28)
		return CT_WIRE_BAD_LEN;
	/* Ethernet hardware, IPv4 protocol, 6- and 4-byte addresses only. */
	if (get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
		return CT_WIRE_OTHER;
	out->op = get16(a + 6);
	memcpy(out->sha, a + 8, CT_ETH_ALEN);
	out->spa = get32(a + 14);
	memcpy(out->tha, a + 18, CT_ETH_ALEN);
	out->tpa = get32(a + 24);
	return CT_WIRE_ARP;
}

static enum ct_wire_kind parse_tcp(const uint8_t *ip, size_t len, struct ct_wire_tcp *out,
				   int *partial)
{
	if (len < CT_IP_HLEN || ip[0] >> 4 != 4)
		return len < CT_IP_HLEN ? CT_WIRE_BAD_LEN : CT_WIRE_OTHER;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot = get16(ip + 2);
	/* Ethernet pads short frames: trust the IP total length, not len. */
	if (ihl < CT_IP_HLEN || tot < ihl || tot > len)
		return CT_WIRE_BAD_LEN;
	if (ct_wire_csum(ip, ihl, 0) != 0)
		return CT_WIRE_BAD_CSUM;
	if (ip[9] != 6)
		return CT_WIRE_OTHER;
	if (get16(ip + 6) & 0x3fff) /* MF or a fragment offset */
		return CT_WIRE_FRAGMENT;
	const uint8_t *t = ip + ihl;
	size_t tlen = tot - ihl;
	if (tlen < CT_TCP_HLEN)
		return CT_WIRE_BAD_LEN;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < CT_TCP_HLEN || doff > tlen)
		return CT_WIRE_BAD_LEN;
	out->saddr = get32(ip + 12);
	out->daddr = get32(ip + 16);
	uint32_t ps = pseudo_sum(out->saddr, out->daddr, tlen);
	*partial = 0;
	if (ct_wire_csum(t, tlen, ps) != 0) {
		/* CHECKSUM_PARTIAL: the field is the folded pseudo-header sum. */
		if (get16(t + 16) != fold(ps))
			return CT_WIRE_BAD_CSUM;
		*partial = 1;
	}
	out->sport = get16(t);
	out->dport = get16(t + 2);
	out->seq = get32(t + 4);
	out->ack = get32(t + 8);
	out->flags = t[13];
	out->win = get16(t + 14);
	out->data = t + doff;
	out->len = (uint16_t)(tlen - doff);
	return CT_WIRE_TCP;
}

enum ct_wire_kind ct_wire_parse(const uint8_t *f, size_t len, struct ct_wire_pkt *out,
				int *partial)
{
	*partial = 0;
	if (!f || len < CT_ETH_HLEN)
		return CT_WIRE_BAD_LEN;
	memcpy(out->dst, f, CT_ETH_ALEN);
	memcpy(out->src, f + 6, CT_ETH_ALEN);
	switch (get16(f + 12)) {
	case ETH_P_ARP:
		return parse_arp(f + CT_ETH_HLEN, len - CT_ETH_HLEN, &out->arp);
	case ETH_P_IP:
		return parse_tcp(f + CT_ETH_HLEN, len - CT_ETH_HLEN, &out->tcp, partial);
	default:
		return CT_WIRE_OTHER;
	}
}

static void eth_header(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(buf, dst, CT_ETH_ALEN);
	memcpy(buf + 6, src, CT_ETH_ALEN);
	put16(buf + 12, type);
}

/* Both checksums are summed from the values written, never read back from
 * buf: a send buffer is usually cold (recycled after the port's last use),
 * and reading it back made each build wait for the line to arrive and for
 * its byte stores to land (the largest cost of a frame on the lab's veth). */
size_t ct_wire_tcp_build(uint8_t *buf, const struct ct_wire_flow *fl, uint8_t flags, uint32_t seq,
			 uint32_t ack, uint16_t win, uint16_t mss, const void *data, size_t len)
{
	size_t thl = CT_TCP_HLEN + (mss ? 4 : 0), tot = CT_IP_HLEN + thl + len;
	uint8_t *ip = buf + CT_ETH_HLEN, *t = ip + CT_IP_HLEN;
	uint32_t addrs = (fl->saddr >> 16) + (fl->saddr & 0xffff) + (fl->daddr >> 16) +
			 (fl->daddr & 0xffff);

	eth_header(buf, fl->dst_mac, fl->src_mac, ETH_P_IP);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 0);      /* id: DF is set, so it is not needed (RFC 6864) */
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, fl->saddr);
	put32(ip + 16, fl->daddr);
	/* 0x4500, the total length, 0x4000 (DF), 0x4006 (TTL 64, TCP), the addresses */
	put16(ip + 10, (uint16_t)~fold(0x4500u + (uint32_t)tot + 0x4000u + 0x4006u + addrs));

	put16(t, fl->sport);
	put16(t + 2, fl->dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = flags;
	put16(t + 14, win);
	put16(t + 18, 0);
	uint32_t sum = addrs + 6u + (uint32_t)(thl + len) + fl->sport + fl->dport + (seq >> 16) +
		       (seq & 0xffff) + (ack >> 16) + (ack & 0xffff) +
		       ((uint32_t)t[12] << 8 | flags) + win;
	if (mss) {
		t[20] = 2; /* kind MSS */
		t[21] = 4;
		put16(t + 22, mss);
		sum += 0x0204u + mss;
	}
	if (len) {
		memcpy(t + thl, data, len);
		sum = ct_wire_sum(data, len, sum); /* thl is even: the words line up */
	}
	put16(t + 16, (uint16_t)~fold(sum));
	size_t flen = CT_ETH_HLEN + tot;
	if (flen < CT_WIRE_MIN_FRAME) {
		memset(buf + flen, 0, CT_WIRE_MIN_FRAME - flen);
		flen = CT_WIRE_MIN_FRAME;
	}
	return flen;
}

size_t ct_wire_arp_build(uint8_t *buf, const uint8_t dst_mac[CT_ETH_ALEN], uint16_t op,
			 const uint8_t sha[CT_ETH_ALEN], uint32_t spa,
			 const uint8_t tha[CT_ETH_ALEN], uint32_t tpa)
{
	uint8_t *a = buf + CT_ETH_HLEN;
	eth_header(buf, dst_mac, sha, ETH_P_ARP);
	put16(a, 1);
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, CT_ETH_ALEN);
	put32(a + 14, spa);
	memcpy(a + 18, tha, CT_ETH_ALEN);
	put32(a + 24, tpa);
	memset(buf + CT_ARP_FRAME, 0, CT_WIRE_MIN_FRAME - CT_ARP_FRAME);
	return CT_WIRE_MIN_FRAME;
}
