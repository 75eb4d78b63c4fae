/* addr — the lab's IPv4 address plan, from [lab] addresses and [lab]
 * clients. Pure: no state, no host access, so it is tested without root.
 *
 * The range (default 198.18.0.0/15, RFC 2544's benchmarking range) is split
 * in halves: the clients take the first half (198.18.0.1, .2, ... one per
 * client), the server the first address of the second half (198.19.0.1);
 * the router takes the last usable address of each half (198.18.255.254,
 * 198.19.255.254). path = direct puts both halves on one link. Addresses
 * are host order.
 *
 * Only client 0 is an address on a link; the others are local routes in the
 * client netns (ct_lab_addr_blocks), and whatever faces the clients reaches
 * their half through client 0 as its one next hop: no per-client cost in
 * building the lab or in the kernel's (global) neighbour table. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loadgen/base/err.h"

/* [lab] addresses when the scenario leaves it out. */
#define CT_LAB_ADDR_DEFAULT "198.18.0.0/15"

struct ct_lab_addr {
	uint32_t net, mask;	   /* the whole range */
	unsigned prefix;	   /* of the whole range */
	uint32_t cli_net, srv_net; /* each half */
	unsigned half_prefix;
	uint32_t router_cli, router_srv, server;
};

/* Plan `addresses` (NULL: CT_LAB_ADDR_DEFAULT) for `clients` client
 * addresses. -EINVAL with err (CT_EXIT_USAGE) naming [lab] addresses when it
 * is no IPv4 range with a prefix of 8..28, or [lab] clients when the range
 * holds fewer client addresses. */
int ct_lab_addr_plan(const char *addresses, unsigned clients, struct ct_lab_addr *ap,
		     struct ct_err *err);

/* The longest prefix whose range holds `clients` client addresses (what the
 * clients error suggests), or 0 when none of 8..28 does. */
unsigned ct_lab_addr_prefix_for(unsigned clients);

/* An aligned block of addresses: net/prefix. */
struct ct_lab_block {
	uint32_t net;
	unsigned prefix;
};
#define CT_LAB_BLOCKS_MAX 64
/* The fewest aligned blocks that cover exactly [first, first + count) (at
 * most CT_LAB_BLOCKS_MAX: two per prefix length), in address order, into
 * out (room for max); returns how many. What the client netns gets as
 * local routes: every client address bindable, none of the others (the
 * router's address sits in the same half). */
size_t ct_lab_addr_blocks(uint32_t first, uint32_t count, struct ct_lab_block *out, size_t max);

/* How many client addresses the first half holds: all of it but the
 * network, the router and the broadcast address. */
unsigned ct_lab_addr_max_clients(const struct ct_lab_addr *ap);
/* Client address i, from 0. */
uint32_t ct_lab_addr_client(const struct ct_lab_addr *ap, unsigned i);
/* The prefix length of the client and server addresses: the whole range's
 * when they share one link (path = direct), a half's otherwise. */
unsigned ct_lab_addr_link_prefix(const struct ct_lab_addr *ap, bool one_link);

/* `addr` as dotted text in buf (INET_ADDRSTRLEN bytes); returns buf. */
const char *ct_lab_addr_str(uint32_t addr, char *buf);
/* `addr` and `port` as a sockaddr_in in *out, the rest zeroed. */
void ct_lab_addr_sockaddr(uint32_t addr, uint16_t port, struct sockaddr_storage *out);
