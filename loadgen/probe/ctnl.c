#include "loadgen/probe/ctnl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "loadgen/host/netns.h"

/* A dump of a large table arrives in many messages; a bigger buffer means
 * fewer recvmsg() calls per dump. */
#define CTNL_BUF 65536

struct ct_ctnl {
	struct mnl_socket *nl;
	unsigned portid;
	unsigned seq;
	char *buf;
};

static int do_socket(void *p)
{
	struct ct_ctnl *c = p;

	c->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!c->nl)
		return -errno;
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	c->portid = mnl_socket_get_portid(c->nl);
	return 0;
}

struct ct_ctnl *ct_ctnl_new(int nsfd)
{
	struct ct_ctnl *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return NULL;
	c->buf = malloc(CTNL_BUF);
	c->seq = (unsigned)time(NULL);
	if (!c->buf) {
		ct_ctnl_free(c);
		errno = ENOMEM;
		return NULL;
	}
	ret = ct_netns_run(nsfd, do_socket, c);
	if (ret < 0) {
		ct_ctnl_free(c);
		errno = -ret;
		return NULL;
	}
	return c;
}

void ct_ctnl_free(struct ct_ctnl *c)
{
	if (!c)
		return;
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c->buf);
	free(c);
}

/* `go_on`, when given, is asked after each batch of a reply: false stops
 * reading (-ECANCELED); the socket is then mid-dump and cannot be reused. */
static int request(struct ct_ctnl *c, uint8_t msg_type, uint16_t flags, mnl_cb_t cb, void *data,
		   bool (*go_on)(void *), void *arg)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned seq;
	ssize_t n;
	int ret;

	nlh = mnl_nlmsg_put_header(c->buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg_type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq = ++c->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(c->nl, c->buf, CTNL_BUF);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(c->buf, (size_t)n, seq, c->portid, cb, data);
		if (ret < 0)
			return -errno;
		/* A dump ends with NLMSG_DONE, a request with its ACK: both STOP. */
		if (ret == MNL_CB_STOP)
			return 0;
		if (go_on && !go_on(arg))
			return -ECANCELED;
	}
}

static int on_tcp_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= CTA_PROTOINFO_TCP_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int on_protoinfo_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= CTA_PROTOINFO_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int on_ct_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= CTA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int on_entry(const struct nlmsghdr *nlh, void *data)
{
	struct ct_ctnl_states *out = data;
	const struct nlattr *tb[CTA_MAX + 1] = {NULL};
	const struct nlattr *pi[CTA_PROTOINFO_MAX + 1] = {NULL};
	const struct nlattr *tcp[CTA_PROTOINFO_TCP_MAX + 1] = {NULL};
	uint8_t state;

	out->total++;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), on_ct_attr, tb);
	if (!tb[CTA_PROTOINFO] ||
	    mnl_attr_parse_nested(tb[CTA_PROTOINFO], on_protoinfo_attr, pi) < 0 ||
	    !pi[CTA_PROTOINFO_TCP] ||
	    mnl_attr_parse_nested(pi[CTA_PROTOINFO_TCP], on_tcp_attr, tcp) < 0 ||
	    !tcp[CTA_PROTOINFO_TCP_STATE]) {
		out->other++;
		return MNL_CB_OK;
	}
	state = mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_STATE]);
	if (state < sizeof(out->tcp) / sizeof(out->tcp[0]))
		out->tcp[state]++;
	else
		out->other++;
	return MNL_CB_OK;
}

int ct_ctnl_states(struct ct_ctnl *c, struct ct_ctnl_states *out)
{
	return ct_ctnl_states_while(c, out, NULL, NULL);
}

int ct_ctnl_states_while(struct ct_ctnl *c, struct ct_ctnl_states *out, bool (*go_on)(void *),
			 void *arg)
{
	memset(out, 0, sizeof(*out));
	return request(c, IPCTNL_MSG_CT_GET, NLM_F_DUMP, on_entry, out, go_on, arg);
}

static int on_stats_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= CTA_STATS_MAX && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static uint64_t be32_attr(const struct nlattr *a)
{
	return a ? ntohl(mnl_attr_get_u32(a)) : 0;
}

static int on_cpu_stats(const struct nlmsghdr *nlh, void *data)
{
	struct ct_ctnl_stats *s = data;
	const struct nlattr *tb[CTA_STATS_MAX + 1] = {NULL};

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), on_stats_attr, tb);
	s->found += be32_attr(tb[CTA_STATS_FOUND]);
	s->invalid += be32_attr(tb[CTA_STATS_INVALID]);
	s->insert += be32_attr(tb[CTA_STATS_INSERT]);
	s->insert_failed += be32_attr(tb[CTA_STATS_INSERT_FAILED]);
	s->drop += be32_attr(tb[CTA_STATS_DROP]);
	s->early_drop += be32_attr(tb[CTA_STATS_EARLY_DROP]);
	s->error += be32_attr(tb[CTA_STATS_ERROR]);
	s->search_restart += be32_attr(tb[CTA_STATS_SEARCH_RESTART]);
	s->clash_resolve += be32_attr(tb[CTA_STATS_CLASH_RESOLVE]);
	s->chaintoolong += be32_attr(tb[CTA_STATS_CHAIN_TOOLONG]);
	return MNL_CB_OK;
}

static int on_global_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= CTA_STATS_GLOBAL_MAX && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int on_global_stats(const struct nlmsghdr *nlh, void *data)
{
	struct ct_ctnl_stats *s = data;
	const struct nlattr *tb[CTA_STATS_GLOBAL_MAX + 1] = {NULL};

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), on_global_attr, tb);
	s->entries = be32_attr(tb[CTA_STATS_GLOBAL_ENTRIES]);
	s->max_entries = be32_attr(tb[CTA_STATS_GLOBAL_MAX_ENTRIES]);
	return MNL_CB_OK;
}

int ct_ctnl_stats(struct ct_ctnl *c, struct ct_ctnl_stats *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = request(c, IPCTNL_MSG_CT_GET_STATS_CPU, NLM_F_DUMP, on_cpu_stats, out, NULL, NULL);
	if (ret < 0)
		return ret;
	return request(c, IPCTNL_MSG_CT_GET_STATS, NLM_F_ACK, on_global_stats, out, NULL, NULL);
}

void ct_ctnl_put_tuple4(struct nlmsghdr *nlh, int type, uint32_t src, uint32_t dst,
			uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *ip, *pr;

	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(src));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(dst));
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
}
