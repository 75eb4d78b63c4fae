/* The lab's address plan: which address each netns gets from [lab]
 * addresses and clients, and the messages for a range that cannot hold the
 * lab. Pure, so no root: the lab tests (test_lab, root) check the same
 * addresses on a built lab. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "loadgen/lab/addr.h"

static const char *str(uint32_t a)
{
	static char buf[8][INET_ADDRSTRLEN];
	static unsigned next;
	char *b = buf[next++ % 8];

	return ct_lab_addr_str(a, b);
}

Test(addr, default_range)
{
	struct ct_lab_addr ap;
	struct ct_err err = {.msg = ""};

	cr_assert_eq(ct_lab_addr_plan(NULL, 2, &ap, &err), 0, "%s", err.msg);
	cr_expect_eq(ap.prefix, 15);
	cr_expect_eq(ap.half_prefix, 16);
	cr_expect_str_eq(str(ap.net), "198.18.0.0");
	cr_expect_str_eq(str(ap.cli_net), "198.18.0.0");
	cr_expect_str_eq(str(ap.srv_net), "198.19.0.0");
	cr_expect_str_eq(str(ct_lab_addr_client(&ap, 0)), "198.18.0.1");
	cr_expect_str_eq(str(ct_lab_addr_client(&ap, 1)), "198.18.0.2");
	cr_expect_str_eq(str(ap.server), "198.19.0.1");
	cr_expect_str_eq(str(ap.router_cli), "198.18.255.254");
	cr_expect_str_eq(str(ap.router_srv), "198.19.255.254");
	cr_expect_eq(ct_lab_addr_max_clients(&ap), 65533);
	cr_expect_eq(ct_lab_addr_link_prefix(&ap, true), 15, "direct: one link, the whole range");
	cr_expect_eq(ct_lab_addr_link_prefix(&ap, false), 16, "router, nat: a half per link");
}

Test(addr, small_range_and_host_bits)
{
	struct ct_lab_addr ap;
	struct ct_err err = {.msg = ""};

	/* Host bits in the range are dropped: 10.1.2.77/24 is 10.1.2.0/24. */
	cr_assert_eq(ct_lab_addr_plan("10.1.2.77/24", 125, &ap, &err), 0, "%s", err.msg);
	cr_expect_str_eq(str(ap.net), "10.1.2.0");
	cr_expect_eq(ap.mask, 0xffffff00u);
	cr_expect_str_eq(str(ct_lab_addr_client(&ap, 124)), "10.1.2.125");
	cr_expect_str_eq(str(ap.router_cli), "10.1.2.126");
	cr_expect_str_eq(str(ap.srv_net), "10.1.2.128");
	cr_expect_str_eq(str(ap.server), "10.1.2.129");
	cr_expect_str_eq(str(ap.router_srv), "10.1.2.254");
	cr_expect_eq(ct_lab_addr_max_clients(&ap), 125);

	cr_assert_eq(ct_lab_addr_plan("192.0.2.0/28", 5, &ap, &err), 0, "%s", err.msg);
	cr_expect_eq(ct_lab_addr_max_clients(&ap), 5, "the narrowest range holds five");
}

Test(addr, bad_ranges_are_usage_errors)
{
	static const char *const bad[] = {"198.18.0.0", "198.18.0.0/7", "198.18.0.0/29",
					  "198.18.0.0/x", "fd00::/64"};
	struct ct_lab_addr ap;
	struct ct_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = (struct ct_err){.msg = ""};
		cr_expect_eq(ct_lab_addr_plan(bad[i], 1, &ap, &err), -EINVAL, "%s", bad[i]);
		cr_expect_eq(err.code, CT_EXIT_USAGE);
		cr_expect(strstr(err.msg, "[lab] addresses = ") && strstr(err.msg, bad[i]), "%s",
			  err.msg);
	}
	err = (struct ct_err){.msg = ""};
	cr_expect_eq(ct_lab_addr_plan("300.18.0.0/15", 1, &ap, &err), -EINVAL);
	cr_expect_str_eq(err.msg,
			 "[lab] addresses = 300.18.0.0/15: '300.18.0.0' is not an IPv4 address");
	cr_expect_eq(ct_lab_addr_plan("198.18.0.0/7", 1, &ap, NULL), -EINVAL, "err may be NULL");
}

