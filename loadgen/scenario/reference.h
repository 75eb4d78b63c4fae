/* reference — the key reference of scenarios/README.md, printed from the
 * key table (keys.def) and the sysctl allowlist (sysctl_keys.c), so the
 * README cannot drift from what the parser accepts.
 *
 * The README keeps each generated table between two marker lines, with the
 * prose around them written by hand:
 *
 *   <!-- BEGIN keys [load]: generated from loadgen/scenario/keys.def -->
 *   | Key | Type | Default | Meaning |
 *   ...
 *   <!-- END keys [load] -->
 *
 * Pure: text in, text out. tests/tools/ct_scenario_ref.c rewrites the README;
 * tests/unit/test_reference.c fails when it differs from the tables. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "loadgen/base/err.h"

/* The generated blocks, in README order: "keys [scenario]" ... "sysctl allowlist". */
size_t ct_scenario_reference_count(void);
const char *ct_scenario_reference_name(size_t i);

/* Print block `name` (the lines between its markers). 0, or -ENOENT. */
int ct_scenario_reference_block(const char *name, FILE *out);

/* `text` (a README) with every block printed afresh between its markers.
 * Returns a new string the caller frees, or NULL with err filled (a marker
 * missing or out of order; ENOMEM). */
char *ct_scenario_reference_apply(const char *text, struct ct_err *err);
