/* What a user sees in the live view: the step and a progress bar, the rates,
 * failures by cause, a conntrack fill bar with count / max, TIME_WAIT per
 * side and ports in use; redrawn in place on a terminal, at most 4 times a
 * second, and no escape codes when the output is not a terminal. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen/probe/liveview.h"

static const char *sample_json =
    "{\"t\": 1.0, \"step\": 0, \"rate_target\": 500, \"rate\": 498, \"completed\": 2512,"
    " \"inflight\": 3, \"connect_ms\": {\"p99\": 0.41},"
    " \"failures\": {\"timeout\": 3, \"refused\": 0, \"eaddrnotavail\": 12},"
    " \"pkt\": {\"syn\": 50, \"syn_retrans\": 0, \"synack\": 50, \"rst\": 0, \"fin\": 100},"
    " \"ns\": {\"client\": {\"tw\": 2512, \"ports_in_use\": 2515, \"inuse\": 3},"
    "          \"server\": {\"tw\": 0, \"ct.count\": 12345, \"ct.max\": 262144, \"ct.drop\": 0}}}";

static void fill(struct ct_liveview *lv, const char *json)
{
	json_error_t e;
	json_t *s = json_loads(json, 0, &e);
	cr_assert_not_null(s, "%s", e.text);
	struct ct_sample_source src = ct_liveview_source(lv);
	cr_assert_eq(src.fill(src.ctx, s), 0);
	json_decref(s);
}

static unsigned occurrences(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

Test(liveview, plain_block_has_every_part)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ct_liveview *lv = ct_liveview_new(f, 3);
	cr_assert_not_null(lv);
	ct_liveview_step(lv, 0, "rate = 500/s", 1000.0, 500);
	fill(lv, sample_json);
	ct_liveview_free(lv);
	fclose(f);
	cr_expect(strstr(buf, "step 1/3  rate = 500/s  [...."), "%s", buf);
	cr_expect(strstr(buf, "0 / 1000.0 s"), "%s", buf);
	cr_expect(strstr(buf, "rate 498/s (target 500/s)  done 2,512  inflight 3"), "%s", buf);
	cr_expect(strstr(buf, "failures: timeout 3 eaddrnotavail 12\n"), "%s", buf);
	/* 12345/262144 = 4.7%: 2 of 40 cells at 100 columns */
	cr_expect(strstr(buf, "conntrack server [##......................................]"), "%s",
		  buf);
	cr_expect(strstr(buf, "12,345 / 262,144  4.7%  drop 0"), "%s", buf);
	cr_expect(strstr(buf, "TIME_WAIT client 2,512  server 0"), "%s", buf);
	cr_expect(strstr(buf, "ports in use 2,515"), "%s", buf);
	cr_expect(strstr(buf, "SYN 500"), "packets per second over a 0.1 s interval: %s", buf);
	cr_expect_null(strchr(buf, '\033'), "no escape codes off a terminal");
	free(buf);
}

Test(liveview, full_table_fills_the_bar_and_no_failures_say_none)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ct_liveview *lv = ct_liveview_new(f, 0);
	ct_liveview_step(lv, 4, NULL, 10.0, 100);
	fill(lv, "{\"t\": 1, \"failures\": {\"timeout\": 0},"
		 " \"ns\": {\"router\": {\"ct.count\": 100, \"ct.max\": 100, \"tw\": 0}}}");
	ct_liveview_free(lv);
	fclose(f);
	cr_expect(strstr(buf, "step 5  "), "no step count in a search: %s", buf);
	cr_expect(strstr(buf, "failures: none"), "%s", buf);
	cr_expect(strstr(buf, "conntrack router [########################################]"), "%s",
		  buf);
	cr_expect(strstr(buf, "100.0%"), "%s", buf);
	free(buf);
}

Test(liveview, host_topology_says_not_sampled)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ct_liveview *lv = ct_liveview_new(f, 1);
	ct_liveview_step(lv, 0, "", 5.0, 100);
	fill(lv, "{\"t\": 1, \"failures\": {}}");
	ct_liveview_free(lv);
	fclose(f);
	cr_expect(strstr(buf, "conntrack  not sampled"), "%s", buf);
	cr_expect(strstr(buf, "TIME_WAIT not sampled"), "%s", buf);
	free(buf);
}

