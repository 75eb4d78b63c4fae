/* procfs: the one parser of LISTEN rows in /proc/net/tcp and tcp6, and the
 * reader that feeds it a whole file. The fixtures (tests/data/proc/net/)
 * are longer than one read's buffer, with listeners at the start and at
 * the end, so a reader that stops after its first read misses some.
 * /proc/PID/stat lines are parsed the same way: text in, fields out. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/host/procfs.h"

static int open_fixture(const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/proc/net/%s", CT_TEST_DATA, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "fixture %s", path);
	return fd;
}

Test(procfs, listen_row)
{
	uint16_t port = 0;

	cr_expect(
	    ct_procfs_tcp_listen_port("   0: 00000000:0016 00000000:0000 0A 00000000:00000000 "
				      "00:00000000 00000000     0        0 588 1",
				      &port));
	cr_expect_eq(port, 22);
	cr_expect(ct_procfs_tcp_listen_port("  43: 010013C6:2BCB 00000000:0000 0A", &port));
	cr_expect_eq(port, 11211);
	cr_expect(ct_procfs_tcp_listen_port("   0: 00000000000000000000000000000000:1F90 "
					    "00000000000000000000000000000000:0000 0A 0",
					    &port),
		  "a tcp6 row");
	cr_expect_eq(port, 8080);
}

Test(procfs, other_rows_are_not_listeners)
{
	uint16_t port = 7;

	cr_expect_not(ct_procfs_tcp_listen_port("   1: 010012C6:9C40 010013C6:2BCB 01 0", &port),
		      "established");
	cr_expect_not(ct_procfs_tcp_listen_port("  42: 0100A8C0:2BCD 0200A8C0:D431 06 0", &port),
		      "TIME_WAIT");
	cr_expect_not(
	    ct_procfs_tcp_listen_port("  sl  local_address rem_address   st tx_queue", &port),
	    "the header");
	cr_expect_not(ct_procfs_tcp_listen_port("", &port));
	cr_expect_not(ct_procfs_tcp_listen_port("   0: 00000000 00000000:0000 0A", &port),
		      "no port");
	cr_expect_not(ct_procfs_tcp_listen_port("   0: 00000000:1FFFF 00000000:0000 0A", &port),
		      "port out of range");
	cr_expect_eq(port, 7, "untouched");
}

struct seen {
	uint16_t ports[16];
	size_t n;
	uint16_t stop_at; /* 0: read to the end */
};

static bool collect(void *ctx, uint16_t port)
{
	struct seen *s = ctx;

	if (s->n < 16)
		s->ports[s->n++] = port;
	return port == s->stop_at;
}

Test(procfs, reads_the_whole_file)
{
	struct seen s = {.n = 0};
	int fd = open_fixture("tcp");

	cr_assert_eq(ct_procfs_tcp_listen_each(fd, collect, &s), 0);
	cr_assert_eq(s.n, 4, "four listeners, two after the first 4 KiB");
	cr_expect_eq(s.ports[0], 22);
	cr_expect_eq(s.ports[1], 631);
	cr_expect_eq(s.ports[2], 11211);
	cr_expect_eq(s.ports[3], 11212);

	/* The same fd again reads from the start. */
	s.n = 0;
	cr_assert_eq(ct_procfs_tcp_listen_each(fd, collect, &s), 0);
	cr_expect_eq(s.n, 4);
	close(fd);

	s = (struct seen){.stop_at = 11211};
	fd = open_fixture("tcp6");
	cr_assert_eq(ct_procfs_tcp_listen_each(fd, collect, &s), 0);
	cr_expect_eq(s.n, 2);
	cr_expect_eq(s.ports[0], 8080);
	cr_expect_eq(s.ports[1], 22);
	close(fd);
}

Test(procfs, stops_when_asked)
{
	struct seen s = {.stop_at = 631};
	int fd = open_fixture("tcp");

	cr_expect_eq(ct_procfs_tcp_listen_each(fd, collect, &s), 1);
	cr_expect_eq(s.n, 2, "nothing read past the row that stopped it");
	close(fd);
	cr_expect_lt(ct_procfs_tcp_listen_each(-1, collect, &s), 0, "a bad fd is an error");
}

Test(procfs, live_file_reads)
{
	struct seen s = {.n = 0};
	int fd = open("/proc/net/tcp", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_expect_geq(ct_procfs_tcp_listen_each(fd, collect, &s), 0);
	close(fd);
}

Test(procfs, stat_line)
{
	char state = 0;
	unsigned long long start = 0;

	/* A command name with spaces and ')' in it; start time is field 22. */
	cr_assert_eq(ct_procfs_stat_parse("4242 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 "
					  "0 0 20 0 1 0 98765 1000 10 18446744073709551615\n",
					  &state, &start),
		     0);
	cr_expect_eq(state, 'S');
	cr_expect_eq(start, 98765);
	cr_assert_eq(ct_procfs_stat_parse("7 (zz) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 31 0 0",
					  &state, &start),
		     0);
	cr_expect_eq(state, 'Z');
	cr_expect_eq(start, 31);
	cr_expect_eq(ct_procfs_stat_parse("no parenthesis here", &state, &start), -EIO);
	cr_expect_eq(ct_procfs_stat_parse("1 (short) S 1 2 3", &state, &start), -EIO,
		     "fewer than 22 fields");
}
