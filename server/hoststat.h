/* hoststat — what the server's own network namespace looks like, for the
 * extra `stats` lines: conntrack count and max, TIME_WAIT sockets.
 *
 * Read from procfs on each call (stats is rare); a value that cannot be
 * read (conntrack module not loaded) is -1. The parser is pure. */
#pragma once

struct ct_hoststat {
	long conntrack_count; /* /proc/sys/net/netfilter/nf_conntrack_count */
	long conntrack_max;   /* /proc/sys/net/netfilter/nf_conntrack_max */
	long tw;	      /* /proc/net/sockstat "TCP: ... tw N" */
};

/* The `tw` field of sockstat text, or -1 when it is missing. */
long ct_hoststat_parse_sockstat_tw(const char *text);
void ct_hoststat_sample(struct ct_hoststat *hs);
