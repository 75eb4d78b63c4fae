/* conn — one client connection of ctserver: buffers, the state machine that
 * drives it, and the close policy that decides where TIME_WAIT lands.
 *
 * The receive buffer lives inside the connection, so ordinary requests are
 * parsed in place with no allocation; only a get line over 4 KiB (grown to
 * the multi-get limit) and a data block bigger than the buffer get heap
 * memory, freed as soon as they are done. */
#include "common/log.h"
#include "common/httpproto.h"
#include "common/mcproto.h"
#include "server/srv_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define RBUF_INLINE 4096
/* Room for the longest get line plus its "\r\n" (see mcproto.h). */
#define RBUF_BIG (CT_MC_GET_LINE_MAX + 16)

/* A connection's life. conn_drive() runs the current state until it must
 * wait for the socket (or a timer), then arms exactly the event it waits
 * for; every callback re-enters conn_drive(). */
enum conn_state {
	/* Take the next command (memcache) or line (echo) out of rbuf and
	 * answer it; when none is complete, flush, apply the close policy,
	 * then read more. */
	CONN_PARSE,
	/* A storage command's data block: vlen + 2 bytes, in rbuf when they
	 * fit, else in vbuf. */
	CONN_NREAD,
	/* A refused (too large) data block: read and drop swallow_left bytes,
	 * so nothing of it is ever buffered. */
	CONN_SWALLOW,
	/* Output pending: write it; reads are off meanwhile (backpressure),
	 * and a client that does not read is closed at --idle-timeout. */
	CONN_WRITE,
	/* The server is about to close (close=server|rst): --close-delay. */
	CONN_CLOSE_DELAY,
	/* Done: count the reason, close the socket, free. */
	CONN_CLOSING,
};

/* Who ended the connection, for the ct_closed_* counters. */
enum close_reason {
	R_CLIENT, /* client's FIN seen first */
	R_SERVER, /* our FIN first (close=server, quit, HTTP line) */
	R_RST,	  /* close=rst */
	R_IDLE,	  /* --idle-timeout */
	R_ERROR,  /* read/write error, line too long, binary request, out of memory */
};

struct ct_conn {
	struct ct_conn *prev, *next; /* worker's list */
	struct ct_worker *w;
	int fd;
	enum conn_state state;
	enum close_reason reason;
	bool close_after_write;
	bool read_on, write_on, want_read;
	unsigned ncmds;	    /* commands answered: the close policy waits for one */
	unsigned rst_waits; /* ms waited for the reply to leave before a RST */
	struct event ev_read, ev_write, ev_timer;
	char *rbuf;		 /* rinl, or a heap buffer of RBUF_BIG for a long get line */
	size_t rcap, rpos, rlen; /* unparsed bytes are rbuf[rpos..rlen) */
	size_t get_pos;		 /* a paused get's place in its key list */
	struct ct_mc_cmd pend;	 /* the storage command whose data we gather */
	char pkey[CT_MC_KEY_MAX + 1];
	char *vbuf; /* data block that does not fit in rbuf */
	size_t vneed, vhave;
	uint64_t swallow_left;
	struct ct_outbuf out;
	const char *body; /* http: the shared body, sent after out */
	size_t body_len, body_off;
	bool answered; /* http: the one request of this connection is answered */
	char rinl[RBUF_INLINE];
};

static void conn_drive(struct ct_conn *c);

static void timeval_from_ns(struct timeval *tv, uint64_t ns)
{
	tv->tv_sec = (time_t)(ns / 1000000000ULL);
	tv->tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000);
}

