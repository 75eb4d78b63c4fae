/* sampler — the counters of one network namespace, read on a timer.
 *
 * ct_sampler_new() enters the netns once (in a short-lived thread) and opens
 * the procfs files there: /proc/net/sockstat, /proc/net/netstat,
 * /proc/net/snmp, /proc/net/dev, /proc/net/stat/nf_conntrack and
 * /proc/sys/net/netfilter/nf_conntrack_{count,max}; each later read is a
 * pread() on those fds, so sampling never changes any thread's netns. It
 * also opens ctnetlink sockets there: one for the statistics when procfs
 * lacks them, one for the table walker (ctwalk.h), which counts the entries
 * by TCP state on its own thread. A sample never waits for a walk: it
 * carries the last walk's counts and their age, and the walker holds its
 * CPU to a budget by walking less often as the table grows.
 *
 * The parsers of procfs text are pure functions (tested on fixture text in
 * tests/data/proc/). /proc/net/stat/nf_conntrack and netstat/snmp are parsed
 * by their header rows, so columns a kernel lacks or adds do not shift
 * anything: a missing column reads as 0 and is reported absent.
 *
 * Scope: sockstat "inuse" and "tw" are per netns; "orphan" (like alloc and
 * mem) is the kernel's global count, the same in every netns. ct.max is the
 * global nf_conntrack_max; ct.count is per netns.
 *
 * JSON (ct_sampler_fill): under sample["ns"][role] an object with gauges
 * ct.count ct.max tw inuse orphan (client: ports_in_use = inuse + tw, the
 * sockets holding a local port) and, as deltas since the previous fill,
 * ct.drop ct.early_drop ct.insert_failed ct.clash_resolve ct.search_restart
 * ct.chaintoolong, tcpext.TW tcpext.TWRecycled tcpext.TCPTimeWaitOverflow
 * tcpext.ListenOverflows tcpext.ListenDrops tcpext.TCPSynRetrans,
 * tcp.ActiveOpens tcp.PassiveOpens, dev.rx_drop dev.tx_drop (summed over
 * the netns' devices: what `ip -s link` shows as dropped); and, once the
 * walker has counted the table, ct.states {"TIME_WAIT": n, ...} (when there
 * are entries), ct.states_age_s (seconds since the walk behind those counts
 * began) and ct.states_degraded (true when the walk's CPU budget keeps walks
 * more than 1 s apart, so the counts lag the table). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "loadgen/probe/ctwalk.h"

/* Columns of /proc/net/stat/nf_conntrack we use, summed over CPUs. */
enum ct_ctstat {
	CT_CTSTAT_FOUND = 0,
	CT_CTSTAT_INVALID,
	CT_CTSTAT_INSERT,
	CT_CTSTAT_INSERT_FAILED,
	CT_CTSTAT_DROP,
	CT_CTSTAT_EARLY_DROP,
	CT_CTSTAT_CLASH_RESOLVE, /* header "clashres" */
	CT_CTSTAT_SEARCH_RESTART,
	CT_CTSTAT_CHAINTOOLONG, /* header "chainlength" */
	CT_CTSTAT_N
};
/* The header name of each column, as the kernel prints it. */
extern const char *const ct_ctstat_header[CT_CTSTAT_N];

enum ct_tcpext {
	CT_TCPEXT_TW = 0,
	CT_TCPEXT_TW_RECYCLED,
	CT_TCPEXT_TW_KILLED,
	CT_TCPEXT_TW_OVERFLOW, /* TCPTimeWaitOverflow */
	CT_TCPEXT_LISTEN_OVERFLOWS,
	CT_TCPEXT_LISTEN_DROPS,
	CT_TCPEXT_SYN_RETRANS,
	CT_TCPEXT_N
};
extern const char *const ct_tcpext_name[CT_TCPEXT_N];

enum ct_tcpsnmp {
	CT_TCP_ACTIVE_OPENS = 0,
	CT_TCP_PASSIVE_OPENS,
	CT_TCP_ATTEMPT_FAILS,
	CT_TCP_ESTAB_RESETS,
	CT_TCP_N
};
extern const char *const ct_tcpsnmp_name[CT_TCP_N];

/* Conntrack TCP states as ctnetlink numbers them (enum tcp_conntrack). */
#define CT_TCP_CT_NSTATES 10
extern const char *const ct_tcp_ct_state_name[CT_TCP_CT_NSTATES];

