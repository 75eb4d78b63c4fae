/* ct_judge_cause: the limit named for a failed step, from its figures. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loadgen/run/judge.h"

struct cause_case {
	const char *what;
	const char *step; /* the step's figures, JSON */
	const char *limit;
	const char *says; /* in the sentence for people; NULL = not checked */
};

static const struct cause_case cases[] = {
    {"EADDRNOTAVAIL", "{\"failures\":{\"eaddrnotavail\":5},\"rate_target\":100,\"rate_achieved\":90}",
     "client_ports", "EADDRNOTAVAIL"},
    {"conntrack drops", "{\"ct\":{\"drop\":42},\"failures\":{\"timeout\":7}}", "conntrack",
     "dropped 42 packets"},
    /* A chain past the kernel's cap: insert_failed grows too, but it is
     * not the NAT's ports (KERNEL.md, long chains). */
    {"chains too long",
     "{\"ct\":{\"insert_failed\":568000,\"chaintoolong\":568000},\"failures\":{\"timeout\":9}}",
     "ct_chains", "hash chain was past the kernel's cap"},
    /* The silent cliff with one client thread: every call ~0.7 ms (under
     * the 1 ms mark), the thread inside connect() nearly all the time, the
     * rate down to a tenth, no error. */
    {"busy in slow connect()",
     "{\"connect_call_us\":{\"p50\":15.8,\"p99\":856,\"max\":4148},\"connect_busy\":0.95,"
     "\"rate_target\":12000,\"rate_achieved\":3646,\"failures\":{}}",
     "client_ports", "95% of its time inside connect()"},
    {"connect() calls past 1 ms",
     "{\"connect_call_us\":{\"p99\":5000},\"connect_busy\":0.2,\"rate_target\":12000,"
     "\"rate_achieved\":3000}",
     "client_ports", "slowed to 5.0 ms"},
    /* Slow connect() calls while the client holds a sliver of the lab's
     * tuples (the image-server lab on a loaded CPU): not the port search. */
    {"slow calls, ports nearly all free",
     "{\"connect_call_us\":{\"p99\":1400},\"connect_busy\":0.2,\"rate_target\":1500,"
     "\"rate_achieved\":1497,\"tuples\":{\"space\":451712,\"in_use_peak\":214},"
     "\"failures\":{\"timeout\":40}}",
     "unknown", "lost elsewhere"},
    /* The same calls with the tuples mostly held: the port search. */
    {"slow calls, ports mostly held",
     "{\"connect_call_us\":{\"p99\":1400},\"connect_busy\":0.2,\"rate_target\":1500,"
     "\"rate_achieved\":1000,\"tuples\":{\"space\":28232,\"in_use_peak\":28000},"
     "\"failures\":{\"timeout\":40}}",
     "client_ports", "slowed to 1.4 ms"},
    /* Busy in connect() but every call fast: a loopback handshake runs the
     * server's side in the caller too. That is CPU, not ports. */
    {"busy, fast calls",
     "{\"connect_call_us\":{\"p50\":12,\"p99\":60},\"connect_busy\":0.6,\"rate_target\":60000,"
     "\"rate_achieved\":35000,\"failures\":{}}",
     "client", "its own CPU or the server's"},
    /* Drops outside conntrack: the counter that moved is named, not "lost
     * elsewhere". */
    {"neighbour table full",
     "{\"neigh\":{\"table_fulls\":120,\"unresolved_discards\":40},\"failures\":{\"timeout\":30}}",
     "neighbours", "table_fulls"},
    {"listen queue full",
     "{\"listen\":{\"overflows\":90,\"drops\":95},\"failures\":{\"timeout\":12}}",
     "listen_backlog", "ListenDrops"},
    {"device drops", "{\"dev\":{\"rx_drop\":0,\"tx_drop\":7},\"failures\":{\"timeout\":3}}",
     "device", "ip -s link"},
    /* The neighbour table is the host's: with no timeout, it explains
     * nothing about this step. */
    {"neighbour overflow, no timeout",
     "{\"neigh\":{\"table_fulls\":5},\"rate_target\":1000,\"rate_achieved\":400,"
     "\"failures\":{}}",
     "client", NULL},
    {"timeouts, no counter moved",
     "{\"neigh\":{\"table_fulls\":0},\"listen\":{\"drops\":0},\"dev\":{\"rx_drop\":0},"
     "\"failures\":{\"timeout\":3}}",
     "unknown", "lost elsewhere"},
    /* A step that held its rate is not blamed on the ports for being busy. */
    {"busy at full rate",
     "{\"connect_call_us\":{\"p99\":400},\"connect_busy\":0.7,\"rate_target\":1000,"
     "\"rate_achieved\":1000,\"failures\":{}}",
     "unknown", NULL},
};

