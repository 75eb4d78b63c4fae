/* trial — see trial.h. */
#include "loadgen/run/trial.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/units.h"
#include "loadgen/engine/engine.h"
#include "loadgen/engine/schedule.h"
#include "loadgen/mpi/dist.h"
#include "loadgen/run/loadcfg.h"

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

struct cpu {
	double user, sys;
};

static struct cpu cpu_now(void)
{
	struct rusage ru;
	struct cpu c = {0, 0};
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		c.user = tv_s(ru.ru_utime);
		c.sys = tv_s(ru.ru_stime);
	}
	return c;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static json_t *pct_ms(const struct ct_hist *h, bool mean)
{
	json_t *o = json_pack("{s:f, s:f, s:f, s:f}", "p50", ms(ct_hist_quantile(h, 0.50)), "p90",
			      ms(ct_hist_quantile(h, 0.90)), "p99", ms(ct_hist_quantile(h, 0.99)),
			      "max", ms(h->max));
	if (o && mean)
		json_object_set_new(o, "mean", json_real(h->n ? ms(h->sum / h->n) : 0.0));
	return o;
}

static json_t *pct_us(const struct ct_hist *h)
{
	return json_pack("{s:f, s:f, s:f}", "p50", us(ct_hist_quantile(h, 0.50)), "p99",
			 us(ct_hist_quantile(h, 0.99)), "max", us(h->max));
}

/* The distribution itself, [[value_ms, count], ...] over non-empty
 * buckets: what shows dropped SYNs as peaks at 1 s, 2 s, 3 s. */
static json_t *hist_ms(const struct ct_hist *h)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < CT_HIST_NBUCKETS; i++) {
		if (!h->count[i])
			continue;
		uint64_t lo = ct_hist_bucket_lo(i), hi = ct_hist_bucket_hi(i);
		json_array_append_new(
		    a, json_pack("[f, I]", ms(lo + (hi - lo) / 2), (json_int_t)h->count[i]));
	}
	return a;
}

static json_t *failures_obj(const struct ct_engine_stats *s)
{
	json_t *o = json_object();
	for (int f = 0; f < CT_FAIL_N; f++)
		json_object_set_new(o, ct_fail_name(f), json_integer((json_int_t)s->failures[f]));
	return o;
}

static uint64_t failed(const struct ct_engine_stats *s)
{
	uint64_t n = 0;
	for (int f = 0; f < CT_FAIL_N; f++)
		n += s->failures[f];
	return n;
}

static void run_sources(const struct ct_sample_source *src, size_t n, bool *dead, json_t *obj)
{
	for (size_t i = 0; i < n; i++) {
		if (dead[i])
			continue;
		int rc = src[i].fill(src[i].ctx, obj);
		if (rc < 0) {
			ct_warn("sample source %s failed: %s; its fields are left out from now on",
				src[i].name, strerror(-rc));
			dead[i] = true;
		}
	}
}

static void status_line(const struct ct_trial_opts *o, double t, double rate, double target,
			const struct ct_engine_stats *cur, const struct ct_hist *conn_iv,
			double cpu_pct)
{
	fprintf(stderr,
		"\r\033[K[step %u/%u] %5.1fs  rate %.0f/s (target %.0f/s)  done %llu  failed %llu  "
		"inflight %llu  connect p99 %.2fms  cpu %.0f%%",
		o->step + 1, o->n_steps ? o->n_steps : 1, t, rate, target,
		(unsigned long long)cur->completed, (unsigned long long)failed(cur),
		(unsigned long long)cur->inflight, ms(ct_hist_quantile(conn_iv, 0.99)), cpu_pct);
	fflush(stderr);
}

