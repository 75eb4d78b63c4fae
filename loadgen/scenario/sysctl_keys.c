#include "loadgen/scenario/sysctl_keys.h"
#include "common/text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS CT_SKEY_NETNS
#define GL CT_SKEY_GLOBAL
#define INT_ CT_SKIND_INT
#define BOOL_ CT_SKIND_BOOL
/* Conntrack timeouts are seconds converted to jiffies: INT_MAX / HZ(1000). */
#define CT_TMAX 2147483LL
#define CTTO(st, what)                                                                      \
	{"net.netfilter.nf_conntrack_tcp_timeout_" st, NS, INT_, 0, CT_TMAX, "s",           \
	 "how long a conntrack entry stays in TCP state " what, NULL, NULL}

/* Facts from docs/ARCHITECTURE.md (kernel facts) (kernel 6.12-6.18); the lab reads live values. */
static const struct ct_sysctl_key keys[] = {
	{"net.ipv4.ip_local_port_range", NS, CT_SKIND_PAIR, 1, 65535, "port",
	 "ephemeral ports connect() picks from (default 32768 60999)",
	 "connect() prefers one parity and bind() the other: use an even/odd pair", NULL},
	{"net.ipv4.ip_local_reserved_ports", NS, CT_SKIND_PORTLIST, 1, 65535, "port",
	 "ports removed from the ephemeral pool (\"8080,9000-9010\")", NULL, NULL},
	{"net.ipv4.tcp_tw_reuse", NS, INT_, 0, 2, "",
	 "reuse a TIME_WAIT 4-tuple for connect(): 0 off, 1 on, 2 loopback only (default)",
	 "outgoing connect() only, needs TCP timestamps, and only after tcp_tw_reuse_delay", NULL},
	{"net.ipv4.tcp_tw_reuse_delay", NS, INT_, 1, 60000, "ms",
	 "age a TIME_WAIT socket needs before tcp_tw_reuse may reuse it (default 1000)",
	 "with reuse on, one 4-tuple sustains about one new connection per delay", "6.14"},
	{"net.ipv4.tcp_max_tw_buckets", NS, INT_, 0, INT_MAX, "sockets",
	 "most TIME_WAIT (and FIN_WAIT_2) sockets; past it a closing socket skips TIME_WAIT",
	 "overflow is silent (TcpExt TCPTimeWaitOverflow): lowering it hides the problem", NULL},
	{"net.ipv4.tcp_fin_timeout", NS, INT_, 1, 120, "s",
	 "how long an orphaned socket stays in FIN_WAIT_2 (default 60)",
	 "does not shorten TIME_WAIT, which is fixed at 60 s (TCP_TIMEWAIT_LEN)", NULL},
	{"net.ipv4.tcp_timestamps", NS, INT_, 0, 2, "",
	 "TCP timestamps: 0 off, 1 on with random offset (default), 2 on without offset",
	 "tcp_tw_reuse needs them on both ends", NULL},
	{"net.ipv4.tcp_syn_retries", NS, INT_, 1, 127, "",
	 "SYN retransmissions before connect() gives up (default 6, about 131 s)", NULL, NULL},
	{"net.ipv4.tcp_synack_retries", NS, INT_, 0, 255, "",
	 "SYN-ACK retransmissions for a passive open (default 5)", NULL, NULL},
	{"net.ipv4.tcp_max_syn_backlog", NS, INT_, 0, INT_MAX, "requests",
	 "most half-open connections remembered per listener", NULL, NULL},
	{"net.ipv4.tcp_syncookies", NS, INT_, 0, 2, "",
	 "SYN cookies: 0 off, 1 when the SYN queue overflows (default), 2 always", NULL, NULL},
	{"net.ipv4.tcp_syn_linear_timeouts", NS, INT_, 0, 127, "",
	 "first SYN retries at 1 s steps before exponential backoff (default 4)",
	 "dropped SYNs show as connect latencies bunched at whole seconds", "6.5"},
	{"net.core.somaxconn", NS, INT_, 0, INT_MAX, "connections",
	 "cap on a listen() backlog (default 4096)", NULL, NULL},
	{"net.core.netdev_max_backlog", GL, INT_, 1, INT_MAX, "packets",
	 "per-CPU input queue length before the kernel drops packets", NULL, NULL},
	{"net.ipv4.neigh.default.gc_thresh3", GL, INT_, 0, INT_MAX, "entries",
	 "most neighbour (ARP) entries (default 1024)",
	 "one table for the whole host, every netns: past it new entries fail (\"neighbour "
	 "table overflow\", arp_cache table_fulls)",
	 NULL},
	{"net.ipv4.ip_forward", NS, BOOL_, 0, 1, "",
	 "route packets between interfaces (the lab's router netns needs 1)", NULL, NULL},
	{"net.netfilter.nf_conntrack_max", GL, INT_, 0, INT_MAX, "entries",
	 "most conntrack entries; the count is per netns, checked against this one max",
	 "global: read-only in every netns but the init netns; restore it afterwards", NULL},
	{"net.netfilter.nf_conntrack_buckets", GL, INT_, 1, 1LL << 30, "buckets",
	 "conntrack hash table size (default RAM/16KiB/8, capped at 262144)",
	 "global; a bigger table does not raise nf_conntrack_max", NULL},
	CTTO("syn_sent", "SYN_SENT (default 120)"),
	CTTO("syn_recv", "SYN_RECV (default 60)"),
	CTTO("established", "ESTABLISHED (default 432000, 5 days)"),
	CTTO("fin_wait", "FIN_WAIT (default 120)"),
	CTTO("close_wait", "CLOSE_WAIT (default 60)"),
	CTTO("last_ack", "LAST_ACK (default 30)"),
	{"net.netfilter.nf_conntrack_tcp_timeout_time_wait", NS, INT_, 0, CT_TMAX, "s",
	 "how long a conntrack entry stays in TCP state TIME_WAIT (default 120)",
	 "twice the socket's 60 s: a finished connection holds an entry for 120 s", NULL},
	CTTO("close", "CLOSE (default 10)"),
	CTTO("max_retrans", "retransmitting past tcp_max_retrans (default 300)"),
	CTTO("unacknowledged", "with unacknowledged data (default 300)"),
	{"net.netfilter.nf_conntrack_tcp_loose", NS, BOOL_, 0, 1, "",
	 "pick up connections already in progress (default 1)", NULL, NULL},
	{"net.netfilter.nf_conntrack_tcp_be_liberal", NS, BOOL_, 0, 1, "",
	 "only out-of-window RSTs are invalid (default 0)", NULL, NULL},
	{"net.netfilter.nf_conntrack_tcp_max_retrans", NS, INT_, 0, 255, "",
	 "retransmissions before timeout_max_retrans applies (default 3)", NULL, NULL},
	{"net.netfilter.nf_conntrack_acct", NS, BOOL_, 0, 1, "",
	 "count packets and bytes per conntrack entry (default 0)", NULL, NULL},
	{"net.netfilter.nf_conntrack_checksum", NS, BOOL_, 0, 1, "",
	 "verify checksums of tracked packets (default 1)", NULL, NULL},
};

