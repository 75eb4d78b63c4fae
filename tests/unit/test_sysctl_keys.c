#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "loadgen/scenario/sysctl_keys.h"

static char why[300];
static char norm[64];

Test(sysctl_keys, required_keys_present)
{
	static const char *const need[] = {
		"net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_tw_reuse_delay", "net.ipv4.tcp_max_tw_buckets",
		"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_syn_retries",
		"net.ipv4.tcp_synack_retries", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
		"net.ipv4.tcp_syn_linear_timeouts", "net.core.somaxconn", "net.core.netdev_max_backlog",
		"net.ipv4.ip_forward", "net.netfilter.nf_conntrack_max",
		"net.netfilter.nf_conntrack_buckets",
		"net.netfilter.nf_conntrack_tcp_timeout_syn_sent",
		"net.netfilter.nf_conntrack_tcp_timeout_syn_recv",
		"net.netfilter.nf_conntrack_tcp_timeout_established",
		"net.netfilter.nf_conntrack_tcp_timeout_fin_wait",
		"net.netfilter.nf_conntrack_tcp_timeout_close_wait",
		"net.netfilter.nf_conntrack_tcp_timeout_last_ack",
		"net.netfilter.nf_conntrack_tcp_timeout_time_wait",
		"net.netfilter.nf_conntrack_tcp_timeout_close",
		"net.netfilter.nf_conntrack_tcp_timeout_max_retrans",
		"net.netfilter.nf_conntrack_tcp_timeout_unacknowledged",
		"net.netfilter.nf_conntrack_tcp_loose", "net.netfilter.nf_conntrack_tcp_be_liberal",
		"net.netfilter.nf_conntrack_acct", "net.netfilter.nf_conntrack_checksum",
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		const struct ct_sysctl_key *k = ct_sysctl_key_find(need[i]);

		cr_assert_not_null(k, "%s missing", need[i]);
		cr_assert_str_eq(k->name, need[i]);
		cr_assert(k->meaning && *k->meaning, "%s has no meaning", need[i]);
	}
	cr_assert_geq(ct_sysctl_key_count(), sizeof(need) / sizeof(need[0]));
	cr_assert_null(ct_sysctl_key_at(ct_sysctl_key_count()));
}

Test(sysctl_keys, scopes)
{
	cr_assert_eq(ct_sysctl_key_find("net.netfilter.nf_conntrack_max")->scope, CT_SKEY_GLOBAL);
	cr_assert_eq(ct_sysctl_key_find("net.netfilter.nf_conntrack_buckets")->scope, CT_SKEY_GLOBAL);
	cr_assert_eq(ct_sysctl_key_find("net.ipv4.tcp_tw_reuse")->scope, CT_SKEY_NETNS);
	cr_assert_eq(ct_sysctl_key_find("net.netfilter.nf_conntrack_tcp_timeout_time_wait")->scope,
		     CT_SKEY_NETNS);
}

Test(sysctl_keys, slash_form_and_proc_path)
{
	const struct ct_sysctl_key *k = ct_sysctl_key_find("net/ipv4/tcp_tw_reuse");

	cr_assert_not_null(k);
	cr_assert_str_eq(k->name, "net.ipv4.tcp_tw_reuse");
	cr_assert_eq(ct_sysctl_key_find("/proc/sys/net/core/somaxconn"), ct_sysctl_key_find("net.core.somaxconn"));
	cr_assert_null(ct_sysctl_key_find("kernel.panic"), "not a networking key: not allowed");
	cr_assert_null(ct_sysctl_key_find(""));
}

Test(sysctl_keys, legacy_names)
{
	const struct ct_sysctl_legacy *l;
	const struct ct_sysctl_key *k;

	l = ct_sysctl_key_legacy("net.ipv4.netfilter.ip_conntrack_max");
	cr_assert_not_null(l);
	cr_assert_str_eq(l->modern, "net.netfilter.nf_conntrack_max");
	l = ct_sysctl_key_legacy("net.ipv4.netfilter.ip_conntrack_buckets");
	cr_assert_str_eq(l->modern, "net.netfilter.nf_conntrack_buckets");
	l = ct_sysctl_key_legacy("net/ipv4/netfilter/ip_conntrack_tcp_timeout_time_wait");
	cr_assert_str_eq(l->modern, "net.netfilter.nf_conntrack_tcp_timeout_time_wait");
	cr_assert_null(ct_sysctl_key_legacy("net.ipv4.tcp_tw_reuse"));

	k = ct_sysctl_key_resolve("net.ipv4.netfilter.ip_conntrack_tcp_timeout_established", &l, why,
				  sizeof(why));
	cr_assert_not_null(k, "%s", why);
	cr_assert_not_null(l);
	cr_assert_str_eq(k->name, "net.netfilter.nf_conntrack_tcp_timeout_established");
	/* net.nf_conntrack_max is no legacy name: current kernels have it (a
	 * second name of the netfilter key, in the init netns). */
	cr_assert_null(ct_sysctl_key_legacy("net.nf_conntrack_max"));
	cr_assert_str_eq(ct_sysctl_key_alias("net.nf_conntrack_max")->key,
			 "net.netfilter.nf_conntrack_max");
	k = ct_sysctl_key_resolve("net.nf_conntrack_max", &l, why, sizeof(why));
	cr_assert_not_null(k);
	cr_assert_null(l);
	cr_assert_str_eq(k->name, "net.netfilter.nf_conntrack_max");
}

