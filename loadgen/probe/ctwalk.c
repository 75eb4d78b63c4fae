#include "loadgen/probe/ctwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "loadgen/probe/ctnl.h"

/* Below this many entries a walk's cost is mostly its fixed part (a few
 * syscalls): it says nothing about the cost of an entry. */
#define MEASURE_MIN_ENTRIES 10000

struct ct_ctwalk {
	char name[24];
	double budget;
	int nsfd;	      /* a copy, to make a new socket after a cut walk; -1: here */
	struct ct_ctnl *ctnl; /* used by the thread only */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	/* under mu: */
	bool stop;
	bool hinted; /* a count has come from the tick */
	uint64_t hint;
	double ns_per_entry;
	uint64_t floor_ns; /* the next walk costs at least this */
	struct ct_ctwalk_result res;
};

uint64_t ct_ctwalk_predict_ns(uint64_t entries, double ns_per_entry, uint64_t floor_ns)
{
	double p = (double)entries * ns_per_entry;

	if (p > 1e15) /* beyond any table: keep the figure finite */
		p = 1e15;
	return (uint64_t)p > floor_ns ? (uint64_t)p : floor_ns;
}

uint64_t ct_ctwalk_interval_ns(uint64_t predicted_ns, double budget)
{
	double iv;

	if (budget <= 0)
		budget = CT_CTWALK_BUDGET;
	iv = (double)predicted_ns / budget;
	if (iv < (double)CT_CTWALK_MIN_INTERVAL_NS)
		return CT_CTWALK_MIN_INTERVAL_NS;
	/* Beyond a day the figure only says "never": keep it finite. */
	if (iv > 86400.0 * 1e9)
		return 86400ull * CT_NS_PER_SEC;
	return (uint64_t)iv;
}

struct ct_ctwalk *ct_ctwalk_new(int nsfd, const char *name, double budget)
{
	struct ct_ctwalk *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (!w)
		return NULL;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->budget = budget > 0 ? budget : CT_CTWALK_BUDGET;
	w->ns_per_entry = CT_CTWALK_NS_PER_ENTRY_GUESS;
	w->res.interval_ns = CT_CTWALK_MIN_INTERVAL_NS;
	w->nsfd = nsfd >= 0 ? fcntl(nsfd, F_DUPFD_CLOEXEC, 0) : -1;
	w->ctnl = nsfd >= 0 && w->nsfd < 0 ? NULL : ct_ctnl_new(w->nsfd);
	if (!w->ctnl) {
		int e = errno;
		if (w->nsfd >= 0)
			close(w->nsfd);
		free(w);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	/* Waits are deadlines on the monotonic clock, like every other. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	return w;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * CT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* What a walk under way may still spend. */
struct walk_allowance {
	struct ct_ctwalk *w;
	uint64_t cpu0, allowed_ns;
};

static bool walk_go_on(void *arg)
{
	struct walk_allowance *a = arg;
	bool stop;

	pthread_mutex_lock(&a->w->mu);
	stop = a->w->stop;
	pthread_mutex_unlock(&a->w->mu);
	return !stop && thread_cpu_ns() - a->cpu0 <= a->allowed_ns;
}

/* A walk cut short leaves its socket mid-dump: replace it. */
static int new_socket(struct ct_ctwalk *w)
{
	ct_ctnl_free(w->ctnl);
	w->ctnl = ct_ctnl_new(w->nsfd);
	return w->ctnl ? 0 : -errno;
}

static void publish(struct ct_ctwalk *w, const struct ct_ctnl_states *st, uint64_t t0, uint64_t cpu,
		    int ret)
{
	w->res.error = ret;
	w->res.cpu_total_ns += cpu;
	if (ret == -ECANCELED) {
		w->res.walks_cut++;
		w->floor_ns = 2 * cpu;
	} else if (ret == 0) {
		memcpy(w->res.tcp, st->tcp, sizeof(w->res.tcp));
		w->res.other = st->other;
		w->res.total = st->total;
		w->res.started_ns = t0;
		w->res.cpu_ns = cpu;
		w->res.have = true;
		w->res.walks++;
		w->floor_ns = cpu;
		if (st->total >= MEASURE_MIN_ENTRIES)
			w->ns_per_entry = (double)cpu / (double)st->total;
	}
}

/* One walk of up to `allowed_ns` CPU, outside the lock; its result
 * published under it. Returns false when walking here cannot work at all
 * (no ctnetlink, or no new socket after a cut walk). */
static bool walk_once(struct ct_ctwalk *w, uint64_t allowed_ns)
{
	struct ct_ctnl_states st;
	struct walk_allowance a = {.w = w, .cpu0 = thread_cpu_ns(), .allowed_ns = allowed_ns};
	uint64_t t0 = ct_now_ns(), cpu;
	int ret = ct_ctnl_states_while(w->ctnl, &st, walk_go_on, &a), sret = 0;

	cpu = thread_cpu_ns() - a.cpu0;
	if (ret == -ECANCELED)
		sret = new_socket(w);
	pthread_mutex_lock(&w->mu);
	publish(w, &st, t0, cpu, ret);
	pthread_mutex_unlock(&w->mu);
	if (ret < 0 && ret != -ECANCELED)
		ct_debug("ctwalk %s: conntrack dump: %s", w->name, strerror(-ret));
	if (sret < 0)
		ct_warn("ctwalk %s: no new ctnetlink socket: %s; per-state counts stop here",
			w->name, strerror(-sret));
	return sret == 0 && !(ret == -EOPNOTSUPP || ret == -EPROTONOSUPPORT || ret == -ENOENT);
}

static void empty_result(struct ct_ctwalk *w, uint64_t now)
{
	memset(w->res.tcp, 0, sizeof(w->res.tcp));
	w->res.other = w->res.total = 0;
	w->res.started_ns = now;
	w->res.have = true;
	w->res.degraded = false;
}

static void wait_until(struct ct_ctwalk *w, uint64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ns / CT_NS_PER_SEC),
			      .tv_nsec = (long)(deadline_ns % CT_NS_PER_SEC)};