#define LEG_CT(x) {"net.ipv4.netfilter.ip_conntrack_" x, "net.netfilter.nf_conntrack_" x}

static const struct ct_sysctl_legacy legacy[] = {
	LEG_CT("max"),
	LEG_CT("buckets"),
	LEG_CT("tcp_timeout_syn_sent"),
	LEG_CT("tcp_timeout_syn_recv"),
	LEG_CT("tcp_timeout_established"),
	LEG_CT("tcp_timeout_fin_wait"),
	LEG_CT("tcp_timeout_close_wait"),
	LEG_CT("tcp_timeout_last_ack"),
	LEG_CT("tcp_timeout_time_wait"),
	LEG_CT("tcp_timeout_close"),
	LEG_CT("tcp_timeout_max_retrans"),
	LEG_CT("tcp_timeout_unacknowledged"),
	LEG_CT("tcp_loose"),
	LEG_CT("tcp_be_liberal"),
	LEG_CT("tcp_max_retrans"),
	LEG_CT("checksum"),
	/* Guides also write the old name without the netfilter level. */
	{"net.ipv4.ip_conntrack_max", "net.netfilter.nf_conntrack_max"},
};

/* Second names current kernels still have for a key: both write the same
 * variable, so the last write to either is the value. */
static const struct ct_sysctl_alias aliases[] = {
	/* nf_conntrack_standalone.c registers it beside net/netfilter/, in the
	 * init netns only (a container has just the netfilter name). */
	{"net.nf_conntrack_max", "net.netfilter.nf_conntrack_max", "the init netns only"},
};

