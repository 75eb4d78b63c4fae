#include "common/units.h"
#include "common/text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Exact arithmetic: "1.5M" must be 1500000, not 1499999.9999, and overflow
 * must be detected rather than wrapped. */
__extension__ typedef unsigned __int128 u128;

#define U64_MAX_ ((uint64_t)-1)


/* A decimal number as mantissa / 10^scale. */
struct decimal {
	uint64_t mant;
	unsigned scale;
	bool neg;
};

/* Parse leading blanks, an optional sign and "DIGITS[.DIGITS]" (or ".DIGITS").
 * Leaves *endp at the first char after the number. Refuses exponents, hex,
 * inf and nan on purpose: nobody writes a rate as 1e3 in a scenario, and
 * strtod() would also follow the locale. */
static int parse_decimal(const char *s, struct decimal *d, const char **endp, char *why,
			 size_t why_len)
{
	const char *p = s;
	bool any = false;

	memset(d, 0, sizeof(*d));
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-' || *p == '+') {
		d->neg = *p == '-';
		p++;
	}
	while (isdigit((unsigned char)*p)) {
		unsigned dig = (unsigned)(*p - '0');

		any = true;
		if (d->mant > (U64_MAX_ - dig) / 10) {
			ct_why(why, why_len, "number too large");
			return -ERANGE;
		}
		d->mant = d->mant * 10 + dig;
		p++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			unsigned dig = (unsigned)(*p - '0');

			any = true;
			/* Digits past 19 decimals cannot change a whole result. */
			if (d->scale < 19 && d->mant <= (U64_MAX_ - dig) / 10) {
				d->mant = d->mant * 10 + dig;
				d->scale++;
			} else if (dig != 0) {
				ct_why(why, why_len, "too many digits");
				return -EINVAL;
			}
			p++;
		}
	}
	if (!any) {
		ct_why(why, why_len, "'%s' is not a number", s);
		return -EINVAL;
	}
	*endp = p;
	return 0;
}

static u128 pow10_u128(unsigned n)
{
	u128 r = 1;

	while (n--)
		r *= 10;
	return r;
}

/* Skip trailing blanks; true if nothing else follows. */
static bool only_blanks(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return *p == '\0';
}

/* Copy the unit word (up to blanks/end) into buf; returns pointer after it. */
static const char *unit_word(const char *p, char *buf, size_t len)
{
	size_t n = 0;

	while (isspace((unsigned char)*p))
		p++;
	while (*p && !isspace((unsigned char)*p)) {
		if (n + 1 < len)
			buf[n++] = *p;
		p++;
	}
	buf[n] = '\0';
	return p;
}

/* d * mult, required to be a whole number that fits in uint64. `round`
 * rounds to nearest instead of refusing a fraction. */
static int scale_whole(const struct decimal *d, uint64_t mult, bool round, uint64_t *out,
		       char *why, size_t why_len, const char *orig)
{
	u128 num = (u128)d->mant * mult;
	u128 den = pow10_u128(d->scale);
	u128 q = num / den, r = num % den;

	if (round && r * 2 >= den)
		q++;
	else if (!round && r != 0) {
		ct_why(why, why_len, "'%s' is not a whole number", orig);
		return -EINVAL;
	}
	if (q > U64_MAX_) {
		ct_why(why, why_len, "'%s' is too large", orig);
		return -ERANGE;
	}
	*out = (uint64_t)q;
	return 0;
}

static int refuse_negative(const struct decimal *d, const char *what, const char *s, char *why,
			   size_t why_len)
{
	if (d->neg && d->mant != 0) {
		ct_why(why, why_len, "%s '%s' is negative", what, s);
		return -ERANGE;
	}
	return 0;
}

/* A number and the unit word after it, nothing else but blanks: the
 * common front of the duration, count and size parsers. `kind` and
 * `example` word the error ("'5 x' is not a size; write e.g. 64KiB"). */
