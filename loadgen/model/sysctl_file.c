#include "loadgen/model/sysctl_file.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a line --------------------------------------------------------------- */

/* procps's slashdot(): from the first separator on, when it is `from`,
 * every `from` becomes `to` and every `to` becomes `from`. */
static void swap_separators(char *s, char from, char to)
{
	char *p = strpbrk(s, "/.");

	if (!p || *p != from)
		return;
	for (; p; p = strpbrk(p + 1, "/."))
		*p = *p == from ? to : from;
}

/* The kernel's lookup ignores a leading and repeated '/': net//ipv4/x and
 * /net/ipv4/x are net/ipv4/x, one key whatever the spelling. */
static void squeeze_slashes(char *p)
{
	char *o = p;

	for (const char *i = p; *i; i++)
		if (*i != '/' || (o > p && o[-1] != '/'))
			*o++ = *i;
	*o = '\0';
}

int ct_sysctl_key_paths(const char *raw, char *key, size_t key_len, char *path, size_t path_len)
{
	if (strlen(raw) >= key_len || strlen(raw) >= path_len)
		return -ENAMETOOLONG;
	/* The path first (a leading '.' swaps), then the name sysctl prints
	 * from the path (a leading '/' swaps back). */
	snprintf(path, path_len, "%s", raw);
	swap_separators(path, '.', '/');
	squeeze_slashes(path);
	snprintf(key, key_len, "%s", path);
	swap_separators(key, '/', '.');
	return 0;
}

bool ct_sysctl_is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static size_t rtrim_len(const char *s, size_t n)
{
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

void ct_sysctl_parse_line(const char *line, struct ct_sysctl_line *out)
{
	const char *k = line, *eq, *v;
	size_t klen, vlen;
	char raw[256];

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*k))
		k++;
	if (!*k || *k == '#' || *k == ';')
		return; /* CT_SLINE_SKIP */
	eq = strchr(k, '=');
	if (!eq && *k != '-') {
		out->kind = CT_SLINE_SYNTAX;
		return;
	}
	if (*k == '-') {
		/* '-KEY = VALUE' ignores a failed write; '-KEY' excludes KEY from
		 * globs. No blank is skipped after the '-', as in procps. */
		out->ignore_failure = eq != NULL;
		k++;
	}
	klen = rtrim_len(k, eq ? (size_t)(eq - k) : strlen(k));
	if (klen == 0) {
		out->kind = CT_SLINE_SYNTAX;
		return;
	}
	out->kind = eq ? CT_SLINE_SET : CT_SLINE_EXCLUDE;
	if (klen >= sizeof(raw)) {
		out->kind = CT_SLINE_LONG;
		return;
	}
	memcpy(raw, k, klen);
	raw[klen] = '\0';
	if (ct_sysctl_key_paths(raw, out->key, sizeof(out->key), out->path, sizeof(out->path)) < 0) {
		out->kind = CT_SLINE_LONG;
		return;
	}
	if (!eq)
		return;
	v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	vlen = rtrim_len(v, strlen(v));
	if (vlen >= sizeof(out->value)) {
		out->kind = CT_SLINE_LONG;
		return;
	}
	memcpy(out->value, v, vlen);
	out->value[vlen] = '\0';
}

/* ---- the order of files --------------------------------------------------- */

/* sysctl --system's directories, first to last; a file name met in one
 * hides the same name in the ones after it. */
static const char *const sysctl_dirs[] = {
    "/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
};
#define NDIRS (sizeof(sysctl_dirs) / sizeof(sysctl_dirs[0]))

struct finfo {
	const char *path, *base;
	size_t arg;
	unsigned rank; /* index in sysctl_dirs, NDIRS for any other directory */
	bool in_sysctl_d, last;
	struct stat st;
	bool have_st;
	enum ct_sysctl_file_skip skip;
	size_t by;
};

static void file_info(struct finfo *f, const char *path, size_t arg)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	const char *dbase;
	size_t blen;

	memset(f, 0, sizeof(*f));
	f->path = path;
	f->arg = f->by = arg;
	f->base = slash ? slash + 1 : path;
	while (dlen > 1 && path[dlen - 1] == '/')
		dlen--;
	dbase = path;
	for (size_t i = 0; i < dlen; i++)
		if (path[i] == '/' && i + 1 < dlen)
			dbase = path + i + 1;
	blen = (size_t)(path + dlen - dbase);
	f->in_sysctl_d = slash && blen == 8 && strncmp(dbase, "sysctl.d", 8) == 0;
	f->rank = NDIRS;
	for (unsigned i = 0; slash && i < NDIRS; i++)
		if (strlen(sysctl_dirs[i]) == dlen && strncmp(path, sysctl_dirs[i], dlen) == 0)
			f->rank = i;
	/* procps reads /etc/sysctl.conf after every sysctl.d file. */
	f->last = !f->in_sysctl_d && strcmp(f->base, "sysctl.conf") == 0;
	f->have_st = stat(path, &f->st) == 0;
}

