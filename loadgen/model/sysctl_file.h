/* sysctl_file — sysctl.conf and sysctl.d files read the way sysctl(8)
 * (procps) and systemd-sysctl read them, without writing anything:
 *  - a line: blank, a # or ; comment, KEY = VALUE, -KEY = VALUE (a failed
 *    write is not an error), -KEY (keeps glob lines off KEY), or not
 *    KEY = VALUE (sysctl says "invalid syntax" and skips it);
 *  - a key: its path under /proc/sys and the dotted name sysctl prints. The
 *    first separator decides: after a '.' dots and slashes swap, so
 *    net.ipv4.conf.eth0/100.forwarding is net/ipv4/conf/eth0.100/forwarding;
 *  - the order of several files: `sysctl --system`'s (by file name across
 *    the sysctl.d directories, a name in an earlier directory hiding the same
 *    name in a later one, /etc/sysctl.conf last) or `sysctl -p FILE...`'s
 *    (as given);
 *  - what a list of assignments writes: globs expanded under /proc/sys
 *    (keys named explicitly or excluded are left to their own lines), keys
 *    this kernel lacks or cannot write left out, and for each key the last
 *    value the kernel takes.
 * Pure but for ct_sysctl_file_order (stat, to tell the same file twice) and
 * ct_sysctl_writes (glob and stat under /proc/sys). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum ct_sysctl_line_kind {
	CT_SLINE_SKIP,	  /* blank or comment */
	CT_SLINE_SET,	  /* KEY = VALUE or -KEY = VALUE */
	CT_SLINE_EXCLUDE, /* -KEY: glob lines leave KEY alone */
	CT_SLINE_SYNTAX,  /* no '=': sysctl skips it ("invalid syntax") */
	CT_SLINE_LONG,	  /* a key or value longer than ctload keeps */
};

struct ct_sysctl_line {
	enum ct_sysctl_line_kind kind;
	bool ignore_failure; /* the leading '-' of -KEY = VALUE */
	char key[128];	     /* as sysctl prints it: net.ipv4.conf.eth0/100.forwarding */
	char path[128];	     /* under /proc/sys: net/ipv4/conf/eth0.100/forwarding */
	char value[256];     /* blanks trimmed at both ends, as sysctl writes it */
};

/* One line (without its newline) as procps's sysctl -p parses it. */
void ct_sysctl_parse_line(const char *line, struct ct_sysctl_line *out);

/* A key as written in a file (after a leading '-') into the dotted name
 * sysctl prints and the path under /proc/sys, a leading or repeated '/'
 * dropped as the kernel's lookup drops it (sysctl prints net..ipv4.x for
 * what is net.ipv4.x). Returns 0 or -ENAMETOOLONG. */
int ct_sysctl_key_paths(const char *raw, char *key, size_t key_len, char *path,
			size_t path_len);

/* Does the key or path hold a glob character (* ? [)? */
bool ct_sysctl_is_glob(const char *s);

enum ct_sysctl_order {
	CT_SYSCTL_ORDER_SYSTEM, /* sysctl --system, systemd-sysctl at boot */
	CT_SYSCTL_ORDER_GIVEN,	/* sysctl -p FILE... */
};

enum ct_sysctl_file_skip {
	CT_SFILE_READ,	   /* read, in this place */
	CT_SFILE_SHADOWED, /* a file of the same name in an earlier sysctl.d directory hides it */
	CT_SFILE_NOT_CONF, /* in a sysctl.d directory without the .conf suffix */
	CT_SFILE_AGAIN,	   /* the same file given twice (or through /lib and /usr/lib) */
};

struct ct_sysctl_file {
	size_t arg; /* index into the paths given */
	enum ct_sysctl_file_skip skip;
	size_t by; /* CT_SFILE_SHADOWED: the index of the file that hides it */
};

/* Order `paths` as `order` reads them into out[n]: first the files read, in
 * reading order, then the ones skipped, by path. With SYSTEM the
 * order is by file name (strcmp, as sysctl and systemd sort), a file named
 * sysctl.conf outside a sysctl.d directory last; of files of one name in
 * sysctl.d directories the first of /etc, /run, /usr/local/lib, /usr/lib,
 * /lib (then any other, as given) is read. Returns 0 or -ENOMEM. */
int ct_sysctl_file_order(const char *const *paths, size_t n, enum ct_sysctl_order order,
			 struct ct_sysctl_file *out);

/* One assignment of a file, in the order sysctl meets them. */
struct ct_sysctl_assign {
	char key[128];	 /* sysctl's dotted name */
	char path[128];	 /* under /proc/sys */
	char value[256]; /* as written */
	char file[256];
	int line;
	bool exclude; /* -KEY: glob lines leave it alone; writes nothing */
	bool refused; /* the kernel refuses the value: the write fails */
};

/* For a key a glob line reaches: does the kernel refuse `value`? */
typedef bool (*ct_sysctl_refuses_fn)(void *ctx, const char *key, const char *value);

/* The writes v[0..n-1] make, one a key: the last value the kernel takes,
 * in the order of those last writes. Glob lines expand under
 * proc_root/sys ("/proc" when NULL) except to keys another line names or
 * excludes; keys that are missing, directories or read-only there are left
 * out, as sysctl fails on them. *out is malloc'ed (free it). Returns 0 or
 * -ENOMEM. */
int ct_sysctl_writes(const struct ct_sysctl_assign *v, size_t n, const char *proc_root,
		     ct_sysctl_refuses_fn refuses, void *ctx, struct ct_sysctl_assign **out,
		     size_t *nout);
