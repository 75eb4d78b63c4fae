/* preload — [lab] preload: conntrack entries created in the tracking netns
 * when it is built, as a busy firewall's table already holds them.
 *
 * Entries go in over ctnetlink (IPCTNL_MSG_CT_NEW, what `conntrack -I`
 * sends), many messages per sendmsg() and no ACK asked: the kernel answers
 * only the ones it refuses, so 1M entries take seconds, not the minutes of
 * one `conntrack -I` a process. Entry i is TCP
 *   240.A.B.C:(1024 + i % 64512) -> 240.255.255.254:80,  A.B.C = i / 64512 + 1
 * (240.0.0.0/8 is reserved: no lab address, and so no packet of the run,
 * can match one; a lab whose [lab] addresses overlap it is refused).
 *
 * Only ever in a lab netns, never the host's: the entries are journaled
 * before the first is made, and they go with the netns, which every
 * teardown deletes (lab down, a failed run, Ctrl-C, and after a crash the
 * next ctload's recovery). A chain past the kernel's cap refuses an insert
 * (ENOSPC, chaintoolong): those are counted, not fatal, since at 30 or more
 * entries a bucket a few chains always pass it. A full table (ENOMEM:
 * nf_conntrack_max is global) ends the preload with an error naming it. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "common/ctime.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"
#include "loadgen/host/sysctl.h"
#include "loadgen/lab/lab_int.h"
#include "loadgen/probe/ctnl.h"

#define PRELOAD_NET    0xf0000000u /* 240.0.0.0/8 */
#define PRELOAD_SERVER 0xf0fffffeu /* 240.255.255.254 */
#define PRELOAD_PORTS  64512u	   /* source ports 1024..65535 per address */
/* Under the socket's default send buffer (212992), which bounds one
 * sendmsg(); each message is about 200 bytes. */
#define PRELOAD_BATCH	 (128 * 1024)
#define PRELOAD_MSG_ROOM 512

struct preload {
	struct mnl_socket *nl;
	uint64_t asked, sent, refused_chain;
	uint32_t timeout_s;
	uint8_t state;
	char *batch, *rbuf;
};

/* Entry i as one IPCTNL_MSG_CT_NEW at `at`; returns its length. */
static size_t put_entry(const struct preload *p, char *at, uint64_t i)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
	struct nfgenmsg *nfg;
	struct nlattr *pi, *tcp;
	uint32_t cli = PRELOAD_NET + (uint32_t)(i / PRELOAD_PORTS) + 1;
	uint16_t sport = (uint16_t)(1024 + i % PRELOAD_PORTS);

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = (uint32_t)i;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	ct_ctnl_put_tuple4(nlh, CTA_TUPLE_ORIG, cli, PRELOAD_SERVER, sport, 80);
	ct_ctnl_put_tuple4(nlh, CTA_TUPLE_REPLY, PRELOAD_SERVER, cli, 80, sport);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(p->timeout_s));
	/* ASSURED, as a finished or long-lived connection is: early_drop
	 * never evicts them. ctnetlink refuses (EBUSY) a status without
	 * CONFIRMED. */
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED | IPS_ASSURED | IPS_SEEN_REPLY));
	pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
	tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
	mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, p->state);
	mnl_attr_nest_end(nlh, tcp);
	mnl_attr_nest_end(nlh, pi);
	return nlh->nlmsg_len;
}

/* The refusals of the last batch (no ACKs were asked for, so every message
 * back is one). ENOSPC, a chain past its cap, is counted; any other ends
 * the preload. */
static int drain_errors(struct preload *p)
{
	int first = 0;

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(p->nl), p->rbuf, MNL_SOCKET_BUFFER_SIZE * 4,
				 MSG_DONTWAIT);
		int len = (int)n;

		if (n < 0)
			return errno == EAGAIN ? first : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)p->rbuf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			if (h->nlmsg_type != NLMSG_ERROR || !e->error)
				continue;
			if (e->error == -ENOSPC)
				p->refused_chain++;
			else if (!first)
				first = e->error;
		}
	}
}

