/* reqtmpl — a request template compiled once and rendered per connection.
 *
 * Placeholders: {seq} the connection's global sequence number, {thread} the
 * engine thread, {rand:N} a pseudo-random integer in [0, N). Anything else,
 * including a '{' that starts no placeholder, is literal. The text is taken
 * as the scenario file has it: escapes \r \n \t \\ \" \xHH are decoded
 * here (ct_reqtmpl_unescape, also used for [load] expect).
 *
 * Rendering is a pure function of (template, seq, thread, seed): the engine
 * keeps no copy of a request and renders it again if a write was partial. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "loadgen/base/err.h"

struct ct_reqtmpl;

/* Decode the escapes of `in` into `out` (at least strlen(in)+1 bytes; the
 * result may hold NUL bytes from \x00). Returns the decoded length, or
 * -EINVAL on a malformed escape (the scenario parser rejects those first). */
long ct_reqtmpl_unescape(const char *in, char *out);

/* Compile `text` (length len; it may hold NUL bytes; raw: escapes decoded by
 * the caller). NULL + errno on failure: EINVAL with `err` (may be NULL)
 * naming the bad placeholder ("{rand:0}"), code CT_EXIT_USAGE. */
struct ct_reqtmpl *ct_reqtmpl_new(const char *text, size_t len, struct ct_err *err);
void ct_reqtmpl_free(struct ct_reqtmpl *t);

/* Write the request into buf (no NUL added). Returns its length, or
 * -ENOBUFS when it does not fit. */
int ct_reqtmpl_render(const struct ct_reqtmpl *t, uint64_t seq, unsigned thread, uint64_t seed,
		      char *buf, size_t buflen);

/* The longest rendering possible (to size buffers). */
size_t ct_reqtmpl_max_len(const struct ct_reqtmpl *t);