/* What the kernel's handler takes, as measured on 6.18 by writing
 * /proc/sys in a throwaway netns. */
Test(sysctl_keys, kernel_takes_what_its_handler_takes)
{
#define REUSE "net.ipv4.tcp_tw_reuse"
#define RANGE "net.ipv4.ip_local_port_range"
#define RESV "net.ipv4.ip_local_reserved_ports"
	static const struct {
		const char *key, *value;
		int rc;
		const char *norm;
	} cases[] = {
	    {REUSE, "1", 0, "1"},
	    {REUSE, " 2 ", 0, "2"},
	    {REUSE, "0x1", 0, "1"},
	    {REUSE, "01", 0, "1"},
	    {REUSE, "1 # c", 0, "1"},
	    {REUSE, "1 2", 0, "1"},
	    {REUSE, "3", -ERANGE, ""},
	    {REUSE, "-1", -ERANGE, ""},
	    {REUSE, "2x", -EINVAL, ""},
	    {REUSE, "1,2", -EINVAL, ""},
	    {REUSE, "+1", -EINVAL, ""},
	    {REUSE, "", -EINVAL, ""},
	    {"net.ipv4.tcp_fin_timeout", "300", 0, "300"},
	    {"net.ipv4.tcp_fin_timeout", "-5", 0, "-5"},
	    {"net.ipv4.tcp_timestamps", "3", 0, "3"},
	    {"net.ipv4.tcp_timestamps", "256", -ERANGE, ""},
	    {"net.netfilter.nf_conntrack_tcp_timeout_time_wait", "-1", 0, "-1"},
	    {"net.netfilter.nf_conntrack_tcp_timeout_time_wait", "2147484", -ERANGE, ""},
	    {RANGE, "1024 65535", 0, "1024 65535"},
	    {RANGE, "1024\t 60999 junk", 0, "1024 60999"},
	    {RANGE, "1024", 1, "1024"},
	    {RANGE, "1000 1001", -EINVAL, ""}, /* under ip_unprivileged_port_start */
	    {RANGE, "0 65535", -EINVAL, ""},
	    {RANGE, "1024 65536", -EINVAL, ""},
	    {RANGE, "2000 1024", -EINVAL, ""},
	    {RANGE, "1024,65000", -EINVAL, ""},
	    {RESV, "8080,9000-9010", 0, "8080,9000-9010"},
	    {RESV, "", 0, ""},
	    {RESV, "0", 0, "0"},
	    {RESV, "8080, 9000", -EINVAL, ""},
	    {RESV, "8080 9000", -EINVAL, ""},
	    {RESV, "9010-9000", -EINVAL, ""},
	    {RESV, "70000", -EINVAL, ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ct_sysctl_key *k = ct_sysctl_key_find(cases[i].key);
		int rc;

		cr_assert_not_null(k, "%s", cases[i].key);
		rc = ct_sysctl_key_kernel_check(k, cases[i].value, 1024, norm, sizeof(norm), why,
						sizeof(why));
		cr_expect_eq(rc, cases[i].rc, "%s = '%s': %d, want %d (%s)", k->name, cases[i].value,
			     rc, cases[i].rc, why);
		if (rc >= 0)
			cr_expect_str_eq(norm, cases[i].norm, "%s = '%s'", k->name, cases[i].value);
		else
			cr_expect(strstr(why, "the kernel refuses"), "%s", why);
	}
}

Test(sysctl_keys, removed_and_misunderstood)
{
	const struct ct_sysctl_removed *r = ct_sysctl_key_removed("net.ipv4.tcp_tw_recycle");
	const struct ct_sysctl_key *k;

	cr_assert_not_null(r);
	cr_assert(strstr(r->why, "4.12"), "%s", r->why);
	k = ct_sysctl_key_resolve("net.ipv4.tcp_tw_recycle", NULL, why, sizeof(why));
	cr_assert_null(k);
	cr_assert(strstr(why, "removed in Linux 4.12"), "%s", why);

	k = ct_sysctl_key_find("net.ipv4.tcp_fin_timeout");
	cr_assert_not_null(k->note);
	cr_assert(strstr(k->note, "does not shorten TIME_WAIT"), "%s", k->note);
}

Test(sysctl_keys, unknown_suggests)
{
	const struct ct_sysctl_key *k = ct_sysctl_key_resolve("net.ipv4.tcp_tw_resue", NULL, why, sizeof(why));

	cr_assert_null(k);
	cr_assert(strstr(why, "did you mean 'net.ipv4.tcp_tw_reuse'"), "%s", why);
	cr_assert_str_eq(ct_sysctl_key_nearest("net.netfilter.nf_conntrack_mx")->name,
			 "net.netfilter.nf_conntrack_max");
	cr_assert_null(ct_sysctl_key_nearest("vm.swappiness"));
}

Test(sysctl_keys, values_int_bool)
{
	const struct ct_sysctl_key *reuse = ct_sysctl_key_find("net.ipv4.tcp_tw_reuse");
	const struct ct_sysctl_key *fwd = ct_sysctl_key_find("net.ipv4.ip_forward");
	const struct ct_sysctl_key *delay = ct_sysctl_key_find("net.ipv4.tcp_tw_reuse_delay");

	cr_assert_eq(ct_sysctl_key_check_value(reuse, " 2 ", norm, sizeof(norm), why, sizeof(why)), 0);
	cr_assert_str_eq(norm, "2");
	cr_assert_eq(ct_sysctl_key_check_value(reuse, "3", norm, sizeof(norm), why, sizeof(why)), -ERANGE);
	cr_assert(strstr(why, "0..2"), "%s", why);
	cr_assert_eq(ct_sysctl_key_check_value(reuse, "-1", norm, sizeof(norm), why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_sysctl_key_check_value(reuse, "on", norm, sizeof(norm), why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_sysctl_key_check_value(fwd, "1", norm, sizeof(norm), why, sizeof(why)), 0);
	cr_assert_eq(ct_sysctl_key_check_value(fwd, "2", norm, sizeof(norm), why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_sysctl_key_check_value(delay, "0", norm, sizeof(norm), why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_sysctl_key_check_value(delay, "60000", norm, sizeof(norm), why, sizeof(why)), 0);
	cr_assert_eq(ct_sysctl_key_check_value(delay, "60001", norm, sizeof(norm), why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_sysctl_key_check_value(delay, "1s", norm, sizeof(norm), why, sizeof(why)), -EINVAL,
		     "sysctl values take no units");
	cr_assert_eq(ct_sysctl_key_check_value(delay, "99999999999999999999", norm, sizeof(norm), why,
					       sizeof(why)),
		     -ERANGE);
}

Test(sysctl_keys, values_pair_and_portlist)
{
	const struct ct_sysctl_key *range = ct_sysctl_key_find("net.ipv4.ip_local_port_range");
	const struct ct_sysctl_key *resv = ct_sysctl_key_find("net.ipv4.ip_local_reserved_ports");

	cr_assert_eq(ct_sysctl_key_check_value(range, "1024\t 65535", norm, sizeof(norm), why, sizeof(why)), 0);
	cr_assert_str_eq(norm, "1024 65535");
	cr_assert_eq(ct_sysctl_key_check_value(range, "60999 32768", norm, sizeof(norm), why, sizeof(why)),
		     -ERANGE);
	cr_assert_eq(ct_sysctl_key_check_value(range, "1024 70000", norm, sizeof(norm), why, sizeof(why)),
		     -ERANGE);
	cr_assert_eq(ct_sysctl_key_check_value(range, "1024", norm, sizeof(norm), why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_sysctl_key_check_value(range, "1024-65535", norm, sizeof(norm), why, sizeof(why)),
		     -EINVAL);
	cr_assert_eq(ct_sysctl_key_check_value(range, "1 2 3", norm, sizeof(norm), why, sizeof(why)), -EINVAL);

	cr_assert_eq(ct_sysctl_key_check_value(resv, "8080, 9000-9010", norm, sizeof(norm), why, sizeof(why)),
		     0, "%s", why);
	cr_assert_str_eq(norm, "8080,9000-9010");
	cr_assert_eq(ct_sysctl_key_check_value(resv, "", norm, sizeof(norm), why, sizeof(why)), 0);
	cr_assert_str_eq(norm, "");
	cr_assert_eq(ct_sysctl_key_check_value(resv, "9010-9000", norm, sizeof(norm), why, sizeof(why)),
		     -EINVAL);
	cr_assert_eq(ct_sysctl_key_check_value(resv, "0", norm, sizeof(norm), why, sizeof(why)), -EINVAL);
}
