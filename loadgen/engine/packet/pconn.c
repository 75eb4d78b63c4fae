/* pconn — one connection of the packet engine: launch on a free tuple, the
 * state machine each segment and each timer drives, the reply match. See
 * packet_int.h for the slot and the reuse policy. */
#include "loadgen/engine/packet/packet_int.h"

#include <string.h>

/* Seconds before SYN retransmission r (1-based) as Linux times them with
 * tcp_syn_linear_timeouts = 4: resent at 1, 2, 3, 4, 5, 7, 11, 19 ... s. */
static uint32_t syn_rto_ms(unsigned r)
{
	if (r <= 5)
		return 1000;
	unsigned sh = r - 5 < 6 ? r - 5 : 6;
	return 1000u << sh;
}

/* Sequence arithmetic modulo 2^32. */
static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static uint32_t snd_nxt(const struct pslot *s)
{
	return s->isn + 1 + s->reqlen;
}

uint32_t ct_pconn_slot_of(const struct pengine *e, uint32_t addr, uint16_t port)
{
	uint32_t a;
	if (port < e->port_lo || port > e->port_hi)
		return NO_SLOT;
	if (e->addrs_contig) {
		a = addr - e->addrs[0];
		if (a >= e->n_addrs)
			return NO_SLOT;
	} else {
		for (a = 0; a < e->n_addrs && e->addrs[a] != addr; a++)
			;
		if (a == e->n_addrs)
			return NO_SLOT;
	}
	return a * e->nports + (uint32_t)(port - e->port_lo);
}

void ct_pconn_prefetch(const struct pengine *e, const uint8_t *f, uint32_t len)
{
	/* Ethernet type IPv4, protocol TCP; the lengths are checked later. */
	if (len < CT_ETH_HLEN + CT_IP_HLEN + 4 || f[12] != 0x08 || f[13] != 0 ||
	    f[CT_ETH_HLEN + 9] != 6 || !e->addrs_contig)
		return;
	const uint8_t *ip = f + CT_ETH_HLEN;
	uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4;
	if (len < CT_ETH_HLEN + ihl + 4)
		return;
	uint32_t daddr = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 |
			 ip[19];
	uint16_t dport = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
	uint32_t i = ct_pconn_slot_of(e, daddr, dport);
	if (i != NO_SLOT)
		__builtin_prefetch(&e->slots[i], 1);
}

static void release(struct pengine *e, uint32_t i, uint64_t now)
{
	struct pslot *s = &e->slots[i];
	ct_ploop_timer_del(e, i);
	s->state = PS_FREE;
	s->due_ns = now + e->reuse_ns; /* the tuple rests this long */
	e->busy--;
}

/* Count the connection's outcome (once). */
static void count_done(struct pengine *e, struct pslot *s, int fail, uint64_t now)
{
	if (fail >= 0) {
		PINC(&e->c.failures[fail]);
	} else {
		ct_hist_record(&e->c.total, now - s->due_ns);
		PINC(&e->c.completed);
	}
	PSTORE(&e->c.inflight, PLOAD(&e->c.inflight) - 1);
}

/* A failure: counted, the server's side reset when it has one. */
static void fail(struct pengine *e, uint32_t i, enum ct_fail why, bool reset, uint64_t now)
{
	struct pslot *s = &e->slots[i];
	if (reset)
		ct_ploop_send_tcp(e, i, CT_TCP_RST | CT_TCP_ACK, snd_nxt(s), s->rcv_nxt, NULL, 0);
	count_done(e, s, (int)why, now);
	release(e, i, now);
}

/* The slot the launch takes: the cursor's, or one a little past it that
 * is free and rested; NO_SLOT when none is. */
static uint32_t take_slot(struct pengine *e, uint64_t now)
{
	for (unsigned k = 0; k < LAUNCH_AHEAD && k < e->nslots; k++) {
		uint32_t c = e->cursor++;
		if (e->cursor == e->nslots)
			e->cursor = 0;
		/* Interleave addresses: consecutive launches use different IPs. */
		uint32_t i = (c % e->n_addrs) * e->nports + c / e->n_addrs;
		struct pslot *s = &e->slots[i];
		if (s->state == PS_FREE && s->due_ns <= now) {
			/* The next launch's slot is another address's, megabytes
			 * away: start loading it now. */
			uint32_t c2 = e->cursor;
			__builtin_prefetch(&e->slots[(c2 % e->n_addrs) * e->nports + c2 / e->n_addrs], 1);
			return i;
		}
	}
	return NO_SLOT;
}

