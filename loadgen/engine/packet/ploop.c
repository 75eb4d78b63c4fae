/* ploop — the packet engine's one thread: the schedule (launch window as
 * in the kernel engine), receive bursts, ARP answers for the client pool,
 * the timer wheel, send bursts, and the end of a step. See packet_int.h. */
#include "loadgen/engine/packet/packet_int.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#define WAIT_MAX_MS 10

/* A cycle counter for the cost of a loop turn: the TSC where there is one. */
static inline uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return ct_now_ns();
#endif
}

/* ct_now_ns() re-read: the anchor moves, the rate is measured again. */
static uint64_t clock_resync(struct pclock *k, uint64_t c)
{
	uint64_t ns = ct_now_ns();
	if (!k->base_tsc) {
		k->base_tsc = c;
		k->base_ns = ns;
	} else if (c - k->base_tsc >= PCLOCK_RESYNC && c > k->base_tsc && ns > k->base_ns) {
		k->ns_per_cycle = (double)(ns - k->base_ns) / (double)(c - k->base_tsc);
	}
	k->tsc0 = c;
	k->ns0 = ns;
	if (ns > k->last)
		k->last = ns;
	return k->last;
}

/* The time at cycle count c (a cycles() value just read). */
static uint64_t clock_ns(struct pengine *e, uint64_t c)
{
	struct pclock *k = &e->clk;
	uint64_t d = c - k->tsc0; /* huge if c is behind: re-anchor */
	if (d >= PCLOCK_RESYNC || k->ns_per_cycle == 0)
		return clock_resync(k, c);
	uint64_t ns = k->ns0 + (uint64_t)((double)d * k->ns_per_cycle);
	if (ns > k->last)
		k->last = ns;
	return k->last;
}

void ct_ploop_flush(struct pengine *e)
{
	unsigned off = 0;
	if (!e->ntx)
		return; /* no call: a DPDK af_packet tx_burst makes a syscall even for 0 */
	uint64_t c0 = cycles();
	/* A full queue takes part of a burst: retry a few times, then drop
	 * the rest (counted), as a lossy link would. */
	for (int tries = 0; off < e->ntx && tries < 4; tries++)
		off += ct_pktio_tx_burst(e->io, e->tx + off, e->ntx - off);
	e->pc.io_cycles += cycles() - c0;
	if (off < e->ntx) {
		e->pc.tx_nobuf += e->ntx - off;
		ct_pktio_tx_free(e->io, e->tx + off, e->ntx - off);
	}
	e->ntx = 0;
}

/* A send buffer for the next frame, or NULL (counted). */
static struct ct_pkt *tx_buf(struct pengine *e)
{
	if (e->ntx == PKT_BURST)
		ct_ploop_flush(e);
	struct ct_pkt *p = &e->tx[e->ntx];
	if (ct_pktio_tx_alloc(e->io, p, 1) != 1) {
		ct_ploop_flush(e);
		if (ct_pktio_tx_alloc(e->io, p, 1) != 1) {
			e->pc.tx_nobuf++;
			return NULL;
		}
	}
	e->ntx++;
	return p;
}

void ct_ploop_send_tcp(struct pengine *e, uint32_t i, uint8_t flags, uint32_t seq, uint32_t ack,
		       const void *data, size_t len)
{
	const struct pslot *s = &e->slots[i];
	struct ct_pkt *p = tx_buf(e);
	if (!p)
		return;
	struct ct_wire_flow fl = {.saddr = e->addrs[i / e->nports],
				  .daddr = e->server,
				  .sport = (uint16_t)(e->port_lo + i % e->nports),
				  .dport = s->dport};
	memcpy(fl.src_mac, e->io->mac, CT_ETH_ALEN);
	memcpy(fl.dst_mac, e->gw_mac, CT_ETH_ALEN);
	p->len = (uint32_t)ct_wire_tcp_build(p->data, &fl, flags, seq, ack, 65535,
					     (flags & CT_TCP_SYN) ? e->mss : 0, data, len);
}

static bool in_pool(const struct pengine *e, uint32_t addr)
{
	return ct_pconn_slot_of(e, addr, e->port_lo) != NO_SLOT;
}

/* Answer who-has for a pool address (the kernel of our netns does not:
 * the addresses are not on its interface); learn the next hop's MAC. */
static void on_arp(struct pengine *e, const struct ct_wire_arp *a)
{
	if (a->spa == e->gw && (a->op == CT_ARP_REPLY || a->op == CT_ARP_REQUEST))
		memcpy(e->gw_mac, a->sha, CT_ETH_ALEN);
	if (a->op != CT_ARP_REQUEST || !in_pool(e, a->tpa))
		return;
	struct ct_pkt *p = tx_buf(e);
	if (!p)
		return;
	p->len = (uint32_t)ct_wire_arp_build(p->data, a->sha, CT_ARP_REPLY, e->io->mac, a->tpa,
					     a->sha, a->spa);
	e->pc.arp_answered++;
}

