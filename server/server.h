/* server — ctserver's listeners and worker threads.
 *
 * Design: one event_base per worker thread, and every worker has its own
 * SO_REUSEPORT listening socket on every port of the range, so the kernel
 * spreads new connections over workers with no accept thread and no
 * hand-over queue (memcached's design needs both). The main thread keeps an
 * event_base only for SIGINT/SIGTERM and then breaks every worker loop.
 *
 * ct_srv_new() binds everything (and fails with a message naming the
 * address when a port is taken); ct_srv_run() blocks until a stop signal. */
#pragma once

#include "server/config.h"

struct ct_srv;

/* NULL + errno on failure, after logging what failed and what to do. */
struct ct_srv *ct_srv_new(const struct ct_srv_config *cfg);
/* Runs the workers until SIGINT/SIGTERM. 0 or -errno. */
int ct_srv_run(struct ct_srv *srv);
void ct_srv_free(struct ct_srv *srv);