static bool same_file(const struct finfo *a, const struct finfo *b)
{
	if (strcmp(a->path, b->path) == 0)
		return true;
	return a->have_st && b->have_st && a->st.st_dev == b->st.st_dev &&
	       a->st.st_ino == b->st.st_ino && strcmp(a->base, b->base) == 0;
}

/* Sorting keeps arg, so ties keep the order given. */
static int cmp_path(const void *x, const void *y)
{
	const struct finfo *a = x, *b = y;
	int c = strcmp(a->path, b->path);

	return c ? c : (a->arg < b->arg ? -1 : a->arg > b->arg);
}

static int cmp_read_order(const void *x, const void *y)
{
	const struct finfo *a = x, *b = y;
	int c;

	if (a->last != b->last)
		return a->last ? 1 : -1;
	if ((c = strcmp(a->base, b->base)) != 0)
		return c;
	return a->arg < b->arg ? -1 : a->arg > b->arg;
}

/* Which files --system skips: no .conf in sysctl.d, the same file again,
 * or a name an earlier directory (or an earlier argument) also has. */
static void mark_skipped(struct finfo *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t bl = strlen(f[i].base);

		if (f[i].in_sysctl_d && (bl < 5 || strcmp(f[i].base + bl - 5, ".conf") != 0))
			f[i].skip = CT_SFILE_NOT_CONF;
		for (size_t j = 0; j < i && f[i].skip == CT_SFILE_READ; j++)
			if (f[j].skip == CT_SFILE_READ && same_file(&f[i], &f[j]))
				f[i].skip = CT_SFILE_AGAIN;
	}
	for (size_t i = 0; i < n; i++) {
		size_t best = i;

		if (f[i].skip != CT_SFILE_READ || !f[i].in_sysctl_d)
			continue;
		for (size_t j = 0; j < n; j++)
			if (f[j].skip != CT_SFILE_NOT_CONF && f[j].skip != CT_SFILE_AGAIN &&
			    f[j].in_sysctl_d && strcmp(f[j].base, f[i].base) == 0 &&
			    (f[j].rank < f[best].rank || (f[j].rank == f[best].rank && j < best)))
				best = j;
		if (best != i) {
			f[i].skip = CT_SFILE_SHADOWED;
			f[i].by = best;
		}
	}
}

int ct_sysctl_file_order(const char *const *paths, size_t n, enum ct_sysctl_order order,
			 struct ct_sysctl_file *out)
{
	struct finfo *f = calloc(n ? n : 1, sizeof(*f));
	size_t o = 0, nread = 0, k = 0;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		file_info(&f[i], paths[i], i);
	if (order == CT_SYSCTL_ORDER_SYSTEM) {
		mark_skipped(f, n); /* `by` is an index into paths */
		/* By path, so no order of the arguments shows through. */
		qsort(f, n, sizeof(*f), cmp_path);
	}
	/* The files read, then the ones skipped. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if ((f[i].skip == CT_SFILE_READ) == (pass == 0)) {
				out[o++] = (struct ct_sysctl_file){f[i].arg, f[i].skip, f[i].by};
				nread += pass == 0;
			}
	if (order == CT_SYSCTL_ORDER_SYSTEM && nread > 1) {
		for (size_t i = 0; i < n; i++)
			if (f[i].skip == CT_SFILE_READ)
				f[k++] = f[i];
		qsort(f, nread, sizeof(*f), cmp_read_order);
		for (size_t i = 0; i < nread; i++)
			out[i].arg = f[i].arg;
	}
	free(f);
	return 0;
}

/* ---- the writes ----------------------------------------------------------- */

/* The writes in the order sysctl makes them. */
struct wlist {
	struct ct_sysctl_assign *v;
	size_t n, cap;
};

static int wl_push(struct wlist *w, const struct ct_sysctl_assign *a)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		struct ct_sysctl_assign *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = *a;
	return 0;
}