Test(judge, causes)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cause_case *k = &cases[i];
		json_error_t e;
		json_t *st = json_loads(k->step, 0, &e);
		char text[512];

		cr_assert_not_null(st, "%s: bad test JSON: %s", k->what, e.text);
		const char *lim = ct_judge_cause(st, text, sizeof(text));
		json_decref(st);
		cr_assert_str_eq(lim, k->limit, "%s: named %s (%s)", k->what, lim, text);
		if (k->says)
			cr_assert(strstr(text, k->says), "%s: '%s' not in: %s", k->what, k->says, text);
	}
}

/* ct_judge_why: ct_judge_cause's branch as a value, one case per branch. */
Test(judge, why_names_the_branch)
{
	static const struct {
		const char *step;
		enum ct_judge_why why;
	} w[] = {
	    {"{\"failures\":{\"eaddrnotavail\":5,\"timeout\":9},\"ct\":{\"drop\":3}}",
	     CT_JUDGE_PORTS},
	    {"{\"ct\":{\"drop\":42},\"failures\":{\"timeout\":7,\"refused\":50}}",
	     CT_JUDGE_CONNTRACK},
	    {"{\"ct\":{\"insert_failed\":8},\"failures\":{\"timeout\":8}}", CT_JUDGE_NAT_PORTS},
	    {"{\"ct\":{\"insert_failed\":8,\"chaintoolong\":8},\"failures\":{\"timeout\":8}}",
	     CT_JUDGE_CT_CHAINS},
	    {"{\"neigh\":{\"table_fulls\":8},\"failures\":{\"timeout\":8}}", CT_JUDGE_NEIGH},
	    {"{\"listen\":{\"drops\":8},\"failures\":{\"timeout\":8}}", CT_JUDGE_LISTEN},
	    {"{\"dev\":{\"rx_drop\":8},\"failures\":{\"timeout\":8}}", CT_JUDGE_DEVICE},
	    {"{\"connect_call_us\":{\"p99\":856},\"connect_busy\":0.95,\"rate_target\":12000,"
	     "\"rate_achieved\":3646}",
	     CT_JUDGE_PORT_SEARCH},
	    {"{\"connect_call_us\":{\"p99\":5000},\"rate_target\":100,\"rate_achieved\":100}",
	     CT_JUDGE_PORT_SEARCH},
	    {"{\"failures\":{\"reset\":4,\"emfile\":1,\"timeout\":30}}", CT_JUDGE_SERVER},
	    {"{\"failures\":{\"emfile\":2,\"timeout\":30}}", CT_JUDGE_EMFILE},
	    {"{\"failures\":{\"timeout\":4},\"rate_target\":100,\"rate_achieved\":10}",
	     CT_JUDGE_TIMEOUT},
	    {"{\"rate_target\":1000,\"rate_achieved\":500,\"failures\":{}}", CT_JUDGE_SLOW},
	    {"{\"rate_target\":1000,\"rate_achieved\":1000,\"failures\":{\"other\":3}}",
	     CT_JUDGE_CONDITION},
	};
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		json_error_t e;
		json_t *st = json_loads(w[i].step, 0, &e);
		cr_assert_not_null(st, "bad test JSON %s: %s", w[i].step, e.text);
		cr_expect_eq(ct_judge_why(st), w[i].why, "%s: got %d, want %d", w[i].step,
			     ct_judge_why(st), w[i].why);
		json_decref(st);
	}
}