/* Arm exactly the I/O events wanted; the idle timeout rides on them. */
static void set_events(struct ct_conn *c, bool rd, bool wr)
{
	const struct ct_srv_config *cfg = &c->w->srv->cfg;
	struct timeval tv, *tvp = NULL;

	if (cfg->idle_timeout_ns) {
		timeval_from_ns(&tv, cfg->idle_timeout_ns);
		tvp = &tv;
	}
	c->want_read = rd;
	if (c->w->stalled)
		rd = false;
	if (rd != c->read_on) {
		if (rd)
			event_add(&c->ev_read, tvp);
		else
			event_del(&c->ev_read);
		c->read_on = rd;
	}
	if (wr != c->write_on) {
		if (wr)
			event_add(&c->ev_write, tvp);
		else
			event_del(&c->ev_write);
		c->write_on = wr;
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct ct_conn *c = arg;

	if (what & EV_TIMEOUT) {
		c->reason = R_IDLE;
		c->state = CONN_CLOSING;
	}
	conn_drive(c);
}

static void on_close_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ct_conn *c = arg;

	c->state = CONN_CLOSING;
	conn_drive(c);
}

/* http: the request head did not arrive within --idle-timeout of the
 * accept (a slowloris client trickling bytes never goes idle). */
static void on_head_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ct_conn *c = arg;

	c->reason = R_IDLE;
	c->state = CONN_CLOSING;
	conn_drive(c);
}

void ct_conn_start(struct ct_worker *w, int fd)
{
	struct ct_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c) {
		ct_warn("out of memory for a new connection; dropping it");
		close(fd);
		__atomic_sub_fetch(&w->srv->curr_conns, 1, __ATOMIC_RELAXED);
		return;
	}
	/* Replies are whole; do not let Nagle hold the last segment back. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->w = w;
	c->fd = fd;
	c->state = CONN_PARSE;
	c->rbuf = c->rinl;
	c->rcap = sizeof(c->rinl);
	ct_outbuf_init(&c->out);
	event_assign(&c->ev_read, w->base, fd, EV_READ | EV_PERSIST, on_io, c);
	event_assign(&c->ev_write, w->base, fd, EV_WRITE | EV_PERSIST, on_io, c);
	evtimer_assign(&c->ev_timer, w->base, on_close_timer, c);
	if (w->srv->cfg.mode == CT_SRV_HTTP && w->srv->cfg.idle_timeout_ns) {
		struct timeval tv;

		evtimer_assign(&c->ev_timer, w->base, on_head_timeout, c);
		timeval_from_ns(&tv, w->srv->cfg.idle_timeout_ns);
		evtimer_add(&c->ev_timer, &tv);
	}
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	CT_CNT_INC(w, total_conns);
	conn_drive(c);
}

static void conn_free(struct ct_conn *c, bool count)
{
	struct ct_worker *w = c->w;

	event_del(&c->ev_read);
	event_del(&c->ev_write);
	event_del(&c->ev_timer);
	if (count) {
		switch (c->reason) {
		case R_CLIENT:
			CT_CNT_INC(w, closed_by_client);
			break;
		case R_SERVER:
			CT_CNT_INC(w, closed_by_server);
			break;
		case R_RST:
			CT_CNT_INC(w, closed_by_rst);
			break;
		case R_IDLE:
			CT_CNT_INC(w, closed_idle);
			break;
		case R_ERROR:
			CT_CNT_INC(w, closed_error);
			break;
		}
	}
	if (c->reason == R_RST) {
		/* Linger 0: close() sends RST and the socket skips TIME_WAIT. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->rbuf != c->rinl)
		free(c->rbuf);
	free(c->vbuf);
	ct_outbuf_free(&c->out);
	__atomic_sub_fetch(&w->srv->curr_conns, 1, __ATOMIC_RELAXED);
	free(c);
}

/* Move unparsed bytes to the front; give a drained big buffer back. */
static void compact(struct ct_conn *c)
{
	if (c->rpos == c->rlen) {
		c->rpos = c->rlen = 0;
		if (c->rbuf != c->rinl) {
			free(c->rbuf);
			c->rbuf = c->rinl;
			c->rcap = sizeof(c->rinl);
		}
		return;
	}
	if (c->rpos) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
}

/* Read what the socket has into dst. >0 bytes, 0 would block, -1 ended
 * (reason set). */
