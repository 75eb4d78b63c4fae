#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen/scenario/expr.h"
#include "loadgen/scenario/scenario.h"
#include "server/config.h"

#define GOOD(f) CT_TEST_DATA "/good/" f
#define BAD(f) CT_TEST_DATA "/bad/" f

static struct ct_scenario *load_ok(const char *path, char *const *sets, size_t n)
{
	struct ct_err err = {0};
	struct ct_scenario *sc = ct_scenario_load(path, sets, n, &err);

	cr_assert_not_null(sc, "%s did not load: %s", path, err.msg);
	return sc;
}

/* Load `text` from a temporary file; returns NULL with err on failure. */
static struct ct_scenario *load_text(const char *text, struct ct_err *err, char *path,
				     size_t len)
{
	struct ct_scenario *sc;
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/ct_test_scenario_XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	sc = ct_scenario_load(path, NULL, 0, err);
	unlink(path);
	return sc;
}

Test(scenario, minimal_defaults)
{
	struct ct_scenario *sc = load_ok(GOOD("minimal.ini"), NULL, 0);

	cr_assert_str_eq(sc->scenario.name, "minimal");
	cr_assert_eq(sc->scenario.topology, CT_TOPO_LAB);
	cr_assert_eq(sc->lab.clients, 1);
	cr_assert_eq(sc->lab.path, CT_PATH_DIRECT);
	cr_assert_eq(sc->lab.conntrack_on, CT_CTON_SERVER);
	cr_assert_str_eq(sc->lab.addresses, "198.18.0.0/15");
	cr_assert_eq(sc->server.mode, CT_SRV_MEMCACHE);
	cr_assert_eq(sc->server.port_lo, 11211);
	cr_assert_eq(sc->server.port_hi, 11211);
	cr_assert_eq(sc->server.close, CT_SRV_CLOSE_CLIENT);
	cr_assert_eq(sc->server.backlog, 4096);
	cr_assert_eq(sc->load.engine, CT_ENGINE_KERNEL);
	cr_assert_float_eq(sc->load.rate, 500.0, 1e-9);
	cr_assert_float_eq(sc->load.rate_end, 500.0, 1e-9);
	cr_assert_eq(sc->load.profile, CT_PROFILE_CONSTANT);
	cr_assert_eq(sc->load.duration_ns, 10000000000ULL);
	cr_assert_eq(sc->load.max_connections, 0);
	cr_assert_str_eq(sc->load.request, "get k{seq}\\r\\n");
	cr_assert_str_eq(sc->load.expect, "END\\r\\n");
	cr_assert_eq(sc->load.connect_timeout_ns, 3000000000ULL);
	cr_assert_eq(sc->load.reply_timeout_ns, 3000000000ULL);
	cr_assert_eq(sc->load.ports, CT_PORTS_KERNEL);
	cr_assert_eq(sc->load.close, CT_CCLOSE_AUTO);
	cr_assert_eq(sc->load.max_inflight, 10000);
	cr_assert_eq(sc->load.launch_window_ns, 4000000ULL);
	cr_assert_eq(sc->n_sweep, 0);
	cr_assert_eq(sc->n_expect, 0);
	cr_assert_not(sc->search.enabled);
	cr_assert_float_eq(sc->search.precision, 0.02, 1e-12);
	cr_assert_eq(sc->search.trial_ns, 5000000000ULL);
	cr_assert_not_null(sc->search.fail_when.text);
	{
		struct ct_err e = {0};
		struct ct_expr *x = ct_expr_parse(sc->search.fail_when.text, &e);

		cr_assert_not_null(x, "default fail_when does not parse: %s", e.msg);
		ct_expr_free(x);
	}
	cr_assert_eq(sc->search.cooldown, CT_COOL_FRESH_NETNS);
	cr_assert_eq(sc->report.sample_interval_ns, 100000000ULL);
	cr_assert_null(sc->report.metrics_listen);
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++)
		cr_assert_eq(sc->sysctl[s].n, 0);
	ct_scenario_free(sc);
}