/* One step in progress. */
struct trial {
	const struct ct_trial_opts *o;
	const struct ct_scenario *sc;
	struct ct_engine_config cfg;
	struct ct_engine *eng;
	struct ct_engine_stats *cur, *prev; /* this tick's snapshot and the one before */
	struct ct_hist *iv;		    /* the interval's share of a histogram */
	bool *dead;			    /* sources, then step hooks, that failed */
	uint64_t entered; /* when the trial began: its step's clock started then */
	uint64_t start, last, hard_end, inflight_peak;
	uint64_t ended; /* a watch ended the step this long after its start; 0: it did not */
	uint64_t last_status, status_completed;
	struct cpu cpu0, cpu_prev, cpu_status;
	bool interrupted, aborted;
	bool want_end; /* under MPI: a watch asked to end, said at the next tick */
};

/* Stop the engine on SIGINT, or when the step overran every timeout. */
static void check_stop(struct trial *t, uint64_t now)
{
	if (ct_stop_requested() && !t->interrupted) {
		t->interrupted = true;
		ct_engine_stop(t->eng, true);
	}
	if (now > t->hard_end && !t->aborted) {
		t->aborted = true;
		ct_warn("step %u did not finish in time; aborting its connections", t->o->step);
		ct_engine_stop(t->eng, true);
	}
}

/* The status line, once a second: over the second since the last one,
 * not the last sample, steadier for a person to read. */
static void maybe_status(struct trial *t, uint64_t now, uint64_t t_rel, double target, struct cpu c)
{
	if (!t->o->live || now - t->last_status < CT_NS_PER_SEC)
		return;
	double sdt = (double)(now - t->last_status) / 1e9;
	double cdt = c.user + c.sys - t->cpu_status.user - t->cpu_status.sys;
	status_line(t->o, (double)t_rel / 1e9,
		    (double)(t->cur->completed - t->status_completed) / sdt, target, t->cur, t->iv,
		    100.0 * cdt / sdt);
	t->last_status = now;
	t->status_completed = t->cur->completed;
	t->cpu_status = c;
}

/* The sample of the interval that ends now (before the sources add theirs). */
static json_t *sample_of(struct trial *t, uint64_t now, struct cpu c)
{
	const struct ct_engine_stats *cur = t->cur, *prev = t->prev;
	const struct ct_schedule_params *sp = &t->cfg.load.sched;
	double dt = (double)(now - t->last) / 1e9;
	double rate = dt > 0 ? (double)(cur->completed - prev->completed) / dt : 0;
	double arate = dt > 0 ? (double)(cur->attempted - prev->attempted) / dt : 0;
	uint64_t t_rel = now > t->start ? now - t->start : 0;
	double target = t_rel < sp->duration_ns ? ct_schedule_rate_at(sp, t_rel) : 0;
	json_t *s =
	    json_pack("{s:f, s:i, s:f, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:f, s:f, s:I}", "t",
		      (double)(now - t->o->origin_ns) / 1e9, "step", (int)t->o->step, "rate_target",
		      target, "scheduled", (json_int_t)cur->scheduled, "attempted",
		      (json_int_t)cur->attempted, "established", (json_int_t)cur->established,
		      "completed", (json_int_t)cur->completed, "unsent", (json_int_t)cur->unsent,
		      "failures", failures_obj(cur), "inflight", (json_int_t)cur->inflight, "rate",
		      rate, "attempt_rate", arate, "syn_retrans", (json_int_t)cur->syn_retrans);
	if (!s)
		return NULL;
	ct_hist_sub(t->iv, &cur->connect, &prev->connect);
	json_object_set_new(s, "connect_ms", pct_ms(t->iv, false));
	json_object_set_new(s, "connect_hist", hist_ms(t->iv));
	maybe_status(t, now, t_rel, target, c);
	ct_hist_sub(t->iv, &cur->total, &prev->total);
	json_object_set_new(s, "total_ms", pct_ms(t->iv, false));
	ct_hist_sub(t->iv, &cur->connect_call, &prev->connect_call);
	json_object_set_new(s, "connect_call_us", pct_us(t->iv));
	json_object_set_new(s, "cpu",
			    json_pack("{s:f, s:f}", "user", c.user - t->cpu_prev.user, "sys",
				      c.sys - t->cpu_prev.sys));
	return s;
}

