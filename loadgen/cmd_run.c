/* cmd_run — `ctload run FILE [--set k=v]... [--out DIR] [--quiet]`.
 *
 * Loads the scenario, resolves where the load goes (topology = host: the
 * [server] target, checked against the safety rule below; topology = lab:
 * the lab's client netns and server, see loadgen/lab.h), runs one step per
 * sweep point, writes the run directory, evaluates [expect] on the last
 * step and returns an exit code from enum ct_exit.
 *
 * Safety rule for topology = host: traffic goes only to loopback (127/8,
 * ::1), or, when ctload itself runs inside a non-init network namespace
 * that has no default route, to any address routed there. Anything else
 * is refused: a load generator must not be pointed at a real network. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/units.h"
#include "loadgen/cli.h"
#include "loadgen/engine.h"
#include "loadgen/expr.h"
#include "loadgen/hostinfo.h"
#include "loadgen/model.h"
#include "loadgen/lab.h"
#include "loadgen/plan.h"
#include "loadgen/rundir.h"
#include "loadgen/search.h"
#include "loadgen/scenario.h"
#include "loadgen/trial.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ctload run FILE [--set SECTION.KEY=VALUE]... [--out DIR] [--quiet]\n"
		"Run the scenario in FILE: one step per [sweep] point, each opening and closing\n"
		"connections at the [load] rate, and write a run directory (scenario.ini,\n"
		"timeseries.jsonl, summary.json).\n\n"
		"  --set K=V   override a key, e.g. --set load.rate=800/s (repeatable)\n"
		"  --out DIR   run directory (default runs/NAME-YYYYmmdd-HHMMSS)\n"
		"  --quiet     no live status line and no summary table\n\n"
		"Exit: 0 every [expect] held, 1 an [expect] failed, 2 bad usage or scenario,\n"
		"3 environment. See ctload(1).\n");
}

/* ---- target and safety ------------------------------------------------------ */

/* "HOST:PORT", "HOST:LO-HI", "[V6]:PORT". */
static int parse_target(const char *text, struct sockaddr_storage *ss, uint16_t *lo, uint16_t *hi,
			char *why, size_t whylen)
{
	char host[256];
	const char *ports;
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host)) {
			snprintf(why, whylen, "'%s' is not [IPV6]:PORT", text);
			return -EINVAL;
		}
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = 0;
		ports = end + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof(host) || colon == text) {
			snprintf(why, whylen, "'%s' is not HOST:PORT (e.g. 127.0.0.1:11211)", text);
			return -EINVAL;
		}
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = 0;
		ports = colon + 1;
	}
	char pwhy[128] = "";
	if (ct_parse_port_range(ports, lo, hi, pwhy, sizeof(pwhy)) < 0) {
		snprintf(why, whylen, "'%s': %s", text, pwhy);
		return -EINVAL;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc || !ai) {
		snprintf(why, whylen, "cannot resolve '%s': %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
		return (a >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

/* The inode of init_net since Linux 6.x fixed it (PROC_NET_INIT_INO). */
#define NET_INIT_INO 0xEFFFFFF9UL

static int ppid_of(int pid)
{
	char path[64], line[256];
	int ppid = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	fclose(f);
	return ppid;
}

/* 1 in the init netns, 0 in another, and 1 (the safe answer) when we
 * cannot tell. /proc/1/ns/net may be unreadable even to root (a sandbox
 * protecting pid 1): then the fixed init inode decides, and on kernels
 * without it an ancestor in another netns (the shell before `ip netns
 * exec`) shows that we were moved. */
static int in_init_netns(void)
{
	struct stat self, other;
	if (stat("/proc/self/ns/net", &self) < 0)
		return 1;
	if (stat("/proc/1/ns/net", &other) == 0)
		return self.st_ino == other.st_ino && self.st_dev == other.st_dev;
	if (self.st_ino == NET_INIT_INO)
		return 1;
	for (int pid = getppid(), hops = 0; pid > 1 && hops < 64; pid = ppid_of(pid), hops++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &other) == 0 && other.st_ino != self.st_ino)
			return 0;
	}
	return 1;
}

/* A usable 0/0 route in this netns (IPv4 or IPv6); true when unreadable. */
static bool has_default_route(void)
{
	char line[512];
	FILE *f = fopen("/proc/net/route", "r");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		char ifn[64], dst[16], gw[16], mask[16];
		unsigned flags;
		if (sscanf(line, "%63s %15s %15s %x %*s %*s %*s %15s", ifn, dst, gw, &flags,
			   mask) == 5 &&
		    !strcmp(dst, "00000000") && !strcmp(mask, "00000000") && (flags & 0x1)) {
			fclose(f);
			return true;
		}
	}
	fclose(f);
	f = fopen("/proc/net/ipv6_route", "r");
	if (!f)
		return false; /* no IPv6 in this kernel */
	while (fgets(line, sizeof(line), f)) {
		char dst[40], plen[4];
		unsigned flags;
		if (sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %x", dst, plen, &flags) == 3 &&
		    !strcmp(plen, "00") && strspn(dst, "0") == 32 && (flags & 0x1) &&
		    !(flags & 0x200) /* RTF_REJECT: the kernel's null route */) {
			fclose(f);
			return true;
		}
	}
	fclose(f);
	return false;
}