Test(scenario, full_values)
{
	struct ct_scenario *sc = load_ok(GOOD("full.ini"), NULL, 0);

	cr_assert_str_eq(sc->scenario.name, "full-example");
	cr_assert_str_eq(sc->scenario.description, "Memcache clients closing first, reuse off");
	cr_assert_eq(sc->scenario.seed, 42);
	cr_assert_eq(sc->lab.clients, 4);
	cr_assert_eq(sc->lab.path, CT_PATH_NAT);
	cr_assert_eq(sc->lab.conntrack_on, CT_CTON_ROUTER);
	cr_assert_eq(sc->server.port_lo, 11211);
	cr_assert_eq(sc->server.port_hi, 11242);
	cr_assert_eq(sc->server.close_delay_ns, 5000000ULL);
	cr_assert_eq(sc->server.workers, 2);
	cr_assert_eq(sc->server.backlog, 1000);
	cr_assert_float_eq(sc->load.rate, 2000.0, 1e-9);
	cr_assert_float_eq(sc->load.rate_end, 8000.0, 1e-9);
	cr_assert_eq(sc->load.profile, CT_PROFILE_RAMP);
	cr_assert_eq(sc->load.duration_ns, 90000000000ULL);
	cr_assert_eq(sc->load.max_connections, 1500000);
	/* Quotes stripped, escapes kept as text for the engine. */
	cr_assert_str_eq(sc->load.request, "get k{seq}\\r\\n");
	cr_assert_str_eq(sc->load.expect, "END\\r\\n");
	cr_assert_eq(sc->load.connect_timeout_ns, 250000000ULL);
	cr_assert_eq(sc->load.ports, CT_PORTS_RANGE);
	cr_assert_eq(sc->load.port_lo, 40000);
	cr_assert_eq(sc->load.port_hi, 40999);
	cr_assert_eq(sc->load.close, CT_CCLOSE_RST);
	cr_assert_eq(sc->load.max_inflight, 20000);
	cr_assert_eq(sc->load.launch_window_ns, 500000ULL);

	cr_assert_eq(sc->sysctl[CT_SYSCTL_CLIENT].n, 2);
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_CLIENT].v[0].key, "net.ipv4.tcp_tw_reuse");
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_CLIENT].v[0].value, "0");
	cr_assert_eq(sc->sysctl[CT_SYSCTL_CLIENT].v[0].line, 40);
	/* Slash form accepted, value blanks normalized. */
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_CLIENT].v[1].key, "net.ipv4.ip_local_port_range");
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_CLIENT].v[1].value, "32768 60999");
	cr_assert_eq(sc->sysctl[CT_SYSCTL_ROUTER].n, 2);
	/* Legacy name mapped to the modern key. */
	cr_assert_eq(sc->sysctl[CT_SYSCTL_HOST].n, 1);
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_HOST].v[0].key, "net.netfilter.nf_conntrack_max");
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_HOST].v[0].value, "262144");

	cr_assert(sc->search.enabled);
	cr_assert_str_eq(sc->search.find, "rate");
	cr_assert_float_eq(sc->search.precision, 0.02, 1e-12);
	cr_assert_str_eq(sc->search.fail_when.text, "errors > 0.1% or ct.drop > 0 or connect.p99 > 900ms");
	cr_assert_eq(sc->search.fail_when.line, 58);
	cr_assert_eq(sc->search.cooldown, CT_COOL_DRAIN);
	cr_assert(sc->search.confirm);

	cr_assert_eq(sc->report.sample_interval_ns, 250000000ULL);
	cr_assert_str_eq(sc->report.metrics_listen, "127.0.0.1:9464");
	cr_assert(sc->report.capture);
	ct_scenario_free(sc);
}

Test(scenario, expect_lines_round_trip_text)
{
	struct ct_scenario *sc = load_ok(GOOD("full.ini"), NULL, 0);

	cr_assert_eq(sc->n_expect, 4);
	cr_assert_str_eq(sc->expect[0].text, "threshold >= 20000/s");
	cr_assert_eq(sc->expect[0].line, 63);
	cr_assert_str_eq(sc->expect[1].text, "ct.drop == 0");
	cr_assert_str_eq(sc->expect[2].text, "connect.p99 < 900ms", "quotes stripped, no '=' needed");
	cr_assert_str_eq(sc->expect[3].text, "errors <= 0.1%", "check = form");
	cr_assert_eq(sc->expect[3].line, 66);
	ct_scenario_free(sc);
}

Test(scenario, sweep_expansion)
{
	struct ct_scenario *sc = load_ok(GOOD("full.ini"), NULL, 0);
	static const char *const rates[] = {"100", "200", "400", "800", "1600", "3200", "5000"};

	cr_assert_eq(sc->n_sweep, 2);
	cr_assert_str_eq(sc->sweep[0].key, "load.rate", "'rate' is shorthand for load.rate");
	cr_assert_eq(sc->sweep[0].n, 7, "doubling to 3200 then the end bound 5000");
	for (size_t i = 0; i < 7; i++)
		cr_assert_str_eq(sc->sweep[0].values[i], rates[i]);
	cr_assert_eq(sc->sweep[0].line, 51);
	cr_assert_str_eq(sc->sweep[1].key, "sysctl.client.net.ipv4.tcp_tw_reuse",
			 "a bare per-netns sysctl sweeps the client");
	cr_assert_eq(sc->sweep[1].n, 2);
	cr_assert_str_eq(sc->sweep[1].values[1], "1");
	ct_scenario_free(sc);
}

