/* hoststat: the TIME_WAIT count ctserver reports in `stats` (ct_tw). */
#include <criterion/criterion.h>

#include "server/hoststat.h"

Test(hoststat, sockstat_tw)
{
	const char *text = "sockets: used 181\n"
			   "TCP: inuse 7 orphan 0 tw 4213 alloc 12 mem 3\n"
			   "UDP: inuse 2 mem 1\n";

	cr_assert_eq(ct_hoststat_parse_sockstat_tw(text), 4213);
	cr_assert_eq(ct_hoststat_parse_sockstat_tw("TCP: inuse 0 orphan 0 tw 0 alloc 0 mem 0\n"),
		     0);
}

Test(hoststat, missing_tw_is_minus_one)
{
	cr_assert_eq(ct_hoststat_parse_sockstat_tw("UDP: inuse 2 mem 1\n"), -1);
	cr_assert_eq(ct_hoststat_parse_sockstat_tw("TCP: inuse 7\nUDP: tw 5\n"), -1,
		     "a tw on another line is not TCP's");
	cr_assert_eq(ct_hoststat_parse_sockstat_tw(""), -1);
}

Test(hoststat, sample_reads_this_netns)
{
	struct ct_hoststat hs;

	ct_hoststat_sample(&hs);
	cr_assert_geq(hs.tw, 0, "/proc/net/sockstat is always there");
	cr_assert(hs.conntrack_max == -1 || hs.conntrack_max > 0);
}