Test(liveview, redraws_at_most_4_times_a_second)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ct_liveview *lv = ct_liveview_new(f, 1);
	ct_liveview_step(lv, 0, "x", 10.0, 100);
	for (int i = 0; i < 10; i++)
		fill(lv, sample_json); /* 10 samples well within 250 ms */
	fflush(f);
	cr_expect_eq(occurrences(buf, "step 1/1"), 1, "%s", buf);
	nap_ms(260);
	fill(lv, sample_json);
	fflush(f);
	cr_expect_eq(occurrences(buf, "step 1/1"), 2);
	ct_liveview_free(lv);
	fclose(f);
	free(buf);
}

Test(liveview, ansi_redraws_in_place_and_restores_the_cursor)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ct_liveview *lv = ct_liveview_new(f, 2);
	ct_liveview_set_ansi(lv, true, 40);
	ct_liveview_step(lv, 0, "rate = 500/s", 10.0, 500);
	fill(lv, sample_json);
	nap_ms(260);
	fill(lv, sample_json);
	fflush(f);
	cr_expect(!strncmp(buf, "\033[?25l", 6), "the cursor is hidden while drawing");
	cr_expect(strstr(buf, "\r\033[5A\033[J"),
		  "the second draw goes back up over the 6-line block and erases it: %s", buf);
	/* Lines are cut to the width, so none wraps and the count stays right. */
	for (char *l = buf; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		const char *start = l;
		size_t n = strcspn(start, "\n");
		const char *esc = memchr(start, '\033', n);
		if (!esc)
			cr_expect_leq(n, 39, "line cut at width-1: %.*s", (int)n, start);
	}
	ct_liveview_set_ansi(lv, true, 100); /* room for the whole summary line */
	struct ct_sample_source hook = ct_liveview_step_hook(lv);
	json_t *r =
	    json_pack("{s:f, s:f, s:i, s:{s:i}, s:{s:i}}", "rate_achieved", 499.0, "rate_target",
		      500.0, "completed", 4990, "failures", "timeout", 3, "ct", "peak", 12345);
	cr_assert_eq(hook.fill(hook.ctx, r), 0);
	json_decref(r);
	ct_liveview_free(lv);
	fclose(f);
	cr_expect(strstr(buf, "step 1/2  rate = 500/s  done: 499/s achieved of 500/s, 4,990 "),
		  "%s", buf);
	size_t n = strlen(buf);
	cr_expect(n > 7 && !strcmp(buf + n - 6, "\033[?25h"), "the cursor is shown at the end");
	cr_expect(strstr(buf, "\n\033[?25h"), "after a final newline");
	free(buf);
}

Test(liveview, only_netns_that_track_get_a_bar)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ct_liveview *lv = ct_liveview_new(f, 1);
	ct_liveview_step(lv, 0, "", 5.0, 100);
	fill(lv, "{\"t\": 1, \"rate\": 402.542, \"failures\": {}, \"ns\": {"
		 "\"client\": {\"ct.count\": 0, \"ct.max\": 1000, \"tw\": 1},"
		 "\"server\": {\"ct.count\": 10, \"ct.max\": 1000, \"tw\": 0}}}");
	nap_ms(260);
	fill(lv, "{\"t\": 2, \"failures\": {}, \"ns\": {"
		 "\"client\": {\"ct.count\": 0, \"ct.max\": 1000, \"tw\": 1},"
		 "\"server\": {\"ct.count\": 0, \"ct.max\": 1000, \"tw\": 0}}}");
	ct_liveview_free(lv);
	fclose(f);
	cr_expect(strstr(buf, "rate 403/s"), "rates rounded for the eye: %s", buf);
	cr_expect_eq(occurrences(buf, "conntrack client"), 1,
		     "the client's empty table is drawn only when no netns tracks anything: %s",
		     buf);
	cr_expect_eq(occurrences(buf, "conntrack server"), 1, "%s", buf);
	free(buf);
}