static bool target_allowed(const struct sockaddr_storage *ss)
{
	if (is_loopback(ss))
		return true;
	return !in_init_netns() && !has_default_route();
}

/* ---- [expect] ---------------------------------------------------------------- */

struct lookup_ctx {
	const json_t *step;
	const json_t *summary;
};

static int json_num(const json_t *v, double *out)
{
	if (json_is_integer(v))
		*out = (double)json_integer_value(v);
	else if (json_is_real(v))
		*out = json_real_value(v);
	else if (json_is_boolean(v))
		*out = json_is_true(v) ? 1 : 0;
	else
		return -ENOENT;
	return 0;
}

/* A dotted path inside an object ("failures.timeout", "ct.drop"). */
static const json_t *json_path(const json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

/* Names in base units: seconds, per second, fractions, counts. */
static int on_lookup(void *arg, const char *name, double *value)
{
	const struct lookup_ctx *lc = arg;
	static const struct {
		const char *prefix, *field;
		double scale;
	} lat[] = {
	    {"connect.", "connect_ms", 1e-3},
	    {"total.", "total_ms", 1e-3},
	    {"connect_call.", "connect_call_us", 1e-6},
	};
	if (!strcmp(name, "threshold")) {
		const json_t *th = json_object_get(lc->summary, "thresholds");
		size_t n = json_array_size(th);
		if (!n)
			return -ENOENT;
		return json_num(json_object_get(json_array_get(th, n - 1), "measured_cps"), value);
	}
	if (!lc->step)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]); i++) {
		size_t pl = strlen(lat[i].prefix);
		if (!strncmp(name, lat[i].prefix, pl)) {
			const json_t *o =
			    json_object_get(json_object_get(lc->step, lat[i].field), name + pl);
			if (json_num(o, value) < 0)
				return -ENOENT;
			*value *= lat[i].scale;
			return 0;
		}
	}
	if (!strcmp(name, "rate.achieved")) {
		/* The achieved rate as a fraction of the scheduled one. */
		double a, t;
		if (json_num(json_object_get(lc->step, "rate_achieved"), &a) < 0 ||
		    json_num(json_object_get(lc->step, "rate_target"), &t) < 0 || t <= 0)
			return -ENOENT;
		*value = a / t;
		return 0;
	}
	if ((!strncmp(name, "ct.", 3) && !json_object_get(lc->step, "ct")) ||
	    (!strncmp(name, "tw.", 3) && !json_object_get(lc->step, "tw"))) {
		/* topology = host samples no conntrack or TIME_WAIT: nothing
		 * observed reads as 0, so the default fail_when works there. */
		*value = 0;
		return 0;
	}
	if (!strcmp(name, "cpu_per_conn")) {
		if (json_num(json_object_get(lc->step, "cpu_per_conn_us"), value) < 0)
			return -ENOENT;
		*value *= 1e-6;
		return 0;
	}
	if (!strcmp(name, "failed")) {
		const json_t *f = json_object_get(lc->step, "failures");
		const char *k;
		const json_t *v;
		double sum = 0, x;
		json_object_foreach((json_t *)f, k, v) if (!json_num(v, &x)) sum += x;
		*value = sum;
		return 0;
	}
	return json_num(json_path(lc->step, name), value);
}