void ct_pconn_launch(struct pengine *e, uint64_t due, uint64_t seq, uint64_t now)
{
	PINC(&e->c.attempted);
	PSTORE(&e->c.inflight, PLOAD(&e->c.inflight) + 1);
	uint32_t i = take_slot(e, now);
	if (i == NO_SLOT) {
		PINC(&e->c.failures[CT_FAIL_EADDRNOTAVAIL]);
		PSTORE(&e->c.inflight, PLOAD(&e->c.inflight) - 1);
		return;
	}
	struct pslot *s = &e->slots[i];
	unsigned np = (unsigned)e->dport_hi - e->dport_lo + 1u;
	memset(s, 0, sizeof(*s));
	s->t_next = s->t_prev = NO_SLOT;
	s->due_ns = due < now ? due : now;
	s->seq = seq;
	s->dport = (uint16_t)(e->dport_lo + e->dport_next++ % np);
	s->isn = ct_isn(&e->key, e->addrs[i / e->nports], (uint16_t)(e->port_lo + i % e->nports),
			e->server, s->dport, now);
	s->state = PS_SYN_SENT;
	e->busy++;
	ct_ploop_send_tcp(e, i, CT_TCP_SYN, s->isn, 0, NULL, 0);
	ct_ploop_timer_set(e, i, ct_ploop_ms(e, now) + syn_rto_ms(1));
}

/* Feed reply bytes into the slot's tail; sets PF_MATCHED as the kernel
 * engine does: non-raw, the reply so far ends with expect; raw, expect
 * occurs in it. */
static void match(struct pengine *e, struct pslot *s, const uint8_t *p, size_t n)
{
	size_t el = e->expect_len;
	if (!e->expect) {
		s->flags |= PF_MATCHED;
		return;
	}
	if (e->load.raw && !(s->flags & PF_MATCHED)) {
		char joint[2 * CT_PKT_TAIL];
		size_t head = n < el ? n : el;
		memcpy(joint, s->tail, s->tail_len);
		memcpy(joint + s->tail_len, p, head);
		if (memmem(joint, s->tail_len + head, e->expect, el) || memmem(p, n, e->expect, el))
			s->flags |= PF_MATCHED;
	}
	if (n >= el) {
		memcpy(s->tail, p + n - el, el);
		s->tail_len = (uint8_t)el;
	} else {
		size_t keep = s->tail_len + n > el ? el - n : s->tail_len;
		memmove(s->tail, s->tail + s->tail_len - keep, keep);
		memcpy(s->tail + keep, p, n);
		s->tail_len = (uint8_t)(keep + n);
	}
	if (!e->load.raw) {
		bool m = s->tail_len == el && !memcmp(s->tail, e->expect, el);
		s->flags = (uint8_t)(m ? s->flags | PF_MATCHED : s->flags & ~PF_MATCHED);
	}
}

/* SYN_SENT: a SYN-ACK for our SYN completes the handshake, and the
 * request rides on its ACK; a RST that acknowledges the SYN refuses. */
static void on_syn_sent(struct pengine *e, uint32_t i, const struct ct_wire_tcp *t, uint64_t now)
{
	struct pslot *s = &e->slots[i];
	bool ack_ok = (t->flags & CT_TCP_ACK) && t->ack == s->isn + 1;

	if (t->flags & CT_TCP_RST) {
		if (ack_ok)
			fail(e, i, CT_FAIL_REFUSED, false, now);
		else
			e->pc.rst_ignored++;
		return;
	}
	if ((t->flags & (CT_TCP_SYN | CT_TCP_ACK)) != (CT_TCP_SYN | CT_TCP_ACK) || !ack_ok) {
		e->pc.bad_ack++;
		return;
	}
	s->rcv_nxt = t->seq + 1;
	PINC(&e->c.established);
	ct_hist_record(&e->c.connect, now - s->due_ns);
	PSTORE(&e->c.syn_retrans, PLOAD(&e->c.syn_retrans) + s->retries);
	int len = ct_reqtmpl_render(e->req, s->seq, 0, e->load.sched.seed, e->wbuf, e->wbuf_len);
	if (len < 0) {
		fail(e, i, CT_FAIL_OTHER, true, now);
		return;
	}
	s->reqlen = (uint16_t)len;
	ct_ploop_send_tcp(e, i, CT_TCP_ACK | (len ? CT_TCP_PSH : 0), s->isn + 1, s->rcv_nxt,
			  e->wbuf, (size_t)len);
	s->state = PS_ESTAB;
	ct_ploop_timer_set(e, i, ct_ploop_ms(e, now) + (uint32_t)(e->load.reply_timeout_ns /
								   CT_NS_PER_MSEC));
}

