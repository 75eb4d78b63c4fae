/* scenario_int — what the files of loadgen/scenario/ share inside the folder.
 *
 * The key table (keys.def, compiled by keys.c) drives everything a key needs:
 * parsing (set.c, special.c), defaults, dup/free/equal (keys.c), writing
 * (write.c) and the README reference (reference.c). Reading the file is
 * parse.c, the sweep sweep.c, the checks across keys validate.c; scenario.c
 * is the entry (load, dup, free, equal). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen/base/err.h"
#include "loadgen/scenario/scenario.h"

#define CT_SCN_NS_PER_S	       1000000000ULL
#define CT_SCN_MAX_DURATION_NS (24ULL * 3600ULL * CT_SCN_NS_PER_S)
#define CT_SCN_MAX_RATE	       10e6
#define CT_SCN_MAX_STR	       1024 /* longest value */
#define CT_SCN_WHY	       384  /* room for the reason in a message */

/* How a key's value is stored, parsed (unless the key names its own
 * setter), copied, compared and written. */
enum ct_scn_kind {
	K_TEXT,	 /* char *, written as is; NULL = not set */
	K_QTEXT, /* char *, escapes checked, written in quotes; NULL = not set */
	K_COND,	 /* struct ct_cond, a condition, written in quotes */
	K_DUR,	 /* uint64_t ns, within [min, max] */
	K_RATE,	 /* double per second, > 0, at most max */
	K_NUM,	 /* double, written with all its digits */
	K_COUNT, /* unsigned, int or uint64_t (by its size), within [min, max] */
	K_BOOL,	 /* bool, written yes/no */
	K_ENUM,	 /* an enum, one of `names` */
	K_PORTS, /* uint16_t LO and right after it HI */
	K_LIST,	 /* kept by its setter, written by its section ([expect] check) */
};

/* Key flags. */
#define F_OMIT0	 1u  /* written only when not 0 (K_DUR, K_RATE, K_PORTS, unsigned K_COUNT) */
#define F_PAIR	 2u  /* K_PORTS: written LO-HI even when LO == HI */
#define F_DEFOUT 4u  /* K_TEXT: written as its default while unset */
#define F_RANGE	 8u  /* K_TEXT HOST:PORT: the port may be a range */
#define F_PORT0	 16u /* K_TEXT HOST:PORT: port 0 (a free port, the kernel picks) */

/* Where a value came from: a file line, or a --set / sweep description. */
struct ct_scn_where {
	const char *file; /* path, or "--set load.rate=0" */
	int line;	  /* 0: no line */
};

struct ct_scn_key;

/* A key's own setter: store the unquoted value v. Returns 0, -ENOMEM, or
 * -EINVAL with the reason in why. */
typedef int (*ct_scn_set_fn)(struct ct_scenario *sc, const struct ct_scn_key *k,
			     const struct ct_scn_where *w, const char *v, char *why, size_t len);

/* One row of keys.def. */
struct ct_scn_key {
	const char *section, *key;
	enum ct_scn_kind kind;
	size_t off, size;	  /* the member in struct ct_scenario */
	bool is_signed;		  /* K_COUNT: an int */
	const char *const *names; /* K_ENUM: the names, NULL-terminated */
	double min, max;	  /* K_DUR in ns, K_RATE per s, K_COUNT */
	unsigned flags;		  /* F_* */
	ct_scn_set_fn set;	  /* its own setter, or NULL: by kind */
	const char *def;	  /* the default as a file writes it, or NULL */
	const char *type;	  /* README: the type, NULL = from kind and range */
	const char *def_doc;	  /* README: the default, NULL = `def` or "none" */
	const char *doc;	  /* README: what it means */
};

#define CT_SCN_MAX_KEYS 64 /* room for the table's rows (checked in keys.c) */
extern const struct ct_scn_key ct_scn_keys[];
extern const size_t ct_scn_nkeys;

/* The sections, in the order a scenario is written. */
enum ct_scn_sec_kind { SEC_KEYS, SEC_SYSCTL, SEC_SWEEP, SEC_EXPECT };
struct ct_scn_section {
	const char *name;
	enum ct_scn_sec_kind kind;
	enum ct_sysctl_scope scope; /* SEC_SYSCTL */
};
extern const struct ct_scn_section ct_scn_sections[];
extern const size_t ct_scn_nsections;

/* ---- keys.c: lookups, names, defaults, copies */
const struct ct_scn_key *ct_scn_key_find(const char *section, const char *key);
/* Nearest of `cands` to `s` (edit distance <= 3, or a prefix), or NULL. */
const char *ct_scn_nearest(const char *s, const char *const *cands, size_t n);
/* The nearest section name, copied into buf; NULL if none is close. */
const char *ct_scn_nearest_section(const char *s, char *buf, size_t len);
const char *ct_scn_nearest_key(const char *section, const char *key);
/* A section whose keys are in the table, or [expect]. */
bool ct_scn_is_plain_section(const char *section);
bool ct_scn_is_section(const char *section);
/* "[sysctl.NAME]" -> its scope; -EINVAL for another section. */
int ct_scn_sysctl_scope_of(const char *section, enum ct_sysctl_scope *out);
const char *ct_scn_name_of(const char *const *names, unsigned v);
/* The table's defaults; then, after the file, those that depend on other keys. */
int ct_scn_defaults(struct ct_scenario *sc, struct ct_err *err);
int ct_scn_defaults_late(struct ct_scenario *sc);
/* The members of the table that own memory. */
int ct_scn_keys_dup(struct ct_scenario *d, const struct ct_scenario *sc);
void ct_scn_keys_free(struct ct_scenario *sc);
bool ct_scn_keys_equal(const struct ct_scenario *a, const struct ct_scenario *b);
/* A K_COUNT member, whatever its width. */
uint64_t ct_scn_count_get(const struct ct_scenario *sc, const struct ct_scn_key *k);
void ct_scn_count_put(struct ct_scenario *sc, const struct ct_scn_key *k, uint64_t n);
/* Where the key's member lives in sc. */
void *ct_scn_member(struct ct_scenario *sc, const struct ct_scn_key *k);
const void *ct_scn_cmember(const struct ct_scenario *sc, const struct ct_scn_key *k);