Test(scenario, sweep_additive_units_and_global)
{
	struct ct_err err;
	char path[64];
	struct ct_scenario *sc = load_text("[scenario]\nname = s\n[load]\nrate = 1k/s\n"
					   "[sweep]\nduration = 1s..4s +1s\n"
					   "load.rate = 1000..5000 +1500\n"
					   "net.netfilter.nf_conntrack_max = 1000, 2000\n",
					   &err, path, sizeof(path));

	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_eq(sc->n_sweep, 3);
	cr_assert_str_eq(sc->sweep[0].key, "load.duration");
	cr_assert_eq(sc->sweep[0].n, 4);
	cr_assert_str_eq(sc->sweep[0].values[3], "4s");
	cr_assert_eq(sc->sweep[1].n, 4, "1000,2500,4000 then 5000");
	cr_assert_str_eq(sc->sweep[1].values[2], "4000");
	cr_assert_str_eq(sc->sweep[1].values[3], "5000");
	cr_assert_str_eq(sc->sweep[2].key, "sysctl.host.net.netfilter.nf_conntrack_max",
			 "a bare global sysctl sweeps the host");
	/* Each value is accepted by ct_scenario_set, as the plan will apply it. */
	for (size_t a = 0; a < sc->n_sweep; a++)
		for (size_t i = 0; i < sc->sweep[a].n; i++) {
			struct ct_scenario *t = ct_scenario_dup(sc);

			cr_assert_eq(ct_scenario_set(t, sc->sweep[a].key, sc->sweep[a].values[i], &err), 0,
				     "%s", err.msg);
			ct_scenario_free(t);
		}
	ct_scenario_free(sc);
}

Test(scenario, rate_from_sweep_only)
{
	struct ct_err err;
	char path[64];
	struct ct_scenario *sc = load_text("[scenario]\nname = s\n[load]\nduration = 2s\n"
					   "[sweep]\nrate = 300,600\n",
					   &err, path, sizeof(path));

	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_float_eq(sc->load.rate, 300.0, 1e-9);
	ct_scenario_free(sc);
}

Test(scenario, set_overrides)
{
	char *sets[] = {
		(char *)"load.rate=800/s",
		(char *)"server.close=server",
		(char *)"sysctl.client.net.ipv4.tcp_tw_reuse=1",
		(char *)"sysctl.host.net.ipv4.netfilter.ip_conntrack_max=1000",
		(char *)"duration=3s",
		(char *)"expect.check=ct.drop == 0",
	};
	struct ct_scenario *sc = load_ok(GOOD("full.ini"), sets, sizeof(sets) / sizeof(sets[0]));

	cr_assert_float_eq(sc->load.rate, 800.0, 1e-9);
	cr_assert_eq(sc->server.close, CT_SRV_CLOSE_SERVER);
	cr_assert_eq(sc->sysctl[CT_SYSCTL_CLIENT].n, 2, "override replaces, does not add");
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_CLIENT].v[0].value, "1");
	cr_assert_eq(sc->sysctl[CT_SYSCTL_CLIENT].v[0].line, 0, "line 0 marks an override");
	cr_assert_str_eq(sc->sysctl[CT_SYSCTL_HOST].v[0].value, "1000");
	cr_assert_eq(sc->load.duration_ns, 3000000000ULL);
	cr_assert_eq(sc->n_expect, 5);
	cr_assert_str_eq(sc->expect[4].text, "ct.drop == 0");
	ct_scenario_free(sc);
}

