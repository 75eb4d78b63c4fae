/* hostinfo — this host's live networking settings and counters, from procfs.
 *
 * Read-only and unprivileged: it opens files under /proc and /sys and never
 * writes. Every value has a `have_` flag, since a key can be missing (no
 * nf_conntrack module, tcp_tw_reuse_delay before 6.14). It reads the network
 * namespace of the calling thread. `root` is "/" (NULL) or a directory
 * holding a copy of proc/ and sys/ (tests). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen/model/model.h"

struct ct_hostinfo {
	bool have_port_range;
	unsigned port_lo, port_hi; /* net.ipv4.ip_local_port_range */
	char reserved_ports[256];  /* net.ipv4.ip_local_reserved_ports, as shown */
	bool have_tw_reuse;
	int tw_reuse;		 /* net.ipv4.tcp_tw_reuse */
	bool have_reuse_delay;	 /* false before 6.14: the delay is then 1000 ms */
	unsigned reuse_delay_ms; /* net.ipv4.tcp_tw_reuse_delay */
	bool have_timestamps;
	int timestamps; /* net.ipv4.tcp_timestamps */
	bool have_tw_buckets;
	uint64_t tw_buckets; /* net.ipv4.tcp_max_tw_buckets */
	bool have_fin_timeout;
	int fin_timeout; /* net.ipv4.tcp_fin_timeout */
	bool have_somaxconn;
	int somaxconn; /* net.core.somaxconn */
	bool have_syn_backlog;
	int max_syn_backlog; /* net.ipv4.tcp_max_syn_backlog */

	bool conntrack;	     /* nf_conntrack is loaded (its sysctls exist) */
	uint64_t ct_max;     /* net.netfilter.nf_conntrack_max */
	uint64_t ct_buckets; /* net.netfilter.nf_conntrack_buckets */
	uint64_t ct_count;   /* net.netfilter.nf_conntrack_count */
	bool have_hashsize;
	uint64_t hashsize; /* /sys/module/nf_conntrack/parameters/hashsize */
	bool have_ct_timeout[CT_MST_N];
	double ct_timeout_s[CT_MST_N]; /* net.netfilter.nf_conntrack_tcp_timeout_* */

	bool have_mem_total;
	uint64_t mem_total; /* bytes, /proc/meminfo MemTotal */
	char kernel[64];    /* /proc/sys/kernel/osrelease */
};

/* Read every setting. Missing files leave their have_ flag false; returns 0
 * unless nothing at all could be read (-ENOENT: no procfs under root). */
int ct_hostinfo_read(struct ct_hostinfo *hi, const char *root);

/* Fill a model input from the live values (defaults where missing); the
 * host is both the client and the server, conntrack on when loaded. */
void ct_hostinfo_to_model(const struct ct_hostinfo *hi, struct ct_model_input *in);

/* Counters that grow with connections, for rates over an interval. */
struct ct_host_counters {
	uint64_t active_opens, passive_opens, attempt_fails, estab_resets; /* /proc/net/snmp Tcp */
	uint64_t tw;	      /* /proc/net/sockstat TCP tw (now, not a counter) */
	uint64_t tw_overflow; /* TcpExt TCPTimeWaitOverflow */
	uint64_t listen_overflows, listen_drops; /* TcpExt */
	bool have_ct;
	uint64_t ct_count; /* now, not a counter */
	uint64_t ct_drop, ct_early_drop,
	    ct_insert_failed; /* /proc/net/stat/nf_conntrack, all CPUs */
};

/* Returns 0, or -errno when /proc/net/snmp cannot be read. */
int ct_hostinfo_counters(struct ct_host_counters *c, const char *root);

/* TCP ports this host listens on now (/proc/net/tcp and tcp6, state LISTEN),
 * sorted, each once. Writes up to max into ports and the total into *n.
 * Returns 0 or -errno. */
int ct_hostinfo_listen_ports(const char *root, uint16_t *ports, size_t max, size_t *n);
