/* engine_kernel — the kernel-socket engine: libevent, one event_base per
 * thread, non-blocking sockets, an open-loop schedule on a precise timer.
 *
 * Each thread owns a fixed pool of connection structs (nothing is allocated
 * per connection), a schedule (loadgen/schedule.h) and its counters. Its
 * schedule timer fires at the next due time and launches every connection
 * whose time has come (catching up after a slow connect()); when the pool is
 * empty the due connection waits for a free slot and its latency, measured
 * from the due time, shows the wait.
 *
 * Launch window ([load] launch_window, W): a wake-up also starts the
 * connections due within the next W, up to W early, and the timer is armed
 * for the next due time after that. The thread thus wakes at most about
 * once per W for the schedule instead of once per connection (at 20k/s on
 * loopback that wake-up, timerfd_settime + epoll_wait + a context switch,
 * was a third of ctload's CPU per connection: docs/PERFORMANCE.md), and a
 * connection starts no later than it is due unless the thread is behind.
 * Latency counts from the earlier of the due time and the actual start, so
 * an early start hides nothing and a late one still shows. W >= 1 ms uses
 * libevent's millisecond epoll timeout (armed 1 ms early, as it rounds up);
 * below that the timer is a timerfd (EVENT_BASE_FLAG_PRECISE_TIMER), and
 * W = 0 is one exact wake-up per connection. */
#include "loadgen/engine/engine.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "loadgen/engine/reqtmpl.h"
#include "loadgen/engine/schedule.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51 /* Linux 6.3+: lo | hi << 16 */
#endif

/* The receive side keeps only the last bytes of the reply: enough to tell
 * whether it ends with (or, raw, contains) [load] expect. */
#define CONN_TAIL    48
#define RBUF_SIZE    16384
#define NO_CONN	     UINT32_MAX
#define HK_PERIOD_US 10000
/* Launches per timer callback before yielding to I/O, so that a slow
 * connect() (full port range) cannot starve completions. */
#define LAUNCH_BUDGET 64
/* A connection still not started this long after the schedule's end (the
 * pool was full, or connect() itself had become slow) is counted unsent
 * instead of being started late: the step stays bounded. */
#define LATE_GRACE_NS (1000 * CT_NS_PER_MSEC)

/* A connection's life. drive() moves it forward on each event. */
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
	uint8_t matched;
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
	struct event *timer, *hk;
	const struct timeval *conn_tv, *reply_tv; /* libevent common timeouts */
	struct ct_schedule sched;
	bool have_next, blocked, sched_over;
	uint64_t next_due, next_seq;
	uint64_t drain_deadline;
	struct conn *pool;
	uint32_t npool, free_head;
	uint32_t src_next, dport_next, bport_next;
	char *wbuf;
	size_t wbuf_len;
	char rbuf[RBUF_SIZE];
	int running; /* atomic */
	struct counters c;
};

struct kengine {
	struct ct_engine pub;
	const struct ct_scenario *sc;
	struct ct_engine_config cfg;
	struct sockaddr_storage *src;
	socklen_t dst_len;
	struct ct_schedule_params sp;
	struct ct_reqtmpl *req;
	const char *expect;
	char *expect_buf; /* expect with escapes decoded */
	size_t expect_len;
	unsigned nthreads;
	struct worker **w;
	uint64_t t0;  /* schedule time 0, monotonic ns */
	uint64_t window_ns; /* [load] launch_window */
	enum ct_client_close close; /* [load] close, auto resolved */
	int stop_req; /* atomic: 0 run, 1 stop starting, 2 abort */
};

size_t ct_engine_kernel_conn_size(void)
{
	return sizeof(struct conn);
}

#define LOAD(p)	    __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define INC(p)	    STORE((p), LOAD(p) + 1)
#define ADD(p, n)   STORE((p), LOAD(p) + (n))