/* Under MPI: this tick's counters become the sum over ranks, so every rank
 * sees the same figures and ends the step on the same tick; a watch's end
 * or an interrupt on any rank applies to all. 0 or -ETIMEDOUT (named). */
static int merge_ranks(struct trial *t, uint64_t now)
{
	unsigned flags =
	    (t->want_end ? CT_DIST_F_ENDED : 0u) | (t->interrupted ? CT_DIST_F_INTERRUPTED : 0u);
	if (ct_dist_tick(t->o->dist, t->cur, &flags) < 0)
		return -ETIMEDOUT;
	if ((flags & CT_DIST_F_ENDED) && !t->ended) {
		t->ended = now > t->start ? now - t->start : 1;
		ct_engine_stop(t->eng, false);
	}
	if ((flags & CT_DIST_F_INTERRUPTED) && !ct_stop_requested())
		ct_stop_flag = 1;
	return 0;
}

/* One tick: snapshot, sample, sources, timeseries.jsonl. 0, 1 when the
 * engine is done (t->prev holds its final snapshot), or -ENOMEM. */
static int tick(struct trial *t, uint64_t now)
{
	const struct ct_trial_opts *o = t->o;

	check_stop(t, now);
	ct_engine_snapshot(t->eng, t->cur);
	if (o->dist && merge_ranks(t, now) < 0)
		return -ETIMEDOUT;
	if (t->cur->inflight > t->inflight_peak)
		t->inflight_peak = t->cur->inflight;
	struct cpu c = cpu_now();
	json_t *s = sample_of(t, now, c);
	if (!s)
		return -ENOMEM;
	run_sources(o->sources, o->n_sources, t->dead, s);
	if (o->rd)
		ct_rundir_sample(o->rd, s);
	/* Under MPI rank 0's watch alone decides: it has the lab's samplers. */
	if (o->watch && ct_dist_rank(o->dist) == 0 && !t->ended && !t->want_end && now > t->start &&
	    o->watch->fn(o->watch->ctx, s, (double)(now - t->start) / 1e9) == 1) {
		if (o->dist) {
			t->want_end = true; /* every rank ends at the same tick */
		} else {
			t->ended = now - t->start;
			ct_engine_stop(t->eng, false);
		}
	}
	json_decref(s);
	t->cpu_prev = c;
	t->last = now;
	struct ct_engine_stats *tmp = t->prev;
	t->prev = t->cur;
	t->cur = tmp;
	return t->prev->running == 0;
}

/* Sample every interval until the engine is done. 0 or -ENOMEM. */
static int sample_loop(struct trial *t)
{
	const struct ct_scenario *sc = t->sc;
	uint64_t interval =
	    sc->report.sample_interval_ns ? sc->report.sample_interval_ns : 100 * CT_NS_PER_MSEC;

	for (uint64_t next = t->start + interval;; next += interval) {
		uint64_t now = ct_now_ns();
		if (next < now)
			next = now; /* a slow tick: skip, do not burst */
		ct_sleep_until_ns(next);
		int rc = tick(t, ct_now_ns());
		if (rc < 0)
			return rc;
		if (rc > 0)
			return 0;
	}
}

