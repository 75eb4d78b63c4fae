/* report.html from a run directory, as a reader checks it: the headline
 * says what broke and where, every chart is there with the numbers of
 * summary.json, a run killed mid-way still gives a report that says so,
 * a scenario description cannot inject markup, and a directory that is
 * not a run gets a clear error. Fixtures: tests/data/run-sweep (a complete
 * lab sweep), tests/data/run-killed (killed during step 3, last line of
 * timeseries.jsonl cut in half), run-refused (a rate sweep where every
 * connection was refused) and run-search-held (a search where every trial
 * passed); see tests/data/run-make.py. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen/report/report.h"
#include "loadgen/run/judge.h"

static char tmp[64];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/ct-report-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_expect_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void copy(const char *src, const char *dst)
{
	char *s = slurp(src);
	FILE *f = fopen(dst, "w");
	cr_assert_not_null(f);
	fputs(s, f);
	fclose(f);
	free(s);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Build the report of a fixture into tmp; returns the HTML. */
static char *build(const char *fixture)
{
	char html[128];
	struct ct_err err = {0};
	snprintf(html, sizeof(html), "%s/report.html", tmp);
	int rc = ct_report_write(fixture, html, &err);
	cr_assert_eq(rc, 0, "report of %s: %s", fixture, err.msg);
	return slurp(html);
}

Test(report, counts_read_like_prose)
{
	char b[48];
	ct_report_fmt_count(2184.4, b, sizeof(b));
	cr_expect_str_eq(b, "2,184");
	ct_report_fmt_count(1234567, b, sizeof(b));
	cr_expect_str_eq(b, "1,234,567");
	ct_report_fmt_count(470, b, sizeof(b));
	cr_expect_str_eq(b, "470");
	ct_report_fmt_count(0, b, sizeof(b));
	cr_expect_str_eq(b, "0");
	ct_report_fmt_count(9.46, b, sizeof(b));
	cr_expect_str_eq(b, "9.5");
	ct_report_fmt_count(-1500, b, sizeof(b));
	cr_expect_str_eq(b, "-1,500");
}

Test(report, limit_names_in_words)
{
	cr_expect_str_eq(ct_report_limit_phrase("conntrack"), "the firewall's connection table was full");
	cr_expect_str_eq(ct_report_limit_phrase("client_ports"), "the client ran out of ports");
	cr_expect_str_eq(ct_report_limit_phrase("something_new"), "connections started failing");
	cr_expect_str_eq(ct_report_limit_phrase(NULL), "connections started failing");
}

Test(report, complete_sweep, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-sweep");

	cr_expect(strstr(h, "With tcp_tw_reuse=0, the client ran out of ports at 470 conn/s "
			    "\xe2\x80\x94 6% below the model&#39;s 500/s"),
		  "the headline names what broke, where, against the model");
	cr_expect(strstr(h, "the firewall&#39;s connection table was full at 450 conn/s \xe2\x80\x94 "
			    "15% below"),
		  "with reuse=1 the conntrack table is what broke (error_pct computed)");
	static const char *const charts[] = {"rates",	"conntrack", "tw",
					     "latency", "steps",     "thresholds"};
	for (size_t i = 0; i < sizeof(charts) / sizeof(charts[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "<svg data-chart=\"%s\"", charts[i]);
		cr_expect_eq(count(h, want), 1, "one %s chart", charts[i]);
	}
	/* every step bar carries the summary.json numbers */
	json_t *sum = json_load_file(CT_TEST_DATA "/run-sweep/summary.json", 0, NULL);
	cr_assert_not_null(sum);
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(sum, "steps"), i, st)
	{
		char want[160];
		double ach = json_number_value(json_object_get(st, "rate_achieved"));
		snprintf(want, sizeof(want),
			 "<g data-step=\"%zu\"><rect class=\"bar-target\" "
			 "data-v=\"%g\"",
			 i, json_number_value(json_object_get(st, "rate_target")));
		cr_expect(strstr(h, want), "step %zu target bar: %s", i, want);
		snprintf(want, sizeof(want), "class=\"bar-achieved\" data-v=\"%g\"", ach);
		cr_expect(strstr(h, want), "step %zu achieved bar: %s", i, want);
	}
	json_decref(sum);
	cr_expect(strstr(h, "class=\"bar-measured\" data-v=\"470\""));
	cr_expect(strstr(h, "class=\"bar-predicted\" data-v=\"530\""));
	cr_expect(strstr(h, "nf_conntrack_max = 1,800"), "the limit is named on its chart");
	cr_expect(strstr(h, "<line data-v=\"1000\""), "the 1 s SYN-retry line is drawn");
	cr_expect(strstr(h, "<g class=\"ev\"><g data-t=\""), "the kernel event is on the timeline");
	cr_expect(strstr(h, "table full, dropping packet"));
	cr_expect(strstr(h, "Before and after: tcp_tw_reuse"), "sysctl axis side by side");
	cr_expect_eq(count(h, "<div class=\"card\""), 2);
	cr_expect_eq(count(h, "<svg data-chart=\"before-after\" data-value="), 2,
		     "each value gets its own small chart");
	cr_expect_null(strstr(h, "cut short"), "a complete run is not called cut short");
	cr_expect_null(strstr(h, "http://"), "nothing loads from the network");
	cr_expect_null(strstr(h, "https://"));

	char csvp[128];
	snprintf(csvp, sizeof(csvp), "%s/timeseries.csv", tmp);
	char *csv = slurp(csvp);
	cr_expect_eq(strncmp(csv, "t,step,rate_target,", 19), 0, "%.80s", csv);
	cr_expect(strstr(csv, ",ns.server.ct.count,"), "per-netns columns are flattened");
	cr_expect_eq(count(csv, "\n"), 69, "a header and one row per sample");
	cr_expect(strstr(csv, ",\"nf_conntrack: nf_conntrack: table full, dropping packet\"\n"),
		  "a field with a comma is quoted");
	free(csv);
	free(h);
}

