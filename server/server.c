#include "server/server.h"

#include "common/ctime.h"
#include "common/log.h"
#include "server/srv_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Accepts per callback, so one busy listener cannot starve the others. */
#define ACCEPT_BURST 64

static int resolve(const struct ct_srv_config *cfg, uint16_t port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char portstr[8];
	int r;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	r = getaddrinfo(cfg->bind, portstr, &hints, &ai);
	if (r != 0) {
		ct_error("--bind '%s': not a numeric IPv4 or IPv6 address (%s)", cfg->bind,
			 gai_strerror(r));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static const char *addr_fmt(const struct ct_srv_config *cfg, uint16_t port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(cfg->bind, ':') ? "[%s]:%u" : "%s:%u", cfg->bind, port);
	return buf;
}

/* SO_REUSEPORT would let us share a port with another SO_REUSEPORT
 * process (a stale ctserver) and silently split its traffic. A plain bind
 * first makes a taken port fail loudly. */
static int probe_port(const struct ct_srv_config *cfg, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, r = 0;
	char a[96];

	if (resolve(cfg, port, &ss, &len) < 0)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		r = -errno;
		ct_error("cannot bind %s: %s; %s", addr_fmt(cfg, port, a, sizeof(a)), strerror(-r),
			 r == -EADDRINUSE ? "another process listens there: stop it or pick "
					    "another --port"
			 : r == -EADDRNOTAVAIL
			     ? "the address is not on this host (or netns): check "
			       "--bind"
			 : r == -EACCES ? "ports below 1024 need root or CAP_NET_BIND_SERVICE"
					: "check --bind and --port");
	}
	close(fd);
	return r;
}

static int open_listener(const struct ct_srv_config *cfg, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;
	char a[96];

	if (resolve(cfg, port, &ss, &len) < 0)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ct_error("socket() for %s: %s", addr_fmt(cfg, port, a, sizeof(a)), strerror(errno));
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, cfg->backlog) < 0) {
		int e = errno;

		ct_error("cannot listen on %s: %s; check --bind and --port",
			 addr_fmt(cfg, port, a, sizeof(a)), strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct ct_worker *w = arg;

	for (size_t p = 0; p < w->nlisten; p++)
		event_add(&w->listen_evs[p], NULL);
}

/* Out of descriptors: a level-triggered listener would spin on EMFILE, so
 * the worker's listeners rest 100 ms (the kernel backlog holds the rest). */
static void pause_accepting(struct ct_worker *w, int err)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};

	if (!w->warned_nofile) {
		ct_warn("accept: %s; raise the open-files limit (ulimit -n) or lower --max-conns",
			strerror(err));
		w->warned_nofile = true;
	}
	for (size_t p = 0; p < w->nlisten; p++)
		event_del(&w->listen_evs[p]);
	evtimer_add(&w->accept_pause_ev, &tv);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ct_worker *w = arg;
	struct ct_srv *srv = w->srv;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		uint64_t n;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accepting(w, errno);
			return;
		}
		n = __atomic_add_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
		if (n > srv->cfg.max_conns) {
			/* Past --max-conns: reset at once, so neither the fd nor a
			 * TIME_WAIT stays with us. */
			struct linger lg = {.l_onoff = 1, .l_linger = 0};

			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			__atomic_sub_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
			CT_CNT_INC(w, rejected_conns);
			continue;
		}
		ct_conn_start(w, fd);
	}
}

static void on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct ct_worker *w = arg;
	struct timeval tv;

	if (!w->stalled) {
		if (w->id == 0)
			ct_note("stall: not reading for %.3fs (--stall)",
				(double)w->srv->cfg.stall_for_ns / 1e9);
		ct_conn_set_stalled(w, true);
		tv.tv_sec = (time_t)(w->srv->cfg.stall_for_ns / 1000000000ULL);
		tv.tv_usec = (suseconds_t)(w->srv->cfg.stall_for_ns % 1000000000ULL / 1000);
		evtimer_add(&w->stall_ev, &tv);
	} else {
		if (w->id == 0)
			ct_note("stall over: reading again");
		ct_conn_set_stalled(w, false);
	}
}