/* sysctl writes only a regular file it may write, under /proc/sys. */
static bool writable(const char *root, const char *path)
{
	char full[PATH_MAX], sysdir[PATH_MAX], real[PATH_MAX], realsys[PATH_MAX];
	struct stat st;

	snprintf(sysdir, sizeof(sysdir), "%s/sys", root);
	if (snprintf(full, sizeof(full), "%s/%s", sysdir, path) >= (int)sizeof(full))
		return false;
	if (stat(full, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IWUSR))
		return false;
	if (!realpath(full, real) || !realpath(sysdir, realsys))
		return false;
	return strncmp(real, realsys, strlen(realsys)) == 0 && real[strlen(realsys)] == '/';
}

/* Does another line name `path` (set or exclude it) so a glob leaves it? */
static bool named_elsewhere(const struct ct_sysctl_assign *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		if (!ct_sysctl_is_glob(v[i].path) && strcmp(v[i].path, path) == 0)
			return true;
		if (v[i].exclude && ct_sysctl_is_glob(v[i].path) &&
		    fnmatch(v[i].path, path, 0) == 0)
			return true;
	}
	return false;
}

static int expand_glob(struct wlist *w, const struct ct_sysctl_assign *v, size_t n, size_t i,
		       const char *root, ct_sysctl_refuses_fn refuses, void *ctx)
{
	char pattern[PATH_MAX];
	size_t skip = strlen(root) + 5; /* root + "/sys/" */
	glob_t g;
	int rc = 0;

	if (snprintf(pattern, sizeof(pattern), "%s/sys/%s", root, v[i].path) >= (int)sizeof(pattern))
		return 0;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0; /* matches nothing: sysctl goes on */
	for (size_t m = 0; m < g.gl_pathc && rc == 0; m++) {
		struct ct_sysctl_assign a = v[i];
		const char *rel = g.gl_pathv[m] + skip;

		/* A path under /proc/sys starts with a directory, so its key is the
		 * path with dots and slashes swapped. */
		if (strlen(g.gl_pathv[m]) <= skip || named_elsewhere(v, n, rel) ||
		    ct_sysctl_key_paths(rel, a.key, sizeof(a.key), a.path, sizeof(a.path)) < 0 ||
		    !writable(root, a.path))
			continue;
		if (refuses && refuses(ctx, a.key, a.value))
			continue;
		rc = wl_push(w, &a);
	}
	globfree(&g);
	return rc;
}

/* A write's path and place, to keep the last write of each path. */
struct wpos {
	const char *path;
	size_t i;
};

static int cmp_path_then_place(const void *x, const void *y)
{
	const struct wpos *a = x, *b = y;
	int c = strcmp(a->path, b->path);

	return c ? c : (a->i < b->i ? -1 : a->i > b->i);
}

static int cmp_place(const void *x, const void *y)
{
	const struct wpos *a = x, *b = y;

	return a->i < b->i ? -1 : a->i > b->i;
}

/* The last write of each path, in write order, into *out. */
static int last_writes(const struct wlist *w, struct ct_sysctl_assign **out, size_t *nout)
{
	struct wpos *p = malloc((w->n ? w->n : 1) * sizeof(*p));
	size_t k = 0;

	if (!p || !(*out = malloc((w->n ? w->n : 1) * sizeof(**out)))) {
		free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < w->n; i++)
		p[i] = (struct wpos){w->v[i].path, i};
	qsort(p, w->n, sizeof(*p), cmp_path_then_place);
	for (size_t i = 0; i < w->n; i++)
		if (i + 1 == w->n || strcmp(p[i].path, p[i + 1].path) != 0)
			p[k++] = p[i];
	qsort(p, k, sizeof(*p), cmp_place);
	for (size_t i = 0; i < k; i++)
		(*out)[i] = w->v[p[i].i];
	*nout = k;
	free(p);
	return 0;
}

int ct_sysctl_writes(const struct ct_sysctl_assign *v, size_t n, const char *proc_root,
		     ct_sysctl_refuses_fn refuses, void *ctx, struct ct_sysctl_assign **out,
		     size_t *nout)
{
	const char *root = proc_root ? proc_root : "/proc";
	struct wlist w = {NULL, 0, 0};
	int rc = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (v[i].exclude)
			continue;
		if (ct_sysctl_is_glob(v[i].path))
			rc = expand_glob(&w, v, n, i, root, refuses, ctx);
		else if (!v[i].refused && writable(root, v[i].path))
			rc = wl_push(&w, &v[i]);
	}
	if (rc == 0)
		rc = last_writes(&w, out, nout);
	free(w.v);
	return rc;
}
