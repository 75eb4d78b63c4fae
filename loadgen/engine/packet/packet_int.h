/* packet_int — the insides of the packet engine (a userspace TCP client
 * over a packet-I/O port), shared by its files:
 *   pengine.c  the ops table: setup (port, next hop by ARP, tuple pool,
 *              request, expect), start, snapshot, stop, free
 *   ploop.c    the engine's one thread: schedule, receive bursts, ARP
 *              answers, the timer wheel, send bursts, the end of a step
 *   pconn.c    one connection's life: launch, the state machine driven by
 *              each segment and each timer, the reply match
 *   wire.c     frames parsed and built; isn.c the ISNs; pktio.c and
 *              pcapio.c the port (pcapio.c the only pcap.h includer)
 *
 * A connection is a 64-byte slot in one flat array indexed by its client
 * tuple: slot = address index x ports + (port - port_lo), so a received
 * segment finds its connection with two subtractions and no hash. A slot
 * holds no buffers: the request is rendered again from its sequence number
 * when it is sent, and only the last bytes of the reply are kept (enough
 * to match [load] expect, at most CT_PKT_TAIL bytes).
 *
 * Tuple reuse: a slot freed at t is not used again before t + [load]
 * reuse_after, so a tuple does not come back while conntrack may still
 * hold its entry (a SYN that matches an entry in TIME_WAIT reopens it
 * instead of adding one). The launch takes the slot at a round-robin
 * cursor (client addresses interleaved), looking a little ahead; none
 * ready is a failure with cause eaddrnotavail, as a kernel client would
 * report.
 *
 * Not done (short connections on a clean lab link do not need it): data
 * retransmission, congestion control, SACK, window scaling, timestamps,
 * reassembly of out-of-order data (counted and answered with an ACK). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/ctime.h"
#include "loadgen/engine/engine.h"
#include "loadgen/engine/packet/isn.h"
#include "loadgen/engine/packet/pktio.h"
#include "loadgen/engine/packet/wire.h"
#include "loadgen/engine/reqtmpl.h"
#include "loadgen/engine/schedule.h"

extern const struct ct_pktio_ops ct_pktio_pcap_ops;
extern const struct ct_pktio_ops ct_pktio_dpdk_ops;

/* The kernel's default ephemeral range, for [load] ports = kernel. */
#define CT_PKT_PORTS_LO 32768
#define CT_PKT_PORTS_HI 60999
#define CT_PKT_TAIL  16	  /* reply bytes a slot keeps: the longest [load] expect */
#define NO_SLOT	     UINT32_MAX
#define PKT_BURST    64
#define TW_BUCKETS   1024 /* the timer wheel: 1 ms buckets */
#define LAUNCH_AHEAD 64	  /* slots the launch looks at past the cursor */
#define LATE_GRACE_NS (1000 * CT_NS_PER_MSEC)

enum pstate {
	PS_FREE = 0,
	PS_SYN_SENT, /* SYN sent (and retransmitted on the timer) */
	PS_ESTAB,    /* request sent with the handshake's ACK; reading the reply */
	PS_CLOSING,  /* counted; FIN or the server's FIN exchanged, slot held until done */
};

/* Slot flags. */
#define PF_MATCHED   0x01 /* the reply met [load] expect */
#define PF_FIN_SENT  0x02
#define PF_FIN_ACKED 0x04
#define PF_PEER_FIN  0x08

struct pslot {
	uint64_t due_ns; /* latencies count from here; when free: reusable from then */
	uint64_t seq;	 /* the connection's number (renders the request) */
	uint32_t isn, rcv_nxt;
	uint32_t t_next, t_prev; /* timer wheel list */
	uint32_t deadline_ms;	 /* timer, ms since the engine's t0 */
	uint16_t dport;
	uint16_t reqlen;
	uint8_t state, flags, retries, tail_len;
	char tail[CT_PKT_TAIL];
};
_Static_assert(sizeof(struct pslot) <= 64, "a connection slot is at most 64 bytes");

/* Frames the engine dropped or answered, by reason (logged at the end). */
struct pcounters {
	uint64_t bad[CT_WIRE_NKINDS]; /* by parse result */
	uint64_t partial_csum;	      /* accepted with an offloaded checksum */
	uint64_t no_conn;	      /* a segment for no connection of ours */
	uint64_t bad_ack;	      /* unacceptable ACK or SYN-ACK */
	uint64_t out_of_order;	      /* data not at rcv_nxt */
	uint64_t rst_ignored;	      /* RST out of the window */
	uint64_t tx_nobuf;	      /* no send buffer: frame dropped */
	uint64_t arp_answered;
	uint64_t close_timeouts; /* closing exchange never finished */
	uint64_t io_cycles;	 /* TSC cycles inside rx_burst and tx_burst */
};

