/* lint: every planted problem in the tests/data/sysctl files (built from the
 * seeds' snippets) is found, on the right line and key, and nothing else;
 * a clean file yields nothing. Lines are read as sysctl reads them (against
 * a made-up /proc/sys where the host's own would decide). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ftw.h>

#include "loadgen/model/lint.h"

struct want {
	int line;
	const char *key;
	const char *code;
};

#define END                                                                                        \
	{                                                                                          \
		0, NULL, NULL                                                                      \
	}

static void expect_exactly(const char *file, const struct want *want)
{
	struct ct_lint_opts o = {.live = false};
	struct ct_lint *l = ct_lint_new(&o);
	char path[512];
	size_t nwant = 0, n;

	cr_assert_not_null(l);
	snprintf(path, sizeof(path), "%s/sysctl/%s", CT_TEST_DATA, file);
	cr_assert_eq(ct_lint_file(l, path), 0, "cannot lint %s", path);
	ct_lint_finish(l);
	while (want[nwant].code)
		nwant++;
	n = ct_lint_count(l);
	for (size_t i = 0; i < n; i++) {
		const struct ct_lint_finding *f = ct_lint_at(l, i);

		cr_log_info("%s:%d %s [%s] %s", file, f->line, f->key, ct_lint_code_name(f->code),
			    f->msg);
	}
	cr_expect_eq(n, nwant, "%s: %zu findings, want %zu", file, n, nwant);
	/* findings come sorted by line, in the order listed here */
	for (size_t i = 0; i < n && i < nwant; i++) {
		const struct ct_lint_finding *f = ct_lint_at(l, i);

		cr_expect_eq(f->line, want[i].line, "%s finding %zu: line %d, want %d", file, i,
			     f->line, want[i].line);
		cr_expect_str_eq(f->key, want[i].key, "%s:%d", file, f->line);
		cr_expect_str_eq(ct_lint_code_name(f->code), want[i].code, "%s:%d %s", file,
				 f->line, f->key);
		cr_expect(f->msg[0] && f->fix[0], "%s:%d has a message and a fix", file, f->line);
	}
	ct_lint_free(l);
}

Test(lint, clean_file_has_no_findings)
{
	static const struct want w[] = {END};

	expect_exactly("clean.conf", w);
}

Test(lint, seed000_legacy_names_parity_and_memcached_port)
{
	/* The legacy names set nothing on this kernel, so no hashsize or ratio
	 * finding comes from their values. */
	static const struct want w[] = {
	    {4, "net.ipv4.netfilter.ip_conntrack_max", "legacy"},
	    {5, "net.ipv4.netfilter.ip_conntrack_buckets", "legacy"},
	    {6, "net.ipv4.ip_local_port_range", "port-parity"},
	    {6, "net.ipv4.ip_local_port_range", "port-overlap"}, /* 5000-65000 covers 11211 */
	    END,
	};

	expect_exactly("seed000.conf", w);
}

Test(lint, seed002_fin_timeout_legacy_and_recycle)
{
	static const struct want w[] = {
	    {2, "net.ipv4.tcp_fin_timeout", "misunderstood"},
	    {3, "net.ipv4.netfilter.ip_conntrack_max", "legacy"},
	    {6, "net.ipv4.tcp_tw_recycle", "removed"}, /* written with slashes */
	    END,
	};

	expect_exactly("seed002.conf", w);
}

Test(lint, seed003_sixteen_entries_a_bucket)
{
	static const struct want w[] = {
	    {3, "net.netfilter.nf_conntrack_max", "ratio"},
	    {4, "net.netfilter.nf_conntrack_buckets", "hashsize"},
	    END,
	};

	expect_exactly("seed003.conf", w);
}

Test(lint, seed003_modprobe_hashsize_counts_for_the_ratio)
{
	static const struct want w[] = {
	    {4, "net.netfilter.nf_conntrack_max", "ratio"},
	    END,
	};

	expect_exactly("seed003-modprobe.conf", w);
}

