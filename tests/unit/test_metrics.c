/* What a Prometheus scraper reads: the exposition text for a sample, exactly
 * (HELP/TYPE before each family, counters summed over steps, the histogram
 * cumulative with le="+Inf" = _count, labels escaped), and the HTTP side. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen/probe/metrics.h"

static void feed(struct ct_metrics *m, const char *json)
{
	json_error_t e;
	json_t *s = json_loads(json, 0, &e);
	cr_assert_not_null(s, "fixture JSON: %s", e.text);
	struct ct_sample_source src = ct_metrics_source(m);
	cr_assert_eq(src.fill(src.ctx, s), 0);
	json_decref(s);
}

static void end_step(struct ct_metrics *m)
{
	json_t *r = json_object();
	struct ct_sample_source h = ct_metrics_step_hook(m);
	cr_assert_eq(h.fill(h.ctx, r), 0);
	json_decref(r);
}

/* The value of the line that starts with `prefix` followed by a space. */
static const char *value_of(const char *text, const char *prefix)
{
	static char buf[64];
	size_t n = strlen(prefix);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, prefix, n) && l[n] == ' ') {
			const char *v = l + n + 1;
			size_t k = strcspn(v, "\n");
			snprintf(buf, sizeof(buf), "%.*s", (int)k, v);
			return buf;
		}
	}
	return NULL;
}

static const char *minimal =
    "{\"t\": 1.5, \"step\": 0, \"rate_target\": 500, \"scheduled\": 10, \"attempted\": 9,"
    " \"established\": 8, \"completed\": 7, \"unsent\": 1, \"inflight\": 1, \"rate\": 70.5,"
    " \"syn_retrans\": 2, \"failures\": {\"timeout\": 1, \"refused\": 0}}";

Test(metrics, exact_text_for_a_minimal_sample)
{
	struct ct_metrics *m = ct_metrics_new(NULL, NULL);
	cr_assert_not_null(m);
	char *t = ct_metrics_render(m);
	cr_expect_str_eq(t,
			 "# HELP ctload_sample_time_seconds t of the latest sample, seconds "
			 "since the run began (as in timeseries.jsonl).\n"
			 "# TYPE ctload_sample_time_seconds gauge\n",
			 "before any sample only the empty time family");
	free(t);
	feed(m, minimal);
	t = ct_metrics_render(m);
	const char *want =
	    "# HELP ctload_sample_time_seconds t of the latest sample, seconds since the run "
	    "began (as in timeseries.jsonl).\n"
	    "# TYPE ctload_sample_time_seconds gauge\n"
	    "ctload_sample_time_seconds 1.5\n"
	    "# HELP ctload_step Index of the step running (summary.json steps[]).\n"
	    "# TYPE ctload_step gauge\n"
	    "ctload_step 0\n"
	    "# HELP ctload_rate_target_per_second Connections per second the schedule asks for "
	    "now.\n"
	    "# TYPE ctload_rate_target_per_second gauge\n"
	    "ctload_rate_target_per_second 500\n"
	    "# HELP ctload_rate_per_second Completed connections per second over the last "
	    "sample.\n"
	    "# TYPE ctload_rate_per_second gauge\n"
	    "ctload_rate_per_second 70.5\n"
	    "# HELP ctload_connections_inflight Connections open now.\n"
	    "# TYPE ctload_connections_inflight gauge\n"
	    "ctload_connections_inflight 1\n"
	    "# HELP ctload_connections_scheduled_total Connections the schedule asked for, over "
	    "the run.\n"
	    "# TYPE ctload_connections_scheduled_total counter\n"
	    "ctload_connections_scheduled_total 10\n"
	    "# HELP ctload_connections_attempted_total Connections attempted (connect() called), "
	    "over the run.\n"
	    "# TYPE ctload_connections_attempted_total counter\n"
	    "ctload_connections_attempted_total 9\n"
	    "# HELP ctload_connections_established_total Connections that completed the "
	    "handshake, over the run.\n"
	    "# TYPE ctload_connections_established_total counter\n"
	    "ctload_connections_established_total 8\n"
	    "# HELP ctload_connections_completed_total Connections that got their reply and "
	    "closed, over the run.\n"
	    "# TYPE ctload_connections_completed_total counter\n"
	    "ctload_connections_completed_total 7\n"
	    "# HELP ctload_connections_unsent_total Scheduled connections never attempted "
	    "(ctload fell behind), over the run.\n"
	    "# TYPE ctload_connections_unsent_total counter\n"
	    "ctload_connections_unsent_total 1\n"
	    "# HELP ctload_syn_retransmits_total SYN retransmissions of ctload's connections "
	    "(TCP_INFO), over the run.\n"
	    "# TYPE ctload_syn_retransmits_total counter\n"
	    "ctload_syn_retransmits_total 2\n"
	    "# HELP ctload_connections_failed_total Failed connections by cause, over the run.\n"
	    "# TYPE ctload_connections_failed_total counter\n"
	    "ctload_connections_failed_total{cause=\"timeout\"} 1\n"
	    "ctload_connections_failed_total{cause=\"refused\"} 0\n"
	    "# HELP ctload_connect_duration_seconds Time from a connection's scheduled start to "
	    "the end of its handshake.\n"
	    "# TYPE ctload_connect_duration_seconds histogram\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.0001\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.00025\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.0005\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.001\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.0025\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.005\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.01\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.025\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.05\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.1\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.25\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"0.5\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"1\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"2.5\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"5\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"10\"} 0\n"
	    "ctload_connect_duration_seconds_bucket{le=\"+Inf\"} 0\n"
	    "ctload_connect_duration_seconds_sum 0\n"
	    "ctload_connect_duration_seconds_count 0\n";
	cr_expect_str_eq(t, want);
	free(t);
	ct_metrics_free(m);
}