/* Written by the engine thread, read by snapshot with relaxed loads. */
struct pstats {
	uint64_t attempted, established, completed, unsent, inflight, syn_retrans;
	uint64_t busy_cycles, io_cycles, frames; /* see struct ct_engine_stats */
	uint64_t failures[CT_FAIL_N];
	struct ct_hist connect, total;
};

/* The loop's clock: nanoseconds on ct_now_ns()'s scale, interpolated from
 * the cycle counter the loop reads anyway for its cost (ploop.c). A
 * clock_gettime() a turn was 55-70 cycles here, two a turn; the counter
 * is re-anchored to ct_now_ns() every PCLOCK_RESYNC cycles (about 0.5 ms)
 * so drift and a counter that differs between CPUs stay bounded. */
#define PCLOCK_RESYNC (1ull << 20)
struct pclock {
	uint64_t tsc0, ns0;	/* the last anchor */
	uint64_t base_tsc, base_ns; /* the first: the rate over the longest span */
	double ns_per_cycle;	/* 0 until a span of PCLOCK_RESYNC cycles is seen */
	uint64_t last;		/* never goes back */
};

struct pengine {
	struct ct_engine pub;
	struct ct_engine_load load; /* strings not kept */
	struct ct_pktio *io;
	struct ct_isn_key key;
	uint8_t gw_mac[CT_ETH_ALEN];
	uint32_t server, gw;	  /* host order */
	uint16_t dport_lo, dport_hi;
	uint32_t *addrs;	  /* client pool, host order */
	uint32_t n_addrs;
	bool addrs_contig;
	uint16_t port_lo, port_hi;
	uint32_t nports, nslots;
	struct pslot *slots;
	uint32_t cursor, dport_next;
	struct ct_reqtmpl *req;
	char *expect;
	size_t expect_len;
	uint16_t mss;
	uint64_t reuse_ns;
	/* the thread */
	pthread_t th;
	bool started;
	int running; /* atomic */
	uint64_t t0;
	struct ct_schedule sched;
	bool have_next, sched_over;
	uint64_t next_due, next_seq, drain_deadline;
	struct pclock clk;
	uint32_t busy; /* slots not free */
	uint32_t wheel[TW_BUCKETS];
	uint32_t wheel_ms; /* the next bucket to run, ms since t0 */
	struct ct_pkt tx[PKT_BURST];
	unsigned ntx;
	char *wbuf;
	size_t wbuf_len;
	int stop_req;	  /* atomic: 0 run, 1 stop starting, 2 abort */
	uint64_t stop_ns; /* atomic */
	struct pstats c;
	struct pcounters pc;
	int *group_left;    /* shards: how many are not done yet (atomic) */
	bool group_counted; /* this one has counted itself done */
};

#define PLOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define PSTORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define PINC(p)	     PSTORE((p), PLOAD(p) + 1)

/* pconn.c: start connection `seq`, due at `due`, on a free tuple. */
void ct_pconn_launch(struct pengine *e, uint64_t due, uint64_t seq, uint64_t now);
/* pconn.c: a TCP segment addressed to the client pool. */
void ct_pconn_segment(struct pengine *e, const struct ct_wire_tcp *t, uint64_t now);
/* pconn.c: slot i's timer ran out. */
void ct_pconn_timer(struct pengine *e, uint32_t i, uint64_t now);
/* pconn.c: end every connection (counted as timeout), reset the server's. */
void ct_pconn_abort_all(struct pengine *e, uint64_t now);
/* pconn.c: start loading the slot a received frame is for (a prefetch:
 * nothing checked, nothing changed; frames not IPv4 TCP are skipped). */
void ct_pconn_prefetch(const struct pengine *e, const uint8_t *f, uint32_t len);
/* pconn.c: the slot of (client address, port), or NO_SLOT. */
uint32_t ct_pconn_slot_of(const struct pengine *e, uint32_t addr, uint16_t port);

/* ploop.c: the engine thread (arg = engine). */
void *ct_ploop_main(void *arg);
/* ploop.c: queue a TCP segment from slot i. */
void ct_ploop_send_tcp(struct pengine *e, uint32_t i, uint8_t flags, uint32_t seq, uint32_t ack,
		       const void *data, size_t len);
/* ploop.c: send what is queued. */
void ct_ploop_flush(struct pengine *e);
/* ploop.c: a frame received: ARP answers, TCP to pconn. */
void ct_ploop_frame(struct pengine *e, const uint8_t *f, uint32_t len, uint64_t now);
/* ploop.c: the timer wheel: arm (at ms since t0) and cancel. */
void ct_ploop_timer_set(struct pengine *e, uint32_t i, uint32_t at_ms);
void ct_ploop_timer_del(struct pengine *e, uint32_t i);
/* ms since t0 (0 before it). */
static inline uint32_t ct_ploop_ms(const struct pengine *e, uint64_t now)
{
	return now > e->t0 ? (uint32_t)((now - e->t0) / CT_NS_PER_MSEC) : 0;
}
