/* The counters a user reads off the lab must be the kernel's numbers: parsed
 * by header (columns move between kernels), summed over CPUs, hex where the
 * kernel prints hex. Fixtures are procfs text in tests/data/proc/. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/probe/kmsg.h"
#include "loadgen/probe/sampler.h"

static char *slurp(const char *name)
{
	char path[512];
	FILE *f;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/proc/%s", CT_TEST_DATA, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "fixture %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

Test(sockstat, tcp_line)
{
	char *t = slurp("sockstat");
	uint64_t inuse = 0, orphan = 0, tw = 0, alloc = 0;

	cr_assert_eq(ct_parse_sockstat(t, &inuse, &orphan, &tw, &alloc), 0);
	cr_expect_eq(inuse, 1024);
	cr_expect_eq(orphan, 3);
	cr_expect_eq(tw, 28201);
	cr_expect_eq(alloc, 1030);
	free(t);
}

Test(sockstat, tcp6_is_not_tcp)
{
	char *t = slurp("sockstat6_only");
	uint64_t a, b, c, d;

	cr_expect_eq(ct_parse_sockstat(t, &a, &b, &c, &d), -EINVAL);
	free(t);
}

Test(netstat, tcpext_by_name)
{
	char *t = slurp("netstat");
	uint64_t v[CT_TCPEXT_N];
	int found = ct_parse_netstat(t, "TcpExt", ct_tcpext_name, CT_TCPEXT_N, v);

	cr_assert_gt(found, 0);
	cr_expect_eq(v[CT_TCPEXT_TW], 12345);
	cr_expect_eq(v[CT_TCPEXT_TW_RECYCLED], 7);
	cr_expect_eq(v[CT_TCPEXT_TW_OVERFLOW], 99);
	cr_expect_eq(v[CT_TCPEXT_LISTEN_OVERFLOWS], 4);
	cr_expect_eq(v[CT_TCPEXT_LISTEN_DROPS], 5);
	cr_expect_eq(v[CT_TCPEXT_SYN_RETRANS], 321);
	cr_expect(found & (1 << CT_TCPEXT_TW_OVERFLOW));
	free(t);
}

Test(netstat, missing_name_reads_zero_and_is_flagged)
{
	const char *text = "TcpExt: TW Bogus\nTcpExt: 5 6\n";
	const char *names[] = {"TW", "TCPTimeWaitOverflow"};
	uint64_t v[2] = {77, 77};
	int found = ct_parse_netstat(text, "TcpExt", names, 2, v);

	cr_expect_eq(found, 1);
	cr_expect_eq(v[0], 5);
	cr_expect_eq(v[1], 0);
}

Test(snmp, tcp_not_tcpext_or_udp)
{
	char *t = slurp("snmp");
	uint64_t v[CT_TCP_N];

	cr_assert_gt(ct_parse_netstat(t, "Tcp", ct_tcpsnmp_name, CT_TCP_N, v), 0);
	cr_expect_eq(v[CT_TCP_ACTIVE_OPENS], 4242);
	cr_expect_eq(v[CT_TCP_PASSIVE_OPENS], 4343);
	free(t);
}

Test(snmp, absent_section)
{
	uint64_t v[CT_TCP_N];

	cr_expect_eq(ct_parse_netstat("Ip: a b\nIp: 1 2\n", "Tcp", ct_tcpsnmp_name, CT_TCP_N, v),
		     -EINVAL);
}

Test(ctstat, sums_hex_rows_by_header_6_18)
{
	char *t = slurp("nf_conntrack_6.18");
	uint64_t v[CT_CTSTAT_N];
	int found = ct_parse_ctstat(t, ct_ctstat_header, CT_CTSTAT_N, v);

	cr_assert_eq(found, (1 << CT_CTSTAT_N) - 1, "every column is in a 6.18 header");
	cr_expect_eq(v[CT_CTSTAT_DROP], 0xff + 0x101);
	cr_expect_eq(v[CT_CTSTAT_INSERT_FAILED], 15);
	cr_expect_eq(v[CT_CTSTAT_EARLY_DROP], 2);
	cr_expect_eq(v[CT_CTSTAT_CLASH_RESOLVE], 3);
	cr_expect_eq(v[CT_CTSTAT_SEARCH_RESTART], 7);
	cr_expect_eq(v[CT_CTSTAT_CHAINTOOLONG], 1);
	cr_expect_eq(v[CT_CTSTAT_FOUND], 0x30);
	cr_expect_eq(v[CT_CTSTAT_INSERT], 2 * 0x1e240);
	free(t);
}

Test(ctstat, older_header_shifts_nothing)
{
	char *t = slurp("nf_conntrack_5.4");
	uint64_t v[CT_CTSTAT_N];
	int found = ct_parse_ctstat(t, ct_ctstat_header, CT_CTSTAT_N, v);

	cr_assert_gt(found, 0);
	cr_expect_not(found & (1 << CT_CTSTAT_CLASH_RESOLVE), "5.4 has no clashres column");
	cr_expect_not(found & (1 << CT_CTSTAT_CHAINTOOLONG));
	cr_expect_eq(v[CT_CTSTAT_DROP], 2);
	cr_expect_eq(v[CT_CTSTAT_EARLY_DROP], 3);
	cr_expect_eq(v[CT_CTSTAT_INSERT_FAILED], 1);
	cr_expect_eq(v[CT_CTSTAT_INSERT], 100);
	cr_expect_eq(v[CT_CTSTAT_CLASH_RESOLVE], 0);
	free(t);
}

/* The neighbour table's counters share the conntrack file's layout: a
 * header, then one row of hex per CPU. */