static enum ct_fail fail_of_errno(int err)
{
	switch (err) {
	case EADDRNOTAVAIL:
	case EADDRINUSE:
		return CT_FAIL_EADDRNOTAVAIL;
	case ETIMEDOUT:
		return CT_FAIL_TIMEOUT;
	case ECONNREFUSED:
		return CT_FAIL_REFUSED;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return CT_FAIL_RESET;
	case EMFILE:
	case ENFILE:
		return CT_FAIL_EMFILE;
	default:
		return CT_FAIL_OTHER;
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void count_unsent(struct worker *w);

static void rearm_now(struct worker *w)
{
	static const struct timeval zero = {0, 0};
	evtimer_add(w->timer, &zero);
}

static void release(struct conn *c)
{
	struct worker *w = c->w;
	event_del(&c->ev);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CS_FREE;
	c->next_free = w->free_head;
	w->free_head = (uint32_t)(c - w->pool);
	STORE(&w->c.inflight, LOAD(&w->c.inflight) - 1);
	if (w->blocked) {
		/* A due connection waits for this slot. */
		w->blocked = false;
		rearm_now(w);
	}
	if (w->sched_over && LOAD(&w->c.inflight) == 0)
		event_base_loopbreak(w->base);
}

static void fail(struct conn *c, enum ct_fail why)
{
	INC(&c->w->c.failures[why]);
	release(c);
}

static void finish(struct conn *c)
{
	struct worker *w = c->w;
	if (w->e->close == CT_CCLOSE_RST) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		/* Best effort: if it fails the close is a FIN, still a completion. */
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	ct_hist_record(&w->c.total, ct_now_ns() - c->due_ns);
	INC(&w->c.completed);
	release(c);
}

static void wait_for(struct conn *c, short events, const struct timeval *tv)
{
	event_del(&c->ev);
	event_assign(&c->ev, c->w->base, c->fd, events, on_io, c);
	if (event_add(&c->ev, tv) < 0)
		fail(c, CT_FAIL_OTHER);
}

/* Feed reply bytes; sets c->matched when the expectation is met. Non-raw:
 * the reply so far ends with expect. Raw: expect occurs anywhere in it. */
static void match(struct conn *c, const char *p, size_t n)
{
	struct kengine *e = c->w->e;
	size_t el = e->expect_len;
	if (!e->expect) {
		c->matched = 1;
		return;
	}
	if (e->sc->load.raw && !c->matched) {
		char joint[2 * CONN_TAIL];
		size_t head = n < el ? n : el;
		memcpy(joint, c->tail, c->tail_len);
		memcpy(joint + c->tail_len, p, head);
		if (memmem(joint, c->tail_len + head, e->expect, el) || memmem(p, n, e->expect, el))
			c->matched = 1;
	}
	/* Keep the last el bytes. */
	if (n >= el) {
		memcpy(c->tail, p + n - el, el);
		c->tail_len = (uint8_t)el;
	} else {
		size_t keep = c->tail_len + n > el ? el - n : c->tail_len;
		memmove(c->tail, c->tail + c->tail_len - keep, keep);
		memcpy(c->tail + keep, p, n);
		c->tail_len = (uint8_t)(keep + n);
	}
	if (!e->sc->load.raw)
		c->matched = c->tail_len == el && !memcmp(c->tail, e->expect, el);
}

static void drive(struct conn *c, short what)
{
	struct worker *w = c->w;
	struct kengine *e = w->e;
	const struct ct_scenario *sc = e->sc;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		/* A reply that arrived in full before a server-side close is
		 * still a success for close=wait. */
		if (c->state == CS_DRAINING)
			finish(c);
		else
			fail(c, CT_FAIL_TIMEOUT);
		return;
	}
	switch (c->state) {
	case CS_CONNECTING:
	case CS_SENDING: {
		int len = ct_reqtmpl_render(e->req, c->seq, w->idx, sc->scenario.seed, w->wbuf,
					    w->wbuf_len);
		if (len < 0) {
			fail(c, CT_FAIL_OTHER);
			return;
		}
		/* The first send also reports a failed handshake (its error is
		 * the socket's pending error), saving a getsockopt(SO_ERROR). */
		n = len > (int)c->sent
			? send(c->fd, w->wbuf + c->sent, (size_t)len - c->sent, MSG_NOSIGNAL)
			: 0;
		if (n < 0 && errno != EAGAIN) {
			fail(c, fail_of_errno(errno));
			return;
		}
		if (n < 0 && c->state == CS_CONNECTING) {
			/* Still in SYN_SENT: wait for the handshake. */
			wait_for(c, EV_WRITE, w->conn_tv);
			return;
		}
		if (c->state == CS_CONNECTING) {
			uint64_t now = ct_now_ns();
			INC(&w->c.established);
			ct_hist_record(&w->c.connect, now - c->due_ns);
			/* The initial SYN RTO is 1 s: only a handshake that took
			 * that long can hold a retransmission, so only then pay
			 * for TCP_INFO. */
			if (now - c->due_ns >= 900 * CT_NS_PER_MSEC) {
				struct tcp_info ti;
				socklen_t tl = sizeof(ti);
				if (!getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl))
					ADD(&w->c.syn_retrans, ti.tcpi_total_retrans);
			}
			c->state = CS_SENDING;
		}
		if (n > 0)
			c->sent += (uint32_t)n;
		if ((int)c->sent < len) {
			wait_for(c, EV_WRITE, w->reply_tv);
			return;
		}
		c->state = CS_READING;
		wait_for(c, EV_READ | EV_CLOSED | EV_PERSIST, w->reply_tv);
		return;
	}
	case CS_READING:
	case CS_DRAINING:
		for (;;) {
			n = recv(c->fd, w->rbuf, sizeof(w->rbuf), 0);
			if (n > 0) {
				match(c, w->rbuf, (size_t)n);
				if (c->matched && !sc->load.raw &&
				    e->close != CT_CCLOSE_WAIT) {
					finish(c);
					return;
				}
				if (c->matched)
					c->state = CS_DRAINING;
				/* EV_CLOSED (EPOLLRDHUP) says the server's FIN is
				 * queued behind this data: read on to it now. Without
				 * it a short read means the socket is drained, and a
				 * recv() that would only say EAGAIN is saved. */
				if (n < (ssize_t)sizeof(w->rbuf)) {
					/* Drained, and the FIN is known to be queued:
					 * the recv() that would return 0 is saved. */
					if ((what & EV_CLOSED) && c->matched) {
						finish(c);
						return;
					}
					if (!(what & EV_CLOSED))
						return;
				}
				continue;
			}
			if (n == 0) {
				if (c->matched)
					finish(c);
				else
					fail(c, CT_FAIL_PROTOCOL);
				return;
			}
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* A server that resets after a full reply (close=rst) ends
			 * a successful exchange. */
			if (c->matched && (errno == ECONNRESET))
				finish(c);
			else
				fail(c, fail_of_errno(errno));
			return;
		}
	case CS_FREE:
	default:
		return;
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	drive(arg, what);
}

static int bind_port(struct worker *w, int fd, struct sockaddr_storage *sa, socklen_t len)
{
	const struct ct_scenario *sc = w->e->sc;
	unsigned span = (unsigned)sc->load.port_hi - sc->load.port_lo + 1u;
	int one = 1;
	/* A port held only by TIME_WAIT sockets is bindable with
	 * SO_REUSEADDR; that is the point of the bind strategy. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	/* Thread k takes ports lo+k, lo+k+T, ...: two threads binding the
	 * same port (SO_REUSEADDR allows it) would then collide on the
	 * 4-tuple in connect(). */
	unsigned nt = w->e->nthreads, first = w->idx, step = nt;
	unsigned mine = span > first ? (span - first + nt - 1) / nt : 0;
	if (mine == 0) { /* fewer ports than threads: share them all */
		first = 0;
		step = 1;
		mine = span;
	}
	for (unsigned i = 0; i < mine; i++) {
		uint16_t port =
		    (uint16_t)(sc->load.port_lo + first + step * (w->bport_next++ % mine));
		if (sa->ss_family == AF_INET6)
			((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
		else
			((struct sockaddr_in *)sa)->sin_port = htons(port);
		if (!bind(fd, (struct sockaddr *)sa, len))
			return 0;
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRNOTAVAIL;
}

/* Open, bind, connect. Failures before or in connect() count like a
 * failed connection: they are what the load met. */
static void launch(struct worker *w, uint64_t due, uint64_t seq, uint64_t now)
{
	struct kengine *e = w->e;
	const struct ct_scenario *sc = e->sc;
	struct conn *c = &w->pool[w->free_head];
	w->free_head = c->next_free;
	/* Started early (launch window): its latency counts from now. */
	c->due_ns = due < now ? due : now;
	c->seq = seq;
	c->sent = 0;
	c->matched = 0;
	c->tail_len = 0;
	c->state = CS_CONNECTING;
	INC(&w->c.attempted);
	INC(&w->c.inflight);

	int family = e->cfg.dst.ss_family;
	c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(c, fail_of_errno(errno));
		return;
	}
	if (sc->load.ports == CT_PORTS_RANGE) {
		uint32_t v = (uint32_t)sc->load.port_lo | ((uint32_t)sc->load.port_hi << 16);
		if (setsockopt(c->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)) < 0) {
			fail(c, CT_FAIL_OTHER);
			return;
		}
	}
	if (e->cfg.n_src || sc->load.ports == CT_PORTS_BIND) {
		struct sockaddr_storage sa;
		socklen_t sl =
		    family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		int rc = 0, one = 1;
		if (e->cfg.n_src) {
			sa = e->src[w->src_next++ % e->cfg.n_src];
		} else {
			memset(&sa, 0, sizeof(sa));
			sa.ss_family = (sa_family_t)family;
		}
		if (sc->load.ports == CT_PORTS_BIND) {
			rc = bind_port(w, c->fd, &sa, sl);
		} else {
			/* Defer the port choice to connect(), which knows the
			 * destination and can share ports across servers. */
			if (setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
				       sizeof(one)) < 0 ||
			    bind(c->fd, (struct sockaddr *)&sa, sl) < 0)
				rc = -errno;
		}
		if (rc < 0) {
			fail(c, fail_of_errno(-rc));
			return;
		}
	}
	struct sockaddr_storage dst = e->cfg.dst;
	unsigned nports = (unsigned)e->cfg.dport_hi - e->cfg.dport_lo + 1u;
	uint16_t dport = (uint16_t)(e->cfg.dport_lo + (w->dport_next++ % nports));
	if (family == AF_INET6)
		((struct sockaddr_in6 *)&dst)->sin6_port = htons(dport);
	else
		((struct sockaddr_in *)&dst)->sin_port = htons(dport);

	uint64_t t1 = ct_now_ns();
	int rc = connect(c->fd, (struct sockaddr *)&dst, e->dst_len);
	int err = errno;
	ct_hist_record(&w->c.connect_call, ct_now_ns() - t1);
	if (rc == 0 || err == EINPROGRESS) {
		/* Try the request at once: over loopback or a veth the
		 * handshake completes inside connect() (the peer's softirq runs
		 * in our context), and a send that works saves an epoll round
		 * trip. In SYN_SENT it fails with EAGAIN and we wait. */
		drive(c, EV_WRITE);
		return;
	}
	fail(c, fail_of_errno(err));
}

static void arm_timer(struct worker *w)
{
	uint64_t now = ct_now_ns();
	/* libevent's millisecond timeout rounds up: ask for a wake-up one
	 * millisecond early so that it is not late. */
	uint64_t lead = w->e->window_ns >= CT_NS_PER_MSEC ? CT_NS_PER_MSEC : 0;
	uint64_t at = w->next_due > lead ? w->next_due - lead : 0;
	uint64_t d = at > now ? at - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(d / CT_NS_PER_SEC),
			     .tv_usec = (suseconds_t)((d % CT_NS_PER_SEC) / 1000)};
	evtimer_add(w->timer, &tv);
}

