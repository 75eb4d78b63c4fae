#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "loadgen/engine/reqtmpl.h"

static int render(const char *text, uint64_t seq, unsigned thread, char *out, size_t len)
{
	char raw[256];
	struct ct_err err = {0};
	long n = ct_reqtmpl_unescape(text, raw);
	cr_assert_geq(n, 0, "unescape '%s'", text);
	struct ct_reqtmpl *t = ct_reqtmpl_new(raw, (size_t)n, &err);
	cr_assert_not_null(t, "%s", err.msg);
	int r = ct_reqtmpl_render(t, seq, thread, 7, out, len - 1);
	cr_assert_leq((size_t)(r < 0 ? 0 : r), ct_reqtmpl_max_len(t));
	if (r >= 0)
		out[r] = 0;
	ct_reqtmpl_free(t);
	return r;
}

Test(reqtmpl, seq_thread_and_escapes)
{
	char out[256];
	cr_assert_eq(render("get k{seq}\\r\\n", 42, 1, out, sizeof(out)), 9);
	cr_expect_str_eq(out, "get k42\r\n");
	render("t{thread}-{seq}\\t\\x41\\\\\\\"", 7, 3, out, sizeof(out));
	cr_expect_str_eq(out, "t3-7\tA\\\"");
	render("GET / HTTP/1.0\\r\\n\\r\\n", 0, 0, out, sizeof(out));
	cr_expect_str_eq(out, "GET / HTTP/1.0\r\n\r\n");
}

Test(reqtmpl, rand_is_in_range_and_deterministic)
{
	char a[64], b[64];
	int seen[10] = {0};
	for (uint64_t s = 0; s < 1000; s++) {
		render("{rand:10}", s, 0, a, sizeof(a));
		render("{rand:10}", s, 0, b, sizeof(b));
		cr_assert_str_eq(a, b, "same seq renders the same (a partial write re-renders)");
		cr_assert_eq(strlen(a), 1);
		seen[a[0] - '0']++;
	}
	for (int i = 0; i < 10; i++)
		cr_expect_gt(seen[i], 50, "value %d drawn %d times in 1000", i, seen[i]);
}

Test(reqtmpl, literal_braces_and_errors)
{
	char out[64];
	struct ct_err err = {0};
	render("{x} {seq", 5, 0, out, sizeof(out));
	cr_expect_str_eq(out, "{x} {seq");
	cr_expect_null(ct_reqtmpl_new("{rand:0}", 8, &err));
	cr_expect_eq(errno, EINVAL);
	cr_expect_neq(err.msg[0], 0, "an error message is given");
	cr_expect_eq(err.code, CT_EXIT_USAGE, "a bad template is a usage error");
	err.msg[0] = '\0';
	cr_expect_null(ct_reqtmpl_new("{rand:5", 7, &err));
	cr_expect_neq(err.msg[0], 0, "an error message is given");
	cr_expect_null(ct_reqtmpl_new("{rand:5", 7, NULL), "err may be NULL");
	char tiny[4];
	struct ct_reqtmpl *t = ct_reqtmpl_new("hello", 5, &err);
	cr_assert_not_null(t);
	cr_expect_eq(ct_reqtmpl_render(t, 0, 0, 0, tiny, sizeof(tiny)), -ENOBUFS);
	ct_reqtmpl_free(t);
	cr_expect_lt(ct_reqtmpl_unescape("bad \\q", out), 0);
}
