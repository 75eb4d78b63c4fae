/* procfs — /proc parsers and their readers (see procfs.h). */
#include "loadgen/host/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool ct_procfs_tcp_listen_port(const char *line, uint16_t *port)
{
	char local[64], remote[64], *colon;
	unsigned st, p;

	/* "sl local rem st ...": the header's "st" is no hex number. */
	if (sscanf(line, " %*s %63s %63s %x", local, remote, &st) != 3 || st != 0x0A)
		return false;
	if (!(colon = strrchr(local, ':')) || sscanf(colon + 1, "%x", &p) != 1 || p > 65535)
		return false;
	*port = (uint16_t)p;
	return true;
}

static bool row_stops(const char *line, ct_procfs_port_fn fn, void *ctx)
{
	uint16_t port;

	return ct_procfs_tcp_listen_port(line, &port) && fn(ctx, port);
}

int ct_procfs_tcp_listen_each(int fd, ct_procfs_port_fn fn, void *ctx)
{
	char buf[4096];
	size_t have = 0;   /* the start of a line whose end the next read brings */
	bool skip = false; /* in a line longer than buf: no row is that long */
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(fd, buf + have, sizeof(buf) - 1 - have, off);
		char *line = buf, *nl, *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		off += n;
		end = buf + have + (size_t)n;
		*end = '\0';
		while ((nl = memchr(line, '\n', (size_t)(end - line)))) {
			*nl = '\0';
			if (!skip && row_stops(line, fn, ctx))
				return 1;
			skip = false;
			line = nl + 1;
		}
		have = (size_t)(end - line);
		if (have == sizeof(buf) - 1) {
			skip = true;
			have = 0;
		} else {
			memmove(buf, line, have);
		}
	}
	buf[have] = '\0';
	return have && !skip && row_stops(buf, fn, ctx) ? 1 : 0;
}