static void advance(struct worker *w)
{
	uint64_t due;
	w->have_next = ct_schedule_next(&w->sched, &due, &w->next_seq);
	if (w->have_next) {
		w->next_due = w->e->t0 + due;
	} else {
		w->sched_over = true;
		struct kengine *e = w->e;
		w->drain_deadline =
		    ct_now_ns() + e->sc->load.connect_timeout_ns + e->sc->load.reply_timeout_ns;
		if (LOAD(&w->c.inflight) == 0)
			event_base_loopbreak(w->base);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	unsigned budget = LAUNCH_BUDGET;
	uint64_t now = ct_now_ns();

	if (w->have_next && now >= w->e->t0 + w->e->sp.duration_ns + LATE_GRACE_NS) {
		count_unsent(w);
		advance(w); /* -> sched_over */
		return;
	}
	while (w->have_next && w->next_due <= now + w->e->window_ns && !LOAD(&w->e->stop_req)) {
		if (w->free_head == NO_CONN) {
			w->blocked = true; /* release() re-activates us */
			return;
		}
		launch(w, w->next_due, w->next_seq, now);
		advance(w);
		if (--budget == 0) {
			/* Behind schedule: come back after one round of I/O.
			 * A zero timeout (not event_active, which libevent runs
			 * again in the same pass) lets completions and timeouts
			 * through, so overload does not starve them. */
			rearm_now(w);
			return;
		}
		now = ct_now_ns();
	}
	if (w->have_next && !LOAD(&w->e->stop_req))
		arm_timer(w);
}

/* Abort everything in flight (counted as timeout: it did not finish). */
static void abort_all(struct worker *w)
{
	for (uint32_t i = 0; i < w->npool; i++)
		if (w->pool[i].state != CS_FREE)
			fail(&w->pool[i], CT_FAIL_TIMEOUT);
}

static void count_unsent(struct worker *w)
{
	uint64_t due, seq, n = w->have_next ? 1 : 0;
	while (ct_schedule_next(&w->sched, &due, &seq))
		n++;
	ADD(&w->c.unsent, n);
	w->have_next = false;
	w->blocked = false;
	evtimer_del(w->timer);
}

/* Every 10 ms: stop requests, the end of the schedule while blocked on a
 * full pool, and the drain deadline. */
static void on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct kengine *e = w->e;
	uint64_t now = ct_now_ns();
	int stop = LOAD(&e->stop_req);

	if (!w->sched_over) {
		bool end = stop || now >= e->t0 + e->sp.duration_ns + LATE_GRACE_NS;
		if (end) {
			count_unsent(w);
			advance(w); /* -> sched_over, drain deadline */
		}
	}
	if (stop == 2 || (w->sched_over && now >= w->drain_deadline))
		abort_all(w);
	if (w->sched_over && LOAD(&w->c.inflight) == 0)
		event_base_loopbreak(w->base);
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;
	struct kengine *e = w->e;
	struct event_config *ec = NULL;

	if (e->cfg.netns_fd >= 0 && setns(e->cfg.netns_fd, CLONE_NEWNET) < 0) {
		ct_error("engine thread %u: setns into the client netns: %s; is ctload root?",
			 w->idx, strerror(errno));
		goto out;
	}
	ec = event_config_new();
	if (!ec)
		goto out;
	/* One base per thread, never shared: no locks. A launch window under
	 * 1 ms needs timerfd (microseconds); from 1 ms on, epoll_wait's
	 * millisecond timeout is enough and saves a timerfd_settime per loop. */
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK |
				      (e->window_ns < CT_NS_PER_MSEC ? EVENT_BASE_FLAG_PRECISE_TIMER : 0));
	w->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (!w->base) {
		ct_error("engine thread %u: cannot create an event base", w->idx);
		goto out;
	}
	struct timeval ctv = {
	    .tv_sec = (time_t)(e->sc->load.connect_timeout_ns / CT_NS_PER_SEC),
	    .tv_usec = (suseconds_t)(e->sc->load.connect_timeout_ns % CT_NS_PER_SEC / 1000)};
	struct timeval rtv = {
	    .tv_sec = (time_t)(e->sc->load.reply_timeout_ns / CT_NS_PER_SEC),
	    .tv_usec = (suseconds_t)(e->sc->load.reply_timeout_ns % CT_NS_PER_SEC / 1000)};
	/* Every connection uses the same two timeouts: libevent keeps such
	 * "common timeouts" in O(1) queues instead of its heap. */
	w->conn_tv = event_base_init_common_timeout(w->base, &ctv);
	w->reply_tv = event_base_init_common_timeout(w->base, &rtv);
	w->timer = evtimer_new(w->base, on_timer, w);
	w->hk = event_new(w->base, -1, EV_PERSIST, on_housekeeping, w);
	if (!w->conn_tv || !w->reply_tv || !w->timer || !w->hk) {
		ct_error("engine thread %u: cannot create its events", w->idx);
		goto out;
	}
	/* Assigned once so that event_del() is valid on every slot, even one
	 * that failed before its first event_add(). */
	for (uint32_t i = 0; i < w->npool; i++) {
		w->pool[i].w = w;
		event_assign(&w->pool[i].ev, w->base, -1, 0, on_io, &w->pool[i]);
	}
	struct timeval hk_tv = {.tv_sec = 0, .tv_usec = HK_PERIOD_US};
	event_add(w->hk, &hk_tv);
	advance(w);
	if (w->have_next)
		arm_timer(w);
	event_base_dispatch(w->base);
	abort_all(w);
