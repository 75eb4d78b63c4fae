#include "loadgen/model/lint.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loadgen/host/hostinfo.h"
#include "loadgen/model/lint_int.h"

/* More assignments than any sysctl.d tree has: past it a file is refused
 * rather than held in memory. */
#define MAX_ASSIGNMENTS (1u << 18)

const char *ct_lint_code_name(enum ct_lint_code c)
{
	static const char *const names[] = {
	    "syntax",	    "unknown",	      "removed",
	    "legacy",	    "misunderstood",  "bad-value",
	    "hashsize",	    "ratio",	      "port-overlap",
	    "port-parity",  "reuse-no-timestamps", "duplicate",
	    "not-read",
	};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

int ct_lint_cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* net.ipv4.ip_unprivileged_port_start: the kernel refuses a port range
 * starting below it. 1024 (its default) when it cannot be read. */
static long long read_port_floor(const char *root)
{
	char path[512], buf[32];
	long long v = 1024;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/net/ipv4/ip_unprivileged_port_start",
		 root ? root : "/proc");
	if ((f = fopen(path, "re"))) {
		if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%lld", &v) != 1)
			v = 1024;
		fclose(f);
	}
	return v;
}

struct ct_lint *ct_lint_new(const struct ct_lint_opts *opts)
{
	struct ct_lint *l = calloc(1, sizeof(*l));
	size_t host_n = 0;
	uint16_t *host = NULL;

	if (!l)
		return NULL;
	if (opts)
		l->opts = *opts;
	l->port_floor = read_port_floor(l->opts.proc_root);
	if (l->opts.live) {
		host = malloc(65536 * sizeof(*host));
		if (host && ct_hostinfo_listen_ports(NULL, host, 65536, &host_n) < 0)
			host_n = 0;
	}
	l->listen = malloc((l->opts.nlisten + host_n + 1) * sizeof(*l->listen));
	if (!l->listen) {
		free(host);
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < l->opts.nlisten; i++)
		l->listen[l->nlisten++] = l->opts.listen[i];
	for (size_t i = 0; i < host_n; i++)
		l->listen[l->nlisten++] = host[i];
	free(host);
	qsort(l->listen, l->nlisten, sizeof(*l->listen), ct_lint_cmp_u16);
	return l;
}

void ct_lint_free(struct ct_lint *l)
{
	if (!l)
		return;
	free(l->v);
	free(l->listen);
	free(l->asg);
	free(l);
}

size_t ct_lint_count(const struct ct_lint *l)
{
	return l ? l->n : 0;
}

const struct ct_lint_finding *ct_lint_at(const struct ct_lint *l, size_t i)
{
	return l && i < l->n ? &l->v[i] : NULL;
}

struct ct_lint_finding *ct_lint_add(struct ct_lint *l, const char *file, int line, const char *key,
				    enum ct_lint_code code)
{
	struct ct_lint_finding *f;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct ct_lint_finding *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = 1;
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	f = &l->v[l->n];
	memset(f, 0, sizeof(*f));
	f->order = l->n++;
	/* Findings of a file named before share its sequence number. */
	f->seq = l->nfiles;
	for (size_t i = 0; i < l->nfiles; i++)
		if (strcmp(l->files[i], file) == 0)
			f->seq = i;
	snprintf(f->file, sizeof(f->file), "%s", file);
	f->line = line;
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->code = code;
	return f;
}

#define SET CT_LINT_SET

/* Does this kernel have /proc/sys/PATH? A glob (net.ipv4.conf.*.rp_filter)
 * is given the benefit of the doubt. */
static bool exists_in_proc(const struct ct_lint *l, const char *path)
{
	char full[512];
	struct stat st;

	if (ct_sysctl_is_glob(path))
		return true;
	if (snprintf(full, sizeof(full), "%s/sys/%s",
		     l->opts.proc_root ? l->opts.proc_root : "/proc", path) >= (int)sizeof(full))
		return false;
	return stat(full, &st) == 0;
}

/* The name to look a path up by in ctload's tables: repeated or leading
 * slashes dropped (the kernel's path lookup ignores them), dots between. */
static void lookup_name(const char *path, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = path; *p && o + 1 < len; p++) {
		if (*p == '/' && (o == 0 || out[o - 1] == '.'))
			continue;
		out[o++] = *p == '/' ? '.' : *p;
	}
	out[o] = '\0';
}

