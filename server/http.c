/* http — the answers of ctserver's http mode: one parsed request head in,
 * the reply's head appended to the connection's output and its body
 * pointed at (the one --body buffer every connection shares, sent without
 * a copy). No socket work here. */
#include "common/httpproto.h"
#include "server/srv_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The image: printable bytes, so a body shown by curl or in a capture
 * reads as what it is. */
char *ct_http_body_new(uint64_t size)
{
	static const char pat[] = "ctserver image body\n";
	char *b = malloc(size ? size : 1);

	if (!b)
		return NULL;
	for (uint64_t i = 0; i < size; i++)
		b[i] = pat[i % (sizeof(pat) - 1)];
	return b;
}

/* RFC 9110 6.6.1: an origin server with a clock sends Date. */
static void add_date(struct ct_outbuf *out)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) &&
	    strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm))
		ct_outbuf_str(out, date);
}

void ct_http_answer(struct ct_worker *w, const struct ct_http_req *req, struct ct_outbuf *out,
		    const char **body, size_t *body_len)
{
	const struct ct_srv *srv = w->srv;

	/* HTTP/1.1 whatever the request's minor: the highest version this
	 * server speaks, as RFC 9110 2.5 asks (nginx does the same). */
	ct_outbuf_str(out, "HTTP/1.1 200 OK\r\nServer: ctserver\r\n");
	add_date(out);
	ct_outbuf_printf(out,
			 "Content-Type: application/octet-stream\r\nContent-Length: %" PRIu64
			 "\r\nConnection: close\r\n\r\n",
			 srv->cfg.body);
	CT_CNT_INC(w, cmd_get);
	*body = req->method == CT_HTTP_HEAD ? NULL : srv->body;
	*body_len = req->method == CT_HTTP_HEAD ? 0 : (size_t)srv->cfg.body;
}

void ct_http_refuse(int code, struct ct_outbuf *out)
{
	const char *reason = ct_http_reason(code);

	ct_outbuf_printf(out, "HTTP/1.1 %d %s\r\nServer: ctserver\r\n", code, reason);
	add_date(out);
	ct_outbuf_printf(out,
			 "Content-Type: text/plain\r\nContent-Length: %zu\r\nConnection: "
			 "close\r\n\r\n%s\n",
			 strlen(reason) + 1, reason);
}
