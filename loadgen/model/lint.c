#include "loadgen/model/lint.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loadgen/host/hostinfo.h"
#include "loadgen/model/model.h"
#include "loadgen/scenario/sysctl_keys.h"

/* Above this many entries a bucket at a full table, lookups walk long
 * chains; the kernel's own default is 1, tuning guides use 4 (seeds 000,
 * 003, 004) and 8 as the upper end. */
#define MAX_PER_BUCKET 8
/* Below this tcp_max_tw_buckets only hides TIME_WAIT (the usual default is
 * ehash/2 = 131072 on a few GB of RAM; 32768 is far under any range in use). */
#define LOW_TW_BUCKETS 32768

/* Services that listen on ports a widened ephemeral range swallows. */
static const struct {
	uint16_t port;
	const char *what;
} well_known[] = {
    {2181, "zookeeper"},  {2379, "etcd"},	{3306, "mysql"},	 {5432, "postgresql"},
    {5672, "amqp"},	  {6379, "redis"},	{8080, "http-alt"},	 {8443, "https-alt"},
    {9090, "prometheus"}, {9092, "kafka"},	{9100, "node_exporter"}, {9200, "elasticsearch"},
    {10250, "kubelet"},	  {11211, "memcached"}, {27017, "mongodb"},
};

/* The last assignment of a key, as sysctl.d applies them. */
struct setting {
	bool set;
	char file[256];
	int line;
	char value[128];
};

/* The settings the checks over several lines need. */
enum setting_id {
	SET_NONE = -1,
	SET_CT_MAX,
	SET_BUCKETS,
	SET_HASHSIZE_OPT, /* modprobe.d: options nf_conntrack hashsize=N */
	SET_PORT_RANGE,
	SET_RESERVED,
	SET_TW_REUSE,
	SET_TIMESTAMPS,
	SET_N
};

struct ct_lint {
	struct ct_lint_opts opts;
	struct ct_lint_finding *v;
	size_t n, cap;
	struct setting set[SET_N];
	char files[64][256]; /* names seen, for output order */
	size_t nfiles;
	uint16_t *listen; /* opts.listen + the host's, sorted */
	size_t nlisten;
	int oom;
};

const char *ct_lint_code_name(enum ct_lint_code c)
{
	static const char *const names[] = {
	    "syntax",
	    "unknown",
	    "removed",
	    "legacy",
	    "misunderstood",
	    "bad-value",
	    "hashsize",
	    "ratio",
	    "port-overlap",
	    "port-parity",
	    "reuse-no-timestamps",
	    "duplicate",
	};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
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
	qsort(l->listen, l->nlisten, sizeof(*l->listen), cmp_u16);
	return l;
}

