#include "loadgen/scenario/scenario.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/units.h"
#include "loadgen/scenario/expr.h"
#include "loadgen/scenario/sysctl_keys.h"
#include "common/text.h"

#define NS_PER_S 1000000000ULL
#define MAX_DURATION_NS (24ULL * 3600ULL * NS_PER_S)
#define MAX_RATE 10e6
#define MAX_SWEEP_POINTS 1000
#define MAX_AXIS_VALUES 1000
#define MAX_STR 1024
#define DEFAULT_FAIL_WHEN "errors > 0.1% or ct.drop > 0 or connect.p99 > 900ms or rate.achieved < 95%"

/* ---------------------------------------------------------------- names */

static const char *const topo_names[] = {"lab", "host", NULL};
static const char *const path_names[] = {"direct", "router", "nat", NULL};
static const char *const cton_names[] = {"server", "router", "none", NULL};
static const char *const mode_names[] = {"memcache", "echo", NULL};
static const char *const sclose_names[] = {"client", "server", "rst", NULL};
static const char *const engine_names[] = {"kernel", "pcap", "dpdk", NULL};
static const char *const profile_names[] = {"constant", "ramp", "step", "poisson", NULL};
static const char *const ports_names[] = {"kernel", "bind", "range", NULL};
static const char *const cclose_names[] = {"fin", "rst", "wait", "auto", NULL};
static const char *const cool_names[] = {"fresh-netns", "drain", "none", NULL};
static const char *const scope_names[] = {"client", "server", "router", "host", NULL};

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : "?";
}

#define NAME_FN(fn, type, arr)                                                   \
	const char *fn(type v)                                                   \
	{                                                                        \
		return name_of(arr, sizeof(arr) / sizeof(arr[0]) - 1, (unsigned)v); \
	}

NAME_FN(ct_topology_name, enum ct_topology, topo_names)
NAME_FN(ct_lab_path_name, enum ct_lab_path, path_names)
NAME_FN(ct_ct_on_name, enum ct_ct_on, cton_names)
NAME_FN(ct_engine_kind_name, enum ct_engine_kind, engine_names)
NAME_FN(ct_profile_name, enum ct_profile, profile_names)
NAME_FN(ct_port_strategy_name, enum ct_port_strategy, ports_names)
NAME_FN(ct_client_close_name, enum ct_client_close, cclose_names)
NAME_FN(ct_cooldown_name, enum ct_cooldown, cool_names)

enum ct_client_close ct_scenario_client_close(const struct ct_scenario *sc)
{
	if (sc->load.close != CT_CCLOSE_AUTO)
		return sc->load.close;
	return sc->scenario.topology == CT_TOPO_LAB && sc->server.close != CT_SRV_CLOSE_CLIENT
		   ? CT_CCLOSE_WAIT
		   : CT_CCLOSE_FIN;
}
NAME_FN(ct_sysctl_scope_name, enum ct_sysctl_scope, scope_names)

/* ---------------------------------------------------------------- key table */

enum kind {
	K_STR,   /* plain text */
	K_QSTR,  /* text with escapes (and templates for request) */
	K_DUR,   /* uint64_t ns */
	K_RATE,  /* double per second */
	K_U32,   /* unsigned, a count */
	K_U64,   /* uint64_t, a count */
	K_INT,   /* int, a count */
	K_BOOL,  /* bool */
	K_ENUM,  /* enum, names in `names` */
	K_SPECIAL,
};

struct keydef {
	const char *section;
	const char *key;
	enum kind kind;
	size_t off;
	const char *const *names;
	double min, max; /* K_DUR in ns, K_RATE per s, counts */
};

#define OFF(m) offsetof(struct ct_scenario, m)
#define S_(sec, key, kind, m) {sec, key, kind, OFF(m), NULL, 0, 0}
#define E_(sec, key, m, names) {sec, key, K_ENUM, OFF(m), names, 0, 0}
#define R_(sec, key, kind, m, lo, hi) {sec, key, kind, OFF(m), NULL, lo, hi}
#define X_(sec, key) {sec, key, K_SPECIAL, 0, NULL, 0, 0}

static const struct keydef keydefs[] = {
	X_("scenario", "name"),
	S_("scenario", "description", K_QSTR, scenario.description),
	E_("scenario", "topology", scenario.topology, topo_names),
	R_("scenario", "seed", K_U64, scenario.seed, 0, 1.8e19),

	R_("lab", "clients", K_U32, lab.clients, 1, 65536),
	E_("lab", "path", lab.path, path_names),
	E_("lab", "conntrack_on", lab.conntrack_on, cton_names),
	X_("lab", "addresses"),

	E_("server", "mode", server.mode, mode_names),
	X_("server", "port"),
	E_("server", "close", server.close, sclose_names),
	R_("server", "close_delay", K_DUR, server.close_delay_ns, 0, 3600.0 * 1e9),
	R_("server", "workers", K_U32, server.workers, 0, 1024),
	R_("server", "backlog", K_INT, server.backlog, 1, INT_MAX),
	X_("server", "target"),

	E_("load", "engine", load.engine, engine_names),
	R_("load", "rate", K_RATE, load.rate, 0, MAX_RATE),
	R_("load", "rate_end", K_RATE, load.rate_end, 0, MAX_RATE),
	E_("load", "profile", load.profile, profile_names),
	R_("load", "step_every", K_DUR, load.step_every_ns, 1e6, (double)MAX_DURATION_NS),
	R_("load", "step_by", K_RATE, load.step_by, 0, MAX_RATE),
	R_("load", "duration", K_DUR, load.duration_ns, 1e6, (double)MAX_DURATION_NS),
	R_("load", "max_connections", K_U64, load.max_connections, 0, 1e12),
	S_("load", "request", K_QSTR, load.request),
	S_("load", "expect", K_QSTR, load.expect),
	S_("load", "raw", K_BOOL, load.raw),
	R_("load", "connect_timeout", K_DUR, load.connect_timeout_ns, 1e6, 3600.0 * 1e9),
	R_("load", "reply_timeout", K_DUR, load.reply_timeout_ns, 1e6, 3600.0 * 1e9),
	X_("load", "ports"),
	X_("load", "port_range"),
	E_("load", "close", load.close, cclose_names),
	R_("load", "threads", K_U32, load.threads, 0, 1024),
	R_("load", "max_inflight", K_U32, load.max_inflight, 1, 10e6),
	R_("load", "launch_window", K_DUR, load.launch_window_ns, 0, 100e6),

	X_("search", "find"),
	X_("search", "precision"),
	R_("search", "trial", K_DUR, search.trial_ns, 100e6, (double)MAX_DURATION_NS),
	X_("search", "fail_when"),
	E_("search", "cooldown", search.cooldown, cool_names),
	S_("search", "confirm", K_BOOL, search.confirm),

	R_("report", "sample_interval", K_DUR, report.sample_interval_ns, 10e6, 3600.0 * 1e9),
	X_("report", "metrics_listen"),
	S_("report", "capture", K_BOOL, report.capture),

	X_("expect", "check"),
};

#define NKEYDEFS (sizeof(keydefs) / sizeof(keydefs[0]))

static const char *const plain_sections[] = {"scenario", "lab", "server", "load",
					     "search",   "report", "expect", NULL};
static const char *const all_sections[] = {
	"scenario",      "lab",           "server", "load",  "sysctl.client", "sysctl.server",
	"sysctl.router", "sysctl.host",   "sweep",  "search", "expect",       "report",
	NULL};

/* ---------------------------------------------------------------- errors */

/* snprintf for messages, where cutting a long one short is fine. */
static void str_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void str_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Where a value came from: a file line, or a --set / sweep description. */
struct where {
	const char *file; /* path, or "--set load.rate=0" */
	int line;         /* 0: no line */
};

static void vfail(struct ct_err *err, const struct where *w, const char *section,
		  const char *key, const char *fmt, va_list ap)
{
	char what[384];
	char loc[300];

	if (!err)
		return;
	vsnprintf(what, sizeof(what), fmt, ap);
	if (w->line > 0)
		str_fmt(loc, sizeof(loc), "%s:%d", w->file, w->line);
	else
		str_fmt(loc, sizeof(loc), "%s", w->file);
	/* Truncation is acceptable: the location comes first. */
	if (section && key)
		str_fmt(err->msg, sizeof(err->msg), "%s: [%s] %s: %s", loc, section, key, what);
	else if (section)
		str_fmt(err->msg, sizeof(err->msg), "%s: [%s]: %s", loc, section, what);
	else
		str_fmt(err->msg, sizeof(err->msg), "%s: %s", loc, what);
}

