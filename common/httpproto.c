#include "common/httpproto.h"

#include <string.h>
#include <strings.h>

/* Empty lines tolerated before the request line. */
#define LEADING_EMPTY_MAX 4

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static enum ct_http_status bad(struct ct_http_req *req, int code)
{
	req->code = code;
	return CT_HTTP_BAD;
}

/* HTTP-version: 0 for 1.0 and 1.1 (minor set), 505 another version, 400
 * not a version at all. */
static int parse_version(const char *v, size_t n, int *minor)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return 505;
	*minor = v[7] - '0';
	return 0;
}

/* `METHOD SP target SP version`, n bytes without the line end: 0 or the
 * status to refuse it with. */
static int parse_request_line(const char *l, size_t n, struct ct_http_req *req)
{
	const char *sp1 = memchr(l, ' ', n), *sp2, *end = l + n;
	int r;

	if (!sp1 || sp1 == l)
		return 400;
	for (const char *p = l; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	for (const char *p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 400;
	if ((r = parse_version(sp2 + 1, (size_t)(end - sp2 - 1), &req->minor)))
		return r;
	req->target = sp1 + 1;
	req->ntarget = (size_t)(sp2 - sp1 - 1);
	if (sp1 - l == 3 && memcmp(l, "GET", 3) == 0)
		req->method = CT_HTTP_GET;
	else if (sp1 - l == 4 && memcmp(l, "HEAD", 4) == 0)
		req->method = CT_HTTP_HEAD;
	else
		return 501;
	return 0;
}

/* `name: value`, n bytes without the line end: 0 or 400. */
static int parse_field(const char *l, size_t n, struct ct_http_req *req)
{
	const char *colon = memchr(l, ':', n);

	/* A leading space is obs-fold, which RFC 9112 5.2 lets a server refuse. */
	if (!colon || colon == l)
		return 400;
	for (const char *p = l; p < colon; p++)
		if (!is_tchar((unsigned char)*p))
			return 400;
	for (const char *p = colon + 1; p < l + n; p++) {
		unsigned char c = (unsigned char)*p;

		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return 400;
	}
	if (colon - l == 4 && strncasecmp(l, "host", 4) == 0) {
		if (req->has_host) /* RFC 9112 3.2: more than one Host is a 400 */
			return 400;
		req->has_host = true;
	}
	return 0;
}

/* Bytes of a request line that has no end yet: 400 as soon as its method
 * cannot be a token (binary garbage), 414 at the limit, else 0 (wait). */
static int check_partial_line(const char *l, size_t n)
{
	for (size_t i = 0; i < n && l[i] != ' '; i++)
		if (!is_tchar((unsigned char)l[i]) && !(l[i] == '\r' && i + 1 == n))
			return 400;
	return n >= CT_HTTP_LINE_MAX ? 414 : 0;
}

/* Skip the empty lines allowed before the request line: the offset of the
 * request line, or -1 (more than allowed), or -2 (a lone CR at the end). */
static long skip_leading(const char *buf, size_t len)
{
	size_t pos = 0;

	for (int seen = 0;; seen++) {
		size_t eol;

		if (pos < len && buf[pos] == '\n')
			eol = 1;
		else if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
			eol = 2;
		else if (pos + 1 == len && buf[pos] == '\r')
			return -2;
		else
			return (long)pos;
		if (seen == LEADING_EMPTY_MAX)
			return -1;
		pos += eol;
	}
}

/* The next line of buf from pos: its length without the line end, and
 * *next past it; false when no '\n' has come yet. */
static bool next_line(const char *buf, size_t len, size_t pos, size_t *n, size_t *next)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);

	if (!nl)
		return false;
	*next = (size_t)(nl - buf) + 1;
	*n = (size_t)(nl - (buf + pos));
	if (*n > 0 && buf[pos + *n - 1] == '\r')
		(*n)--;
	return true;
}

enum ct_http_status ct_http_parse(const char *buf, size_t len, struct ct_http_req *req)
{
	long start = skip_leading(buf, len);
	size_t pos, n, next;
	int r;

	memset(req, 0, sizeof(*req));
	if (start == -1)
		return bad(req, 400);
	if (start == -2)
		return CT_HTTP_NEED_MORE;
	pos = (size_t)start;
	if (!next_line(buf, len, pos, &n, &next)) {
		r = check_partial_line(buf + pos, len - pos);
		return r ? bad(req, r) : CT_HTTP_NEED_MORE;
	}
	if (next - pos > CT_HTTP_LINE_MAX)
		return bad(req, 414);
	if ((r = parse_request_line(buf + pos, n, req)))
		return bad(req, r);
	for (pos = next;; pos = next) {
		if (!next_line(buf, len, pos, &n, &next))
			return len >= CT_HTTP_HEAD_MAX ? bad(req, 431) : CT_HTTP_NEED_MORE;
		if (next > CT_HTTP_HEAD_MAX)
			return bad(req, 431);
		if (n == 0)
			break;
		if ((r = parse_field(buf + pos, n, req)))
			return bad(req, r);
	}
	if (req->minor == 1 && !req->has_host)
		return bad(req, 400);
	req->consumed = next;
	return CT_HTTP_OK;
}

const char *ct_http_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}