static int number_and_unit(const char *s, const char *kind, const char *example,
			   struct decimal *d, char *unit, size_t unit_len, char *why, size_t why_len)
{
	const char *p, *end;
	int rc;

	if (!s) {
		ct_why(why, why_len, "no %s given", kind);
		return -EINVAL;
	}
	if ((rc = parse_decimal(s, d, &p, why, why_len)) < 0)
		return rc;
	end = unit_word(p, unit, unit_len);
	if (!only_blanks(end)) {
		ct_why(why, why_len, "'%s' is not a %s; write e.g. %s", s, kind, example);
		return -EINVAL;
	}
	return 0;
}

int ct_parse_duration(const char *s, uint64_t *out_ns, char *why, size_t why_len)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{"ns", 1ULL},
		{"us", 1000ULL},
		{"ms", 1000000ULL},
		{"s", 1000000000ULL},
		{"m", 60ULL * 1000000000ULL},
		{"h", 3600ULL * 1000000000ULL},
	};
	struct decimal d;
	char unit[16];
	uint64_t mult = 0, v;
	int rc;

	if ((rc = number_and_unit(s, "duration", "10s or 250ms", &d, unit, sizeof(unit), why, why_len)) < 0)
		return rc;
	if (unit[0] == '\0') {
		mult = units[3].ns;
	} else {
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(unit, units[i].name) == 0)
				mult = units[i].ns;
		if (!mult) {
			ct_why(why, why_len, "unknown unit '%s'; use ns, us, ms, s, m or h", unit);
			return -EINVAL;
		}
	}
	if ((rc = refuse_negative(&d, "duration", s, why, why_len)) < 0)
		return rc;
	if ((rc = scale_whole(&d, mult, true, &v, why, why_len, s)) < 0)
		return rc;
	*out_ns = v;
	return 0;
}

/* k M G as powers of 1000; shared by counts and rates. */
static int si_mult(const char *u, uint64_t *mult)
{
	if (strcmp(u, "") == 0)
		*mult = 1;
	else if (strcmp(u, "k") == 0 || strcmp(u, "K") == 0)
		*mult = 1000ULL;
	else if (strcmp(u, "M") == 0)
		*mult = 1000000ULL;
	else if (strcmp(u, "G") == 0)
		*mult = 1000000000ULL;
	else
		return -EINVAL;
	return 0;
}

int ct_parse_count(const char *s, uint64_t *out, char *why, size_t why_len)
{
	struct decimal d;
	char unit[16];
	uint64_t mult, v;
	int rc;

	if ((rc = number_and_unit(s, "count", "2000, 2k or 1.5M", &d, unit, sizeof(unit), why, why_len)) < 0)
		return rc;
	if (si_mult(unit, &mult) < 0) {
		ct_why(why, why_len, "unknown suffix '%s' in count '%s'; use k, M or G", unit, s);
		return -EINVAL;
	}
	if ((rc = refuse_negative(&d, "count", s, why, why_len)) < 0)
		return rc;
	if ((rc = scale_whole(&d, mult, false, &v, why, why_len, s)) < 0)
		return rc;
	*out = v;
	return 0;
}