Test(metrics, counters_sum_over_steps)
{
	struct ct_metrics *m = ct_metrics_new(NULL, NULL);
	feed(m, minimal);
	feed(m, "{\"t\": 1.6, \"step\": 0, \"attempted\": 20, \"failures\": {\"timeout\": 3}}");
	end_step(m);
	/* Step 1 starts again from 0 in the samples; the counters go on. */
	feed(m, "{\"t\": 2.0, \"step\": 1, \"attempted\": 5, \"failures\": {\"timeout\": 1,"
		" \"reset\": 2}}");
	char *t = ct_metrics_render(m);
	cr_expect_str_eq(value_of(t, "ctload_connections_attempted_total"), "25");
	cr_expect_str_eq(value_of(t, "ctload_connections_failed_total{cause=\"timeout\"}"), "4");
	cr_expect_str_eq(value_of(t, "ctload_connections_failed_total{cause=\"reset\"}"), "2");
	cr_expect_str_eq(value_of(t, "ctload_step"), "1");
	free(t);
	/* No step hook between steps: the change of "step" folds too. */
	feed(m, "{\"t\": 3.0, \"step\": 2, \"attempted\": 1, \"failures\": {}}");
	t = ct_metrics_render(m);
	cr_expect_str_eq(value_of(t, "ctload_connections_attempted_total"), "26");
	free(t);
	ct_metrics_free(m);
}

Test(metrics, histogram_cumulative_inf_equals_count)
{
	struct ct_metrics *m = ct_metrics_new(NULL, NULL);
	/* 0.3 ms x4 -> le 0.0005; 1 ms x1 -> le 0.001 (a bound is inclusive);
	 * 1003 ms x2 -> le 2.5 (a retransmitted SYN); 20 s -> +Inf. */
	feed(m, "{\"t\": 0.1, \"step\": 0, \"connect_hist\": [[0.3, 4], [1.0, 1], [1003.0, 2]]}");
	feed(m, "{\"t\": 0.2, \"step\": 0, \"connect_hist\": [[20000.0, 1]]}");
	char *t = ct_metrics_render(m);
	const char *b = "ctload_connect_duration_seconds_bucket";
	char k[128];
	snprintf(k, sizeof(k), "%s{le=\"0.00025\"}", b);
	cr_expect_str_eq(value_of(t, k), "0");
	snprintf(k, sizeof(k), "%s{le=\"0.0005\"}", b);
	cr_expect_str_eq(value_of(t, k), "4");
	snprintf(k, sizeof(k), "%s{le=\"0.001\"}", b);
	cr_expect_str_eq(value_of(t, k), "5");
	snprintf(k, sizeof(k), "%s{le=\"1\"}", b);
	cr_expect_str_eq(value_of(t, k), "5");
	snprintf(k, sizeof(k), "%s{le=\"2.5\"}", b);
	cr_expect_str_eq(value_of(t, k), "7");
	snprintf(k, sizeof(k), "%s{le=\"10\"}", b);
	cr_expect_str_eq(value_of(t, k), "7");
	snprintf(k, sizeof(k), "%s{le=\"+Inf\"}", b);
	cr_expect_str_eq(value_of(t, k), "8");
	cr_expect_str_eq(value_of(t, "ctload_connect_duration_seconds_count"), "8");
	double sum = atof(value_of(t, "ctload_connect_duration_seconds_sum"));
	cr_expect_float_eq(sum, 4 * 0.0003 + 0.001 + 2 * 1.003 + 20.0, 1e-9);
	free(t);
	ct_metrics_free(m);
}