void ct_lint_free(struct ct_lint *l)
{
	if (!l)
		return;
	free(l->v);
	free(l->listen);
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

static struct ct_lint_finding *add(struct ct_lint *l, const char *file, int line, const char *key,
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

#define SET(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

static void remember(struct setting *s, const char *file, int line, const char *value)
{
	s->set = true;
	snprintf(s->file, sizeof(s->file), "%s", file);
	s->line = line;
	snprintf(s->value, sizeof(s->value), "%s", value);
}

/* Is `key` a real sysctl on this kernel? A glob (systemd-sysctl takes
 * "net.ipv4.conf.*.rp_filter") is given the benefit of the doubt. */
static bool exists_in_proc(const struct ct_lint *l, const char *key)
{
	char path[512];
	struct stat st;
	size_t o;

	if (strpbrk(key, "*?["))
		return true;
	o = (size_t)snprintf(path, sizeof(path), "%s/sys/",
			     l->opts.proc_root ? l->opts.proc_root : "/proc");
	for (const char *k = key; *k && o + 1 < sizeof(path); k++)
		path[o++] = *k == '.' ? '/' : *k;
	path[o] = '\0';
	return stat(path, &st) == 0;
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
	char *save = NULL, *tok;

	tok = strtok_r(p, " \t", &save); /* "options" */
	tok = strtok_r(NULL, " \t", &save);
	if (!tok || strcmp(tok, "nf_conntrack") != 0)
		return;
	while ((tok = strtok_r(NULL, " \t", &save)))
		if (strncmp(tok, "hashsize=", 9) == 0)
			remember(&l->set[SET_HASHSIZE_OPT], file, line, tok + 9);
}

/* Keys of one file so far, to find a key set twice in it. */
struct seen {
	char key[128];
	char value[128];
	int line;
};

struct seen_list {
	struct seen *v;
	size_t n;
};

/* A line's place, for its findings; key as normalized (the modern name once
 * a legacy one is mapped). */
struct at {
	const char *file;
	int line;
	const char *key;
};

/* Blank and comment lines, and modprobe.d lines (their hashsize is kept):
 * true when the line is not a sysctl assignment. */
static bool skip_line(struct ct_lint *l, const char *file, int line, char *p)
{
	/* Other modprobe.d directives, when a modprobe.d file is linted too. */
	static const char *const kw[] = {"blacklist", "install", "remove", "alias",
					 "softdep",   "include", NULL};

	if (!*p || *p == '#' || *p == ';')
		return true;
	if (strncmp(p, "options", 7) == 0 && isspace((unsigned char)p[7])) {
		modprobe_line(l, file, line, p);
		return true;
	}
	for (const char *const *w = kw; *w; w++)
		if (strncmp(p, *w, strlen(*w)) == 0 && isspace((unsigned char)p[strlen(*w)]))
			return true;
	return false;
}

/* KEY = VALUE into key (normalized) and *val; false after a syntax finding. */
static bool split_assignment(struct ct_lint *l, const char *file, int line, char *p, char *key,
			     size_t keylen, char **val)
{
	struct ct_lint_finding *f;
	char *eq, *rawkey;

	if (!(eq = strchr(p, '='))) {
		if ((f = add(l, file, line, "", CT_LINT_SYNTAX))) {
			SET(f->msg, "'%.200s' is not KEY = VALUE, so sysctl skips it", p);
			SET(f->fix, "write it as KEY = VALUE");
		}
		return false;
	}
	*eq = '\0';
	rawkey = p;
	*val = eq + 1;
	trim(&rawkey);
	trim(val);
	if (ct_sysctl_key_normalize(rawkey, key, keylen) < 0) {
		if ((f = add(l, file, line, rawkey, CT_LINT_SYNTAX))) {
			SET(f->msg, "no key before '='");
			SET(f->fix, "write it as KEY = VALUE");
		}
		return false;
	}
	return true;
}

/* Same key twice in one file with different values: the later wins. */
static void note_duplicate(struct ct_lint *l, const struct at *at, const char *val,
			   struct seen_list *seen)
{
	struct ct_lint_finding *f;
	struct seen *ns;

	for (size_t i = 0; i < seen->n; i++) {
		struct seen *s = &seen->v[i];

		if (strcmp(s->key, at->key) != 0)
			continue;
		if (strcmp(s->value, val) != 0 &&
		    (f = add(l, at->file, at->line, at->key, CT_LINT_DUPLICATE))) {
			SET(f->msg,
			    "%s is set again (line %d set it to '%.60s'): only this '%.60s' "
			    "takes effect",
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
	snprintf(ns[seen->n].key, sizeof(ns[seen->n].key), "%s", at->key);
	snprintf(ns[seen->n].value, sizeof(ns[seen->n].value), "%s", val);
	ns[seen->n].line = at->line;
	seen->n++;
}

/* The allowlist entry of a key, after the findings for a removed, legacy
 * (key becomes the modern name) or unknown one; NULL when there is none. */
static const struct ct_sysctl_key *resolve_key(struct ct_lint *l, const char *file, int line,
					       char *key, size_t keylen, const char *val,
					       bool ignore_errors)
{
	const struct ct_sysctl_legacy *leg;
	const struct ct_sysctl_removed *rem;
	const struct ct_sysctl_key *k, *near;
	struct ct_lint_finding *f;

	if ((rem = ct_sysctl_key_removed(key))) {
		if ((f = add(l, file, line, key, CT_LINT_REMOVED))) {
			SET(f->msg, "%s %s", key, rem->why);
			if (strstr(key, "tcp_tw_recycle"))
				SET(f->fix,
				    "delete the line; on hosts that open the connections use "
				    "net.ipv4.tcp_tw_reuse = 1");
			else
				SET(f->fix, "delete the line");
		}
		return NULL;
	}
	if ((leg = ct_sysctl_key_legacy(key))) {
		if ((f = add(l, file, line, key, CT_LINT_LEGACY))) {
			SET(f->msg,
			    "%s is an old name (ip_conntrack, Linux 2.6) that current kernels do "
			    "not have: sysctl fails on it%s and nothing is set",
			    key, ignore_errors ? " (silently, with the leading '-')" : "");
			SET(f->fix, "%s = %s", leg->modern, val);
		}
		snprintf(key, keylen, "%s", leg->modern);
	}
	if ((k = ct_sysctl_key_find(key)))
		return k;
	if (exists_in_proc(l, key))
		return NULL; /* real, outside what ctload knows about */
	if (!(f = add(l, file, line, key, CT_LINT_UNKNOWN)))
		return NULL;
	near = ct_sysctl_key_nearest(key);
	SET(f->msg, "unknown sysctl %s: this kernel has no /proc/sys entry for it%s%s%s", key,
	    near ? " (did you mean " : "", near ? near->name : "", near ? "?)" : "");
	if (near)
		SET(f->fix, "%s = %s", near->name, val);
	else
		SET(f->fix, "check the name against 'sysctl -a', or delete the line");
	return NULL;
}

/* ---- checks of one key ---------------------------------------------------- */

static void check_fin_timeout(struct ct_lint *l, const struct at *at, const struct ct_sysctl_key *k,
			      const char *norm)
{
	struct ct_lint_finding *f;

	if (!(f = add(l, at->file, at->line, at->key, CT_LINT_MISUNDERSTOOD)))
		return;
	SET(f->msg, "tcp_fin_timeout bounds only an orphaned FIN_WAIT_2 socket; it %s", k->note);
	SET(f->fix, "TIME_WAIT cannot be shortened: use net.ipv4.tcp_tw_reuse = 1 on the "
		    "host that connects, or let the server close first");
}

static void check_tw_buckets(struct ct_lint *l, const struct at *at, const struct ct_sysctl_key *k,
			     const char *norm)
{
	struct ct_lint_finding *f;

	if (strtoll(norm, NULL, 10) >= LOW_TW_BUCKETS ||
	    !(f = add(l, at->file, at->line, at->key, CT_LINT_MISUNDERSTOOD)))
		return;
	SET(f->msg,
	    "tcp_max_tw_buckets %s frees nothing: past it closing sockets skip "
	    "TIME_WAIT without an error (%s)",
	    norm, k->note);
	SET(f->fix, "leave the default (ehash/2); fix the rate of short connections, the "
		    "port range or tcp_tw_reuse instead");
}

static void check_hashsize(struct ct_lint *l, const struct at *at, const struct ct_sysctl_key *k,
			   const char *norm)
{
	struct ct_lint_finding *f;

	if (!(f = add(l, at->file, at->line, at->key, CT_LINT_HASHSIZE)))
		return;
	SET(f->msg, "the conntrack hash size is writable only from the init netns "
		    "(read-only in containers) and only once nf_conntrack is loaded, "
		    "which at boot is often after sysctl ran");
	SET(f->fix,
	    "options nf_conntrack hashsize=%.20s in /etc/modprobe.d/nf_conntrack.conf "
	    "(now: echo %.20s > /sys/module/nf_conntrack/parameters/hashsize)",
	    norm, norm);
}

/* What lint knows about single keys beyond their kind and range (those, and
 * the notes the messages quote, live in scenario/sysctl_keys): a check of
 * the value, and the setting the checks over several lines need. */
static const struct key_check {
	const char *key;
	void (*check)(struct ct_lint *l, const struct at *at, const struct ct_sysctl_key *k,
		      const char *norm); /* NULL: only remembered */
	enum setting_id setting;	 /* SET_NONE: not remembered */
} key_checks[] = {
    {"net.ipv4.tcp_fin_timeout", check_fin_timeout, SET_NONE},
    {"net.ipv4.tcp_max_tw_buckets", check_tw_buckets, SET_NONE},
    {"net.netfilter.nf_conntrack_buckets", check_hashsize, SET_BUCKETS},
    {"net.netfilter.nf_conntrack_max", NULL, SET_CT_MAX},
    {"net.ipv4.ip_local_port_range", NULL, SET_PORT_RANGE},
    {"net.ipv4.ip_local_reserved_ports", NULL, SET_RESERVED},
    {"net.ipv4.tcp_tw_reuse", NULL, SET_TW_REUSE},
    {"net.ipv4.tcp_timestamps", NULL, SET_TIMESTAMPS},
};

static void lint_line(struct ct_lint *l, const char *file, int line, char *p,
		      struct seen_list *seen)
{
	const struct ct_sysctl_key *k;
	struct ct_lint_finding *f;
	char key[128], norm[128], why[256], *val;
	bool ignore_errors = false;
	struct at at = {file, line, key};

	trim(&p);
	if (skip_line(l, file, line, p))
		return;
	if (*p == '-') {
		ignore_errors = true;
		p++;
	}
	if (!split_assignment(l, file, line, p, key, sizeof(key), &val))
		return;
	note_duplicate(l, &at, val, seen);
	if (!(k = resolve_key(l, file, line, key, sizeof(key), val, ignore_errors)))
		return;
	if (ct_sysctl_key_check_value(k, val, norm, sizeof(norm), why, sizeof(why)) < 0) {
		if ((f = add(l, file, line, key, CT_LINT_BAD_VALUE))) {
			SET(f->msg, "%s", why);
			SET(f->fix, "a value in %lld..%lld%s%s", k->min, k->max,
			    k->unit[0] ? " " : "", k->unit);
		}
		return;
	}
	for (size_t i = 0; i < sizeof(key_checks) / sizeof(key_checks[0]); i++) {
		const struct key_check *kc = &key_checks[i];

		if (strcmp(kc->key, k->name) != 0)
			continue;
		if (kc->check)
			kc->check(l, &at, k, norm);
		if (kc->setting != SET_NONE)
			remember(&l->set[kc->setting], file, line, norm);
		break;
	}
}

int ct_lint_text(struct ct_lint *l, const char *name, const char *text)
{
	char *copy = strdup(text), *save = NULL, *p, *line_start;
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
	(void)save;
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

static void check_ratio(struct ct_lint *l)
{
	uint64_t max, buckets;
	const struct setting *where;
	const char *bfrom;
	struct ct_lint_finding *f;
	struct ct_hostinfo hi;
	char live_note[96] = "";

	if (!l->set[SET_CT_MAX].set && !l->set[SET_BUCKETS].set && !l->set[SET_HASHSIZE_OPT].set)
		return;
	if (l->set[SET_BUCKETS].set) {
		buckets = strtoull(l->set[SET_BUCKETS].value, NULL, 10);
		bfrom = "nf_conntrack_buckets";
	} else if (l->set[SET_HASHSIZE_OPT].set) {
		buckets = strtoull(l->set[SET_HASHSIZE_OPT].value, NULL, 10);
		bfrom = "hashsize";
	} else {
		buckets = 0;
		bfrom = "";
	}
	max = l->set[SET_CT_MAX].set ? strtoull(l->set[SET_CT_MAX].value, NULL, 10) : 0;
	if (l->opts.live && (!max || !buckets) && ct_hostinfo_read(&hi, NULL) == 0 &&
	    hi.conntrack) {
		if (!max) {
			max = hi.ct_max;
			snprintf(live_note, sizeof(live_note), " (this host's nf_conntrack_max)");
		} else {
			buckets = hi.ct_buckets;
			bfrom = "this host's nf_conntrack_buckets";
		}
	}
	if (!max || !buckets || ct_model_entries_per_bucket(max, buckets) <= MAX_PER_BUCKET)
		return;
	where = l->set[SET_CT_MAX].set	  ? &l->set[SET_CT_MAX]
		: l->set[SET_BUCKETS].set ? &l->set[SET_BUCKETS]
					  : &l->set[SET_HASHSIZE_OPT];
	if (!(f = add(l, where->file, where->line,
		      where == &l->set[SET_CT_MAX]    ? "net.netfilter.nf_conntrack_max"
		      : where == &l->set[SET_BUCKETS] ? "net.netfilter.nf_conntrack_buckets"
						      : "hashsize",
		      CT_LINT_RATIO)))
		return;
	SET(f->msg,
	    "nf_conntrack_max %llu%s over %llu buckets (%s) is %.0f entries a bucket at a "
	    "full table: every lookup walks that chain (seed 004's 12262144 / 16384 gave 750)",
	    (unsigned long long)max, live_note, (unsigned long long)buckets, bfrom,
	    ct_model_entries_per_bucket(max, buckets));
	SET(f->fix, "options nf_conntrack hashsize=%llu (max/4, at most %d entries a bucket)",
	    (unsigned long long)ct_model_advise_buckets(max, 4), MAX_PER_BUCKET);
}

static void check_ports(struct ct_lint *l)
{
	unsigned lo, hi;
	char list[400] = "", ports[200] = "";
	size_t o = 0, po = 0;
	int nfound = 0;
	struct ct_lint_finding *f;

	if (!l->set[SET_PORT_RANGE].set ||
	    sscanf(l->set[SET_PORT_RANGE].value, "%u %u", &lo, &hi) != 2)
		return;
	if ((lo % 2) == (hi % 2) &&
	    (f = add(l, l->set[SET_PORT_RANGE].file, l->set[SET_PORT_RANGE].line,
		     "net.ipv4.ip_local_port_range", CT_LINT_PORT_PARITY))) {
		SET(f->msg,
		    "both ends of %u-%u are %s: connect() takes one parity first and bind() "
		    "the other, and the kernel asks for ends of different parity",
		    lo, hi, lo % 2 ? "odd" : "even");
		SET(f->fix, "net.ipv4.ip_local_port_range = %u %u", lo, hi % 2 ? hi : hi - 1);
	}
	/* Well-known ports, then the ones given or live, each once. */
	for (unsigned p = lo; p <= hi && p <= 65535; p++) {
		const char *what = NULL;
		bool hit = false;

		for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
			if (well_known[i].port == p) {
				what = well_known[i].what;
				hit = true;
			}
		if (!hit && bsearch(&(uint16_t){(uint16_t)p}, l->listen, l->nlisten,
				    sizeof(uint16_t), cmp_u16)) {
			what = "listening here now";
			hit = true;
		}
		if (!hit || (l->set[SET_RESERVED].set &&
			     ct_model_ports_in_list(l->set[SET_RESERVED].value, p, p) > 0))
			continue;
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%u (%s)",
					      nfound ? ", " : "", p, what);
		if (po < sizeof(ports))
			po += (size_t)snprintf(ports + po, sizeof(ports) - po, "%s%u",
					       nfound ? "," : "", p);
		nfound++;
	}
	if (!nfound || !(f = add(l, l->set[SET_PORT_RANGE].file, l->set[SET_PORT_RANGE].line,
				 "net.ipv4.ip_local_port_range", CT_LINT_PORT_OVERLAP)))
		return;
	SET(f->msg,
	    "the ephemeral range %u-%u covers port%s services listen on: %s; connect() can "
	    "take one before the service binds it (Address already in use)",
	    lo, hi, nfound > 1 ? "s" : "", list);
	SET(f->fix, "net.ipv4.ip_local_reserved_ports = %s (or start the range above them)", ports);
}

static void check_reuse(struct ct_lint *l)
{
	struct ct_lint_finding *f;

	if (!l->set[SET_TW_REUSE].set || strcmp(l->set[SET_TW_REUSE].value, "0") == 0 ||
	    !l->set[SET_TIMESTAMPS].set || strcmp(l->set[SET_TIMESTAMPS].value, "0") != 0)
		return;
	if (!(f = add(l, l->set[SET_TW_REUSE].file, l->set[SET_TW_REUSE].line,
		      "net.ipv4.tcp_tw_reuse", CT_LINT_REUSE_NO_TS)))
		return;
	SET(f->msg,
	    "tcp_tw_reuse reuses a TIME_WAIT 4-tuple only when TCP timestamps are on, and "
	    "%s:%d turns them off: this line does nothing",
	    l->set[SET_TIMESTAMPS].file, l->set[SET_TIMESTAMPS].line);
	SET(f->fix, "net.ipv4.tcp_timestamps = 1");
}

static int cmp_finding(const void *a, const void *b)
{
	const struct ct_lint_finding *x = a, *y = b;

	/* Files keep the order they were given in (seq), lines ascend. */
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void ct_lint_finish(struct ct_lint *l)
{
	check_ratio(l);
	check_ports(l);
	check_reuse(l);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_finding);
}