static int fail(struct ct_err *err, const struct where *w, const char *section,
		const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct ct_err *err, const struct where *w, const char *section,
		const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, w, section, key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---------------------------------------------------------------- helpers */

/* Nearest of `cands` to `s`: distance <= 3, or one a prefix of the other. */
static const char *nearest(const char *s, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 4;

	for (size_t i = 0; i < n; i++) {
		size_t d = ct_edit_distance(s, cands[i], true);
		size_t ls = strlen(s), lc = strlen(cands[i]);

		if (d >= 4 && ls >= 3 &&
		    (strncasecmp(s, cands[i], ls < lc ? ls : lc) == 0))
			d = 3;
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

static const char *nearest_section(const char *s)
{
	size_t n = 0;

	while (all_sections[n])
		n++;
	return nearest(s, all_sections, n);
}

static const char *nearest_key(const char *section, const char *key)
{
	const char *cands[NKEYDEFS];
	size_t n = 0;

	for (size_t i = 0; i < NKEYDEFS; i++)
		if (strcmp(keydefs[i].section, section) == 0)
			cands[n++] = keydefs[i].key;
	return nearest(key, cands, n);
}

static const struct keydef *find_keydef(const char *section, const char *key)
{
	for (size_t i = 0; i < NKEYDEFS; i++)
		if (strcmp(keydefs[i].section, section) == 0 && strcmp(keydefs[i].key, key) == 0)
			return &keydefs[i];
	return NULL;
}

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static int set_str(char **dst, const char *v)
{
	char *c = NULL;

	if (v && !(c = strdup(v)))
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Value without surrounding blanks and one pair of surrounding quotes. */
static void unquote(const char *v, char *out, size_t len)
{
	size_t n;

	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* Escapes stay as text (the engine expands them); only check them here. */
static int check_escapes(const char *s, char *why, size_t len)
{
	for (const char *p = s; *p; p++) {
		if (*p != '\\')
			continue;
		p++;
		if (*p && strchr("rnt\\\"", *p))
			continue;
		if (*p == 'x' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			p += 2;
			continue;
		}
		str_fmt(why, len, "bad escape '\\%.1s'; use \\r \\n \\t \\\\ \\\" or \\xHH", *p ? p : "");
		return -EINVAL;
	}
	return 0;
}

/* Placeholders are rendered by loadgen/reqtmpl.c, where any other brace is
 * literal (a JSON body stays as written). A brace around one lowercase word
 * is refused, though: "{sequence}" is a typo, not a request anyone means. */
static int check_template(const char *s, char *why, size_t len)
{
	for (const char *p = s; *p; p++) {
		char ph[64];
		size_t n = 0;
		const char *q = p + 1;

		if (*p != '{')
			continue;
		while (*q && (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_' ||
			      *q == ':') && n + 1 < sizeof(ph))
			ph[n++] = *q++;
		ph[n] = '\0';
		if (*q != '}' || n == 0 || !islower((unsigned char)ph[0]))
			continue; /* literal brace */
		if (strcmp(ph, "seq") == 0 || strcmp(ph, "thread") == 0)
			continue;
		if (strncmp(ph, "rand:", 5) == 0 && ph[5] && strspn(ph + 5, "0123456789") == strlen(ph + 5) &&
		    strlen(ph + 5) <= 18 && strtoull(ph + 5, NULL, 10) >= 1)
			continue;
		str_fmt(why, len,
			"unknown placeholder '{%s}'; use {seq}, {thread} or {rand:N} (a random number in [0, N), N >= 1)",
			ph);
		return -EINVAL;
	}
	return 0;
}

static int check_addr_port(const char *v, bool allow_range, char *why, size_t len)
{
	char host[256];
	const char *colon;
	uint16_t lo, hi;
	char w2[160];
	size_t hl;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (!rb || rb[1] != ':') {
			str_fmt(why, len, "'%s' is not [IPv6]:PORT", v);
			return -EINVAL;
		}
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
	}
	if (!colon || colon == v) {
		str_fmt(why, len, "'%s' is not HOST:PORT", v);
		return -EINVAL;
	}
	hl = (size_t)(colon - v);
	if (hl >= sizeof(host)) {
		str_fmt(why, len, "host name too long");
		return -EINVAL;
	}
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (ct_parse_port_range(colon + 1, &lo, &hi, w2, sizeof(w2)) < 0) {
		str_fmt(why, len, "%s", w2);
		return -EINVAL;
	}
	if (!allow_range && lo != hi) {
		str_fmt(why, len, "'%s': one port, not a range", v);
		return -EINVAL;
	}
	return 0;
}

static int check_cidr(const char *v, char *why, size_t len)
{
	char addr[64];
	const char *slash = strchr(v, '/');
	unsigned char buf[16];
	size_t al;
	char *e;
	long plen;
	bool v6;

	if (!slash || (al = (size_t)(slash - v)) >= sizeof(addr))
		goto bad;
	memcpy(addr, v, al);
	addr[al] = '\0';
	v6 = strchr(addr, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1)
		goto bad;
	errno = 0;
	plen = strtol(slash + 1, &e, 10);
	if (*e || e == slash + 1 || plen < 1 || plen > (v6 ? 128 : 32))
		goto bad;
	return 0;
bad:
	str_fmt(why, len, "'%s' is not an address range; write e.g. 198.18.0.0/15", v);
	return -EINVAL;
}

/* ---------------------------------------------------------------- setting */

/* A condition that does not parse is an error at load time, with its line,
 * rather than after the run. */
static int check_cond(const char *v)
{
	struct ct_expr *e = ct_expr_parse(v, NULL);

	if (!e)
		return -EINVAL;
	ct_expr_free(e);
	return 0;
}

static int set_special(struct ct_scenario *sc, const struct where *w, const char *section,
		       const char *key, const char *v)
{
	char why[256];
	int rc;

	(void)section;
	if (strcmp(key, "name") == 0) {
		if (!*v || strlen(v) > 64)
			return -EINVAL;
		for (const char *p = v; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
				return -EINVAL;
		return set_str(&sc->scenario.name, v);
	}
	if (strcmp(key, "addresses") == 0) {
		if (check_cidr(v, why, sizeof(why)) < 0)
			return -EINVAL;
		return set_str(&sc->lab.addresses, v);
	}
	if (strcmp(key, "port") == 0)
		return ct_parse_port_range(v, &sc->server.port_lo, &sc->server.port_hi, why, sizeof(why)) < 0
			       ? -EINVAL
			       : 0;
	if (strcmp(key, "target") == 0) {
		if (*v == '\0')
			return set_str(&sc->server.target, NULL);
		if (check_addr_port(v, true, why, sizeof(why)) < 0)
			return -EINVAL;
		return set_str(&sc->server.target, v);
	}
	if (strcmp(key, "ports") == 0) {
		char word[16];
		const char *rest = v;
		size_t n = 0;
		int found = -1;

		while (*rest && !isspace((unsigned char)*rest) && n + 1 < sizeof(word))
			word[n++] = *rest++;
		word[n] = '\0';
		for (int i = 0; ports_names[i]; i++)
			if (strcmp(word, ports_names[i]) == 0)
				found = i;
		if (found < 0)
			return -EINVAL;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest) {
			uint16_t lo, hi;

			if (found == CT_PORTS_KERNEL)
				return -EINVAL;
			if ((rc = ct_parse_port_range(rest, &lo, &hi, why, sizeof(why))) < 0)
				return rc;
			sc->load.port_lo = lo;
			sc->load.port_hi = hi;
		}
		sc->load.ports = (enum ct_port_strategy)found;
		return 0;
	}
	if (strcmp(key, "port_range") == 0)
		return ct_parse_port_range(v, &sc->load.port_lo, &sc->load.port_hi, why, sizeof(why)) < 0
			       ? -EINVAL
			       : 0;
	if (strcmp(key, "find") == 0) {
		if (strcmp(v, "rate") != 0)
			return -EINVAL;
		return set_str(&sc->search.find, v);
	}
	if (strcmp(key, "precision") == 0) {
		char *e;
		double d;
		size_t n = strlen(v);

		if (n == 0 || !(isdigit((unsigned char)v[0]) || v[0] == '.'))
			return -EINVAL;
		errno = 0;
		d = strtod(v, &e);
		if (*e == '%') {
			d /= 100.0;
			e++;
		}
		if (*e || errno || !(d > 0.0) || d > 0.5)
			return -EINVAL;
		sc->search.precision = d;
		return 0;
	}
	if (strcmp(key, "fail_when") == 0) {
		if (!*v || check_cond(v) < 0)
			return -EINVAL;
		if ((rc = set_str(&sc->search.fail_when.text, v)) < 0)
			return rc;
		sc->search.fail_when.line = w->line;
		return 0;
	}
	if (strcmp(key, "metrics_listen") == 0) {
		if (*v == '\0')
			return set_str(&sc->report.metrics_listen, NULL);
		if (check_addr_port(v, false, why, sizeof(why)) < 0)
			return -EINVAL;
		return set_str(&sc->report.metrics_listen, v);
	}
	if (strcmp(key, "check") == 0) {
		struct ct_cond *nv;

		if (!*v || check_cond(v) < 0)
			return -EINVAL;
		nv = realloc(sc->expect, (sc->n_expect + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		sc->expect = nv;
		if (!(nv[sc->n_expect].text = strdup(v)))
			return -ENOMEM;
		nv[sc->n_expect].line = w->line;
		sc->n_expect++;
		return 0;
	}
	return -EINVAL;
}

/* The reason a special key's value is refused, for the message. */
static void special_why(const char *key, const char *v, char *why, size_t len)
{
	uint16_t a, b;
	char w2[200] = "";

	if (strcmp(key, "name") == 0)
		str_fmt(why, len, "'%s' is not a name; use 1-64 letters, digits, '.', '_' or '-'", v);
	else if (strcmp(key, "addresses") == 0)
		check_cidr(v, why, len);
	else if (strcmp(key, "port") == 0 || strcmp(key, "port_range") == 0) {
		ct_parse_port_range(v, &a, &b, w2, sizeof(w2));
		str_fmt(why, len, "%s", w2);
	} else if (strcmp(key, "target") == 0 || strcmp(key, "metrics_listen") == 0)
		check_addr_port(v, strcmp(key, "target") == 0, why, len);
	else if (strcmp(key, "ports") == 0)
		str_fmt(why, len,
			 "'%s' is not a port strategy; use kernel, bind LO-HI or range LO-HI "
			 "(e.g. ports = range 40000-40999)",
			 v);
	else if (strcmp(key, "find") == 0)
		str_fmt(why, len, "'%s' cannot be searched; only find = rate is supported", v);
	else if (strcmp(key, "precision") == 0)
		str_fmt(why, len, "'%s' is not a precision; write a percentage (2%%) or a fraction (0.02), at most 50%%",
			 v);
	else if (strcmp(key, "fail_when") == 0 || strcmp(key, "check") == 0) {
		struct ct_expr *e;

		if (!*v) {
			str_fmt(why, len, "empty condition");
			return;
		}
		struct ct_err e2 = {0};

		e = ct_expr_parse(v, &e2);
		if (e) {
			ct_expr_free(e);
			str_fmt(why, len, "'%s' is not valid", v);
		} else {
			str_fmt(why, len, "'%s': %s", v, e2.msg);
		}
	}
	else
		str_fmt(why, len, "'%s' is not valid", v);
}

static void enum_list(const char *const *names, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? (names[i + 1] ? ", " : " or ") : "",
				      names[i]);
}

static int set_plain(struct ct_scenario *sc, const struct where *w, struct ct_err *err,
		     const char *section, const char *key, const char *raw)
{
	const struct keydef *kd = find_keydef(section, key);
	char why[256] = "";
	char v[MAX_STR + 1];
	char *base = (char *)sc;
	int rc;

	if (!kd) {
		const char *near = nearest_key(section, key);

		if (near)
			return fail(err, w, section, key, "unknown key; did you mean '%s'?", near);
		return fail(err, w, section, key, "unknown key; see scenarios/README.md for the keys of [%s]",
			    section);
	}
	if (strlen(raw) > MAX_STR)
		return fail(err, w, section, key, "value longer than %d characters", MAX_STR);
	unquote(raw, v, sizeof(v));
	if (strcmp(section, "search") == 0)
		sc->search.enabled = true;

	switch (kd->kind) {
	case K_STR:
	case K_QSTR: {
		char **dst = (char **)(void *)(base + kd->off);

		if (kd->kind == K_QSTR) {
			if (check_escapes(v, why, sizeof(why)) < 0)
				return fail(err, w, section, key, "%s", why);
			if (strcmp(key, "request") == 0 && check_template(v, why, sizeof(why)) < 0)
				return fail(err, w, section, key, "%s", why);
		}
		/* A " ;" would start an inline comment when written back. */
		for (const char *p = v; *p; p++)
			if (*p == ';' && p > v && isspace((unsigned char)p[-1]))
				return fail(err, w, section, key, "' ;' would start a comment; write \\x3b for ';'");
		if (strcmp(key, "request") == 0 && !*v)
			return fail(err, w, section, key, "empty request; write e.g. request = \"get k{seq}\\r\\n\"");
		if ((rc = set_str(dst, *v ? v : NULL)) < 0)
			return fail(err, w, section, key, "out of memory");
		return 0;
	}
	case K_DUR: {
		uint64_t ns;

		if (ct_parse_duration(v, &ns, why, sizeof(why)) < 0)
			return fail(err, w, section, key, "%s", why);
		if ((double)ns < kd->min || (double)ns > kd->max) {
			char a[32], b[32];

			if (ns == 0)
				return fail(err, w, section, key, "must be more than 0 (at least %s)",
					    ct_fmt_duration((uint64_t)kd->min, a, sizeof(a)));
			return fail(err, w, section, key, "'%s' is out of range %s..%s", v,
				    ct_fmt_duration((uint64_t)kd->min, a, sizeof(a)),
				    ct_fmt_duration((uint64_t)kd->max, b, sizeof(b)));
		}
		*(uint64_t *)(void *)(base + kd->off) = ns;
		return 0;
	}
	case K_RATE: {
		double r;
		char b[32];

		if (ct_parse_rate(v, &r, why, sizeof(why)) < 0)
			return fail(err, w, section, key, "%s", why);
		if (!(r > 0.0))
			return fail(err, w, section, key, "must be more than 0/s; write e.g. 500/s or 2k/s");
		if (r > kd->max)
			return fail(err, w, section, key, "'%s' is more than the limit of %s", v,
				    ct_fmt_rate(kd->max, b, sizeof(b)));
		*(double *)(void *)(base + kd->off) = r;
		return 0;
	}
	case K_U32:
	case K_U64:
	case K_INT: {
		uint64_t n;

		if (ct_parse_count(v, &n, why, sizeof(why)) < 0)
			return fail(err, w, section, key, "%s", why);
		if ((double)n < kd->min || (double)n > kd->max)
			return fail(err, w, section, key, "%llu is out of range %.0f..%.0f",
				    (unsigned long long)n, kd->min, kd->max);
		if (kd->kind == K_U32)
			*(unsigned *)(void *)(base + kd->off) = (unsigned)n;
		else if (kd->kind == K_INT)
			*(int *)(void *)(base + kd->off) = (int)n;
		else
			*(uint64_t *)(void *)(base + kd->off) = n;
		return 0;
	}
	case K_BOOL: {
		int b;

		if (ct_parse_bool(v, &b, why, sizeof(why)) < 0)
			return fail(err, w, section, key, "%s", why);
		*(bool *)(void *)(base + kd->off) = b != 0;
		return 0;
	}
	case K_ENUM: {
		char list[160];
		const char *near;
		size_t n = 0;

		for (size_t i = 0; kd->names[i]; i++, n++)
			if (strcmp(v, kd->names[i]) == 0) {
				*(int *)(void *)(base + kd->off) = (int)i;
				return 0;
			}
		enum_list(kd->names, list, sizeof(list));
		near = nearest(v, kd->names, n);
		if (near)
			return fail(err, w, section, key, "'%s' is not one of %s; did you mean '%s'?", v, list,
				    near);
		return fail(err, w, section, key, "'%s' is not one of %s", v, list);
	}
	case K_SPECIAL:
		rc = set_special(sc, w, section, key, v);
		if (rc == -ENOMEM)
			return fail(err, w, section, key, "out of memory");
		if (rc < 0) {
			special_why(key, v, why, sizeof(why));
			return fail(err, w, section, key, "%s", why);
		}
		return 0;
	}
	return fail(err, w, section, key, "internal: unhandled key kind");
}

static int sysctl_scope_of(const char *section, enum ct_sysctl_scope *out)
{
	if (strncmp(section, "sysctl.", 7) != 0)
		return -EINVAL;
	for (int i = 0; scope_names[i]; i++)
		if (strcmp(section + 7, scope_names[i]) == 0) {
			*out = (enum ct_sysctl_scope)i;
			return 0;
		}
	return -EINVAL;
}

/* Validate and store one sysctl; replaces an earlier value of the same key
 * (an override), unless `is_dup_error` (two lines in the file). */
static int set_sysctl_err(struct ct_scenario *sc, const struct where *w, struct ct_err *err,
			  enum ct_sysctl_scope scope, const char *name, const char *raw,
			  bool dup_is_error)
{
	const struct ct_sysctl_legacy *leg;
	const struct ct_sysctl_key *k;
	struct ct_sysctl_list *l = &sc->sysctl[scope];
	char section[32], why[300], norm[64], v[128];
	struct ct_sysctl *nv;

	str_fmt(section, sizeof(section), "sysctl.%s", scope_names[scope]);
	k = ct_sysctl_key_resolve(name, &leg, why, sizeof(why));
	if (!k)
		return fail(err, w, section, name, "%s", why);
	if (leg) {
		if (w->line > 0)
			ct_note("%s:%d: [%s] %s is the legacy name of %s; using %s", w->file, w->line,
				section, name, k->name, k->name);
		else
			ct_note("%s: [%s] %s is the legacy name of %s; using %s", w->file, section, name,
				k->name, k->name);
	}
	if (k->scope == CT_SKEY_GLOBAL && scope != CT_SYSCTL_HOST)
		return fail(err, w, section, name,
			    "%s is global (one value for the whole host, writable only in the init "
			    "netns); set it in [sysctl.host]",
			    k->name);
	if (strlen(raw) >= sizeof(v))
		return fail(err, w, section, name, "value too long");
	unquote(raw, v, sizeof(v));
	if (ct_sysctl_key_check_value(k, v, norm, sizeof(norm), why, sizeof(why)) < 0)
		return fail(err, w, section, name, "%s", why);
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, k->name) != 0)
			continue;
		if (dup_is_error && l->v[i].line > 0)
			return fail(err, w, section, name, "%s is already set at line %d", k->name,
				    l->v[i].line);
		str_fmt(l->v[i].value, sizeof(l->v[i].value), "%s", norm);
		l->v[i].line = w->line;
		return 0;
	}
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return fail(err, w, section, name, "out of memory");
	l->v = nv;
	memset(&nv[l->n], 0, sizeof(nv[l->n]));
	str_fmt(nv[l->n].key, sizeof(nv[l->n].key), "%s", k->name);
	str_fmt(nv[l->n].value, sizeof(nv[l->n].value), "%s", norm);
	nv[l->n].line = w->line;
	l->n++;
	if (scope == CT_SYSCTL_HOST && k->scope == CT_SKEY_NETNS && w->line > 0)
		ct_note("%s:%d: [sysctl.host] %s is per-netns: this changes the host's own value "
			"(the lab restores it afterwards)",
			w->file, w->line, k->name);
	return 0;
}

/* Split a dotted key into section and key (see ct_scenario_set). */
static int split_dotted(const char *dotted, char *section, size_t slen, char *key, size_t klen,
			char *why, size_t wlen)
{
	const char *dot;
	char d[160];

	unquote(dotted, d, sizeof(d));
	if (!*d) {
		str_fmt(why, wlen, "empty key");
		return -EINVAL;
	}
	if (strncmp(d, "sysctl.", 7) == 0) {
		dot = strchr(d + 7, '.');
		if (!dot) {
			str_fmt(why, wlen, "'%s': write sysctl.SCOPE.NAME, e.g. sysctl.client.net.ipv4.tcp_tw_reuse", d);
			return -EINVAL;
		}
		str_fmt(section, slen, "%.*s", (int)(dot - d), d);
		str_fmt(key, klen, "%s", dot + 1);
		return 0;
	}
	dot = strchr(d, '.');
	if (dot) {
		str_fmt(section, slen, "%.*s", (int)(dot - d), d);
		if (in_list(section, plain_sections) || strcmp(section, "sweep") == 0) {
			str_fmt(key, klen, "%s", dot + 1);
			return 0;
		}
	} else {
		/* Shorthand: a key name that exists in exactly one section. */
		const struct keydef *found = NULL;
		int n = 0;

		for (size_t i = 0; i < NKEYDEFS; i++)
			if (strcmp(keydefs[i].key, d) == 0) {
				found = &keydefs[i];
				n++;
			}
		if (n == 1) {
			str_fmt(section, slen, "%s", found->section);
			str_fmt(key, klen, "%s", d);
			return 0;
		}
		if (n > 1) {
			char list[200];
			size_t o = 0;

			list[0] = '\0';
			for (size_t i = 0; i < NKEYDEFS && o < sizeof(list); i++)
				if (strcmp(keydefs[i].key, d) == 0)
					o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s.%s",
							      o ? " or " : "", keydefs[i].section, d);
			str_fmt(why, wlen, "'%s' is ambiguous; write %s", d, list);
			return -EINVAL;
		}
	}
	/* A bare sysctl name: global keys go to the host, the rest to the client. */
	{
		char sw[300];
		const struct ct_sysctl_key *k = ct_sysctl_key_resolve(d, NULL, sw, sizeof(sw));

		if (k) {
			str_fmt(section, slen, "sysctl.%s", k->scope == CT_SKEY_GLOBAL ? "host" : "client");
			str_fmt(key, klen, "%s", d);
			return 0;
		}
		if (dot && strncmp(d, "net.", 4) == 0) {
			str_fmt(why, wlen, "%s", sw);
			return -EINVAL;
		}
	}
	if (dot) {
		const char *near = nearest_section(section);

		str_fmt(why, wlen, "unknown section '%s'%s%s%s", section, near ? "; did you mean '" : "",
			 near ? near : "", near ? "'?" : "");
	} else {
		const char *cands[NKEYDEFS];
		const char *near;

		for (size_t i = 0; i < NKEYDEFS; i++)
			cands[i] = keydefs[i].key;
		near = nearest(d, cands, NKEYDEFS);
		str_fmt(why, wlen, "unknown key '%s'%s%s%s", d, near ? "; did you mean '" : "",
			 near ? near : "", near ? "'?" : "");
	}
	return -EINVAL;
}

static int set_section_key(struct ct_scenario *sc, const struct where *w, struct ct_err *err,
			   const char *section, const char *key, const char *value, bool from_file)
{
	enum ct_sysctl_scope scope;

	if (sysctl_scope_of(section, &scope) == 0)
		return set_sysctl_err(sc, w, err, scope, key, value, from_file);
	if (strcmp(section, "sweep") == 0)
		return fail(err, w, section, key, "a sweep is written in the scenario file, not set");
	if (!in_list(section, plain_sections)) {
		const char *near = nearest_section(section);

		if (near)
			return fail(err, w, NULL, NULL, "unknown section [%s]; did you mean [%s]?", section,
				    near);
		return fail(err, w, NULL, NULL, "unknown section [%s]", section);
	}
	return set_plain(sc, w, err, section, key, value);
}

int ct_scenario_set(struct ct_scenario *sc, const char *dotted_key, const char *value,
		    struct ct_err *err)
{
	char section[64], key[128], why[300], file[256];
	struct where w = {file, 0};

	if (!sc || !dotted_key || !value)
		return -EINVAL;
	str_fmt(file, sizeof(file), "--set %s=%s", dotted_key, value);
	if (split_dotted(dotted_key, section, sizeof(section), key, sizeof(key), why, sizeof(why)) < 0)
		return fail(err, &w, NULL, NULL, "%s", why);
	return set_section_key(sc, &w, err, section, key, value, false) < 0 ? -EINVAL : 0;
}

/* ---------------------------------------------------------------- whole */

/* Checks that involve more than one key. Run after the file and overrides. */
static int check_whole(const struct ct_scenario *sc, const struct where *w0,
		       const int *key_lines, struct ct_err *err)
{
	struct where w = *w0;
#define AT(idx) (w.line = key_lines && key_lines[idx] ? key_lines[idx] : w0->line, &w)

	enum { L_TOPO, L_TARGET, L_RATE, L_PROFILE, L_PORTS, L_CTON, L_LOAD, L_SCEN, L_N };
	(void)L_N;

	if (!sc->scenario.name)
		return fail(err, AT(L_SCEN), "scenario", "name",
			    "required: every scenario has a name (e.g. name = memcache-tw)");
	if (!(sc->load.rate > 0.0))
		return fail(err, AT(L_LOAD), "load", "rate",
			    "required: the connection rate to open (e.g. rate = 500/s); with [search] it "
			    "is the starting rate");
	if (sc->scenario.topology == CT_TOPO_HOST && !sc->server.target)
		return fail(err, AT(L_TOPO), "scenario", "topology",
			    "topology = host needs [server] target = HOST:PORT (the server to load)");
	if (sc->scenario.topology == CT_TOPO_LAB && sc->server.target)
		return fail(err, AT(L_TARGET), "server", "target",
			    "only for topology = host: in a lab ctload starts its own server in the "
			    "server netns; remove target or set topology = host");
	if (sc->scenario.topology == CT_TOPO_HOST) {
		for (int s = CT_SYSCTL_SERVER; s <= CT_SYSCTL_ROUTER; s++)
			if (sc->sysctl[s].n)
				return fail(err, AT(L_TOPO), "scenario", "topology",
					    "topology = host has no %s netns: move the keys of "
					    "[sysctl.%s] (line %d) to [sysctl.host] or use topology = lab",
					    scope_names[s], scope_names[s], sc->sysctl[s].v[0].line);
	}
	if (sc->lab.conntrack_on == CT_CTON_ROUTER && sc->lab.path == CT_PATH_DIRECT)
		return fail(err, AT(L_CTON), "lab", "conntrack_on",
			    "conntrack_on = router needs path = router or nat (path = direct has no router)");
	if (sc->load.profile == CT_PROFILE_STEP && (!sc->load.step_every_ns || !(sc->load.step_by > 0)))
		return fail(err, AT(L_PROFILE), "load", "profile",
			    "profile = step needs step_every (e.g. 5s) and step_by (e.g. 500/s)");
	if ((sc->load.ports == CT_PORTS_BIND || sc->load.ports == CT_PORTS_RANGE) && !sc->load.port_lo)
		return fail(err, AT(L_PORTS), "load", "ports",
			    "ports = %s needs a port range: write ports = %s 40000-40999",
			    ports_names[sc->load.ports], ports_names[sc->load.ports]);
	return 0;
#undef AT
}

int ct_scenario_check(const struct ct_scenario *sc, struct ct_err *err)
{
	struct where w = {sc && sc->path ? sc->path : "scenario", 0};

	if (!sc)
		return -EINVAL;
	return check_whole(sc, &w, NULL, err);
}

/* ---------------------------------------------------------------- file */

#define MAX_SEEN 256

struct raw_sweep {
	char key[128];
	char *values;
	int line;
};

struct ctx {
	struct ct_scenario *sc;
	struct ct_err *err;
	const char *path;
	FILE *f;
	int lineno;
	char cur_section[64]; /* as the reader saw it */
	bool failed;
	int err_line;
	bool seen_scenario, seen_load;
	int line_scenario, line_load;
	/* Key lines for duplicate detection and cross-key messages. */
	struct {
		char sk[160];
		int line;
	} seen[MAX_SEEN];
	size_t n_seen;
	struct raw_sweep *sweep;
	size_t n_sweep;
};

static int seen_line(const struct ctx *c, const char *section, const char *key)
{
	char sk[160];

	str_fmt(sk, sizeof(sk), "%s.%s", section, key);
	for (size_t i = 0; i < c->n_seen; i++)
		if (strcmp(c->seen[i].sk, sk) == 0)
			return c->seen[i].line;
	return 0;
}

static void ctx_fail_at(struct ctx *c, int line)
{
	c->failed = true;
	c->err_line = line;
}

/* A section header the reader met: unknown names fail here, so even an
 * empty unknown section is reported; required ones are remembered. */
static void note_section(struct ctx *c)
{
	const char *s = c->cur_section;

	if (strcmp(s, "scenario") == 0 && !c->seen_scenario) {
		c->seen_scenario = true;
		c->line_scenario = c->lineno;
	}
	if (strcmp(s, "search") == 0)
		c->sc->search.enabled = true; /* defaults are a complete search */
	if (strcmp(s, "load") == 0 && !c->seen_load) {
		c->seen_load = true;
		c->line_load = c->lineno;
	}
	if (!in_list(s, all_sections) && !c->failed) {
		const char *near = nearest_section(s);
		struct where w = {c->path, c->lineno};

		if (near)
			fail(c->err, &w, NULL, NULL, "unknown section [%s]; did you mean [%s]?", s, near);
		else
			fail(c->err, &w, NULL, NULL,
			     "unknown section [%s]; see scenarios/README.md for the sections", s);
		ctx_fail_at(c, c->lineno);
	}
}

/* fgets() for inih that counts lines, drops leading blanks (so inih never
 * treats a line as a multi-line continuation), tracks the section, and
 * turns a bare [expect] line into "check = LINE" so conditions such as
 * "connect.p99 < 900ms" (no '=') and "ct.drop == 0" (split at the first
 * '=') arrive whole. */
static char *on_read_line(char *str, int num, void *stream)
{
	struct ctx *c = stream;
	char *line = NULL, *p;
	bool too_long = false;
	size_t cap = 0;
	ssize_t n;

	n = getline(&line, &cap, c->f);
	if (n < 0) {
		free(line);
		return NULL;
	}
	c->lineno++;
	p = line;
	if (c->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[') {
		char *rb = strchr(p, ']');
		size_t l;

		if (rb) {
			char *s = p + 1;

			while (isspace((unsigned char)*s))
				s++;
			l = (size_t)(rb - s);
			while (l && isspace((unsigned char)s[l - 1]))
				l--;
			str_fmt(c->cur_section, sizeof(c->cur_section), "%.*s", (int)l, s);
			note_section(c);
		}
	} else if (strcmp(c->cur_section, "expect") == 0 && *p && *p != '\n' && *p != '\r' &&
		   *p != ';' && *p != '#' && !(strncmp(p, "check", 5) == 0 &&
						 (p[5 + strspn(p + 5, " \t")] == '=' ||
						  p[5 + strspn(p + 5, " \t")] == ':'))) {
		if ((int)(strlen(p) + 8) < num - 2) {
			str_fmt(str, (size_t)num, "check = %s", p);
			free(line);
			return str;
		}
		too_long = true; /* with "check = " it would not fit */
	}
	if (too_long || (int)strlen(p) + 1 >= num - 2) {
		if (!c->failed) {
			fail(c->err, &(struct where){c->path, c->lineno}, NULL, NULL,
			     "line longer than %d characters; shorten it", num - 3);
			ctx_fail_at(c, c->lineno);
		}
		str_fmt(str, (size_t)num, "\n");
	} else {
		str_fmt(str, (size_t)num, "%s", p);
	}
	free(line);
	return str;
}

static int on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *c = user;
	struct where w = {c->path, c->lineno};
	char sk[160];
	int prev;

	if (c->failed)
		return 1;
	if (!*section) {
		fail(c->err, &w, NULL, name, "key outside any section; put it under [scenario], [load] ...");
		ctx_fail_at(c, w.line);
		return 0;
	}
	if (strcmp(section, "sweep") == 0) {
		struct raw_sweep *nv = realloc(c->sweep, (c->n_sweep + 1) * sizeof(*nv));

		if (!nv || !(nv[c->n_sweep].values = strdup(value))) {
			if (nv)
				c->sweep = nv;
			fail(c->err, &w, section, name, "out of memory");
			ctx_fail_at(c, w.line);
			return 0;
		}
		c->sweep = nv;
		str_fmt(nv[c->n_sweep].key, sizeof(nv[c->n_sweep].key), "%s", name);
		nv[c->n_sweep].line = w.line;
		c->n_sweep++;
		return 1;
	}
	if (strcmp(section, "expect") != 0 && strncmp(section, "sysctl.", 7) != 0) {
		if ((prev = seen_line(c, section, name))) {
			fail(c->err, &w, section, name, "set twice (first at line %d)", prev);
			ctx_fail_at(c, w.line);
			return 0;
		}
		if (c->n_seen < MAX_SEEN) {
			str_fmt(sk, sizeof(sk), "%s.%s", section, name);
			str_fmt(c->seen[c->n_seen].sk, sizeof(c->seen[c->n_seen].sk), "%s", sk);
			c->seen[c->n_seen].line = w.line;
			c->n_seen++;
		}
	}
	if (set_section_key(c->sc, &w, c->err, section, name, value, true) < 0) {
		ctx_fail_at(c, w.line);
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- sweep */

/* "1.5k/s" -> number 1.5, unit "k/s". */
static int split_num_unit(const char *s, double *num, char *unit, size_t ulen)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -EINVAL;
	errno = 0;
	*num = strtod(s, &e);
	if (errno || e == s || !isfinite(*num))
		return -EINVAL;
	while (isspace((unsigned char)*e))
		e++;
	str_fmt(unit, ulen, "%s", e);
	for (size_t n = strlen(unit); n && isspace((unsigned char)unit[n - 1]); n--)
		unit[n - 1] = '\0';
	return 0;
}

static int push_value(struct ct_sweep_axis *ax, const char *v)
{
	char **nv;

	if (ax->n >= MAX_AXIS_VALUES)
		return -E2BIG;
	nv = realloc(ax->values, (ax->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	ax->values = nv;
	if (!(nv[ax->n] = strdup(v)))
		return -ENOMEM;
	ax->n++;
	return 0;
}

static int push_num(struct ct_sweep_axis *ax, double x, const char *unit)
{
	char buf[64];

	str_fmt(buf, sizeof(buf), "%.10g%s", x, unit);
	return push_value(ax, buf);
}

/* "A..B *F" or "A..B +S": A, A*F (or A+S) ... while <= B; B itself is
 * added when the progression overshoots it, so both bounds are always run. */
static int expand_range(struct ct_sweep_axis *ax, const char *spec, char *why, size_t wlen)
{
	char a_s[64], rest[128], b_s[64], unit_a[32], unit_b[32], unit_s[32];
	const char *dots = strstr(spec, ".."), *op;
	double a, b, step, x;
	bool mul;
	int rc;

	str_fmt(a_s, sizeof(a_s), "%.*s", (int)(dots - spec), spec);
	str_fmt(rest, sizeof(rest), "%s", dots + 2);
	op = strpbrk(rest, "*+");
	if (!op) {
		str_fmt(why, wlen, "range '%s' needs a step: '*FACTOR' or '+STEP' (e.g. 100..5000 *2)", spec);
		return -EINVAL;
	}
	mul = *op == '*';
	str_fmt(b_s, sizeof(b_s), "%.*s", (int)(op - rest), rest);
	if (split_num_unit(a_s, &a, unit_a, sizeof(unit_a)) < 0 ||
	    split_num_unit(b_s, &b, unit_b, sizeof(unit_b)) < 0 ||
	    split_num_unit(op + 1, &step, unit_s, sizeof(unit_s)) < 0) {
		str_fmt(why, wlen, "'%s' is not a range; write LOW..HIGH *FACTOR or LOW..HIGH +STEP", spec);
		return -EINVAL;
	}
	if (strcmp(unit_a, unit_b) != 0) {
		str_fmt(why, wlen, "range '%s': write both bounds in the same unit ('%s' vs '%s')", spec,
			 unit_a, unit_b);
		return -EINVAL;
	}
	if (mul && unit_s[0]) {
		str_fmt(why, wlen, "range '%s': a factor has no unit", spec);
		return -EINVAL;
	}
	if (!mul && unit_s[0] && strcmp(unit_s, unit_a) != 0) {
		str_fmt(why, wlen, "range '%s': write the step in the unit of the bounds ('%s')", spec,
			 unit_a);
		return -EINVAL;
	}
	if (a > b) {
		str_fmt(why, wlen, "range '%s' runs backwards; write LOW..HIGH", spec);
		return -EINVAL;
	}
	if (mul ? !(step > 1.0) : !(step > 0.0)) {
		str_fmt(why, wlen, "range '%s': the %s must be more than %s", spec,
			 mul ? "factor" : "step", mul ? "1" : "0");
		return -EINVAL;
	}
	if (mul && !(a > 0.0)) {
		str_fmt(why, wlen, "range '%s': a multiplied range must start above 0", spec);
		return -EINVAL;
	}
	for (x = a; x <= b * (1 + 1e-12); x = mul ? x * step : x + step) {
		if ((rc = push_num(ax, x, unit_a)) < 0)
			goto too_many;
	}
	/* Overshoot: the last value fell short of B; run B as well. */
	if (ax->n && fabs(strtod(ax->values[ax->n - 1], NULL) - b) > 1e-9 * (b > 1 ? b : 1))
		if ((rc = push_num(ax, b, unit_a)) < 0)
			goto too_many;
	return 0;
too_many:
	if (rc == -E2BIG)
		str_fmt(why, wlen, "range '%s' has more than %d values", spec, MAX_AXIS_VALUES);
	else
		str_fmt(why, wlen, "out of memory");
	return -EINVAL;
}

static int expand_list(struct ct_sweep_axis *ax, const char *spec, char *why, size_t wlen)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int rc = 0;

	if (!copy) {
		str_fmt(why, wlen, "out of memory");
		return -ENOMEM;
	}
	/* Keep empty items visible to reject them ("0,,1"). */
	for (tok = copy;; tok = save) {
		char item[128];
		char *comma = strchr(tok, ',');

		if (comma)
			*comma = '\0';
		save = comma ? comma + 1 : NULL;
		unquote(tok, item, sizeof(item));
		if (!*item) {
			str_fmt(why, wlen, "empty value in list '%s'", spec);
			rc = -EINVAL;
			break;
		}
		if ((rc = push_value(ax, item)) < 0) {
			str_fmt(why, wlen, rc == -E2BIG ? "more than 1000 values" : "out of memory");
			break;
		}
		if (!save)
			break;
	}
	free(copy);
	return rc;
}

static void free_axis(struct ct_sweep_axis *ax)
{
	for (size_t i = 0; i < ax->n; i++)
		free(ax->values[i]);
	free(ax->values);
	ax->values = NULL;
	ax->n = 0;
}

/* Expand and validate every [sweep] line against the finished scenario. */
static int build_sweep(struct ctx *c)
{
	struct ct_scenario *sc = c->sc;
	double points = 1;

	if (!c->n_sweep)
		return 0;
	sc->sweep = calloc(c->n_sweep, sizeof(*sc->sweep));
	if (!sc->sweep)
		return fail(c->err, &(struct where){c->path, 0}, "sweep", NULL, "out of memory");
	for (size_t i = 0; i < c->n_sweep; i++) {
		struct raw_sweep *rs = &c->sweep[i];
		struct ct_sweep_axis *ax = &sc->sweep[sc->n_sweep];
		struct where w = {c->path, rs->line};
		char section[64], key[128], why[300], spec[256];
		enum ct_sysctl_scope scope;
		int rc;

		if (split_dotted(rs->key, section, sizeof(section), key, sizeof(key), why, sizeof(why)) < 0)
			return fail(c->err, &w, "sweep", rs->key, "%s", why);
		if (strcmp(section, "sweep") == 0 || strcmp(section, "expect") == 0 ||
		    (strcmp(section, "search") == 0 && strcmp(key, "fail_when") == 0))
			return fail(c->err, &w, "sweep", rs->key, "[%s] %s cannot be swept", section, key);
		if (!in_list(section, plain_sections) && sysctl_scope_of(section, &scope) < 0)
			return fail(c->err, &w, "sweep", rs->key, "unknown section '%s'", section);
		if (in_list(section, plain_sections) && !find_keydef(section, key)) {
			const char *near = nearest_key(section, key);

			return fail(c->err, &w, "sweep", rs->key, "unknown key %s.%s%s%s%s", section, key,
				    near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		}
		if (sysctl_scope_of(section, &scope) == 0) {
			const struct ct_sysctl_key *k = ct_sysctl_key_resolve(key, NULL, why, sizeof(why));

			if (!k)
				return fail(c->err, &w, "sweep", rs->key, "%s", why);
			str_fmt(ax->key, sizeof(ax->key), "%s.%s", section, k->name);
		} else {
			if (snprintf(ax->key, sizeof(ax->key), "%s.%s", section, key) >= (int)sizeof(ax->key))
				return fail(c->err, &w, "sweep", rs->key, "key too long");
		}
		for (size_t j = 0; j < sc->n_sweep; j++)
			if (strcmp(sc->sweep[j].key, ax->key) == 0)
				return fail(c->err, &w, "sweep", rs->key, "%s is already swept at line %d",
					    ax->key, sc->sweep[j].line);
		ax->line = rs->line;
		unquote(rs->values, spec, sizeof(spec));
		if (strstr(spec, ".."))
			rc = expand_range(ax, spec, why, sizeof(why));
		else
			rc = expand_list(ax, spec, why, sizeof(why));
		sc->n_sweep++;
		if (rc < 0)
			return fail(c->err, &w, "sweep", rs->key, "%s", why);
		points *= (double)ax->n;
		if (points > MAX_SWEEP_POINTS)
			return fail(c->err, &w, "sweep", rs->key,
				    "the sweep has %.0f points or more (limit %d); use fewer values or "
				    "split the scenario",
				    points, MAX_SWEEP_POINTS);
	}
	/* The rate may come from the sweep alone. */
	if (!(sc->load.rate > 0.0))
		for (size_t i = 0; i < sc->n_sweep; i++)
			if (strcmp(sc->sweep[i].key, "load.rate") == 0)
				ct_parse_rate(sc->sweep[i].values[0], &sc->load.rate, NULL, 0);
	/* Each value, alone, on a throwaway copy: a bad one is an error now,
	 * with this line, not minutes into a run. */
	for (size_t i = 0; i < sc->n_sweep; i++) {
		struct ct_sweep_axis *ax = &sc->sweep[i];
		struct where w = {c->path, ax->line};

		for (size_t j = 0; j < ax->n; j++) {
			struct ct_scenario *t = ct_scenario_dup(sc);
			struct ct_err e2;
			char section[64], key[128], why[300];
			int rc;

			if (!t)
				return fail(c->err, &w, "sweep", ax->key, "out of memory");
			split_dotted(ax->key, section, sizeof(section), key, sizeof(key), why, sizeof(why));
			rc = set_section_key(t, &w, &e2, section, key, ax->values[j], false);
			if (rc == 0)
				rc = check_whole(t, &w, NULL, &e2);
			ct_scenario_free(t);
			if (rc < 0) {
				/* e2 already says FILE:LINE: [section] key: ... */
				str_fmt(c->err->msg, sizeof(c->err->msg),
						 "%s (sweep value '%s' of %s)", e2.msg, ax->values[j],
						 ax->key);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- load */

static void set_defaults(struct ct_scenario *sc)
{
	sc->scenario.topology = CT_TOPO_LAB;
	sc->scenario.seed = 1;
	sc->lab.clients = 1;
	sc->lab.path = CT_PATH_DIRECT;
	sc->lab.conntrack_on = CT_CTON_SERVER;
	sc->server.mode = CT_SRV_MEMCACHE;
	sc->server.port_lo = sc->server.port_hi = 11211;
	sc->server.close = CT_SRV_CLOSE_CLIENT;
	sc->server.backlog = 4096;
	sc->load.engine = CT_ENGINE_KERNEL;
	sc->load.profile = CT_PROFILE_CONSTANT;
	sc->load.duration_ns = 10 * NS_PER_S;
	sc->load.connect_timeout_ns = 3 * NS_PER_S;
	sc->load.reply_timeout_ns = 3 * NS_PER_S;
	sc->load.ports = CT_PORTS_KERNEL;
	sc->load.close = CT_CCLOSE_AUTO;
	sc->load.max_inflight = 10000;
	sc->load.launch_window_ns = 1000000ULL;
	sc->search.precision = 0.02;
	sc->search.trial_ns = 5 * NS_PER_S;
	sc->search.cooldown = CT_COOL_FRESH_NETNS;
	sc->report.sample_interval_ns = 100ULL * 1000000ULL;
}

/* String defaults that need memory; filled only where the file left NULL. */
static int fill_defaults(struct ct_scenario *sc)
{
	if (!sc->lab.addresses && set_str(&sc->lab.addresses, "198.18.0.0/15") < 0)
		return -ENOMEM;
	if (!sc->search.find && set_str(&sc->search.find, "rate") < 0)
		return -ENOMEM;
	if (!sc->search.fail_when.text && set_str(&sc->search.fail_when.text, DEFAULT_FAIL_WHEN) < 0)
		return -ENOMEM;
	if (!sc->load.request) {
		/* A request that the chosen server mode answers. */
		const char *req = sc->server.mode == CT_SRV_MEMCACHE ? "get k{seq}\\r\\n" : "ping {seq}\\n";

		if (set_str(&sc->load.request, req) < 0)
			return -ENOMEM;
		if (sc->server.mode == CT_SRV_MEMCACHE && !sc->load.expect &&
		    set_str(&sc->load.expect, "END\\r\\n") < 0)
			return -ENOMEM;
	}
	if (!(sc->load.rate_end > 0.0))
		sc->load.rate_end = sc->load.rate;
	return 0;
}

static int open_scenario(const char *path, FILE **out, struct ct_err *err)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto bad;
	if (fstat(fd, &st) < 0) {
		close(fd);
		goto bad;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		goto bad;
	}
	*out = fdopen(fd, "r");
	if (!*out) {
		close(fd);
		goto bad;
	}
	return 0;
bad:;
	int e = errno;

	str_fmt(err->msg, sizeof(err->msg), "%s: cannot read scenario: %s; check the path and its permissions",
		 path, strerror(e));
	return -e;
}

struct ct_scenario *ct_scenario_load(const char *path, char *const *sets, size_t n_set,
				     struct ct_err *err)
{
	struct ct_err dummy;
	struct ct_scenario *sc = NULL;
	struct ctx c;
	FILE *f = NULL;
	int rc, key_lines[8] = {0};

	if (!err)
		err = &dummy;
	err->msg[0] = '\0';
	memset(&c, 0, sizeof(c));
	if (!path) {
		str_fmt(err->msg, sizeof(err->msg), "no scenario file given");
		errno = EINVAL;
		return NULL;
	}
	if ((rc = open_scenario(path, &f, err)) < 0) {
		errno = -rc;
		return NULL;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc || !(sc->path = strdup(path))) {
		str_fmt(err->msg, sizeof(err->msg), "out of memory");
		goto fail;
	}
	set_defaults(sc);
	c.sc = sc;
	c.err = err;
	c.path = path;
	c.f = f;
	rc = ini_parse_stream(on_read_line, &c, on_ini_pair, &c);
	if (ferror(f)) {
		str_fmt(err->msg, sizeof(err->msg), "%s:%d: cannot read scenario: %s", path, c.lineno + 1,
			 strerror(errno));
		goto fail;
	}
	if (rc > 0 && (!c.failed || rc < c.err_line)) {
		fail(err, &(struct where){path, rc}, NULL, NULL,
		     "this line is neither [section] nor 'key = value'");
		goto fail;
	}
	if (rc < 0) {
		str_fmt(err->msg, sizeof(err->msg), "%s: cannot parse scenario (inih error %d)", path, rc);
		goto fail;
	}
	if (c.failed)
		goto fail;
	if (!c.seen_scenario) {
		fail(err, &(struct where){path, c.lineno}, NULL, NULL,
		     "missing section [scenario] (required: name = ...); found end of file");
		goto fail;
	}
	if (!c.seen_load) {
		fail(err, &(struct where){path, c.lineno}, NULL, NULL,
		     "missing section [load] (required: what load to generate, e.g. rate = 500/s); "
		     "found end of file");
		goto fail;
	}
	for (size_t i = 0; i < n_set; i++) {
		const char *eq = sets[i] ? strchr(sets[i], '=') : NULL;
		char key[160];

		if (!eq) {
			str_fmt(err->msg, sizeof(err->msg),
				 "--set %s: write section.key=value, e.g. --set load.rate=800/s",
				 sets[i] ? sets[i] : "");
			goto fail;
		}
		str_fmt(key, sizeof(key), "%.*s", (int)(eq - sets[i]), sets[i]);
		if (ct_scenario_set(sc, key, eq + 1, err) < 0)
			goto fail;
	}
	if (build_sweep(&c) < 0)
		goto fail;
	key_lines[0] = seen_line(&c, "scenario", "topology");
	key_lines[1] = seen_line(&c, "server", "target");
	key_lines[2] = seen_line(&c, "load", "rate");
	key_lines[3] = seen_line(&c, "load", "profile");
	key_lines[4] = seen_line(&c, "load", "ports");
	key_lines[5] = seen_line(&c, "lab", "conntrack_on");
	key_lines[6] = c.line_load;
	key_lines[7] = c.line_scenario;
	if (check_whole(sc, &(struct where){path, 0}, key_lines, err) < 0)
		goto fail;
	if (fill_defaults(sc) < 0) {
		str_fmt(err->msg, sizeof(err->msg), "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < c.n_sweep; i++)
		free(c.sweep[i].values);
	free(c.sweep);
	fclose(f);
	return sc;
fail:
	for (size_t i = 0; i < c.n_sweep; i++)
		free(c.sweep[i].values);
	free(c.sweep);
	if (f)
		fclose(f);
	ct_scenario_free(sc);
	errno = EINVAL;
	return NULL;
}

/* ---------------------------------------------------------------- dup/free */

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

struct ct_scenario *ct_scenario_dup(const struct ct_scenario *sc)
{
	struct ct_scenario *d;

	if (!sc) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	*d = *sc;
	/* Clear every pointer first so a failure half-way frees only ours. */
	d->path = d->scenario.name = d->scenario.description = d->lab.addresses = NULL;
	d->server.target = d->load.request = d->load.expect = NULL;
	d->search.find = d->search.fail_when.text = d->report.metrics_listen = NULL;
	d->sweep = NULL;
	d->n_sweep = 0;
	d->expect = NULL;
	d->n_expect = 0;
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++) {
		d->sysctl[s].v = NULL;
		d->sysctl[s].n = 0;
	}
	if (dup_str(&d->path, sc->path) || dup_str(&d->scenario.name, sc->scenario.name) ||
	    dup_str(&d->scenario.description, sc->scenario.description) ||
	    dup_str(&d->lab.addresses, sc->lab.addresses) ||
	    dup_str(&d->server.target, sc->server.target) ||
	    dup_str(&d->load.request, sc->load.request) || dup_str(&d->load.expect, sc->load.expect) ||
	    dup_str(&d->search.find, sc->search.find) ||
	    dup_str(&d->search.fail_when.text, sc->search.fail_when.text) ||
	    dup_str(&d->report.metrics_listen, sc->report.metrics_listen))
		goto nomem;
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++) {
		if (!sc->sysctl[s].n)
			continue;
		d->sysctl[s].v = malloc(sc->sysctl[s].n * sizeof(*d->sysctl[s].v));
		if (!d->sysctl[s].v)
			goto nomem;
		memcpy(d->sysctl[s].v, sc->sysctl[s].v, sc->sysctl[s].n * sizeof(*d->sysctl[s].v));
		d->sysctl[s].n = sc->sysctl[s].n;
	}
	if (sc->n_expect) {
		d->expect = calloc(sc->n_expect, sizeof(*d->expect));
		if (!d->expect)
			goto nomem;
		for (size_t i = 0; i < sc->n_expect; i++, d->n_expect++) {
			d->expect[i].line = sc->expect[i].line;
			if (!(d->expect[i].text = strdup(sc->expect[i].text)))
				goto nomem;
		}
	}
	if (sc->n_sweep) {
		d->sweep = calloc(sc->n_sweep, sizeof(*d->sweep));
		if (!d->sweep)
			goto nomem;
		for (size_t i = 0; i < sc->n_sweep; i++) {
			struct ct_sweep_axis *a = &d->sweep[i];

			d->n_sweep++;
			memcpy(a->key, sc->sweep[i].key, sizeof(a->key));
			a->line = sc->sweep[i].line;
			for (size_t j = 0; j < sc->sweep[i].n; j++)
				if (push_value(a, sc->sweep[i].values[j]) < 0)
					goto nomem;
		}
	}
	return d;
nomem:
	ct_scenario_free(d);
	errno = ENOMEM;
	return NULL;
}

void ct_scenario_free(struct ct_scenario *sc)
{
	if (!sc)
		return;
	free(sc->path);
	free(sc->scenario.name);
	free(sc->scenario.description);
	free(sc->lab.addresses);
	free(sc->server.target);
	free(sc->load.request);
	free(sc->load.expect);
	free(sc->search.find);
	free(sc->search.fail_when.text);
	free(sc->report.metrics_listen);
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++)
		free(sc->sysctl[s].v);
	for (size_t i = 0; i < sc->n_expect; i++)
		free(sc->expect[i].text);
	free(sc->expect);
	for (size_t i = 0; i < sc->n_sweep; i++)
		free_axis(&sc->sweep[i]);
	free(sc->sweep);
	free(sc);
}

/* ---------------------------------------------------------------- write */

static void w_str(FILE *o, const char *k, const char *v)
{
	if (v)
		fprintf(o, "%s = \"%s\"\n", k, v);
}

static void w_dur(FILE *o, const char *k, uint64_t ns)
{
	char b[48];

	fprintf(o, "%s = %s\n", k, ct_fmt_duration_exact(ns, b, sizeof(b)));
}

static void w_rate(FILE *o, const char *k, double r)
{
	fprintf(o, "%s = %.17g/s\n", k, r);
}

int ct_scenario_write(const struct ct_scenario *sc, FILE *out)
{
	if (!sc || !out)
		return -EINVAL;
	fprintf(out, "; resolved by ctload from %s\n", sc->path ? sc->path : "(memory)");
	fprintf(out, "[scenario]\n");
	if (sc->scenario.name)
		fprintf(out, "name = %s\n", sc->scenario.name);
	w_str(out, "description", sc->scenario.description);
	fprintf(out, "topology = %s\n", ct_topology_name(sc->scenario.topology));
	fprintf(out, "seed = %llu\n", (unsigned long long)sc->scenario.seed);

	fprintf(out, "\n[lab]\nclients = %u\npath = %s\nconntrack_on = %s\n", sc->lab.clients,
		ct_lab_path_name(sc->lab.path), ct_ct_on_name(sc->lab.conntrack_on));
	if (sc->lab.addresses)
		fprintf(out, "addresses = %s\n", sc->lab.addresses);

	fprintf(out, "\n[server]\nmode = %s\n", ct_srv_mode_name(sc->server.mode));
	if (sc->server.port_lo == sc->server.port_hi)
		fprintf(out, "port = %u\n", sc->server.port_lo);
	else
		fprintf(out, "port = %u-%u\n", sc->server.port_lo, sc->server.port_hi);
	fprintf(out, "close = %s\n", ct_srv_close_name(sc->server.close));
	w_dur(out, "close_delay", sc->server.close_delay_ns);
	fprintf(out, "workers = %u\nbacklog = %d\n", sc->server.workers, sc->server.backlog);
	if (sc->server.target)
		fprintf(out, "target = %s\n", sc->server.target);

	fprintf(out, "\n[load]\nengine = %s\n", ct_engine_kind_name(sc->load.engine));
	w_rate(out, "rate", sc->load.rate);
	if (sc->load.rate_end > 0)
		w_rate(out, "rate_end", sc->load.rate_end);
	fprintf(out, "profile = %s\n", ct_profile_name(sc->load.profile));
	if (sc->load.step_every_ns)
		w_dur(out, "step_every", sc->load.step_every_ns);
	if (sc->load.step_by > 0)
		w_rate(out, "step_by", sc->load.step_by);
	w_dur(out, "duration", sc->load.duration_ns);
	fprintf(out, "max_connections = %llu\n", (unsigned long long)sc->load.max_connections);
	w_str(out, "request", sc->load.request);
	w_str(out, "expect", sc->load.expect);
	fprintf(out, "raw = %s\n", sc->load.raw ? "yes" : "no");
	w_dur(out, "connect_timeout", sc->load.connect_timeout_ns);
	w_dur(out, "reply_timeout", sc->load.reply_timeout_ns);
	fprintf(out, "ports = %s\n", ct_port_strategy_name(sc->load.ports));
	if (sc->load.port_lo)
		fprintf(out, "port_range = %u-%u\n", sc->load.port_lo, sc->load.port_hi);
	fprintf(out, "close = %s\n", ct_client_close_name(sc->load.close));
	fprintf(out, "threads = %u\nmax_inflight = %u\n", sc->load.threads, sc->load.max_inflight);
	w_dur(out, "launch_window", sc->load.launch_window_ns);

	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++) {
		if (!sc->sysctl[s].n)
			continue;
		fprintf(out, "\n[sysctl.%s]\n", ct_sysctl_scope_name((enum ct_sysctl_scope)s));
		for (size_t i = 0; i < sc->sysctl[s].n; i++)
			fprintf(out, "%s = %s\n", sc->sysctl[s].v[i].key, sc->sysctl[s].v[i].value);
	}
	if (sc->n_sweep) {
		fprintf(out, "\n[sweep]\n");
		for (size_t i = 0; i < sc->n_sweep; i++) {
			fprintf(out, "%s = ", sc->sweep[i].key);
			for (size_t j = 0; j < sc->sweep[i].n; j++)
				fprintf(out, "%s%s", j ? "," : "", sc->sweep[i].values[j]);
			fprintf(out, "\n");
		}
	}
	if (sc->search.enabled) {
		fprintf(out, "\n[search]\nfind = %s\nprecision = %.17g\n",
			sc->search.find ? sc->search.find : "rate", sc->search.precision);
		w_dur(out, "trial", sc->search.trial_ns);
		w_str(out, "fail_when", sc->search.fail_when.text);
		fprintf(out, "cooldown = %s\nconfirm = %s\n", ct_cooldown_name(sc->search.cooldown),
			sc->search.confirm ? "yes" : "no");
	}
	if (sc->n_expect) {
		fprintf(out, "\n[expect]\n");
		for (size_t i = 0; i < sc->n_expect; i++)
			fprintf(out, "check = %s\n", sc->expect[i].text);
	}
	fprintf(out, "\n[report]\n");
	w_dur(out, "sample_interval", sc->report.sample_interval_ns);
	if (sc->report.metrics_listen)
		fprintf(out, "metrics_listen = %s\n", sc->report.metrics_listen);
	fprintf(out, "capture = %s\n", sc->report.capture ? "yes" : "no");
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}

/* ---------------------------------------------------------------- equal */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool ct_scenario_equal(const struct ct_scenario *a, const struct ct_scenario *b)
{
	if (!a || !b)
		return a == b;
	if (!str_eq(a->scenario.name, b->scenario.name) ||
	    !str_eq(a->scenario.description, b->scenario.description) ||
	    a->scenario.topology != b->scenario.topology || a->scenario.seed != b->scenario.seed)
		return false;
	if (a->lab.clients != b->lab.clients || a->lab.path != b->lab.path ||
	    a->lab.conntrack_on != b->lab.conntrack_on || !str_eq(a->lab.addresses, b->lab.addresses))
		return false;
	if (a->server.mode != b->server.mode || a->server.port_lo != b->server.port_lo ||
	    a->server.port_hi != b->server.port_hi || a->server.close != b->server.close ||
	    a->server.close_delay_ns != b->server.close_delay_ns ||
	    a->server.workers != b->server.workers || a->server.backlog != b->server.backlog ||
	    !str_eq(a->server.target, b->server.target))
		return false;
	if (a->load.engine != b->load.engine || a->load.rate != b->load.rate ||
	    a->load.rate_end != b->load.rate_end || a->load.profile != b->load.profile ||
	    a->load.step_every_ns != b->load.step_every_ns || a->load.step_by != b->load.step_by ||
	    a->load.duration_ns != b->load.duration_ns ||
	    a->load.max_connections != b->load.max_connections ||
	    !str_eq(a->load.request, b->load.request) || !str_eq(a->load.expect, b->load.expect) ||
	    a->load.raw != b->load.raw || a->load.connect_timeout_ns != b->load.connect_timeout_ns ||
	    a->load.reply_timeout_ns != b->load.reply_timeout_ns || a->load.ports != b->load.ports ||
	    a->load.port_lo != b->load.port_lo || a->load.port_hi != b->load.port_hi ||
	    a->load.close != b->load.close || a->load.threads != b->load.threads ||
	    a->load.max_inflight != b->load.max_inflight ||
	    a->load.launch_window_ns != b->load.launch_window_ns)
		return false;
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++) {
		if (a->sysctl[s].n != b->sysctl[s].n)
			return false;
		for (size_t i = 0; i < a->sysctl[s].n; i++)
			if (strcmp(a->sysctl[s].v[i].key, b->sysctl[s].v[i].key) != 0 ||
			    strcmp(a->sysctl[s].v[i].value, b->sysctl[s].v[i].value) != 0)
				return false;
	}
	if (a->n_sweep != b->n_sweep)
		return false;
	for (size_t i = 0; i < a->n_sweep; i++) {
		if (strcmp(a->sweep[i].key, b->sweep[i].key) != 0 || a->sweep[i].n != b->sweep[i].n)
			return false;
		for (size_t j = 0; j < a->sweep[i].n; j++)
			if (strcmp(a->sweep[i].values[j], b->sweep[i].values[j]) != 0)
				return false;
	}
	if (a->search.enabled != b->search.enabled || !str_eq(a->search.find, b->search.find) ||
	    a->search.precision != b->search.precision || a->search.trial_ns != b->search.trial_ns ||
	    !str_eq(a->search.fail_when.text, b->search.fail_when.text) ||
	    a->search.cooldown != b->search.cooldown || a->search.confirm != b->search.confirm)
		return false;
	if (a->n_expect != b->n_expect)
		return false;
	for (size_t i = 0; i < a->n_expect; i++)
		if (strcmp(a->expect[i].text, b->expect[i].text) != 0)
			return false;
	return a->report.sample_interval_ns == b->report.sample_interval_ns &&
	       str_eq(a->report.metrics_listen, b->report.metrics_listen) &&
	       a->report.capture == b->report.capture;
}
