/* json — small getters over jansson values, shared by the judge, the runner,
 * the report and the probes. Nothing here writes JSON: jansson does. */
#pragma once

#include <jansson.h>

/* A number (integer or real; a boolean as 0/1) into *out: 0, or -ENOENT when
 * v is NULL or not a number. */
int ct_json_num(const json_t *v, double *out);

/* The number v holds, or NAN when it holds none (NULL, text, object). */
double ct_json_nan(const json_t *v);

/* o["a"]["b"]... for the dotted path "a.b" (no key may contain a dot). */
const json_t *ct_json_path(const json_t *o, const char *path);

/* The number at a dotted path, 0 when there is none. */
double ct_json_d(const json_t *o, const char *path);

/* o[k1][k2]... for a NULL-terminated list of keys, which may contain dots
 * ("ct.count"); NULL as soon as one is missing. Use CT_JSON_GET(o, k1, k2). */
const json_t *ct_json_getv(const json_t *o, ...);
#define CT_JSON_GET(...) ct_json_getv(__VA_ARGS__, (const char *)0)