/* Where the kernel's handler takes more than a scenario may set. Measured by
 * writing /proc/sys in a throwaway netns on 6.18; the global keys, which a
 * netns cannot write, keep the allowlist's range. A name ending in '_' is a
 * prefix. */
static const struct {
	const char *name;
	long long lo, hi;
} kernel_ranges[] = {
	{"net.ipv4.tcp_max_tw_buckets", INT_MIN, INT_MAX},
	{"net.ipv4.tcp_max_syn_backlog", INT_MIN, INT_MAX},
	{"net.ipv4.ip_forward", INT_MIN, INT_MAX},
	{"net.ipv4.tcp_timestamps", 0, 255}, /* one byte, any value */
	{"net.ipv4.tcp_syncookies", 0, 255},
	/* Seconds kept in jiffies: up to INT_MAX / HZ (2147483 at HZ=1000). */
	{"net.ipv4.tcp_fin_timeout", -CT_TMAX, CT_TMAX},
	{"net.netfilter.nf_conntrack_tcp_timeout_", -CT_TMAX, CT_TMAX},
	{"net.ipv4.ip_local_reserved_ports", 0, 65535},
};

static const struct ct_sysctl_removed removed[] = {
	{"net.ipv4.tcp_tw_recycle",
	 "was removed in Linux 4.12: it dropped connections from clients behind NAT; "
	 "use net.ipv4.tcp_tw_reuse (outgoing connections) instead"},
	{"net.ipv4.netfilter.ip_conntrack_count",
	 "is a counter, not a setting (now net.netfilter.nf_conntrack_count, read-only)"},
	{"net.netfilter.nf_conntrack_count",
	 "is a read-only counter; ctload samples it, a scenario cannot set it"},
};


int ct_sysctl_key_normalize(const char *name, char *out, size_t len)
{
	size_t n = 0, e;

	if (!name || len == 0)
		return -EINVAL;
	while (isspace((unsigned char)*name))
		name++;
	if (strncmp(name, "/proc/sys/", 10) == 0)
		name += 10;
	while (*name == '/')
		name++;
	e = strlen(name);
	while (e && isspace((unsigned char)name[e - 1]))
		e--;
	if (e == 0)
		return -EINVAL;
	if (e >= len)
		return -ENAMETOOLONG;
	for (; n < e; n++)
		out[n] = name[n] == '/' ? '.' : name[n];
	out[n] = '\0';
	return 0;
}

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const struct ct_sysctl_key *ct_sysctl_key_find(const char *name)
{
	char buf[128];

	if (ct_sysctl_key_normalize(name, buf, sizeof(buf)) < 0)
		return NULL;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, buf) == 0)
			return &keys[i];
	return NULL;
}

const struct ct_sysctl_legacy *ct_sysctl_key_legacy(const char *name)
{
	char buf[128];

	if (ct_sysctl_key_normalize(name, buf, sizeof(buf)) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (strcmp(legacy[i].old_name, buf) == 0)
			return &legacy[i];
	return NULL;
}

const struct ct_sysctl_alias *ct_sysctl_key_alias(const char *name)
{
	char buf[128];

	if (ct_sysctl_key_normalize(name, buf, sizeof(buf)) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].name, buf) == 0)
			return &aliases[i];
	return NULL;
}

const struct ct_sysctl_removed *ct_sysctl_key_removed(const char *name)
{
	char buf[128];

	if (ct_sysctl_key_normalize(name, buf, sizeof(buf)) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++)
		if (strcmp(removed[i].name, buf) == 0)
			return &removed[i];
	return NULL;
}

static const char *last_component(const char *s)
{
	const char *dot = strrchr(s, '.');

	return dot ? dot + 1 : s;
}

