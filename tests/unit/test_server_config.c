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

Test(server_config, every_option_with_a_value_reaches_its_field)
{
	struct ct_srv_config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, err, "--bind", "::1", "--workers", "3"), 0, "%s", err);
	cr_assert_str_eq(cfg.bind, "::1");
	cr_assert_eq(cfg.workers, 3);
	cr_assert_eq(parse(&cfg, err, "--backlog", "64", "--max-conns", "100"), 0, "%s", err);
	cr_assert_eq(cfg.backlog, 64);
	cr_assert_eq(cfg.max_conns, 100);
	cr_assert_eq(parse(&cfg, err, "--close-delay", "5ms", "--item-max", "2KiB"), 0, "%s", err);
	cr_assert_eq(cfg.close_delay_ns, 5000000u);
	cr_assert_eq(cfg.item_max, 2048u);
	cr_assert_eq(parse(&cfg, err, "-v", "-v", "--version", NULL), CT_SRV_CONFIG_VERSION);
	cr_assert_eq(cfg.verbose, 2);
}

Test(server_config, size_and_count_messages_name_the_option)
{
	struct ct_srv_config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, err, "--memory", "512", NULL, NULL), -EINVAL);
	cr_assert_str_eq(err, "--memory '512': at least 1KiB");
	cr_assert_eq(parse(&cfg, err, "--item-max", "1", NULL, NULL), -EINVAL);
	cr_assert_str_eq(err, "--item-max '1': at least 1KiB");
	cr_assert_eq(parse(&cfg, err, "--item-max", "2MiB", "--memory", "1MiB"), -EINVAL);
	cr_assert_str_eq(err, "--item-max is larger than --memory; lower it or raise --memory");
	cr_assert_eq(parse(&cfg, err, "--backlog", "0", NULL, NULL), -EINVAL);
	cr_assert_str_eq(err, "--backlog '0': must be between 1 and 1048576");
	cr_assert_eq(parse(&cfg, err, "--mode", "http2", NULL, NULL), -EINVAL);
	cr_assert_str_eq(err, "--mode 'http2': use echo, memcache or http");
	cr_assert_eq(parse(&cfg, err, "--bind", "x", "extra", NULL), -EINVAL);
	cr_assert_str_eq(err, "unexpected argument 'extra'; see ctserver --help");
}

Test(server_config, http_mode_body_and_close)
{
	struct ct_srv_config cfg;
	char err[256];

	/* An image server closes after its reply unless --close says otherwise. */
	cr_assert_eq(parse(&cfg, err, "--mode", "http", NULL, NULL), 0, "%s", err);
	cr_assert_eq(cfg.mode, CT_SRV_HTTP);
	cr_assert_eq(cfg.close, CT_SRV_CLOSE_SERVER);
	cr_assert_eq(cfg.body, 16u << 10);
	cr_assert_eq(parse(&cfg, err, "--mode", "http", "--close", "client"), 0, "%s", err);
	cr_assert_eq(cfg.close, CT_SRV_CLOSE_CLIENT);
	cr_assert_eq(parse(&cfg, err, "--body", "0", "--mode", "http"), 0, "%s", err);
	cr_assert_eq(cfg.body, 0u);
	cr_assert_eq(parse(&cfg, err, "--body", "2MiB", NULL, NULL), 0, "%s", err);
	cr_assert_eq(cfg.body, 2u << 20);
	cr_assert_eq(cfg.close, CT_SRV_CLOSE_CLIENT, "memcache keeps its default");
	cr_assert_eq(parse(&cfg, err, "--body", "65MiB", NULL, NULL), -EINVAL);
	cr_assert(strstr(err, "--body") && strstr(err, "64MiB"), "%s", err);
	cr_assert_eq(parse(&cfg, err, "--mode", "gopher", NULL, NULL), -EINVAL);
	cr_assert(strstr(err, "echo, memcache or http"), "%s", err);
}
