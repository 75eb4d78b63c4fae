#include "server/hoststat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long ct_hoststat_parse_sockstat_tw(const char *text)
{
	const char *line = strstr(text, "TCP:");
	const char *tw;
	char *end;
	long v;

	if (!line)
		return -1;
	tw = strstr(line, " tw ");
	if (!tw || (strchr(line, '\n') && tw > strchr(line, '\n')))
		return -1;
	v = strtol(tw + 4, &end, 10);
	return end == tw + 4 ? -1 : v;
}

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

static long read_long(const char *path)
{
	char buf[64], *end;
	long v;

	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	v = strtol(buf, &end, 10);
	return end == buf ? -1 : v;
}

void ct_hoststat_sample(struct ct_hoststat *hs)
{
	char buf[1024];

	hs->conntrack_count = read_long("/proc/sys/net/netfilter/nf_conntrack_count");
	hs->conntrack_max = read_long("/proc/sys/net/netfilter/nf_conntrack_max");
	hs->tw = read_file("/proc/net/sockstat", buf, sizeof(buf)) > 0
		     ? ct_hoststat_parse_sockstat_tw(buf)
		     : -1;
}
