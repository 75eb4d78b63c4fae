/* model_int — what the model's files share inside loadgen/model/ only. */
#pragma once

#include <stddef.h>

#include "loadgen/model/model.h"

/* Where connect() cost starts to grow, as a share of the range held in
 * TIME_WAIT (the band is 50-70 %; see docs/ARCHITECTURE.md (The model)). */
#define CT_MODEL_CLIFF_LOW  0.5
#define CT_MODEL_CLIFF_HIGH 0.7

/* Usable client ports: the range less the reserved ports inside it. */
unsigned ct_model_range_ports(const struct ct_model_input *in);

/* The conntrack state a finished connection's entry waits in: CLOSE after a
 * RST, else TIME_WAIT. */

/* Text appended line after line into a caller's buffer; what does not fit
 * is cut, and s stays NUL-terminated. s may be NULL (nothing kept). */
struct ct_model_text {
	char *s;
	size_t len, used;
};

void ct_model_text_add(struct ct_model_text *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
