/* parse — the scenario file, read line by line through inih: sections,
 * key = value lines (each set through set.c with its FILE:LINE), the
 * [sweep] lines kept as written for sweep.c, and the errors about the file
 * itself (unknown section, a key twice, a line too long, a missing
 * section). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen/scenario/scenario_int.h"

/* The reader's state: inih calls back with it. */
struct ctx {
	struct ct_scenario *sc;
	struct ct_scn_file *file;
	struct ct_err *err;
	FILE *f;
	char cur_section[64]; /* as the reader saw it */
	bool failed;
	int err_line; /* the line of the first error */
};

int ct_scn_file_line(const struct ct_scn_file *file, const char *section, const char *key)
{
	char sk[160];

	ct_scn_fmt(sk, sizeof(sk), "%s.%s", section, key);
	for (size_t i = 0; i < file->n_seen; i++)
		if (strcmp(file->seen[i].sk, sk) == 0)
			return file->seen[i].line;
	return 0;
}

void ct_scn_file_release(struct ct_scn_file *file)
{
	for (size_t i = 0; i < file->n_sweep; i++)
		free(file->sweep[i].values);
	free(file->sweep);
	file->sweep = NULL;
	file->n_sweep = 0;
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
	struct ct_scn_where w = {c->file->path, c->file->lineno};
	char buf[32];
	const char *near;

	if (strcmp(s, "scenario") == 0 && !c->file->line_scenario)
		c->file->line_scenario = w.line;
	if (strcmp(s, "search") == 0)
		c->sc->search.enabled = true; /* defaults are a complete search */
	if (strcmp(s, "load") == 0 && !c->file->line_load)
		c->file->line_load = w.line;
	if (ct_scn_is_section(s) || c->failed)
		return;
	near = ct_scn_nearest_section(s, buf, sizeof(buf));
	if (near)
		ct_scn_fail(c->err, &w, NULL, NULL, "unknown section [%s]; did you mean [%s]?", s,
			    near);
	else
		ct_scn_fail(c->err, &w, NULL, NULL,
			    "unknown section [%s]; see scenarios/README.md for the sections", s);
	ctx_fail_at(c, w.line);
}

/* "[ name ]" at p: the section from now on. */
static void read_section(struct ctx *c, const char *p)
{
	const char *rb = strchr(p, ']'), *s = p + 1;
	size_t l;

	if (!rb)
		return;
	while (isspace((unsigned char)*s))
		s++;
	l = (size_t)(rb - s);
	while (l && isspace((unsigned char)s[l - 1]))
		l--;
	ct_scn_fmt(c->cur_section, sizeof(c->cur_section), "%.*s", (int)l, s);
	note_section(c);
}

/* In [expect], a line that is not "check = ..." (nor blank, nor a comment)
 * is a condition as written. */