Test(scenario, set_errors)
{
	struct ct_scenario *sc = load_ok(GOOD("minimal.ini"), NULL, 0);
	struct ct_err err;

	cr_assert_eq(ct_scenario_set(sc, "load.rate", "0", &err), -EINVAL);
	cr_assert(strstr(err.msg, "--set load.rate=0") && strstr(err.msg, "[load] rate"), "%s", err.msg);
	cr_assert_eq(ct_scenario_set(sc, "load.rat", "5", &err), -EINVAL);
	cr_assert(strstr(err.msg, "did you mean 'rate'"), "%s", err.msg);
	cr_assert_eq(ct_scenario_set(sc, "lod.rate", "5", &err), -EINVAL);
	cr_assert(strstr(err.msg, "did you mean 'load'"), "%s", err.msg);
	cr_assert_eq(ct_scenario_set(sc, "close", "rst", &err), -EINVAL);
	cr_assert(strstr(err.msg, "ambiguous"), "%s", err.msg);
	cr_assert_eq(ct_scenario_set(sc, "sysctl.client.net.netfilter.nf_conntrack_max", "5", &err), -EINVAL);
	cr_assert(strstr(err.msg, "[sysctl.host]"), "%s", err.msg);
	cr_assert_eq(ct_scenario_set(sc, "sysctl.client.kernel.panic", "1", &err), -EINVAL);
	cr_assert_eq(ct_scenario_set(sc, "load.duration", "25h", &err), -EINVAL);
	cr_assert_eq(ct_scenario_set(sc, "load.ports", "bind 40000-40099", &err), 0, "%s", err.msg);
	cr_assert_eq(sc->load.port_lo, 40000);
	cr_assert_float_eq(sc->load.rate, 500.0, 1e-9, "failed sets change nothing");

	/* Cross-key rules run after a series of sets. */
	cr_assert_eq(ct_scenario_set(sc, "scenario.topology", "host", &err), 0);
	cr_assert_eq(ct_scenario_check(sc, &err), -EINVAL);
	cr_assert(strstr(err.msg, "target"), "%s", err.msg);
	cr_assert_eq(ct_scenario_set(sc, "server.target", "192.0.2.1:11211", &err), 0, "%s", err.msg);
	cr_assert_eq(ct_scenario_check(sc, &err), 0, "%s", err.msg);
	ct_scenario_free(sc);
}

Test(scenario, bad_set_in_load_names_it)
{
	char *sets[] = {(char *)"load.rate"};
	struct ct_err err;

	cr_assert_null(ct_scenario_load(GOOD("minimal.ini"), sets, 1, &err));
	cr_assert(strstr(err.msg, "--set load.rate"), "%s", err.msg);
}

Test(scenario, write_load_round_trip)
{
	static const char *const files[] = {GOOD("full.ini"), GOOD("minimal.ini")};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct ct_scenario *a = load_ok(files[i], NULL, 0), *b;
		struct ct_err err;
		char path[] = "/tmp/ct_test_rt_XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fdopen(fd, "w");

		cr_assert_eq(ct_scenario_write(a, f), 0);
		fclose(f);
		b = ct_scenario_load(path, NULL, 0, &err);
		unlink(path);
		cr_assert_not_null(b, "written scenario does not load: %s", err.msg);
		cr_assert(ct_scenario_equal(a, b), "%s: round trip differs", files[i]);
		/* The comparison can fail. */
		b->load.rate += 1;
		cr_assert_not(ct_scenario_equal(a, b));
		ct_scenario_free(a);
		ct_scenario_free(b);
	}
}

Test(scenario, dup_is_deep)
{
	struct ct_scenario *a = load_ok(GOOD("full.ini"), NULL, 0);
	struct ct_scenario *b = ct_scenario_dup(a);

	cr_assert_not_null(b);
	cr_assert(ct_scenario_equal(a, b));
	cr_assert_neq(a->load.request, b->load.request);
	cr_assert_neq(a->sweep[0].values, b->sweep[0].values);
	ct_scenario_free(a);
	cr_assert_str_eq(b->sweep[0].values[0], "100");
	ct_scenario_free(b);
}

/* Each fixture under tests/data/bad is refused with FILE:LINE and the key. */
static const struct {
	const char *file;
	int line;
	const char *must[3];
} bad[] = {
	{"unknown_key.ini", 5, {"[load] rat", "did you mean 'rate'"}},
	{"bad_unit.ini", 6, {"[load] duration", "unknown unit 'sec'"}},
	{"no_load.ini", 3, {"[load]", "missing"}},
	{"no_scenario.ini", 2, {"[scenario]", "missing"}},
	{"rate_zero.ini", 5, {"[load] rate", "more than 0"}},
	{"negative_duration.ini", 6, {"[load] duration", "negative"}},
	{"unknown_section.ini", 4, {"[laod]", "did you mean [load]"}},
	{"global_in_client.ini", 8, {"nf_conntrack_max", "[sysctl.host]"}},
	{"tw_recycle.ini", 8, {"tcp_tw_recycle", "4.12"}},
	{"unknown_sysctl.ini", 8, {"tcp_tw_reus", "did you mean 'net.ipv4.tcp_tw_reuse'"}},
	{"sysctl_range.ini", 8, {"tcp_tw_reuse", "0..2"}},
	{"host_no_target.ini", 3, {"topology", "target"}},
	{"lab_target.ini", 5, {"[server] target", "topology = host"}},
	{"bind_no_range.ini", 6, {"[load] ports", "40000-40999"}},
	{"bad_escape.ini", 6, {"[load] request", "\\q"}},
	{"bad_placeholder.ini", 6, {"[load] request", "{sequence}"}},
	{"sweep_bad_value.ini", 8, {"rate", "sweep value '0'"}},
	{"sweep_too_big.ini", 9, {"duration", "limit 1000"}},
	{"duplicate_key.ini", 6, {"[load] rate", "line 5"}},
	{"not_key_value.ini", 6, {"neither"}},
	{"duration_too_long.ini", 6, {"[load] duration", "24h"}},
	{"rate_too_high.ini", 5, {"[load] rate", "limit"}},
	{"bad_enum.ini", 5, {"[server] close", "did you mean 'client'"}},
	{"window_too_long.ini", 8, {"[load] launch_window", "100ms"}},
};

