#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "common/units.h"

#define S 1000000000ULL
#define MS 1000000ULL

static char why[256];

Test(units, duration_every_unit)
{
	static const struct {
		const char *in;
		uint64_t ns;
	} ok[] = {
		{"10s", 10 * S},      {"250ms", 250 * MS},  {"1.5m", 90 * S},   {"2h", 7200 * S},
		{"7", 7 * S},         {"0.5", S / 2},       {"15us", 15000},   {"42ns", 42},
		{" 3 s ", 3 * S},     {"0", 0},             {"1.25ms", 1250000}, {".5s", S / 2},
		{"24h", 86400 * S},   {"+2s", 2 * S},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;

		cr_assert_eq(ct_parse_duration(ok[i].in, &v, why, sizeof(why)), 0, "%s: %s", ok[i].in, why);
		cr_assert_eq(v, ok[i].ns, "%s -> %llu", ok[i].in, (unsigned long long)v);
	}
}

Test(units, duration_errors)
{
	uint64_t v = 77;

	cr_assert_eq(ct_parse_duration("10sec", &v, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "unknown unit 'sec'"), "%s", why);
	cr_assert_eq(v, 77, "output untouched on error");
	cr_assert_eq(ct_parse_duration("-5s", &v, why, sizeof(why)), -ERANGE);
	cr_assert(strstr(why, "negative"), "%s", why);
	cr_assert_eq(ct_parse_duration("", &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_duration("s", &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_duration("1e3s", &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_duration("10 s x", &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_duration("1.2.3s", &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_duration(NULL, &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(v, 77);
	/* why may be NULL */
	cr_assert_eq(ct_parse_duration("x", &v, NULL, 0), -EINVAL);
}

Test(units, duration_overflow)
{
	uint64_t v = 0;

	/* 2^64 ns is about 584 years: 5124095h fits, 5124096h does not. */
	cr_assert_eq(ct_parse_duration("5124095h", &v, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(ct_parse_duration("5124096h", &v, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_duration("99999999999999999999s", &v, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_duration("18446744073709551615ns", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(ct_parse_duration("18446744073709551616ns", &v, why, sizeof(why)), -ERANGE);
}

Test(units, count)
{
	uint64_t v = 0;

	cr_assert_eq(ct_parse_count("2k", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 2000);
	cr_assert_eq(ct_parse_count("1.5M", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 1500000);
	cr_assert_eq(ct_parse_count("3G", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 3000000000ULL);
	cr_assert_eq(ct_parse_count(" 12 ", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 12);
	cr_assert_eq(ct_parse_count("0", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(ct_parse_count("1.0001k", &v, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "whole"), "%s", why);
	cr_assert_eq(ct_parse_count("2x", &v, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "suffix 'x'"), "%s", why);
	cr_assert_eq(ct_parse_count("-1", &v, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_count("abc", &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_count("18446744073709551615", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(ct_parse_count("18446744073709551616", &v, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_count("18446744073709552k", &v, why, sizeof(why)), -ERANGE);
}

Test(units, rate)
{
	double r = 0;

	cr_assert_eq(ct_parse_rate("500/s", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 500.0, 1e-9);
	cr_assert_eq(ct_parse_rate("500", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 500.0, 1e-9);
	cr_assert_eq(ct_parse_rate("2k/s", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 2000.0, 1e-9);
	cr_assert_eq(ct_parse_rate("1.5M/s", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 1.5e6, 1e-6);
	cr_assert_eq(ct_parse_rate("30000/m", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 500.0, 1e-9);
	cr_assert_eq(ct_parse_rate("1/ms", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 1000.0, 1e-9);
	cr_assert_eq(ct_parse_rate("3600/h", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 1.0, 1e-9);
	cr_assert_eq(ct_parse_rate(" 2 k / s ", &r, why, sizeof(why)), 0);
	cr_assert_float_eq(r, 2000.0, 1e-9);
	cr_assert_eq(ct_parse_rate("0", &r, why, sizeof(why)), 0, "0 parses; callers decide if it is allowed");
	r = 9;
	cr_assert_eq(ct_parse_rate("500/x", &r, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "/x"), "%s", why);
	cr_assert_eq(r, 9);
	cr_assert_eq(ct_parse_rate("500/s/s", &r, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_rate("-5/s", &r, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_rate("fast", &r, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_rate("5q/s", &r, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_rate("10G/us", &r, why, sizeof(why)), -ERANGE);
}

Test(units, size)
{
	uint64_t v = 0;

	cr_assert_eq(ct_parse_size("64KiB", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(ct_parse_size("1MB", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 1000000);
	cr_assert_eq(ct_parse_size("512", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 512);
	cr_assert_eq(ct_parse_size("512B", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 512);
	cr_assert_eq(ct_parse_size("2k", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 2048);
	cr_assert_eq(ct_parse_size("1.5MiB", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 1572864);
	cr_assert_eq(ct_parse_size("1GiB", &v, why, sizeof(why)), 0);
	cr_assert_eq(v, 1073741824ULL);
	cr_assert_eq(ct_parse_size("1.3B", &v, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_size("4kb", &v, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "unknown unit 'kb'"), "%s", why);
	cr_assert_eq(ct_parse_size("-1KiB", &v, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_size("17179869184GiB", &v, why, sizeof(why)), -ERANGE);
}

Test(units, port_range)
{
	uint16_t lo = 0, hi = 0;

	cr_assert_eq(ct_parse_port_range("11211", &lo, &hi, why, sizeof(why)), 0);
	cr_assert_eq(lo, 11211);
	cr_assert_eq(hi, 11211);
	cr_assert_eq(ct_parse_port_range("11211-11242", &lo, &hi, why, sizeof(why)), 0);
	cr_assert_eq(lo, 11211);
	cr_assert_eq(hi, 11242);
	cr_assert_eq(ct_parse_port_range(" 1 - 65535 ", &lo, &hi, why, sizeof(why)), 0);
	cr_assert_eq(lo, 1);
	cr_assert_eq(hi, 65535);
	cr_assert_eq(ct_parse_port_range("0", &lo, &hi, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_port_range("65536", &lo, &hi, why, sizeof(why)), -ERANGE);
	cr_assert_eq(ct_parse_port_range("200-100", &lo, &hi, why, sizeof(why)), -ERANGE);
	cr_assert(strstr(why, "backwards"), "%s", why);
	cr_assert_eq(ct_parse_port_range("http", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_port_range("80-", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_port_range("80-90x", &lo, &hi, why, sizeof(why)), -EINVAL);
	cr_assert_eq(lo, 1, "untouched on error");
}

Test(units, boolean)
{
	static const char *const yes[] = {"on", "yes", "true", "1", "YES", " On "};
	static const char *const no[] = {"off", "no", "false", "0", "False"};
	int b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = 0;
		cr_assert_eq(ct_parse_bool(yes[i], &b, why, sizeof(why)), 0, "%s", yes[i]);
		cr_assert_eq(b, 1, "%s", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = 1;
		cr_assert_eq(ct_parse_bool(no[i], &b, why, sizeof(why)), 0, "%s", no[i]);
		cr_assert_eq(b, 0, "%s", no[i]);
	}
	cr_assert_eq(ct_parse_bool("maybe", &b, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "on/off"), "%s", why);
	cr_assert_eq(ct_parse_bool("2", &b, why, sizeof(why)), -EINVAL);
	cr_assert_eq(ct_parse_bool("", &b, why, sizeof(why)), -EINVAL);
}

Test(units, format)
{
	char b[64];

	cr_assert_str_eq(ct_fmt_duration(250 * MS, b, sizeof(b)), "250ms");
	cr_assert_str_eq(ct_fmt_duration(1500 * MS, b, sizeof(b)), "1.5s");
	cr_assert_str_eq(ct_fmt_duration(150 * S, b, sizeof(b)), "2m30s");
	cr_assert_str_eq(ct_fmt_duration(3600 * S, b, sizeof(b)), "1h");
	cr_assert_str_eq(ct_fmt_duration(0, b, sizeof(b)), "0s");
	cr_assert_str_eq(ct_fmt_duration(1500, b, sizeof(b)), "1.5us");
	cr_assert_str_eq(ct_fmt_rate(2500, b, sizeof(b)), "2.5k/s");
	cr_assert_str_eq(ct_fmt_rate(500, b, sizeof(b)), "500/s");
	cr_assert_str_eq(ct_fmt_rate(1.5e6, b, sizeof(b)), "1.5M/s");
	cr_assert_str_eq(ct_fmt_size(65536, b, sizeof(b)), "64KiB");
	cr_assert_str_eq(ct_fmt_size(512, b, sizeof(b)), "512B");
	cr_assert_str_eq(ct_fmt_size(1572864, b, sizeof(b)), "1.5MiB");
}

Test(units, exact_duration_round_trips)
{
	static const uint64_t v[] = {0, 1, 999, 1000, 250 * MS, 1500 * MS, 90 * S, 7200 * S, 1234567891};
	char b[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t back = 1;

		ct_fmt_duration_exact(v[i], b, sizeof(b));
		cr_assert_eq(ct_parse_duration(b, &back, why, sizeof(why)), 0, "%s: %s", b, why);
		cr_assert_eq(back, v[i], "%s", b);
	}
	cr_assert_str_eq(ct_fmt_duration_exact(90 * S, b, sizeof(b)), "90s");
	cr_assert_str_eq(ct_fmt_duration_exact(120 * S, b, sizeof(b)), "2m");
}
