/* outbuf: a connection's reply buffer, inline for small replies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "server/outbuf.h"

Test(outbuf, small_replies_stay_inline)
{
	struct ct_outbuf o;

	ct_outbuf_init(&o);
	ct_outbuf_str(&o, "STORED\r\n");
	ct_outbuf_printf(&o, "VALUE %s %u %u\r\n", "k", 0u, 3u);
	cr_assert_eq(o.buf, o.inl, "no allocation for small replies");
	cr_assert_eq(ct_outbuf_pending(&o), strlen("STORED\r\nVALUE k 0 3\r\n"));
	ct_outbuf_discard(&o);
	cr_assert_eq(ct_outbuf_pending(&o), 0u);
	ct_outbuf_free(&o);
}

Test(outbuf, grows_then_flushes_back_to_inline)
{
	static char big[100000];
	struct ct_outbuf o;
	int p[2];
	char rd[4096];
	size_t got = 0;

	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	memset(big, 'v', sizeof(big));
	ct_outbuf_init(&o);
	ct_outbuf_add(&o, big, sizeof(big));
	cr_assert_neq(o.buf, o.inl);
	cr_assert_eq(ct_outbuf_pending(&o), sizeof(big));
	while (ct_outbuf_flush(&o, p[1]) == -EAGAIN) {
		ssize_t n = read(p[0], rd, sizeof(rd));

		cr_assert_gt(n, 0);
		got += (size_t)n;
	}
	cr_assert_eq(o.buf, o.inl, "drained: back to the inline array");
	cr_assert_eq(ct_outbuf_pending(&o), 0u);
	for (ssize_t n; (n = read(p[0], rd, sizeof(rd))) > 0;)
		got += (size_t)n;
	cr_assert_eq(got, sizeof(big), "every byte written, in one piece");
	close(p[0]);
	close(p[1]);
	ct_outbuf_free(&o);
}
