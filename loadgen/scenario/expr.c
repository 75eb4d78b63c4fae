#include "loadgen/scenario/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/units.h"

enum op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };

/* The unit a VALUE was written in, so `why` prints the variable the same way. */
enum vkind { VK_PLAIN, VK_DURATION, VK_PERCENT, VK_RATE, VK_COUNT, VK_SIZE };

enum nkind { N_CMP, N_AND, N_OR, N_NOT };

struct node {
	enum nkind kind;
	struct node *a, *b; /* AND/OR: both; NOT: a */
	size_t var;	    /* CMP: index into ct_expr.vars */
	enum op op;
	double value;
	enum vkind vk;
	char vtext[48]; /* the value as written, for `why` */
};

struct ct_expr {
	char *text;
	struct node *root;
	char **vars;
	size_t nvars;
};

static const char *const op_text[] = {">", ">=", "<", "<=", "==", "!="};
/* The operator that holds when `op` does not: why lists true facts only. */
static const enum op op_negated[] = {OP_LE, OP_LT, OP_GE, OP_GT, OP_NE, OP_EQ};

/* ---- parser ------------------------------------------------------------ */

struct parser {
	const char *text;
	const char *p;
	struct ct_expr *e;
	struct ct_err *err;
	bool failed;
	bool nomem;
};

static void perr(struct parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	char what[sizeof(ps->err->msg)];
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ct_err_set(ps->err, CT_EXIT_USAGE, "column %d: %s", (int)(at - ps->text) + 1, what);
}

static void skip_blanks(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static bool is_name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* Length of the word at p (a name or a value), 0 if p starts neither. */
static size_t word_len(const char *p)
{
	size_t n = 0;

	while (p[n] && (isalnum((unsigned char)p[n]) || strchr("_.%/", p[n])))
		n++;
	return n;
}

/* True (and consumed) when the next token is keyword `kw` or its symbol. */
static bool accept_kw(struct parser *ps, const char *kw, const char *sym)
{
	size_t n = strlen(kw);

	skip_blanks(ps);
	if (strncasecmp(ps->p, kw, n) == 0 && !is_name_char(ps->p[n])) {
		ps->p += n;
		return true;
	}
	if (sym && strncmp(ps->p, sym, strlen(sym)) == 0 && !(sym[0] == '!' && ps->p[1] == '=')) {
		ps->p += strlen(sym);
		return true;
	}
	return false;
}

static bool is_keyword(const char *p, size_t n)
{
	return (n == 3 && (!strncasecmp(p, "and", 3) || !strncasecmp(p, "not", 3))) ||
	       (n == 2 && !strncasecmp(p, "or", 2));
}

static struct node *new_node(struct parser *ps, enum nkind kind)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n) {
		ps->nomem = true;
		perr(ps, ps->p, "out of memory");
		return NULL;
	}
	n->kind = kind;
	return n;
}

static void free_node(struct node *n)
{
	if (!n)
		return;
	free_node(n->a);
	free_node(n->b);
	free(n);
}