/* Evaluate every [expect]; record each in summary.expect. Returns the exit
 * code: OK, EXPECT (one failed) or USAGE (a condition is malformed or names
 * an unknown variable). */
static int eval_expect(const struct ct_scenario *sc, json_t *summary)
{
	json_t *steps = json_object_get(summary, "steps");
	struct lookup_ctx lc = {
	    .step = json_array_get(steps, json_array_size(steps) ? json_array_size(steps) - 1 : 0),
	    .summary = summary,
	};
	json_t *out = json_object_get(summary, "expect");
	int code = CT_EXIT_OK;
	for (size_t i = 0; i < sc->n_expect; i++) {
		const struct ct_cond *c = &sc->expect[i];
		char err[256] = "", why[512] = "";
		bool held = false;
		struct ct_expr *e = ct_expr_parse(c->text, err, sizeof(err));
		if (!e) {
			ct_error("%s:%d: [expect] '%s': %s", sc->path, c->line, c->text, err);
			code = CT_EXIT_USAGE;
			continue;
		}
		int rc = ct_expr_eval(e, on_lookup, &lc, &held, why, sizeof(why));
		ct_expr_free(e);
		if (rc < 0) {
			ct_error("%s:%d: [expect] '%s': %s (see ctload(1), EXPECT VARIABLES)",
				 sc->path, c->line, c->text, why);
			code = CT_EXIT_USAGE;
			continue;
		}
		json_array_append_new(out, json_pack("{s:s, s:i, s:b, s:s}", "text", c->text,
						     "line", c->line, "held", held, "why", why));
		if (!held) {
			ct_error("%s:%d: expect failed: %s (%s)", sc->path, c->line, c->text, why);
			if (code == CT_EXIT_OK)
				code = CT_EXIT_EXPECT;
		} else {
			ct_info("expect held: %s (%s)", c->text, why);
		}
	}
	return code;
}

/* ---- output ------------------------------------------------------------------ */

static double jd(const json_t *o, const char *path)
{
	double v = 0;
	json_num(json_path(o, path), &v);
	return v;
}

