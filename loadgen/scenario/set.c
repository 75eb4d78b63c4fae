/* set — one key = value through the key table: the file's lines, --set and
 * each sweep value all come here, so a value is checked the same way
 * wherever it is written. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/units.h"
#include "loadgen/scenario/scenario_int.h"
#include "loadgen/scenario/sysctl_keys.h"

/* ---------------------------------------------------------------- errors */

static void vfail(struct ct_err *err, const struct ct_scn_where *w, const char *section,
		  const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void vfail(struct ct_err *err, const struct ct_scn_where *w, const char *section,
		  const char *key, const char *fmt, va_list ap)
{
	char what[CT_SCN_WHY];
	char loc[300];

	if (!err)
		return;
	vsnprintf(what, sizeof(what), fmt, ap);
	if (w->line > 0)
		ct_scn_fmt(loc, sizeof(loc), "%s:%d", w->file, w->line);
	else
		ct_scn_fmt(loc, sizeof(loc), "%s", w->file);
	/* Truncation is acceptable: the location comes first. */
	if (section && key)
		ct_err_set(err, CT_EXIT_USAGE, "%s: [%s] %s: %s", loc, section, key, what);
	else if (section)
		ct_err_set(err, CT_EXIT_USAGE, "%s: [%s]: %s", loc, section, what);
	else
		ct_err_set(err, CT_EXIT_USAGE, "%s: %s", loc, what);
}

int ct_scn_fail(struct ct_err *err, const struct ct_scn_where *w, const char *section,
		const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, w, section, key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---------------------------------------------------------------- by kind */

static int store_text(struct ct_scenario *sc, const struct ct_scn_key *k, const char *v, char *why,
		      size_t len)
{
	if (k->kind == K_QTEXT) {
		if (ct_scn_check_escapes(v, why, len) < 0)
			return -EINVAL;
		if (strcmp(k->key, "request") == 0 && ct_scn_check_template(v, why, len) < 0)
			return -EINVAL;
	}
	/* A " ;" would start an inline comment when written back. */
	for (const char *p = v; *p; p++)
		if (*p == ';' && p > v && isspace((unsigned char)p[-1])) {
			ct_scn_fmt(why, len, "' ;' would start a comment; write \\x3b for ';'");
			return -EINVAL;
		}
	if (strcmp(k->key, "request") == 0 && !*v) {
		ct_scn_fmt(why, len, "empty request; write e.g. request = \"get k{seq}\\r\\n\"");
		return -EINVAL;
	}
	return ct_scn_set_str((char **)ct_scn_member(sc, k), *v ? v : NULL);
}

static int store_dur(struct ct_scenario *sc, const struct ct_scn_key *k, const char *v, char *why,
		     size_t len)
{
	char a[32], b[32];
	uint64_t ns;

	if (ct_parse_duration(v, &ns, why, len) < 0)
		return -EINVAL;
	if ((double)ns < k->min || (double)ns > k->max) {
		if (ns == 0)
			ct_scn_fmt(why, len, "must be more than 0 (at least %s)",
				   ct_fmt_duration((uint64_t)k->min, a, sizeof(a)));
		else
			ct_scn_fmt(why, len, "'%s' is out of range %s..%s", v,
				   ct_fmt_duration((uint64_t)k->min, a, sizeof(a)),
				   ct_fmt_duration((uint64_t)k->max, b, sizeof(b)));
		return -EINVAL;
	}
	*(uint64_t *)ct_scn_member(sc, k) = ns;
	return 0;
}

static int store_rate(struct ct_scenario *sc, const struct ct_scn_key *k, const char *v, char *why,
		      size_t len)
{
	char b[32];
	double r;

	if (ct_parse_rate(v, &r, why, len) < 0)
		return -EINVAL;
	if (!(r > 0.0)) {
		ct_scn_fmt(why, len, "must be more than 0/s; write e.g. 500/s or 2k/s");
		return -EINVAL;
	}
	if (r > k->max) {
		ct_scn_fmt(why, len, "'%s' is more than the limit of %s", v,
			   ct_fmt_rate(k->max, b, sizeof(b)));
		return -EINVAL;
	}
	*(double *)ct_scn_member(sc, k) = r;
	return 0;
}

static int store_count(struct ct_scenario *sc, const struct ct_scn_key *k, const char *v, char *why,
		       size_t len)
{
	uint64_t n;

	if (ct_parse_count(v, &n, why, len) < 0)
		return -EINVAL;
	if ((double)n < k->min || (double)n > k->max) {
		ct_scn_fmt(why, len, "%llu is out of range %.0f..%.0f", (unsigned long long)n,
			   k->min, k->max);
		return -EINVAL;
	}
	ct_scn_count_put(sc, k, n);
	return 0;
}

static int store_bool(struct ct_scenario *sc, const struct ct_scn_key *k, const char *v, char *why,
		      size_t len)
{
	int b;

	if (ct_parse_bool(v, &b, why, len) < 0)
		return -EINVAL;
	*(bool *)ct_scn_member(sc, k) = b != 0;
	return 0;
}

/* "a, b or c" */
static void enum_list(const char *const *names, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s",
				      i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
}

static int store_enum(struct ct_scenario *sc, const struct ct_scn_key *k, const char *v, char *why,
		      size_t len)
{
	char list[160];
	const char *near;
	size_t n = 0;

	for (size_t i = 0; k->names[i]; i++, n++)
		if (strcmp(v, k->names[i]) == 0) {
			*(int *)ct_scn_member(sc, k) = (int)i;
			return 0;
		}
	enum_list(k->names, list, sizeof(list));
	near = ct_scn_nearest(v, k->names, n);
	if (near)
		ct_scn_fmt(why, len, "'%s' is not one of %s; did you mean '%s'?", v, list, near);
	else
		ct_scn_fmt(why, len, "'%s' is not one of %s", v, list);
	return -EINVAL;
}

static int store_ports(struct ct_scenario *sc, const struct ct_scn_key *k, const char *v, char *why,
		       size_t len)
{
	uint16_t *lohi = ct_scn_member(sc, k);

	return ct_parse_port_range(v, &lohi[0], &lohi[1], why, len) < 0 ? -EINVAL : 0;
}

int ct_scn_store(struct ct_scenario *sc, const struct ct_scn_key *k, const struct ct_scn_where *w,
		 const char *v, char *why, size_t len)
{
	if (k->set)
		return k->set(sc, k, w, v, why, len);
	switch (k->kind) {
	case K_TEXT:
	case K_QTEXT:
		return store_text(sc, k, v, why, len);
	case K_DUR:
		return store_dur(sc, k, v, why, len);
	case K_RATE:
		return store_rate(sc, k, v, why, len);
	case K_COUNT:
		return store_count(sc, k, v, why, len);
	case K_BOOL:
		return store_bool(sc, k, v, why, len);
	case K_ENUM:
		return store_enum(sc, k, v, why, len);
	case K_PORTS:
		return store_ports(sc, k, v, why, len);
	case K_COND:
	case K_NUM:
	case K_LIST:
		break; /* these kinds name their setter */
	}
	ct_scn_fmt(why, len, "internal: unhandled key kind");
	return -EINVAL;
}

/* [section] key = raw, for a section whose keys are in the table. */
static int set_plain(struct ct_scenario *sc, const struct ct_scn_where *w, struct ct_err *err,
		     const char *section, const char *key, const char *raw)
{
	const struct ct_scn_key *k = ct_scn_key_find(section, key);
	char why[CT_SCN_WHY] = "";
	char v[CT_SCN_MAX_STR + 1];
	int rc;

	if (!k) {
		const char *near = ct_scn_nearest_key(section, key);

		if (near)
			return ct_scn_fail(err, w, section, key, "unknown key; did you mean '%s'?",
					   near);
		return ct_scn_fail(err, w, section, key,
				   "unknown key; see scenarios/README.md for the keys of [%s]",
				   section);
	}
	if (strlen(raw) > CT_SCN_MAX_STR)
		return ct_scn_fail(err, w, section, key, "value longer than %d characters",
				   CT_SCN_MAX_STR);
	ct_scn_unquote(raw, v, sizeof(v));
	if (strcmp(section, "search") == 0)
		sc->search.enabled = true;
	rc = ct_scn_store(sc, k, w, v, why, sizeof(why));
	if (rc == -ENOMEM)
		return ct_scn_fail(err, w, section, key, "out of memory");
	if (rc < 0)
		return ct_scn_fail(err, w, section, key, "%s", why);
	return 0;
}

/* ---------------------------------------------------------------- sysctl */

static void note_legacy(const struct ct_scn_where *w, const char *section, const char *name,
			const char *modern)
{
	if (w->line > 0)
		ct_note("%s:%d: [%s] %s is the legacy name of %s; using %s", w->file, w->line,
			section, name, modern, modern);
	else
		ct_note("%s: [%s] %s is the legacy name of %s; using %s", w->file, section, name,
			modern, modern);
}

/* Add k = norm to the list (1), or replace an earlier value (0, an
 * override) unless dup_is_error and that one came from a line of the file. */
static int put_sysctl(struct ct_sysctl_list *l, const struct ct_scn_where *w, struct ct_err *err,
		      const char *section, const char *name, const char *modern, const char *norm,
		      bool dup_is_error)
{
	struct ct_sysctl *nv;

	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, modern) != 0)
			continue;
		if (dup_is_error && l->v[i].line > 0)
			return ct_scn_fail(err, w, section, name, "%s is already set at line %d",
					   modern, l->v[i].line);
		ct_scn_fmt(l->v[i].value, sizeof(l->v[i].value), "%s", norm);
		l->v[i].line = w->line;
		return 0;
	}
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return ct_scn_fail(err, w, section, name, "out of memory");
	l->v = nv;
	memset(&nv[l->n], 0, sizeof(nv[l->n]));
	ct_scn_fmt(nv[l->n].key, sizeof(nv[l->n].key), "%s", modern);
	ct_scn_fmt(nv[l->n].value, sizeof(nv[l->n].value), "%s", norm);
	nv[l->n].line = w->line;
	l->n++;
	return 1;
}

