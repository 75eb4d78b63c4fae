/* units — parse and print the quantities people write in scenarios and on
 * the command line: durations (10s, 250ms, 1.5m, 2h), counts (2k, 1.5M),
 * rates (500/s, 2k/s, 30000/m), sizes (64KiB, 1MB, 512). Pure functions.
 *
 * Each parser takes the whole string (surrounding blanks allowed) and returns
 * 0, or -EINVAL (malformed, wrong unit) / -ERANGE (does not fit, negative),
 * writing nothing to *out on error. `why` (may be NULL) receives a short
 * reason for the user ("unknown unit 'sec'; use ns, us, ms, s, m or h"). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Duration -> ns. A bare number is seconds. Units: ns us ms s m h. */
int ct_parse_duration(const char *s, uint64_t *out_ns, char *why, size_t why_len);
/* Count -> integer. Suffixes k M G (x1000). "1.5M" = 1500000. Must be whole. */
int ct_parse_count(const char *s, uint64_t *out, char *why, size_t why_len);
/* Rate -> per second. "500/s", "500" (per second), "2k/s", "30000/m", "1/ms". */
int ct_parse_rate(const char *s, double *out_per_s, char *why, size_t why_len);
/* Size -> bytes. B, KB/MB/GB (x1000), KiB/MiB/GiB (x1024), k/K/M/G = binary. */
int ct_parse_size(const char *s, uint64_t *out_bytes, char *why, size_t why_len);
/* Port or port range "11211" or "11211-11242" (lo <= hi, 1..65535). */
int ct_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi, char *why, size_t why_len);
/* Boolean: on/off, yes/no, true/false, 1/0. */
int ct_parse_bool(const char *s, int *out, char *why, size_t why_len);

/* Format for people: "250ms", "1.5s", "2m30s"; "2.5k/s"; "64KiB". Return buf. */
const char *ct_fmt_duration(uint64_t ns, char *buf, size_t len);
const char *ct_fmt_rate(double per_s, char *buf, size_t len);
const char *ct_fmt_size(uint64_t bytes, char *buf, size_t len);
/* Duration in the largest unit that divides it exactly ("250ms", "90s",
 * "1500us"), so ct_parse_duration() reads back the same nanoseconds. */
const char *ct_fmt_duration_exact(uint64_t ns, char *buf, size_t len);
