/* expr — the condition language of [search] fail_when and [expect].
 *
 *   cond   := or
 *   or     := and ( ("or" | "||") and )*
 *   and    := unary ( ("and" | "&&") unary )*
 *   unary  := ("not" | "!") unary | "(" or ")" | NAME OP VALUE
 *   OP     := > >= < <= == !=
 *   NAME   := [A-Za-z_][A-Za-z0-9_.]*        ("connect.p99", "ct.drop")
 *   VALUE  := a number with an optional unit: 900ms, 1s (durations, in
 *             seconds), 0.1% (-> 0.001), 20000/s (rates, per second),
 *             2k, 1.5M (counts), 64KiB (bytes), 3 (plain)
 *
 * Keywords are case-insensitive. Variables are looked up at evaluation time,
 * in base units: seconds, connections per second, fractions (errors = 0.001
 * is 0.1 %), bytes, plain counts.
 *
 * Pure: parsing and evaluation have no effects; the lookup callback supplies
 * the values. An expression is immutable once parsed and may be evaluated
 * from several threads at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "loadgen/base/err.h"

struct ct_expr;

/* Fill *value for `name`; return 0, or -ENOENT when the name is unknown. */
typedef int (*ct_expr_lookup_fn)(void *ctx, const char *name, double *value);

/* Parse `text`. Returns NULL (errno EINVAL or ENOMEM) with err (may be NULL)
 * filled, code CT_EXIT_USAGE, and a message that names the 1-based column of
 * the problem ("column 14: expected a comparison operator (> >= < <= == !=)
 * after 'connect.p99', found 'x'"). */
struct ct_expr *ct_expr_parse(const char *text, struct ct_err *err);

/* Evaluate. Every comparison is evaluated (no short cut), so an unknown name
 * is reported even when it could not change the result. Returns 0 with
 * *result set and `why` explaining it in words as a list of true facts
 * ("connect.p99 = 1.2s > 900ms", or for a false result "errors = 0% <= 0.1%
 * and ct.drop = 0 <= 0"); or -ENOENT with why = "unknown variable 'x'"; or
 * -EINVAL when the lookup returned another error. `why` may be NULL. */
int ct_expr_eval(const struct ct_expr *e, ct_expr_lookup_fn lookup, void *ctx, bool *result,
		 char *why, size_t whylen);

/* The distinct variable names the expression uses, in order of first use:
 * index 0..ct_expr_var_count()-1. Strings live as long as the expression. */
size_t ct_expr_var_count(const struct ct_expr *e);
const char *ct_expr_var(const struct ct_expr *e, size_t i);

/* The text it was parsed from. */
const char *ct_expr_text(const struct ct_expr *e);

void ct_expr_free(struct ct_expr *e);