/* Validate and store one sysctl; replaces an earlier value of the same key
 * (an override), unless `dup_is_error` (two lines in the file). */
static int set_sysctl(struct ct_scenario *sc, const struct ct_scn_where *w, struct ct_err *err,
		      enum ct_sysctl_scope scope, const char *name, const char *raw,
		      bool dup_is_error)
{
	const struct ct_sysctl_legacy *leg;
	const struct ct_sysctl_key *k;
	char section[32], why[300], norm[64], v[128];
	int rc;

	ct_scn_fmt(section, sizeof(section), "sysctl.%s", ct_sysctl_scope_name(scope));
	k = ct_sysctl_key_resolve(name, &leg, why, sizeof(why));
	if (!k)
		return ct_scn_fail(err, w, section, name, "%s", why);
	if (leg)
		note_legacy(w, section, name, k->name);
	if (k->scope == CT_SKEY_GLOBAL && scope != CT_SYSCTL_HOST)
		return ct_scn_fail(
		    err, w, section, name,
		    "%s is global (one value for the whole host, writable only in the "
		    "init netns); set it in [sysctl.host]",
		    k->name);
	if (strlen(raw) >= sizeof(v))
		return ct_scn_fail(err, w, section, name, "value too long");
	ct_scn_unquote(raw, v, sizeof(v));
	if (ct_sysctl_key_check_value(k, v, norm, sizeof(norm), why, sizeof(why)) < 0)
		return ct_scn_fail(err, w, section, name, "%s", why);
	rc = put_sysctl(&sc->sysctl[scope], w, err, section, name, k->name, norm, dup_is_error);
	if (rc == 1 && scope == CT_SYSCTL_HOST && k->scope == CT_SKEY_NETNS && w->line > 0)
		ct_note("%s:%d: [sysctl.host] %s is per-netns: this changes the host's own value "
			"(the lab restores it afterwards)",
			w->file, w->line, k->name);
	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- dotted keys */

/* "sysctl.SCOPE.NAME" */
static int split_sysctl(const char *d, char *section, size_t slen, char *key, size_t klen,
			char *why, size_t wlen)
{
	const char *dot = strchr(d + 7, '.');

	if (!dot) {
		ct_scn_fmt(
		    why, wlen,
		    "'%s': write sysctl.SCOPE.NAME, e.g. sysctl.client.net.ipv4.tcp_tw_reuse", d);
		return -EINVAL;
	}
	ct_scn_fmt(section, slen, "%.*s", (int)(dot - d), d);
	ct_scn_fmt(key, klen, "%s", dot + 1);
	return 0;
}

/* A key name that exists in exactly one section: 0; in none: -ENOENT;
 * in several: -EINVAL with the choices in why. */
static int split_short(const char *d, char *section, size_t slen, char *key, size_t klen, char *why,
		       size_t wlen)
{
	const struct ct_scn_key *found = NULL;
	char list[200];
	size_t o = 0;
	int n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		if (strcmp(ct_scn_keys[i].key, d) != 0)
			continue;
		found = &ct_scn_keys[i];
		n++;
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s.%s",
					      o ? " or " : "", found->section, d);
	}
	if (n == 0)
		return -ENOENT;
	if (n > 1) {
		ct_scn_fmt(why, wlen, "'%s' is ambiguous; write %s", d, list);
		return -EINVAL;
	}
	ct_scn_fmt(section, slen, "%s", found->section);
	ct_scn_fmt(key, klen, "%s", d);
	return 0;
}