Test(scenario, bad_files_name_file_line_key)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ct_err err = {0};
		char path[512], loc[128];
		struct ct_scenario *sc;

		snprintf(path, sizeof(path), "%s", BAD("") );
		strncat(path, bad[i].file, sizeof(path) - strlen(path) - 1);
		sc = ct_scenario_load(path, NULL, 0, &err);
		cr_assert_null(sc, "%s was accepted", bad[i].file);
		snprintf(loc, sizeof(loc), "bad/%s:%d:", bad[i].file, bad[i].line);
		cr_assert(strstr(err.msg, loc), "%s: expected '%s' in: %s", bad[i].file, loc, err.msg);
		for (size_t j = 0; j < 3 && bad[i].must[j]; j++)
			cr_assert(strstr(err.msg, bad[i].must[j]), "%s: expected '%s' in: %s", bad[i].file,
				  bad[i].must[j], err.msg);
	}
}

Test(scenario, missing_file)
{
	struct ct_err err;

	cr_assert_null(ct_scenario_load(BAD("does_not_exist.ini"), NULL, 0, &err));
	cr_assert(strstr(err.msg, "bad/does_not_exist.ini"), "%s", err.msg);
	cr_assert(strstr(err.msg, strerror(ENOENT)), "%s", err.msg);
}

Test(scenario, unreadable_file)
{
	struct ct_err err;
	char dir[] = "/tmp/ct_test_unreadable_XXXXXX";
	char file[128];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	/* A directory cannot be read as a file, even by root. */
	cr_assert_null(ct_scenario_load(dir, NULL, 0, &err));
	cr_assert(strstr(err.msg, dir) && strstr(err.msg, strerror(EISDIR)), "%s", err.msg);

	snprintf(file, sizeof(file), "%s/s.ini", dir);
	f = fopen(file, "w");
	fputs("[scenario]\nname = x\n[load]\nrate = 1\n", f);
	fclose(f);
	chmod(file, 0);
	if (geteuid() != 0) { /* root reads mode-0 files */
		cr_assert_null(ct_scenario_load(file, NULL, 0, &err));
		cr_assert(strstr(err.msg, file) && strstr(err.msg, strerror(EACCES)), "%s", err.msg);
	}
	unlink(file);
	rmdir(dir);
}

