/* special — the keys that name their own setter in keys.def (a value with
 * its own syntax, or a list), and the checks of text values. Each setter
 * stores the value or says why not. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "loadgen/scenario/expr.h"
#include "loadgen/scenario/scenario_int.h"

/* ---------------------------------------------------------------- helpers */

void ct_scn_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

int ct_scn_set_str(char **dst, const char *v)
{
	char *c = NULL;

	if (v && !(c = strdup(v)))
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

void ct_scn_unquote(const char *v, char *out, size_t len)
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

/* ---------------------------------------------------------------- checks */

/* Escapes stay as text (the engine expands them); only check them here. */
int ct_scn_check_escapes(const char *s, char *why, size_t len)
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
		ct_scn_fmt(why, len, "bad escape '\\%.1s'; use \\r \\n \\t \\\\ \\\" or \\xHH",
			   *p ? p : "");
		return -EINVAL;
	}
	return 0;
}

/* A placeholder {rand:N}: N a whole number, 1 .. 18 digits. */
static bool is_rand(const char *ph)
{
	const char *n = ph + 5;

	return strncmp(ph, "rand:", 5) == 0 && *n && strspn(n, "0123456789") == strlen(n) &&
	       strlen(n) <= 18 && strtoull(n, NULL, 10) >= 1;
}

/* Placeholders are rendered by loadgen/engine/reqtmpl.c, where any other
 * brace is literal (a JSON body stays as written). A brace around one
 * lowercase word is refused, though: "{sequence}" is a typo, not a request
 * anyone means. */
int ct_scn_check_template(const char *s, char *why, size_t len)
{
	for (const char *p = s; *p; p++) {
		char ph[64];
		size_t n = 0;
		const char *q = p + 1;

		if (*p != '{')
			continue;
		while (*q &&
		       (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_' ||
			*q == ':') &&
		       n + 1 < sizeof(ph))
			ph[n++] = *q++;
		ph[n] = '\0';
		if (*q != '}' || n == 0 || !islower((unsigned char)ph[0]))
			continue; /* literal brace */
		if (strcmp(ph, "seq") == 0 || strcmp(ph, "thread") == 0 || is_rand(ph))
			continue;
		ct_scn_fmt(why, len,
			   "unknown placeholder '{%s}'; use {seq}, {thread} or {rand:N} (a random "
			   "number in [0, N), N >= 1)",
			   ph);
		return -EINVAL;
	}
	return 0;
}

static int check_addr_port(const char *v, unsigned flags, char *why, size_t len)
{
	const char *colon;
	uint16_t lo, hi;
	char w2[160];

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (!rb || rb[1] != ':') {
			ct_scn_fmt(why, len, "'%s' is not [IPv6]:PORT", v);
			return -EINVAL;
		}
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
	}
	if (!colon || colon == v) {
		ct_scn_fmt(why, len, "'%s' is not HOST:PORT", v);
		return -EINVAL;
	}
	if ((size_t)(colon - v) >= 256) {
		ct_scn_fmt(why, len, "host name too long");
		return -EINVAL;
	}
	/* A listening address may leave the port to the kernel, as bind(2) does. */
	if ((flags & F_PORT0) && strcmp(colon + 1, "0") == 0)
		return 0;
	if (ct_parse_port_range(colon + 1, &lo, &hi, w2, sizeof(w2)) < 0) {
		ct_scn_fmt(why, len, "%s", w2);
		return -EINVAL;
	}
	if (!(flags & F_RANGE) && lo != hi) {
		ct_scn_fmt(why, len, "'%s': one port, not a range", v);
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
	ct_scn_fmt(why, len, "'%s' is not an address range; write e.g. 198.18.0.0/15", v);
	return -EINVAL;
}

/* A condition that does not parse is an error at load time, with its line,
 * rather than after the run. */
static int check_cond(const char *v, char *why, size_t len)
{
	struct ct_err e = {0};
	struct ct_expr *x;

	if (!*v) {
		ct_scn_fmt(why, len, "empty condition");
		return -EINVAL;
	}
	x = ct_expr_parse(v, &e);
	if (!x) {
		ct_scn_fmt(why, len, "'%s': %s", v, e.msg);
		return -EINVAL;
	}
	ct_expr_free(x);
	return 0;
}

