/* outbuf — a connection's reply buffer: a small inline array that serves
 * every ordinary reply with no allocation, growing onto the heap only for
 * big values, and shrinking back once drained.
 *
 * Appends never fail silently: on allocation failure the buffer is marked
 * broken and the connection closes (ct_outbuf_broken). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CT_OUTBUF_INLINE 4096

struct ct_outbuf {
	char *buf;
	size_t len; /* bytes held */
	size_t off; /* bytes already written */
	size_t cap;
	bool broken;
	char inl[CT_OUTBUF_INLINE];
};

void ct_outbuf_init(struct ct_outbuf *o);
void ct_outbuf_free(struct ct_outbuf *o);
void ct_outbuf_add(struct ct_outbuf *o, const void *p, size_t n);
void ct_outbuf_str(struct ct_outbuf *o, const char *s);
void ct_outbuf_printf(struct ct_outbuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline size_t ct_outbuf_pending(const struct ct_outbuf *o)
{
	return o->len - o->off;
}
/* Forget what is pending (never written): whole replies only, since
 * commands are parsed only while nothing is half-written. */
void ct_outbuf_discard(struct ct_outbuf *o);
/* Write what is pending to fd. 0 when all is out, -EAGAIN when the socket
 * is full, other -errno on error. */
int ct_outbuf_flush(struct ct_outbuf *o, int fd);