static int intern_var(struct parser *ps, const char *name, size_t len, size_t *idx)
{
	struct ct_expr *e = ps->e;
	char **v;

	for (size_t i = 0; i < e->nvars; i++)
		if (strlen(e->vars[i]) == len && strncmp(e->vars[i], name, len) == 0) {
			*idx = i;
			return 0;
		}
	v = realloc(e->vars, (e->nvars + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	e->vars = v;
	if (!(v[e->nvars] = strndup(name, len)))
		return -ENOMEM;
	*idx = e->nvars++;
	return 0;
}

static bool suffix_in(const char *u, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(u, *set) == 0)
			return true;
	return false;
}

/* A VALUE token (already isolated in tok, without sign) to a number in base
 * units, through the common/units.h parsers. */
static int parse_value(const char *tok, double *out, enum vkind *vk, char *why, size_t whylen)
{
	static const char *const dur[] = {"ns", "us", "ms", "s", "m", "h", NULL};
	static const char *const cnt[] = {"k", "K", "M", "G", NULL};
	char num[40];
	const char *u = tok;
	size_t n;
	uint64_t ns, bytes;
	int rc;

	while (*u && (isdigit((unsigned char)*u) || *u == '.'))
		u++;
	n = (size_t)(u - tok);
	if (n == 0 || n >= sizeof(num)) {
		snprintf(why, whylen, "'%s' does not start with a number", tok);
		return -EINVAL;
	}
	memcpy(num, tok, n);
	num[n] = '\0';
	if (*u == '\0' || strcmp(u, "%") == 0) {
		/* A bare number is a rate of the same value per second. */
		if ((rc = ct_parse_rate(num, out, why, whylen)) < 0)
			return rc;
		*vk = *u ? VK_PERCENT : VK_PLAIN;
		if (*u)
			*out /= 100.0;
		return 0;
	}
	if (strchr(u, '/')) {
		*vk = VK_RATE;
		return ct_parse_rate(tok, out, why, whylen);
	}
	if (suffix_in(u, dur)) {
		if ((rc = ct_parse_duration(tok, &ns, why, whylen)) < 0)
			return rc;
		*vk = VK_DURATION;
		*out = (double)ns / 1e9;
		return 0;
	}
	if (suffix_in(u, cnt)) {
		*vk = VK_COUNT;
		return ct_parse_rate(tok, out, why, whylen);
	}
	if ((rc = ct_parse_size(tok, &bytes, why, whylen)) < 0) {
		snprintf(why, whylen, "unknown unit '%s'", u);
		return rc;
	}
	*vk = VK_SIZE;
	*out = (double)bytes;
	return 0;
}

static struct node *parse_or(struct parser *ps);

/* NAME at ps->p: its length, or 0 with the error reported. */
static size_t parse_name(struct parser *ps)
{
	const char *name = ps->p;
	size_t nlen = 0;

	if (!is_name_start(*name)) {
		if (*name == '\0')
			perr(ps, name,
			     "expected a condition such as 'errors > 0.1%%', found the end");
		else
			perr(ps, name,
			     "expected a variable name such as 'connect.p99', found '%.*s'",
			     (int)(word_len(name) ? word_len(name) : 1), name);
		return 0;
	}
	while (is_name_char(name[nlen]))
		nlen++;
	if (is_keyword(name, nlen)) {
		perr(ps, name, "expected a variable name, found the keyword '%.*s'", (int)nlen,
		     name);
		return 0;
	}
	return nlen;
}

/* OP after NAME (name, nlen) into n->op; false with the error reported. */
static bool parse_op(struct parser *ps, struct node *n, const char *name, size_t nlen)
{
	static const struct {
		const char *s;
		enum op op;
	} ops[] = {{">=", OP_GE}, {"<=", OP_LE}, {"==", OP_EQ}, {"!=", OP_NE},
		   {">", OP_GT},  {"<", OP_LT},	 {"=", OP_EQ}};
	const char *at;
	size_t wl;

	skip_blanks(ps);
	at = ps->p;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(ps->p, ops[i].s, strlen(ops[i].s)) == 0) {
			n->op = ops[i].op;
			ps->p += strlen(ops[i].s);
			return true;
		}
	wl = word_len(at);
	if (*at == '\0')
		perr(ps, at,
		     "expected a comparison operator (> >= < <= == !=) after '%.*s', "
		     "found the end",
		     (int)nlen, name);
	else
		perr(ps, at,
		     "expected a comparison operator (> >= < <= == !=) after '%.*s', "
		     "found '%.*s'",
		     (int)nlen, name, (int)(wl ? wl : 1), at);
	return false;
}

/* VALUE after NAME OP into n->value, n->vk, n->vtext; false with the error
 * reported. */
static bool parse_rhs(struct parser *ps, struct node *n, const char *name, size_t nlen)
{
	const char *at;
	size_t vlen;
	bool neg = false;
	char tok[40], why[160];

	skip_blanks(ps);
	at = ps->p;
	if (*ps->p == '-' || *ps->p == '+') {
		neg = *ps->p == '-';
		ps->p++;
	}
	vlen = word_len(ps->p);
	if (vlen == 0 || !(isdigit((unsigned char)*ps->p) || *ps->p == '.')) {
		if (*at == '\0')
			perr(ps, at, "expected a value after '%.*s %s', found the end", (int)nlen,
			     name, op_text[n->op]);
		else
			perr(ps, at,
			     "expected a value such as 900ms, 0.1%%, 20000/s or 2k after "
			     "'%.*s %s', found '%.*s'",
			     (int)nlen, name, op_text[n->op], (int)(vlen ? vlen : 1), at);
		return false;
	}
	if (vlen >= sizeof(tok)) {
		perr(ps, at, "value '%.*s' is too long", (int)vlen, ps->p);
		return false;
	}
	memcpy(tok, ps->p, vlen);
	tok[vlen] = '\0';
	why[0] = '\0';
	if (parse_value(tok, &n->value, &n->vk, why, sizeof(why)) < 0) {
		perr(ps, at, "'%s' is not a value (%s); write e.g. 900ms, 0.1%%, 20000/s, 2k or 3",
		     tok, why);
		return false;
	}
	if (neg)
		n->value = -n->value;
	snprintf(n->vtext, sizeof(n->vtext), "%s%s", neg ? "-" : "", tok);
	ps->p += vlen;
	return true;
}

