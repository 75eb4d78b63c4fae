#include "common/text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same(char x, char y, bool nocase)
{
	return nocase ? tolower((unsigned char)x) == tolower((unsigned char)y) : x == y;
}

size_t ct_edit_distance(const char *a, const char *b, bool nocase)
{
	size_t la = strlen(a), lb = strlen(b), res;
	size_t *d;

	if (la > 200 || lb > 200)
		return (size_t)-1;
	d = calloc((la + 1) * (lb + 1), sizeof(*d));
	if (!d)
		return (size_t)-1;
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (size_t i = 0; i <= la; i++)
		D(i, 0) = i;
	for (size_t j = 0; j <= lb; j++)
		D(0, j) = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t v = D(i - 1, j - 1) + !same(a[i - 1], b[j - 1], nocase);

			if (D(i - 1, j) + 1 < v)
				v = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (i > 1 && j > 1 && same(a[i - 1], b[j - 2], nocase) &&
			    same(a[i - 2], b[j - 1], nocase) && D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
		}
	}
	res = D(la, lb);
#undef D
	free(d);
	return res;
}

void ct_why(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}
