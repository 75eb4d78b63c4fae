/* fuzz_expr — libFuzzer target for loadgen/scenario/expr.h: parse the input as a
 * fail_when / [expect] condition; when it parses, list its variables and
 * evaluate it with values derived from each name (some names unknown). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/scenario/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const char *name, double *value)
{
	size_t h = 0;
	for (const char *p = name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	(void)ctx;
	if (h % 7 == 0)
		return -ENOENT;
	if (h % 11 == 0)
		return -EIO;
	*value = (double)(h % 1000) / 10.0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct ct_err err;
	char why[512];
	struct ct_expr *e;
	bool res;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	e = ct_expr_parse(s, &err);
	if (e) {
		size_t n = ct_expr_var_count(e);
		for (size_t i = 0; i < n; i++)
			if (!ct_expr_var(e, i))
				abort();
		if (strcmp(ct_expr_text(e), s) != 0)
			abort();
		(void)ct_expr_eval(e, lookup, NULL, &res, why, sizeof(why));
		(void)ct_expr_eval(e, lookup, NULL, &res, why, 2);
		(void)ct_expr_eval(e, lookup, NULL, &res, NULL, 0);
		ct_expr_free(e);
	}
	ct_expr_free(ct_expr_parse(s, NULL)); /* no room for the error */
	free(s);
	return 0;
}
