/* engine_int — what the engine folder shares inside: the backends' ops
 * tables, which only engine.c's chooser names. */
#pragma once

#include "loadgen/engine/engine.h"

/* kernel/: libevent sockets. */
extern const struct ct_engine_ops ct_engine_kernel_ops;