Test(report, killed_run, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-killed");
	cr_expect(strstr(h, "This run was cut short"));
	cr_expect(strstr(h, "line 44) is incomplete"), "the truncated line is named");
	cr_expect(strstr(h, "Step 3 has samples but no result"));
	cr_expect(strstr(h, "With tcp_tw_reuse=1 at 300/s, all 675 connections completed"),
		  "the unfinished step is told with its settings from the sweep plan");
	cr_expect(strstr(h, "<span class=\"pill part\">cut short</span>"));
	cr_expect(strstr(h, "The client ran out of ports at 600 conn/s (with no reuse of TIME_WAIT "
			    "ports)"),
		  "without thresholds the first failing step makes the headline, its settings "
		  "in words");
	/* the description is hostile */
	cr_expect_eq(count(h, "<script"), 1, "only the JSON data island is a script");
	cr_expect(strstr(h, "<script type=\"application/json\" id=\"ct-report\">"));
	cr_expect_null(strstr(h, "<img"));
	cr_expect(strstr(h, "Killed mid-run &lt;/p&gt;&lt;script&gt;alert(&#39;x&#39;)"));
	free(h);
}

Test(report, unreadable_summary_rebuilds_from_samples, .init = setup, .fini = teardown)
{
	char p[128];
	struct ct_err err = {0};
	snprintf(p, sizeof(p), "%s/timeseries.jsonl", tmp);
	copy(CT_TEST_DATA "/run-killed/timeseries.jsonl", p);
	snprintf(p, sizeof(p), "%s/summary.json", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs("{\"steps\": [ {\"step\": 0,", f);
	fclose(f);
	cr_assert_eq(ct_report_build(tmp, &err), 0, "%s", err.msg);
	snprintf(p, sizeof(p), "%s/report.html", tmp);
	char *h = slurp(p);
	cr_expect(strstr(h, "summary.json could not be read"));
	cr_expect(strstr(h, "scenario.ini is missing"));
	cr_expect_eq(count(h, "<tr class=\""), 3, "three steps rebuilt from the samples");
	cr_expect(strstr(h, "2,400 connections failed") || strstr(h, "1,000 of 2,400"),
		  "step 2's failures come from its last sample");
	cr_expect(strstr(h, "<svg data-chart=\"conntrack\""));
	free(h);
}

Test(report, sweep_without_thresholds_compares_the_setting, .init = setup, .fini = teardown)
{
	static const char *const files[] = {"scenario.ini", "timeseries.jsonl", "events.log"};
	char p[160];
	struct ct_err err = {0};
	for (size_t i = 0; i < 3; i++) {
		char src[160];
		snprintf(src, sizeof(src), "%s/run-sweep/%s", CT_TEST_DATA, files[i]);
		snprintf(p, sizeof(p), "%s/%s", tmp, files[i]);
		copy(src, p);
	}
	json_t *sum = json_load_file(CT_TEST_DATA "/run-sweep/summary.json", 0, NULL);
	cr_assert_not_null(sum);
	json_object_set_new(sum, "thresholds", json_array()); /* no search ran */
	snprintf(p, sizeof(p), "%s/summary.json", tmp);
	cr_assert_eq(json_dump_file(sum, p, 0), 0);
	json_decref(sum);
	cr_assert_eq(ct_report_build(tmp, &err), 0, "%s", err.msg);
	snprintf(p, sizeof(p), "%s/report.html", tmp);
	char *h = slurp(p);
	cr_expect(strstr(h, "id=\"headline\">With no reuse of TIME_WAIT ports, 300 conn/s held, then "
			    "the client ran out of ports at 600 conn/s; with TIME_WAIT ports reused, "
			    "300 conn/s held, then the firewall&#39;s connection table was full at 600 "
			    "conn/s."),
		  "one clause per value of the tuning key");
	cr_expect_null(strstr(h, "data-chart=\"thresholds\""), "no thresholds, no chart");
	free(h);
}

Test(report, errors_name_the_directory, .init = setup, .fini = teardown)
{
	struct ct_err err = {0};
	cr_expect_eq(ct_report_build("/nonexistent/ct-run", &err), -ENOENT);
	cr_expect(strstr(err.msg, "/nonexistent/ct-run"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_USAGE, "a missing directory is a usage error");
	err = (struct ct_err){0};
	cr_expect_eq(ct_report_build(tmp, &err), -ENOTDIR);
	cr_expect(strstr(err.msg, "not a run directory"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_USAGE);
	err = (struct ct_err){0};
	cr_expect_eq(ct_report_build(CT_TEST_DATA "/run-make.py", &err), -ENOTDIR);
	cr_expect(strstr(err.msg, "not a directory"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_USAGE);
	err = (struct ct_err){0};
	cr_expect_lt(ct_report_write(CT_TEST_DATA "/run-sweep", "/nonexistent/x/report.html", &err),
		     0);
	cr_expect(strstr(err.msg, "/nonexistent/x/report.html"), "%s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_ENV, "a page that cannot be written is the environment's");
	cr_expect_lt(ct_report_build("/nonexistent/ct-run", NULL), 0, "err may be NULL");
}

/* A sweep point that held its rate is a lower bound, not a limit reached:
 * the report must say it held, never that something ran out at that rate. */
Test(report, a_point_that_held_is_not_told_as_a_failure, .init = setup, .fini = teardown)
{
	char dir[128], path[192];
	snprintf(dir, sizeof(dir), "%s/run", tmp);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	json_t *sum = json_pack(
	    "{s:s, s:s, s:[{s:{s:s}, s:f, s:f, s:i, s:i, s:s, s:{s:i}}],"
	    " s:[{s:{s:s}, s:s, s:f, s:b, s:f, s:s}]}",
	    "scenario", "held", "topology", "lab", "steps", "settings",
	    "sysctl.host.net.netfilter.nf_conntrack_max", "65536", "rate_target", 1000.0,
	    "rate_achieved", 1000.0, "completed", 12000, "attempted", 12000, "verdict", "pass",
	    "failures", "timeout", 0, "thresholds", "settings",
	    "sysctl.host.net.netfilter.nf_conntrack_max", "65536", "method", "held",
	    "measured_cps", 1000.0, "bounded", 0, "predicted_cps", 546.0, "binding_limit",
	    "conntrack");
	cr_assert_not_null(sum);
	cr_assert_eq(json_dump_file(sum, path, 0), 0);
	json_decref(sum);
	char *html = build(dir);
	cr_expect(strstr(html, "every connection held at 1,000 conn/s") != NULL,
		  "the held point is told as held");
	cr_expect(strstr(html, "filled at 1,000") == NULL && strstr(html, "ran out") == NULL,
		  "nothing is said to have run out at the rate that held");
	free(html);

	/* The same point proven sustained ([load] sustain = check). */
	sum = json_load_file(path, 0, NULL);
	cr_assert_not_null(sum);
	json_object_set_new(json_array_get(json_object_get(sum, "thresholds"), 0), "method",
			    json_string("sustained"));
	cr_assert_eq(json_dump_file(sum, path, 0), 0);
	json_decref(sum);
	html = build(dir);
	cr_expect(strstr(html, "1,000 conn/s held, sustained \xe2\x80\x94 above the sustained "
			       "limit the model predicts, 546/s, set by the conntrack table"),
		  "a sustained point is told as held");
	cr_expect(strstr(html, "<h1 class=\"ok\""), "and its headline is no failure");
	cr_expect_null(strstr(html, "ran out"));
	cr_expect_null(strstr(html, "filled at"));
	free(html);
}

/* scenario.ini is read by the scenario parser alone: a file it refuses
 * (another version's keys, a cut) still gives a page, which says so and
 * takes the scenario's name from summary.json. */
Test(report, a_refused_scenario_is_named_in_a_note, .init = setup, .fini = teardown)
{
	static const char *const files[] = {"summary.json", "timeseries.jsonl"};
	char p[160];
	struct ct_err err = {0};
	for (size_t i = 0; i < 2; i++) {
		char src[160];
		snprintf(src, sizeof(src), "%s/run-sweep/%s", CT_TEST_DATA, files[i]);
		snprintf(p, sizeof(p), "%s/%s", tmp, files[i]);
		copy(src, p);
	}
	snprintf(p, sizeof(p), "%s/scenario.ini", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs("[scenario]\nname = other-name\ndescription = \"never shown\"\n[load]\nrate = 1/s\n"
	      "[no_such_section]\nkey = 1\n",
	      f);
	fclose(f);
	cr_assert_eq(ct_report_build(tmp, &err), 0, "%s", err.msg);
	snprintf(p, sizeof(p), "%s/report.html", tmp);
	char *h = slurp(p);
	cr_expect(strstr(h, "scenario.ini could not be read, so the scenario&#39;s name, "
			    "description and sweep are unknown: "),
		  "the note says what is missing and why");
	cr_expect(strstr(h, "no_such_section"), "the parser's message names the culprit");
	cr_expect(strstr(h, "<title>tw-reuse \xe2\x80\x94 ctload report</title>"),
		  "the name comes from summary.json");
	cr_expect_null(strstr(h, "never shown"), "nothing of a refused file is shown");
	cr_expect_null(strstr(h, "other-name"));
	free(h);
}

/* Why a step failed is judge's answer (ct_judge_cause, summary.json's
 * fail_cause), not a classifier of the report's own: with EADDRNOTAVAIL and
 * conntrack drops both, the ports ran out first. */
Test(report, the_cause_is_the_judge_s, .init = setup, .fini = teardown)
{
	char dir[128], path[192];
	snprintf(dir, sizeof(dir), "%s/run", tmp);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	json_t *sum = json_pack("{s:s, s:[{s:i, s:f, s:f, s:i, s:i, s:s, s:{s:i, s:i}, s:{s:i, "
				"s:i, s:i}}]}",
				"scenario", "both", "steps", "step", 0, "rate_target", 500.0,
				"rate_achieved", 300.0, "attempted", 5000, "completed", 3000,
				"verdict", "fail", "failures", "eaddrnotavail", 10, "timeout", 1990,
				"ct", "peak", 1800, "limit", 1800, "drop", 700);
	cr_assert_not_null(sum);
	char text[512];
	cr_expect_str_eq(
	    ct_judge_cause(json_array_get(json_object_get(sum, "steps"), 0), text, sizeof(text)),
	    "client_ports");
	cr_assert_eq(json_dump_file(sum, path, 0), 0);
	json_decref(sum);
	char *html = build(dir);
	cr_expect(strstr(html, "id=\"headline\">The client ran out of ports at 500 conn/s: 2,000 "
			       "of 5,000 connections failed.</h1>"),
		  "the headline names judge's cause");
	cr_expect(strstr(html, "\"diagnosis\":\"the client ran out of ports\""),
		  "so does the data island");
	cr_expect_null(strstr(html, "connection table was full"));
	free(html);
}

/* A sample's connect_hist is no CSV cell: timeseries.csv has plain columns
 * only, and connect_hist.csv one row per bucket, at the JSONL's 6 digits. */
Test(report, connect_hist_gets_its_own_csv, .init = setup, .fini = teardown)
{
	char path[128], run[96];
	struct ct_err err = {0};
	FILE *f;

	snprintf(run, sizeof(run), "%s/run", tmp);
	cr_assert_eq(mkdir(run, 0755), 0);
	snprintf(path, sizeof(path), "%s/timeseries.jsonl", run);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"t\":0.1,\"step\":0,\"completed\":4,\"connect_ms\":{\"p50\":0.021631},"
	      "\"connect_hist\":[[0.021375,1],[0.021631,3]]}\n"
	      "{\"t\":0.2,\"step\":0,\"completed\":6,\"connect_ms\":{\"p50\":1003.52},"
	      "\"connect_hist\":[[1003.52,2]]}\n",
	      f);
	fclose(f);
	cr_assert_eq(ct_report_build(run, &err), 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/timeseries.csv", run);
	char *csv = slurp(path);
	cr_expect_str_eq(csv, "t,step,completed,connect_ms.p50\n"
			      "0.1,0,4,0.021631\n"
			      "0.2,0,6,1003.52\n");
	free(csv);
	snprintf(path, sizeof(path), "%s/connect_hist.csv", run);
	csv = slurp(path);
	cr_expect_str_eq(csv, "t,step,connect_ms,count\n"
			      "0.1,0,0.021375,1\n"
			      "0.1,0,0.021631,3\n"
			      "0.2,0,1003.52,2\n");
	free(csv);
}

/* A search whose every trial passed (tests/data/run-search-held): nothing
 * ran out, so the headline says what held and names the model's limit
 * without saying it was reached. */
Test(report, a_search_where_nothing_failed_says_nothing_ran_out, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-search-held");

	cr_expect(strstr(h,
			 "<h1 class=\"ok\" id=\"headline\">Nothing broke up to 400 conn/s, the "
			 "highest rate tried (the model puts the sustained limit at 470/s, set by "
			 "the client&#39;s ports).</h1>"),
		  "the headline tells a lower bound");
	cr_expect_null(strstr(h, "ran out"), "nothing is said to have run out");
	cr_expect_null(strstr(h, "<li class=\"bad\""), "no bullet tells of a failure");
	free(h);
}

/* A sweep of load.rate alone where every connection was refused
 * (tests/data/run-refused): each point is told apart by its rate, in the
 * bullets and on the threshold chart, so no two bullets read the same. */
Test(report, rate_sweep_points_are_told_apart, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-refused");
	const char *a = "With rate=50, the server refused connections, but no limit could be "
			"measured from it.";
	const char *b = "With rate=100, the server refused connections, but no limit could be "
			"measured from it.";

	cr_expect_eq(count(h, "as configured"), 0, "no point is labelled as configured");
	const char *thc = strstr(h, "<svg data-chart=\"thresholds\"");
	cr_expect(strstr(h, "<text class=\"barlbl\" x=\"") && thc &&
		      strstr(thc, ">rate=50</tspan>") && strstr(thc, ">rate=100</tspan>"),
		  "the threshold chart labels each point by its rate");
	cr_expect(strstr(h, a) && strstr(h, b), "one bullet per point, each with its rate");
	/* each bullet once in the story (the headline may repeat the first) */
	char li[300];
	snprintf(li, sizeof(li), "<li class=\"bad\">%s</li>", b);
	cr_expect_eq(count(h, li), 1);
	snprintf(li, sizeof(li), "<li class=\"bad\">%s</li>", a);
	cr_expect_eq(count(h, li), 1);
	free(h);
}

/* No connection made a handshake (run-refused): no latency is made up, in
 * the chart's caption or in the table of steps. */
Test(report, no_handshake_no_latency, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-refused");

	cr_expect_null(strstr(h, "slowest: "), "no 'slowest' latency is quoted");
	cr_expect(strstr(h, "No connection completed a handshake: there is no latency to draw."));
	cr_expect_null(strstr(h, "0.00 ms"), "no step shows a latency of 0");
	free(h);
}

/* The text of every card of the page, one after another: *card is set to
 * the next `<div class="card"` and its length returned (0: no more). */
static size_t next_card(const char *h, const char **card)
{
	const char *p = strstr(*card ? *card + 1 : h, "<div class=\"card\"");
	if (!p)
		return 0;
	const char *end = strstr(p + 1, "<div class=\"card\"");
	const char *sec = strstr(p, "</div></div>");
	*card = p;
	return (size_t)((end && (!sec || end < sec) ? end : sec ? sec : p + strlen(p)) - p);
}

/* A card compares like with like: it never gives a rate as the highest
 * that held and says in the same breath that something broke at it. */
static void expect_cards_agree(const char *h)
{
	const char *card = NULL;
	size_t n, cards = 0;
	while ((n = next_card(h, &card)) > 0) {
		char *c = strndup(card, n), rate[32], broke[64];
		cards++;
		const char *big = strstr(c, "</h3><div class=\"big\">");
		if (big && sscanf(big, "</h3><div class=\"big\">%31[0-9,]/s</div>", rate) == 1) {
			snprintf(broke, sizeof(broke), " at %s/s.</p>", rate);
			cr_expect_null(strstr(c, broke), "a card says %s/s held and broke: %.300s",
				       rate, c);
			snprintf(broke, sizeof(broke), "Not proven at %s/s", rate);
			cr_expect_null(strstr(c, broke), "a card says %s/s held and not: %.300s",
				       rate, c);
		}
		free(c);
	}
	cr_expect_gt(cards, 0, "the page has before/after cards");
}

/* run-sustain: one point proven sustained, one that held its 12 s but
 * whose client ports would run out at about 30 s, two that failed. */
Test(report, the_sustained_truth, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-sustain");

	cr_expect(strstr(h,
			 "id=\"headline\">With a connection table of 16,384 entries, TIME_WAIT "
			 "ports reused, 100 conn/s held, sustained; with a connection table of "
			 "16,384 entries, no reuse of TIME_WAIT ports, 100 conn/s held 12 s but is "
			 "not proven: the client would run out of ports at about 30 s; with a "
			 "connection table of 1,024 entries (whatever the reuse of TIME_WAIT "
			 "ports), the firewall&#39;s connection table was full at 100 "
			 "conn/s.</h1>"),
		  "the headline: which point holds sustained, which is not proven, which failed");
	cr_expect(strstr(h,
			 "<li class=\"uns\" data-step=\"2\"><b>Step 3.</b> With "
			 "nf_conntrack_max=16384, tcp_tw_reuse=0 at 100/s, all 1,200 connections "
			 "completed (100/s), none failed in 12 s, but that is not proven to last: "
			 "the client would run out of ports at about 30 s (1,202 of 3,000, "
			 "growing 100/s).</li>"),
		  "the unsustained step is told with its projection, never as held");
	cr_expect(strstr(h,
			 "<li class=\"ok\" data-step=\"3\"><b>Step 4.</b> With "
			 "nf_conntrack_max=16384, tcp_tw_reuse=1 at 100/s, all 1,200 connections "
			 "completed (100/s), none failed: held, sustained (proven: conntrack "
			 "entries stay under 9,929 of 16,384 through the 120 s horizon).</li>"),
		  "the sustained step says what proves it");
	cr_expect(strstr(h, "the firewall&#39;s connection table was full 10.5 s into the step"),
		  "a failed step says when it broke");
	cr_expect(strstr(h, "<li class=\"uns\">With nf_conntrack_max=16384, tcp_tw_reuse=0, 100 "
			    "conn/s held 12 s but is not proven to last: the client would run out "
			    "of ports at about 30 s"),
		  "its threshold says the same");
	cr_expect(strstr(h, "With nf_conntrack_max=16384, tcp_tw_reuse=1, 100 conn/s held, "
			    "sustained (proven: conntrack entries stay under 9,929 of 16,384"),
		  "the sustained threshold says what proves it");
	/* the table, the chart per step, the cards, the thresholds chart */
	cr_expect(strstr(h, "<tr class=\"uns\" data-step=\"2\">"));
	cr_expect(strstr(h, "<span class=\"pill uns\">not proven</span></td></tr><tr class=\"uns "
			    "why\" data-step=\"2\"><td></td><td class=\"l\" colspan=\"14\">held 12 "
			    "s, not proven: the client would run out of ports at about 30 s</td>"),
		  "the table: its own colour, and why on a line of its own");
	cr_expect(strstr(h, "<span class=\"pill ok\" title=\"proven: conntrack entries stay under "
			    "9,929 of 16,384 through the 120 s horizon\">sustained</span>"));
	cr_expect(strstr(h, "<rect class=\"bar-achieved uns\" data-v=\"100\""),
		  "its bar has a colour of its own");
	cr_expect(strstr(h, "held, not proven to last</span>"), "and a legend entry");
	cr_expect(strstr(h, "<rect class=\"band-uns\""), "its band over time is amber");
	cr_expect(strstr(h, "<div class=\"big uns\">not proven</div>"));
	cr_expect(strstr(h, "<p class=\"uns\">Not proven at 100/s: the client would run out of "
			    "ports at about 30 s"));
	cr_expect(strstr(h, "<p>No step failed, and it is proven to last: conntrack entries stay "
			    "under 9,929"));
	cr_expect(strstr(h, "<text class=\"thnote uns\""), "no threshold bar for it");
	cr_expect(strstr(h, "not proven at 100/s</text>"));
	cr_expect(strstr(h, "\"verdict\":\"unsustained\",\"sustained\":false"),
		  "the data island has the verdict");
	cr_expect_null(strstr(h, "id=\"sustain-off\""), "sustain = check: no note");
	expect_cards_agree(h);
	free(h);
}

/* Before and after in a sweep of two kernel settings: each row of cards
 * keeps the other setting alike, and the second setting gets a table. */
Test(report, a_card_compares_like_with_like, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-sustain");
	const char *row0 = strstr(h, "<h3 class=\"ctx\">With tcp_tw_reuse=0</h3>");
	const char *row1 = strstr(h, "<h3 class=\"ctx\">With tcp_tw_reuse=1</h3>");
	cr_assert(row0 && row1 && row0 < row1, "a row of cards per value of the other key");
	cr_expect_eq(count(h, "<div class=\"card\""), 4, "one card per point");
	char *r0 = strndup(row0, (size_t)(row1 - row0));
	cr_expect(strstr(r0, "The firewall&#39;s connection table was full at 100/s."));
	cr_expect(strstr(r0, "Not proven at 100/s"));
	cr_expect_null(strstr(r0, "No step failed"), "no step of tcp_tw_reuse=1 in this row");
	free(r0);
	cr_expect(
	    strstr(h, "<table class=\"ba\" data-key=\"sysctl.client.net.ipv4.tcp_tw_reuse\">"),
	    "the second key's before and after is a table");
	cr_expect(strstr(h, "<td class=\"l\">nf_conntrack_max=16384</td><td class=\"l uns\">100/s "
			    "held 12 s but is not proven: the client would run out of ports at "
			    "about 30 s</td><td class=\"l ok\">100/s held, sustained</td>"),
		  "a row per context, a cell per value");
	expect_cards_agree(h);
	free(h);
}

/* With [load] sustain = off, the page says the verdicts are for each
 * step's duration only, and a rate that held is never told as proven. */
Test(report, sustain_off_says_duration_only, .init = setup, .fini = teardown)
{
	static const char *const files[] = {"scenario.ini", "timeseries.jsonl", "events.log"};
	char p[160], src[160];
	struct ct_err err = {0};
	for (size_t i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "%s/run-sustain/%s", CT_TEST_DATA, files[i]);
		snprintf(p, sizeof(p), "%s/%s", tmp, files[i]);
		copy(src, p);
	}
	json_t *sum = json_load_file(CT_TEST_DATA "/run-sustain/summary.json", 0, NULL), *st;
	cr_assert_not_null(sum);
	size_t i;
	json_array_foreach(json_object_get(sum, "steps"), i, st)
	{
		json_object_set_new(json_object_get(st, "sustain"), "mode", json_string("off"));
		if (!strcmp(json_string_value(json_object_get(st, "verdict")), "unsustained")) {
			json_object_set_new(st, "verdict", json_string("pass"));
			json_object_set_new(st, "fail_reason", json_null());
		}
	}
	json_t *ths = json_object_get(sum, "thresholds");
	json_object_set_new(json_array_get(ths, 2), "note",
			    json_string("held for its duration only ([load] sustain = off), above "
					"the limit the model predicts"));
	json_object_set_new(json_array_get(ths, 3), "method", json_string("held"));
	snprintf(p, sizeof(p), "%s/summary.json", tmp);
	cr_assert_eq(json_dump_file(sum, p, 0), 0);
	json_decref(sum);
	cr_assert_eq(ct_report_build(tmp, &err), 0, "%s", err.msg);
	snprintf(p, sizeof(p), "%s/report.html", tmp);
	char *h = slurp(p);
	cr_expect(strstr(h, "<p id=\"sustain-off\"><b>Each verdict is for its step's duration "
			    "only</b> ([load] sustain = off)"),
		  "the note at the top says so");
	cr_expect(strstr(h, "all 1,200 connections completed (100/s), none failed, for its 12 s "
			    "only ([load] sustain = off: not proven to hold longer).</li>"));
	cr_expect(strstr(h,
			 "With nf_conntrack_max=16384, tcp_tw_reuse=0, every connection held "
			 "at 100 conn/s for the step&#39;s 12 s only ([load] sustain = off), not "
			 "proven to hold longer \xe2\x80\x94 above the sustained limit the model "
			 "predicts, 50/s"),
		  "a rate above the model that held its 12 s is no threshold");
	cr_expect(strstr(h, "With nf_conntrack_max=16384, tcp_tw_reuse=1, every connection held "
			    "at 100 conn/s for the step&#39;s 12 s only, not proven to hold longer "
			    "([load] sustain = off)"));
	cr_expect(strstr(h, "<rect class=\"bar-measured dur\""), "drawn apart from a measure");
	cr_expect_null(strstr(h, "sustained (proven"), "nothing is called proven");
	free(h);
}

/* The thresholds chart: a log scale (68/s beside 120,002/s stay readable),
 * each threshold's settings on lines of their own in a column left of the
 * bars, so that no two labels share a place. */
Test(report, the_thresholds_chart_is_log_scale_with_labels_apart, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-sustain");
	const char *c = strstr(h, "<svg data-chart=\"thresholds\" data-scale=\"log\"");
	cr_assert_not_null(c, "the thresholds chart says it is on a log scale");
	char *svg = strndup(c, (size_t)(strstr(c, "</svg>") - c));
	static const char *const decades[] = {">1/s<", ">10/s<", ">100/s<", ">1k/s<", ">10k/s<"};
	for (size_t i = 0; i < 5; i++)
		cr_expect(strstr(svg, decades[i]), "a grid line per decade: %s", decades[i]);
	double last = -1e9;
	size_t lines = 0;
	for (const char *p = strstr(svg, "<tspan x=\""); p; p = strstr(p + 1, "<tspan x=\"")) {
		double x, y;
		cr_assert_eq(sscanf(p, "<tspan x=\"%lf\" y=\"%lf\"", &x, &y), 2);
		cr_expect_lt(x, 20, "labels start in their column");
		cr_expect_geq(y - last, 13, "one label line below the other");
		last = y;
		lines++;
	}
	cr_expect_eq(lines, 8, "two lines of settings for each of four thresholds");
	cr_expect(strstr(svg, "<rect class=\"bar-measured\" data-v=\"8.54\" x=\"270.0\""),
		  "the bars start right of the labels");
	cr_expect(strstr(svg, "data-v=\"6000\""));
	free(svg);
	free(h);
}

/* Every class the charts draw with has a rule in the page's CSS: without
 * one a series is drawn black (the failed areas were, under a caption that
 * says red). */
static void expect_styled(const char *h)
{
	const char *st = strstr(h, "<style>"), *end = st ? strstr(st, "</style>") : NULL;
	cr_assert(st && end);
	char *css = strndup(st, (size_t)(end - st));
	static const char *const shapes[] = {"<polygon class=\"", "<rect class=\"",
					     "<polyline class=\""};
	for (size_t k = 0; k < 3; k++)
		for (const char *p = strstr(h, shapes[k]); p; p = strstr(p + 1, shapes[k])) {
			char cls[128], *save = NULL;
			if (sscanf(p + strlen(shapes[k]), "%127[^\"]", cls) != 1)
				continue;
			for (char *c = strtok_r(cls, " ", &save); c;
			     c = strtok_r(NULL, " ", &save)) {
				char rule[140];
				bool found = false;
				for (const char *after = "{. ,:"; *after && !found; after++) {
					snprintf(rule, sizeof(rule), ".%s%c", c, *after);
					found = strstr(css, rule) != NULL;
				}
				cr_expect(found, "class %s is drawn but has no rule in report.css",
					  c);
			}
		}
	free(css);
}

Test(report, every_drawn_class_has_a_colour, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-sweep");
	cr_expect(strstr(h, "<polygon class=\"a-failed\""), "the cards draw failures");
	cr_expect(strstr(h, ".a-failed{fill:#c0392b"), "in red, as their caption says");
	expect_styled(h);
	free(h);
	h = build(CT_TEST_DATA "/run-sustain");
	expect_styled(h);
	free(h);
}

/* nf_conntrack logs "nf_conntrack: nf_conntrack: table full, dropping
 * packet" (its pr_fmt adds the prefix its text has): people read it once;
 * timeseries.csv keeps the line as logged. */
Test(report, kernel_lines_have_their_prefix_once, .init = setup, .fini = teardown)
{
	char *h = build(CT_TEST_DATA "/run-sweep");
	cr_expect_null(strstr(h, "nf_conntrack: nf_conntrack:"), "the prefix is not doubled");
	cr_expect(strstr(h, "<td class=\"ev\">nf_conntrack: table full, dropping packet</td>"));
	cr_expect(strstr(h, "t=16.9 s: nf_conntrack: table full, dropping packet"),
		  "nor in the marks' tooltips");
	free(h);
	char csvp[128];
	snprintf(csvp, sizeof(csvp), "%s/timeseries.csv", tmp);
	char *csv = slurp(csvp);
	cr_expect(strstr(csv, "\"nf_conntrack: nf_conntrack: table full, dropping packet\""));
	free(csv);
}
