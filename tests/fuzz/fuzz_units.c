/* fuzz_units — libFuzzer target for common/units.h: every parser on the
 * input as one string, and the promise that ct_fmt_duration_exact() prints
 * what ct_parse_duration() reads back to the same nanoseconds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char why[128], buf[64];
	uint64_t u;
	double d;
	uint16_t lo, hi;
	int b;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (ct_parse_duration(s, &u, why, sizeof(why)) == 0) {
		uint64_t back;
		ct_fmt_duration(u, buf, sizeof(buf));
		ct_fmt_duration_exact(u, buf, sizeof(buf));
		if (ct_parse_duration(buf, &back, NULL, 0) != 0 || back != u)
			abort(); /* the exact form must read back the same */
	}
	if (ct_parse_count(s, &u, why, sizeof(why)) == 0)
		ct_fmt_size(u, buf, sizeof(buf));
	if (ct_parse_rate(s, &d, why, sizeof(why)) == 0)
		ct_fmt_rate(d, buf, sizeof(buf));
	if (ct_parse_size(s, &u, why, sizeof(why)) == 0)
		ct_fmt_size(u, buf, sizeof(buf));
	if (ct_parse_port_range(s, &lo, &hi, why, sizeof(why)) == 0 && lo > hi)
		abort();
	(void)ct_parse_bool(s, &b, why, sizeof(why));
	/* A small why buffer must be cut, never overrun. */
	(void)ct_parse_duration(s, &u, why, 3);
	(void)ct_parse_rate(s, &d, why, 1);
	free(s);
	return 0;
}
