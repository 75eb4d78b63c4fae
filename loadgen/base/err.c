/* err — the one error carrier (see err.h). */
#include "loadgen/base/err.h"

#include <stdio.h>
#include <string.h>

void ct_err_vset(struct ct_err *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->code = code;
}

void ct_err_set(struct ct_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ct_err_vset(err, code, fmt, ap);
	va_end(ap);
}

void ct_err_prefix(struct ct_err *err, const char *fmt, ...)
{
	char prefix[256];
	va_list ap;
	int n;

	if (!err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t plen = strlen(prefix), mlen = strnlen(err->msg, sizeof(err->msg) - 1);
	memcpy(prefix + plen, ": ", 2);
	plen += 2;
	if (plen + mlen >= sizeof(err->msg))
		mlen = sizeof(err->msg) - 1 - plen;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
}

int ct_err_code(const struct ct_err *err, int dflt)
{
	return err && err->code ? err->code : dflt;
}
