/* bystander — [lab] bystander: a third party's view of the lab (the story's
 * monitoring). A low-rate client in a netns of its own (ctl-ID-bys) behind
 * the same router, so its connections cross the same conntrack and NAT as
 * the load, connects to [lab] bystander_port of the server: ctserver when
 * that port is one of [server] port's, else a listening socket ctload keeps
 * in the server netns (a second service on the same kernel, as munin-node
 * beside nginx). Each connect is timed from its start to the handshake's
 * end, with the SYNs it had to send again (TCP_INFO), then closed; each
 * tick's connects go to sample.bystander, the step's to step.bystander.
 *
 * Its address is the last client address before the router's
 * (198.18.255.253 by default), in the masqueraded half. One thread does it
 * all with poll(): at most BYS_INFLIGHT connects in flight, each bounded by
 * [load] connect_timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"
#include "loadgen/lab/lab_int.h"

#define BYS_INFLIGHT 16
#define BYS_TICK_MAX 64	  /* connect times kept per tick */
#define BYS_PORT     4949 /* [lab] bystander_port left out: munin's */

struct bys_conn {
	int fd;
	uint64_t t0;
};

/* What the thread counted; the sampler takes a tick's part under the lock. */
struct bys_counts {
	uint64_t attempted, connected, failed, timeouts, syn_retrans, slow;
	double max_ms;
};

struct ct_bystander {
	int nsfd, listen_fd;
	struct sockaddr_in dst;
	uint64_t period_ns, timeout_ns;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	pthread_mutex_t mu;
	struct bys_counts tick, step;
	double tick_ms[BYS_TICK_MAX];
	size_t n_tick_ms;
	struct bys_conn c[BYS_INFLIGHT];
};

uint32_t ct_lab_bystander_addr(const struct ct_lab_addr *ap)
{
	return ap->router_cli - 1;
}

/* One connect ended: ms < 0 means it failed (timeout: by our deadline). */
static void record(struct ct_bystander *b, double ms, bool timeout, unsigned retrans)
{
	pthread_mutex_lock(&b->mu);
	struct bys_counts *s[2] = {&b->tick, &b->step};
	for (int i = 0; i < 2; i++) {
		if (ms < 0) {
			s[i]->failed++;
			s[i]->timeouts += timeout;
		} else {
			s[i]->connected++;
			s[i]->max_ms = fmax(s[i]->max_ms, ms);
			s[i]->slow += ms >= 900;
		}
		s[i]->syn_retrans += retrans;
	}
	if (ms >= 0 && b->n_tick_ms < BYS_TICK_MAX)
		b->tick_ms[b->n_tick_ms++] = ms;
	pthread_mutex_unlock(&b->mu);
}

static void count_attempt(struct ct_bystander *b)
{
	pthread_mutex_lock(&b->mu);
	b->tick.attempted++;
	b->step.attempted++;
	pthread_mutex_unlock(&b->mu);
}

static void launch(struct ct_bystander *b, struct bys_conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	count_attempt(b);
	if (fd < 0 ||
	    (connect(fd, (struct sockaddr *)&b->dst, sizeof(b->dst)) < 0 && errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		record(b, -1, false, 0);
		return;
	}
	c->fd = fd;
	c->t0 = ct_now_ns();
}

/* The connect on c is done (POLLOUT/POLLERR) or past its deadline. */
static void finish(struct ct_bystander *b, struct bys_conn *c, bool expired)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	unsigned retrans = 0;

	memset(&ti, 0, sizeof(ti));
	if (!getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl))
		retrans = ti.tcpi_total_retrans;
	if (expired)
		record(b, -1, true, retrans);
	else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)
		record(b, -1, false, retrans);
	else
		record(b, (double)(ct_now_ns() - c->t0) / 1e6, false, retrans);
	close(c->fd);
	c->fd = -1;
}