/* Two MACs equal: inline loads, not a memcmp() call a frame. */
static inline bool same_mac(const uint8_t *a, const uint8_t *b)
{
	uint32_t a4, b4;
	uint16_t a2, b2;
	memcpy(&a4, a, 4);
	memcpy(&b4, b, 4);
	memcpy(&a2, a + 4, 2);
	memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

void ct_ploop_frame(struct pengine *e, const uint8_t *f, uint32_t len, uint64_t now)
{
	struct ct_wire_pkt pk;
	int partial;
	enum ct_wire_kind k = ct_wire_parse(f, len, &pk, &partial);

	switch (k) {
	case CT_WIRE_ARP:
		on_arp(e, &pk.arp);
		return;
	case CT_WIRE_TCP:
		if (partial)
			e->pc.partial_csum++;
		/* Only frames for our MAC: a switch may flood others to us. */
		if (!same_mac(pk.dst, e->io->mac)) {
			e->pc.no_conn++;
			return;
		}
		ct_pconn_segment(e, &pk.tcp, now);
		return;
	default:
		e->pc.bad[k]++;
		return;
	}
}

void ct_ploop_timer_set(struct pengine *e, uint32_t i, uint32_t at_ms)
{
	struct pslot *s = &e->slots[i];
	ct_ploop_timer_del(e, i);
	if (at_ms < e->wheel_ms)
		at_ms = e->wheel_ms; /* runs with the next tick */
	uint32_t b = at_ms % TW_BUCKETS;
	s->deadline_ms = at_ms;
	s->t_prev = NO_SLOT;
	s->t_next = e->wheel[b];
	if (s->t_next != NO_SLOT)
		e->slots[s->t_next].t_prev = i;
	e->wheel[b] = i;
}

void ct_ploop_timer_del(struct pengine *e, uint32_t i)
{
	struct pslot *s = &e->slots[i];
	if (s->t_prev != NO_SLOT)
		e->slots[s->t_prev].t_next = s->t_next;
	else if (e->wheel[s->deadline_ms % TW_BUCKETS] == i)
		e->wheel[s->deadline_ms % TW_BUCKETS] = s->t_next;
	else
		return; /* not on the wheel */
	if (s->t_next != NO_SLOT)
		e->slots[s->t_next].t_prev = s->t_prev;
	s->t_next = s->t_prev = NO_SLOT;
}

/* Run every bucket up to now; entries a turn of the wheel away stay. */
static void run_timers(struct pengine *e, uint64_t now)
{
	uint32_t until = ct_ploop_ms(e, now);
	for (; e->wheel_ms <= until; e->wheel_ms++) {
		uint32_t b = e->wheel_ms % TW_BUCKETS, i = e->wheel[b];
		while (i != NO_SLOT) {
			uint32_t next = e->slots[i].t_next;
			if (e->slots[i].deadline_ms <= e->wheel_ms)
				ct_pconn_timer(e, i, now);
			i = next;
		}
	}
}

static void end_schedule(struct pengine *e, uint64_t now)
{
	e->have_next = false;
	e->sched_over = true;
	e->drain_deadline = now + e->load.connect_timeout_ns + e->load.reply_timeout_ns;
}

static void advance(struct pengine *e, uint64_t now)
{
	uint64_t due;
	e->have_next = ct_schedule_next(&e->sched, &due, &e->next_seq);
	if (e->have_next)
		e->next_due = e->t0 + due;
	else
		end_schedule(e, now);
}

/* What was due by `until` (ns since t0) and never started. */
static void count_unsent(struct pengine *e, uint64_t until)
{
	uint64_t due, seq, n = 0;
	if (e->have_next && e->next_due - e->t0 <= until) {
		n = 1;
		while (ct_schedule_next(&e->sched, &due, &seq) && due <= until)
			n++;
	}
	PSTORE(&e->c.unsent, PLOAD(&e->c.unsent) + n);
	e->have_next = false;
}

/* Start what is due within the launch window; the in-flight cap makes the
 * due connection wait (its latency shows the wait). */
static unsigned launch_due(struct pengine *e, uint64_t now)
{
	unsigned cap = e->load.max_inflight ? e->load.max_inflight : 10000, n = 0;
	for (; n < PKT_BURST && e->have_next; n++) {
		if (e->next_due > now + e->load.launch_window_ns || PLOAD(&e->c.inflight) >= cap)
			break;
		ct_pconn_launch(e, e->next_due, e->next_seq, now);
		advance(e, now);
	}
	return n;
}


/* Stop requests, the schedule's end, the drain deadline. True when the
 * thread is done. */
static bool housekeeping(struct pengine *e, uint64_t now)
{
	int stop = PLOAD(&e->stop_req);
	if (!e->sched_over &&
	    (stop || now >= e->t0 + e->load.sched.duration_ns + LATE_GRACE_NS)) {
		uint64_t at = PLOAD(&e->stop_ns) ? PLOAD(&e->stop_ns) : now;
		count_unsent(e, stop && at > e->t0 ? at - e->t0 : UINT64_MAX);
		end_schedule(e, now);
	}
	if (stop == 2 || (e->sched_over && now >= e->drain_deadline)) {
		ct_pconn_abort_all(e, now);
		return true;
	}
	bool done = e->sched_over && e->busy == 0;
	/* A shard of several (pshard.c) polls on until all are done: its
	 * queue may still receive the others' frames, to hand over. */
	if (e->group_left) {
		if (done && !e->group_counted) {
			e->group_counted = true;
			__atomic_sub_fetch(e->group_left, 1, __ATOMIC_RELAXED);
		}
		return done && PLOAD(e->group_left) == 0;
	}
	return done;
}

/* Sleep until a frame arrives, the next due time (less the launch
 * window), the next non-empty bucket of the timer wheel, or at most
 * WAIT_MAX_MS (stop requests are seen that often). A wake-up every
 * millisecond cost 0.5 ms of CPU per connection at 200/s. */
static void wait_io(struct pengine *e, uint64_t now)
{
	uint64_t until = now + WAIT_MAX_MS * CT_NS_PER_MSEC;
	for (uint32_t ms = e->wheel_ms; ms < e->wheel_ms + WAIT_MAX_MS; ms++) {
		if (e->wheel[ms % TW_BUCKETS] != NO_SLOT) {
			uint64_t at = e->t0 + (uint64_t)ms * CT_NS_PER_MSEC;
			if (at < until)
				until = at;
			break;
		}
	}
	/* As the kernel engine: wake a quarter of the window (at most 250 us)
	 * before the due time, and start all that is due within the window. */
	uint64_t lead = e->load.launch_window_ns / 4;
	if (lead > 250 * CT_NS_PER_USEC)
		lead = 250 * CT_NS_PER_USEC;
	if (e->have_next && e->next_due < until + lead)
		until = e->next_due > lead + now ? e->next_due - lead : now;
	if (until <= now)
		return;
	struct pollfd pf = {.fd = ct_pktio_fd(e->io), .events = POLLIN};
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(until - now)};
	if (pf.fd >= 0)
		(void)ppoll(&pf, 1, &ts, NULL);
}