static void trim(char **s)
{
	char *e;

	while (isspace((unsigned char)**s))
		(*s)++;
	e = *s + strlen(*s);
	while (e > *s && isspace((unsigned char)e[-1]))
		*--e = '\0';
}

/* "options nf_conntrack hashsize=N ..." from a modprobe.d file. */
static void modprobe_line(struct ct_lint *l, const char *file, int line, char *p)
{
	struct ct_lint_setting *s = &l->set[CT_LSET_HASHSIZE_OPT];
	char *save = NULL, *tok;

	tok = strtok_r(p, " \t", &save); /* "options" */
	tok = strtok_r(NULL, " \t", &save);
	if (!tok || strcmp(tok, "nf_conntrack") != 0)
		return;
	while ((tok = strtok_r(NULL, " \t", &save)))
		if (strncmp(tok, "hashsize=", 9) == 0) {
			s->set = true;
			snprintf(s->file, sizeof(s->file), "%s", file);
			s->line = line;
			snprintf(s->value, sizeof(s->value), "%s", tok + 9);
			snprintf(s->name, sizeof(s->name), "hashsize");
		}
}

/* Keys of one file so far (by path), to find a key set twice in it. */
struct seen {
	char path[128];
	char value[128];
	int line;
};

struct seen_list {
	struct seen *v;
	size_t n;
};

/* modprobe.d lines (their hashsize is kept): true when the line is one. */
static bool modprobe_directive(struct ct_lint *l, const char *file, int line, char *p)
{
	/* Other modprobe.d directives, when a modprobe.d file is linted too. */
	static const char *const kw[] = {"blacklist", "install", "remove", "alias",
					 "softdep",   "include", NULL};

	if (strncmp(p, "options", 7) == 0 && isspace((unsigned char)p[7])) {
		modprobe_line(l, file, line, p);
		return true;
	}
	for (const char *const *w = kw; *w; w++)
		if (strncmp(p, *w, strlen(*w)) == 0 && isspace((unsigned char)p[strlen(*w)]))
			return true;
	return false;
}

/* Same key twice in one file with different values the kernel takes: the
 * later wins. */
static void note_duplicate(struct ct_lint *l, const struct ct_lint_at *at, const char *path,
			   const char *val, struct seen_list *seen)
{
	struct ct_lint_finding *f;
	struct seen *ns;

	for (size_t i = 0; i < seen->n; i++) {
		struct seen *s = &seen->v[i];

		if (strcmp(s->path, path) != 0)
			continue;
		if (strcmp(s->value, val) != 0 &&
		    (f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_DUPLICATE))) {
			SET(f->msg,
			    "%s is set again (line %d set it to '%.60s'): this later '%.60s' "
			    "replaces it",
			    at->key, s->line, s->value, val);
			SET(f->fix, "keep one line for %s", at->key);
		}
		snprintf(s->value, sizeof(s->value), "%s", val);
		s->line = at->line;
		return;
	}
	ns = realloc(seen->v, (seen->n + 1) * sizeof(*seen->v));
	if (!ns)
		return;
	seen->v = ns;
	snprintf(ns[seen->n].path, sizeof(ns[seen->n].path), "%s", path);
	snprintf(ns[seen->n].value, sizeof(ns[seen->n].value), "%s", val);
	ns[seen->n].line = at->line;
	seen->n++;
}

/* Every assignment and exclusion, for the writes (ct_lint_writes). Returns
 * its index, or -1 when out of room. */
static long record_assign(struct ct_lint *l, const struct ct_lint_at *at,
			  const struct ct_sysctl_line *sl)
{
	struct ct_sysctl_assign *a;

	if (l->nasg == l->capasg) {
		size_t cap = l->capasg ? l->capasg * 2 : 32;

		if (cap > MAX_ASSIGNMENTS || !(a = realloc(l->asg, cap * sizeof(*a)))) {
			l->oom = 1;
			return -1;
		}
		l->asg = a;
		l->capasg = cap;
	}
	a = &l->asg[l->nasg];
	memset(a, 0, sizeof(*a));
	snprintf(a->key, sizeof(a->key), "%s", sl->key);
	snprintf(a->path, sizeof(a->path), "%s", sl->path);
	snprintf(a->value, sizeof(a->value), "%s", sl->value);
	snprintf(a->file, sizeof(a->file), "%s", at->file);
	a->line = at->line;
	a->exclude = sl->kind == CT_SLINE_EXCLUDE;
	return (long)l->nasg++;
}