Test(scenario, misc_rules)
{
	static const struct {
		const char *text;
		const char *must;
	} cases[] = {
		{"[scenario]\nname = x\n[load]\nrate = 1\n[lab]\nconntrack_on = router\n", "path = router or nat"},
		{"[scenario]\nname = x\n[load]\nrate = 1\nprofile = step\n", "step_every"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[search]\nprecision = 60%\n", "precision"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[search]\nfind = duration\n", "only find = rate"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[report]\nsample_interval = 5ms\n", "10ms"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[report]\nmetrics_listen = localhost\n", "HOST:PORT"},
		{"[scenario]\nname = a/b\n[load]\nrate = 1\n", "[scenario] name"},
		{"[scenario]\n[load]\nrate = 1\n", "name: required"},
		{"[scenario]\nname = x\n[load]\n", "rate: required"},
		{"name = x\n[load]\nrate = 1\n", "outside any section"},
		{"[scenario]\nname = x\ntopology = host\n[server]\ntarget = 10.0.0.1:80\n[load]\nrate = 1\n"
		 "[sysctl.server]\nnet.core.somaxconn = 1024\n",
		 "no server netns"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[sweep]\nrate = 5000..100 *2\n", "backwards"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[sweep]\nrate = 100..500\n", "needs a step"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[sweep]\nrate = 100..500 *1\n", "factor"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[sweep]\nrate = 1,,2\n", "empty value"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[sweep]\nrate = 1\nload.rate = 2\n", "already swept"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[sweep]\nload.rte = 1\n", "did you mean 'rate'"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[sweep]\nload.ports = kernel,bind\n", "port range"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[expect]\n\"\"\n", "empty condition"},
		{"[scenario]\nname = x\n[load]\nrate = 1\nrequest = \"{rand:0}\"\n", "{rand:0}"},
		{"[scenario]\nname = x\n[load]\nrate = 1\nrequest = \"{thred}\"\n", "{thred}"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[expect]\nct.drop >> 0\n", "[expect] check: 'ct.drop >> 0'"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[search]\nfail_when = p99 >\n", "[search] fail_when"},
		/* [lab] preload: a bad value names the key and its line */
		{"[scenario]\nname = x\n[load]\nrate = 1\n[lab]\npreload = 1.5x\n", ":6: [lab] preload"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[lab]\npreload = 20M\n", "out of range"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[lab]\npreload_state = closed\n",
		 "[lab] preload_state: 'closed' is not one of time_wait or established"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[lab]\npreload = 1k\npreload_timeout = 1500ms\n",
		 ":7: [lab] preload_timeout: conntrack timeouts are whole seconds"},
		{"[scenario]\nname = x\n[load]\nrate = 1\n[lab]\nconntrack_on = none\npreload = 1k\n",
		 ":7: [lab] preload: no lab netns tracks"},
		{"[scenario]\nname = x\ntopology = host\n[server]\ntarget = 127.0.0.1:80\n[load]\nrate = 1\n"
		 "[lab]\npreload = 1k\n",
		 "[lab] preload: preloads the conntrack table of a lab netns: it needs topology = lab"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ct_err err = {0};
		char path[64];
		struct ct_scenario *sc = load_text(cases[i].text, &err, path, sizeof(path));

		cr_assert_null(sc, "case %zu accepted", i);
		cr_assert(strstr(err.msg, cases[i].must), "case %zu: expected '%s' in: %s", i, cases[i].must,
			  err.msg);
		cr_assert(strstr(err.msg, path), "case %zu: no file name in: %s", i, err.msg);
	}
}

Test(scenario, host_topology_and_sysctl_host_netns_key)
{
	struct ct_err err;
	char path[64];
	struct ct_scenario *sc =
		load_text("[scenario]\nname = h\ntopology = host\n[server]\ntarget = [::1]:11211-11214\n"
			  "[load]\nrate = 1k/s\nports = bind 50000-50999\n"
			  "[sysctl.host]\nnet.ipv4.tcp_tw_reuse = 1\n",
			  &err, path, sizeof(path));

	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_eq(sc->scenario.topology, CT_TOPO_HOST);
	cr_assert_str_eq(sc->server.target, "[::1]:11211-11214");
	cr_assert_eq(sc->load.ports, CT_PORTS_BIND);
	cr_assert_eq(sc->load.port_hi, 50999);
	cr_assert_eq(sc->sysctl[CT_SYSCTL_HOST].n, 1, "a per-netns key may be set on the host");
	ct_scenario_free(sc);
}

Test(scenario, request_templates)
{
	struct ct_err err;
	char path[64];
	struct ct_scenario *sc = load_text("[scenario]\nname = t\n[load]\nrate = 1\n"
					   "request = \"POST /{seq} {\\\"a\\\": {rand:100000000}} {thread}\\r\\n\"\n",
					   &err, path, sizeof(path));

	cr_assert_not_null(sc, "JSON braces are literal: %s", err.msg);
	cr_assert_str_eq(sc->load.request, "POST /{seq} {\\\"a\\\": {rand:100000000}} {thread}\\r\\n");
	ct_scenario_free(sc);
}

Test(scenario, empty_search_section_enables_search)
{
	struct ct_err err;
	char path[64];
	struct ct_scenario *sc = load_text("[scenario]\nname = t\n[load]\nrate = 1\n[search]\n", &err,
					   path, sizeof(path));

	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert(sc->search.enabled);
	cr_assert_str_eq(sc->search.find, "rate");
	ct_scenario_free(sc);
}

Test(scenario, enum_names)
{
	cr_assert_str_eq(ct_cooldown_name(CT_COOL_FRESH_NETNS), "fresh-netns");
	cr_assert_str_eq(ct_srv_mode_name(CT_SRV_ECHO), "echo");
	cr_assert_str_eq(ct_sysctl_scope_name(CT_SYSCTL_HOST), "host");
	cr_assert_str_eq(ct_port_strategy_name(CT_PORTS_RANGE), "range");
	cr_assert_str_eq(ct_client_close_name(CT_CCLOSE_WAIT), "wait");
}

/* [load] close = auto (the default) waits for the server's FIN when the
 * lab's server closes first, per sweep point; an explicit close is kept. */
Test(scenario, client_close_auto)
{
	struct ct_err err = {0};
	char path[64];
	struct ct_scenario *sc = load_text("[scenario]\nname = c\n[server]\nclose = server\n"
					   "[load]\nrate = 10/s\n",
					   &err, path, sizeof(path));

	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_eq(sc->load.close, CT_CCLOSE_AUTO);
	cr_assert_eq(ct_scenario_client_close(sc), CT_CCLOSE_WAIT);
	cr_assert_eq(ct_scenario_set(sc, "server.close", "rst", &err), 0, "%s", err.msg);
	cr_assert_eq(ct_scenario_client_close(sc), CT_CCLOSE_WAIT);
	cr_assert_eq(ct_scenario_set(sc, "server.close", "client", &err), 0, "%s", err.msg);
	cr_assert_eq(ct_scenario_client_close(sc), CT_CCLOSE_FIN);
	/* Given explicitly, it is what the engine does, even if it races. */
	cr_assert_eq(ct_scenario_set(sc, "server.close", "server", &err), 0, "%s", err.msg);
	cr_assert_eq(ct_scenario_set(sc, "load.close", "fin", &err), 0, "%s", err.msg);
	cr_assert_eq(ct_scenario_client_close(sc), CT_CCLOSE_FIN);
	cr_assert_eq(ct_scenario_set(sc, "load.close", "rst", &err), 0, "%s", err.msg);
	cr_assert_eq(ct_scenario_client_close(sc), CT_CCLOSE_RST);
	ct_scenario_free(sc);

	/* Host mode: the target's close policy is unknown, so fin. */
	sc = load_text("[scenario]\nname = h\ntopology = host\n[server]\ntarget = 127.0.0.1:1\n"
		       "close = server\n[load]\nrate = 10/s\n",
		       &err, path, sizeof(path));
	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_eq(ct_scenario_client_close(sc), CT_CCLOSE_FIN);
	ct_scenario_free(sc);
}

/* [server] workers takes what ctserver's --workers takes (0 = ctserver's
 * default): more is an error at load time, with FILE:LINE and the key, not
 * when the lab starts the server. */
Test(scenario, workers_range_is_ctservers)
{
	struct ct_err err = {0};
	char path[64], loc[128], n[16];
	char *argv[] = {(char *)"ctserver", (char *)"--workers", n, NULL};
	struct ct_srv_config cfg;
	char serr[256];
	struct ct_scenario *sc;

	sc = load_text("[scenario]\nname = w\n[server]\nworkers = 300\n[load]\nrate = 1\n", &err, path,
		       sizeof(path));
	cr_assert_null(sc, "workers = 300 was accepted");
	snprintf(loc, sizeof(loc), "%s:4: [server] workers: 300 is out of range 0..256", path);
	cr_assert_str_eq(err.msg, loc);
	cr_assert_eq(err.code, CT_EXIT_USAGE);

	sc = load_text("[scenario]\nname = w\n[server]\nworkers = 256\n[load]\nrate = 1\n", &err, path,
		       sizeof(path));
	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_eq(sc->server.workers, 256);
	cr_assert_eq(ct_scenario_set(sc, "workers", "257", &err), -EINVAL);
	cr_assert_str_eq(err.msg, "--set workers=257: [server] workers: 257 is out of range 0..256");
	ct_scenario_free(sc);

	/* The same bound on both sides. */
	snprintf(n, sizeof(n), "%d", CT_SRV_MAX_WORKERS);
	ct_srv_config_defaults(&cfg);
	cr_assert_eq(ct_srv_config_parse(3, argv, &cfg, serr, sizeof(serr)), 0, "%s", serr);
	snprintf(n, sizeof(n), "%d", CT_SRV_MAX_WORKERS + 1);
	cr_assert_eq(ct_srv_config_parse(3, argv, &cfg, serr, sizeof(serr)), -EINVAL);
}

/* [report] metrics_listen takes port 0 as --metrics-listen does (the kernel
 * picks a free port); a target's port 0 stays an error. */
Test(scenario, metrics_listen_port_0)
{
	struct ct_err err = {0};
	char path[64];
	struct ct_scenario *sc = load_text("[scenario]\nname = m\n[load]\nrate = 1\n[report]\n"
					   "metrics_listen = 127.0.0.1:0\n",
					   &err, path, sizeof(path));

	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_str_eq(sc->report.metrics_listen, "127.0.0.1:0");
	cr_assert_eq(ct_scenario_set(sc, "report.metrics_listen", "[::1]:0", &err), 0, "%s",
		     err.msg);
	cr_assert_eq(ct_scenario_set(sc, "server.target", "127.0.0.1:0", &err), -EINVAL);
	cr_assert(strstr(err.msg, "port 0"), "%s", err.msg);
	ct_scenario_free(sc);
}

/* A condition keeps where it came from, so a message can name the file line
 * or the --set option (a --set has no line), also in a copy. */
Test(scenario, cond_origin_file_line_or_set)
{
	char *sets[] = {(char *)"expect.check=x > 1", (char *)"search.fail_when=y > 2"};
	struct ct_scenario *sc = load_ok(GOOD("full.ini"), sets, 2);
	struct ct_scenario *d = ct_scenario_dup(sc);
	char buf[400], want[400];

	cr_assert_not_null(d);
	cr_assert_eq(sc->n_expect, 5);
	snprintf(want, sizeof(want), "%s:63: [expect] 'threshold >= 20000/s'", sc->path);
	cr_expect_str_eq(ct_cond_where(sc, &sc->expect[0], "[expect]", buf, sizeof(buf)), want);
	cr_expect_str_eq(ct_cond_where(d, &d->expect[4], "[expect]", buf, sizeof(buf)),
			 "--set expect.check=x > 1");
	cr_expect_str_eq(
	    ct_cond_where(d, &d->search.fail_when, "[search] fail_when", buf, sizeof(buf)),
	    "--set search.fail_when=y > 2");
	ct_scenario_free(d);
	ct_scenario_free(sc);
}

/* [search] may leave [load] rate out (the run picks a start); one step may
 * not. The written scenario.ini leaves it out too and loads back equal. */
Test(scenario, search_without_rate)
{
	struct ct_err err = {0};
	char path[64], rt[] = "/tmp/ct_test_rt_XXXXXX";
	const char *text = "[scenario]\nname = s\n[load]\nduration = 2s\n[search]\n";
	struct ct_scenario *sc = load_text(text, &err, path, sizeof(path)), *b;

	cr_assert_not_null(sc, "%s", err.msg);
	cr_expect_eq(sc->load.rate, 0.0, "no rate: the run picks the start");
	int fd = mkstemp(rt);
	FILE *f = fdopen(fd, "w");
	cr_assert_eq(ct_scenario_write(sc, f), 0);
	fclose(f);
	b = ct_scenario_load(rt, NULL, 0, &err);
	unlink(rt);
	cr_assert_not_null(b, "written scenario does not load: %s", err.msg);
	cr_expect(ct_scenario_equal(sc, b));
	ct_scenario_free(b);
	ct_scenario_free(sc);
	sc = load_text("[scenario]\nname = s\n[load]\nduration = 2s\n", &err, path, sizeof(path));
	cr_assert_null(sc);
	cr_expect(strstr(err.msg, "[load] rate: required") && strstr(err.msg, "unless [search]"),
		  "%s", err.msg);
}

Test(scenario, http_mode_expects_the_status_line_at_the_start)
{
	struct ct_err err = {0};
	char path[64];
	struct ct_scenario *sc =
	    load_text("[scenario]\nname = h\n[server]\nmode = http\nbody = 20KiB\n"
		      "[load]\nrate = 1/s\n",
		      &err, path, sizeof(path));

	cr_assert_not_null(sc, "%s", err.msg);
	cr_assert_eq(sc->server.mode, CT_SRV_HTTP);
	cr_assert_eq(sc->server.body, 20u << 10);
	cr_assert_str_eq(sc->load.expect_start, "HTTP/1.1 200 ");
	cr_assert_null(sc->load.expect);
	cr_assert(strstr(sc->load.request, "HTTP/1.0"), "%s", sc->load.request);
	ct_scenario_free(sc);
	/* A status line as the reply's end can never match: refused, with the
	 * key that checks the start named. */
	sc = load_text("[scenario]\nname = h\n[load]\nrate = 1/s\nexpect = \"HTTP/1.1 200\"\n",
		       &err, path, sizeof(path));
	cr_assert_null(sc);
	cr_assert(strstr(err.msg, ":5:") && strstr(err.msg, "expect_start"), "%s", err.msg);
	sc = load_text("[scenario]\nname = h\n[server]\nbody = 65MiB\n[load]\nrate = 1/s\n", &err,
		       path, sizeof(path));
	cr_assert_null(sc);
	cr_assert(strstr(err.msg, "body"), "%s", err.msg);
}
