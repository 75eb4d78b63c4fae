#include "loadgen/probe/kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ct_kmsg {
	int fd;
};

struct ct_kmsg *ct_kmsg_open(void)
{
	struct ct_kmsg *k = calloc(1, sizeof(*k));
	int e;

	if (!k)
		return NULL;
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		goto fail;
	if (lseek(k->fd, 0, SEEK_END) < 0)
		goto fail;
	return k;
fail:
	e = errno;
	ct_kmsg_free(k);
	errno = e;
	return NULL;
}

void ct_kmsg_free(struct ct_kmsg *k)
{
	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

int ct_kmsg_parse(const char *rec, size_t len, uint64_t *ts_us, char *text, size_t textlen)
{
	const char *semi = memchr(rec, ';', len), *p, *end;
	unsigned long long pri, seq, ts;
	char head[128];
	size_t hl, n;

	if (!semi || !textlen)
		return -EINVAL;
	hl = (size_t)(semi - rec);
	if (hl >= sizeof(head))
		return -EINVAL;
	memcpy(head, rec, hl);
	head[hl] = '\0';
	if (sscanf(head, "%llu,%llu,%llu", &pri, &seq, &ts) != 3)
		return -EINVAL;
	p = semi + 1;
	end = memchr(p, '\n', len - (size_t)(p - rec));
	if (!end)
		end = rec + len;
	n = (size_t)(end - p);
	if (n >= textlen)
		n = textlen - 1;
	memcpy(text, p, n);
	text[n] = '\0';
	*ts_us = ts;
	return 0;
}

bool ct_kmsg_match(const char *text)
{
	/* "nf_conntrack: table full, dropping packet", "nf_conntrack: nf_conntrack:
	 * table full in netns 3, ...", "TCP: time wait bucket table overflow"
	 * (older kernels), "nf_conntrack: falling back to vmalloc" ... */
	return strstr(text, "conntrack") || strstr(text, "TIME_WAIT") ||
	       strstr(text, "time wait") || strstr(text, "time-wait");
}

int ct_kmsg_poll(struct ct_kmsg *k, ct_kmsg_cb cb, void *ctx)
{
	char rec[8192], text[1024];
	int matched = 0;

	for (;;) {
		uint64_t ts;
		ssize_t n = read(k->fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EAGAIN)
				return matched;
			if (errno == EPIPE) /* we were overrun: records were lost */
				continue;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return matched;
		rec[n] = '\0';
		if (ct_kmsg_parse(rec, (size_t)n, &ts, text, sizeof(text)) < 0)
			continue;
		if (!ct_kmsg_match(text))
			continue;
		matched++;
		if (cb)
			cb(ctx, ts, text);
	}
}
