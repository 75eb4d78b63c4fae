/* sig — the one mutable global: a stop flag set by SIGINT/SIGTERM.
 *
 * Loops poll ct_stop_requested(); cleanup code runs on the normal path
 * after they return, so restoring the host needs no work in a handler. */
#pragma once

#include <signal.h>

extern volatile sig_atomic_t ct_stop_flag;

/* Install SIGINT/SIGTERM/SIGHUP handlers that set the flag (a second SIGINT
 * restores the default action, so a stuck program can still be killed), and
 * ignore SIGPIPE. Returns 0 or -errno. */
int ct_signals_install(void);

static inline int ct_stop_requested(void)
{
	return ct_stop_flag != 0;
}
