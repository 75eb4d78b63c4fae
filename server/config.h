/* config — ctserver's settings, parsed from the command line into one
 * struct that is passed to whoever needs it (no global settings).
 *
 * ct_srv_config_parse() is pure apart from reading argv: it fills *cfg or
 * writes a user-facing reason into err. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/srvmode.h"

#define CT_SRV_MAX_WORKERS 256 /* most --workers; a scenario's [server] workers too */
#define CT_SRV_BODY_DEFAULT (16ULL << 10) /* --body: a small image */
#define CT_SRV_BODY_MAX	    (64ULL << 20) /* --body and a scenario's [server] body */

struct ct_srv_config {
	enum ct_srv_mode mode;
	char bind[64];
	uint16_t port_lo, port_hi;
	unsigned workers;
	int backlog;
	unsigned max_conns;
	uint64_t idle_timeout_ns; /* 0 = never */
	enum ct_srv_close close;
	uint64_t close_delay_ns;
	uint64_t memory;		       /* store bound, bytes */
	uint64_t item_max;		       /* largest item, bytes (memcached -I) */
	uint64_t body;			       /* http: bytes of every 200 reply's body */
	bool close_given;		       /* --close was on the command line */
	uint64_t stall_after_ns, stall_for_ns; /* --stall FOR@AFTER; for 0 = off */
	int verbose;
};

/* Return codes of ct_srv_config_parse besides 0 and -EINVAL. */
#define CT_SRV_CONFIG_HELP    1
#define CT_SRV_CONFIG_VERSION 2

void ct_srv_config_defaults(struct ct_srv_config *cfg);
/* 0, CT_SRV_CONFIG_HELP, CT_SRV_CONFIG_VERSION, or -EINVAL with err set. */
int ct_srv_config_parse(int argc, char **argv, struct ct_srv_config *cfg, char *err,
			size_t err_len);
void ct_srv_usage(FILE *f);
