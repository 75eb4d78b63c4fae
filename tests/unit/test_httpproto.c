/* httpproto: the HTTP/1.x request-head parser behind ctserver --mode http,
 * fed bytes as a client sends them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/httpproto.h"

static enum ct_http_status parse(const char *s, struct ct_http_req *req)
{
	return ct_http_parse(s, strlen(s), req);
}

/* The status a head is refused with, 0 when it is accepted. */
static int refused(const char *s)
{
	struct ct_http_req req;
	enum ct_http_status st = parse(s, &req);

	cr_assert_neq(st, CT_HTTP_NEED_MORE, "'%s' should be complete", s);
	return st == CT_HTTP_BAD ? req.code : 0;
}

Test(httpproto, get_1_0_and_1_1)
{
	struct ct_http_req req;
	const char *h = "GET /image/7.jpg HTTP/1.0\r\n\r\nextra";

	cr_assert_eq(parse(h, &req), CT_HTTP_OK);
	cr_assert_eq(req.method, CT_HTTP_GET);
	cr_assert_eq(req.minor, 0);
	cr_assert_eq(req.consumed, strlen(h) - 5);
	cr_assert_eq(req.ntarget, strlen("/image/7.jpg"));
	cr_assert(memcmp(req.target, "/image/7.jpg", req.ntarget) == 0);
	cr_assert_eq(parse("HEAD / HTTP/1.1\r\nHost: x\r\nUser-Agent: a b\r\n\r\n", &req),
		     CT_HTTP_OK);
	cr_assert_eq(req.method, CT_HTTP_HEAD);
	cr_assert_eq(req.minor, 1);
	cr_assert(req.has_host);
}

Test(httpproto, bare_lf_and_leading_empty_lines)
{
	struct ct_http_req req;

	cr_assert_eq(parse("\r\n\nGET / HTTP/1.0\nA: b\n\n", &req), CT_HTTP_OK);
	cr_assert_eq(refused("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n"), 400);
}

Test(httpproto, incomplete_waits)
{
	struct ct_http_req req;

	cr_assert_eq(parse("", &req), CT_HTTP_NEED_MORE);
	cr_assert_eq(parse("\r", &req), CT_HTTP_NEED_MORE);
	cr_assert_eq(parse("GET / HT", &req), CT_HTTP_NEED_MORE);
	cr_assert_eq(parse("GET / HTTP/1.0\r\n", &req), CT_HTTP_NEED_MORE);
	cr_assert_eq(parse("GET / HTTP/1.0\r\nHost: a\r\n\r", &req), CT_HTTP_NEED_MORE);
}

Test(httpproto, malformed_is_400)
{
	cr_assert_eq(refused("GET  / HTTP/1.0\r\n\r\n"), 400);
	cr_assert_eq(refused("GET /\r\n\r\n"), 400);
	cr_assert_eq(refused("GET / HTTP/1.0 \r\n\r\n"), 400);
	cr_assert_eq(refused("GET / HTTP/1.0\rx\r\n\r\n"), 400);
	cr_assert_eq(refused("GET / HTTP/1.0\r\nBad Name: v\r\n\r\n"), 400);
	cr_assert_eq(refused("GET / HTTP/1.0\r\nName : v\r\n\r\n"), 400);
	cr_assert_eq(refused("GET / HTTP/1.0\r\n folded\r\n\r\n"), 400);
	cr_assert_eq(refused("GET / HTTP/1.0\r\nA: x\001y\r\n\r\n"), 400);
	/* HTTP/1.1 needs exactly one Host. */
	cr_assert_eq(refused("GET / HTTP/1.1\r\n\r\n"), 400);
	cr_assert_eq(refused("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
}

Test(httpproto, garbage_refused_before_a_line_end)
{
	struct ct_http_req req;
	const char junk[] = {'\x16', '\x03', '\x01', 0, 'x'}; /* a TLS hello */

	cr_assert_eq(ct_http_parse(junk, sizeof(junk), &req), CT_HTTP_BAD);
	cr_assert_eq(req.code, 400);
}

Test(httpproto, method_and_version)
{
	cr_assert_eq(refused("POST / HTTP/1.0\r\n\r\n"), 501);
	cr_assert_eq(refused("get / HTTP/1.0\r\n\r\n"), 501);
	cr_assert_eq(refused("GET / HTTP/2.0\r\n\r\n"), 505);
	cr_assert_eq(refused("GET / HTTP/1.2\r\n\r\n"), 505);
	cr_assert_eq(refused("GET / HTTP/one\r\n\r\n"), 400);
}

Test(httpproto, limits)
{
	static char buf[CT_HTTP_HEAD_MAX + 64];
	struct ct_http_req req;
	size_t n;

	/* A request line that never ends is refused at the limit. */
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', CT_HTTP_LINE_MAX);
	cr_assert_eq(ct_http_parse(buf, CT_HTTP_LINE_MAX - 1, &req), CT_HTTP_NEED_MORE);
	cr_assert_eq(ct_http_parse(buf, CT_HTTP_LINE_MAX, &req), CT_HTTP_BAD);
	cr_assert_eq(req.code, 414);
	/* Fields past the head limit: 431, also with no blank line yet. */
	n = (size_t)sprintf(buf, "GET / HTTP/1.0\r\n");
	while (n < CT_HTTP_HEAD_MAX + 10)
		n += (size_t)sprintf(buf + n, "X: 0123456789\r\n");
	cr_assert_eq(ct_http_parse(buf, n, &req), CT_HTTP_BAD);
	cr_assert_eq(req.code, 431);
	cr_assert_str_eq(ct_http_reason(431), "Request Header Fields Too Large");
}
