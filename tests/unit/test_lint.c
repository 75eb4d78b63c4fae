/* lint: every planted problem in the tests/data/sysctl files (built from the
 * seeds' snippets) is found, on the right line and key, and nothing else;
 * a clean file yields nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

Test(lint, seed000_legacy_names_hashsize_parity_and_memcached_port)
{
	static const struct want w[] = {
	    {4, "net.ipv4.netfilter.ip_conntrack_max", "legacy"},
	    {5, "net.ipv4.netfilter.ip_conntrack_buckets", "legacy"},
	    {5, "net.netfilter.nf_conntrack_buckets", "hashsize"},
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
	    {3, "net.ipv4.tcp_tw_reuse", "bad-value"},
	    {4, "", "syntax"},
	    {5, "net.ipv4.tcp_max_tw_buckets", "misunderstood"},
	    {6, "net.ipv4.tcp_tw_reuse", "duplicate"},
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

	/* '-' prefix, no blanks, slashes, ';' and '#' comments, CRLF-free blank lines */
	lint_text(l, "-net.ipv4.tcp_tw_reuse=1\n; c\n# c\n\nnet/core/somaxconn = 128\n"
		     "  net.ipv4.tcp_tw_recycle = 0\n");
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