/* Accept and close what reached ctload's listener. */
static void drain_listener(int lfd)
{
	int fd;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* One turn: wait for the next launch, a connect's end or a deadline. */
static void turn(struct ct_bystander *b, uint64_t *next)
{
	struct pollfd p[BYS_INFLIGHT + 1];
	int idx[BYS_INFLIGHT + 1], n = 0;
	uint64_t now = ct_now_ns(), wake = *next;

	for (int i = 0; i < BYS_INFLIGHT; i++) {
		if (b->c[i].fd < 0)
			continue;
		if (now - b->c[i].t0 >= b->timeout_ns) {
			finish(b, &b->c[i], true);
			continue;
		}
		if (b->c[i].t0 + b->timeout_ns < wake)
			wake = b->c[i].t0 + b->timeout_ns;
		p[n] = (struct pollfd){.fd = b->c[i].fd, .events = POLLOUT};
		idx[n++] = i;
	}
	if (b->listen_fd >= 0) {
		p[n] = (struct pollfd){.fd = b->listen_fd, .events = POLLIN};
		idx[n++] = -1;
	}
	/* At most 100 ms, so a stop is seen soon. */
	int ms = wake > now ? (int)((wake - now) / 1000000 + 1) : 0;
	if (poll(p, (nfds_t)n, ms > 100 ? 100 : ms) > 0)
		for (int k = 0; k < n; k++) {
			if (!p[k].revents)
				continue;
			if (idx[k] < 0)
				drain_listener(b->listen_fd);
			else
				finish(b, &b->c[idx[k]], false);
		}
	now = ct_now_ns();
	if (now < *next)
		return;
	*next += b->period_ns;
	if (*next < now) /* late by more than a period: no burst to catch up */
		*next = now + b->period_ns;
	for (int i = 0; i < BYS_INFLIGHT; i++)
		if (b->c[i].fd < 0) {
			launch(b, &b->c[i]);
			return;
		}
	/* Every slot still waiting: this one is due but cannot start. */
	count_attempt(b);
	record(b, -1, false, 0);
}

static void *bys_main(void *arg)
{
	struct ct_bystander *b = arg;
	uint64_t next = ct_now_ns();

	/* Sockets made from here on belong to the bystander's netns. */
	if (setns(b->nsfd, CLONE_NEWNET) < 0) {
		ct_warn("bystander: cannot enter its netns: %s; it sends nothing", strerror(errno));
		return NULL;
	}
	while (!atomic_load(&b->stop))
		turn(b, &next);
	for (int i = 0; i < BYS_INFLIGHT; i++)
		if (b->c[i].fd >= 0)
			close(b->c[i].fd);
	return NULL;
}

/* The listener, made inside the server netns (ct_netns_run). */
static int make_listener(void *arg)
{
	struct ct_bystander *b = arg;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&b->dst, sizeof(b->dst)) < 0 || listen(fd, 128) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	b->listen_fd = fd;
	return 0;
}

/* ctl-ID-bys, its veth to the router (vbys there) and its routes: the
 * router's client-side address on a second link, as a /32, so the client
 * half's routes stay as they are. */
static int build_netns(struct ct_lab *lab, struct ct_err *err)
{
	const char *bys = lab->bys_ns, *rtr = lab->ns[CT_ROLE_ROUTER];
	const char *argv[] = {"ip",   "-n",   bys,    "link", "add",   "veth0", "type",
			      "veth", "peer", "name", "vbys", "netns", rtr,	NULL};
	char a[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN], script[512];
	struct ct_err why = {.msg = ""};
	int ret;

	ct_lab_addr_str(ct_lab_bystander_addr(&lab->ap), a);
	ct_lab_addr_str(lab->ap.srv_net, s);
	ct_lab_addr_str(lab->ap.router_cli, r);
	if ((ret = ct_labstate_add_netns(lab->st, bys)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "recording netns %s: %s", bys, strerror(-ret));
		return ret;
	}
	if ((ret = ct_netns_add(bys, &why)) < 0 || (ret = ct_exec(-1, argv, NULL, &why)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "creating the bystander's netns %s: %s", bys, why.msg);
		return ret;
	}
	snprintf(script, sizeof(script),
		 "addr add %s/%u dev veth0\nlink set veth0 up\nroute add %s/%u via %s\n", a,
		 lab->ap.half_prefix, s, lab->ap.half_prefix, r);
	if ((ret = ct_ip_batch(bys, script, &why)) == 0) {
		snprintf(script, sizeof(script),
			 "addr add %s/32 dev vbys\nlink set vbys up\nroute add %s/32 dev vbys\n", r,
			 a);
		ret = ct_ip_batch(rtr, script, &why);
	}
	if (ret < 0)
		ct_err_set(err, CT_EXIT_ENV, "configuring the bystander's netns %s: %s", bys,
			   why.msg);
	return ret;
}

static unsigned bys_port(const struct ct_lab *lab)
{
	return lab->sc->lab.bystander_port ? lab->sc->lab.bystander_port : BYS_PORT;
}

static bool served_by_ctserver(const struct ct_lab *lab)
{
	unsigned p = bys_port(lab);
	return p >= lab->srv.port_lo && p <= lab->srv.port_hi;
}