const struct ct_sysctl_key *ct_sysctl_key_nearest(const char *name)
{
	const struct ct_sysctl_key *best = NULL;
	size_t best_d = 4;
	char buf[128];

	if (ct_sysctl_key_normalize(name, buf, sizeof(buf)) < 0)
		return NULL;
	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = ct_edit_distance(buf, keys[i].name, false);
		size_t d2 = ct_edit_distance(last_component(buf), last_component(keys[i].name), false);

		if (d2 < d)
			d = d2;
		if (d < best_d) {
			best_d = d;
			best = &keys[i];
		}
	}
	return best;
}

size_t ct_sysctl_key_count(void)
{
	return NKEYS;
}

const struct ct_sysctl_key *ct_sysctl_key_at(size_t i)
{
	return i < NKEYS ? &keys[i] : NULL;
}

const struct ct_sysctl_key *ct_sysctl_key_resolve(const char *name,
						  const struct ct_sysctl_legacy **legacy_out,
						  char *why, size_t why_len)
{
	const struct ct_sysctl_legacy *leg;
	const struct ct_sysctl_alias *al;
	const struct ct_sysctl_removed *rm;
	const struct ct_sysctl_key *k, *near;
	char buf[128];

	if (legacy_out)
		*legacy_out = NULL;
	if (ct_sysctl_key_normalize(name, buf, sizeof(buf)) < 0) {
		ct_why(why, why_len, "'%s' is not a sysctl name", name ? name : "");
		return NULL;
	}
	if ((k = ct_sysctl_key_find(buf)))
		return k;
	if ((al = ct_sysctl_key_alias(buf)))
		return ct_sysctl_key_find(al->key);
	if ((leg = ct_sysctl_key_legacy(buf))) {
		if (legacy_out)
			*legacy_out = leg;
		return ct_sysctl_key_find(leg->modern);
	}
	if ((rm = ct_sysctl_key_removed(buf))) {
		ct_why(why, why_len, "%s %s", buf, rm->why);
		return NULL;
	}
	near = ct_sysctl_key_nearest(buf);
	if (near)
		ct_why(why, why_len,
			"'%s' is not a sysctl ctload knows; did you mean '%s'? (see scenarios/README.md)",
			buf, near->name);
	else
		ct_why(why, why_len,
			"'%s' is not a sysctl ctload knows; only the networking keys listed in "
			"scenarios/README.md may be set",
			buf);
	return NULL;
}

/* A decimal integer (optional '-'), blanks around allowed; *end after it. */
static int parse_ll(const char *s, const char **end, long long *out)
{
	char *e;
	long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*end = e;
	*out = v;
	return 0;
}

static int check_portlist(const struct ct_sysctl_key *k, const char *value, char *norm,
			  size_t norm_len, char *why, size_t why_len)
{
	const char *p = value;
	size_t o = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (norm_len)
		norm[0] = '\0';
	while (*p) {
		long long a, b;
		int n;

		if (parse_ll(p, &p, &a) < 0 || a < 1 || a > 65535)
			goto bad;
		b = a;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '-') {
			if (parse_ll(p + 1, &p, &b) < 0 || b < a || b > 65535)
				goto bad;
			while (isspace((unsigned char)*p))
				p++;
		}
		n = a == b ? snprintf(norm + o, norm_len - o, "%s%lld", o ? "," : "", a)
			   : snprintf(norm + o, norm_len - o, "%s%lld-%lld", o ? "," : "", a, b);
		if (n < 0 || (size_t)n >= norm_len - o) {
			ct_why(why, why_len, "value for %s is too long", k->name);
			return -EINVAL;
		}
		o += (size_t)n;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	return 0;
bad:
	ct_why(why, why_len,
		"'%s' is not a port list for %s; write ports and ranges like 8080,9000-9010", value,
		k->name);
	return -EINVAL;
}

