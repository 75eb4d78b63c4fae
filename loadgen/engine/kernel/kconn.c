/* kconn — one connection of the kernel engine: launch (socket, bind,
 * connect), the state machine that drive() moves on each event, and the
 * match of the reply against [load] expect. See kernel_int.h. */
#include "loadgen/engine/kernel/kernel_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51 /* Linux 6.3+: lo | hi << 16 */
#endif

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
		ct_kworker_rearm_now(w);
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
	if (w->e->load->close == CT_ENGINE_CLOSE_RST) {
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
	event_assign(&c->ev, c->w->base, c->fd, events, ct_kconn_on_io, c);
	if (event_add(&c->ev, tv) < 0)
		fail(c, CT_FAIL_OTHER);
}

/* The reply's first bytes against expect_start, as they come. */
static bool match_start(struct conn *c, const char *p, size_t n)
{
	struct kengine *e = c->w->e;
	if (!e->start_buf)
		return true;
	if (c->head_len < e->start_len && !c->head_bad) {
		size_t k = e->start_len - c->head_len < n ? e->start_len - c->head_len : n;
		c->head_bad = memcmp(p, e->start_buf + c->head_len, k) != 0;
		c->head_len = (uint8_t)(c->head_len + k);
	}
	return c->head_len == e->start_len && !c->head_bad;
}

/* Non-raw: sets c->end_ok while the reply so far ends with expect. Raw:
 * once expect occurred anywhere in it. */
static void match_end(struct conn *c, const char *p, size_t n)
{
	struct kengine *e = c->w->e;
	size_t el = e->expect_len;
	if (!e->expect) {
		c->end_ok = 1;
		return;
	}
	if (e->load->raw && !c->end_ok) {
		char joint[2 * CONN_TAIL];
		size_t head = n < el ? n : el;
		memcpy(joint, c->tail, c->tail_len);
		memcpy(joint + c->tail_len, p, head);
		if (memmem(joint, c->tail_len + head, e->expect, el) || memmem(p, n, e->expect, el))
			c->end_ok = 1;
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
	if (!e->load->raw)
		c->end_ok = c->tail_len == el && !memcmp(c->tail, e->expect, el);
}

/* Feed reply bytes; c->matched says whether the reply so far is the
 * expected one, start and end. */
static void match(struct conn *c, const char *p, size_t n)
{
	bool start_ok = match_start(c, p, n);
	match_end(c, p, n);
	c->matched = start_ok && c->end_ok;
}

/* The handshake completed: count it, and its SYN retransmissions. */
static void established(struct conn *c)
{
	struct worker *w = c->w;
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

/* CS_CONNECTING, CS_SENDING: write (the rest of) the request. */
static void drive_send(struct conn *c)
{
	struct worker *w = c->w;
	struct kengine *e = w->e;
	ssize_t n;
	int len =
	    ct_reqtmpl_render(e->req, c->seq, w->idx, e->load->sched.seed, w->wbuf, w->wbuf_len);
	if (len < 0) {
		fail(c, CT_FAIL_OTHER);
		return;
	}
	/* The first send also reports a failed handshake (its error is
	 * the socket's pending error), saving a getsockopt(SO_ERROR). */
	n = len > (int)c->sent ? send(c->fd, w->wbuf + c->sent, (size_t)len - c->sent, MSG_NOSIGNAL)
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
	if (c->state == CS_CONNECTING)
		established(c);
	if (n > 0)
		c->sent += (uint32_t)n;
	if ((int)c->sent < len) {
		wait_for(c, EV_WRITE, w->reply_tv);
		return;
	}
	c->state = CS_READING;
	wait_for(c, EV_READ | EV_CLOSED | EV_PERSIST, w->reply_tv);
}

/* CS_READING, CS_DRAINING: read what came, until the reply matched and the
 * connection can end, or the socket is drained. */
static void drive_recv(struct conn *c, short what)
{
	struct worker *w = c->w;
	struct kengine *e = w->e;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, w->rbuf, sizeof(w->rbuf), 0);
		if (n > 0) {
			match(c, w->rbuf, (size_t)n);
			/* With only a start to expect, the reply's end is the
			 * server's close. */
			if (c->matched && !e->load->raw && e->load->close != CT_ENGINE_CLOSE_WAIT &&
			    (e->expect || !e->start_buf)) {
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
}

static void drive(struct conn *c, short what)
{
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
	case CS_SENDING:
		drive_send(c);
		return;
	case CS_READING:
	case CS_DRAINING:
		drive_recv(c, what);
		return;
	case CS_FREE:
	default:
		return;
	}
}

void ct_kconn_on_io(evutil_socket_t fd, short what, void *arg)
{
	drive(arg, what);
}

static int bind_port(struct worker *w, int fd, struct sockaddr_storage *sa, socklen_t len)
{
	const struct ct_engine_load *ld = w->e->load;
	unsigned span = (unsigned)ld->port_hi - ld->port_lo + 1u;
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
		uint16_t port = (uint16_t)(ld->port_lo + first + step * (w->bport_next++ % mine));
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
void ct_kconn_launch(struct worker *w, uint64_t due, uint64_t seq, uint64_t now)
{
	struct kengine *e = w->e;
	const struct ct_engine_load *ld = e->load;
	struct conn *c = &w->pool[w->free_head];
	w->free_head = c->next_free;
	/* Started early (launch window): its latency counts from now. */
	c->due_ns = due < now ? due : now;
	c->seq = seq;
	c->sent = 0;
	c->matched = 0;
	c->end_ok = 0;
	c->head_len = 0;
	c->head_bad = 0;
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
	if (ld->ports == CT_ENGINE_PORTS_RANGE) {
		uint32_t v = (uint32_t)ld->port_lo | ((uint32_t)ld->port_hi << 16);
		if (setsockopt(c->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)) < 0) {
			fail(c, CT_FAIL_OTHER);
			return;
		}
	}
	if (e->cfg.n_src || ld->ports == CT_ENGINE_PORTS_BIND) {
		struct sockaddr_storage sa;
		socklen_t sl =
		    family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		int rc = 0, one = 1;
		if (e->cfg.n_src) {
			sa = e->src[w->src_first + w->src_next++ % w->src_count];
		} else {
			memset(&sa, 0, sizeof(sa));
			sa.ss_family = (sa_family_t)family;
		}
		if (ld->ports == CT_ENGINE_PORTS_BIND) {
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

/* Abort everything in flight (counted as timeout: it did not finish). */
void ct_kconn_abort_all(struct worker *w)
{
	for (uint32_t i = 0; i < w->npool; i++)
		if (w->pool[i].state != CS_FREE)
			fail(&w->pool[i], CT_FAIL_TIMEOUT);
}
