/* reference — the README's key tables printed from keys.def and the sysctl
 * allowlist (see reference.h). */
#include "loadgen/scenario/reference.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "loadgen/scenario/scenario_int.h"
#include "loadgen/scenario/sysctl_keys.h"

#define KEYS_SRC   "loadgen/scenario/keys.def"
#define SYSCTL_SRC "loadgen/scenario/sysctl_keys.c"

/* In README order; section NULL: the sysctl allowlist. */
static const struct block {
	const char *name;
	const char *section;
	const char *source;
} blocks[] = {
    {"keys [scenario]", "scenario", KEYS_SRC}, {"keys [lab]", "lab", KEYS_SRC},
    {"keys [server]", "server", KEYS_SRC},     {"keys [load]", "load", KEYS_SRC},
    {"sysctl allowlist", NULL, SYSCTL_SRC},    {"keys [search]", "search", KEYS_SRC},
    {"keys [report]", "report", KEYS_SRC},     {"keys [dpdk]", "dpdk", KEYS_SRC},
};

#define NBLOCKS (sizeof(blocks) / sizeof(blocks[0]))

size_t ct_scenario_reference_count(void)
{
	return NBLOCKS;
}

const char *ct_scenario_reference_name(size_t i)
{
	return i < NBLOCKS ? blocks[i].name : NULL;
}

/* ---------------------------------------------------------------- key rows */

/* 65536, 10M, 1000G: as a count is written in a file. */
static const char *fmt_count(double v, char *buf, size_t len)
{
	if (v >= 1e9 && fmod(v, 1e9) == 0)
		snprintf(buf, len, "%.0fG", v / 1e9);
	else if (v >= 1e6 && fmod(v, 1e6) == 0)
		snprintf(buf, len, "%.0fM", v / 1e6);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* A count's max that only guards its C type (INT_MAX, about 2^64) is no
 * limit anyone meets: the README leaves it out. */
static bool is_type_limit(double max)
{
	return max == INT_MAX || max >= 1e19;
}

/* The Type column from the kind and the range. */
static void print_type(const struct ct_scn_key *k, FILE *out)
{
	char a[32], b[32];

	if (k->type) {
		fputs(k->type, out);
		return;
	}
	switch (k->kind) {
	case K_DUR:
		fprintf(out, "duration %s..%s", ct_fmt_duration((uint64_t)k->min, a, sizeof(a)),
			ct_fmt_duration((uint64_t)k->max, b, sizeof(b)));
		break;
	case K_RATE:
		fprintf(out, "rate, > 0, at most %s", ct_fmt_rate(k->max, a, sizeof(a)));
		break;
	case K_COUNT:
		if (!is_type_limit(k->max))
			fprintf(out, "count %s..%s", fmt_count(k->min, a, sizeof(a)),
				fmt_count(k->max, b, sizeof(b)));
		else if (k->min > 0)
			fprintf(out, "count %s..", fmt_count(k->min, a, sizeof(a)));
		else
			fputs("count", out);
		break;
	case K_BOOL:
		fputs("bool", out);
		break;
	case K_ENUM:
		for (size_t i = 0; k->names[i]; i++)
			fprintf(out, "%s`%s`", i ? (k->names[i + 1] ? ", " : " or ") : "",
				k->names[i]);
		break;
	case K_QTEXT:
		fputs("quoted text", out);
		break;
	default:
		fputs("text", out);
		break;
	}
}

static void print_keys(const char *section, FILE *out)
{
	fputs("| Key | Type | Default | Meaning |\n|-----|------|---------|---------|\n", out);
	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		const struct ct_scn_key *k = &ct_scn_keys[i];

		if (strcmp(k->section, section) != 0 || !k->doc)
			continue;
		fprintf(out, "| `%s` | ", k->key);
		print_type(k, out);
		if (k->def_doc)
			fprintf(out, " | %s", k->def_doc);
		else if (k->def)
			fprintf(out, " | `%s`", k->def);
		else
			fputs(" | none", out);
		fprintf(out, " | %s |\n", k->doc);
	}
}

/* ---------------------------------------------------------------- sysctl rows */

static void print_sysctl_value(const struct ct_sysctl_key *k, FILE *out)
{
	switch (k->kind) {
	case CT_SKIND_PORTLIST:
		fputs("list of ports/ranges", out);
		return;
	case CT_SKIND_PAIR:
		fputs("\"LO HI\", ", out);
		break;
	case CT_SKIND_INT:
	case CT_SKIND_BOOL:
		break;
	}
	fprintf(out, "%lld..%lld%s%s", k->min, k->max, *k->unit ? " " : "", k->unit);
}

static void print_sysctl(FILE *out)
{
	fputs("| Key | Scope | Value | Meaning |\n|-----|-------|-------|---------|\n", out);
	for (size_t i = 0; i < ct_sysctl_key_count(); i++) {
		const struct ct_sysctl_key *k = ct_sysctl_key_at(i);

		fprintf(out, "| `%s` | %s | ", k->name,
			k->scope == CT_SKEY_GLOBAL ? "**global**" : "per-netns");
		print_sysctl_value(k, out);
		fprintf(out, " | %s", k->meaning);
		if (k->note)
			fprintf(out, ". *Note:* %s", k->note);
		if (k->since)
			fprintf(out, ". Since %s", k->since);
		fputs(" |\n", out);
	}
}

int ct_scenario_reference_block(const char *name, FILE *out)
{
	for (size_t i = 0; i < NBLOCKS; i++) {
		if (strcmp(blocks[i].name, name) != 0)
			continue;
		/* Blank lines keep the table apart from the markers in any renderer. */
		fputc('\n', out);
		if (blocks[i].section)
			print_keys(blocks[i].section, out);
		else
			print_sysctl(out);
		fputc('\n', out);
		return 0;
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------- the README */

/* The start of the line after the one p is on (or the end of the text). */
static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl + 1 : p + strlen(p);
}

/* Copy text up to and including block b's BEGIN line, print the block, and
 * return where its END line starts; NULL with err when a marker is missing. */
static const char *apply_block(const char *p, const struct block *b, FILE *out, struct ct_err *err)
{
	char begin[96], end[96];
	const char *bl, *el;

	snprintf(begin, sizeof(begin), "<!-- BEGIN %s: generated from %s -->\n", b->name,
		 b->source);
	snprintf(end, sizeof(end), "<!-- END %s -->\n", b->name);
	bl = strstr(p, begin);
	el = bl ? strstr(bl, end) : NULL;
	if (!bl || !el) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "no marker pair '%.*s' ... '%.*s' after the previous block; put the two "
			   "lines around the table",
			   (int)strlen(begin) - 1, begin, (int)strlen(end) - 1, end);
		return NULL;
	}
	fwrite(p, 1, (size_t)(next_line(bl) - p), out);
	ct_scenario_reference_block(b->name, out);
	return el;
}

char *ct_scenario_reference_apply(const char *text, struct ct_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	const char *p = text;

	if (!out) {
		ct_err_set(err, CT_EXIT_USAGE, "out of memory");
		return NULL;
	}
	for (size_t i = 0; p && i < NBLOCKS; i++)
		p = apply_block(p, &blocks[i], out, err);
	if (p)
		fputs(p, out);
	if (fclose(out) != 0 || !p) {
		if (p)
			ct_err_set(err, CT_EXIT_USAGE, "out of memory");
		free(buf);
		return NULL;
	}
	return buf;
}