/* ---- set.c: one key = value */
int ct_scn_fail(struct ct_err *err, const struct ct_scn_where *w, const char *section,
		const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Store an unquoted value through the key's setter or its kind. */
int ct_scn_store(struct ct_scenario *sc, const struct ct_scn_key *k, const struct ct_scn_where *w,
		 const char *v, char *why, size_t len);
/* Set [section] key = value; from_file makes a second sysctl line an error. */
int ct_scn_set_section_key(struct ct_scenario *sc, const struct ct_scn_where *w, struct ct_err *err,
			   const char *section, const char *key, const char *value, bool from_file);
/* "load.rate", "rate", "sysctl.client.NAME", "NAME" -> section and key. */
int ct_scn_split_dotted(const char *dotted, char *section, size_t slen, char *key, size_t klen,
			char *why, size_t wlen);

/* ---- special.c: the keys with their own setter, and value checks */
int ct_scn_set_name(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_addresses(struct ct_scenario *sc, const struct ct_scn_key *k,
			 const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_hostport(struct ct_scenario *sc, const struct ct_scn_key *k,
			const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_ports(struct ct_scenario *sc, const struct ct_scn_key *k,
		     const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_find(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len);
/* A size (`16KiB`, `1MB`, `512`) within the key's min..max, in bytes. */
int ct_scn_set_size(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_precision(struct ct_scenario *sc, const struct ct_scn_key *k,
			 const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_cond(struct ct_scenario *sc, const struct ct_scn_key *k,
		    const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_check(struct ct_scenario *sc, const struct ct_scn_key *k,
		     const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_eal(struct ct_scenario *sc, const struct ct_scn_key *k,
		   const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_set_dpdk_port(struct ct_scenario *sc, const struct ct_scn_key *k,
			 const struct ct_scn_where *w, const char *v, char *why, size_t len);
int ct_scn_check_escapes(const char *s, char *why, size_t len);
int ct_scn_check_template(const char *s, char *why, size_t len);
/* Replace *dst by a copy of v (NULL: unset). 0 or -ENOMEM. */
int ct_scn_set_str(char **dst, const char *v);
/* v without surrounding blanks and one pair of surrounding quotes. */
void ct_scn_unquote(const char *v, char *out, size_t len);
/* snprintf for messages, where cutting a long one short is fine. */
void ct_scn_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- parse.c: the file */
struct ct_scn_raw_axis {
	char key[128];
	char *values;
	int line;
};

#define CT_SCN_MAX_SEEN 256

/* What reading the file found besides the values. */
struct ct_scn_file {
	const char *path;
	int lineno;		      /* the last line read */
	int line_scenario, line_load; /* 0: section missing */
	struct {
		char sk[160]; /* "section.key" */
		int line;
	} seen[CT_SCN_MAX_SEEN];
	size_t n_seen;
	struct ct_scn_raw_axis *sweep; /* [sweep] lines as written */
	size_t n_sweep;
};

/* Read path into sc. Returns 0, -EINVAL (err filled), or -errno when the
 * file cannot be opened. Release file afterwards in every case. */
int ct_scn_read_file(struct ct_scenario *sc, const char *path, struct ct_scn_file *file,
		     struct ct_err *err);
/* The line [section] key was set on, or 0. */
int ct_scn_file_line(const struct ct_scn_file *file, const char *section, const char *key);
void ct_scn_file_release(struct ct_scn_file *file);

/* ---- sweep.c */
/* Expand and check every [sweep] line against the scenario read so far. */
int ct_scn_sweep_build(struct ct_scenario *sc, const char *path, const struct ct_scn_raw_axis *raw,
		       size_t n, struct ct_err *err);
int ct_scn_axis_push(struct ct_sweep_axis *ax, const char *v);
void ct_scn_axis_free(struct ct_sweep_axis *ax);

/* ---- validate.c */
/* The line of the key each cross-key message points at. */
enum ct_scn_at {
	AT_TOPO,
	AT_TARGET,
	AT_RATE,
	AT_PROFILE,
	AT_PORTS,
	AT_CTON,
	AT_LOAD,
	AT_SCEN,
	AT_EXPECT,
	AT_SRVENG,
	AT_PRELOAD,
	AT_PRELOAD_TIMEOUT,
	AT_N
};
/* Checks that involve more than one key; key_lines (AT_N entries, or NULL)
 * give each message its line, else w0's. */
int ct_scn_check_whole(const struct ct_scenario *sc, const struct ct_scn_where *w0,
		       const int *key_lines, struct ct_err *err);
