/* explain — the model's result in sentences: the binding limit's arithmetic,
 * the connect() cliff before it, and the offered rate against it. Pure. */
#pragma once

#include <stddef.h>

#include "loadgen/model/model.h"

/* The arithmetic of the binding limit (and the cliff, and the offered rate
 * against it) in words, one sentence a line, for `ctload model` and the
 * report. Returns the length written (truncated to len). */
size_t ct_model_explain(const struct ct_model_input *in, const struct ct_model_result *r, char *buf,
			size_t len);
