/* ctserver — the echo / memcache server bundled with ctload. */
#include "common/log.h"
#include "ct_config.h"
#include "server/config.h"
#include "server/server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct ct_srv_config cfg;
	struct ct_srv *srv;
	char err[256] = "";
	int r;

	r = ct_srv_config_parse(argc, argv, &cfg, err, sizeof(err));
	if (r == CT_SRV_CONFIG_HELP) {
		ct_srv_usage(stdout);
		return 0;
	}
	if (r == CT_SRV_CONFIG_VERSION) {
		printf("ctserver %s\n", CT_VERSION);
		return 0;
	}
	if (r < 0) {
		ct_error("%s", err);
		return 2;
	}
	ct_log_set_level(cfg.verbose >= 2 ? CT_LOG_DEBUG : cfg.verbose ? CT_LOG_INFO : CT_LOG_NOTE);
	/* A client gone mid-write must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	srv = ct_srv_new(&cfg);
	if (!srv)
		return errno == EINVAL ? 2 : 3;
	r = ct_srv_run(srv);
	ct_srv_free(srv);
	return r < 0 ? 1 : 0;
}