/* The data and FIN of an in-window segment; false when it is not the next
 * in sequence (answered with an ACK, nothing taken). */
static bool take_data(struct pengine *e, uint32_t i, const struct ct_wire_tcp *t)
{
	struct pslot *s = &e->slots[i];
	if (!t->len && !(t->flags & CT_TCP_FIN))
		return true;
	if (t->seq != s->rcv_nxt) {
		e->pc.out_of_order++;
		ct_ploop_send_tcp(e, i, CT_TCP_ACK, snd_nxt(s) + !!(s->flags & PF_FIN_SENT),
				  s->rcv_nxt, NULL, 0);
		return false;
	}
	if (t->len && s->state == PS_ESTAB)
		match(e, s, t->data, t->len);
	s->rcv_nxt += t->len;
	if (t->flags & CT_TCP_FIN) {
		s->rcv_nxt++;
		s->flags |= PF_PEER_FIN;
	}
	return true;
}

/* ESTAB: the reply matched (or the server closed): count the outcome and
 * close as [load] close says. */
static void after_data(struct pengine *e, uint32_t i, bool got, uint64_t now)
{
	struct pslot *s = &e->slots[i];
	bool matched = s->flags & PF_MATCHED, peer_fin = s->flags & PF_PEER_FIN;
	bool wait = e->load.raw || e->load.close == CT_ENGINE_CLOSE_WAIT;

	if (peer_fin && !matched) {
		fail(e, i, CT_FAIL_PROTOCOL, true, now);
		return;
	}
	if (!matched || (wait && !peer_fin)) {
		if (got)
			ct_ploop_send_tcp(e, i, CT_TCP_ACK, snd_nxt(s), s->rcv_nxt, NULL, 0);
		return;
	}
	count_done(e, s, -1, now);
	if (e->load.close == CT_ENGINE_CLOSE_RST) {
		ct_ploop_send_tcp(e, i, CT_TCP_RST | CT_TCP_ACK, snd_nxt(s), s->rcv_nxt, NULL, 0);
		release(e, i, now);
		return;
	}
	ct_ploop_send_tcp(e, i, CT_TCP_FIN | CT_TCP_ACK, snd_nxt(s), s->rcv_nxt, NULL, 0);
	s->flags |= PF_FIN_SENT;
	s->state = PS_CLOSING;
	ct_ploop_timer_set(e, i, ct_ploop_ms(e, now) + (uint32_t)(e->load.reply_timeout_ns /
								   CT_NS_PER_MSEC));
}