Test(addr, too_many_or_no_clients)
{
	struct ct_lab_addr ap;
	struct ct_err err = {.msg = ""};

	cr_expect_eq(ct_lab_addr_plan("192.0.2.0/28", 6, &ap, &err), -EINVAL);
	cr_expect_eq(err.code, CT_EXIT_USAGE);
	cr_expect_str_eq(err.msg, "[lab] clients = 6: the range 192.0.2.0/28 holds at most 5 "
				  "client addresses; widen it to a /27 (e.g. [lab] addresses = "
				  "192.0.2.0/27 holds 13) or use fewer clients");
	err = (struct ct_err){.msg = ""};
	cr_expect_eq(ct_lab_addr_plan(NULL, 0, &ap, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "[lab] clients = 0: the range 198.18.0.0/15 holds 1 to 65533 "
				  "client addresses");
	/* The default range's real bound, and the way past it. */
	err = (struct ct_err){.msg = ""};
	cr_expect_eq(ct_lab_addr_plan(NULL, 65533, &ap, &err), 0, "%s", err.msg);
	cr_expect_eq(ct_lab_addr_plan(NULL, 65534, &ap, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "[lab] clients = 65534: the range 198.18.0.0/15 holds at most "
				  "65533 client addresses; widen it to a /14 (e.g. [lab] addresses "
				  "= 198.16.0.0/14 holds 131069) or use fewer clients");
	err = (struct ct_err){.msg = ""};
	cr_expect_eq(ct_lab_addr_plan("198.16.0.0/14", 65534, &ap, &err), 0, "%s", err.msg);
	cr_expect_eq(ct_lab_addr_prefix_for(1048573), 11);
	cr_expect_eq(ct_lab_addr_prefix_for(1048574), 10);
}

/* The client netns' local routes: aligned blocks that cover exactly the
 * client addresses (the router's address sits in the same half). */
Test(addr, blocks)
{
	struct ct_lab_block b[CT_LAB_BLOCKS_MAX];
	struct ct_lab_addr ap;
	size_t n;
	uint32_t next, covered = 0;

	cr_assert_eq(ct_lab_addr_plan(NULL, 65533, &ap, NULL), 0);
	/* Clients 1..65532: 198.18.0.2 .. 198.18.255.253. */
	n = ct_lab_addr_blocks(ct_lab_addr_client(&ap, 1), 65532, b, CT_LAB_BLOCKS_MAX);
	cr_expect_str_eq(str(b[0].net), "198.18.0.2");
	cr_expect_eq(b[0].prefix, 31);
	next = b[0].net;
	for (size_t i = 0; i < n; i++) {
		uint32_t size = 1u << (32 - b[i].prefix);
		cr_expect_eq(b[i].net, next, "block %zu follows the last", i);
		cr_expect_eq(b[i].net & (size - 1), 0, "block %zu is aligned", i);
		next += size;
		covered += size;
	}
	cr_expect_eq(covered, 65532);
	cr_expect_str_eq(str(next - 1), "198.18.255.253", "the last client, not the router");
	cr_expect_leq(n, 32);
	/* One address; none. */
	cr_expect_eq(ct_lab_addr_blocks(0x0a000005u, 1, b, CT_LAB_BLOCKS_MAX), 1);
	cr_expect_eq(b[0].prefix, 32);
	cr_expect_eq(ct_lab_addr_blocks(0x0a000005u, 0, b, CT_LAB_BLOCKS_MAX), 0);
	/* An aligned power of two is one block. */
	cr_expect_eq(ct_lab_addr_blocks(0x0a000000u, 4096, b, CT_LAB_BLOCKS_MAX), 1);
	cr_expect_eq(b[0].prefix, 20);
}

Test(addr, sockaddr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	char ip[INET_ADDRSTRLEN];

	memset(&ss, 0xa5, sizeof(ss));
	ct_lab_addr_sockaddr(0xc6130001u, 11211, &ss);
	cr_expect_eq(sin->sin_family, AF_INET);
	cr_expect_eq(ntohs(sin->sin_port), 11211);
	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	cr_expect_str_eq(ip, "198.19.0.1");
	cr_expect_eq(sin->sin_zero[0], 0, "the rest is zeroed");
}