static ssize_t conn_read(struct ct_conn *c, char *dst, size_t room)
{
	ssize_t n;

	do
		n = read(c->fd, dst, room);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		CT_CNT_ADD(c->w, bytes_read, n);
		return n;
	}
	if (n == 0) {
		c->reason = R_CLIENT;
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	c->reason = R_ERROR;
	return -1;
}

/* Read more into buf[*have..cap). True: go on driving the connection (bytes
 * came, or it is closing); false: wait for the socket to be readable. */
static bool read_into(struct ct_conn *c, char *buf, size_t cap, size_t *have)
{
	ssize_t n = conn_read(c, buf + *have, cap - *have);

	if (n > 0) {
		*have += (size_t)n;
		return true;
	}
	if (n < 0) {
		c->state = CONN_CLOSING;
		return true;
	}
	set_events(c, true, false);
	return false;
}

/* Fill rbuf. true: got bytes, go on; false: wait or closing (state set). */
static bool fill_rbuf(struct ct_conn *c)
{
	if (c->w->stalled) {
		set_events(c, true, false);
		return false;
	}
	compact(c);
	if (c->rlen == c->rcap) {
		char *big;

		if (c->rbuf != c->rinl) {
			/* Unreachable: the parser refuses a line before this. */
			c->reason = R_ERROR;
			c->state = CONN_CLOSING;
			return true;
		}
		big = malloc(RBUF_BIG);
		if (!big) {
			c->reason = R_ERROR;
			c->state = CONN_CLOSING;
			return true;
		}
		memcpy(big, c->rbuf, c->rlen);
		c->rbuf = big;
		c->rcap = RBUF_BIG;
	}
	return read_into(c, c->rbuf, c->rcap, &c->rlen);
}

/* Nothing complete to answer: flush, apply the close policy, or read. */
static bool parse_wait(struct ct_conn *c)
{
	const struct ct_srv_config *cfg = &c->w->srv->cfg;

	if (ct_outbuf_pending(&c->out) || c->body) {
		c->state = CONN_WRITE;
		return true;
	}
	/* close=server|rst: once a batch is answered and no command is half
	 * received, the server closes first. close=client never gets here:
	 * the connection stays for more commands until the client's FIN. */
	if (cfg->close != CT_SRV_CLOSE_CLIENT && c->ncmds > 0 && c->rpos == c->rlen) {
		c->reason = cfg->close == CT_SRV_CLOSE_RST ? R_RST : R_SERVER;
		c->state = cfg->close_delay_ns ? CONN_CLOSE_DELAY : CONN_CLOSING;
		return true;
	}
	return fill_rbuf(c);
}

static bool parse_echo(struct ct_conn *c)
{
	const char *p = c->rbuf + c->rpos;
	size_t avail = c->rlen - c->rpos;
	const char *nl = memchr(p, '\n', avail);

	if (!nl) {
		/* A line longer than the buffer is echoed in pieces. */
		if (avail == c->rcap) {
			ct_outbuf_add(&c->out, p, avail);
			c->rpos = c->rlen;
		}
		return parse_wait(c);
	}
	ct_outbuf_add(&c->out, p, (size_t)(nl - p) + 1);
	c->rpos += (size_t)(nl - p) + 1;
	c->ncmds++;
	/* close=server|rst answers one line per connection: drop the rest. */
	if (c->w->srv->cfg.close != CT_SRV_CLOSE_CLIENT)
		c->rpos = c->rlen;
	return true;
}

static void start_value(struct ct_conn *c, const struct ct_mc_cmd *cmd)
{
	size_t avail;

	c->pend = *cmd;
	memcpy(c->pkey, cmd->key, cmd->nkey);
	c->pend.key = c->pkey;
	c->rpos += cmd->consumed;
	c->vneed = (size_t)cmd->vlen + 2;
	c->state = CONN_NREAD;
	if (c->vneed <= sizeof(c->rinl)) {
		/* Fits in the inline buffer: gather it there, in place. */
		compact(c);
		return;
	}
	c->vbuf = malloc(c->vneed);
	if (!c->vbuf) {
		ct_warn("out of memory for a %zu-byte value; closing the connection", c->vneed);
		c->reason = R_ERROR;
		c->state = CONN_CLOSING;
		return;
	}
	avail = c->rlen - c->rpos;
	c->vhave = avail < c->vneed ? avail : c->vneed;
	memcpy(c->vbuf, c->rbuf + c->rpos, c->vhave);
	c->rpos += c->vhave;
}

