/* procfs — /proc parsers and their readers (see procfs.h). */
#include "loadgen/host/procfs.h"

#include <errno.h>
#include <fcntl.h>
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

int ct_procfs_stat_parse(const char *text, char *state, unsigned long long *start)
{
	const char *p = strrchr(text, ')');
	int field;

	if (!p)
		return -EIO;
	p++;
	*state = p[0] == ' ' ? p[1] : '\0';
	/* After ')' comes field 3 (state); start time is field 22. */
	for (field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", start) != 1)
		return -EIO;
	return 0;
}

/* /proc/PID/stat of `pid` into buf: 0 or -errno (-ESRCH: no such process). */
static int read_stat(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

int ct_proc_start_time(pid_t pid, unsigned long long *out)
{
	char buf[1024], state;
	unsigned long long start = 0;
	int ret = read_stat(pid, buf, sizeof(buf));

	if (ret == 0)
		ret = ct_procfs_stat_parse(buf, &state, &start);
	if (ret == 0)
		*out = start;
	return ret;
}

bool ct_proc_is(pid_t pid, unsigned long long start)
{
	char buf[1024], state = 0;
	unsigned long long now = 0;

	if (pid <= 0 || read_stat(pid, buf, sizeof(buf)) < 0 ||
	    ct_procfs_stat_parse(buf, &state, &now) < 0 || now != start)
		return false;
	/* A zombie is dead for our purposes: it holds no netns or port. */
	return state != 'Z' && state != 'X';
}