/* Made inside the netns: a netlink socket keeps the netns it was made in. */
static int open_socket(void *arg)
{
	struct preload *p = arg;
	int one = 1, rcvbuf = 4 << 20;

	p->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!p->nl)
		return -errno;
	if (mnl_socket_bind(p->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	/* Refusals come back without the request they answer, into a buffer
	 * that holds a whole batch of them (each costs ~768 bytes of buffer
	 * accounting: the default 208 KiB would drop some, ENOBUFS, when long
	 * chains refuse many). Root may exceed rmem_max. */
	mnl_socket_setsockopt(p->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(p->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(p->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	return 0;
}

static int send_all(struct preload *p)
{
	int ret = 0;

	while (p->sent < p->asked && ret == 0) {
		size_t used = 0;

		while (p->sent < p->asked && used + PRELOAD_MSG_ROOM < PRELOAD_BATCH)
			used += put_entry(p, p->batch + used, p->sent++);
		if (mnl_socket_sendto(p->nl, p->batch, used) < 0)
			ret = -errno;
		else
			ret = drain_errors(p);
	}
	return ret;
}

/* The netns the preload goes to: conntrack_on's, or the router's for nat. */
enum ct_role ct_lab_preload_role(const struct ct_scenario *sc)
{
	return sc->lab.conntrack_on == CT_CTON_SERVER ? CT_ROLE_SERVER : CT_ROLE_ROUTER;
}

static uint64_t read_u64(int nsfd, const char *key)
{
	char buf[64];

	return ct_sysctl_read(nsfd, key, buf, sizeof(buf)) == 0 ? strtoull(buf, NULL, 10) : 0;
}

/* The global max must hold the preload, with room for the load. */
static int check_max(const struct ct_lab *lab, struct ct_err *err)
{
	uint64_t max = read_u64(-1, "net.netfilter.nf_conntrack_max");
	uint64_t n = lab->sc->lab.preload;

	if (max && n >= max) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s: lab.preload %" PRIu64 " does not fit nf_conntrack_max %" PRIu64
			   " (global, counted per netns): raise net.netfilter.nf_conntrack_max "
			   "in [sysctl.host] above the preload plus the load's entries",
			   lab->sc->path ? lab->sc->path : "scenario", n, max);
		return -EINVAL;
	}
	return 0;
}

static void preload_error(const struct ct_lab *lab, const struct preload *p, int ret,
			  struct ct_err *err)
{
	const char *ns = lab->ns[ct_lab_preload_role(lab->sc)];

	if (ret == -ENOMEM)
		ct_err_set(
		    err, CT_EXIT_ENV,
		    "lab.preload: netns %s: the conntrack table was full after about %" PRIu64
		    " of %" PRIu64 " entries (nf_conntrack_max %" PRIu64
		    " is global): raise net.netfilter.nf_conntrack_max in [sysctl.host]",
		    ns, p->sent, p->asked, read_u64(-1, "net.netfilter.nf_conntrack_max"));
	else
		ct_err_set(err, CT_EXIT_ENV,
			   "lab.preload: netns %s: creating conntrack entries over ctnetlink "
			   "failed after %" PRIu64 " of %" PRIu64 ": %s",
			   ns, p->sent, p->asked, strerror(-ret));
}

int ct_lab_preload(struct ct_lab *lab, struct ct_err *err)
{
	const struct ct_scenario *sc = lab->sc;
	enum ct_role r = ct_lab_preload_role(sc);
	struct preload p = {.asked = sc->lab.preload,
			    .timeout_s = (uint32_t)(sc->lab.preload_timeout_ns / 1000000000ull),
			    .state = sc->lab.preload_state == CT_PRELOAD_ESTABLISHED
					 ? TCP_CONNTRACK_ESTABLISHED
					 : TCP_CONNTRACK_TIME_WAIT};
	uint64_t t0 = ct_now_ns(), before, after;
	int ret;

	lab->preloaded = 0;
	if (!p.asked)
		return 0;
	/* Both /8 or wider: they overlap when one holds the other's base. */
	if ((lab->ap.net & 0xff000000u) == PRELOAD_NET ||
	    (PRELOAD_NET & lab->ap.mask) == lab->ap.net) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s: lab.preload: the preloaded entries use 240.0.0.0/8, which [lab] "
			   "addresses overlaps: the run's traffic could meet them; choose another "
			   "range",
			   sc->path ? sc->path : "scenario");
		return -EINVAL;
	}
	if ((ret = check_max(lab, err)) < 0)
		return ret;
	/* Journaled first: the entries live in a netns the journal deletes. */
	ret = ct_labstate_add_preload(lab->st, lab->ns[r], p.asked);
	if (ret < 0) {
		ct_err_set(err, CT_EXIT_ENV, "recording the conntrack preload: %s", strerror(-ret));
		return ret;
	}
	p.batch = malloc(PRELOAD_BATCH);
	p.rbuf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	ret = p.batch && p.rbuf ? ct_netns_run(lab->nsfd[r], open_socket, &p) : -ENOMEM;
	before = read_u64(lab->nsfd[r], "net.netfilter.nf_conntrack_count");
	if (ret == 0)
		ret = send_all(&p);
	after = read_u64(lab->nsfd[r], "net.netfilter.nf_conntrack_count");
	if (p.nl)
		mnl_socket_close(p.nl);
	free(p.batch);
	free(p.rbuf);
	if (ret < 0) {
		preload_error(lab, &p, ret, err);
		return ret;
	}
	lab->preloaded = after > before ? after - before : 0;
	ct_lab_event(lab,
		     "preload: %" PRIu64 " conntrack entries (%s, %" PRIu32 " s) in netns %s in "
		     "%.2f s; %" PRIu64 " refused by a chain past the kernel's cap (chaintoolong)",
		     lab->preloaded, ct_preload_state_name(sc->lab.preload_state), p.timeout_s,
		     lab->ns[r], (double)(ct_now_ns() - t0) / 1e9, p.refused_chain);
	return 0;
}
