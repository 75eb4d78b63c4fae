/* ct_judge_cause: the limit named for a failed step, from its figures. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "loadgen/judge.h"

static const char *cause(const char *step_json, char *text, size_t len)
{
	json_error_t e;
	json_t *st = json_loads(step_json, 0, &e);
	cr_assert_not_null(st, "bad test JSON: %s", e.text);
	const char *lim = ct_judge_cause(st, text, len);
	json_decref(st);
	return lim;
}

Test(judge, eaddrnotavail_is_client_ports)
{
	char t[512];
	cr_assert_str_eq(cause("{\"failures\":{\"eaddrnotavail\":5},\"rate_target\":100,"
			       "\"rate_achieved\":90}",
			       t, sizeof(t)),
			 "client_ports");
	cr_assert(strstr(t, "EADDRNOTAVAIL"), "%s", t);
}

Test(judge, conntrack_drops)
{
	char t[512];
	cr_assert_str_eq(cause("{\"ct\":{\"drop\":42},\"failures\":{\"timeout\":7}}", t, sizeof(t)),
			 "conntrack");
	cr_assert(strstr(t, "42"), "%s", t);
}

/* The silent cliff with one client thread: every call ~0.7 ms (under the
 * 1 ms mark), the thread inside connect() nearly all the time, the rate
 * down to a tenth, no error. */
Test(judge, busy_in_connect_is_client_ports)
{
	char t[512];
	cr_assert_str_eq(cause("{\"connect_call_us\":{\"p50\":15.8,\"p99\":856,\"max\":4148},"
			       "\"connect_busy\":0.95,\"rate_target\":12000,\"rate_achieved\":3646,"
			       "\"failures\":{}}",
			       t, sizeof(t)),
			 "client_ports");
	cr_assert(strstr(t, "95% of its time inside connect()"), "%s", t);
	cr_assert(strstr(t, "no error at all"), "%s", t);
}

Test(judge, slow_connect_call_is_client_ports)
{
	char t[512];
	cr_assert_str_eq(cause("{\"connect_call_us\":{\"p99\":5000},\"connect_busy\":0.2,"
			       "\"rate_target\":12000,\"rate_achieved\":3000}",
			       t, sizeof(t)),
			 "client_ports");
	cr_assert(strstr(t, "slowed to 5.0 ms"), "%s", t);
}

/* Busy in connect() but every call fast: a loopback handshake runs the
 * server's side in the caller too. That is the client's CPU, not its
 * ports. */
Test(judge, busy_but_fast_calls_is_client_cpu)
{
	char t[512];
	cr_assert_str_eq(cause("{\"connect_call_us\":{\"p50\":12,\"p99\":60},\"connect_busy\":0.6,"
			       "\"rate_target\":60000,\"rate_achieved\":35000,\"failures\":{}}",
			       t, sizeof(t)),
			 "client");
	cr_assert(strstr(t, "its own CPU or the server's"), "%s", t);
}

/* A step that held its rate is not blamed on the ports for being busy. */
Test(judge, busy_at_full_rate_is_not_ports)
{
	char t[512];
	cr_assert_str_neq(cause("{\"connect_call_us\":{\"p99\":400},\"connect_busy\":0.7,"
				"\"rate_target\":1000,\"rate_achieved\":1000,\"failures\":{}}",
				t, sizeof(t)),
			  "client_ports");
}