/* What a refused write leaves: the last value an earlier line gave the key
 * (assignments before `upto`), or what the key had. */
static void what_stays(const struct ct_lint *l, const char *path, size_t upto, const char *file,
		       char *out, size_t len)
{
	while (upto-- > 0) {
		const struct ct_sysctl_assign *a = &l->asg[upto];

		if (a->exclude || a->refused || strcmp(a->path, path) != 0)
			continue;
		if (strcmp(a->file, file) == 0)
			snprintf(out, len, "'%.60s' from line %d", a->value, a->line);
		else
			snprintf(out, len, "'%.60s' from %.120s:%d", a->value, a->file, a->line);
		return;
	}
	snprintf(out, len, "the value it had");
}

static void refused_finding(struct ct_lint *l, const struct ct_lint_at *at,
			    const struct ct_sysctl_line *sl, const struct ct_sysctl_key *k,
			    const char *why, size_t ai)
{
	struct ct_lint_finding *f;
	char stays[200];

	what_stays(l, sl->path, ai, at->file, stays, sizeof(stays));
	if (!(f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_BAD_VALUE)))
		return;
	SET(f->msg, "%.260s, so the write fails and %.90s keeps %s%s", why, at->key, stays,
	    sl->ignore_failure ? " (the leading '-' only keeps systemd-sysctl from reporting it)"
			       : "");
	if (k->kind == CT_SKIND_PAIR)
		SET(f->fix, "%s = LO HI, %lld <= LO <= HI <= %lld", at->key,
		    l->port_floor > k->min ? l->port_floor : k->min, k->max);
	else if (k->kind == CT_SKIND_PORTLIST)
		SET(f->fix, "ports and ranges joined by commas, no blanks: 8080,9000-9010");
	else
		SET(f->fix, "a value in %lld..%lld%s%s", k->min, k->max, k->unit[0] ? " " : "",
		    k->unit);
}

enum resolved {
	R_NOT_SET, /* removed, missing here: sysctl writes nothing */
	R_OTHER,   /* real, outside what ctload knows */
	R_KNOWN,   /* in the allowlist (maybe through a second or an old name) */
};

static enum resolved legacy_key(struct ct_lint *l, const struct ct_lint_at *at,
				const struct ct_sysctl_line *sl, const struct ct_sysctl_legacy *leg,
				const struct ct_sysctl_key **kp)
{
	bool here = exists_in_proc(l, sl->path);
	struct ct_lint_finding *f;

	if ((f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_LEGACY))) {
		if (here)
			SET(f->msg,
			    "%s is the old ip_conntrack name of %s: this kernel still has it, "
			    "current kernels do not",
			    at->key, leg->modern);
		else
			SET(f->msg,
			    "%s is the old ip_conntrack name of %s: this kernel has no "
			    "/proc/sys/%.120s, so sysctl sets nothing (sysctl -p: 'cannot stat')",
			    at->key, leg->modern, sl->path);
		if (strcmp(leg->modern, "net.netfilter.nf_conntrack_buckets") == 0)
			SET(f->fix, "options nf_conntrack hashsize=%.40s in /etc/modprobe.d/",
			    sl->value);
		else
			SET(f->fix, "%s = %.60s", leg->modern, sl->value);
	}
	if (!here)
		return R_NOT_SET;
	*kp = ct_sysctl_key_find(leg->modern);
	return *kp ? R_KNOWN : R_OTHER;
}

/* A per-interface key (net/ipv4/conf/IF/..., net/ipv6/neigh/IF/...) of an
 * interface this host lacks: say so in f rather than "unknown". */
static bool missing_interface(const struct ct_lint *l, const char *path,
			      struct ct_lint_finding *f)
{
	static const char *const dirs[] = {"net/ipv4/conf/", "net/ipv6/conf/", "net/ipv4/neigh/",
					   "net/ipv6/neigh/"};
	char dir[160];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		size_t dl = strlen(dirs[i]);
		const char *slash;

