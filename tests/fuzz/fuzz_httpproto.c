/* fuzz_httpproto — libFuzzer target for common/httpproto.h: parse the input
 * as a client's request head, at every length a read could have cut it,
 * and check the parser's promises: a complete head lies inside the buffer
 * and ends at a '\n', its target lies inside the request line, a refusal
 * carries one of the codes the header lists, and a head never grows past
 * the limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *buf, size_t len)
{
	struct ct_http_req req;
	enum ct_http_status st = ct_http_parse(buf, len, &req);

	if (st == CT_HTTP_OK) {
		if (req.consumed == 0 || req.consumed > len || buf[req.consumed - 1] != '\n' ||
		    req.consumed > CT_HTTP_HEAD_MAX)
			abort();
		if (req.target < buf || req.target + req.ntarget > buf + req.consumed ||
		    req.ntarget == 0 || (req.minor != 0 && req.minor != 1))
			abort();
	} else if (st == CT_HTTP_BAD) {
		if (req.code != 400 && req.code != 414 && req.code != 431 && req.code != 501 &&
		    req.code != 505)
			abort();
	} else if (len > CT_HTTP_HEAD_MAX) {
		abort(); /* more than a head's worth buffered with no verdict */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check(buf, size);
	/* The same bytes cut where a short read could have cut them. */
	for (size_t cut = 1; cut < size && cut < 64; cut++)
		check(buf, cut);
	free(buf);
	return 0;
}