Test(ctstat, arp_cache_overflows)
{
	char *t = slurp("arp_cache");
	static const char *const names[] = {"table_fulls", "unresolved_discards"};
	uint64_t v[2];

	cr_assert_eq(ct_parse_ctstat(t, names, 2, v), 3);
	cr_expect_eq(v[0], 0x100 + 0x11);
	cr_expect_eq(v[1], 0x1a + 6);
	free(t);
}

/* /proc/net/dev: the rx and tx drop columns (what ip -s link shows as
 * dropped), summed over devices; the two header lines are no device. */
Test(netdev, drops_summed)
{
	char *t = slurp("net_dev");
	uint64_t rx, tx;

	cr_expect_eq(ct_parse_netdev(t, &rx, &tx), 3);
	cr_expect_eq(rx, 17 + 3);
	cr_expect_eq(tx, 5 + 200);
	cr_expect_eq(ct_parse_netdev("Inter-|   Receive\n", &rx, &tx), -EINVAL);
	cr_expect_eq(rx + tx, 0);
	free(t);
}

Test(ctstat, no_header)
{
	uint64_t v[CT_CTSTAT_N];

	cr_expect_eq(ct_parse_ctstat("00000001 00000002\n", ct_ctstat_header, CT_CTSTAT_N, v),
		     -EINVAL);
	cr_expect_eq(ct_parse_ctstat("", ct_ctstat_header, CT_CTSTAT_N, v), -EINVAL);
}

Test(kmsg, record_and_match)
{
	const char *rec = "4,1234,98765432,-;nf_conntrack: table full, dropping packet\n";
	uint64_t ts = 0;
	char text[256];

	cr_assert_eq(ct_kmsg_parse(rec, strlen(rec), &ts, text, sizeof(text)), 0);
	cr_expect_eq(ts, 98765432);
	cr_expect_str_eq(text, "nf_conntrack: table full, dropping packet");
	cr_expect(ct_kmsg_match(text));
	cr_expect(ct_kmsg_match("nf_conntrack: table full in netns 3, dropping packet"));
	cr_expect(ct_kmsg_match("TCP: time wait bucket table overflow"));
	cr_expect_not(ct_kmsg_match("eth0: link up"));
	cr_expect_eq(ct_kmsg_parse("garbage", 7, &ts, text, sizeof(text)), -EINVAL);
}

/* The live path on this process's own netns: reading needs no privilege. */
Test(sampler, fill_reads_own_netns)
{
	struct ct_sampler *s = ct_sampler_new("client", -1);
	json_t *sample = json_object(), *o;

	cr_assert_not_null(s);
	cr_assert_eq(ct_sampler_fill(s, sample), 0);
	o = json_object_get(json_object_get(sample, "ns"), "client");
	cr_assert_not_null(o, "sample.ns.client");
	cr_expect(json_is_integer(json_object_get(o, "tw")));
	cr_expect(json_is_integer(json_object_get(o, "ports_in_use")));
	cr_expect(json_is_integer(json_object_get(o, "tcpext.TW")));
	json_decref(sample);
	ct_sampler_free(s);
}
