/* hostinfo: the ports this host listens on, from a copy of /proc under a
 * root directory (tests/data/proc/net/tcp and tcp6). */
#include <criterion/criterion.h>
#include <errno.h>

#include "loadgen/host/hostinfo.h"

Test(hostinfo, listen_ports_of_tcp_and_tcp6)
{
	uint16_t ports[8];
	size_t n = 0;

	cr_assert_eq(ct_hostinfo_listen_ports(CT_TEST_DATA, ports, 8, &n), 0);
	cr_assert_eq(n, 5, "22, 631, 11211, 11212 (tcp), 8080 and 22 again (tcp6)");
	cr_expect_eq(ports[0], 22);
	cr_expect_eq(ports[1], 631);
	cr_expect_eq(ports[2], 8080);
	cr_expect_eq(ports[3], 11211);
	cr_expect_eq(ports[4], 11212);

	cr_assert_eq(ct_hostinfo_listen_ports(CT_TEST_DATA, ports, 2, &n), 0);
	cr_expect_eq(n, 5, "the total, though only two fit");
	cr_expect_eq(ports[0], 22);
	cr_expect_eq(ports[1], 631);
}

Test(hostinfo, listen_ports_without_procfs)
{
	uint16_t ports[1];
	size_t n = 0;

	cr_expect_eq(ct_hostinfo_listen_ports("/nonexistent", ports, 1, &n), -ENOENT);
}
