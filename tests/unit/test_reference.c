/* The key reference in scenarios/README.md is the key table's (keys.def)
 * and the sysctl allowlist's, and the defaults it names are the ones a
 * scenario gets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/scenario/reference.h"
#include "loadgen/scenario/scenario.h"
#include "loadgen/scenario/scenario_int.h"

#define README	CT_TEST_DATA "/../../scenarios/README.md"
#define MINIMAL CT_TEST_DATA "/good/minimal.ini"
#define REGEN	"build/tests/ct_scenario_ref --update scenarios/README.md"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int c;

	cr_assert_not_null(f, "cannot read %s", path);
	while ((c = fgetc(f)) != EOF)
		fputc(c, out);
	fclose(out);
	fclose(f);
	return buf;
}

static char *block(const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_eq(ct_scenario_reference_block(name, out), 0, "no block '%s'", name);
	fclose(out);
	return buf;
}

Test(reference, readme_is_the_key_table)
{
	char *text = slurp(README);
	struct ct_err err = {0};
	char *want = ct_scenario_reference_apply(text, &err);
	const char *a = text, *b = want;
	int line = 1;

	cr_assert_not_null(want, "scenarios/README.md: %s", err.msg);
	/* Skip the equal lines, to show the first that differs whole. */
	for (size_t n = strcspn(a, "\n"); a[n] == '\n' && strncmp(a, b, n + 1) == 0;
	     n = strcspn(a, "\n")) {
		a += n + 1;
		b += n + 1;
		line++;
	}
	cr_assert(strcmp(a, b) == 0,
		  "scenarios/README.md:%d differs from loadgen/scenario/keys.def (or the sysctl "
		  "allowlist):\n  README: %.*s\n  table:  %.*s\nregenerate it: %s",
		  line, (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b, REGEN);
	free(text);
	free(want);
}

/* The check can fail: a table edited by hand is put back. */
Test(reference, a_hand_edit_is_caught)
{
	char *text = slurp(README);
	char *row = strstr(text, "| `workers` | count 0..256 |");
	struct ct_err err = {0};
	char *want;

	cr_assert_not_null(row, "the README has no [server] workers row with the range 0..256");
	memcpy(row + strlen("| `workers` | count 0.."), "999", 3);
	want = ct_scenario_reference_apply(text, &err);
	cr_assert_not_null(want, "%s", err.msg);
	cr_assert_str_neq(want, text);
	cr_assert_not_null(strstr(want, "| `workers` | count 0..256 |"));
	free(text);
	free(want);
}

Test(reference, a_missing_marker_is_named)
{
	struct ct_err err = {0};

	cr_assert_null(ct_scenario_reference_apply("# Scenario files\n", &err));
	cr_assert(strstr(err.msg, "<!-- BEGIN keys [scenario]: generated from "
				  "loadgen/scenario/keys.def -->") &&
		      strstr(err.msg, "<!-- END keys [scenario] -->"),
		  "%s", err.msg);
}

/* Every key but the [expect] list has its row, in its section's table. */
Test(reference, every_key_has_a_row)
{
	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		const struct ct_scn_key *k = &ct_scn_keys[i];
		char name[64], row[64];
		char *text;

		if (k->kind == K_LIST)
			continue;
		snprintf(name, sizeof(name), "keys [%s]", k->section);
		snprintf(row, sizeof(row), "\n| `%s` | ", k->key);
		text = block(name);
		cr_expect_not_null(strstr(text, row), "[%s] %s has no row in '%s'", k->section,
				   k->key, name);
		cr_expect_not_null(k->doc, "[%s] %s has no doc", k->section, k->key);
		free(text);
	}
	for (size_t i = 0; i < ct_scenario_reference_count(); i++)
		free(block(ct_scenario_reference_name(i)));
}

/* A default the README names, written into a scenario, changes nothing. */
Test(reference, written_defaults_are_the_defaults)
{
	struct ct_err err = {0};
	struct ct_scenario *base = ct_scenario_load(MINIMAL, NULL, 0, &err);

	cr_assert_not_null(base, "%s", err.msg);
	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		const struct ct_scn_key *k = &ct_scn_keys[i];
		struct ct_scenario *sc;
		char set[256];
		char *sets[] = {set};

		if (!k->def)
			continue;
		snprintf(set, sizeof(set), "%s.%s=%s", k->section, k->key, k->def);
		sc = ct_scenario_load(MINIMAL, sets, 1, &err);
		cr_assert_not_null(sc, "--set %s: %s", set, err.msg);
		sc->search.enabled = base->search.enabled; /* any [search] key turns it on */
		cr_expect(ct_scenario_equal(base, sc), "the default of [%s] %s is not '%s'",
			  k->section, k->key, k->def);
		ct_scenario_free(sc);
	}
	ct_scenario_free(base);
}

/* The defaults that depend on other keys, as the README words them. */
Test(reference, late_defaults_as_documented)
{
	struct ct_err err = {0};
	char *echo[] = {(char *)"server.mode=echo"};
	struct ct_scenario *sc = ct_scenario_load(MINIMAL, NULL, 0, &err);

	cr_assert_not_null(sc, "%s", err.msg);
	cr_expect_float_eq(sc->load.rate_end, sc->load.rate, 1e-12, "rate_end = `rate`");
	cr_expect_str_eq(sc->load.request, "get k{seq}\\r\\n");
	cr_expect_str_eq(sc->load.expect, "END\\r\\n");
	ct_scenario_free(sc);
	sc = ct_scenario_load(MINIMAL, echo, 1, &err);
	cr_assert_not_null(sc, "%s", err.msg);
	cr_expect_str_eq(sc->load.request, "ping {seq}\\n");
	cr_expect_null(sc->load.expect, "echo: none");
	ct_scenario_free(sc);
}