Test(metrics, netns_families_and_escaping)
{
	struct ct_metrics *m = ct_metrics_new(NULL, NULL);
	feed(m,
	     "{\"t\": 0.1, \"step\": 0, \"failures\": {\"we\\\"ird\\\\cause\\n\": 1},"
	     " \"pkt\": {\"syn\": 10, \"syn_retrans\": 1, \"synack\": 9, \"rst\": 0, \"fin\": 18},"
	     " \"ns\": {\"client\": {\"tw\": 7, \"inuse\": 3, \"orphan\": 0, \"ports_in_use\": 10,"
	     "  \"tcpext.TCPSynRetrans\": 1, \"tcpext.TW\": 4},"
	     " \"server\": {\"ct.count\": 300, \"ct.max\": 262144, \"ct.drop\": 2, \"tw\": 0,"
	     "  \"inuse\": 1, \"orphan\": 0, \"tcpext.TCPSynRetrans\": 0}}}");
	feed(m,
	     "{\"t\": 0.2, \"step\": 0, \"failures\": {},"
	     " \"pkt\": {\"syn\": 5, \"syn_retrans\": 0, \"synack\": 5, \"rst\": 1, \"fin\": 10},"
	     " \"ns\": {\"client\": {\"tw\": 9, \"inuse\": 3, \"orphan\": 0, \"ports_in_use\": 12,"
	     "  \"tcpext.TCPSynRetrans\": 2, \"tcpext.TW\": 6},"
	     " \"server\": {\"ct.count\": 310, \"ct.max\": 262144, \"ct.drop\": 3, \"tw\": 0,"
	     "  \"inuse\": 1, \"orphan\": 0, \"tcpext.TCPSynRetrans\": 0}}}");
	char *t = ct_metrics_render(m);
	cr_expect_str_eq(value_of(t, "node_nf_conntrack_entries{netns=\"server\"}"), "310");
	cr_expect_null(value_of(t, "node_nf_conntrack_entries{netns=\"client\"}"),
		       "a netns without conntrack has no conntrack line");
	cr_expect_str_eq(value_of(t, "node_nf_conntrack_entries_limit{netns=\"server\"}"),
			 "262144");
	cr_expect_str_eq(value_of(t, "node_nf_conntrack_stat_drop{netns=\"server\"}"), "5",
			 "drops are the sum of the samples' deltas");
	cr_expect_str_eq(value_of(t, "node_sockstat_TCP_tw{netns=\"client\"}"), "9");
	cr_expect_str_eq(value_of(t, "ctload_ports_in_use{netns=\"client\"}"), "12");
	cr_expect_str_eq(value_of(t, "node_netstat_TcpExt_TCPSynRetrans{netns=\"client\"}"), "3");
	cr_expect_str_eq(value_of(t, "ctload_packets_total{kind=\"syn\"}"), "15");
	cr_expect_str_eq(value_of(t, "ctload_packets_total{kind=\"fin\"}"), "28");
	cr_expect_str_eq(
	    value_of(t, "ctload_connections_failed_total{cause=\"we\\\"ird\\\\cause\\n\"}"), "1",
	    "quote, backslash and newline escaped in a label value");
	cr_expect(strstr(t, "# TYPE node_nf_conntrack_entries gauge\n"));
	cr_expect(strstr(t, "# TYPE node_netstat_TcpExt_TCPSynRetrans untyped\n"));
	/* node_exporter's netstat collector: TcpExt TW as an untyped value. */
	cr_expect_str_eq(value_of(t, "node_netstat_TcpExt_TW{netns=\"client\"}"), "10",
			 "TIME_WAIT sockets whose timer ran out, summed over the samples");
	cr_expect(strstr(t, "# TYPE node_netstat_TcpExt_TW untyped\n"));
	cr_expect_null(value_of(t, "node_netstat_TcpExt_TW{netns=\"server\"}"),
		       "not sampled there, not rendered");
	cr_expect(strstr(t, "# TYPE ctload_packets_total counter\n"));
	free(t);
	ct_metrics_free(m);
}