/* NAME OP VALUE */
static struct node *parse_cmp(struct parser *ps)
{
	const char *name;
	size_t nlen;
	struct node *n;

	skip_blanks(ps);
	name = ps->p;
	if (!(nlen = parse_name(ps)))
		return NULL;
	ps->p += nlen;
	if (!(n = new_node(ps, N_CMP)))
		return NULL;
	if (intern_var(ps, name, nlen, &n->var) < 0) {
		ps->nomem = true;
		perr(ps, name, "out of memory");
		goto fail;
	}
	if (!parse_op(ps, n, name, nlen) || !parse_rhs(ps, n, name, nlen))
		goto fail;
	return n;
fail:
	free_node(n);
	return NULL;
}

static struct node *parse_unary(struct parser *ps)
{
	struct node *n, *inner;
	const char *open;

	if (accept_kw(ps, "not", "!")) {
		if (!(inner = parse_unary(ps)))
			return NULL;
		if (!(n = new_node(ps, N_NOT))) {
			free_node(inner);
			return NULL;
		}
		n->a = inner;
		return n;
	}
	skip_blanks(ps);
	if (*ps->p == '(') {
		open = ps->p++;
		if (!(inner = parse_or(ps)))
			return NULL;
		skip_blanks(ps);
		if (*ps->p != ')') {
			if (*ps->p)
				perr(ps, ps->p,
				     "expected ')' to close the '(' at column %d, found '%c'",
				     (int)(open - ps->text) + 1, *ps->p);
			else
				perr(ps, ps->p,
				     "expected ')' to close the '(' at column %d, found the end",
				     (int)(open - ps->text) + 1);
			free_node(inner);
			return NULL;
		}
		ps->p++;
		return inner;
	}
	return parse_cmp(ps);
}

static struct node *parse_binary(struct parser *ps, enum nkind kind)
{
	struct node *left, *right, *n;

	left = kind == N_OR ? parse_binary(ps, N_AND) : parse_unary(ps);
	if (!left)
		return NULL;
	while (kind == N_OR ? accept_kw(ps, "or", "||") : accept_kw(ps, "and", "&&")) {
		right = kind == N_OR ? parse_binary(ps, N_AND) : parse_unary(ps);
		if (!right || !(n = new_node(ps, kind))) {
			free_node(left);
			free_node(right);
			return NULL;
		}
		n->a = left;
		n->b = right;
		left = n;
	}
	return left;
}

static struct node *parse_or(struct parser *ps)
{
	return parse_binary(ps, N_OR);
}

void ct_expr_free(struct ct_expr *e)
{
	if (!e)
		return;
	free_node(e->root);
	for (size_t i = 0; i < e->nvars; i++)
		free(e->vars[i]);
	free(e->vars);
	free(e->text);
	free(e);
}

struct ct_expr *ct_expr_parse(const char *text, struct ct_err *err)
{
	struct parser ps = {0};
	struct ct_expr *e;

