/* sysctl_file: lines, keys, the order of files and the writes, each as
 * procps's sysctl and sysctl.d(5) describe them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen/model/sysctl_file.h"

static void parse_is(const char *line, enum ct_sysctl_line_kind kind, bool dash, const char *key,
		     const char *path, const char *value)
{
	struct ct_sysctl_line sl;

	ct_sysctl_parse_line(line, &sl);
	cr_expect_eq(sl.kind, kind, "'%s': kind %d, want %d", line, sl.kind, kind);
	cr_expect_eq(sl.ignore_failure, dash, "'%s': ignore_failure", line);
	if (kind != CT_SLINE_SET && kind != CT_SLINE_EXCLUDE)
		return;
	cr_expect_str_eq(sl.key, key, "'%s'", line);
	cr_expect_str_eq(sl.path, path, "'%s'", line);
	cr_expect_str_eq(sl.value, value, "'%s'", line);
}

Test(sysctl_file, lines_as_sysctl_p_reads_them)
{
	parse_is("", CT_SLINE_SKIP, false, "", "", "");
	parse_is("   # comment", CT_SLINE_SKIP, false, "", "", "");
	parse_is("; comment", CT_SLINE_SKIP, false, "", "", "");
	parse_is("net.ipv4.tcp_tw_reuse = 1  ", CT_SLINE_SET, false, "net.ipv4.tcp_tw_reuse",
		 "net/ipv4/tcp_tw_reuse", "1");
	parse_is("  net.ipv4.ip_local_port_range=1024    65535", CT_SLINE_SET, false,
		 "net.ipv4.ip_local_port_range", "net/ipv4/ip_local_port_range", "1024    65535");
	parse_is("kernel.domainname = a=b", CT_SLINE_SET, false, "kernel.domainname",
		 "kernel/domainname", "a=b");
	/* sysctl.d(5): '-' before an assignment ignores a failed write ... */
	parse_is("-net.ipv4.tcp_tw_reuse=1", CT_SLINE_SET, true, "net.ipv4.tcp_tw_reuse",
		 "net/ipv4/tcp_tw_reuse", "1");
	/* ... and alone keeps glob lines off a key */
	parse_is("-net.ipv4.conf.lo.rp_filter  ", CT_SLINE_EXCLUDE, false,
		 "net.ipv4.conf.lo.rp_filter", "net/ipv4/conf/lo/rp_filter", "");
	/* procps skips no blank after the '-' */
	parse_is("- net.ipv4.tcp_tw_reuse = 1", CT_SLINE_SET, true, " net.ipv4.tcp_tw_reuse",
		 " net/ipv4/tcp_tw_reuse", "1");
	parse_is("bogus line", CT_SLINE_SYNTAX, false, "", "", "");
	parse_is(" = 3", CT_SLINE_SYNTAX, false, "", "", "");
	parse_is("-", CT_SLINE_SYNTAX, false, "", "", "");
}

static void key_is(const char *raw, const char *key, const char *path)
{
	char k[128], p[128];

	cr_assert_eq(ct_sysctl_key_paths(raw, k, sizeof(k), p, sizeof(p)), 0);
	cr_expect_str_eq(k, key, "key of '%s'", raw);
	cr_expect_str_eq(p, path, "path of '%s'", raw);
}

Test(sysctl_file, first_separator_decides_as_sysctl_d_says)
{
	/* sysctl.d(5)'s own examples */
	key_is("kernel.domainname", "kernel.domainname", "kernel/domainname");
	key_is("kernel/domainname", "kernel.domainname", "kernel/domainname");
	key_is("net.ipv4.conf.enp3s0/200.forwarding", "net.ipv4.conf.enp3s0/200.forwarding",
	       "net/ipv4/conf/enp3s0.200/forwarding");
	key_is("net/ipv4/conf/enp3s0.200/forwarding", "net.ipv4.conf.enp3s0/200.forwarding",
	       "net/ipv4/conf/enp3s0.200/forwarding");
	key_is("key/middle.part.with.dots/foo", "key.middle/part/with/dots.foo",
	       "key/middle.part.with.dots/foo");
	key_is("key.middle/part/with/dots.foo", "key.middle/part/with/dots.foo",
	       "key/middle.part.with.dots/foo");
	/* the kernel's lookup ignores leading and repeated slashes */
	key_is("/net//ipv4/tcp_tw_reuse", "net.ipv4.tcp_tw_reuse", "net/ipv4/tcp_tw_reuse");
	key_is("net..ipv4.tcp_tw_reuse", "net.ipv4.tcp_tw_reuse", "net/ipv4/tcp_tw_reuse");
}