static void print_table(const json_t *summary, const char *dir)
{
	const json_t *steps = json_object_get(summary, "steps");
	size_t i;
	const json_t *s;
	printf("%-4s %-28s %10s %10s %10s %8s %8s %9s %9s %9s %8s %s\n", "step", "settings",
	       "target/s", "achieved/s", "completed", "failed", "unsent", "conn p50", "conn p99",
	       "conn max", "cpu/conn", "verdict");
	json_array_foreach(steps, i, s)
	{
		char label[29] = "-";
		const json_t *set = json_object_get(s, "settings");
		if (json_object_size(set)) {
			size_t used = 0;
			const char *k;
			const json_t *v;
			json_object_foreach((json_t *)set, k, v)
			{
				int w = snprintf(label + used, sizeof(label) - used, "%s%s=%s",
						 used ? "," : "",
						 strrchr(k, '.') ? strrchr(k, '.') + 1 : k,
						 json_string_value(v) ? json_string_value(v) : "?");
				used += w > 0 ? (size_t)w : 0;
				if (used >= sizeof(label))
					break;
			}
		}
		double failed = 0;
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)json_object_get(s, "failures"), k, v) failed +=
		    jd(v, "");
		const char *verdict = json_string_value(json_object_get(s, "verdict"));
		printf(
		    "%-4zu %-28s %10.1f %10.1f %10.0f %8.0f %8.0f %7.2fms %7.2fms %7.1fms %6.1fus"
		    " %s\n",
		    i + 1, label, jd(s, "rate_target"), jd(s, "rate_achieved"), jd(s, "completed"),
		    failed, jd(s, "unsent"), jd(s, "connect_ms.p50"), jd(s, "connect_ms.p99"),
		    jd(s, "connect_ms.max"), jd(s, "cpu_per_conn_us"), verdict ? verdict : "");
		const json_t *f = json_object_get(s, "failures");
		bool any = false;
		json_object_foreach((json_t *)f, k, v)
		{
			double x = 0;
			json_num(v, &x);
			if (x > 0) {
				printf("%s%s %.0f", any ? ", " : "     failures: ", k, x);
				any = true;
			}
		}
		if (any)
			printf("\n");
	}
	const json_t *th;
	json_array_foreach(json_object_get(summary, "thresholds"), i, th)
	{
		printf("threshold: %.0f/s%s\n", jd(th, "measured_cps"),
		       json_is_true(json_object_get(th, "bounded"))
			   ? ""
			   : " (the highest rate tried passed: the limit is higher)");
	}
	printf("run directory: %s\n", dir);
}

/* ---- steps and the rate search ------------------------------------------------- */

struct run_ctx {
	json_t *summary;
	struct ct_rundir *rd;
	struct ct_lab *lab;
	struct ct_trial_target *target;
	uint64_t origin;
	bool live;
	size_t npts;
	unsigned steps; /* steps run so far (the index of the next) */
};

static int lab_prepare_step(struct ct_lab *lab, const struct ct_scenario *pt, size_t p,
			    struct ct_trial_target *target, struct ct_trial_opts *to);

/* Run one step of `pt` and append it to summary.steps; *res borrows it. */
static int run_step(struct run_ctx *rc, const struct ct_scenario *pt, const json_t *settings,
		    json_t **res)
{
	struct ct_trial_opts to = {
	    .sc = pt,
	    .step = rc->steps,
	    .n_steps = pt->search.enabled ? rc->steps + 1 : (unsigned)rc->npts,
	    .settings = settings,
	    .target = rc->target,
	    .rd = rc->rd,
	    .origin_ns = rc->origin,
	    .live = rc->live,
	};
	int code;
	*res = NULL;
	if (rc->lab && (code = lab_prepare_step(rc->lab, pt, rc->steps, rc->target, &to)) != 0)
		return code;
	int r = ct_trial_run(&to, res);
	if (r < 0)
		return r == -EINVAL ? CT_EXIT_USAGE : CT_EXIT_ENV;
	json_array_append_new(json_object_get(rc->summary, "steps"), *res);
	rc->steps++;
	ct_rundir_flush(rc->rd);
	return CT_EXIT_OK;
}

static int on_lookup(void *arg, const char *name, double *value);

/* The model's prediction for this point (predicted_cps, binding_limit,
 * error_pct), from the live host values (/proc) and the point's settings;
 * an empty object when it cannot say. */
static json_t *model_threshold(const struct ct_scenario *pt, double measured)
{
	struct ct_hostinfo *hi = calloc(1, sizeof(*hi));
	struct ct_model_input *in = calloc(1, sizeof(*in));
	struct ct_model_result *res = calloc(1, sizeof(*res));
	json_t *th = NULL;
	if (hi && in && res && ct_hostinfo_read(hi, NULL) == 0 &&
	    ct_model_input_from_scenario(in, pt, hi, NULL, 0) == 0 &&
	    ct_model_compute(in, res) == 0)
		th = ct_model_threshold_json(measured, res);
	free(hi);
	free(in);
	free(res);
	return th ? th : json_object();
}