		if (strncmp(path, dirs[i], dl) != 0 || !(slash = strchr(path + dl, '/')) ||
		    slash - path >= (long)sizeof(dir))
			continue;
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (exists_in_proc(l, dir))
			return false; /* the interface is here: the key is the problem */
		SET(f->msg,
		    "this host has no interface %.*s (no /proc/sys/%s), so sysctl -p sets nothing "
		    "now; at boot systemd-sysctl applies the line when the interface appears",
		    (int)(slash - path - dl), path + dl, dir);
		SET(f->fix, "check the interface name against 'ip link'");
		return true;
	}
	return false;
}

/* The allowlist entry of a key, after the findings for a removed, legacy or
 * unknown one. */
static enum resolved resolve_key(struct ct_lint *l, const struct ct_lint_at *at,
				 const struct ct_sysctl_line *sl, const struct ct_sysctl_key **kp)
{
	const struct ct_sysctl_removed *rem;
	const struct ct_sysctl_legacy *leg;
	const struct ct_sysctl_alias *al;
	const struct ct_sysctl_key *near;
	struct ct_lint_finding *f;
	char name[128];

	lookup_name(sl->path, name, sizeof(name));
	if ((rem = ct_sysctl_key_removed(name))) {
		if ((f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_REMOVED))) {
			SET(f->msg, "%s %s", at->key, rem->why);
			if (strstr(name, "tcp_tw_recycle"))
				SET(f->fix, "delete the line; on hosts that open the connections use "
					    "net.ipv4.tcp_tw_reuse = 1");
			else
				SET(f->fix, "delete the line");
		}
		return R_NOT_SET;
	}
	if ((al = ct_sysctl_key_alias(name)))
		return (*kp = ct_sysctl_key_find(al->key)) ? R_KNOWN : R_OTHER;
	if ((leg = ct_sysctl_key_legacy(name)))
		return legacy_key(l, at, sl, leg, kp);
	if ((*kp = ct_sysctl_key_find(name)))
		return R_KNOWN;
	if (exists_in_proc(l, sl->path))
		return R_OTHER;
	if (!(f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_UNKNOWN)))
		return R_NOT_SET;
	if (missing_interface(l, sl->path, f))
		return R_NOT_SET;
	near = ct_sysctl_key_nearest(name);
	SET(f->msg, "unknown sysctl %s: this kernel has no /proc/sys/%.160s%s%s%s", at->key,
	    sl->path, near ? " (did you mean " : "", near ? near->name : "", near ? "?)" : "");
	if (near)
		SET(f->fix, "%s = %.60s", near->name, sl->value);
	else
		SET(f->fix, "check the name against 'sysctl -a', or delete the line");
	return R_NOT_SET;
}

/* KEY = VALUE: what sysctl does with it, and what it means. */
static void apply_set(struct ct_lint *l, const struct ct_lint_at *at,
		      const struct ct_sysctl_line *sl, long ai, struct seen_list *seen)
{
	const struct ct_sysctl_key *k = NULL;
	struct ct_lint_finding *f;
	char norm[128], why[300];
	enum resolved r = resolve_key(l, at, sl, &k);
	int rc;

	if (r == R_NOT_SET)
		return;
	if (r == R_OTHER) {
		note_duplicate(l, at, sl->path, sl->value, seen);
		return;
	}
	rc = ct_sysctl_key_kernel_check(k, sl->value, l->port_floor, norm, sizeof(norm), why,
					sizeof(why));
	if (rc < 0) {
		if (ai >= 0)
			l->asg[ai].refused = true;
		refused_finding(l, at, sl, k, why, ai >= 0 ? (size_t)ai : l->nasg);
		return;
	}
	if (rc == 1 && (f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_BAD_VALUE))) {
		SET(f->msg, "%s", why);
		SET(f->fix, "%s = LO HI (both ends)", at->key);
	}
	note_duplicate(l, at, sl->path, norm, seen);
	ct_lint_key_taken(l, at, k, norm);
}

/* sysctl has no comment after a value: "1 # note" is written whole. */
static void value_comment(struct ct_lint *l, const struct ct_lint_at *at, const char *value)
{
	const char *h = value;
	struct ct_lint_finding *f;

	while ((h = strpbrk(h, "#;")) && (h == value || !isspace((unsigned char)h[-1])))
		h++;
	if (!h || !(f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_SYNTAX)))
		return;
	SET(f->msg,
	    "sysctl reads no comment after a value: it writes '%.120s' whole (the kernel "
	    "ignores text after the numbers a key takes, a text key keeps it)",
	    value);
	SET(f->fix, "put the comment on its own line, starting with # or ;");
}