static void *worker_main(void *arg)
{
	struct ct_worker *w = arg;

	event_base_dispatch(w->base);
	ct_conn_close_all(w);
	return NULL;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ct_srv *srv = arg;

	ct_note("signal %d: stopping", (int)sig);
	for (unsigned i = 0; i < srv->cfg.workers; i++)
		event_base_loopbreak(srv->workers[i].base);
	event_base_loopbreak(srv->main_base);
}

/* --max-conns needs that many descriptors; raise the soft limit toward
 * the hard one rather than failing at accept(). */
static void raise_nofile(const struct ct_srv_config *cfg, size_t nlisten)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_conns + nlisten + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		ct_warn("open-files limit %lu is below --max-conns %u; raise ulimit -n",
			(unsigned long)rl.rlim_cur, cfg->max_conns);
}

struct ct_srv *ct_srv_new(const struct ct_srv_config *cfg)
{
	struct ct_srv *srv = calloc(1, sizeof(*srv));
	size_t nports = (size_t)cfg->port_hi - cfg->port_lo + 1;
	int err = ENOMEM;

	if (!srv)
		goto fail;
	srv->cfg = *cfg;
	pthread_mutex_init(&srv->reset_lock, NULL);
	if (evthread_use_pthreads() < 0) {
		ct_error("libevent without thread support; reinstall libevent-pthreads");
		err = ENOSYS;
		goto fail;
	}
	for (uint32_t p = cfg->port_lo; p <= cfg->port_hi; p++) {
		int r = probe_port(cfg, (uint16_t)p);

		if (r < 0) {
			err = -r;
			goto fail;
		}
	}
	raise_nofile(cfg, nports * cfg->workers);
	if (cfg->mode == CT_SRV_MEMCACHE) {
		srv->store = ct_store_new(cfg->memory);
		if (!srv->store)
			goto fail;
	}
	if (cfg->mode == CT_SRV_HTTP && !(srv->body = ct_http_body_new(cfg->body)))
		goto fail;
	srv->main_base = event_base_new();
	srv->workers = calloc(cfg->workers, sizeof(*srv->workers));
	srv->listen_fds = calloc(nports * cfg->workers, sizeof(int));
	if (!srv->main_base || !srv->workers || !srv->listen_fds)
		goto fail;
	for (unsigned i = 0; i < cfg->workers; i++) {
		struct ct_worker *w = &srv->workers[i];

		w->srv = srv;
		w->id = i;
		w->base = event_base_new();
		w->listen_evs = calloc(nports, sizeof(*w->listen_evs));
		if (!w->base || !w->listen_evs)
			goto fail;
		evtimer_assign(&w->stall_ev, w->base, on_stall, w);
		evtimer_assign(&w->accept_pause_ev, w->base, on_accept_resume, w);
		for (size_t p = 0; p < nports; p++) {
			int fd = open_listener(cfg, (uint16_t)(cfg->port_lo + p));

			if (fd < 0) {
				err = -fd;
				goto fail;
			}
			srv->listen_fds[srv->nlisten_fds++] = fd;
			event_assign(&w->listen_evs[p], w->base, fd, EV_READ | EV_PERSIST,
				     on_accept, w);
			event_add(&w->listen_evs[p], NULL);
			w->nlisten++;
		}
	}
	srv->started_ns = ct_now_ns();
	srv->started_unix = (int64_t)time(NULL);
	return srv;
fail:
	if (err == ENOMEM)
		ct_error("out of memory setting up the server; lower --workers or --port range");
	ct_srv_free(srv);
	errno = err;
	return NULL;
}