struct ct_ns_counters {
	bool has_ct;	   /* nf_conntrack files exist in this netns */
	uint64_t ct_count; /* nf_conntrack_count */
	uint64_t ct_max;   /* nf_conntrack_max (global) */
	uint64_t ctstat[CT_CTSTAT_N];
	unsigned ctstat_present; /* bit i: column i exists in this kernel */
	uint64_t tcp_inuse, tcp_orphan, tcp_tw, tcp_alloc;
	uint64_t tcpext[CT_TCPEXT_N];
	uint64_t tcp[CT_TCP_N];
	uint64_t dev_rx_drop, dev_tx_drop; /* /proc/net/dev, all devices */
	bool has_states; /* ct_states filled (ctnetlink dump done) */
	uint64_t ct_states[CT_TCP_CT_NSTATES];
};

/* ---- pure parsers ---------------------------------------------------------- */

/* /proc/net/sockstat: the "TCP:" line. 0 or -EINVAL if there is none. */
int ct_parse_sockstat(const char *text, uint64_t *inuse, uint64_t *orphan, uint64_t *tw,
		      uint64_t *alloc);
/* /proc/net/netstat or /proc/net/snmp: for the header/value line pair whose
 * prefix is `section` ("TcpExt", "Tcp"), the value of each of `names`.
 * Missing names read 0 and leave their bit clear in the return value (a
 * bitmask of names found), or -EINVAL if the section is not there. */
int ct_parse_netstat(const char *text, const char *section, const char *const names[], size_t n,
		     uint64_t *out);
/* /proc/net/stat/nf_conntrack: the header row names the columns, then one
 * row of hex numbers per CPU; each of `names` summed over the rows. Returns
 * the bitmask of names found, or -EINVAL if there is no header. */
int ct_parse_ctstat(const char *text, const char *const names[], size_t n, uint64_t *out);

/* /proc/net/dev: the rx and tx "drop" columns summed over every device.
 * Returns how many devices were read, or -EINVAL if none. */
int ct_parse_netdev(const char *text, uint64_t *rx_drop, uint64_t *tx_drop);

/* ---- per-netns sampler ------------------------------------------------------- */

struct ct_sampler;

/* Open the counters of netns `netns_fd` (-1: the caller's) under the name
 * `role` ("client", "server", "router"); the fd is not kept. Files that do
 * not exist there (no conntrack yet) are skipped. NULL + errno on failure. */
struct ct_sampler *ct_sampler_new(const char *role, int netns_fd);
void ct_sampler_free(struct ct_sampler *s);
const char *ct_sampler_role(const struct ct_sampler *s);

/* Read every counter now; with `with_states`, also walk the table here and
 * now (a ctnetlink dump: for a status query or a drain, never a tick). */
int ct_sampler_read(struct ct_sampler *s, bool with_states, struct ct_ns_counters *out);

/* Start a step: peaks reset, counters baselined for ct_sampler_step(). */
int ct_sampler_step_begin(struct ct_sampler *s);

/* What a step saw so far: peak ct.count and tw, the limit (ct.max), and the
 * growth of drop/early_drop/insert_failed, of the listen queue's and the
 * devices' drops since ct_sampler_step_begin(). */
struct ct_sampler_step {
	uint64_t ct_peak, ct_limit, ct_drop, ct_early_drop, ct_insert_failed;
	uint64_t ct_chaintoolong; /* inserts refused: a hash chain past its cap */
	uint64_t tw_peak;
	uint64_t sockets_peak; /* inuse + tw: in the client netns, the 4-tuples held */
	/* Drops outside conntrack, grown since step begin: a full listen
	 * queue (TcpExt), devices (/proc/net/dev). */
	uint64_t listen_overflows, listen_drops, dev_rx_drop, dev_tx_drop;
	bool states_seen;	 /* some sample carried per-state counts (and an age) */
	double states_age_max_s; /* the oldest per-state counts a sample carried */
	bool states_degraded;	 /* some sample's counts were held back by the budget */
};
void ct_sampler_step(const struct ct_sampler *s, struct ct_sampler_step *out);

/* Sample-source hook (struct ct_sample_source, probe.h): ctx is a
 * struct ct_sampler *. Reads the counters and adds sample["ns"][role]. */
int ct_sampler_fill(void *ctx, json_t *sample);

/* The table walker's last result (zeros when this netns has none). */
void ct_sampler_walk(const struct ct_sampler *s, struct ct_ctwalk_result *out);