static void lint_line(struct ct_lint *l, const char *file, int line, char *p,
		      struct seen_list *seen)
{
	struct ct_sysctl_line sl;
	struct ct_lint_finding *f;
	struct ct_lint_at at = {file, line, sl.key};
	long ai;

	trim(&p);
	if (modprobe_directive(l, file, line, p))
		return;
	ct_sysctl_parse_line(p, &sl);
	switch (sl.kind) {
	case CT_SLINE_SKIP:
		return;
	case CT_SLINE_SYNTAX:
	case CT_SLINE_LONG:
		if (!(f = ct_lint_add(l, file, line, "", CT_LINT_SYNTAX)))
			return;
		if (sl.kind == CT_SLINE_LONG)
			SET(f->msg, "a key over 127 or a value over 255 characters: ctload does not "
				    "read this line");
		else if (strchr(p, '='))
			SET(f->msg, "no key before '=': sysctl cannot write it");
		else
			SET(f->msg, "'%.200s' is not KEY = VALUE: sysctl -p says 'invalid "
				    "syntax' and skips it",
			    p);
		SET(f->fix, "write it as KEY = VALUE");
		return;
	case CT_SLINE_EXCLUDE:
		(void)record_assign(l, &at, &sl);
		return;
	case CT_SLINE_SET:
		break;
	}
	ai = record_assign(l, &at, &sl);
	apply_set(l, &at, &sl, ai, seen);
	value_comment(l, &at, sl.value);
}

int ct_lint_text(struct ct_lint *l, const char *name, const char *text)
{
	char *copy = strdup(text), *p, *line_start;
	struct seen_list seen = {NULL, 0};
	int line = 0;

	if (!copy)
		return -ENOMEM;
	if (l->nfiles < sizeof(l->files) / sizeof(l->files[0]))
		snprintf(l->files[l->nfiles++], sizeof(l->files[0]), "%s", name);
	/* strtok_r would merge empty lines and shift the numbers: split by hand. */
	for (line_start = copy; line_start; line_start = p) {
		p = strchr(line_start, '\n');
		if (p)
			*p++ = '\0';
		line++;
		if (!p && !*line_start)
			break;
		lint_line(l, name, line, line_start, &seen);
	}
	free(seen.v);
	free(copy);
	return l->oom ? -ENOMEM : 0;
}

int ct_lint_file(struct ct_lint *l, const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if (!f)
		return -errno;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20) || !(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				return cap > (64u << 20) ? -EFBIG : -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		fclose(f);
		free(buf);
		return rc;
	}
	fclose(f);
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		free(buf);
		return -EINVAL; /* binary, not a sysctl file */
	}
	rc = ct_lint_text(l, path, buf);
	free(buf);
	return rc;
}

void ct_lint_not_read(struct ct_lint *l, const char *path, const char *why, const char *fix)
{
	struct ct_lint_finding *f;

	if (l->nfiles < sizeof(l->files) / sizeof(l->files[0]))
		snprintf(l->files[l->nfiles++], sizeof(l->files[0]), "%s", path);
	if (!(f = ct_lint_add(l, path, 0, "", CT_LINT_NOT_READ)))
		return;
	SET(f->msg, "%s", why);
	SET(f->fix, "%s", fix);
}

/* For a key a glob line reaches: is it one ctload knows, with a value the
 * kernel refuses? */
static bool glob_refuses(void *ctx, const char *key, const char *value)
{
	const struct ct_lint *l = ctx;
	const struct ct_sysctl_alias *al = ct_sysctl_key_alias(key);
	const struct ct_sysctl_key *k = ct_sysctl_key_find(al ? al->key : key);
	char norm[128];

	return k && ct_sysctl_key_kernel_check(k, value, l->port_floor, norm, sizeof(norm), NULL,
					       0) < 0;
}

int ct_lint_writes(struct ct_lint *l, struct ct_sysctl_assign **out, size_t *n)
{
	return ct_sysctl_writes(l->asg, l->nasg, l->opts.proc_root, glob_refuses, l, out, n);
}

static int cmp_finding(const void *a, const void *b)
{
	const struct ct_lint_finding *x = a, *y = b;

	/* Files keep the order they were read in (seq), lines ascend. */
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void ct_lint_finish(struct ct_lint *l)
{
	ct_lint_cross_checks(l);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_finding);
}
