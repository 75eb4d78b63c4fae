/* ct_table_fill — fill the conntrack table of the current netns with N TCP
 * entries over ctnetlink, for scripts/bench-sampler and the sampling-scale
 * test (run it under `ip netns exec NS`).
 *
 *   ct_table_fill N [TIMEOUT_S [FIRST]]
 *
 * Entries FIRST .. FIRST+N-1 (FIRST default 0; a second fill of the same
 * table starts where the first ended) are 10.77.x.y:port -> 10.78.0.1:80,
 * distinct tuples, TIMEOUT_S
 * (default 600) seconds to live, spread over four TCP states in a fixed
 * mix (TIME_WAIT 70%, ESTABLISHED 20%, CLOSE 5%, SYN_SENT 5%) so a
 * per-state count has something to tell apart. They are created by
 * IPCTNL_MSG_CT_NEW, many messages per sendmsg() with no ACK asked: about
 * 10x faster than `conntrack -I` in a loop, which execs and waits for each.
 * A refusal (table full, no conntrack module) comes back as an error
 * message and ends the tool with its reason. Prints "created N" and the
 * seconds it took. Exit 0 when all N were created. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "loadgen/probe/ctnl.h"

/* Under the socket's default send buffer (212992), which bounds one sendmsg(). */
#define BATCH_BYTES (128 * 1024)

static uint8_t state_of(uint64_t i)
{
	unsigned k = (unsigned)(i % 20);

	if (k < 14)
		return TCP_CONNTRACK_TIME_WAIT;
	if (k < 18)
		return TCP_CONNTRACK_ESTABLISHED;
	return k == 18 ? TCP_CONNTRACK_CLOSE : TCP_CONNTRACK_SYN_SENT;
}

/* Entry i: 2^16-1024 source ports per client address, then the next one. */
static void put_entry(char *at, uint64_t i, uint32_t seq, uint32_t timeout)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
	struct nfgenmsg *nfg;
	struct nlattr *pi, *tcp;
	uint32_t cli = (10u << 24) | (77u << 16) | (uint32_t)(i / 64512 + 1);
	uint32_t srv = (10u << 24) | (78u << 16) | 1u;
	uint16_t sport = (uint16_t)(1024 + i % 64512);

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	ct_ctnl_put_tuple4(nlh, CTA_TUPLE_ORIG, cli, srv, sport, 80);
	ct_ctnl_put_tuple4(nlh, CTA_TUPLE_REPLY, srv, cli, 80, sport);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(timeout));
	/* ctnetlink refuses (EBUSY) a status that would clear CONFIRMED. */
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED | IPS_ASSURED | IPS_SEEN_REPLY));
	pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
	tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
	mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, state_of(i));
	mnl_attr_nest_end(nlh, tcp);
	mnl_attr_nest_end(nlh, pi);
}

/* Errors come back as NLMSG_ERROR messages (no ACKs were asked for). */
static int drain_errors(struct mnl_socket *nl, char *buf, size_t len)
{
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, len, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, (int)n);
		     h = mnl_nlmsg_next(h, (int *)&n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
				if (e->error)
					return e->error;
			}
		}
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 0;
	uint32_t timeout = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 600;
	uint64_t first_i = argc > 3 ? strtoull(argv[3], NULL, 10) : 0, done = first_i;
	static char batch[BATCH_BYTES], rbuf[65536];
	struct mnl_socket *nl;
	double t0 = now_s();
	int ret = 0;

	if (n == 0 || first_i + n > 250u * 64512 || timeout == 0) {
		fprintf(stderr, "usage: ct_table_fill N [TIMEOUT_S [FIRST]]  (FIRST + N <= %u)\n",
			250u * 64512);
		return 2;
	}
	n += first_i;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "ct_table_fill: ctnetlink socket: %s\n", strerror(errno));
		return 1;
	}
	while (done < n && ret == 0) {
		size_t used = 0;
		uint64_t first = done;
		/* ~200 bytes a message: leave room for one more each time. */
		while (done < n && used + 512 < sizeof(batch)) {
			put_entry(batch + used, done, (uint32_t)done, timeout);
			used += ((struct nlmsghdr *)(batch + used))->nlmsg_len;
			done++;
		}
		if (mnl_socket_sendto(nl, batch, used) < 0)
			ret = -errno;
		else
			ret = drain_errors(nl, rbuf, sizeof(rbuf));
		if (ret < 0)
			fprintf(stderr, "ct_table_fill: creating entries %llu..%llu: %s\n",
				(unsigned long long)first, (unsigned long long)done - 1,
				strerror(-ret));
	}
	mnl_socket_close(nl);
	printf("created %llu in %.2f s\n", (unsigned long long)(ret ? 0 : done - first_i),
	       now_s() - t0);
	return ret ? 1 : 0;
}