/* One search trial at `rate` for `dur_ns`, judged by fail_when. */
static int search_trial(struct run_ctx *rc, const struct ct_scenario *pt, const json_t *settings,
			const struct ct_expr *judge, double rate, uint64_t dur_ns, bool quiet,
			bool *failed)
{
	struct ct_scenario *tr = ct_scenario_dup(pt);
	json_t *res = NULL;
	char why[512] = "";
	if (!tr)
		return CT_EXIT_ENV;
	tr->load.profile = CT_PROFILE_CONSTANT;
	tr->load.rate = tr->load.rate_end = rate;
	tr->load.duration_ns = dur_ns;
	tr->load.max_connections = 0;
	int code = run_step(rc, tr, settings, &res);
	ct_scenario_free(tr);
	if (code != CT_EXIT_OK)
		return code;
	struct lookup_ctx lc = {.step = res, .summary = rc->summary};
	if (ct_expr_eval(judge, on_lookup, &lc, failed, why, sizeof(why)) < 0) {
		ct_error("%s:%d: [search] fail_when: %s", pt->path, pt->search.fail_when.line, why);
		return CT_EXIT_USAGE;
	}
	json_object_set_new(res, "search", json_pack("{s:f}", "rate", rate));
	json_object_set_new(res, "verdict", json_string(*failed ? "fail" : "pass"));
	json_object_set_new(res, "fail_reason", *failed ? json_string(why) : json_null());
	if (!quiet)
		ct_note("search: %.0f/s %s%s", rate, *failed ? "fails: " : "passes",
			*failed ? why : "");
	ct_rundir_flush(rc->rd);
	return CT_EXIT_OK;
}

/* [search]: RFC 2544-style exponential then binary search on the rate of
 * this point, from [load] rate up to 64 times it. Each trial is a step
 * (with "search": {"rate"}) judged by fail_when: verdict "pass" or "fail"
 * and fail_reason, the condition's explanation. The result goes to
 * summary.thresholds. */
static int run_search(struct run_ctx *rc, const struct ct_scenario *pt, const json_t *settings,
		      bool quiet)
{
	char err[256] = "";
	struct ct_expr *judge = ct_expr_parse(pt->search.fail_when.text, err, sizeof(err));
	struct ct_search s;
	int code = CT_EXIT_OK;

	if (!judge) {
		ct_error("%s:%d: [search] fail_when: %s", pt->path, pt->search.fail_when.line, err);
		return CT_EXIT_USAGE;
	}
	double start = pt->load.rate, max = start * 64;
	if (ct_search_init(&s, start, max, pt->search.precision, 24) < 0) {
		ct_error("%s: [search]: cannot search from %g/s with precision %g", pt->path, start,
			 pt->search.precision);
		ct_expr_free(judge);
		return CT_EXIT_USAGE;
	}
	for (double rate; (rate = ct_search_next(&s)) > 0 && !ct_stop_requested();) {
		bool failed = false;
		code = search_trial(rc, pt, settings, judge, rate, pt->search.trial_ns, quiet,
				    &failed);
		if (code != CT_EXIT_OK)
			break;
		ct_search_report(&s, !failed);
	}
	bool bounded = false;
	double found = ct_search_result(&s, &bounded);
	if (code == CT_EXIT_OK && !ct_stop_requested()) {
		json_t *th = model_threshold(pt, found);
		json_object_set_new(th, "settings", json_deep_copy(settings));
		json_object_set_new(th, "measured_cps", json_real(found));
		json_object_set_new(th, "bounded", json_boolean(bounded));
		json_object_set_new(th, "trials", json_integer((json_int_t)s.trials));
		json_object_set_new(th, "precision", json_real(pt->search.precision));
		if (pt->search.confirm && found > 0 && !ct_stop_requested()) {
			/* One trial of the full [load] duration at the limit found:
			 * short trials can pass a rate that a long run cannot hold
			 * (a table that fills in 20 s passes a 5 s trial). */
			bool failed = false;
			code = search_trial(rc, pt, settings, judge, found, pt->load.duration_ns,
					    quiet, &failed);
			json_object_set_new(th, "confirmed",
					    code == CT_EXIT_OK ? json_boolean(!failed)
							       : json_null());
			json_t *steps = json_object_get(rc->summary, "steps");
			json_t *last = json_array_get(steps, json_array_size(steps) - 1);
			if (code == CT_EXIT_OK && last)
				json_object_set_new(json_object_get(last, "search"), "confirm",
						    json_true());
		}
		json_array_append_new(json_object_get(rc->summary, "thresholds"), th);
		ct_rundir_flush(rc->rd);
		if (!quiet)
			ct_note("threshold: %.0f/s%s", found,
				bounded ? ""
					: " (the highest rate tried passed: the limit is higher)");
	}
	ct_expr_free(judge);
	return code;
}

