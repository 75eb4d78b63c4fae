/* addr — the lab's address plan (see addr.h). */
#include "loadgen/lab/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int ct_lab_addr_plan(const char *addresses, unsigned clients, struct ct_lab_addr *ap,
		     struct ct_err *err)
{
	const char *cidr = addresses ? addresses : CT_LAB_ADDR_DEFAULT;
	char host[64];
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	unsigned prefix;
	uint32_t half_size;

	if (!slash || (size_t)(slash - cidr) >= sizeof(host) ||
	    sscanf(slash + 1, "%u", &prefix) != 1 || prefix < 8 || prefix > 28) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "[lab] addresses = %s: expected an IPv4 range like 198.18.0.0/15 "
			   "(prefix 8..28)",
			   cidr);
		return -EINVAL;
	}
	memcpy(host, cidr, (size_t)(slash - cidr));
	host[slash - cidr] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1) {
		ct_err_set(err, CT_EXIT_USAGE, "[lab] addresses = %s: '%s' is not an IPv4 address",
			   cidr, host);
		return -EINVAL;
	}
	ap->prefix = prefix;
	ap->mask = prefix ? ~0u << (32 - prefix) : 0;
	ap->net = ntohl(a.s_addr) & ap->mask;
	ap->half_prefix = prefix + 1;
	half_size = 1u << (32 - ap->half_prefix);
	ap->cli_net = ap->net;
	ap->srv_net = ap->net + half_size;
	ap->router_cli = ap->cli_net + half_size - 2;
	ap->router_srv = ap->srv_net + half_size - 2;
	ap->server = ap->srv_net + 1;
	/* Client i is cli_net + 1 + i; the router takes half_size - 2. */
	if (clients < 1 || clients > ct_lab_addr_max_clients(ap)) {
		char wider[INET_ADDRSTRLEN];
		unsigned p = ct_lab_addr_prefix_for(clients);
		uint32_t wnet = p ? ap->net & (~0u << (32 - p)) : 0;

		if (clients < 1 || !p) {
			ct_err_set(err, CT_EXIT_USAGE,
				   "[lab] clients = %u: the range %s holds 1 to %u client "
				   "addresses",
				   clients, cidr, ct_lab_addr_max_clients(ap));
			return -EINVAL;
		}
		ct_err_set(err, CT_EXIT_USAGE,
			   "[lab] clients = %u: the range %s holds at most %u client addresses; "
			   "widen it to a /%u (e.g. [lab] addresses = %s/%u holds %u) or use "
			   "fewer clients",
			   clients, cidr, ct_lab_addr_max_clients(ap), p,
			   ct_lab_addr_str(wnet, wider), p, (1u << (31 - p)) - 3);
		return -EINVAL;
	}
	return 0;
}

unsigned ct_lab_addr_prefix_for(unsigned clients)
{
	/* A /p range's client half holds 2^(31-p) - 3 addresses. */
	for (unsigned p = 28; p >= 8; p--)
		if ((1u << (31 - p)) - 3 >= clients)
			return p;
	return 0;
}

size_t ct_lab_addr_blocks(uint32_t first, uint32_t count, struct ct_lab_block *out, size_t max)
{
	size_t n = 0;

	/* Greedy: the largest aligned block that starts at `first` and fits;
	 * at most two per prefix length. */
	while (count > 0 && n < max) {
		unsigned bits = first ? (unsigned)__builtin_ctz(first) : 32;

		while (bits > 0 && (bits >= 32 || (1u << bits) > count))
			bits--;
		out[n].net = first;
		out[n].prefix = 32 - bits;
		n++;
		first += 1u << bits;
		count -= 1u << bits;
	}
	return n;
}

unsigned ct_lab_addr_max_clients(const struct ct_lab_addr *ap)
{
	return (1u << (32 - ap->half_prefix)) - 3;
}

uint32_t ct_lab_addr_client(const struct ct_lab_addr *ap, unsigned i)
{
	return ap->cli_net + 1 + i;
}

unsigned ct_lab_addr_link_prefix(const struct ct_lab_addr *ap, bool one_link)
{
	return one_link ? ap->prefix : ap->half_prefix;
}

const char *ct_lab_addr_str(uint32_t addr, char *buf)
{
	struct in_addr a = {.s_addr = htonl(addr)};

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

void ct_lab_addr_sockaddr(uint32_t addr, uint16_t port, struct sockaddr_storage *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	sin->sin_port = htons(port);
}
