/* httpproto — the request head of HTTP/1.0 and HTTP/1.1 as a pure parser:
 * bytes in, a decoded GET/HEAD request (or the status code to refuse it
 * with) out. No sockets, no allocation; the caller owns the buffer.
 *
 * What it accepts (RFC 9112, the strict reading where the RFC allows a
 * choice, since a lab server has no legacy clients to please):
 *   - up to 4 empty lines before the request line (RFC 9112 2.2);
 *   - lines ending in CRLF or a bare LF; a bare CR elsewhere is refused;
 *   - `METHOD SP target SP HTTP/1.x`, single spaces, a token method;
 *   - header fields `name: value`, no space before the colon, no
 *     obs-fold (a line starting with a space), no NUL or control byte;
 *   - HTTP/1.1 needs a Host field (RFC 9112 3.2).
 * Refusals: 400 malformed, 414 request line over CT_HTTP_LINE_MAX, 431
 * head over CT_HTTP_HEAD_MAX, 501 a method other than GET and HEAD, 505 a
 * version other than 1.0 and 1.1. A refusal is decided as soon as the bytes
 * seen prove it, so a client that never sends a line end is refused at
 * the limit, not buffered.
 *
 * Use: ct_http_parse(buf, len, &req). CT_HTTP_NEED_MORE: the head is not
 * complete yet (read more). CT_HTTP_OK: req.consumed bytes form the head.
 * CT_HTTP_BAD: answer req.code and close. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Longest request line, its line end included. */
#define CT_HTTP_LINE_MAX 4096
/* Longest head (request line, fields and the blank line). */
#define CT_HTTP_HEAD_MAX 8192

enum ct_http_status {
	CT_HTTP_OK = 0,
	CT_HTTP_NEED_MORE,
	CT_HTTP_BAD,
};

enum ct_http_method {
	CT_HTTP_GET = 0,
	CT_HTTP_HEAD,
};

struct ct_http_req {
	size_t consumed; /* CT_HTTP_OK: bytes of the head, blank line included */
	enum ct_http_method method;
	int minor;	    /* HTTP/1.minor: 0 or 1 */
	const char *target; /* inside the buffer, not terminated */
	size_t ntarget;
	bool has_host;
	int code; /* CT_HTTP_BAD: 400, 414, 431, 501 or 505 */
};

enum ct_http_status ct_http_parse(const char *buf, size_t len, struct ct_http_req *req);
/* "Bad Request" for 400 and so on; "Error" for a code it does not know. */
const char *ct_http_reason(int code);
