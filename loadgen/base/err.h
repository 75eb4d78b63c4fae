/* err — the one error carrier of ctload, and its exit codes.
 *
 * A function that can fail for a reason the user must read takes a
 * `struct ct_err *err` (which may be NULL), returns a negative errno (or NULL)
 * and fills err with a message that names what failed, on what, and what to
 * do, plus the exit code the command should end with. Only main() exits. */
#pragma once

#include <stdarg.h>

/* Exit codes of every ctload command (ctload(1), EXIT STATUS). */
enum ct_exit {
	CT_EXIT_OK = 0,     /* ran, and every [expect] held */
	CT_EXIT_EXPECT = 1, /* an [expect] failed (lint: findings) */
	CT_EXIT_USAGE = 2,  /* bad usage or bad scenario */
	CT_EXIT_ENV = 3,    /* environment: not root, no netns, module missing */
};

struct ct_err {
	char msg[1024]; /* one sentence or more; "" while nothing failed */
	int code;       /* enum ct_exit the command ends with; 0 = the caller's choice */
};

/* Fill err (if not NULL) with code and the formatted message. */
void ct_err_set(struct ct_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ct_err_vset(struct ct_err *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Put "PREFIX: " (formatted) in front of err's message, keeping its code. */
void ct_err_prefix(struct ct_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* err's code, or dflt when err is NULL or its code was left 0. */
int ct_err_code(const struct ct_err *err, int dflt);