	if (err)
		err->msg[0] = '\0';
	if (!text) {
		ct_err_set(err, CT_EXIT_USAGE, "no condition given");
		errno = EINVAL;
		return NULL;
	}
	if (!(e = calloc(1, sizeof(*e))) || !(e->text = strdup(text))) {
		free(e);
		ct_err_set(err, CT_EXIT_USAGE, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ps.text = text;
	ps.p = text;
	ps.e = e;
	ps.err = err;
	e->root = parse_or(&ps);
	if (e->root) {
		skip_blanks(&ps);
		if (*ps.p) {
			size_t wl = word_len(ps.p);

			perr(&ps, ps.p, "expected 'and', 'or' or the end, found '%.*s'",
			     (int)(wl ? wl : 1), ps.p);
		}
	}
	if (ps.failed || !e->root) {
		errno = ps.nomem ? ENOMEM : EINVAL;
		ct_expr_free(e);
		return NULL;
	}
	return e;
}

size_t ct_expr_var_count(const struct ct_expr *e)
{
	return e ? e->nvars : 0;
}

const char *ct_expr_var(const struct ct_expr *e, size_t i)
{
	return e && i < e->nvars ? e->vars[i] : NULL;
}

const char *ct_expr_text(const struct ct_expr *e)
{
	return e ? e->text : NULL;
}

/* ---- evaluation -------------------------------------------------------- */

/* A growing string; on allocation failure it stays as it was and `oom` is set. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void fmt_value(double v, enum vkind vk, char *buf, size_t len)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "%g", v);
		return;
	}
	switch (vk) {
	case VK_DURATION:
		if (v >= 0) {
			ct_fmt_duration((uint64_t)llround(v * 1e9), buf, len);
			return;
		}
		break;
	case VK_PERCENT:
		snprintf(buf, len, "%.4g%%", v * 100.0);
		return;
	case VK_RATE:
		if (v >= 0) {
			ct_fmt_rate(v, buf, len);
			return;
		}
		break;
	case VK_SIZE:
		if (v >= 0) {
			ct_fmt_size((uint64_t)llround(v), buf, len);
			return;
		}
		break;
	case VK_PLAIN:
	case VK_COUNT:
		break;
	}
	snprintf(buf, len, "%.6g", v);
}

static bool compare(double x, enum op op, double y)
{
	/* Values come from unit parsing and float arithmetic: "== 0.1%" must
	 * match 0.001 computed as 1/1000. */
	double tol = 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
	bool eq = fabs(x - y) <= tol;

	switch (op) {
	case OP_GT:
		return x > y && !eq;
	case OP_GE:
		return x > y || eq;
	case OP_LT:
		return x < y && !eq;
	case OP_LE:
		return x < y || eq;
	case OP_EQ:
		return eq;
	case OP_NE:
		return !eq;
	}
	return false;
}

struct evalctx {
	const struct ct_expr *e;
	ct_expr_lookup_fn lookup;
	void *ctx;
	struct sbuf err;
};

static int eval_node(struct evalctx *ec, const struct node *n, bool *res, struct sbuf *why)
{
	struct sbuf wa = {0}, wb = {0};
	bool ra, rb;
	int rc = 0;

	switch (n->kind) {
	case N_CMP: {
		const char *name = ec->e->vars[n->var];
		double x;
		char xs[48];

		rc = ec->lookup(ec->ctx, name, &x);
		if (rc == -ENOENT) {
			sb_add(&ec->err, "unknown variable '%s'", name);
			return -ENOENT;
		}
		if (rc < 0) {
			sb_add(&ec->err, "could not read '%s': %s", name, strerror(-rc));
			return -EINVAL;
		}
		fmt_value(x, n->vk, xs, sizeof(xs));
		if (isnan(x)) {
			*res = false;
			sb_add(why, "%s = %s (no value to compare with %s)", name, xs, n->vtext);
			return 0;
		}
		*res = compare(x, n->op, n->value);
		sb_add(why, "%s = %s %s %s", name, xs, op_text[*res ? n->op : op_negated[n->op]],
		       n->vtext);
		return 0;
	}
	case N_NOT:
		if ((rc = eval_node(ec, n->a, &ra, why)) < 0)
			return rc;
		*res = !ra;
		return 0;
	case N_AND:
	case N_OR:
		if ((rc = eval_node(ec, n->a, &ra, &wa)) < 0 ||
		    (rc = eval_node(ec, n->b, &rb, &wb)) < 0)
			goto out;
		*res = n->kind == N_AND ? ra && rb : ra || rb;
		/* Keep only the operands that decided the result. */
		{
			bool keep_a = true, keep_b = true;

			if (n->kind == N_AND && !*res) {
				keep_a = !ra;
				keep_b = !rb;
			} else if (n->kind == N_OR && *res) {
				keep_a = ra;
				keep_b = rb;
			}
			if (keep_a && wa.s)
				sb_add(why, "%s", wa.s);
			if (keep_a && keep_b && wa.s && wb.s)
				sb_add(why, " and ");
			if (keep_b && wb.s)
				sb_add(why, "%s", wb.s);
		}
		if (wa.oom || wb.oom)
			why->oom = true;
		break;
	}
out:
	free(wa.s);
	free(wb.s);
	return rc;
}

int ct_expr_eval(const struct ct_expr *e, ct_expr_lookup_fn lookup, void *ctx, bool *result,
		 char *why, size_t whylen)
{
	struct evalctx ec = {.e = e, .lookup = lookup, .ctx = ctx};
	struct sbuf w = {0};
	bool r = false;
	int rc;

	if (why && whylen)
		why[0] = '\0';
	if (!e || !lookup || !result)
		return -EINVAL;
	rc = eval_node(&ec, e->root, &r, &w);
	if (rc < 0) {
		if (why && whylen)
			snprintf(why, whylen, "%s", ec.err.s ? ec.err.s : "evaluation failed");
	} else {
		*result = r;
		if (why && whylen) {
			snprintf(why, whylen, "%s", w.s ? w.s : "");
			/* Mark a cut explanation rather than end mid-word silently. */
			if (w.len >= whylen && whylen > 4)
				memcpy(why + whylen - 4, "...", 4);
		}
		if (w.oom || ec.err.oom)
			rc = 0; /* the result stands; only the explanation is short */
	}
	free(w.s);
	free(ec.err.s);
	return rc;
}