int ct_parse_rate(const char *s, double *out_per_s, char *why, size_t why_len)
{
	static const struct {
		const char *name;
		double per; /* seconds in the unit */
	} per_units[] = {
		{"s", 1.0}, {"sec", 1.0}, {"m", 60.0}, {"min", 60.0},
		{"h", 3600.0}, {"ms", 1e-3}, {"us", 1e-6},
	};
	struct decimal d;
	const char *p;
	char unit[32], *slash;
	uint64_t mult;
	double per = 1.0, v;
	int rc;

	if (!s) {
		ct_why(why, why_len, "no rate given");
		return -EINVAL;
	}
	if ((rc = parse_decimal(s, &d, &p, why, why_len)) < 0)
		return rc;
	/* Accept "2k/s", "2k /s" and "2 k/s": gather the rest without blanks. */
	{
		size_t n = 0;

		for (; *p; p++) {
			if (isspace((unsigned char)*p))
				continue;
			if (n + 1 >= sizeof(unit)) {
				ct_why(why, why_len, "'%s' is not a rate; write e.g. 500/s or 2k/s", s);
				return -EINVAL;
			}
			unit[n++] = *p;
		}
		unit[n] = '\0';
	}
	slash = strchr(unit, '/');
	if (slash) {
		bool found = false;

		*slash = '\0';
		for (size_t i = 0; i < sizeof(per_units) / sizeof(per_units[0]); i++)
			if (strcmp(slash + 1, per_units[i].name) == 0) {
				per = per_units[i].per;
				found = true;
			}
		if (!found) {
			ct_why(why, why_len, "unknown time unit '/%s' in rate '%s'; use /s, /m, /h, /ms or /us",
				slash + 1, s);
			return -EINVAL;
		}
	}
	if (si_mult(unit, &mult) < 0) {
		ct_why(why, why_len, "'%s' is not a rate; write e.g. 500/s, 2k/s or 30000/m", s);
		return -EINVAL;
	}
	if ((rc = refuse_negative(&d, "rate", s, why, why_len)) < 0)
		return rc;
	v = (double)d.mant / pow(10.0, (double)d.scale) * (double)mult / per;
	if (!isfinite(v) || v > 1e15) {
		ct_why(why, why_len, "rate '%s' is too large", s);
		return -ERANGE;
	}
	*out_per_s = v;
	return 0;
}

int ct_parse_size(const char *s, uint64_t *out_bytes, char *why, size_t why_len)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = {
		{"", 1ULL}, {"B", 1ULL},
		{"KB", 1000ULL}, {"MB", 1000000ULL}, {"GB", 1000000000ULL},
		{"TB", 1000000000000ULL},
		{"KiB", 1024ULL}, {"MiB", 1048576ULL}, {"GiB", 1073741824ULL},
		{"TiB", 1099511627776ULL},
		{"k", 1024ULL}, {"K", 1024ULL}, {"M", 1048576ULL}, {"G", 1073741824ULL},
		{"T", 1099511627776ULL},
	};
	struct decimal d;
	char unit[16];
	uint64_t mult = 0, v;
	int rc;

	if ((rc = number_and_unit(s, "size", "512, 64KiB or 1MB", &d, unit, sizeof(unit), why, why_len)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].name) == 0)
			mult = units[i].mult;
	if (!mult) {
		ct_why(why, why_len, "unknown unit '%s'; use B, KB, MB, GB (x1000) or KiB, MiB, GiB (x1024)",
			unit);
		return -EINVAL;
	}
	if ((rc = refuse_negative(&d, "size", s, why, why_len)) < 0)
		return rc;
	if ((rc = scale_whole(&d, mult, false, &v, why, why_len, s)) < 0)
		return rc;
	*out_bytes = v;
	return 0;
}

static int parse_port(const char *s, const char **endp, unsigned *out, char *why, size_t why_len,
		      const char *orig)
{
	const char *p = s;
	unsigned v = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p)) {
		ct_why(why, why_len, "'%s' is not a port or port range; write e.g. 11211 or 11211-11242",
			orig);
		return -EINVAL;
	}
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 65535) {
			ct_why(why, why_len, "port in '%s' is out of range 1..65535", orig);
			return -ERANGE;
		}
		p++;
	}
	if (v == 0) {
		ct_why(why, why_len, "port 0 in '%s' is not a port; use 1..65535", orig);
		return -ERANGE;
	}
	while (isspace((unsigned char)*p))
		p++;
	*endp = p;
	*out = v;
	return 0;
}

