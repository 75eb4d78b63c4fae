#include "common/sig.h"

#include <errno.h>
#include <string.h>

volatile sig_atomic_t ct_stop_flag;

static void on_stop_signal(int signo)
{
	if (ct_stop_flag && signo == SIGINT)
		signal(SIGINT, SIG_DFL);
	ct_stop_flag = signo;
}

int ct_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}