/* The step object from the final snapshot (see trial.h). */
static json_t *step_result(struct trial *t)
{
	const struct ct_trial_opts *o = t->o;
	const struct ct_engine_stats *fin = t->prev;
	struct cpu cpu1 = cpu_now();
	uint64_t dur_ns = t->ended && t->ended < t->sc->load.duration_ns ? t->ended
									 : t->sc->load.duration_ns;
	double dur = (double)dur_ns / 1e9;
	double cpu_s = cpu1.user + cpu1.sys - t->cpu0.user - t->cpu0.sys;
	uint64_t nfail = failed(fin);
	double wall_s = (double)(ct_now_ns() - t->start) / 1e9;
	unsigned threads = t->cfg.threads_total ? t->cfg.threads_total : ct_engine_threads(&t->cfg);
	json_t *r = json_pack(
	    "{s:i, s:o, s:f, s:f, s:f, s:f, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f}", "step",
	    (int)o->step, "settings", o->settings ? json_deep_copy(o->settings) : json_object(),
	    "rate_target",
	    dur > 0 ? ct_schedule_expected(&t->cfg.load.sched, dur_ns) / dur : 0,
	    "rate_achieved", dur > 0 ? (double)fin->completed / dur : 0, "duration_s", dur,
	    "wall_s", wall_s, "threads", (int)threads, "scheduled", (json_int_t)fin->scheduled,
	    "attempted", (json_int_t)fin->attempted, "established", (json_int_t)fin->established,
	    "completed", (json_int_t)fin->completed, "unsent", (json_int_t)fin->unsent,
	    "inflight_peak", (json_int_t)t->inflight_peak, "failures", failures_obj(fin), "errors",
	    fin->scheduled ? (double)(nfail + fin->unsent) / (double)fin->scheduled : 0.0);
	if (!r)
		return NULL;
	/* How long the engine took to start (a DPDK EAL: about half a second)
	 * before its schedule did: times of the step's events count from the
	 * load's start (failwatch), not from the step's. */
	json_object_set_new(r, "start_delay_s", json_real((double)(t->start - t->entered) / 1e9));
	json_object_set_new(r, "connect_ms", pct_ms(&fin->connect, true));
	json_object_set_new(r, "connect_hist", hist_ms(&fin->connect));
	json_object_set_new(r, "total_ms", pct_ms(&fin->total, true));
	json_object_set_new(r, "connect_call_us", pct_us(&fin->connect_call));
	/* The engine threads' share of the step spent inside connect(): near 1
	 * when the port search, not the rest of the work, holds the rate down. */
	json_object_set_new(
	    r, "connect_busy",
	    json_real(wall_s > 0 ? (double)fin->connect_call.sum / 1e9 / ((double)threads * wall_s)
				 : 0));
	json_object_set_new(r, "cpu",
			    json_pack("{s:f, s:f}", "user", cpu1.user - t->cpu0.user, "sys",
				      cpu1.sys - t->cpu0.sys));
	json_object_set_new(r, "cpu_per_conn_us",
			    json_real(fin->attempted ? cpu_s * 1e6 / (double)fin->attempted : 0));
	json_object_set_new(r, "syn_retrans", json_integer((json_int_t)fin->syn_retrans));
	json_t *eng = json_pack("{s:s, s:I}", "name", ct_engine_name(t->eng), "conn_bytes",
				(json_int_t)ct_engine_conn_size(t->eng));
	/* Packet engines: frames and busy TSC cycles per connection started. */
	if (eng && fin->frames && fin->attempted) {
		json_object_set_new(eng, "frames_per_conn",
				    json_real((double)fin->frames / (double)fin->attempted));
		json_object_set_new(eng, "cycles_per_conn",
				    json_real((double)fin->busy_cycles / (double)fin->attempted));
		json_object_set_new(eng, "io_cycles_per_conn",
				    json_real((double)fin->io_cycles / (double)fin->attempted));
	}
	json_object_set_new(r, "engine", eng);
	json_object_set_new(r, "verdict", json_null());
	json_object_set_new(r, "fail_reason", json_null());
	if (t->interrupted)
		json_object_set_new(r, "interrupted", json_true());
	if (t->ended)
		json_object_set_new(r, "ended_at_s", json_real((double)t->ended / 1e9));
	return r;
}

/* Under MPI: rank 0's target, this rank's share of its client addresses,
 * and in a lab rank 0's client netns. 0 or -errno. */