static bool parse_memcache(struct ct_conn *c)
{
	struct ct_mc_cmd cmd;
	enum ct_mc_status st;
	enum ct_mc_next next;

	if (c->rpos == c->rlen)
		return parse_wait(c);
	st = ct_mc_parse(c->rbuf + c->rpos, c->rlen - c->rpos, &cmd);
	if (st == CT_MC_NEED_MORE)
		return parse_wait(c);
	if (st == CT_MC_TOO_LONG) {
		/* Answer and close without reading the rest of the line. */
		ct_outbuf_str(&c->out, CT_MC_TOO_LONG_REPLY);
		c->rpos = c->rlen;
		c->reason = R_ERROR;
		c->close_after_write = true;
		c->state = CONN_WRITE;
		return true;
	}
	next = ct_mc_exec(c->w, &cmd, &c->out, &c->get_pos);
	switch (next) {
	case CT_MC_NEXT_CONTINUE:
		c->rpos += cmd.consumed;
		c->ncmds++;
		break;
	case CT_MC_NEXT_PAUSE:
		/* The line stays in rbuf; it is parsed again after the flush. */
		c->state = CONN_WRITE;
		break;
	case CT_MC_NEXT_READ_VALUE:
		start_value(c, &cmd);
		break;
	case CT_MC_NEXT_SWALLOW:
		c->rpos += cmd.consumed;
		c->swallow_left = (uint64_t)cmd.vlen + 2;
		c->state = CONN_SWALLOW;
		break;
	case CT_MC_NEXT_CLOSE:
	case CT_MC_NEXT_FAIL:
		c->rpos = c->rlen;
		c->reason = next == CT_MC_NEXT_FAIL ? R_ERROR : R_SERVER;
		c->close_after_write = true;
		c->state = CONN_WRITE;
		break;
	}
	return true;
}

/* http: one request per connection. Once it is answered, whatever else
 * the client sends is read and dropped until the close policy acts. */
static bool parse_http(struct ct_conn *c)
{
	struct ct_worker *w = c->w;
	struct ct_http_req req;
	enum ct_http_status st;

	if (c->answered || c->rpos == c->rlen) {
		c->rpos = c->rlen;
		return parse_wait(c);
	}
	st = ct_http_parse(c->rbuf + c->rpos, c->rlen - c->rpos, &req);
	if (st == CT_HTTP_NEED_MORE)
		return parse_wait(c);
	/* The head is in: from here --idle-timeout and the close policy rule,
	 * and the close timer is the one ev_timer serves. */
	event_del(&c->ev_timer);
	evtimer_assign(&c->ev_timer, w->base, on_close_timer, c);
	c->answered = true;
	c->rpos = c->rlen;
	if (st == CT_HTTP_BAD) {
		ct_http_refuse(req.code, &c->out);
		c->reason = R_ERROR;
		c->close_after_write = true;
		c->state = CONN_WRITE;
		return true;
	}
	ct_http_answer(w, &req, &c->out, &c->body, &c->body_len);
	c->body_off = 0;
	c->ncmds++;
	return true;
}

static bool step_nread(struct ct_conn *c)
{

	if (!c->vbuf) {
		if (c->rlen - c->rpos >= c->vneed) {
			ct_mc_exec_value(c->w, &c->pend, c->rbuf + c->rpos, &c->out);
			c->rpos += c->vneed;
			c->ncmds++;
			c->state = CONN_PARSE;
			return true;
		}
		return fill_rbuf(c);
	}
	if (c->vhave == c->vneed) {
		ct_mc_exec_value(c->w, &c->pend, c->vbuf, &c->out);
		free(c->vbuf);
		c->vbuf = NULL;
		c->ncmds++;
		c->state = CONN_PARSE;
		return true;
	}
	if (c->w->stalled) {
		set_events(c, true, false);
		return false;
	}
	return read_into(c, c->vbuf, c->vneed, &c->vhave);
}

