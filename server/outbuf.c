#include "server/outbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ct_outbuf_init(struct ct_outbuf *o)
{
	o->buf = o->inl;
	o->cap = sizeof(o->inl);
	o->len = o->off = 0;
	o->broken = false;
}

void ct_outbuf_free(struct ct_outbuf *o)
{
	if (o->buf != o->inl)
		free(o->buf);
	ct_outbuf_init(o);
}

static bool reserve(struct ct_outbuf *o, size_t n)
{
	size_t need, cap;
	char *nb;

	if (o->broken)
		return false;
	if (o->len + n <= o->cap)
		return true;
	/* Reclaim what has been written before growing. */
	if (o->off) {
		memmove(o->buf, o->buf + o->off, o->len - o->off);
		o->len -= o->off;
		o->off = 0;
		if (o->len + n <= o->cap)
			return true;
	}
	need = o->len + n;
	for (cap = o->cap * 2; cap < need; cap *= 2)
		;
	nb = malloc(cap);
	if (!nb) {
		o->broken = true;
		return false;
	}
	memcpy(nb, o->buf, o->len);
	if (o->buf != o->inl)
		free(o->buf);
	o->buf = nb;
	o->cap = cap;
	return true;
}

void ct_outbuf_add(struct ct_outbuf *o, const void *p, size_t n)
{
	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void ct_outbuf_str(struct ct_outbuf *o, const char *s)
{
	ct_outbuf_add(o, s, strlen(s));
}

void ct_outbuf_printf(struct ct_outbuf *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ct_outbuf_add(o, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void ct_outbuf_discard(struct ct_outbuf *o)
{
	if (o->off == 0)
		o->len = 0;
}

int ct_outbuf_flush(struct ct_outbuf *o, int fd)
{
	while (o->off < o->len) {
		ssize_t n = write(fd, o->buf + o->off, o->len - o->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		o->off += (size_t)n;
	}
	/* Drained: back to the inline array so an idle connection holds little. */
	if (o->buf != o->inl)
		free(o->buf);
	ct_outbuf_init(o);
	return 0;
}
