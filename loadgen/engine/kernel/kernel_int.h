/* kernel_int — the insides of the kernel-socket engine, shared by its files:
 *   kernel.c   the ops table: setup (pools, request, expect), start, snapshot, stop, free
 *   kworker.c  one engine thread: its event_base, the schedule timer, housekeeping
 *   kconn.c    one connection's life: launch, the state machine (drive), the reply match
 *
 * libevent, one event_base per thread, non-blocking sockets, an open-loop
 * schedule on a precise timer.
 *
 * Each thread owns a fixed pool of connection structs (nothing is allocated
 * per connection), a schedule (loadgen/engine/schedule.h) and its counters.
 * Its schedule timer fires just before the next due time and launches
 * every connection whose time has come (catching up after a slow
 * connect()); when the pool is empty the due connection waits for a free
 * slot and its latency, measured from the due time, shows the wait.
 *
 * Launch window ([load] launch_window, W): a wake-up also starts the
 * connections due within the next W, up to W early, and the timer is armed
 * for the next due time after that. The thread thus wakes at most about
 * once per W for the schedule instead of once per connection (at 20k/s on
 * loopback a wake-up per connection was a third of ctload's CPU per
 * connection: docs/PERFORMANCE.md). Latency counts from the earlier of the
 * due time and the actual start, so an early start hides nothing and a late
 * one shows.
 *
 * The timer is a timerfd of the thread's own (CLOCK_MONOTONIC, absolute,
 * set once per wake-up), armed min(W/4, 250 us) before the due time so that
 * the wake-up's own delay does not make the connection late. Not libevent's
 * timers: without EVENT_BASE_FLAG_PRECISE_TIMER they run on
 * CLOCK_MONOTONIC_COARSE, which advances once per jiffy (4 ms at HZ=250),
 * so a wake-up came up to 4 ms late and that showed as connect latency (p50
 * 1 ms against a 0.02 ms handshake at 300/s); with the flag libevent calls
 * timerfd_settime on every pass of its loop. W = 0 is one exact wake-up per
 * connection. */
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/ctime.h"
#include "loadgen/engine/engine.h"
#include "loadgen/engine/reqtmpl.h"
#include "loadgen/engine/schedule.h"

/* The receive side keeps only the last bytes of the reply: enough to tell
 * whether it ends with (or, raw, contains) [load] expect. Its start is
 * compared with [load] expect_start as it comes, and not kept. */
#define CONN_TAIL    48
#define CONN_HEAD    255
#define RBUF_SIZE    16384
#define NO_CONN	     UINT32_MAX
#define HK_PERIOD_US 10000
/* Launches per timer callback before yielding to I/O, so that a slow
 * connect() (full port range) cannot starve completions. */
#define LAUNCH_BUDGET 64
/* The wake-up is armed this much before the next due time, or a quarter of
 * the launch window if that is less (kworker.c wake_lead()). */
#define WAKE_LEAD_MAX_NS (250 * CT_NS_PER_USEC)
/* A connection still not started this long after the schedule's end (the
 * pool was full, or connect() itself had become slow) is counted unsent
 * instead of being started late: the step stays bounded. */
#define LATE_GRACE_NS (1000 * CT_NS_PER_MSEC)

/* A connection's life. ct_kconn drives it forward on each event. */
enum conn_state {
	CS_FREE = 0,   /* in the pool */
	CS_CONNECTING, /* connect() returned EINPROGRESS: wait until writable */
	CS_SENDING,    /* handshake done, request not fully written */
	CS_READING,    /* request sent, waiting for the expected reply */
	CS_DRAINING,   /* reply matched, waiting for the server to close (close=wait, raw) */
};

struct worker;

struct conn {
	struct event ev; /* I/O and timeout, re-assigned per state */
	struct worker *w;
	uint64_t due_ns; /* min(scheduled, actual start), monotonic: latencies count from here */
	uint64_t seq;
	int fd;
	uint32_t next_free;
	uint32_t sent; /* request bytes written */
	uint8_t state;
	uint8_t matched;  /* start_ok and end_ok: the reply is the expected one */
	uint8_t end_ok;	  /* expect holds (raw: was seen) */
	uint8_t head_len; /* reply bytes compared with expect_start so far */
	uint8_t head_bad; /* and they differed */
	uint8_t tail_len;
	char tail[CONN_TAIL];
};

/* Written by the owning thread only, read by snapshot with relaxed loads. */
struct counters {
	uint64_t attempted, established, completed, unsent, inflight, syn_retrans;
	uint64_t failures[CT_FAIL_N];
	struct ct_hist connect, total, connect_call;
};

struct kengine;

struct worker {
	struct kengine *e;
	unsigned idx;
	pthread_t th;
	bool started;
	struct event_base *base;
	struct event *timer, *hk, *wake; /* wake: the schedule's timerfd, tfd */
	int tfd;
	uint64_t wake_at; /* monotonic ns tfd is armed for, 0 = disarmed */
	bool wake_fired;  /* tfd expired and was not set since */
	const struct timeval *conn_tv, *reply_tv; /* libevent common timeouts */
	struct ct_schedule sched;
	bool have_next, blocked, sched_over;
	uint64_t next_due, next_seq;
	uint64_t drain_deadline;
	struct conn *pool;
	uint32_t npool, free_head;
	uint32_t src_next, dport_next, bport_next;
	/* Its client host (engine.h hosts) and that host's addresses in src[]. */
	unsigned host;
	size_t src_first, src_count;
	char *wbuf;
	size_t wbuf_len;
	char rbuf[RBUF_SIZE];
	int running; /* atomic */
	struct counters c;
};

struct kengine {
	struct ct_engine pub;
	struct ct_engine_config cfg; /* its src and load strings are not kept: see below */
	const struct ct_engine_load *load; /* &cfg.load */
	struct sockaddr_storage *src;
	socklen_t dst_len;
	struct ct_reqtmpl *req;
	const char *expect;
	char *expect_buf; /* expect with escapes decoded */
	size_t expect_len;
	char *start_buf; /* expect_start with escapes decoded; NULL = none */
	size_t start_len;
	unsigned nthreads;
	struct worker **w;
	uint64_t t0;	    /* schedule time 0, monotonic ns */
	uint64_t window_ns; /* [load] launch_window */
	int stop_req;	    /* atomic: 0 run, 1 stop starting, 2 abort */
	uint64_t stop_ns;   /* atomic: when the first stop was asked (monotonic ns) */
};

#define LOAD(p)	    __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define INC(p)	    STORE((p), LOAD(p) + 1)
#define ADD(p, n)   STORE((p), LOAD(p) + (n))

/* kconn.c: start the connection due at `due` (number `seq`) from the pool,
 * which must not be empty. */
void ct_kconn_launch(struct worker *w, uint64_t due, uint64_t seq, uint64_t now);
/* kconn.c: end every connection in flight (counted as timeout). */
void ct_kconn_abort_all(struct worker *w);
/* kconn.c: the libevent callback of every connection's event (arg = conn). */
void ct_kconn_on_io(evutil_socket_t fd, short what, void *arg);

/* kworker.c: an engine thread (arg = worker). */
void *ct_kworker_main(void *arg);
/* kworker.c: run the schedule timer after the current round of I/O. */
void ct_kworker_rearm_now(struct worker *w);
