/* liveview — see liveview.h. */
#include "loadgen/probe/liveview.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/units.h"
#include "loadgen/base/role.h"

#define MIN_REDRAW_NS (CT_NS_PER_SEC / 4) /* at most 4 Hz */
#define MAX_LINES     12
#define LINE_MAX_LEN  512
#define BAR_MAX	      40

/* The netns in the order the view lists them. */
static const enum ct_role role_order[] = {CT_ROLE_CLIENT, CT_ROLE_SERVER, CT_ROLE_ROUTER,
					  CT_ROLE_HOST};
#define N_ROLES (sizeof(role_order) / sizeof(role_order[0]))

struct ct_liveview {
	FILE *out;
	bool ansi;
	unsigned width;
	unsigned n_steps;

	unsigned step;
	char label[128];
	double duration_s, rate_target;
	uint64_t step_start_ns;

	uint64_t last_draw_ns;
	double prev_t, interval_s; /* sample times, for per-second packet counts */
	unsigned lines_shown;	   /* lines of the block on screen now (ANSI) */
	bool cursor_hidden;

	char lines[MAX_LINES][LINE_MAX_LEN];
	unsigned n_lines;
};

static unsigned tty_width(FILE *f)
{
	struct winsize ws;
	int fd = fileno(f);

	if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 100;
}

struct ct_liveview *ct_liveview_new(FILE *out, unsigned n_steps)
{
	struct ct_liveview *lv = calloc(1, sizeof(*lv));
	int fd;

	if (!lv)
		return NULL;
	lv->out = out;
	fd = fileno(out);
	lv->ansi = fd >= 0 && isatty(fd);
	lv->width = tty_width(out);
	lv->n_steps = n_steps;
	lv->step_start_ns = ct_now_ns();
	return lv;
}

void ct_liveview_set_ansi(struct ct_liveview *lv, bool ansi, unsigned width)
{
	lv->ansi = ansi;
	if (width >= 20)
		lv->width = width;
}

void ct_liveview_step(struct ct_liveview *lv, unsigned step, const char *label, double duration_s,
		      double rate_target)
{
	lv->step = step;
	snprintf(lv->label, sizeof(lv->label), "%s", label ? label : "");
	lv->duration_s = duration_s;
	lv->rate_target = rate_target;
	lv->step_start_ns = ct_now_ns();
	lv->last_draw_ns = 0;
}

/* ---- building the lines ------------------------------------------------------ */