/* ESTAB and CLOSING. */
static void on_open(struct pengine *e, uint32_t i, const struct ct_wire_tcp *t, uint64_t now)
{
	struct pslot *s = &e->slots[i];
	uint32_t wnd_end = s->rcv_nxt + 65535;

	if (t->flags & CT_TCP_RST) {
		/* RFC 5961: only a RST inside the window resets. */
		if (seq_lt(t->seq, s->rcv_nxt) || !seq_lt(t->seq, wnd_end)) {
			e->pc.rst_ignored++;
		} else if (s->state == PS_CLOSING) {
			release(e, i, now);
		} else if (s->flags & PF_MATCHED) {
			count_done(e, s, -1, now); /* a reset after the full reply */
			release(e, i, now);
		} else {
			fail(e, i, CT_FAIL_RESET, false, now);
		}
		return;
	}
	if (t->flags & CT_TCP_SYN) {
		/* A SYN-ACK again: our ACK (and the request on it) was lost.
		 * Send both again; a server that had them drops the copy. */
		int len = s->state == PS_ESTAB && s->reqlen
			      ? ct_reqtmpl_render(e->req, s->seq, 0, e->load.sched.seed, e->wbuf,
						  e->wbuf_len)
			      : 0;
		if (len != s->reqlen)
			len = 0;
		ct_ploop_send_tcp(e, i, CT_TCP_ACK | (len ? CT_TCP_PSH : 0),
				  len ? s->isn + 1 : snd_nxt(s) + !!(s->flags & PF_FIN_SENT),
				  s->rcv_nxt, e->wbuf, (size_t)len);
		return;
	}
	if (!(t->flags & CT_TCP_ACK) || seq_lt(snd_nxt(s) + !!(s->flags & PF_FIN_SENT), t->ack)) {
		e->pc.bad_ack++;
		return;
	}
	if ((s->flags & PF_FIN_SENT) && t->ack == snd_nxt(s) + 1)
		s->flags |= PF_FIN_ACKED;
	bool had_fin = s->flags & PF_PEER_FIN;
	bool got = (t->len || (t->flags & CT_TCP_FIN)) && take_data(e, i, t);
	if (s->state == PS_ESTAB) {
		after_data(e, i, got, now);
		return;
	}
	if (!had_fin && (s->flags & PF_PEER_FIN)) /* the server's FIN after ours */
		ct_ploop_send_tcp(e, i, CT_TCP_ACK, snd_nxt(s) + 1, s->rcv_nxt, NULL, 0);
	if ((s->flags & (PF_FIN_ACKED | PF_PEER_FIN)) == (PF_FIN_ACKED | PF_PEER_FIN))
		release(e, i, now);
}

void ct_pconn_segment(struct pengine *e, const struct ct_wire_tcp *t, uint64_t now)
{
	uint32_t i = ct_pconn_slot_of(e, t->daddr, t->dport);
	struct pslot *s = i == NO_SLOT ? NULL : &e->slots[i];

	if (!s || s->state == PS_FREE || t->saddr != e->server || t->sport != s->dport) {
		e->pc.no_conn++;
		return;
	}
	if (s->state == PS_SYN_SENT)
		on_syn_sent(e, i, t, now);
	else
		on_open(e, i, t, now);
}

void ct_pconn_timer(struct pengine *e, uint32_t i, uint64_t now)
{
	struct pslot *s = &e->slots[i];
	uint32_t ms = ct_ploop_ms(e, now);

	switch (s->state) {
	case PS_SYN_SENT: {
		uint64_t end = s->due_ns + e->load.connect_timeout_ns;
		if (now >= end) {
			fail(e, i, CT_FAIL_TIMEOUT, false, now);
			return;
		}
		s->retries++;
		ct_ploop_send_tcp(e, i, CT_TCP_SYN, s->isn, 0, NULL, 0);
		uint32_t at = ms + syn_rto_ms(s->retries + 1u), end_ms = ct_ploop_ms(e, end) + 1;
		ct_ploop_timer_set(e, i, at < end_ms ? at : end_ms);
		return;
	}
	case PS_ESTAB:
		if ((s->flags & PF_MATCHED) && !(s->flags & PF_PEER_FIN)) {
			/* close = wait: the reply came in full, the server never
			 * closed; a success, as with the kernel engine. */
			count_done(e, s, -1, now);
			ct_ploop_send_tcp(e, i, CT_TCP_RST | CT_TCP_ACK, snd_nxt(s), s->rcv_nxt,
					  NULL, 0);
			release(e, i, now);
		} else {
			fail(e, i, CT_FAIL_TIMEOUT, true, now);
		}
		return;
	case PS_CLOSING:
		e->pc.close_timeouts++;
		ct_ploop_send_tcp(e, i, CT_TCP_RST | CT_TCP_ACK, snd_nxt(s) + 1, s->rcv_nxt, NULL,
				  0);
		release(e, i, now);
		return;
	default:
		ct_ploop_timer_del(e, i);
		return;
	}
}

void ct_pconn_abort_all(struct pengine *e, uint64_t now)
{
	for (uint32_t i = 0; i < e->nslots && e->busy; i++) {
		struct pslot *s = &e->slots[i];
		if (s->state == PS_SYN_SENT || s->state == PS_ESTAB)
			fail(e, i, CT_FAIL_TIMEOUT, s->state == PS_ESTAB, now);
		else if (s->state == PS_CLOSING)
			release(e, i, now);
	}
	ct_ploop_flush(e);
}