Test(lint, seed004_750_entries_a_bucket)
{
	static const struct want w[] = {
	    {2, "net.netfilter.nf_conntrack_max", "ratio"},
	    {3, "net.netfilter.nf_conntrack_buckets", "hashsize"},
	    END,
	};

	expect_exactly("seed004.conf", w);
}

Test(lint, seed004_recommended_is_clean)
{
	static const struct want w[] = {END};

	expect_exactly("seed004-recommended.conf", w);
}

Test(lint, planted_problems)
{
	static const struct want w[] = {
	    {2, "net.ipv4.tcp_tw_resue", "unknown"},
	    {3, "net.ipv4.tcp_tw_reuse", "bad-value"}, /* refused: line 6 is no duplicate */
	    {4, "", "syntax"},
	    {5, "net.ipv4.tcp_max_tw_buckets", "misunderstood"},
	    {6, "net.ipv4.tcp_tw_reuse", "reuse-no-timestamps"},
	    {9, "net.core.somaxconn", "duplicate"},
	    {10, "net.ipv4.ip_local_port_range", "port-overlap"},
	    {11, "net.netfilter.nf_conntrack_count", "removed"},
	    END,
	};

	expect_exactly("planted.conf", w);
}

static const struct ct_lint_finding *lint_text(struct ct_lint *l, const char *text)
{
	cr_assert_eq(ct_lint_text(l, "t.conf", text), 0);
	ct_lint_finish(l);
	return ct_lint_count(l) ? ct_lint_at(l, 0) : NULL;
}

Test(lint, ranges_against_listening_ports)
{
	static const uint16_t listening[] = {40000, 22};
	struct ct_lint_opts o = {.live = false, .listen = listening, .nlisten = 2};
	struct ct_lint *l = ct_lint_new(&o);
	const struct ct_lint_finding *f;

	f = lint_text(l, "net.ipv4.ip_local_port_range = 32768 60999\n");
	cr_assert_not_null(f);
	cr_expect_eq(f->code, CT_LINT_PORT_OVERLAP);
	cr_expect(strstr(f->msg, "40000 (listening here now)") != NULL, "%s", f->msg);
	cr_expect(strstr(f->fix, "ip_local_reserved_ports = 40000") != NULL, "%s", f->fix);
	ct_lint_free(l);

	/* reserving the port is the fix */
	l = ct_lint_new(&o);
	f = lint_text(l, "net.ipv4.ip_local_port_range = 32768 60999\n"
			 "net.ipv4.ip_local_reserved_ports = 40000\n");
	cr_expect_null(f, "%s", f ? f->msg : "");
	ct_lint_free(l);
}

Test(lint, sysctl_syntax_variants)
{
	struct ct_lint_opts o = {.live = false};
	struct ct_lint *l = ct_lint_new(&o);

	/* '-' prefix, no blanks, slashes, ';' and '#' comments, CRLF-free blank lines,
	 * '-KEY' (sysctl.d: glob lines leave KEY alone) */
	lint_text(l, "-net.ipv4.tcp_tw_reuse=1\n; c\n# c\n\nnet/core/somaxconn = 128\n"
		     "  net.ipv4.tcp_tw_recycle = 0\n-net.ipv4.conf.lo.rp_filter\n"
		     "-net.ipv4.conf.*.accept_redirects\n");
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->line, 6);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_REMOVED);
	ct_lint_free(l);
}

Test(lint, modprobe_directives_are_not_syntax_errors)
{
	struct ct_lint *l = ct_lint_new(NULL);

	lint_text(l,
		  "blacklist nf_conntrack_ftp\ninstall foo /bin/true\nalias x y\n"
		  "options nf_conntrack hashsize=1024\nnet.netfilter.nf_conntrack_max = 65536\n");
	/* 65536 / 1024 = 64 entries a bucket */
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_RATIO);
	cr_expect_eq(ct_lint_at(l, 0)->line, 5);
	ct_lint_free(l);
}