/* ct_judge_check_names: a condition is checked against what a step of the
 * run will carry, before the run. */
static int check(const char *text, unsigned has, const char **unknown)
{
	struct ct_err err = {0};
	struct ct_expr *e = ct_expr_parse(text, &err);
	static char name[128];
	int rc;

	cr_assert_not_null(e, "%s: %s", text, err.msg);
	rc = ct_judge_check_names(e, has, unknown);
	if (*unknown) { /* it lives as long as e */
		snprintf(name, sizeof(name), "%s", *unknown);
		*unknown = name;
	}
	ct_expr_free(e);
	return rc;
}

Test(judge, names_checked_before_the_run)
{
	const char *u = NULL;

	cr_expect_eq(check("connect.p99 > 900ms or errors > 0.1% or rate.achieved < 95% or "
			   "failures.eaddrnotavail > 0 or cpu_per_conn > 1ms or failed > 0",
			   0, &u),
		     0, "%s", u ? u : "");
	cr_expect_eq(check("conect.p99 > 1s", 0, &u), -ENOENT);
	cr_expect_str_eq(u, "conect.p99");
	cr_expect_eq(check("failures.nosuch > 0", 0, &u), -ENOENT);
	/* A lab adds ct, tw and tuples; host mode reads ct.* and tw.* as 0. */
	cr_expect_eq(check("tuples.in_use_peak > 0", CT_JUDGE_HAS_LAB, &u), 0);
	cr_expect_eq(check("tuples.in_use_peak > 0", 0, &u), -ENOENT);
	cr_expect_eq(check("ct.peak > 0 or tw.client_peak > 0", 0, &u), 0);
	cr_expect_eq(check("ct.peek > 0", CT_JUDGE_HAS_LAB, &u), -ENOENT);
	/* threshold exists once the run has one ([expect]), not in fail_when. */
	cr_expect_eq(check("threshold >= 1k/s", CT_JUDGE_HAS_THRESHOLD, &u), 0);
	cr_expect_eq(check("threshold >= 1k/s", 0, &u), -ENOENT);
	cr_expect_eq(check("search.rate > 0", CT_JUDGE_HAS_SEARCH, &u), 0);
	cr_expect_eq(check("search.rate > 0", 0, &u), -ENOENT);
	cr_expect_eq(check("first_failure.ct_drop_s < 10s", 0, &u), 0);
	/* [lab] bystander adds its counts, nothing else does. */
	cr_expect_eq(check("bystander.slow == 0 and bystander.failed == 0",
			   CT_JUDGE_HAS_LAB | CT_JUDGE_HAS_BYSTANDER, &u),
		     0);
	cr_expect_eq(check("bystander.failed == 0", CT_JUDGE_HAS_LAB, &u), -ENOENT);
	cr_expect_str_eq(u, "bystander.failed");
}

/* Every number a real lab step carries (the hand-made run of the report
 * tests follows summary.json) passes the check: it refuses no real name. */
static void leaves(const json_t *o, const char *prefix, char out[][128], size_t *n)
{
	const char *k;
	const json_t *v;

	json_object_foreach((json_t *)o, k, v)
	{
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (json_is_object(v) && strcmp(k, "settings") != 0)
			leaves(v, path, out, n);
		else if (json_is_number(v) && *n < 64)
			snprintf(out[(*n)++], 128, "%s", path);
	}
}

Test(judge, every_field_of_a_real_step_is_known)
{
	json_error_t je;
	json_t *sum = json_load_file(CT_TEST_DATA "/run-sweep/summary.json", 0, &je);
	char names[64][128];
	size_t n = 0;
	const char *u = NULL;

	cr_assert_not_null(sum, "%s", je.text);
	leaves(json_array_get(json_object_get(sum, "steps"), 0), "", names, &n);
	cr_assert_gt(n, 30, "the fixture's step has its fields");
	for (size_t i = 0; i < n; i++) {
		char text[160];
		snprintf(text, sizeof(text), "%.127s >= 0", names[i]);
		cr_expect_eq(check(text, CT_JUDGE_HAS_LAB, &u), 0, "%s refused", names[i]);
	}
	json_decref(sum);
}
