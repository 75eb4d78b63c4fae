/* server config: ctserver's command line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "server/config.h"

static int parse(struct ct_srv_config *cfg, char *err, const char *a1, const char *a2,
		 const char *a3, const char *a4)
{
	char *argv[] = {(char *)"ctserver", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
	int argc = 1;

	while (argc < 5 && argv[argc])
		argc++;
	return ct_srv_config_parse(argc, argv, cfg, err, 256);
}

Test(server_config, defaults)
{
	struct ct_srv_config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, err, NULL, NULL, NULL, NULL), 0);
	cr_assert_eq(cfg.mode, CT_SRV_MEMCACHE);
	cr_assert_eq(cfg.port_lo, 11211);
	cr_assert_eq(cfg.close, CT_SRV_CLOSE_CLIENT);
	cr_assert_eq(cfg.memory, 64u << 20);
}

Test(server_config, port_range_units_and_stall)
{
	struct ct_srv_config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, err, "--port", "11211-11242", "--stall", "2s@500ms"), 0, "%s",
		     err);
	cr_assert_eq(cfg.port_lo, 11211);
	cr_assert_eq(cfg.port_hi, 11242);
	cr_assert_eq(cfg.stall_for_ns, 2000000000u);
	cr_assert_eq(cfg.stall_after_ns, 500000000u);
	cr_assert_eq(parse(&cfg, err, "--memory", "16MiB", "--idle-timeout", "250ms"), 0, "%s",
		     err);
	cr_assert_eq(cfg.memory, 16u << 20);
	cr_assert_eq(cfg.idle_timeout_ns, 250000000u);
	cr_assert_eq(parse(&cfg, err, "--close", "rst", "--mode", "echo"), 0, "%s", err);
	cr_assert_eq(cfg.close, CT_SRV_CLOSE_RST);
	cr_assert_eq(cfg.mode, CT_SRV_ECHO);
}

Test(server_config, bad_values_say_what_and_where)
{
	struct ct_srv_config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, err, "--close", "later", NULL, NULL), -EINVAL);
	cr_assert(strstr(err, "--close") && strstr(err, "client, server or rst"), "%s", err);
	cr_assert_eq(parse(&cfg, err, "--port", "9-3", NULL, NULL), -EINVAL);
	cr_assert(strstr(err, "--port"), "%s", err);
	cr_assert_eq(parse(&cfg, err, "--stall", "2s", NULL, NULL), -EINVAL);
	cr_assert(strstr(err, "DURATION@AFTER"), "%s", err);
	cr_assert_eq(parse(&cfg, err, "--workers", "0", NULL, NULL), -EINVAL);
	cr_assert_eq(parse(&cfg, err, "--bogus", NULL, NULL, NULL), -EINVAL);
	cr_assert(strstr(err, "--bogus"), "%s", err);
	cr_assert_eq(parse(&cfg, err, "--port", NULL, NULL, NULL), -EINVAL);
	cr_assert(strstr(err, "needs a value"), "%s", err);
	cr_assert_eq(parse(&cfg, err, "--help", NULL, NULL, NULL), CT_SRV_CONFIG_HELP);
}