Test(lint, unreadable_file_is_an_error)
{
	struct ct_lint *l = ct_lint_new(NULL);

	cr_expect_eq(ct_lint_file(l, "/nonexistent/sysctl.conf"), -ENOENT);
	ct_lint_free(l);
}

/* ---- read as sysctl reads, against a made-up /proc/sys ------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* DIR/sys/<each file> (each holding "1024"; mode 0444 for a name ending in
 * "!ro", 0644 otherwise); returns DIR in buf. */
static const char *fake_proc(char *buf, size_t len, const char *const *files)
{
	snprintf(buf, len, "/tmp/ct-lint-proc-XXXXXX");
	cr_assert_not_null(mkdtemp(buf));
	for (const char *const *f = files; *f; f++) {
		char path[512];
		size_t n = (size_t)snprintf(path, sizeof(path), "%s/sys/%s", buf, *f);
		bool ro = n > 3 && strcmp(path + n - 3, "!ro") == 0;
		FILE *fp;

		if (ro)
			path[n - 3] = '\0';
		for (char *p = path + strlen(buf) + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
		cr_assert_not_null(fp = fopen(path, "w"), "%s", path);
		fputs("1024\n", fp);
		fclose(fp);
		chmod(path, ro ? 0444 : 0644);
	}
	return buf;
}

static void rm_proc(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *const host_files[] = {
    "net/ipv4/tcp_tw_reuse",
    "net/ipv4/tcp_fin_timeout",
    "net/ipv4/tcp_timestamps",
    "net/ipv4/ip_unprivileged_port_start",
    "net/ipv4/ip_local_port_range",
    "net/ipv4/conf/all/forwarding",
    "net/ipv4/conf/lo/forwarding",
    "net/ipv4/conf/eth0.100/forwarding",
    "net/nf_conntrack_max",
    "net/netfilter/nf_conntrack_max",
    "net/netfilter/nf_conntrack_buckets",
    "net/netfilter/nf_conntrack_count!ro",
    NULL,
};

static struct ct_lint *lint_in(const char *proc, const char *text)
{
	struct ct_lint_opts o = {.proc_root = proc, .live = false};
	struct ct_lint *l = ct_lint_new(&o);

	cr_assert_not_null(l);
	cr_assert_eq(ct_lint_text(l, "t.conf", text), 0);
	ct_lint_finish(l);
	return l;
}

static void log_findings(const struct ct_lint *l)
{
	for (size_t i = 0; i < ct_lint_count(l); i++)
		cr_log_info("%d %s [%s] %s", ct_lint_at(l, i)->line, ct_lint_at(l, i)->key,
			    ct_lint_code_name(ct_lint_at(l, i)->code), ct_lint_at(l, i)->msg);
}

/* "KEY=VALUE;KEY=VALUE;" of what sysctl would write. */
static void writes_are(struct ct_lint *l, const char *want)
{
	struct ct_sysctl_assign *w;
	char got[1024] = "";
	size_t n, o = 0;

	cr_assert_eq(ct_lint_writes(l, &w, &n), 0);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s=%s;", w[i].key, w[i].value);
	free(w);
	cr_expect_str_eq(got, want);
}

Test(lint, nf_conntrack_max_is_a_second_name_not_a_legacy_one)
{
	char proc[64];
	struct ct_lint *l;

	fake_proc(proc, sizeof(proc), host_files);
	/* Its value counts: 1048576 over 1024 buckets is the ratio finding. */
	l = lint_in(proc, "net.nf_conntrack_max = 1048576\nnet.netfilter.nf_conntrack_buckets = 1024\n");
	log_findings(l);
	cr_assert_eq(ct_lint_count(l), 2);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_RATIO);
	cr_expect_str_eq(ct_lint_at(l, 0)->key, "net.nf_conntrack_max");
	cr_expect_eq(ct_lint_at(l, 1)->code, CT_LINT_HASHSIZE);
	writes_are(l, "net.nf_conntrack_max=1048576;net.netfilter.nf_conntrack_buckets=1024;");
	ct_lint_free(l);

	/* Both names are one variable: the later line wins for both. */
	l = lint_in(proc, "net.netfilter.nf_conntrack_max = 65536\nnet.nf_conntrack_max = 262144\n");
	log_findings(l);
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_DUPLICATE);
	cr_expect_eq(ct_lint_at(l, 0)->line, 2);
	cr_expect(strstr(ct_lint_at(l, 0)->msg, "one setting"), "%s", ct_lint_at(l, 0)->msg);
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, legacy_name_missing_here_sets_nothing)
{
	char proc[64];
	struct ct_lint *l;

	fake_proc(proc, sizeof(proc), host_files);
	l = lint_in(proc, "net.ipv4.netfilter.ip_conntrack_max = 1048576\n"
			  "net.netfilter.nf_conntrack_buckets = 1024\n");
	log_findings(l);
	/* no ratio: the old name wrote nothing */
	cr_assert_eq(ct_lint_count(l), 2);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_LEGACY);
	cr_expect(strstr(ct_lint_at(l, 0)->msg, "sets nothing"), "%s", ct_lint_at(l, 0)->msg);
	cr_expect_eq(ct_lint_at(l, 1)->code, CT_LINT_HASHSIZE);
	writes_are(l, "net.netfilter.nf_conntrack_buckets=1024;");
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, dash_lines_ignore_failure_and_exclude_from_globs)
{
	char proc[64];
	struct ct_lint *l;

	fake_proc(proc, sizeof(proc), host_files);
	l = lint_in(proc, "-net.ipv4.tcp_tw_reuse = 1\n-net.ipv4.conf.lo.forwarding\n"
			  "net.ipv4.conf.*.forwarding = 1\n");
	log_findings(l);
	cr_expect_eq(ct_lint_count(l), 0);
	writes_are(l, "net.ipv4.tcp_tw_reuse=1;net.ipv4.conf.all.forwarding=1;"
		      "net.ipv4.conf.eth0/100.forwarding=1;");
	ct_lint_free(l);

	/* '-' hides a refused write from systemd-sysctl; it still fails */
	l = lint_in(proc, "-net.ipv4.tcp_tw_reuse = 9\n");
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_BAD_VALUE);
	cr_expect(strstr(ct_lint_at(l, 0)->msg, "leading '-'"), "%s", ct_lint_at(l, 0)->msg);
	writes_are(l, "");
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, slash_in_an_interface_name_as_sysctl_d_reads_it)
{
	char proc[64];
	struct ct_lint *l;

	fake_proc(proc, sizeof(proc), host_files);
	/* Both spellings are /proc/sys/net/ipv4/conf/eth0.100/forwarding. */
	l = lint_in(proc, "net.ipv4.conf.eth0/100.forwarding = 1\n"
			  "net/ipv4/conf/eth0.100/forwarding = 0\n");
	log_findings(l);
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_DUPLICATE);
	cr_expect_str_eq(ct_lint_at(l, 0)->key, "net.ipv4.conf.eth0/100.forwarding");
	writes_are(l, "net.ipv4.conf.eth0/100.forwarding=0;");
	ct_lint_free(l);

	l = lint_in(proc, "net.ipv4.conf.eth1/7.forwarding = 1\n");
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_UNKNOWN);
	cr_expect(strstr(ct_lint_at(l, 0)->msg, "no interface eth1.7"), "%s",
		  ct_lint_at(l, 0)->msg);
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, a_refused_value_leaves_the_one_before)
{
	char proc[64];
	struct ct_lint_opts o = {.live = false};
	struct ct_lint *l;
	const char *msg;

	fake_proc(proc, sizeof(proc), host_files);
	l = lint_in(proc, "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 5\n");
	log_findings(l);
	cr_assert_eq(ct_lint_count(l), 1, "a refused value is no duplicate that takes effect");
	msg = ct_lint_at(l, 0)->msg;
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_BAD_VALUE);
	cr_expect(strstr(msg, "keeps '1' from line 1") && !strstr(msg, "takes effect"), "%s", msg);
	writes_are(l, "net.ipv4.tcp_tw_reuse=1;");
	ct_lint_free(l);

	o.proc_root = proc;
	l = ct_lint_new(&o);
	cr_assert_eq(ct_lint_text(l, "a.conf", "net.ipv4.tcp_tw_reuse = 1\n"), 0);
	cr_assert_eq(ct_lint_text(l, "b.conf", "net.ipv4.tcp_tw_reuse = 3\n"), 0);
	ct_lint_finish(l);
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect(strstr(ct_lint_at(l, 0)->msg, "keeps '1' from a.conf:1"), "%s",
		  ct_lint_at(l, 0)->msg);
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, values_the_kernel_takes_are_not_bad_values)
{
	char proc[64];
	struct ct_lint *l;

	fake_proc(proc, sizeof(proc), host_files);
	/* tcp_fin_timeout takes any int; the kernel reads 0x1 as 1 */
	l = lint_in(proc, "net.ipv4.tcp_fin_timeout = 300\nnet.ipv4.tcp_tw_reuse = 0x1\n");
	log_findings(l);
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_MISUNDERSTOOD);
	writes_are(l, "net.ipv4.tcp_fin_timeout=300;net.ipv4.tcp_tw_reuse=0x1;");
	ct_lint_free(l);

	/* the port range's low end must not be under ip_unprivileged_port_start */
	l = lint_in(proc, "net.ipv4.ip_local_port_range = 1000 60999\n");
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_BAD_VALUE);
	writes_are(l, "");
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, read_only_and_missing_keys_are_not_written)
{
	char proc[64];
	struct ct_lint *l;

	fake_proc(proc, sizeof(proc), host_files);
	l = lint_in(proc, "net.netfilter.nf_conntrack_count = 5\nvm.nope = 1\n"
			  "net.ipv4.tcp_timestamps = 1\n");
	writes_are(l, "net.ipv4.tcp_timestamps=1;");
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, a_comment_after_a_value_is_part_of_it)
{
	char proc[64];
	struct ct_lint *l;

	fake_proc(proc, sizeof(proc), host_files);
	l = lint_in(proc, "net.ipv4.tcp_tw_reuse = 1 # reuse on\nnet.ipv4.tcp_timestamps = 1\n");
	cr_assert_eq(ct_lint_count(l), 1);
	cr_expect_eq(ct_lint_at(l, 0)->code, CT_LINT_SYNTAX);
	cr_expect_eq(ct_lint_at(l, 0)->line, 1);
	writes_are(l, "net.ipv4.tcp_tw_reuse=1 # reuse on;net.ipv4.tcp_timestamps=1;");
	ct_lint_free(l);
	rm_proc(proc);
}

Test(lint, advice_rests_on_what_a_user_can_check)
{
	static const char *const files[] = {"seed000.conf", "seed002.conf", "seed003.conf",
					    "seed003-modprobe.conf", "seed004.conf", "planted.conf"};
	struct ct_lint_opts o = {.live = false};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct ct_lint *l = ct_lint_new(&o);
		char path[512];

		snprintf(path, sizeof(path), "%s/sysctl/%s", CT_TEST_DATA, files[i]);
		cr_assert_eq(ct_lint_file(l, path), 0);
		ct_lint_finish(l);
		for (size_t k = 0; k < ct_lint_count(l); k++) {
			const struct ct_lint_finding *f = ct_lint_at(l, k);

			cr_expect(!strcasestr(f->msg, "seed") && !strcasestr(f->fix, "seed"),
				  "%s:%d cites a seed: %s / %s", files[i], f->line, f->msg, f->fix);
			if (f->code == CT_LINT_RATIO && strstr(files[i], "seed004"))
				cr_expect(strstr(f->msg, "50 to 80") && strstr(f->msg, "chaintoolong"),
					  "the kernel's chain cap, and where to see it: %s", f->msg);
		}
		ct_lint_free(l);
	}
}