int ct_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi, char *why, size_t why_len)
{
	const char *p;
	unsigned a, b;
	int rc;

	if (!s) {
		ct_why(why, why_len, "no port given");
		return -EINVAL;
	}
	if ((rc = parse_port(s, &p, &a, why, why_len, s)) < 0)
		return rc;
	b = a;
	if (*p == '-') {
		if ((rc = parse_port(p + 1, &p, &b, why, why_len, s)) < 0)
			return rc;
	}
	if (*p != '\0') {
		ct_why(why, why_len, "'%s' is not a port or port range; write e.g. 11211 or 11211-11242", s);
		return -EINVAL;
	}
	if (a > b) {
		ct_why(why, why_len, "port range '%s' runs backwards; write LOW-HIGH", s);
		return -ERANGE;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int ct_parse_bool(const char *s, int *out, char *why, size_t why_len)
{
	static const char *const yes[] = {"on", "yes", "true", "1"};
	static const char *const no[] = {"off", "no", "false", "0"};
	char buf[16];
	size_t n;

	if (!s) {
		ct_why(why, why_len, "no value given");
		return -EINVAL;
	}
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(buf, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(buf, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
bad:
	ct_why(why, why_len, "'%s' is not a yes/no value; use on/off, yes/no, true/false or 1/0", s);
	return -EINVAL;
}

/* "%.3f" without trailing zeros (and without a trailing dot). */
static void fmt_trim(char *buf, size_t len, double v, const char *suffix)
{
	char num[64];
	char *dot, *e;

	snprintf(num, sizeof(num), "%.3f", v);
	dot = strchr(num, '.');
	if (dot) {
		e = num + strlen(num) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	snprintf(buf, len, "%s%s", num, suffix);
}

const char *ct_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	const uint64_t S = 1000000000ULL;

	if (!buf || len == 0)
		return buf;
	if (ns == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	if (ns >= 60 * S) {
		/* Round to the millisecond; people read "2m30s", not nanoseconds. */
		uint64_t ms = (ns + 500000) / 1000000;
		uint64_t h = ms / 3600000, m = (ms / 60000) % 60, sms = ms % 60000;
		char sec[32] = "";
		size_t o = 0;

		buf[0] = '\0';
		if (h)
			o += (size_t)snprintf(buf + o, len > o ? len - o : 0, "%lluh", (unsigned long long)h);
		if (m && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%llum", (unsigned long long)m);
		if (sms && o < len) {
			fmt_trim(sec, sizeof(sec), (double)sms / 1000.0, "s");
			snprintf(buf + o, len - o, "%s", sec);
		}
		return buf;
	}
	if (ns >= S)
		fmt_trim(buf, len, (double)ns / (double)S, "s");
	else if (ns >= 1000000ULL)
		fmt_trim(buf, len, (double)ns / 1e6, "ms");
	else if (ns >= 1000ULL)
		fmt_trim(buf, len, (double)ns / 1e3, "us");
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

const char *ct_fmt_duration_exact(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{"h", 3600ULL * 1000000000ULL}, {"m", 60ULL * 1000000000ULL},
		{"s", 1000000000ULL}, {"ms", 1000000ULL}, {"us", 1000ULL},
	};

	if (!buf || len == 0)
		return buf;
	if (ns == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns % units[i].ns == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ns / units[i].ns), units[i].name);
			return buf;
		}
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

const char *ct_fmt_rate(double per_s, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	if (!isfinite(per_s)) {
		snprintf(buf, len, "?/s");
		return buf;
	}
	if (per_s >= 999999.5)
		fmt_trim(buf, len, per_s / 1e6, "M/s");
	else if (per_s >= 999.5)
		fmt_trim(buf, len, per_s / 1e3, "k/s");
	else
		fmt_trim(buf, len, per_s, "/s");
	return buf;
}

const char *ct_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	size_t i = 0;

	if (!buf || len == 0)
		return buf;
	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024.0 && i + 1 < sizeof(names) / sizeof(names[0])) {
		v /= 1024.0;
		i++;
	}
	fmt_trim(buf, len, v, names[i]);
	return buf;
}