static void order_is(const char *const *paths, size_t n, enum ct_sysctl_order o,
		     const char *const *want_read, size_t nread)
{
	struct ct_sysctl_file out[16];

	cr_assert_eq(ct_sysctl_file_order(paths, n, o, out), 0);
	for (size_t i = 0; i < n; i++) {
		if (i < nread) {
			cr_expect_eq(out[i].skip, CT_SFILE_READ, "%s", paths[out[i].arg]);
			cr_expect_str_eq(paths[out[i].arg], want_read[i], "file %zu", i);
		} else {
			cr_expect_neq(out[i].skip, CT_SFILE_READ, "%s is read", paths[out[i].arg]);
		}
	}
}

Test(sysctl_file, system_order_is_by_name_whatever_the_argument_order)
{
	static const char *const given[] = {
	    "/usr/lib/sysctl.d/50-pid-max.conf", "/etc/sysctl.d/99-local.conf",
	    "/etc/sysctl.conf",			 "/usr/lib/sysctl.d/10-a.conf",
	    "/etc/sysctl.d/10-a.conf",		 "/etc/sysctl.d/README.sysctl",
	    "/run/sysctl.d/20-b.conf",
	};
	static const char *const reversed[] = {
	    "/run/sysctl.d/20-b.conf",	   "/etc/sysctl.d/README.sysctl",
	    "/etc/sysctl.d/10-a.conf",	   "/usr/lib/sysctl.d/10-a.conf",
	    "/etc/sysctl.conf",		   "/etc/sysctl.d/99-local.conf",
	    "/usr/lib/sysctl.d/50-pid-max.conf",
	};
	static const char *const want[] = {
	    "/etc/sysctl.d/10-a.conf",	   "/run/sysctl.d/20-b.conf",
	    "/usr/lib/sysctl.d/50-pid-max.conf", "/etc/sysctl.d/99-local.conf",
	    "/etc/sysctl.conf",
	};
	struct ct_sysctl_file out[7], rout[7];

	order_is(given, 7, CT_SYSCTL_ORDER_SYSTEM, want, 5);
	order_is(reversed, 7, CT_SYSCTL_ORDER_SYSTEM, want, 5);
	/* why the other two are not read (listed by path) */
	cr_assert_eq(ct_sysctl_file_order(given, 7, CT_SYSCTL_ORDER_SYSTEM, out), 0);
	cr_expect_str_eq(given[out[5].arg], "/etc/sysctl.d/README.sysctl");
	cr_expect_eq(out[5].skip, CT_SFILE_NOT_CONF);
	cr_expect_str_eq(given[out[6].arg], "/usr/lib/sysctl.d/10-a.conf");
	cr_expect_eq(out[6].skip, CT_SFILE_SHADOWED);
	cr_expect_str_eq(given[out[6].by], "/etc/sysctl.d/10-a.conf");
	/* nothing of the argument order shows through */
	cr_assert_eq(ct_sysctl_file_order(reversed, 7, CT_SYSCTL_ORDER_SYSTEM, rout), 0);
	for (size_t i = 0; i < 7; i++) {
		cr_expect_str_eq(given[out[i].arg], reversed[rout[i].arg], "place %zu", i);
		cr_expect_eq(out[i].skip, rout[i].skip, "place %zu", i);
	}
	/* sysctl -p FILE... reads what it is given, in that order */
	order_is(given, 7, CT_SYSCTL_ORDER_GIVEN, given, 7);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

Test(sysctl_file, the_same_file_twice_is_read_once)
{
	char dir[64], a[128], b[128], link[128];
	const char *paths[3];
	struct ct_sysctl_file out[3];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/ct-sysctl-file-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	mkdir(a, 0755);
	snprintf(a, sizeof(a), "%s/a/sysctl.d", dir);
	mkdir(a, 0755);
	snprintf(a, sizeof(a), "%s/a/sysctl.d/x.conf", dir);
	cr_assert_not_null(f = fopen(a, "w"));
	fclose(f);
	/* b -> a, as /lib -> usr/lib */
	snprintf(link, sizeof(link), "%s/b", dir);
	cr_assert_eq(symlink("a", link), 0);
	snprintf(b, sizeof(b), "%s/b/sysctl.d/x.conf", dir);
	paths[0] = a;
	paths[1] = b;
	paths[2] = a;
	cr_assert_eq(ct_sysctl_file_order(paths, 3, CT_SYSCTL_ORDER_SYSTEM, out), 0);
	cr_expect_eq(out[0].arg, 0);
	cr_expect_eq(out[0].skip, CT_SFILE_READ);
	cr_expect_eq(out[1].skip, CT_SFILE_AGAIN);
	cr_expect_eq(out[2].skip, CT_SFILE_AGAIN);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- writes --------------------------------------------------------------- */

static struct ct_sysctl_assign assign(const char *raw, const char *value, int line, bool exclude,
				      bool refused)
{
	struct ct_sysctl_assign a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(ct_sysctl_key_paths(raw, a.key, sizeof(a.key), a.path, sizeof(a.path)), 0);
	snprintf(a.value, sizeof(a.value), "%s", value);
	snprintf(a.file, sizeof(a.file), "t.conf");
	a.line = line;
	a.exclude = exclude;
	a.refused = refused;
	return a;
}

static void touch(const char *root, const char *rel, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	cr_assert_not_null(f = fopen(path, "w"), "%s", path);
	fclose(f);
	chmod(path, mode);
}

static bool refuse_two(void *ctx, const char *key, const char *value)
{
	(void)ctx;
	(void)key;
	return strcmp(value, "2") == 0;
}

static void writes_are(const struct ct_sysctl_assign *v, size_t n, const char *root,
		       ct_sysctl_refuses_fn fn, const char *want)
{
	struct ct_sysctl_assign *w;
	char got[1024] = "";
	size_t nw, o = 0;

	cr_assert_eq(ct_sysctl_writes(v, n, root, fn, NULL, &w, &nw), 0);
	for (size_t i = 0; i < nw; i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s=%s@%d;", w[i].key, w[i].value,
				      w[i].line);
	free(w);
	cr_expect_str_eq(got, want);
}

Test(sysctl_file, writes_as_sysctl_makes_them)
{
	char root[64];
	struct ct_sysctl_assign v[9];

	snprintf(root, sizeof(root), "/tmp/ct-sysctl-proc-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	touch(root, "net/ipv4/conf/all/forwarding", 0644);
	touch(root, "net/ipv4/conf/lo/forwarding", 0644);
	touch(root, "net/ipv4/conf/eth0.100/forwarding", 0644);
	touch(root, "net/ipv4/tcp_tw_reuse", 0644);
	touch(root, "net/netfilter/nf_conntrack_count", 0444);
	v[0] = assign("net.ipv4.conf.*.forwarding", "1", 1, false, false);
	v[1] = assign("net.ipv4.conf.lo.forwarding", "", 2, true, false); /* -KEY */
	v[2] = assign("net.ipv4.conf.all.forwarding", "0", 3, false, false);
	v[3] = assign("net.ipv4.tcp_tw_reuse", "1", 4, false, false);
	v[4] = assign("net.ipv4.tcp_tw_reuse", "5", 5, false, true);		 /* refused */
	v[5] = assign("net.netfilter.nf_conntrack_count", "3", 6, false, false); /* read-only */
	v[6] = assign("net.ipv4.nope", "1", 7, false, false);			 /* missing */
	v[7] = assign("net.ipv4.conf", "1", 8, false, false);			 /* a directory */
	v[8] = assign("net/../../../etc/passwd", "1", 9, false, false);		 /* outside */
	/* The glob skips lo (excluded) and all (named on line 3); the refused
	 * 5 leaves line 4's 1. */
	writes_are(v, 9, root, NULL,
		   "net.ipv4.conf.eth0/100.forwarding=1@1;net.ipv4.conf.all.forwarding=0@3;"
		   "net.ipv4.tcp_tw_reuse=1@4;");
	/* a value the kernel refuses for a key a glob reaches is not written */
	v[0] = assign("net.ipv4.conf.*.forwarding", "2", 1, false, false);
	writes_are(v, 9, root, refuse_two,
		   "net.ipv4.conf.all.forwarding=0@3;net.ipv4.tcp_tw_reuse=1@4;");
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
