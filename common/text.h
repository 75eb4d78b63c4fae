/* text — small string helpers both programs' parsers use. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Optimal string alignment distance: Levenshtein, plus a swap of two
 * neighbours ("laod") as one edit; for "did you mean" suggestions.
 * (size_t)-1 for strings over 200 characters or out of memory. */
size_t ct_edit_distance(const char *a, const char *b, bool nocase);

/* snprintf into `buf` when it is not NULL and has room (a reason for the
 * user, filled by parsers that may be called without one). */
void ct_why(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