static int share_target(struct trial *t, struct sockaddr_storage **srcbuf, int *own_fd)
{
	const struct ct_trial_target *in = t->o->target;
	struct ct_dist_target mine, all = {.dst = in->dst,
					   .port_lo = in->port_lo,
					   .port_hi = in->port_hi,
					   .src = in->src,
					   .n_src = in->n_src,
					   .netns_fd = in->netns_fd};
	int rc = ct_dist_share_target(t->o->dist, &all, &mine, srcbuf, own_fd);
	if (rc < 0)
		return rc;
	t->cfg.dst = mine.dst;
	t->cfg.dport_lo = mine.port_lo;
	t->cfg.dport_hi = mine.port_hi;
	t->cfg.src = mine.src;
	t->cfg.n_src = mine.n_src;
	t->cfg.netns_fd = mine.netns_fd;
	return 0;
}

int ct_trial_run(const struct ct_trial_opts *o, json_t **result)
{
	const struct ct_scenario *sc = o->sc;
	struct trial t = {
	    .o = o,
	    .sc = sc,
	    .entered = ct_now_ns(),
	    .cfg =
		{
		    .dst = o->target->dst,
		    .dport_lo = o->target->port_lo,
		    .dport_hi = o->target->port_hi,
		    .src = o->target->src,
		    .n_src = o->target->n_src,
		    .netns_fd = o->target->netns_fd,
		    .threads = 0,
		    .hosts = {o->target->hosts.n, o->target->hosts.fd, o->target->hosts.first,
			      o->target->hosts.count},
		    .ifname = o->target->ifname,
		    .gateway = o->target->gateway,
		    .dpdk = {.file_prefix = o->target->dpdk_prefix},
		},
	    .cur = calloc(1, sizeof(*t.cur)),
	    .prev = calloc(1, sizeof(*t.prev)),
	    .iv = malloc(sizeof(*t.iv)),
	    .dead = calloc(o->n_sources + o->n_step_hooks + 1, sizeof(bool)),
	};
	int rc = -ENOMEM, own_fd = -1;
	struct sockaddr_storage *srcbuf = NULL;

	*result = NULL;
	if (!t.cur || !t.prev || !t.iv || !t.dead)
		goto out;
	ct_loadcfg_fill(&t.cfg, sc);
	if (o->dist && (rc = share_target(&t, &srcbuf, &own_fd)) < 0)
		goto out;
	if (o->dist && (rc = ct_dist_trial_begin(o->dist, ct_engine_threads(&t.cfg),
						 &t.cfg.thread_base, &t.cfg.threads_total)) < 0)
		goto out;
	t.eng = ct_engine_new(&t.cfg);
	if (!t.eng) {
		rc = -errno;
		goto out;
	}
	if (o->dist && (rc = ct_dist_barrier(o->dist)) < 0)
		goto out;
	t.cpu0 = t.cpu_prev = t.cpu_status = cpu_now();
	if ((rc = ct_engine_start(t.eng)) < 0)
		goto out;
	t.start = t.last = t.last_status = ct_now_ns();
	t.hard_end = t.start + sc->load.duration_ns + sc->load.connect_timeout_ns +
		     sc->load.reply_timeout_ns + 5 * CT_NS_PER_SEC;
	rc = sample_loop(&t);
	if (rc < 0)
		goto out;
	if (o->live)
		fputc('\n', stderr);
	json_t *r = step_result(&t);
	rc = -ENOMEM;
	if (!r)
		goto out;
	run_sources(o->step_hooks, o->n_step_hooks, t.dead + o->n_sources, r);
	if (o->dist && (rc = ct_dist_step_cpu(o->dist, r)) < 0) {
		json_decref(r);
		goto out;
	}
	*result = r;
	rc = 0;
out:
	if (rc < 0 && t.eng)
		ct_engine_stop(t.eng, true); /* a lost rank: do not wait for the schedule */
	ct_engine_free(t.eng);
	if (own_fd >= 0)
		close(own_fd);
	free(srcbuf);
	free(t.cur);
	free(t.prev);
	free(t.iv);
	free(t.dead);
	return rc;
}
