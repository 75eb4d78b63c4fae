/* expr: the fail_when / [expect] condition language. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "loadgen/scenario/expr.h"

struct var {
	const char *name;
	double v;
};

/* Values a run would hand over: seconds, fractions, per-second rates. */
static const struct var vars[] = {
    {"connect.p99", 1.2}, {"errors", 0.0025}, {"ct.drop", 0}, {"threshold", 21000},
    {"rate", 500},	  {"tw", 28232},      {"mem", 65536},
};

static int lookup(void *ctx, const char *name, double *value)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(vars[i].name, name) == 0) {
			*value = vars[i].v;
			return 0;
		}
	return -ENOENT;
}

static bool eval(const char *text, char *why, size_t whylen)
{
	struct ct_err err = {0};
	struct ct_expr *e = ct_expr_parse(text, &err);
	bool r = false;

	cr_assert_not_null(e, "parse '%s': %s", text, err.msg);
	cr_assert_eq(ct_expr_eval(e, lookup, NULL, &r, why, whylen), 0, "eval '%s': %s", text, why);
	ct_expr_free(e);
	return r;
}

Test(expr, comparison_with_units_and_why)
{
	char why[256];

	cr_expect(eval("connect.p99 > 900ms", why, sizeof(why)));
	cr_expect_str_eq(why, "connect.p99 = 1.2s > 900ms");
	cr_expect(eval("errors > 0.1%", why, sizeof(why)));
	cr_expect_str_eq(why, "errors = 0.25% > 0.1%");
	cr_expect(eval("threshold >= 20000/s", why, sizeof(why)));
	cr_expect_str_eq(why, "threshold = 21k/s >= 20000/s");
	cr_expect(eval("threshold >= 20k", why, sizeof(why)));
	cr_expect(!eval("threshold < 2k", why, sizeof(why)));
	cr_expect_str_eq(why, "threshold = 21000 >= 2k");
	cr_expect(eval("ct.drop == 0", why, sizeof(why)));
	cr_expect(!eval("ct.drop != 0", why, sizeof(why)));
	cr_expect_str_eq(why, "ct.drop = 0 == 0");
	cr_expect(eval("mem <= 64KiB", why, sizeof(why)));
	cr_expect(eval("connect.p99 <= 1.2s", why, sizeof(why)));
	cr_expect(eval("connect.p99 < 2s", why, sizeof(why)));
	cr_expect(!eval("connect.p99 < 1200ms", why, sizeof(why)));
	cr_expect(eval("rate == 30000/m", why, sizeof(why)));
	cr_expect(eval("errors == 0.25%", why, sizeof(why)));
}

Test(expr, false_result_explains_with_the_negated_operator)
{
	char why[256];

	cr_expect(!eval("connect.p99 > 2s", why, sizeof(why)));
	cr_expect_str_eq(why, "connect.p99 = 1.2s <= 2s");
}

Test(expr, or_and_not_parentheses_precedence)
{
	char why[256];

	/* The default fail_when shape: true through its latency clause only. */
	cr_expect(eval("errors > 1% or ct.drop > 0 or connect.p99 > 900ms", why, sizeof(why)));
	cr_expect_str_eq(why, "connect.p99 = 1.2s > 900ms");
	cr_expect(!eval("errors > 1% or ct.drop > 0", why, sizeof(why)));
	cr_expect_str_eq(why, "errors = 0.25% <= 1% and ct.drop = 0 <= 0");
	cr_expect(!eval("errors > 0.1% and ct.drop > 0", why, sizeof(why)));
	cr_expect_str_eq(why, "ct.drop = 0 <= 0");
	/* and binds tighter than or */
	cr_expect(eval("ct.drop > 0 and rate > 1 or tw > 1", why, sizeof(why)));
	cr_expect(!eval("ct.drop > 0 and (rate > 1 or tw > 1)", why, sizeof(why)));
	cr_expect(eval("not ct.drop > 0", why, sizeof(why)));
	cr_expect_str_eq(why, "ct.drop = 0 <= 0");
	cr_expect(!eval("NOT (rate > 1 AND tw > 1)", why, sizeof(why)));
	cr_expect(eval("!(rate > 1 && tw < 1) || ct.drop > 5", why, sizeof(why)));
	cr_expect(eval("rate>1&&tw>=28232", why, sizeof(why)));
}

Test(expr, lists_variables_once_in_order)
{
	struct ct_err err = {0};
	struct ct_expr *e = ct_expr_parse("errors > 0.1% or ct.drop > 0 or errors > 1%", &err);

	cr_assert_not_null(e, "%s", err.msg);
	cr_assert_eq(ct_expr_var_count(e), 2);
	cr_expect_str_eq(ct_expr_var(e, 0), "errors");
	cr_expect_str_eq(ct_expr_var(e, 1), "ct.drop");
	cr_expect_null(ct_expr_var(e, 2));
	cr_expect_str_eq(ct_expr_text(e), "errors > 0.1% or ct.drop > 0 or errors > 1%");
	ct_expr_free(e);
}

Test(expr, unknown_variable_is_enoent_with_its_name)
{
	struct ct_err err = {0};
	char why[128];
	struct ct_expr *e = ct_expr_parse("ct.drop > 0 or conect.p99 > 1s", &err);
	bool r;

	cr_assert_not_null(e, "%s", err.msg);
	/* even though the first clause alone cannot decide it, the typo is reported */
	cr_expect_eq(ct_expr_eval(e, lookup, NULL, &r, why, sizeof(why)), -ENOENT);
	cr_expect_str_eq(why, "unknown variable 'conect.p99'");
	ct_expr_free(e);
}

static void parse_fails(const char *text, const char *expect_msg)
{
	struct ct_err err = {0};
	struct ct_expr *e = ct_expr_parse(text, &err);

	cr_expect_null(e, "'%s' should not parse", text);
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(err.msg, expect_msg) != NULL, "'%s': got '%s', want '%s'", text, err.msg,
		  expect_msg);
	cr_expect_eq(err.code, CT_EXIT_USAGE, "'%s': a bad condition is a usage error", text);
	ct_expr_free(e);
}

Test(expr, errors_name_the_column)
{
	parse_fails("connect.p99 x 900ms", "column 13: expected a comparison operator");
	parse_fails("connect.p99 > 900ms and", "column 24: expected a condition");
	parse_fails("errors > 0.1% or ct.drop > 5q", "column 28: '5q' is not a value");
	parse_fails("errors > 500/x", "column 10: '500/x' is not a value");
	parse_fails("(errors > 1", "column 12: expected ')' to close the '(' at column 1");
	parse_fails("errors > 1 ct.drop > 0", "column 12: expected 'and', 'or' or the end");
	parse_fails("> 5", "column 1: expected a variable name");
	parse_fails("errors >", "column 9: expected a value after 'errors >'");
	parse_fails("errors > abc", "column 10: expected a value");
	parse_fails("and > 3", "column 1: expected a variable name, found the keyword 'and'");
	parse_fails("", "column 1: expected a condition");
}