/* ---- the command ------------------------------------------------------------- */

/* topology = host: the [server] target, under the safety rule. */
static int check_host_target(const struct ct_scenario *sc, const char *file,
			     struct ct_trial_target *target)
{
	char why[640];
	if (!sc->server.target) {
		ct_error("%s: [server] target: required with topology = host (e.g. target = "
			 "127.0.0.1:11211)",
			 file);
		return -EINVAL;
	}
	if (parse_target(sc->server.target, &target->dst, &target->port_lo, &target->port_hi, why,
			 sizeof(why)) < 0) {
		ct_error("%s: [server] target: %s", file, why);
		return -EINVAL;
	}
	if (!target_allowed(&target->dst)) {
		ct_error("target %s is outside the lab: ctload only sends to loopback or into a "
			 "network namespace without a default route",
			 sc->server.target);
		return -EPERM;
	}
	for (size_t a = 0; a < sc->n_sweep; a++) {
		if (!strncmp(sc->sweep[a].key, "sysctl.", 7)) {
			ct_error("%s:%d: [sweep] %s: sysctl axes need topology = lab (host mode "
				 "changes nothing on the host)",
				 file, sc->sweep[a].line, sc->sweep[a].key);
			return -EINVAL;
		}
	}
	return 0;
}

/* topology = lab: before step `p`, a fresh lab when the cooldown asks for
 * one, this point's sysctls, and the target, samplers and hooks. */
static int lab_prepare_step(struct ct_lab *lab, const struct ct_scenario *pt, size_t p,
			    struct ct_trial_target *target, struct ct_trial_opts *to)
{
	struct ct_lab_err lerr = {.exit_code = CT_EXIT_ENV};
	if (p > 0 && pt->search.cooldown == CT_COOL_FRESH_NETNS && ct_lab_fresh(lab, &lerr) < 0)
		goto fail;
	if (ct_lab_apply_sysctls(lab, pt, &lerr) < 0)
		goto fail;
	ct_lab_target(lab, target);
	ct_lab_step_begin(lab);
	to->sources = ct_lab_sources(lab, &to->n_sources);
	to->step_hooks = ct_lab_step_hooks(lab, &to->n_step_hooks);
	return CT_EXIT_OK;
fail:
	ct_error("%s", lerr.msg);
	return lerr.exit_code ? lerr.exit_code : CT_EXIT_ENV;
}