int ct_srv_run(struct ct_srv *srv)
{
	const struct ct_srv_config *cfg = &srv->cfg;
	struct event *sigint, *sigterm;
	unsigned started = 0;
	char ports[16];
	int r = 0;

	sigint = evsignal_new(srv->main_base, SIGINT, on_signal, srv);
	sigterm = evsignal_new(srv->main_base, SIGTERM, on_signal, srv);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) < 0 ||
	    evsignal_add(sigterm, NULL) < 0) {
		ct_error("cannot install SIGINT/SIGTERM handlers");
		r = -ENOMEM;
		goto out;
	}
	if (cfg->stall_for_ns) {
		struct timeval tv = {
		    .tv_sec = (time_t)(cfg->stall_after_ns / 1000000000ULL),
		    .tv_usec = (suseconds_t)(cfg->stall_after_ns % 1000000000ULL / 1000),
		};

		for (unsigned i = 0; i < cfg->workers; i++)
			evtimer_add(&srv->workers[i].stall_ev, &tv);
	}
	for (; started < cfg->workers; started++) {
		int e = pthread_create(&srv->workers[started].thread, NULL, worker_main,
				       &srv->workers[started]);

		if (e) {
			ct_error("cannot start worker thread %u: %s", started, strerror(e));
			r = -e;
			for (unsigned i = 0; i < started; i++)
				event_base_loopbreak(srv->workers[i].base);
			goto join;
		}
	}
	if (cfg->port_lo == cfg->port_hi)
		snprintf(ports, sizeof(ports), "%u", cfg->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", cfg->port_lo, cfg->port_hi);
	/* One line that ctload (and people) wait for. */
	fprintf(stderr, "ctserver: listening on %s%s%s:%s (%s, close=%s, %u workers)\n",
		strchr(cfg->bind, ':') ? "[" : "", cfg->bind, strchr(cfg->bind, ':') ? "]" : "",
		ports, ct_srv_mode_name(cfg->mode), ct_srv_close_name(cfg->close), cfg->workers);
	fflush(stderr);
	event_base_dispatch(srv->main_base);
join:
	for (unsigned i = 0; i < started; i++)
		pthread_join(srv->workers[i].thread, NULL);
out:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	return r;
}

void ct_srv_free(struct ct_srv *srv)
{
	if (!srv)
		return;
	if (srv->workers) {
		for (unsigned i = 0; i < srv->cfg.workers; i++) {
			struct ct_worker *w = &srv->workers[i];

			ct_conn_close_all(w);
			for (size_t p = 0; p < w->nlisten; p++)
				event_del(&w->listen_evs[p]);
			if (w->base) {
				event_del(&w->stall_ev);
				event_del(&w->accept_pause_ev);
			}
			free(w->listen_evs);
			if (w->base)
				event_base_free(w->base);
		}
		free(srv->workers);
	}
	for (size_t i = 0; i < srv->nlisten_fds; i++)
		close(srv->listen_fds[i]);
	free(srv->listen_fds);
	if (srv->main_base)
		event_base_free(srv->main_base);
	ct_store_free(srv->store);
	free(srv->body);
	pthread_mutex_destroy(&srv->reset_lock);
	free(srv);
}

static void sum_raw(struct ct_srv *srv, struct ct_srv_counters *out)
{
	uint64_t *o = (uint64_t *)out;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < srv->cfg.workers; i++) {
		uint64_t *c = (uint64_t *)&srv->workers[i].cnt;

		for (size_t k = 0; k < CT_SRV_NCOUNTERS; k++)
			o[k] += __atomic_load_n(&c[k], __ATOMIC_RELAXED);
	}
}

void ct_srv_sum_counters(struct ct_srv *srv, struct ct_srv_counters *out)
{
	uint64_t *o = (uint64_t *)out, *b = (uint64_t *)&srv->reset_base;

	sum_raw(srv, out);
	pthread_mutex_lock(&srv->reset_lock);
	for (size_t k = 0; k < CT_SRV_NCOUNTERS; k++)
		o[k] -= b[k];
	pthread_mutex_unlock(&srv->reset_lock);
}

void ct_srv_reset_counters(struct ct_srv *srv)
{
	struct ct_srv_counters now;

	sum_raw(srv, &now);
	pthread_mutex_lock(&srv->reset_lock);
	srv->reset_base = now;
	pthread_mutex_unlock(&srv->reset_lock);
}