out:
	if (w->timer)
		event_free(w->timer);
	if (w->hk)
		event_free(w->hk);
	if (w->base)
		event_base_free(w->base);
	w->timer = w->hk = NULL;
	w->base = NULL;
	STORE(&w->running, 0);
	return NULL;
}

static void raise_nofile(rlim_t need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	struct rlimit want = rl;
	want.rlim_cur = need;
	if (want.rlim_max < need)
		want.rlim_max = need; /* works as root */
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		return;
	want.rlim_cur = rl.rlim_max;
	want.rlim_max = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		ct_warn("open files limited to %llu (need %llu for [load] max_inflight): expect "
			"emfile failures; raise it with ulimit -n",
			(unsigned long long)rl.rlim_max, (unsigned long long)need);
}

static void kernel_free(struct ct_engine *pub);

static struct ct_engine *kernel_new(const struct ct_engine_config *cfg)
{
	struct kengine *e = calloc(1, sizeof(*e));
	const struct ct_scenario *sc = cfg->sc;
	struct ct_err err = {0};
	int rc = ENOMEM;

	if (!e)
		goto fail;
	e->cfg = *cfg;
	e->sc = sc;
	e->cfg.src = NULL;
	if (cfg->n_src) {
		e->src = calloc(cfg->n_src, sizeof(*e->src));
		if (!e->src)
			goto fail;
		memcpy(e->src, cfg->src, cfg->n_src * sizeof(*e->src));
	}
	e->dst_len = cfg->dst.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						    : sizeof(struct sockaddr_in);
	if (cfg->dport_lo == 0 || cfg->dport_hi < cfg->dport_lo) {
		ct_error("engine: bad server port range %u-%u", cfg->dport_lo, cfg->dport_hi);
		rc = EINVAL;
		goto fail;
	}
	ct_schedule_params_from(&e->sp, sc);
	e->window_ns = sc->load.launch_window_ns;
	e->close = ct_scenario_client_close(sc);
	const char *req = sc->load.request ? sc->load.request : "";
	char *raw = malloc(strlen(req) + 1);
	long rlen = raw ? ct_reqtmpl_unescape(req, raw) : -ENOMEM;
	if (rlen < 0) {
		free(raw);
		rc = (int)-rlen;
		ct_error("[load] request: bad escape; use \\r \\n \\t \\\\ \\\" or \\xHH");
		goto fail;
	}
	e->req = ct_reqtmpl_new(raw, (size_t)rlen, &err);
	free(raw);
	if (!e->req) {
		rc = errno;
		ct_error("[load] request: %s", err.msg[0] ? err.msg : strerror(rc));
		goto fail;
	}
	if (sc->load.expect && sc->load.expect[0]) {
		e->expect_buf = malloc(strlen(sc->load.expect) + 1);
		long elen =
		    e->expect_buf ? ct_reqtmpl_unescape(sc->load.expect, e->expect_buf) : -ENOMEM;
		if (elen < 0) {
			rc = (int)-elen;
			ct_error("[load] expect: bad escape");
			goto fail;
		}
		e->expect = e->expect_buf;
		e->expect_len = (size_t)elen;
		if (e->expect_len > CONN_TAIL) {
			ct_error(
			    "[load] expect is %zu bytes; the kernel engine matches at most %d: "
			    "use the reply's last %d bytes",
			    e->expect_len, CONN_TAIL, CONN_TAIL);
			rc = EINVAL;
			goto fail;
		}
	}
	e->nthreads = ct_engine_threads(cfg);
	unsigned cap = sc->load.max_inflight ? sc->load.max_inflight : 10000;
	uint32_t per = (cap + e->nthreads - 1) / e->nthreads;
	raise_nofile((rlim_t)cap + 256);
	e->w = calloc(e->nthreads, sizeof(*e->w));
	if (!e->w)
		goto fail;
	for (unsigned i = 0; i < e->nthreads; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		if (!w)
			goto fail;
		e->w[i] = w;
		w->e = e;
		w->idx = i;
		w->npool = per;
		w->pool = calloc(per, sizeof(*w->pool));
		w->wbuf_len = ct_reqtmpl_max_len(e->req) + 1;
		w->wbuf = malloc(w->wbuf_len);
		if (!w->pool || !w->wbuf)
			goto fail;
		for (uint32_t j = 0; j < per; j++) {
			w->pool[j].fd = -1;
			w->pool[j].next_free = j + 1 < per ? j + 1 : NO_CONN;
		}
		w->free_head = 0;
		ct_schedule_init(&w->sched, &e->sp, i, e->nthreads);
	}
	return &e->pub;
fail:
	kernel_free(e ? &e->pub : NULL);
	errno = rc;
	return NULL;
}