void *ct_ploop_main(void *arg)
{
	struct pengine *e = arg;
	struct ct_pkt rx[PKT_BURST];
	uint64_t now = clock_ns(e, cycles());
	bool can_wait = ct_pktio_fd(e->io) >= 0; /* else busy-poll: no wait_io */

	ct_pktio_thread_enter(e->io);
	advance(e, now);
	for (;;) {
		/* One counter read both times the turn and gives its clock. */
		uint64_t c0 = cycles(), io0 = e->pc.io_cycles;
		unsigned launched = 0;
		now = clock_ns(e, c0);
		if (housekeeping(e, now))
			break;
		if (!PLOAD(&e->stop_req))
			launched = launch_due(e, now);
		uint64_t r0 = cycles();
		unsigned n = ct_pktio_rx_burst(e->io, rx, PKT_BURST);
		uint64_t r1 = cycles();
		e->pc.io_cycles += r1 - r0;
		now = clock_ns(e, r1);
		/* The frames' connection slots are cold (one in a table of up to
		 * 16M): ask for all of them first, so their misses overlap each
		 * other and the frames' parsing instead of coming one by one. */
		for (unsigned k = 0; k < n; k++)
			ct_pconn_prefetch(e, rx[k].data, rx[k].len);
		for (unsigned k = 0; k < n; k++)
			ct_ploop_frame(e, rx[k].data, rx[k].len, now);
		if (n)
			ct_pktio_rx_free(e->io, rx, n);
		run_timers(e, now);
		ct_ploop_flush(e);
		if (n || launched) {
			PSTORE(&e->c.busy_cycles, e->c.busy_cycles + (cycles() - c0));
			PSTORE(&e->c.io_cycles, e->c.io_cycles + (e->pc.io_cycles - io0));
			PSTORE(&e->c.frames, e->io->st.rx + e->io->st.tx);
		}
		if (n < PKT_BURST && can_wait)
			wait_io(e, clock_ns(e, cycles()));
	}
	ct_ploop_flush(e);
	ct_pktio_thread_leave(e->io);
	PSTORE(&e->running, 0);
	return NULL;
}
