/* wire — Ethernet, ARP, IPv4 and TCP frames: parse and build (pure).
 *
 * The packet engine's only view of bytes on the wire. Parsing never trusts
 * a length: every field read is inside the captured frame, an IPv4 header
 * length, total length or TCP data offset that does not fit is a bad frame,
 * and the caller counts and drops it. Checksums are computed in software
 * (an AF_PACKET or AF_XDP port offers no checksum offload).
 *
 * Addresses and ports in the parsed structs are host order; MACs are bytes.
 * Builders write a whole frame into a caller's buffer (at least
 * CT_WIRE_MAX_HDR + payload bytes) and return its length. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CT_ETH_ALEN	6
#define CT_ETH_HLEN	14
#define CT_IP_HLEN	20
#define CT_TCP_HLEN	20
#define CT_ARP_FRAME	42 /* Ethernet + ARP for IPv4; padded to 60 on send */
#define CT_WIRE_MIN_FRAME 60
/* Ethernet + IPv4 + TCP with the options the builder writes (MSS). */
#define CT_WIRE_MAX_HDR (CT_ETH_HLEN + CT_IP_HLEN + CT_TCP_HLEN + 4)

#define CT_TCP_FIN 0x01
#define CT_TCP_SYN 0x02
#define CT_TCP_RST 0x04
#define CT_TCP_PSH 0x08
#define CT_TCP_ACK 0x10

#define CT_ARP_REQUEST 1
#define CT_ARP_REPLY   2

/* What a frame is. The CT_WIRE_BAD_* kinds are counted and dropped. */
enum ct_wire_kind {
	CT_WIRE_OTHER = 0,  /* not ARP nor IPv4 TCP (IPv6, UDP ...): ignored */
	CT_WIRE_ARP,	    /* an IPv4-over-Ethernet ARP request or reply */
	CT_WIRE_TCP,	    /* an IPv4 TCP segment, checksums good */
	CT_WIRE_BAD_LEN,    /* truncated, or a length field that does not fit */
	CT_WIRE_BAD_CSUM,   /* IPv4 or TCP checksum wrong */
	CT_WIRE_FRAGMENT,   /* an IPv4 fragment: the engine never sends large segments */
	CT_WIRE_NKINDS
};

struct ct_wire_arp {
	uint16_t op;
	uint8_t sha[CT_ETH_ALEN], tha[CT_ETH_ALEN];
	uint32_t spa, tpa;
};

struct ct_wire_tcp {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *data; /* payload, inside the frame */
	uint16_t len;	     /* payload bytes */
};

struct ct_wire_pkt {
	uint8_t dst[CT_ETH_ALEN], src[CT_ETH_ALEN];
	union {
		struct ct_wire_arp arp;
		struct ct_wire_tcp tcp;
	};
};

/* The frame's kind; *out is filled for ARP and TCP. A TCP checksum left
 * unfinished by a sender that offloads it (CHECKSUM_PARTIAL from a veth
 * peer: the field holds the pseudo-header sum only) is accepted, since the
 * kernel on the other side would have accepted it too; *partial says so. */
enum ct_wire_kind ct_wire_parse(const uint8_t *f, size_t len, struct ct_wire_pkt *out,
				int *partial);

/* The Internet checksum (RFC 1071) of buf, starting from the 32-bit
 * partial sum `sum`; folded and complemented. */
uint16_t ct_wire_csum(const void *buf, size_t len, uint32_t sum);
/* The unfolded ones' complement sum of buf added to sum. */
uint32_t ct_wire_sum(const void *buf, size_t len, uint32_t sum);

/* The fixed part of a flow's frames: who sends to whom. */
struct ct_wire_flow {
	uint8_t src_mac[CT_ETH_ALEN], dst_mac[CT_ETH_ALEN];
	uint32_t saddr, daddr;
	uint16_t sport, dport;
};

/* A TCP segment: flags, seq, ack, window, the MSS option when mss != 0,
 * and `len` bytes of payload. Returns the frame's length (at least
 * CT_WIRE_MIN_FRAME: short frames are padded with zeros). */
size_t ct_wire_tcp_build(uint8_t *buf, const struct ct_wire_flow *fl, uint8_t flags, uint32_t seq,
			 uint32_t ack, uint16_t win, uint16_t mss, const void *data, size_t len);

/* An ARP request or reply; dst_mac is the Ethernet destination
 * (broadcast for a request). Returns CT_WIRE_MIN_FRAME. */
size_t ct_wire_arp_build(uint8_t *buf, const uint8_t dst_mac[CT_ETH_ALEN], uint16_t op,
			 const uint8_t sha[CT_ETH_ALEN], uint32_t spa,
			 const uint8_t tha[CT_ETH_ALEN], uint32_t tpa);
