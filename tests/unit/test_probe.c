/* The probe table: what a run asks for opens in the table's order (sample
 * order), a capture without libpcap is refused with the message that says
 * how to get one, and the first-failure watch times each exhaustion. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_config.h"
#include "loadgen/probe/probe.h"

static struct ct_probe_config nothing(void)
{
	return (struct ct_probe_config){.client_netns_fd = -1, .quiet = true};
}

Test(probe, a_capture_is_refused_only_without_libpcap)
{
	struct ct_probe_config cfg = nothing();
	struct ct_err err = {0};

	cr_expect_eq(ct_probes_check(&cfg, &err), 0, "nothing asked: nothing refused");
	cfg.capture = true;
	int rc = ct_probes_check(&cfg, &err);
#if CT_HAVE_PCAP
	cr_expect_eq(rc, 0, "%s", err.msg);
#else
	cr_expect_eq(rc, -ENOTSUP);
	cr_expect_str_eq(err.msg, "[report] capture = on: this ctload was built without libpcap "
				  "(install libpcap-dev and rebuild)");
	cr_expect_eq(err.code, CT_EXIT_USAGE);
	cr_expect_null(ct_probes_open(&cfg, &err), "and it does not open");
#endif
}

Test(probe, sources_and_hooks_in_table_order)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct ct_probe_config cfg = nothing();
	struct ct_err err = {0};
	struct ct_sample_source v[8];

	cfg.live = out;
	struct ct_probes *p = ct_probes_open(&cfg, &err);
	cr_assert_not_null(p, "%s", err.msg);
	cr_expect(ct_probes_has(p, "liveview"));
	cr_expect_not(ct_probes_has(p, "metrics"), "no address: no endpoint");
	cr_expect_not(ct_probes_has(p, "capture"), "no lab: no capture");
	size_t n = ct_probes_sources(p, v, 8);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(v[0].name, "failures");
	cr_expect_str_eq(v[1].name, "liveview", "the live view reads the sample last");
	cr_expect_eq(ct_probes_sources(p, v, 1), 1, "no more than there is room for");
	n = ct_probes_hooks(p, v, 8);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(v[0].name, "failures");
	cr_expect_str_eq(v[1].name, "liveview");
	ct_probes_close(p);
	fclose(out);
	free(text);
}

Test(probe, a_bad_metrics_address_opens_nothing)
{
	struct ct_probe_config cfg = nothing();
	struct ct_err err = {0};

	cfg.metrics_listen = "nonsense";
	cr_expect_null(ct_probes_open(&cfg, &err));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(err.msg, "ADDR:PORT"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_USAGE);
}

static void feed(struct ct_sample_source *src, const char *json)
{
	json_error_t e;
	json_t *s = json_loads(json, 0, &e);
	cr_assert_not_null(s, "fixture JSON: %s", e.text);
	cr_assert_eq(src->fill(src->ctx, s), 0);
	json_decref(s);
}

Test(probe, first_failures_are_timed_from_the_step_start)
{
	struct ct_probe_config cfg = nothing();
	struct ct_err err = {0};
	struct ct_sample_source src, hook;
	struct ct_probe_step st = {
	    .index = 1, .t0_s = 10, .interval_s = 0.5, .client_netns_fd = -1};

	struct ct_probes *p = ct_probes_open(&cfg, &err);
	cr_assert_not_null(p, "%s", err.msg);
	ct_probes_step_begin(p, &st);
	cr_assert_eq(ct_probes_sources(p, &src, 1), 1);
	cr_assert_eq(ct_probes_hooks(p, &hook, 1), 1);
	feed(&src, "{\"t\": 10.5, \"failures\": {\"eaddrnotavail\": 0}, "
		   "\"ns\": {\"server\": {\"ct.drop\": 0}}}");
	feed(&src, "{\"t\": 11.0, \"failures\": {\"eaddrnotavail\": 0}, "
		   "\"ns\": {\"server\": {\"ct.drop\": 3}}}");
	feed(&src, "{\"t\": 12.0, \"failures\": {\"eaddrnotavail\": 5}, "
		   "\"ns\": {\"server\": {\"ct.drop\": 9}}}");
	json_t *step = json_object();
	cr_assert_eq(hook.fill(hook.ctx, step), 0);
	char *got = json_dumps(json_object_get(step, "first_failure"), JSON_COMPACT);
	cr_expect_str_eq(got, "{\"eaddrnotavail_s\":1.75,\"ct_drop_s\":0.75}",
			 "the middle of the interval of the first rise; no NAT failure seen");
	free(got);
	/* The next step starts over. */
	st.t0_s = 20;
	ct_probes_step_begin(p, &st);
	cr_assert_eq(hook.fill(hook.ctx, step), 0);
	got = json_dumps(json_object_get(step, "first_failure"), JSON_COMPACT);
	cr_expect_str_eq(got, "{}");
	free(got);
	json_decref(step);
	ct_probes_close(p);
}
