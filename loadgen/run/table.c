/* table — the summary table `ctload run` prints at its end (see table.h). */
#include "loadgen/run/table.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "loadgen/base/json.h"

/* "nf_conntrack_max=8192 tcp_tw_reuse=0": each setting by the last part
 * of its key, so that sweep points can be told apart in a terminal. */
static void settings_label(const json_t *set, char *label, size_t len)
{
	size_t used = 0;
	const char *k;
	const json_t *v;

	snprintf(label, len, "-");
	json_object_foreach((json_t *)set, k, v)
	{
		const char *dot = strrchr(k, '.');
		int w =
		    snprintf(label + used, len - used, "%s%s=%s", used ? " " : "",
			     dot ? dot + 1 : k, json_string_value(v) ? json_string_value(v) : "?");
		used += w > 0 ? (size_t)w : 0;
		if (used >= len)
			break;
	}
}

void ct_run_table_print(const json_t *summary, const char *dir)
{
	const json_t *steps = json_object_get(summary, "steps");
	size_t i;
	const json_t *s;
	int width = 8;
	char label[160];

	json_array_foreach(steps, i, s)
	{
		settings_label(json_object_get(s, "settings"), label, sizeof(label));
		if ((int)strlen(label) > width)
			width = (int)strlen(label);
	}
	printf("%-4s %-*s %10s %10s %10s %8s %8s %9s %9s %9s %8s %s\n", "step", width, "settings",
	       "target/s", "achieved/s", "completed", "failed", "unsent", "conn p50", "conn p99",
	       "conn max", "cpu/conn", "verdict");
	json_array_foreach(steps, i, s)
	{
		settings_label(json_object_get(s, "settings"), label, sizeof(label));
		double failed = 0;
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)json_object_get(s, "failures"), k, v) failed +=
		    ct_json_d(v, "");
		const char *verdict = json_string_value(json_object_get(s, "verdict"));
		printf("%-4zu %-*s %10.1f %10.1f %10.0f %8.0f %8.0f %7.2fms %7.2fms %7.1fms %6.1fus"
		       " %s\n",
		       i + 1, width, label, ct_json_d(s, "rate_target"),
		       ct_json_d(s, "rate_achieved"), ct_json_d(s, "completed"), failed,
		       ct_json_d(s, "unsent"), ct_json_d(s, "connect_ms.p50"),
		       ct_json_d(s, "connect_ms.p99"), ct_json_d(s, "connect_ms.max"),
		       ct_json_d(s, "cpu_per_conn_us"), verdict ? verdict : "");
		const json_t *f = json_object_get(s, "failures");
		bool any = false;
		json_object_foreach((json_t *)f, k, v)
		{
			double x = 0;
			ct_json_num(v, &x);
			if (x > 0) {
				printf("%s%s %.0f", any ? ", " : "     failures: ", k, x);
				any = true;
			}
		}
		if (any)
			printf("\n");
		const char *cause = json_string_value(CT_JSON_GET(s, "fail_cause", "text"));
		if (cause)
			printf("     cause: %s\n", cause);
	}
	const json_t *th;
	json_array_foreach(json_object_get(summary, "thresholds"), i, th)
	{
		char tl[160];
		settings_label(json_object_get(th, "settings"), tl, sizeof(tl));
		const char *set = tl;
		const char *method = json_string_value(json_object_get(th, "method"));
		const char *binding = json_string_value(json_object_get(th, "binding_limit"));
		if (!json_is_number(json_object_get(th, "measured_cps")))
			printf("threshold [%s]: not measured", set && *set ? set : "-");
		else
			printf("threshold [%s]: %s%.0f/s (%s)", set && *set ? set : "-",
			       json_is_true(json_object_get(th, "bounded")) ? "" : ">= ",
			       ct_json_d(th, "measured_cps"), method ? method : "search");
		if (json_is_number(json_object_get(th, "predicted_cps")))
			printf("; model %.0f/s, binding %s", ct_json_d(th, "predicted_cps"),
			       binding ? binding : "?");
		if (json_is_number(json_object_get(th, "error_pct")) &&
		    json_is_number(json_object_get(th, "measured_cps")))
			printf(", error %+.1f%%", ct_json_d(th, "error_pct"));
		const char *from = json_string_value(json_object_get(th, "start_from"));
		if (from && strcmp(from, "scenario"))
			printf("; search started at %.0f/s (%s)", ct_json_d(th, "start_cps"),
			       !strcmp(from, "model") ? "a quarter of the model's limit"
						      : "no rate and no model limit");
		printf("\n");
	}
	printf("run directory: %s (report: %s/report.html)\n", dir, dir);
}
