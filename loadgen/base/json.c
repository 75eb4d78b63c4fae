/* json — getters over jansson values (see json.h). */
#include "loadgen/base/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ct_json_num(const json_t *v, double *out)
{
	if (json_is_integer(v))
		*out = (double)json_integer_value(v);
	else if (json_is_real(v))
		*out = json_real_value(v);
	else if (json_is_boolean(v))
		*out = json_is_true(v) ? 1 : 0;
	else
		return -ENOENT;
	return 0;
}

double ct_json_nan(const json_t *v)
{
	if (json_is_integer(v))
		return (double)json_integer_value(v);
	if (json_is_real(v))
		return json_real_value(v);
	return NAN;
}

const json_t *ct_json_path(const json_t *o, const char *path)
{
	char buf[128];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

double ct_json_d(const json_t *o, const char *path)
{
	double v = 0;
	ct_json_num(ct_json_path(o, path), &v);
	return v;
}

const json_t *ct_json_getv(const json_t *o, ...)
{
	va_list ap;
	va_start(ap, o);
	for (const char *k = va_arg(ap, const char *); k && o; k = va_arg(ap, const char *))
		o = json_object_get(o, k);
	va_end(ap);
	return o;
}