static bool step_swallow(struct ct_conn *c)
{
	size_t avail = c->rlen - c->rpos;
	size_t take = avail < c->swallow_left ? avail : (size_t)c->swallow_left;

	c->rpos += take;
	c->swallow_left -= take;
	if (c->swallow_left == 0) {
		c->ncmds++;
		c->state = CONN_PARSE;
		return true;
	}
	return fill_rbuf(c);
}

/* The http body after its head: straight from the shared buffer. 0 when
 * all is out, -EAGAIN, or -errno. */
static int flush_body(struct ct_conn *c)
{
	while (c->body_off < c->body_len) {
		ssize_t n = write(c->fd, c->body + c->body_off, c->body_len - c->body_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		c->body_off += (size_t)n;
		CT_CNT_ADD(c->w, bytes_written, n);
	}
	c->body = NULL;
	return 0;
}

static bool step_write(struct ct_conn *c)
{
	size_t before = ct_outbuf_pending(&c->out);
	int r;

	if (c->out.broken) {
		ct_warn("out of memory for a reply; closing the connection");
		c->reason = R_ERROR;
		c->state = CONN_CLOSING;
		return true;
	}
	r = ct_outbuf_flush(&c->out, c->fd);
	CT_CNT_ADD(c->w, bytes_written, before - ct_outbuf_pending(&c->out));
	if (r == 0 && c->body)
		r = flush_body(c);
	if (r == -EAGAIN) {
		set_events(c, false, true);
		return false;
	}
	if (r < 0) {
		c->reason = R_ERROR;
		c->state = CONN_CLOSING;
		return true;
	}
	c->state = c->close_after_write ? CONN_CLOSING : CONN_PARSE;
	return true;
}

/* A linger-0 close drops whatever the socket has not sent yet; a reply
 * bigger than the send window would be cut. So close=rst waits (1 ms
 * steps, 2 s at most) until the send queue is empty. */
static bool rst_must_wait(struct ct_conn *c)
{
	int unsent = 0;

	if (c->reason != R_RST || c->rst_waits >= 2000)
		return false;
	if (ioctl(c->fd, SIOCOUTQNSD, &unsent) < 0 || unsent == 0)
		return false;
	c->rst_waits++;
	return true;
}

static bool parse(struct ct_conn *c)
{
	switch (c->w->srv->cfg.mode) {
	case CT_SRV_ECHO:
		return parse_echo(c);
	case CT_SRV_HTTP:
		return parse_http(c);
	case CT_SRV_MEMCACHE:
	default:
		return parse_memcache(c);
	}
}

static void conn_drive(struct ct_conn *c)
{
	struct timeval tv;
	bool go = true;

	while (go) {
		switch (c->state) {
		case CONN_PARSE:
			go = parse(c);
			break;
		case CONN_NREAD:
			go = step_nread(c);
			break;
		case CONN_SWALLOW:
			go = step_swallow(c);
			break;
		case CONN_WRITE:
			go = step_write(c);
			break;
		case CONN_CLOSE_DELAY:
			set_events(c, false, false);
			timeval_from_ns(&tv, c->w->srv->cfg.close_delay_ns);
			evtimer_add(&c->ev_timer, &tv);
			go = false;
			break;
		case CONN_CLOSING:
			if (rst_must_wait(c)) {
				set_events(c, false, false);
				tv.tv_sec = 0;
				tv.tv_usec = 1000;
				evtimer_add(&c->ev_timer, &tv);
				return;
			}
			conn_free(c, true);
			return;
		}
	}
}

void ct_conn_set_stalled(struct ct_worker *w, bool stalled)
{
	w->stalled = stalled;
	for (struct ct_conn *c = w->conns; c; c = c->next)
		set_events(c, c->want_read, c->write_on);
}

void ct_conn_close_all(struct ct_worker *w)
{
	while (w->conns)
		conn_free(w->conns, false);
}
