/* ct_scenario_ref — print scenarios/README.md with its key tables printed afresh
 * from loadgen/scenario/keys.def and the sysctl allowlist, or rewrite it.
 *
 *   ct_scenario_ref README            the README as it should be, on stdout
 *   ct_scenario_ref --update README   rewrite README in place
 *   ct_scenario_ref --block NAME      one table ("keys [load]", "sysctl allowlist")
 *
 * After changing keys.def: build/tests/ct_scenario_ref --update scenarios/README.md
 * (tests/unit/test_reference.c fails until the README matches). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/scenario/reference.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	out = open_memstream(&buf, &len);
	while (out && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, out);
	if (out)
		fclose(out);
	fclose(f);
	return buf;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ct_scenario_ref [--update] README | ct_scenario_ref --block NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool update = argc == 3 && strcmp(argv[1], "--update") == 0;
	const char *path = argv[argc - 1];
	struct ct_err err = {0};
	char *text, *out;
	FILE *f;

	if (argc == 3 && strcmp(argv[1], "--block") == 0)
		return ct_scenario_reference_block(argv[2], stdout) < 0 ? usage() : 0;
	if (argc != 2 && !update)
		return usage();
	if (!(text = slurp(path))) {
		perror(path);
		return 1;
	}
	if (!(out = ct_scenario_reference_apply(text, &err))) {
		fprintf(stderr, "%s: %s\n", path, err.msg);
		return 1;
	}
	f = update ? fopen(path, "w") : stdout;
	if (!f || fputs(out, f) < 0 || (update && fclose(f) != 0)) {
		perror(path);
		return 1;
	}
	free(text);
	free(out);
	return 0;
}