int ct_sysctl_key_check_value(const struct ct_sysctl_key *k, const char *value, char *norm,
			      size_t norm_len, char *why, size_t why_len)
{
	const char *p;
	long long a, b;
	int rc;

	if (!k || !value || !norm || norm_len == 0)
		return -EINVAL;
	switch (k->kind) {
	case CT_SKIND_PORTLIST:
		return check_portlist(k, value, norm, norm_len, why, why_len);
	case CT_SKIND_PAIR:
		if ((rc = parse_ll(value, &p, &a)) < 0 || !isspace((unsigned char)*p) ||
		    (rc = parse_ll(p, &p, &b)) < 0) {
			ct_why(why, why_len, "'%s' is not a pair for %s; write two numbers, e.g. \"%lld %lld\"",
				value, k->name, k->min < 1024 ? 1024LL : k->min, k->max);
			return -EINVAL;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p) {
			ct_why(why, why_len, "'%s' is not a pair for %s; write two numbers, e.g. \"1024 65535\"",
				value, k->name);
			return -EINVAL;
		}
		if (a < k->min || b > k->max || a > b) {
			ct_why(why, why_len, "'%s' is out of range for %s: need %lld <= LO <= HI <= %lld",
				value, k->name, k->min, k->max);
			return -ERANGE;
		}
		if (snprintf(norm, norm_len, "%lld %lld", a, b) >= (int)norm_len)
			return -EINVAL;
		return 0;
	case CT_SKIND_INT:
	case CT_SKIND_BOOL:
		if ((rc = parse_ll(value, &p, &a)) == -ERANGE) {
			ct_why(why, why_len, "'%s' is out of range for %s: %lld..%lld", value, k->name,
				k->min, k->max);
			return -ERANGE;
		}
		if (rc < 0 || (p = p + strspn(p, " \t"), *p != '\0')) {
			ct_why(why, why_len, "'%s' is not %s for %s (sysctl values are written as the kernel "
				"takes them, without units)",
				value, k->kind == CT_SKIND_BOOL ? "0 or 1" : "an integer", k->name);
			return -EINVAL;
		}
		if (a < k->min || a > k->max) {
			ct_why(why, why_len, "%lld is out of range for %s: %lld..%lld%s%s", a, k->name,
				k->min, k->max, k->unit[0] ? " " : "", k->unit);
			return -ERANGE;
		}
		if (snprintf(norm, norm_len, "%lld", a) >= (int)norm_len)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* ---- what the kernel takes ------------------------------------------------ */

static void kernel_range(const struct ct_sysctl_key *k, long long *lo, long long *hi)
{
	*lo = k->min;
	*hi = k->max;
	for (size_t i = 0; i < sizeof(kernel_ranges) / sizeof(kernel_ranges[0]); i++) {
		const char *n = kernel_ranges[i].name;
		size_t len = strlen(n);

		if (n[len - 1] == '_' ? strncmp(k->name, n, len) == 0 : strcmp(k->name, n) == 0) {
			*lo = kernel_ranges[i].lo;
			*hi = kernel_ranges[i].hi;
			return;
		}
	}
}

/* One integer as the kernel's proc_get_long reads it: blanks, an optional
 * '-', digits in base 0 (0x hex, a leading 0 octal), then a blank or the
 * end; past INT_MAX no int sysctl takes it. *s moves past the number. */
static int kernel_number(const char **s, long long *out)
{
	const char *p = *s;
	unsigned long long v;
	bool neg = false;
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &e, 0);
	if (*e && !isspace((unsigned char)*e))
		return -EINVAL;
	if (errno == ERANGE || v > (unsigned long long)INT_MAX + (neg ? 1 : 0))
		return -ERANGE;
	*out = neg ? -(long long)v : (long long)v;
	*s = e;
	return 0;
}

/* proc_do_large_bitmap's format: N or N-M joined by commas, no blanks. */
static int kernel_portlist(const struct ct_sysctl_key *k, const char *value, char *norm,
			   size_t norm_len, char *why, size_t why_len)
{
	const char *p = value;

	while (isspace((unsigned char)*p))
		p++;
	while (*p && !isspace((unsigned char)*p)) {
		char *e;
		unsigned long a, b;

		if (!isdigit((unsigned char)*p))
			goto bad;
		a = b = strtoul(p, &e, 0);
		if (*e == '-') {
			if (!isdigit((unsigned char)e[1]))
				goto bad;
			b = strtoul(e + 1, &e, 0);
		}
		if (a > b || b > 65535)
			goto bad;
		p = *e == ',' ? e + 1 : e;
		if (*e == ',' && !isdigit((unsigned char)*p))
			goto bad;
		if (*e && *e != ',' && !isspace((unsigned char)*e))
			goto bad;
	}
	/* p is past the list: the rest must be blank. */
	if (p[strspn(p, " \t\n")])
		goto bad;
	value += strspn(value, " \t\n");
	snprintf(norm, norm_len, "%.*s", (int)(p - value), value);
	return 0;
bad:
	ct_why(why, why_len,
	       "the kernel refuses '%s' for %s: it takes ports 0..65535 and ranges N-M joined "
	       "by commas, without blanks (8080,9000-9010)",
	       value, k->name);
	return -EINVAL;
}

/* A pair as ipv4_local_port_range takes it: LO HI, or LO alone (then only
 * the low end changes), with port_floor <= LO <= HI. */
static int kernel_pair(const struct ct_sysctl_key *k, const char *value, long long port_floor,
		       char *norm, size_t norm_len, char *why, size_t why_len)
{
	const char *p = value;
	long long lo, hi, a, b;
	bool one;

	kernel_range(k, &lo, &hi);
	if (kernel_number(&p, &a) < 0)
		goto bad;
	while (isspace((unsigned char)*p))
		p++;
	one = *p == '\0';
	if (one)
		b = a;
	else if (kernel_number(&p, &b) < 0)
		goto bad;
	if (a < lo || b > hi || a > b || a < port_floor)
		goto bad;
	if (one) {
		snprintf(norm, norm_len, "%lld", a);
		ct_why(why, why_len,
		       "'%s' is one number: the kernel sets the low end of %s to %lld and keeps "
		       "the high end it had",
		       value, k->name, a);
		return 1;
	}
	snprintf(norm, norm_len, "%lld %lld", a, b);
	return 0;
bad:
	ct_why(why, why_len,
	       "the kernel refuses '%s' for %s: it takes two numbers LO HI with "
	       "%lld <= LO <= HI <= %lld (LO is at least net.ipv4.ip_unprivileged_port_start)",
	       value, k->name, port_floor > lo ? port_floor : lo, hi);
	return -EINVAL;
}

int ct_sysctl_key_kernel_check(const struct ct_sysctl_key *k, const char *value,
			       long long port_floor, char *norm, size_t norm_len, char *why,
			       size_t why_len)
{
	const char *p = value;
	long long lo, hi, a;
	int rc;

	if (!k || !value || !norm || norm_len == 0)
		return -EINVAL;
	norm[0] = '\0';
	if (k->kind == CT_SKIND_PORTLIST)
		return kernel_portlist(k, value, norm, norm_len, why, why_len);
	if (k->kind == CT_SKIND_PAIR)
		return kernel_pair(k, value, port_floor, norm, norm_len, why, why_len);
	kernel_range(k, &lo, &hi);
	if ((rc = kernel_number(&p, &a)) < 0) {
		ct_why(why, why_len,
		       "the kernel refuses '%s' for %s: %s (it reads an integer: digits, 0x hex "
		       "or 0 octal, then a blank or the end)",
		       value, k->name, rc == -ERANGE ? "too large" : "not a number");
		return rc;
	}
	if (a < lo || a > hi) {
		ct_why(why, why_len, "the kernel refuses %lld for %s: it takes %lld..%lld", a,
		       k->name, lo, hi);
		return -ERANGE;
	}
	snprintf(norm, norm_len, "%lld", a);
	return 0;
}

const char *ct_sysctl_key_scope_name(enum ct_sysctl_key_scope s)
{
	return s == CT_SKEY_GLOBAL ? "global" : "per-netns";
}

const char *ct_sysctl_kind_name(enum ct_sysctl_kind k)
{
	switch (k) {
	case CT_SKIND_INT:
		return "int";
	case CT_SKIND_BOOL:
		return "bool";
	case CT_SKIND_PAIR:
		return "pair";
	case CT_SKIND_PORTLIST:
		return "portlist";
	}
	return "?";
}