static int kernel_start(struct ct_engine *pub)
{
	struct kengine *e = (struct kengine *)pub;
	/* Leave the threads time to build their bases before time 0. */
	e->t0 = ct_now_ns() + 20 * CT_NS_PER_MSEC;
	for (unsigned i = 0; i < e->nthreads; i++) {
		struct worker *w = e->w[i];
		STORE(&w->running, 1);
		int rc = pthread_create(&w->th, NULL, thread_main, w);
		if (rc) {
			STORE(&w->running, 0);
			ct_error("engine: cannot start thread %u: %s", i, strerror(rc));
			STORE(&e->stop_req, 2);
			return -rc;
		}
		w->started = true;
	}
	return 0;
}

static void kernel_snapshot(struct ct_engine *pub, struct ct_engine_stats *out)
{
	struct kengine *e = (struct kengine *)pub;
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < e->nthreads; i++) {
		struct counters *c = &e->w[i]->c;
		out->attempted += LOAD(&c->attempted);
		out->established += LOAD(&c->established);
		out->completed += LOAD(&c->completed);
		out->unsent += LOAD(&c->unsent);
		out->inflight += LOAD(&c->inflight);
		out->syn_retrans += LOAD(&c->syn_retrans);
		for (int f = 0; f < CT_FAIL_N; f++)
			out->failures[f] += LOAD(&c->failures[f]);
		ct_hist_merge(&out->connect, &c->connect);
		ct_hist_merge(&out->total, &c->total);
		ct_hist_merge(&out->connect_call, &c->connect_call);
		out->running += (unsigned)LOAD(&e->w[i]->running);
	}
	out->scheduled = out->attempted + out->unsent;
}

static void kernel_stop(struct ct_engine *pub, bool abort)
{
	struct kengine *e = (struct kengine *)pub;
	int want = abort ? 2 : 1;
	if (LOAD(&e->stop_req) < want)
		STORE(&e->stop_req, want);
}

static void kernel_free(struct ct_engine *pub)
{
	struct kengine *e = (struct kengine *)pub;
	if (!e)
		return;
	if (e->w) {
		STORE(&e->stop_req, 2);
		for (unsigned i = 0; i < e->nthreads; i++) {
			struct worker *w = e->w[i];
			if (!w)
				continue;
			if (w->started)
				pthread_join(w->th, NULL);
			free(w->pool);
			free(w->wbuf);
			free(w);
		}
		free(e->w);
	}
	ct_reqtmpl_free(e->req);
	free(e->expect_buf);
	free(e->src);
	free(e);
}

const struct ct_engine_ops ct_engine_kernel_ops = {
    .name = "kernel",
    .new = kernel_new,
    .start = kernel_start,
    .snapshot = kernel_snapshot,
    .stop = kernel_stop,
    .free = kernel_free,
};