/* 1234567 -> "1,234,567" */
static const char *count(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t o = 0;

	for (int i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

static void bar(char *buf, size_t len, double frac, unsigned width)
{
	unsigned full;

	if (width > BAR_MAX)
		width = BAR_MAX;
	if (width + 3 > len)
		width = (unsigned)len - 3;
	if (!(frac >= 0)) /* NaN too */
		frac = 0;
	if (frac > 1)
		frac = 1;
	full = (unsigned)(frac * width + 0.5);
	buf[0] = '[';
	for (unsigned i = 0; i < width; i++)
		buf[1 + i] = i < full ? '#' : '.';
	buf[1 + width] = ']';
	buf[2 + width] = '\0';
}

static uint64_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	double d = json_number_value(v);
	return d > 0 ? (uint64_t)(d + 0.5) : 0;
}

/* A rate for the eye: whole numbers from 100/s, one decimal below. */
static double rounded(double r)
{
	return r >= 100 ? (double)(long long)(r + 0.5) : (double)(long long)(r * 10 + 0.5) / 10;
}

static char *next_line(struct ct_liveview *lv)
{
	if (lv->n_lines == MAX_LINES)
		return NULL;
	return lv->lines[lv->n_lines++];
}

#define ADD(...)                                                                                   \
	do {                                                                                       \
		char *l_ = next_line(lv);                                                          \
		if (l_)                                                                            \
			snprintf(l_, LINE_MAX_LEN, __VA_ARGS__);                                   \
	} while (0)

static unsigned bar_width(const struct ct_liveview *lv)
{
	unsigned w = lv->width > 60 ? (lv->width - 60) : 10;
	return w < 10 ? 10 : w > BAR_MAX ? BAR_MAX : w;
}

/* The step, its progress and time; the rates, counts and connect p99. */
static void build_progress(struct ct_liveview *lv, json_t *s, uint64_t now)
{
	char a[32], b[32], c[32], d[32], pb[BAR_MAX + 4], steps[32];
	double el = (double)(now - lv->step_start_ns) / 1e9;
	double frac = lv->duration_s > 0 ? el / lv->duration_s : 0;

	if (lv->n_steps)
		snprintf(steps, sizeof(steps), "%u/%u", lv->step + 1, lv->n_steps);
	else
		snprintf(steps, sizeof(steps), "%u", lv->step + 1);
	bar(pb, sizeof(pb), frac, bar_width(lv));
	if (el <= lv->duration_s)
		ADD("step %s  %s  %s %3.0f%%  %.1f / %.1f s", steps, lv->label, pb, 100 * frac, el,
		    lv->duration_s);
	else
		ADD("step %s  %s  %s 100%%  %.1f / %.1f s, finishing open connections", steps,
		    lv->label, pb, el, lv->duration_s);

	json_t *cms = json_object_get(s, "connect_ms");
	ADD("  rate %s (target %s)  done %s  inflight %s  connect p99 %.2f ms",
	    ct_fmt_rate(rounded(json_number_value(json_object_get(s, "rate"))), a, sizeof(a)),
	    ct_fmt_rate(rounded(json_number_value(json_object_get(s, "rate_target"))), b,
			sizeof(b)),
	    count(num(s, "completed"), c, sizeof(c)), count(num(s, "inflight"), d, sizeof(d)),
	    json_number_value(json_object_get(cms, "p99")));
}

/* "  failures: timeout 3 refused 1", or none. */
static void build_failures(struct ct_liveview *lv, json_t *s)
{
	char a[32];
	char *l = next_line(lv);
	json_t *f, *v;
	const char *k;

	if (!l)
		return;
	size_t o = (size_t)snprintf(l, LINE_MAX_LEN, "  failures:");
	bool any = false;
	f = json_object_get(s, "failures");
	json_object_foreach(f, k, v)
	{
		uint64_t n = num(f, k);
		if (!n || o >= LINE_MAX_LEN)
			continue;
		any = true;
		o += (size_t)snprintf(l + o, LINE_MAX_LEN - o, " %s %s", k, count(n, a, sizeof(a)));
	}
	if (!any && o < LINE_MAX_LEN)
		snprintf(l + o, LINE_MAX_LEN - o, " none");
}

/* A conntrack fill bar per netns. A netns that tracks nothing (the client,
 * with conntrack_on = server) gets no bar; if none tracks anything yet, the
 * first that could. */
static void build_conntrack(struct ct_liveview *lv, json_t *ns)
{
	char a[32], b[32], c[32], pb[BAR_MAX + 4];
	bool any_ct = false, any_count = false;

	for (size_t r = 0; r < N_ROLES; r++)
		any_count |= num(json_object_get(ns, ct_role_name(role_order[r])), "ct.count") > 0;
	for (size_t r = 0; r < N_ROLES; r++) {
		json_t *o = json_object_get(ns, ct_role_name(role_order[r]));
		if (!o || !json_object_get(o, "ct.count"))
			continue;
		if (any_count ? num(o, "ct.count") == 0 : any_ct)
			continue;
		uint64_t cnt = num(o, "ct.count"), max = num(o, "ct.max");
		double fr = max ? (double)cnt / (double)max : 0;
		any_ct = true;
		bar(pb, sizeof(pb), fr, bar_width(lv));
		ADD("  conntrack %-6s %s  %s / %s  %.1f%%  drop %s", ct_role_name(role_order[r]),
		    pb, count(cnt, a, sizeof(a)), count(max, b, sizeof(b)), 100 * fr,
		    count(num(o, "ct.drop"), c, sizeof(c)));
	}
	if (!any_ct)
		ADD("  conntrack  %s", ns ? "not tracking in these netns" : "not sampled");
}

/* TIME_WAIT per netns, and the client's ports in use. */
static void build_tw(struct ct_liveview *lv, json_t *ns)
{
	char a[32];
	char *l = next_line(lv);

	if (!l)
		return;
	size_t o = (size_t)snprintf(l, LINE_MAX_LEN, "  TIME_WAIT");
	bool any = false;
	for (size_t r = 0; r < N_ROLES && o < LINE_MAX_LEN; r++) {
		json_t *no = json_object_get(ns, ct_role_name(role_order[r]));
		if (!no || !json_object_get(no, "tw"))
			continue;
		any = true;
		o += (size_t)snprintf(l + o, LINE_MAX_LEN - o, " %s %s ",
				      ct_role_name(role_order[r]),
				      count(num(no, "tw"), a, sizeof(a)));
	}
	if (!any && o < LINE_MAX_LEN)
		o += (size_t)snprintf(l + o, LINE_MAX_LEN - o, " not sampled ");
	json_t *cl = json_object_get(ns, ct_role_name(CT_ROLE_CLIENT));
	if (cl && json_object_get(cl, "ports_in_use") && o < LINE_MAX_LEN)
		snprintf(l + o, LINE_MAX_LEN - o, "  ports in use %s",
			 count(num(cl, "ports_in_use"), a, sizeof(a)));
}

/* The capture's packet counts, per second. */
static void build_packets(struct ct_liveview *lv, json_t *pkt)
{
	char a[32], b[32], c[32], d[32], e[32];
	/* The sample's counts are per interval: scale to per second. */
	double dt = lv->interval_s > 0 ? lv->interval_s : 0.1;

	ADD("  packets/s  SYN %s  retrans %s  SYN-ACK %s  RST %s  FIN %s",
	    count((uint64_t)((double)num(pkt, "syn") / dt), a, sizeof(a)),
	    count((uint64_t)((double)num(pkt, "syn_retrans") / dt), b, sizeof(b)),
	    count((uint64_t)((double)num(pkt, "synack") / dt), c, sizeof(c)),
	    count((uint64_t)((double)num(pkt, "rst") / dt), d, sizeof(d)),
	    count((uint64_t)((double)num(pkt, "fin") / dt), e, sizeof(e)));
}

static void build(struct ct_liveview *lv, json_t *s, uint64_t now)
{
	json_t *ns = json_object_get(s, "ns");
	json_t *pkt = json_object_get(s, "pkt");

	lv->n_lines = 0;
	build_progress(lv, s, now);
	build_failures(lv, s);
	build_conntrack(lv, ns);
	build_tw(lv, ns);
	if (pkt)
		build_packets(lv, pkt);
}

/* ---- drawing ------------------------------------------------------------------ */

/* Take the block off the screen (ANSI): back to its first line, erase below. */
static void erase(struct ct_liveview *lv)
{
	if (!lv->ansi || !lv->lines_shown)
		return;
	fputc('\r', lv->out);
	if (lv->lines_shown > 1)
		fprintf(lv->out, "\033[%uA", lv->lines_shown - 1);
	fputs("\033[J", lv->out);
	lv->lines_shown = 0;
}

static void put_line(struct ct_liveview *lv, const char *s)
{
	size_t n = strlen(s), max = lv->width > 1 ? lv->width - 1 : 1;
	fwrite(s, 1, n < max || !lv->ansi ? n : max, lv->out);
}

static void draw(struct ct_liveview *lv)
{
	if (lv->ansi) {
		if (!lv->cursor_hidden) {
			fputs("\033[?25l", lv->out);
			lv->cursor_hidden = true;
		}
		erase(lv);
		/* The cursor stays at the end of the last line, so a final
		 * newline (or the next block) goes below it. */
		for (unsigned i = 0; i < lv->n_lines; i++) {
			if (i)
				fputc('\n', lv->out);
			put_line(lv, lv->lines[i]);
		}
		lv->lines_shown = lv->n_lines;
	} else {
		for (unsigned i = 0; i < lv->n_lines; i++) {
			put_line(lv, lv->lines[i]);
			fputc('\n', lv->out);
		}
		fputc('\n', lv->out);
	}
	fflush(lv->out);
}

static int fill_sample(void *ctx, json_t *sample)
{
	struct ct_liveview *lv = ctx;
	uint64_t now = ct_now_ns();

	double t = json_number_value(json_object_get(sample, "t"));

	if (lv->prev_t > 0 && t > lv->prev_t)
		lv->interval_s = t - lv->prev_t;
	lv->prev_t = t;
	if (lv->last_draw_ns && now - lv->last_draw_ns < MIN_REDRAW_NS)
		return 0;
	lv->last_draw_ns = now;
	build(lv, sample, now);
	draw(lv);
	return 0;
}

static int fill_step(void *ctx, json_t *r)
{
	struct ct_liveview *lv = ctx;
	char a[32], b[32], c[32], d[32], e[32];
	uint64_t failed = 0;
	json_t *f = json_object_get(r, "failures"), *v;
	const char *k;
	char steps[32];

	json_object_foreach(f, k, v) failed += num(f, k);
	if (lv->n_steps)
		snprintf(steps, sizeof(steps), "%u/%u", lv->step + 1, lv->n_steps);
	else
		snprintf(steps, sizeof(steps), "%u", lv->step + 1);
	lv->n_lines = 0;
	ADD("step %s  %s  done: %s achieved of %s, %s completed, %s failed%s%s%s", steps, lv->label,
	    ct_fmt_rate(rounded(json_number_value(json_object_get(r, "rate_achieved"))), a,
			sizeof(a)),
	    ct_fmt_rate(rounded(json_number_value(json_object_get(r, "rate_target"))), b,
			sizeof(b)),
	    count(num(r, "completed"), c, sizeof(c)), count(failed, d, sizeof(d)),
	    json_object_get(r, "ct") ? ", conntrack peak " : "",
	    json_object_get(r, "ct") ? count(num(json_object_get(r, "ct"), "peak"), e, sizeof(e))
				     : "",
	    json_is_true(json_object_get(r, "interrupted")) ? " (interrupted)" : "");
	const char *l = lv->lines[0];
	if (lv->ansi) {
		erase(lv);
		put_line(lv, l);
		fputc('\n', lv->out);
		fflush(lv->out);
	} else {
		draw(lv);
	}
	lv->last_draw_ns = 0;
	return 0;
}

struct ct_sample_source ct_liveview_source(struct ct_liveview *lv)
{
	return (struct ct_sample_source){.name = "liveview", .fill = fill_sample, .ctx = lv};
}

struct ct_sample_source ct_liveview_step_hook(struct ct_liveview *lv)
{
	return (struct ct_sample_source){.name = "liveview", .fill = fill_step, .ctx = lv};
}

void ct_liveview_free(struct ct_liveview *lv)
{
	if (!lv)
		return;
	if (lv->ansi) {
		if (lv->lines_shown)
			fputc('\n', lv->out);
		if (lv->cursor_hidden)
			fputs("\033[?25h", lv->out);
		fflush(lv->out);
	}
	free(lv);
}

/* ---- the probe ------------------------------------------------------------------ */

static int lv_wanted(const struct ct_probe_config *cfg, struct ct_err *err)
{
	return cfg->live != NULL;
}

static void *lv_open(const struct ct_probe_config *cfg, struct ct_err *err)
{
	struct ct_liveview *lv = ct_liveview_new(cfg->live, cfg->n_steps);

	if (!lv)
		ct_err_set(err, CT_EXIT_ENV, "live view: out of memory");
	return lv;
}

static void lv_step_begin(void *ctx, const struct ct_probe_step *st)
{
	ct_liveview_step(ctx, st->index, st->label, st->duration_s, st->rate);
}

static void lv_close(void *ctx)
{
	ct_liveview_free(ctx);
}

const struct ct_probe_kind ct_probe_liveview = {
    .name = "liveview",
    .wanted = lv_wanted,
    .open = lv_open,
    .step_begin = lv_step_begin,
    .sample = fill_sample,
    .step_end = fill_step,
    .close = lv_close,
};