static bool is_bare_condition(const struct ctx *c, const char *p)
{
	size_t b;

	if (strcmp(c->cur_section, "expect") != 0 || !*p || strchr("\n\r;#", *p))
		return false;
	if (strncmp(p, "check", 5) != 0)
		return true;
	b = 5 + strspn(p + 5, " \t");
	return p[b] != '=' && p[b] != ':';
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

	if (getline(&line, &cap, c->f) < 0) {
		free(line);
		return NULL;
	}
	c->file->lineno++;
	p = line;
	if (c->file->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[') {
		read_section(c, p);
	} else if (is_bare_condition(c, p)) {
		if ((int)(strlen(p) + 8) < num - 2) {
			ct_scn_fmt(str, (size_t)num, "check = %s", p);
			free(line);
			return str;
		}
		too_long = true; /* with "check = " it would not fit */
	}
	if (too_long || (int)strlen(p) + 1 >= num - 2) {
		if (!c->failed) {
			ct_scn_fail(c->err, &(struct ct_scn_where){c->file->path, c->file->lineno},
				    NULL, NULL, "line longer than %d characters; shorten it",
				    num - 3);
			ctx_fail_at(c, c->file->lineno);
		}
		ct_scn_fmt(str, (size_t)num, "\n");
	} else {
		ct_scn_fmt(str, (size_t)num, "%s", p);
	}
	free(line);
	return str;
}

/* A [sweep] line: kept as written until the whole file is read. */
static int keep_axis(struct ctx *c, const struct ct_scn_where *w, const char *name,
		     const char *value)
{
	struct ct_scn_file *file = c->file;
	struct ct_scn_raw_axis *nv = realloc(file->sweep, (file->n_sweep + 1) * sizeof(*nv));

	if (nv)
		file->sweep = nv;
	if (!nv || !(nv[file->n_sweep].values = strdup(value))) {
		ct_scn_fail(c->err, w, "sweep", name, "out of memory");
		ctx_fail_at(c, w->line);
		return 0;
	}
	ct_scn_fmt(nv[file->n_sweep].key, sizeof(nv[file->n_sweep].key), "%s", name);
	nv[file->n_sweep].line = w->line;
	file->n_sweep++;
	return 1;
}

/* Each key once per file (lists and sysctl sections aside). */
static int once(struct ctx *c, const struct ct_scn_where *w, const char *section, const char *name)
{
	struct ct_scn_file *file = c->file;
	int prev = ct_scn_file_line(file, section, name);

	if (prev)
		return ct_scn_fail(c->err, w, section, name, "set twice (first at line %d)", prev);
	if (file->n_seen < CT_SCN_MAX_SEEN) {
		ct_scn_fmt(file->seen[file->n_seen].sk, sizeof(file->seen[file->n_seen].sk),
			   "%s.%s", section, name);
		file->seen[file->n_seen].line = w->line;
		file->n_seen++;
	}
	return 0;
}

static int on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *c = user;
	struct ct_scn_where w = {c->file->path, c->file->lineno};

	if (c->failed)
		return 1;
	if (!*section) {
		ct_scn_fail(c->err, &w, NULL, name,
			    "key outside any section; put it under [scenario], [load] ...");
		ctx_fail_at(c, w.line);
		return 0;
	}
	if (strcmp(section, "sweep") == 0)
		return keep_axis(c, &w, name, value);
	if ((strcmp(section, "expect") != 0 && strncmp(section, "sysctl.", 7) != 0 &&
	     once(c, &w, section, name) < 0) ||
	    ct_scn_set_section_key(c->sc, &w, c->err, section, name, value, true) < 0) {
		ctx_fail_at(c, w.line);
		return 0;
	}
	return 1;
}

static int open_scenario(const char *path, FILE **out, struct ct_err *err)
{
	struct stat st;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto bad;
	e = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (e) {
		close(fd);
		errno = e;
		goto bad;
	}
	*out = fdopen(fd, "r");
	if (!*out) {
		e = errno;
		close(fd);
		errno = e;
		goto bad;
	}
	return 0;
bad:
	e = errno;
	ct_err_set(err, CT_EXIT_USAGE,
		   "%s: cannot read scenario: %s; check the path and its permissions", path,
		   strerror(e));
	return -e;
}

/* What inih's answer and the reader's state say about the whole file. */
static int parse_result(struct ctx *c, int rc)
{
	const struct ct_scn_file *file = c->file;
	struct ct_scn_where w = {file->path, file->lineno};

	if (rc > 0 && (!c->failed || rc < c->err_line))
		return ct_scn_fail(c->err, &(struct ct_scn_where){file->path, rc}, NULL, NULL,
				   "this line is neither [section] nor 'key = value'");
	if (rc < 0) {
		ct_err_set(c->err, CT_EXIT_USAGE, "%s: cannot parse scenario (inih error %d)",
			   file->path, rc);
		return -EINVAL;
	}
	if (c->failed)
		return -EINVAL;
	if (!file->line_scenario)
		return ct_scn_fail(
		    c->err, &w, NULL, NULL,
		    "missing section [scenario] (required: name = ...); found end of "
		    "file");
	if (!file->line_load)
		return ct_scn_fail(
		    c->err, &w, NULL, NULL,
		    "missing section [load] (required: what load to generate, e.g. rate "
		    "= 500/s); found end of file");
	return 0;
}

int ct_scn_read_file(struct ct_scenario *sc, const char *path, struct ct_scn_file *file,
		     struct ct_err *err)
{
	struct ctx c = {.sc = sc, .file = file, .err = err};
	int rc;

	memset(file, 0, sizeof(*file));
	file->path = path;
	if ((rc = open_scenario(path, &c.f, err)) < 0)
		return rc;
	rc = ini_parse_stream(on_read_line, &c, on_ini_pair, &c);
	if (ferror(c.f)) {
		ct_err_set(err, CT_EXIT_USAGE, "%s:%d: cannot read scenario: %s", path,
			   file->lineno + 1, strerror(errno));
		rc = -EINVAL;
	} else {
		rc = parse_result(&c, rc);
	}
	fclose(c.f);
	return rc;
}
