/* trial — see trial.h. */
#include "loadgen/run/trial.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/units.h"
#include "loadgen/engine/engine.h"
#include "loadgen/engine/schedule.h"

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

int ct_trial_run(const struct ct_trial_opts *o, json_t **result)
{
	const struct ct_scenario *sc = o->sc;
	struct ct_engine_stats *cur = calloc(1, sizeof(*cur)), *prev = calloc(1, sizeof(*prev));
	struct ct_hist *iv = malloc(sizeof(*iv));
	bool *dead = calloc(o->n_sources + o->n_step_hooks + 1, sizeof(bool));
	struct ct_engine *eng = NULL;
	struct ct_schedule_params sp;
	int rc = -ENOMEM;
	bool interrupted = false, aborted = false;
	uint64_t inflight_peak = 0;

	*result = NULL;
	if (!cur || !prev || !iv || !dead)
		goto out;
	ct_schedule_params_from(&sp, sc);

	struct ct_engine_config cfg = {
	    .name = NULL,
	    .sc = sc,
	    .dst = o->target->dst,
	    .dport_lo = o->target->port_lo,
	    .dport_hi = o->target->port_hi,
	    .src = o->target->src,
	    .n_src = o->target->n_src,
	    .netns_fd = o->target->netns_fd,
	    .threads = 0,
	};
	eng = ct_engine_new(&cfg);
	if (!eng) {
		rc = -errno;
		goto out;
	}
	uint64_t interval =
	    sc->report.sample_interval_ns ? sc->report.sample_interval_ns : 100 * CT_NS_PER_MSEC;
	struct cpu cpu0 = cpu_now(), cpu_prev = cpu0;
	if ((rc = ct_engine_start(eng)) < 0)
		goto out;
	uint64_t start = ct_now_ns(), last = start, last_status = start, status_completed = 0;
	struct cpu cpu_status = cpu0;
	uint64_t hard_end = start + sc->load.duration_ns + sc->load.connect_timeout_ns +
			    sc->load.reply_timeout_ns + 5 * CT_NS_PER_SEC;
	for (uint64_t next = start + interval;; next += interval) {
		uint64_t now = ct_now_ns();
		if (next < now)
			next = now; /* a slow tick: skip, do not burst */
		ct_sleep_until_ns(next);
		now = ct_now_ns();
		if (ct_stop_requested() && !interrupted) {
			interrupted = true;
			ct_engine_stop(eng, true);
		}
		if (now > hard_end && !aborted) {
			aborted = true;
			ct_warn("step %u did not finish in time; aborting its connections",
				o->step);
			ct_engine_stop(eng, true);
		}
		ct_engine_snapshot(eng, cur);
		if (cur->inflight > inflight_peak)
			inflight_peak = cur->inflight;
		struct cpu c = cpu_now();
		double dt = (double)(now - last) / 1e9;
		double rate = dt > 0 ? (double)(cur->completed - prev->completed) / dt : 0;
		double arate = dt > 0 ? (double)(cur->attempted - prev->attempted) / dt : 0;
		uint64_t t_rel = now > start ? now - start : 0;
		double target = t_rel < sp.duration_ns ? ct_schedule_rate_at(&sp, t_rel) : 0;
		json_t *s = json_pack(
		    "{s:f, s:i, s:f, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:f, s:f, s:I}", "t",
		    (double)(now - o->origin_ns) / 1e9, "step", (int)o->step, "rate_target", target,
		    "scheduled", (json_int_t)cur->scheduled, "attempted",
		    (json_int_t)cur->attempted, "established", (json_int_t)cur->established,
		    "completed", (json_int_t)cur->completed, "unsent", (json_int_t)cur->unsent,
		    "failures", failures_obj(cur), "inflight", (json_int_t)cur->inflight, "rate",
		    rate, "attempt_rate", arate, "syn_retrans", (json_int_t)cur->syn_retrans);
		if (!s)
			goto out;
		ct_hist_sub(iv, &cur->connect, &prev->connect);
		json_object_set_new(s, "connect_ms", pct_ms(iv, false));
		json_object_set_new(s, "connect_hist", hist_ms(iv));
		if (o->live && now - last_status >= CT_NS_PER_SEC) {
			/* Over the second since the last status line, not the
			 * last sample: steadier for a person to read. */
			double sdt = (double)(now - last_status) / 1e9;
			double cdt = c.user + c.sys - cpu_status.user - cpu_status.sys;
			status_line(o, (double)t_rel / 1e9,
				    (double)(cur->completed - status_completed) / sdt, target, cur,
				    iv, 100.0 * cdt / sdt);
			last_status = now;
			status_completed = cur->completed;
			cpu_status = c;
		}
		ct_hist_sub(iv, &cur->total, &prev->total);
		json_object_set_new(s, "total_ms", pct_ms(iv, false));
		ct_hist_sub(iv, &cur->connect_call, &prev->connect_call);
		json_object_set_new(s, "connect_call_us", pct_us(iv));
		json_object_set_new(s, "cpu",
				    json_pack("{s:f, s:f}", "user", c.user - cpu_prev.user, "sys",
					      c.sys - cpu_prev.sys));
		run_sources(o->sources, o->n_sources, dead, s);
		if (o->rd)
			ct_rundir_sample(o->rd, s);
		json_decref(s);
		cpu_prev = c;
		last = now;
		struct ct_engine_stats *tmp = prev;
		prev = cur;
		cur = tmp;
		if (prev->running == 0)
			break;
	}
	if (o->live)
		fputc('\n', stderr);
	/* prev now holds the final snapshot. */
	struct ct_engine_stats *fin = prev;
	struct cpu cpu1 = cpu_now();
	double dur = (double)sc->load.duration_ns / 1e9;
	double cpu_s = cpu1.user + cpu1.sys - cpu0.user - cpu0.sys;
	uint64_t nfail = failed(fin);
	double wall_s = (double)(ct_now_ns() - start) / 1e9;
	unsigned threads = ct_engine_threads(&cfg);
	json_t *r = json_pack(
	    "{s:i, s:o, s:f, s:f, s:f, s:f, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f}", "step",
	    (int)o->step, "settings", o->settings ? json_deep_copy(o->settings) : json_object(),
	    "rate_target", dur > 0 ? ct_schedule_expected(&sp, sc->load.duration_ns) / dur : 0,
	    "rate_achieved", dur > 0 ? (double)fin->completed / dur : 0, "duration_s", dur,
	    "wall_s", wall_s, "threads", (int)threads,
	    "scheduled", (json_int_t)fin->scheduled, "attempted", (json_int_t)fin->attempted,
	    "established", (json_int_t)fin->established, "completed", (json_int_t)fin->completed,
	    "unsent", (json_int_t)fin->unsent, "inflight_peak", (json_int_t)inflight_peak,
	    "failures", failures_obj(fin), "errors",
	    fin->scheduled ? (double)(nfail + fin->unsent) / (double)fin->scheduled : 0.0);
	if (!r)
		goto out;
	json_object_set_new(r, "connect_ms", pct_ms(&fin->connect, true));
	json_object_set_new(r, "connect_hist", hist_ms(&fin->connect));
	json_object_set_new(r, "total_ms", pct_ms(&fin->total, true));
	json_object_set_new(r, "connect_call_us", pct_us(&fin->connect_call));
	/* The engine threads' share of the step spent inside connect(): near 1
	 * when the port search, not the rest of the work, holds the rate down. */
	json_object_set_new(r, "connect_busy",
			    json_real(wall_s > 0 ? (double)fin->connect_call.sum / 1e9 /
						       ((double)threads * wall_s)
						 : 0));
	json_object_set_new(
	    r, "cpu",
	    json_pack("{s:f, s:f}", "user", cpu1.user - cpu0.user, "sys", cpu1.sys - cpu0.sys));
	json_object_set_new(r, "cpu_per_conn_us",
			    json_real(fin->attempted ? cpu_s * 1e6 / (double)fin->attempted : 0));
	json_object_set_new(r, "syn_retrans", json_integer((json_int_t)fin->syn_retrans));
	json_object_set_new(r, "engine",
			    json_pack("{s:s, s:I}", "name", ct_engine_kind_name(sc->load.engine),
				      "conn_bytes", (json_int_t)ct_engine_kernel_conn_size()));
	json_object_set_new(r, "verdict", json_null());
	json_object_set_new(r, "fail_reason", json_null());
	if (interrupted)
		json_object_set_new(r, "interrupted", json_true());
	run_sources(o->step_hooks, o->n_step_hooks, dead + o->n_sources, r);
	*result = r;
	rc = 0;
out:
	ct_engine_free(eng);
	free(cur);
	free(prev);
	free(iv);
	free(dead);
	return rc;
}