int ct_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"set", required_argument, NULL, 's'},
	    {"out", required_argument, NULL, 'o'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char **sets = calloc((size_t)argc + 1, sizeof(char *));
	size_t n_set = 0;
	const char *out_dir = NULL;
	bool quiet = false;
	int code = CT_EXIT_USAGE, c;
	struct ct_scenario *sc = NULL;
	struct ct_rundir *rd = NULL;
	struct ct_lab *lab = NULL;
	struct ct_scenario_err err = {{0}};

	if (!sets)
		return CT_EXIT_ENV;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!strchr(optarg, '=')) {
				ct_error(
				    "--set '%s': expected SECTION.KEY=VALUE, e.g. load.rate=800/s",
				    optarg);
				goto out;
			}
			sets[n_set++] = optarg;
			break;
		case 'o':
			out_dir = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			code = CT_EXIT_OK;
			goto out;
		default:
			ct_error("run: unknown or incomplete option '%s' (try 'ctload run --help')",
				 argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		goto out;
	}
	const char *file = argv[optind];
	if (ct_signals_install() < 0) {
		ct_error("cannot install signal handlers: %s", strerror(errno));
		code = CT_EXIT_ENV;
		goto out;
	}
	sc = ct_scenario_load(file, sets, n_set, &err);
	if (!sc) {
		ct_error("%s", err.msg);
		goto out;
	}

	struct ct_trial_target target = {.netns_fd = -1};
	bool lab_mode = sc->scenario.topology == CT_TOPO_LAB;
	if (!lab_mode && check_host_target(sc, file, &target) < 0)
		goto out;
	/* Check the conditions before spending time on load. */
	for (size_t i = 0; i < sc->n_expect; i++) {
		char eerr[256] = "";
		struct ct_expr *e = ct_expr_parse(sc->expect[i].text, eerr, sizeof(eerr));
		if (!e) {
			ct_error("%s:%d: [expect] '%s': %s", file, sc->expect[i].line,
				 sc->expect[i].text, eerr);
			goto out;
		}
		ct_expr_free(e);
	}

	rd = ct_rundir_open(out_dir, sc);
	if (!rd) {
		code = CT_EXIT_ENV;
		goto out;
	}
	json_t *summary = ct_rundir_summary(rd);
	if (lab_mode) {
		struct ct_lab_err lerr = {.exit_code = CT_EXIT_ENV};
		lab = ct_lab_up(sc, ct_rundir_path(rd), &lerr);
		if (!lab) {
			ct_error("%s", lerr.msg);
			code = lerr.exit_code ? lerr.exit_code : CT_EXIT_ENV;
			json_object_set_new(summary, "exit_code", json_integer(code));
			goto out;
		}
		json_object_set_new(summary, "lab", json_deep_copy(ct_lab_info(lab)));
	}
	size_t npts = ct_plan_points(sc);
	uint64_t origin = ct_now_ns();
	bool live = !quiet && isatty(STDERR_FILENO);
	code = CT_EXIT_OK;
	struct run_ctx rc = {
	    .summary = summary,
	    .rd = rd,
	    .lab = lab,
	    .target = &target,
	    .origin = origin,
	    .live = live,
	    .npts = npts,
	};
	for (size_t p = 0; p < npts && !ct_stop_requested() && code == CT_EXIT_OK; p++) {
		char label[256];
		struct ct_scenario *pt = ct_plan_point(sc, p, label, sizeof(label), &err);
		if (!pt) {
			ct_error("%s", err.msg);
			code = CT_EXIT_USAGE;
			break;
		}
		json_t *settings = json_object();
		for (size_t a = 0; a < sc->n_sweep; a++)
			json_object_set_new(settings, sc->sweep[a].key,
					    json_string(ct_plan_value(sc, p, a)));
		if (!quiet && npts > 1)
			ct_note("point %zu/%zu: %s", p + 1, npts, label[0] ? label : "-");
		if (pt->search.enabled) {
			code = run_search(&rc, pt, settings, quiet);
		} else {
			json_t *res = NULL;
			code = run_step(&rc, pt, settings, &res);
		}
		json_decref(settings);
		ct_scenario_free(pt);
	}
	if (ct_stop_requested()) {
		json_object_set_new(summary, "interrupted", json_true());
		ct_warn("interrupted: the run directory holds the steps done so far");
	}
	if (code == CT_EXIT_OK)
		code = eval_expect(sc, summary);
	json_object_set_new(summary, "exit_code", json_integer(code));
	ct_rundir_flush(rd);
	if (!quiet)
		print_table(summary, ct_rundir_path(rd));
out:
	/* On every path: the lab restores the host before we return. */
	if (lab && ct_lab_down(lab) < 0 && code == CT_EXIT_OK)
		code = CT_EXIT_ENV;
	ct_rundir_close(rd);
	ct_scenario_free(sc);
	free(sets);
	return code;
}