Test(metrics, parse_listen)
{
	char a[64];
	unsigned p;
	cr_expect_eq(ct_metrics_parse_listen("127.0.0.1:9464", a, sizeof(a), &p), 0);
	cr_expect_str_eq(a, "127.0.0.1");
	cr_expect_eq(p, 9464);
	cr_expect_eq(ct_metrics_parse_listen("[::1]:0", a, sizeof(a), &p), 0);
	cr_expect_str_eq(a, "::1");
	cr_expect_eq(p, 0);
	cr_expect_eq(ct_metrics_parse_listen("::1:9464", a, sizeof(a), &p), -EINVAL);
	cr_expect_eq(ct_metrics_parse_listen("127.0.0.1", a, sizeof(a), &p), -EINVAL);
	cr_expect_eq(ct_metrics_parse_listen(":9464", a, sizeof(a), &p), -EINVAL);
	cr_expect_eq(ct_metrics_parse_listen("127.0.0.1:65536", a, sizeof(a), &p), -EINVAL);
	cr_expect_eq(ct_metrics_parse_listen("127.0.0.1:-1", a, sizeof(a), &p), -EINVAL);
}

static char *http_get(unsigned port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256], *buf = calloc(1, 65536);
	size_t n = 0;
	ssize_t r;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	cr_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	while (n < 65535 && (r = read(fd, buf + n, 65535 - n)) > 0)
		n += (size_t)r;
	close(fd);
	return buf;
}

Test(metrics, serves_the_text_over_http)
{
	struct ct_err err = {0};
	struct ct_metrics *m = ct_metrics_new("127.0.0.1:0", &err);
	cr_assert_not_null(m, "%s", err.msg);
	const char *addr = ct_metrics_address(m);
	cr_assert(!strncmp(addr, "127.0.0.1:", 10), "bound address %s", addr);
	unsigned port = (unsigned)atoi(addr + 10);
	cr_assert(port > 0);
	feed(m, minimal);
	char *resp = http_get(port, "/metrics");
	cr_expect(!strncmp(resp, "HTTP/1.0 200", 12) || !strncmp(resp, "HTTP/1.1 200", 12), "%s",
		  resp);
	cr_expect(strstr(resp, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	char *text = ct_metrics_render(m);
	const char *body = strstr(resp, "\r\n\r\n");
	cr_assert_not_null(body);
	cr_expect_str_eq(body + 4, text, "the body is the rendered text");
	free(text);
	free(resp);
	resp = http_get(port, "/");
	cr_expect(strstr(resp, " 404 "), "%s", resp);
	free(resp);
	ct_metrics_free(m);
}

Test(metrics, a_bad_address_says_what_to_do)
{
	struct ct_err err = {0};
	cr_expect_null(ct_metrics_new("nonsense", &err));
	cr_expect(strstr(err.msg, "ADDR:PORT"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_USAGE, "a malformed address is the user's to fix");
	cr_expect_null(ct_metrics_new("192.0.2.77:9464", &err),
		       "an address this host does not own");
	cr_expect(strstr(err.msg, "cannot listen on 192.0.2.77:9464"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_ENV, "an address this host does not own: environment");
}

/* The check a run makes before its directory exists: a taken port and an
 * address not ours are refused as ct_metrics_new() refuses them; a free
 * port and port 0 pass and stay free. */
Test(metrics, check_listen_before_the_run)
{
	struct ct_err err = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char addr[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	cr_expect_eq(ct_metrics_check_listen(addr, &err), -EADDRINUSE);
	cr_expect(strstr(err.msg, addr) && strstr(err.msg, "in use"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_ENV);
	close(fd);
	cr_expect_eq(ct_metrics_check_listen(addr, &err), 0, "%s", err.msg);
	cr_expect_eq(ct_metrics_check_listen("127.0.0.1:0", &err), 0, "%s", err.msg);
	cr_expect_lt(ct_metrics_check_listen("192.0.2.77:9464", &err), 0);
	cr_expect_eq(err.code, CT_EXIT_ENV);
	cr_expect_eq(ct_metrics_check_listen("nonsense", &err), -EINVAL);
	cr_expect_eq(err.code, CT_EXIT_USAGE);
	struct ct_metrics *m = ct_metrics_new(addr, &err);
	cr_expect_not_null(m, "the checked port is still free: %s", err.msg);
	ct_metrics_free(m);
}