/* ---------------------------------------------------------------- setters */

int ct_scn_set_name(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	bool ok = *v && strlen(v) <= 64;

	for (const char *p = v; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || strchr("._-", *p);
	if (!ok) {
		ct_scn_fmt(why, len,
			   "'%s' is not a name; use 1-64 letters, digits, '.', '_' or '-'", v);
		return -EINVAL;
	}
	return ct_scn_set_str((char **)ct_scn_member(sc, k), v);
}

int ct_scn_set_addresses(struct ct_scenario *sc, const struct ct_scn_key *k,
			 const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	if (check_cidr(v, why, len) < 0)
		return -EINVAL;
	return ct_scn_set_str((char **)ct_scn_member(sc, k), v);
}

/* [server] target (a port range allowed) and [report] metrics_listen; empty unsets. */
int ct_scn_set_hostport(struct ct_scenario *sc, const struct ct_scn_key *k,
			const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	char **dst = ct_scn_member(sc, k);

	if (*v == '\0')
		return ct_scn_set_str(dst, NULL);
	if (check_addr_port(v, k->flags, why, len) < 0)
		return -EINVAL;
	return ct_scn_set_str(dst, v);
}

/* "kernel", "bind LO-HI", "range LO-HI" (or bind/range alone, the range in
 * port_range). */
int ct_scn_set_ports(struct ct_scenario *sc, const struct ct_scn_key *k,
		     const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	char word[16], w2[160];
	const char *rest = v;
	size_t n = 0;
	int found = -1;
	uint16_t lo = 0, hi = 0;

	while (*rest && !isspace((unsigned char)*rest) && n + 1 < sizeof(word))
		word[n++] = *rest++;
	word[n] = '\0';
	for (int i = 0; k->names[i]; i++)
		if (strcmp(word, k->names[i]) == 0)
			found = i;
	while (isspace((unsigned char)*rest))
		rest++;
	if (found < 0 || (*rest && (found == CT_PORTS_KERNEL ||
				    ct_parse_port_range(rest, &lo, &hi, w2, sizeof(w2)) < 0))) {
		ct_scn_fmt(why, len,
			   "'%s' is not a port strategy; use kernel, bind LO-HI or range LO-HI "
			   "(e.g. ports = range 40000-40999)",
			   v);
		return -EINVAL;
	}
	if (*rest) {
		sc->load.port_lo = lo;
		sc->load.port_hi = hi;
	}
	*(int *)ct_scn_member(sc, k) = found;
	return 0;
}

int ct_scn_set_find(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	if (strcmp(v, "rate") != 0) {
		ct_scn_fmt(why, len, "'%s' cannot be searched; only find = rate is supported", v);
		return -EINVAL;
	}
	return ct_scn_set_str((char **)ct_scn_member(sc, k), v);
}

/* A percentage (2%) or a fraction (0.02), more than 0, at most 50 %. */
int ct_scn_set_size(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	char what[128];
	uint64_t b;

	(void)w;
	if (ct_parse_size(v, &b, what, sizeof(what)) < 0) {
		ct_scn_fmt(why, len, "%s", what);
		return -EINVAL;
	}
	if (b < (uint64_t)k->min || b > (uint64_t)k->max) {
		ct_scn_fmt(why, len, "'%s' is out of range: %.0f..%.0f bytes", v, k->min, k->max);
		return -EINVAL;
	}
	*(uint64_t *)ct_scn_member(sc, k) = b;
	return 0;
}

int ct_scn_set_precision(struct ct_scenario *sc, const struct ct_scn_key *k,
			 const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	char *e = NULL;
	double d = 0;
	bool ok = *v && (isdigit((unsigned char)v[0]) || v[0] == '.');

	if (ok) {
		errno = 0;
		d = strtod(v, &e);
		if (*e == '%') {
			d /= 100.0;
			e++;
		}
		ok = !*e && !errno && d > 0.0 && d <= 0.5;
	}
	if (!ok) {
		ct_scn_fmt(
		    why, len,
		    "'%s' is not a precision; write a percentage (2%%) or a fraction (0.02), "
		    "at most 50%%",
		    v);
		return -EINVAL;
	}
	*(double *)ct_scn_member(sc, k) = d;
	return 0;
}

/* A condition given on the command line keeps the option, so that a later
 * message can name it (it has no file line). */
static void cond_origin(struct ct_cond *c, const struct ct_scn_where *w)
{
	c->set[0] = '\0';
	if (w->line == 0 && w->file && strncmp(w->file, "--set ", 6) == 0)
		ct_scn_fmt(c->set, sizeof(c->set), "%s", w->file);
}

/* [search] fail_when: one condition, kept as written with its line. */
int ct_scn_set_cond(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	struct ct_cond *c = ct_scn_member(sc, k);
	int rc;

	if (check_cond(v, why, len) < 0)
		return -EINVAL;
	if ((rc = ct_scn_set_str(&c->text, v)) < 0)
		return rc;
	c->line = w->line;
	cond_origin(c, w);
	return 0;
}

/* [expect] check: one more condition for the list. */
int ct_scn_set_check(struct ct_scenario *sc, const struct ct_scn_key *k,
		     const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	struct ct_cond *nv;

	if (check_cond(v, why, len) < 0)
		return -EINVAL;
	nv = realloc(sc->expect, (sc->n_expect + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	sc->expect = nv;
	if (!(nv[sc->n_expect].text = strdup(v)))
		return -ENOMEM;
	nv[sc->n_expect].line = w->line;
	cond_origin(&nv[sc->n_expect], w);
	sc->n_expect++;
	return 0;
}

/* True when blank-separated `args` has option `opt` ("--no-huge"), alone
 * or as "--opt=value". */
static bool has_opt(const char *args, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = args; (p = strstr(p, opt)); p += n) {
		bool start = p == args || isspace((unsigned char)p[-1]);
		if (start && (!p[n] || isspace((unsigned char)p[n]) || p[n] == '='))
			return true;
	}
	return false;
}

/* [dpdk] eal: what the EAL cannot do, or what ctload must own, refused
 * here with the line rather than by the EAL after the lab is built. */
int ct_scn_set_eal(struct ct_scenario *sc, const struct ct_scn_key *k,
		   const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	(void)w;
	if (has_opt(v, "--in-memory") && has_opt(v, "--no-huge")) {
		ct_scn_fmt(why, len,
			   "--in-memory cannot go with --no-huge (the EAL refuses it: --no-huge "
			   "implies --legacy-mem); drop --in-memory, ctload removes the runtime "
			   "directory itself");
		return -EINVAL;
	}
	if (has_opt(v, "--file-prefix")) {
		ct_scn_fmt(why, len, "leave out --file-prefix: ctload sets one per lab so it can "
				     "remove /var/run/dpdk/<prefix> afterwards");
		return -EINVAL;
	}
	if (has_opt(v, "--vdev")) {
		ct_scn_fmt(why, len, "put the device in [dpdk] port instead of --vdev: a vdev "
				     "must be opened inside the lab's client netns");
		return -EINVAL;
	}
	if (strlen(v) > 2000) {
		ct_scn_fmt(why, len, "longer than 2000 characters");
		return -EINVAL;
	}
	return ct_scn_set_str((char **)ct_scn_member(sc, k), *v ? v : NULL);
}

/* [dpdk] port: a vdev spec or a device name, one word. */
int ct_scn_set_dpdk_port(struct ct_scenario *sc, const struct ct_scn_key *k,
			 const struct ct_scn_where *w, const char *v, char *why, size_t len)
{
	(void)w;
	bool ok = *v && strlen(v) < 200;
	for (const char *p = v; ok && *p; p++)
		ok = !isspace((unsigned char)*p);
	if (!ok) {
		ct_scn_fmt(why, len, "'%s' is not a port: write a vdev such as "
				     "net_af_packet0,iface={iface} or a PCI address such as "
				     "0000:01:00.0", v);
		return -EINVAL;
	}
	return ct_scn_set_str((char **)ct_scn_member(sc, k), v);
}
