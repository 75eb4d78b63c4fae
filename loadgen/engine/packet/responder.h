/* responder — the server side as a stateless responder (pure): each
 * received frame is answered from the frame alone, with no state per
 * connection, as in item 3 of issue 13.
 *
 *   SYN                 -> SYN-ACK, ISN = a cookie: SipHash of the 4-tuple
 *                          and a 64 s epoch under the responder's secret
 *   ACK + request       -> the reply (memcache "END\r\n", the request echoed,
 *                          or fixed bytes), with FIN ([server] close =
 *                          server), or followed by RST (close = rst)
 *   FIN                 -> FIN-ACK (close = client), or ACK (close = server:
 *                          our FIN went with the reply)
 *   data or FIN whose ACK is not cookie-based -> RST (counted)
 *   ARP who-has our address -> our MAC
 * Anything else is counted and left unanswered.
 *
 * Run by rloop.h (`ctload respond`), which the lab starts in its server
 * netns for [server] engine = responder (lab/responder.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "loadgen/engine/packet/isn.h"
#include "loadgen/engine/packet/wire.h"

enum ct_resp_mode { CT_RESP_MEMCACHE, CT_RESP_ECHO, CT_RESP_FIXED };

/* The longest reply: one segment (a longer echo or fixed reply is cut). */
#define CT_RESP_MAX_REPLY 1400
enum ct_resp_close { CT_RESP_CLOSE_CLIENT, CT_RESP_CLOSE_SERVER, CT_RESP_CLOSE_RST };

struct ct_resp_stats {
	uint64_t syn, request, fin, bad_cookie, ignored, arp;
};

struct ct_resp {
	uint8_t mac[CT_ETH_ALEN];
	uint32_t addr; /* host order */
	uint16_t port_lo, port_hi;
	struct ct_isn_key key;
	enum ct_resp_mode mode;
	const uint8_t *fixed; /* CT_RESP_FIXED */
	size_t fixed_len;     /* sent up to CT_RESP_MAX_REPLY */
	enum ct_resp_close close;
	struct ct_resp_stats st;
};

/* The cookie ISN of (client, cport) -> (server, sport) in the 64 s epoch
 * of now_s. */
uint32_t ct_resp_cookie(const struct ct_resp *r, uint32_t caddr, uint16_t cport, uint16_t sport,
			uint64_t now_s);

/* Answer frame f (len bytes) at time now_s: up to two frames written to
 * out[0], out[1] (each at least CT_WIRE_MAX_HDR + 1500 bytes), their
 * lengths in olen[]. Returns how many (0: no answer). */
/* (each out buffer: CT_WIRE_MAX_HDR + CT_RESP_MAX_REPLY bytes at least) */
unsigned ct_resp_answer(struct ct_resp *r, const uint8_t *f, size_t len, uint64_t now_s,
			uint8_t *out[2], size_t olen[2]);
