/* ctnl — conntrack over ctnetlink (libmnl): the table's statistics and the
 * number of TCP entries in each conntrack state.
 *
 * The socket is created inside the netns it reports on (a netlink socket
 * keeps the netns it was made in) and reused for every query. Counting by
 * state walks the whole table (a dump), and the kernel's dump of one netns
 * walks every bucket of the hash table all netns share: even an empty
 * netns's dump costs in proportion to the host's entries. ctwalk.h keeps
 * it off the tick.
 * The same statistics are in /proc/net/stat/nf_conntrack; the sampler reads
 * procfs on every tick and uses ctnetlink for what procfs cannot give. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ct_ctnl;
struct nlmsghdr;

/* Entries by TCP conntrack state, indexed like enum tcp_conntrack
 * (1 SYN_SENT ... 7 TIME_WAIT, 8 CLOSE); `other` counts non-TCP entries. */
struct ct_ctnl_states {
	uint64_t tcp[10];
	uint64_t other;
	uint64_t total;
};

/* Statistics summed over CPUs (IPCTNL_MSG_CT_GET_STATS_CPU) and the global
 * entries/max (IPCTNL_MSG_CT_GET_STATS). */
struct ct_ctnl_stats {
	uint64_t entries, max_entries;
	uint64_t found, invalid, insert, insert_failed, drop, early_drop, error;
	uint64_t search_restart, clash_resolve, chaintoolong;
};

/* Open a ctnetlink socket inside netns `nsfd` (-1: here). NULL + errno. */
struct ct_ctnl *ct_ctnl_new(int nsfd);
void ct_ctnl_free(struct ct_ctnl *c);

/* 0 or -errno (-EOPNOTSUPP/-ENOENT when this kernel has no ctnetlink). */
int ct_ctnl_states(struct ct_ctnl *c, struct ct_ctnl_states *out);
/* The same, asking go_on(arg) after each batch of the dump: when it says
 * false the walk stops with -ECANCELED, and the socket, left mid-dump, must
 * be freed (a new dump on it would be refused). */
int ct_ctnl_states_while(struct ct_ctnl *c, struct ct_ctnl_states *out, bool (*go_on)(void *),
			 void *arg);
int ct_ctnl_stats(struct ct_ctnl *c, struct ct_ctnl_stats *out);

/* Append a nested TCP/IPv4 tuple attribute `type` (CTA_TUPLE_ORIG or
 * CTA_TUPLE_REPLY) to a message being built, addresses and ports in host
 * byte order: what a conntrack entry made over ctnetlink needs twice. */
void ct_ctnl_put_tuple4(struct nlmsghdr *nlh, int type, uint32_t src, uint32_t dst,
			uint16_t sport, uint16_t dport);