static int start(struct ct_lab *lab, struct ct_bystander *b, struct ct_err *err)
{
	int ret;

	b->nsfd = ct_netns_open(lab->bys_ns);
	if (b->nsfd < 0) {
		ct_err_set(err, CT_EXIT_ENV, "opening netns %s: %s", lab->bys_ns,
			   strerror(-b->nsfd));
		return b->nsfd;
	}
	b->dst.sin_family = AF_INET;
	b->dst.sin_addr.s_addr = htonl(lab->ap.server);
	b->dst.sin_port = htons((uint16_t)bys_port(lab));
	if (!served_by_ctserver(lab) &&
	    (ret = ct_netns_run(lab->nsfd[CT_ROLE_SERVER], make_listener, b)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "the bystander's port %s:%u in %s: %s",
			   inet_ntoa(b->dst.sin_addr), bys_port(lab), lab->ns[CT_ROLE_SERVER],
			   strerror(-ret));
		return ret;
	}
	if ((ret = pthread_create(&b->thread, NULL, bys_main, b)) != 0) {
		ct_err_set(err, CT_EXIT_ENV, "starting the bystander: %s", strerror(ret));
		return -ret;
	}
	b->running = true;
	return 0;
}

int ct_lab_bystander_start(struct ct_lab *lab, struct ct_err *err)
{
	const struct ct_scenario *sc = lab->sc;
	struct ct_bystander *b;
	int ret;

	if (!(sc->lab.bystander > 0))
		return 0;
	snprintf(lab->bys_ns, sizeof(lab->bys_ns), "%sbys", lab->prefix);
	ret = build_netns(lab, err);
	if (ret < 0)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->nsfd = b->listen_fd = -1;
	for (int i = 0; i < BYS_INFLIGHT; i++)
		b->c[i].fd = -1;
	pthread_mutex_init(&b->mu, NULL);
	b->period_ns = (uint64_t)(1e9 / sc->lab.bystander);
	b->timeout_ns = sc->load.connect_timeout_ns ? sc->load.connect_timeout_ns : 3000000000ull;
	lab->bys = b;
	ret = start(lab, b, err);
	if (ret == 0)
		ct_lab_event(lab, "bystander in %s (%s) connecting to port %u at %g/s", lab->bys_ns,
			     inet_ntoa((struct in_addr){htonl(ct_lab_bystander_addr(&lab->ap))}),
			     bys_port(lab), sc->lab.bystander);
	return ret;
}

void ct_lab_bystander_stop(struct ct_lab *lab, bool delete_netns)
{
	struct ct_bystander *b = lab->bys;

	if (b) {
		atomic_store(&b->stop, true);
		if (b->running)
			pthread_join(b->thread, NULL);
		if (b->listen_fd >= 0)
			close(b->listen_fd);
		if (b->nsfd >= 0)
			close(b->nsfd);
		pthread_mutex_destroy(&b->mu);
		free(b);
		lab->bys = NULL;
	}
	/* For a fresh netns; at the end the journal's rollback deletes it. */
	if (delete_netns && lab->bys_ns[0])
		ct_netns_del(lab->bys_ns);
}

int ct_lab_bystander_fill(void *ctx, json_t *sample)
{
	struct ct_bystander *b = ctx;
	json_t *o, *ms = json_array();

	pthread_mutex_lock(&b->mu);
	for (size_t i = 0; ms && i < b->n_tick_ms; i++)
		json_array_append_new(ms, json_real(b->tick_ms[i]));
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o*}", "attempted", (json_int_t)b->tick.attempted,
		      "connected", (json_int_t)b->tick.connected, "failed",
		      (json_int_t)b->tick.failed, "timeouts", (json_int_t)b->tick.timeouts,
		      "syn_retrans", (json_int_t)b->tick.syn_retrans, "connect_ms", ms);
	memset(&b->tick, 0, sizeof(b->tick));
	b->n_tick_ms = 0;
	pthread_mutex_unlock(&b->mu);
	if (!o)
		return -ENOMEM;
	json_object_set_new(sample, "bystander", o);
	return 0;
}

void ct_lab_bystander_step_begin(struct ct_lab *lab)
{
	if (!lab->bys)
		return;
	pthread_mutex_lock(&lab->bys->mu);
	memset(&lab->bys->step, 0, sizeof(lab->bys->step));
	pthread_mutex_unlock(&lab->bys->mu);
}

void ct_lab_bystander_step(struct ct_lab *lab, json_t *step)
{
	struct ct_bystander *b = lab->bys;
	struct bys_counts s;

	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	s = b->step;
	pthread_mutex_unlock(&b->mu);
	json_object_set_new(step, "bystander",
			    json_pack("{s:f, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "rate",
				      lab->sc->lab.bystander, "port", (int)bys_port(lab),
				      "attempted", (json_int_t)s.attempted, "connected",
				      (json_int_t)s.connected, "failed", (json_int_t)s.failed,
				      "timeouts", (json_int_t)s.timeouts, "syn_retrans",
				      (json_int_t)s.syn_retrans, "slow", (json_int_t)s.slow,
				      "connect_ms_max", s.max_ms));
}
