/* csv — timeseries.csv: one row per sample, one column per flattened key
 * ("failures.timeout", "ns.server.ct.count") in the order keys first
 * appear; lists (kernel events) are joined with " | ". A sample's
 * connect_hist ([[ms, count], ...]) would be one cell no spreadsheet can
 * read: it goes to connect_hist.csv instead, one row per bucket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/report/report_int.h"

/* The sample key whose [[ms, count], ...] goes to connect_hist.csv. */
#define HIST_KEY "connect_hist"

/* Whether a sample's key at `prefix` + k stays out of timeseries.csv. */
static bool own_file(const char *prefix, const char *k)
{
	return !prefix[0] && !strcmp(k, HIST_KEY);
}

static void flatten_cols(json_t *cols, const char *prefix, const json_t *o)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		char name[512];
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (own_file(prefix, k))
			continue;
		if (json_is_object(v))
			flatten_cols(cols, name, v);
		else if (!json_object_get(cols, name))
			json_object_set_new(cols, name, json_integer(json_object_size(cols)));
	}
}

static void flatten_row(const json_t *cols, const char *prefix, const json_t *o, const json_t **row)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		char name[512];
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (json_is_object(v))
			flatten_row(cols, name, v, row);
		else {
			const json_t *i = json_object_get(cols, name);
			if (i)
				row[json_integer_value(i)] = v;
		}
	}
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_value(FILE *f, const json_t *v)
{
	char buf[64];
	if (!v || json_is_null(v))
		return;
	if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.9g", json_real_value(v));
		fputs(buf, f);
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "true" : "false", f);
	} else if (json_is_string(v)) {
		csv_field(f, json_string_value(v));
	} else if (json_is_array(v)) {
		char *b = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&b, &len);
		size_t i;
		const json_t *e;
		if (!m)
			return;
		json_array_foreach(v, i, e)
		{
			if (i)
				fputs(" | ", m);
			if (json_is_string(e))
				fputs(json_string_value(e), m);
			else {
				char *t = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
				fputs(t ? t : "", m);
				free(t);
			}
		}
		fclose(m);
		csv_field(f, b ? b : "");
		free(b);
	}
}

static int write_csv(struct ct_rep *r, FILE *f)
{
	json_t *cols = json_object();
	size_t i;
	const json_t *o;
	if (!cols)
		return -ENOMEM;
	json_array_foreach(r->samples, i, o) flatten_cols(cols, "", o);
	size_t nc = json_object_size(cols);
	const json_t **row = calloc(nc ? nc : 1, sizeof(*row));
	if (!row) {
		json_decref(cols);
		return -ENOMEM;
	}
	const char *k;
	json_t *v;
	json_object_foreach(cols, k, v)
	{
		if (json_integer_value(v))
			fputc(',', f);
		csv_field(f, k);
	}
	fputc('\n', f);
	json_array_foreach(r->samples, i, o)
	{
		memset(row, 0, nc * sizeof(*row));
		flatten_row(cols, "", o, row);
		for (size_t c = 0; c < nc; c++) {
			if (c)
				fputc(',', f);
			csv_value(f, row[c]);
		}
		fputc('\n', f);
	}
	free(row);
	json_decref(cols);
	return 0;
}

int ct_rep_write_csv(struct ct_rep *r, FILE *f)
{
	int rc = write_csv(r, f);
	return rc < 0 ? rc : ferror(f) ? -EIO : 0;
}

int ct_rep_write_hist_csv(struct ct_rep *r, FILE *f)
{
	size_t i, j;
	const json_t *o, *pair;

	fputs("t,step,connect_ms,count\n", f);
	json_array_foreach(r->samples, i, o)
	{
		json_array_foreach(json_object_get(o, HIST_KEY), j, pair)
		{
			double ms;
			if (ct_json_num(json_array_get(pair, 0), &ms) < 0)
				continue;
			/* t and step as timeseries.csv writes them, to join on;
			 * the bucket at the 6 digits of timeseries.jsonl. */
			csv_value(f, json_object_get(o, "t"));
			fputc(',', f);
			csv_value(f, json_object_get(o, "step"));
			fprintf(f, ",%.6g,", ms);
			csv_value(f, json_array_get(pair, 1));
			fputc('\n', f);
		}
	}
	return ferror(f) ? -EIO : 0;
}