/* What is wrong with a dotted key that matched nothing. */
static void unknown_dotted(const char *d, const char *section, bool dotted, char *why, size_t wlen)
{
	const char *cands[CT_SCN_MAX_KEYS];
	char buf[32];
	const char *near;

	if (dotted) {
		near = ct_scn_nearest_section(section, buf, sizeof(buf));
		ct_scn_fmt(why, wlen, "unknown section '%s'%s%s%s", section,
			   near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		return;
	}
	for (size_t i = 0; i < ct_scn_nkeys; i++)
		cands[i] = ct_scn_keys[i].key;
	near = ct_scn_nearest(d, cands, ct_scn_nkeys);
	ct_scn_fmt(why, wlen, "unknown key '%s'%s%s%s", d, near ? "; did you mean '" : "",
		   near ? near : "", near ? "'?" : "");
}

int ct_scn_split_dotted(const char *dotted, char *section, size_t slen, char *key, size_t klen,
			char *why, size_t wlen)
{
	const struct ct_sysctl_key *k;
	const char *dot;
	char d[160], sw[300];
	int rc;

	ct_scn_unquote(dotted, d, sizeof(d));
	if (!*d) {
		ct_scn_fmt(why, wlen, "empty key");
		return -EINVAL;
	}
	if (strncmp(d, "sysctl.", 7) == 0)
		return split_sysctl(d, section, slen, key, klen, why, wlen);
	dot = strchr(d, '.');
	if (dot) {
		ct_scn_fmt(section, slen, "%.*s", (int)(dot - d), d);
		if (ct_scn_is_plain_section(section) || strcmp(section, "sweep") == 0) {
			ct_scn_fmt(key, klen, "%s", dot + 1);
			return 0;
		}
	} else if ((rc = split_short(d, section, slen, key, klen, why, wlen)) != -ENOENT) {
		return rc;
	}
	/* A bare sysctl name: global keys go to the host, the rest to the client. */
	k = ct_sysctl_key_resolve(d, NULL, sw, sizeof(sw));
	if (k) {
		ct_scn_fmt(section, slen, "sysctl.%s",
			   k->scope == CT_SKEY_GLOBAL ? "host" : "client");
		ct_scn_fmt(key, klen, "%s", d);
		return 0;
	}
	if (dot && strncmp(d, "net.", 4) == 0) {
		ct_scn_fmt(why, wlen, "%s", sw);
		return -EINVAL;
	}
	unknown_dotted(d, section, dot != NULL, why, wlen);
	return -EINVAL;
}

/* ---------------------------------------------------------------- entry */

int ct_scn_set_section_key(struct ct_scenario *sc, const struct ct_scn_where *w, struct ct_err *err,
			   const char *section, const char *key, const char *value, bool from_file)
{
	enum ct_sysctl_scope scope;
	char buf[32];
	const char *near;

	if (ct_scn_sysctl_scope_of(section, &scope) == 0)
		return set_sysctl(sc, w, err, scope, key, value, from_file);
	if (strcmp(section, "sweep") == 0)
		return ct_scn_fail(err, w, section, key,
				   "a sweep is written in the scenario file, not set");
	if (ct_scn_is_plain_section(section))
		return set_plain(sc, w, err, section, key, value);
	near = ct_scn_nearest_section(section, buf, sizeof(buf));
	if (near)
		return ct_scn_fail(err, w, NULL, NULL, "unknown section [%s]; did you mean [%s]?",
				   section, near);
	return ct_scn_fail(err, w, NULL, NULL, "unknown section [%s]", section);
}

int ct_scenario_set(struct ct_scenario *sc, const char *dotted_key, const char *value,
		    struct ct_err *err)
{
	char section[64], key[128], why[300], file[256];
	struct ct_scn_where w = {file, 0};

	if (!sc || !dotted_key || !value)
		return -EINVAL;
	ct_scn_fmt(file, sizeof(file), "--set %s=%s", dotted_key, value);
	if (ct_scn_split_dotted(dotted_key, section, sizeof(section), key, sizeof(key), why,
				sizeof(why)) < 0)
		return ct_scn_fail(err, &w, NULL, NULL, "%s", why);
	return ct_scn_set_section_key(sc, &w, err, section, key, value, false) < 0 ? -EINVAL : 0;
}
