/* kernel — the kernel-socket engine's ops table: setup (connection pools,
 * the compiled request, the decoded expect), start, snapshot, stop, free.
 * See kernel_int.h for how it runs. */
#include "loadgen/engine/kernel/kernel_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/log.h"
#include "loadgen/engine/engine_int.h"

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

/* [load] request, escapes decoded, compiled. 0 or a positive errno, logged. */
static int compile_request(struct kengine *e)
{
	struct ct_err err = {0};
	const char *req = e->load->request ? e->load->request : "";
	char *raw = malloc(strlen(req) + 1);
	long rlen = raw ? ct_reqtmpl_unescape(req, raw) : -ENOMEM;
	if (rlen < 0) {
		free(raw);
		ct_error("[load] request: bad escape; use \\r \\n \\t \\\\ \\\" or \\xHH");
		return (int)-rlen;
	}
	e->req = ct_reqtmpl_new(raw, (size_t)rlen, &err);
	free(raw);
	if (!e->req) {
		int rc = errno;
		ct_error("[load] request: %s", err.msg[0] ? err.msg : strerror(rc));
		return rc;
	}
	return 0;
}

/* One of [load] expect / expect_start, escapes decoded into *buf, at most
 * max bytes. 0 (also when unset: *buf stays NULL) or a positive errno,
 * logged. */
static int decode_one(const char *key, const char *src, size_t max, const char *which,
		      char **buf, size_t *len)
{
	if (!src || !src[0])
		return 0;
	*buf = malloc(strlen(src) + 1);
	long n = *buf ? ct_reqtmpl_unescape(src, *buf) : -ENOMEM;
	if (n < 0) {
		ct_error("[load] %s: bad escape", key);
		return (int)-n;
	}
	*len = (size_t)n;
	if (*len > max) {
		ct_error("[load] %s is %zu bytes; the kernel engine matches at most %zu: "
			 "use the reply's %s %zu bytes",
			 key, *len, max, which, max);
		return EINVAL;
	}
	return 0;
}

static int decode_expect(struct kengine *e)
{
	int rc = decode_one("expect", e->load->expect, CONN_TAIL, "last", &e->expect_buf,
			    &e->expect_len);
	e->expect = e->expect_buf;
	return rc ? rc
		  : decode_one("expect_start", e->load->expect_start, CONN_HEAD, "first",
			       &e->start_buf, &e->start_len);
}

/* The threads' state: a pool of `per` connections each, its buffers and
 * its share of the schedule. 0 or ENOMEM. */
static int make_workers(struct kengine *e)
{
	unsigned cap = e->load->max_inflight ? e->load->max_inflight : 10000;
	uint32_t per = (cap + e->nthreads - 1) / e->nthreads;
	raise_nofile((rlim_t)cap + 256);
	e->w = calloc(e->nthreads, sizeof(*e->w));
	if (!e->w)
		return ENOMEM;
	for (unsigned i = 0; i < e->nthreads; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		if (!w)
			return ENOMEM;
		e->w[i] = w;
		w->e = e;
		w->idx = i;
		w->npool = per;
		w->pool = calloc(per, sizeof(*w->pool));
		w->wbuf_len = ct_reqtmpl_max_len(e->req) + 1;
		w->wbuf = malloc(w->wbuf_len);
		if (!w->pool || !w->wbuf)
			return ENOMEM;
		for (uint32_t j = 0; j < per; j++) {
			w->pool[j].fd = -1;
			w->pool[j].next_free = j + 1 < per ? j + 1 : NO_CONN;
		}
		w->free_head = 0;
		w->src_count = e->cfg.n_src;
		if (e->cfg.hosts.n > 1) {
			w->host = i % e->cfg.hosts.n;
			w->src_first = e->cfg.hosts.first[w->host];
			w->src_count = e->cfg.hosts.count[w->host];
		}
		if (e->cfg.threads_total) /* one shard of a schedule shared by engines */
			ct_schedule_init(&w->sched, &e->load->sched, e->cfg.thread_base + i,
					 e->cfg.threads_total);
		else
			ct_schedule_init(&w->sched, &e->load->sched, i, e->nthreads);
	}
	return 0;
}

static struct ct_engine *kernel_new(const struct ct_engine_config *cfg)
{
	struct kengine *e = calloc(1, sizeof(*e));
	int rc = ENOMEM;

	if (!e)
		goto fail;
	e->cfg = *cfg;
	e->load = &e->cfg.load;
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
	e->window_ns = e->load->launch_window_ns;
	if ((rc = compile_request(e)) || (rc = decode_expect(e)))
		goto fail;
	/* Both are compiled or copied now: the caller's strings are not kept. */
	e->cfg.load.request = e->cfg.load.expect = e->cfg.load.expect_start = NULL;
	e->nthreads = ct_engine_threads(cfg);
	if ((rc = make_workers(e)))
		goto fail;
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
		int rc = pthread_create(&w->th, NULL, ct_kworker_main, w);
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
	if (LOAD(&e->stop_ns) == 0)
		STORE(&e->stop_ns, ct_now_ns());
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
	free(e->start_buf);
	free(e->src);
	free(e);
}

static size_t kernel_conn_size(const struct ct_engine *pub)
{
	/* All of it: the reply's tail is kept inside the struct, and the read
	 * buffer is the thread's, shared by its connections. */
	return sizeof(struct conn);
}

const struct ct_engine_ops ct_engine_kernel_ops = {
    .name = "kernel",
    .new = kernel_new,
    .start = kernel_start,
    .snapshot = kernel_snapshot,
    .stop = kernel_stop,
    .free = kernel_free,
    .conn_size = kernel_conn_size,
};