	pthread_cond_timedwait(&w->wake, &w->mu, &ts);
}

static void *walker(void *arg)
{
	struct ct_ctwalk *w = arg;
	/* As if a walk began a second ago: the first may spend a second's
	 * allowance, which is all an unknown table gets. */
	uint64_t last_start = ct_now_ns() - CT_CTWALK_MIN_INTERVAL_NS;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		uint64_t now = ct_now_ns();
		uint64_t pred = ct_ctwalk_predict_ns(w->hint, w->ns_per_entry, w->floor_ns);
		uint64_t iv = ct_ctwalk_interval_ns(pred, w->budget);

		w->res.interval_ns = iv;
		w->res.degraded = iv > CT_CTWALK_MIN_INTERVAL_NS || w->res.error == -ECANCELED;
		if (w->hinted && w->hint == 0) {
			/* Nothing tracked here: the breakdown is known without a
			 * walk, which would cost as much as the host's largest
			 * table (the kernel walks the shared hash table). */
			empty_result(w, now);
			wait_until(w, now + CT_CTWALK_MIN_INTERVAL_NS);
			continue;
		}
		if (now < last_start + iv) {
			/* Look again within a second: the table may shrink. */
			uint64_t until = last_start + iv - now > CT_CTWALK_MIN_INTERVAL_NS
					     ? now + CT_CTWALK_MIN_INTERVAL_NS
					     : last_start + iv;
			wait_until(w, until);
			continue;
		}
		uint64_t allowed = (uint64_t)(w->budget * (double)(now - last_start));
		last_start = now;
		pthread_mutex_unlock(&w->mu);
		bool again = walk_once(w, allowed > pred ? allowed : pred);
		pthread_mutex_lock(&w->mu);
		if (!again)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}
int ct_ctwalk_start(struct ct_ctwalk *w)
{
	sigset_t all, old;
	char tname[16];
	int ret;

	if (w->started)
		return 0;
	/* Signals belong to the main thread: a walk's recvmsg() must not be
	 * the call a Ctrl-C interrupts. The thread inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&w->thread, NULL, walker, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	/* Thread names hold 15 characters: "ctwalk-" and the role's first 8. */
	snprintf(tname, sizeof(tname), "ctwalk-%.8s", w->name);
	pthread_setname_np(w->thread, tname);
	w->started = true;
	return 0;
}

void ct_ctwalk_free(struct ct_ctwalk *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mu);
	ct_ctnl_free(w->ctnl);
	if (w->nsfd >= 0)
		close(w->nsfd);
	free(w);
}

void ct_ctwalk_hint(struct ct_ctwalk *w, uint64_t entries)
{
	pthread_mutex_lock(&w->mu);
	w->hint = entries;
	w->hinted = true;
	pthread_mutex_unlock(&w->mu);
}

void ct_ctwalk_get(struct ct_ctwalk *w, struct ct_ctwalk_result *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->res;
	pthread_mutex_unlock(&w->mu);
}
