/* topo — the lab's netns (named with the lab id and a role suffix), the
 * veths between them, their addresses and routes, and the nft rules that
 * switch conntrack on or masquerade. All through iproute2 and nft
 * (host/netns.h); each netns is journaled before it is created. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"
#include "loadgen/host/sysctl.h"
#include "loadgen/lab/lab_int.h"

/* The netns name suffix of each role: ctl-ID-cli, ctl-ID-srv, ctl-ID-rtr. */
static const char *const role_suffix[CT_ROLE_NLAB] = {
    [CT_ROLE_CLIENT] = "cli",
    [CT_ROLE_SERVER] = "srv",
    [CT_ROLE_ROUTER] = "rtr",
};

bool ct_lab_packet_engine(const struct ct_scenario *sc)
{
	return sc->load.engine != CT_ENGINE_KERNEL;
}

static bool has_role(const struct ct_scenario *sc, enum ct_role r)
{
	return r != CT_ROLE_ROUTER || sc->lab.path != CT_PATH_DIRECT;
}

int ct_lab_topo_check(const struct ct_scenario *sc, struct ct_err *err)
{
	if (sc->scenario.topology != CT_TOPO_LAB) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s: topology = %s: the lab is built only for "
			   "topology = lab",
			   sc->path ? sc->path : "scenario",
			   ct_topology_name(sc->scenario.topology));
		return -EINVAL;
	}
	if (sc->lab.path == CT_PATH_DIRECT && sc->lab.conntrack_on == CT_CTON_ROUTER) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s: [lab] conntrack_on = router needs path = router "
			   "or nat (path = direct has no router)",
			   sc->path ? sc->path : "scenario");
		return -EINVAL;
	}
	if (sc->lab.client_hosts > 1 &&
	    (sc->lab.path == CT_PATH_DIRECT || ct_lab_packet_engine(sc) ||
	     sc->lab.clients < sc->lab.client_hosts)) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s: [lab] client_hosts = %u needs path = router or nat (each host "
			   "has a link to the router), [load] engine = kernel, and at least as "
			   "many clients (%u)",
			   sc->path ? sc->path : "scenario", sc->lab.client_hosts,
			   sc->lab.clients);
		return -EINVAL;
	}
	if (sc->lab.path == CT_PATH_DIRECT && sc->lab.bystander > 0) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s: [lab] bystander needs path = router or nat (it joins the "
			   "router beside the clients; path = direct has no router)",
			   sc->path ? sc->path : "scenario");
		return -EINVAL;
	}
	if (sc->lab.path == CT_PATH_DIRECT && sc->sysctl[CT_SYSCTL_ROUTER].n) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s:%d: [sysctl.router] is set but path = direct has "
			   "no router; use path = router or nat",
			   sc->path ? sc->path : "scenario",
			   sc->sysctl[CT_SYSCTL_ROUTER].v[0].line);
		return -EINVAL;
	}
	return 0;
}

/* nf_conntrack must be there when anything tracks or a netfilter key is set. */
static bool needs_conntrack(const struct ct_scenario *sc)
{
	if (sc->lab.conntrack_on != CT_CTON_NONE || sc->lab.path == CT_PATH_NAT)
		return true;
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++)
		for (size_t i = 0; i < sc->sysctl[s].n; i++)
			if (!strncmp(sc->sysctl[s].v[i].key, "net.netfilter.", 14))
				return true;
	return false;
}

int ct_lab_topo_ensure_conntrack(const struct ct_scenario *sc, struct ct_err *err)
{
	const char *argv[] = {"modprobe", "nf_conntrack", NULL};
	struct ct_err why = {.msg = ""};

	if (access("/proc/sys/net/netfilter/nf_conntrack_max", F_OK) == 0)
		return 0;
	if (!needs_conntrack(sc))
		return 0;
	if (ct_exec(-1, argv, NULL, &why) == 0 &&
	    access("/proc/sys/net/netfilter/nf_conntrack_max", F_OK) == 0) {
		ct_note("loaded the nf_conntrack module (it stays loaded)");
		return 0;
	}
	ct_err_set(err, CT_EXIT_ENV,
		   "conntrack is not available: /proc/sys/net/netfilter/nf_conntrack_max is "
		   "missing and 'modprobe nf_conntrack' failed (%s); this kernel needs "
		   "CONFIG_NF_CONNTRACK, or set [lab] conntrack_on = none",
		   why.msg[0] ? why.msg : "no message");
	return -ENOENT;
}

int ct_lab_topo_new_id(struct ct_lab *lab, const char *state_dir, struct ct_err *err)
{
	for (int tries = 0; tries < 16; tries++) {
		uint16_t r;
		bool clash = false;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint16_t)(getpid() ^ (unsigned)time(NULL) ^ (unsigned)tries);
		snprintf(lab->id, sizeof(lab->id), "%04x", r);
		snprintf(lab->prefix, sizeof(lab->prefix), "ctl-%s-", lab->id);
		for (int i = 0; i < CT_ROLE_NLAB; i++) {
			char name[64];
			snprintf(name, sizeof(name), "%s%s", lab->prefix, role_suffix[i]);
			if (ct_netns_exists(name))
				clash = true;
		}
		if (clash)
			continue;
		lab->st = ct_labstate_create(state_dir, lab->id);
		if (lab->st)
			return 0;
		if (errno != EEXIST) {
			ct_err_set(err, CT_EXIT_ENV,
				   "cannot create the lab state file in %s: %s (ctload lab needs "
				   "root)",
				   state_dir ? state_dir : CT_LABSTATE_DIR, strerror(errno));
			return -errno;
		}
	}
	ct_err_set(err, CT_EXIT_ENV, "no free lab id after 16 tries; run 'ctload lab down --all'");
	return -EEXIST;
}

static int make_netns(struct ct_lab *lab, enum ct_role r, struct ct_err *err)
{
	struct ct_err why = {.msg = ""};
	int ret;

	snprintf(lab->ns[r], sizeof(lab->ns[r]), "%s%s", lab->prefix, role_suffix[r]);
	ret = ct_labstate_add_netns(lab->st, lab->ns[r]);
	if (ret < 0) {
		ct_err_set(err, CT_EXIT_ENV, "recording netns %s: %s", lab->ns[r], strerror(-ret));
		return ret;
	}
	ret = ct_netns_add(lab->ns[r], &why);
	if (ret < 0) {
		ct_err_set(err, CT_EXIT_ENV, "creating netns %s: %s", lab->ns[r], why.msg);
		return ret;
	}
	lab->nsfd[r] = ct_netns_open(lab->ns[r]);
	if (lab->nsfd[r] < 0) {
		ret = lab->nsfd[r];
		ct_err_set(err, CT_EXIT_ENV, "opening netns %s: %s", lab->ns[r], strerror(-ret));
		return ret;
	}
	ct_lab_event(lab, "created netns %s (%s)", lab->ns[r], ct_role_name(r));
	return 0;
}

/* Create a veth pair a<->b with one end in each netns. */
static int veth(struct ct_lab *lab, enum ct_role ra, const char *a, enum ct_role rb, const char *b,
		struct ct_err *err)
{
	const char *argv[] = {"ip",   "-n",   lab->ns[ra], "link", "add",   a,		 "type",
			      "veth", "peer", "name",	   b,	   "netns", lab->ns[rb], NULL};
	struct ct_err why = {.msg = ""};
	int ret = ct_exec(-1, argv, NULL, &why);

	if (ret < 0)
		ct_err_set(err, CT_EXIT_ENV, "creating veth %s/%s between %s and %s: %s", a, b,
			   lab->ns[ra], lab->ns[rb], why.msg);
	return ret;
}

int ct_lab_topo_batch(struct ct_lab *lab, enum ct_role r, const char *script, struct ct_err *err)
{
	struct ct_err why = {.msg = ""};
	int ret = ct_ip_batch(lab->ns[r], script, &why);

	if (ret < 0)
		ct_err_set(err, CT_EXIT_ENV, "configuring netns %s: %s", lab->ns[r], why.msg);
	return ret;
}

size_t ct_lab_topo_client_routes(const struct ct_lab_addr *ap, unsigned n, bool add, char *buf,
				 size_t cap)
{
	struct ct_lab_block b[CT_LAB_BLOCKS_MAX];
	char a[INET_ADDRSTRLEN];
	size_t nb, len = 0;

	/* Client 0 is veth0's own address (its local route comes with it);
	 * the rest are local routes on lo, so the kernel accepts and binds
	 * them as its own (AnyIP) without an address, or a neighbour entry
	 * anywhere, per client. */
	if (n < 2)
		return 0;
	nb = ct_lab_addr_blocks(ct_lab_addr_client(ap, 1), n - 1, b, CT_LAB_BLOCKS_MAX);
	for (size_t i = 0; i < nb && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "route %s local %s/%u dev lo\n",
					add ? "add" : "del", ct_lab_addr_str(b[i].net, a),
					b[i].prefix);
	return len < cap ? len : cap - 1;
}

/* The client netns: client 0 on veth0, the rest as local routes, the way to
 * the server. */
static int client_links(struct ct_lab *lab, char *script, size_t cap, struct ct_err *err)
{
	const struct ct_lab_addr *ap = &lab->ap;
	bool direct = lab->sc->lab.path == CT_PATH_DIRECT;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t len;

	/* A packet engine owns the client addresses itself (it answers ARP
	 * for them): on the interface the kernel would answer its segments
	 * with RSTs, and without an address there no gateway route holds. */
	if (ct_lab_packet_engine(lab->sc))
		return ct_lab_topo_batch(lab, CT_ROLE_CLIENT, "link set veth0 up\n", err);
	len = (size_t)snprintf(script, cap, "addr add %s/%u dev veth0\nlink set veth0 up\n",
			       ct_lab_addr_str(ct_lab_addr_client(ap, 0), a),
			       ct_lab_addr_link_prefix(ap, direct));
	/* Host 0's own addresses: all of them unless [lab] client_hosts splits
	 * them (hosts.c). */
	len += ct_lab_topo_client_routes(ap, (unsigned)lab->host_count[0], true, script + len,
					 cap - len);
	if (!direct)
		snprintf(script + len, cap - len, "route add %s/%u via %s\n",
			 ct_lab_addr_str(ap->srv_net, a), ap->half_prefix,
			 ct_lab_addr_str(ap->router_cli, b));
	return ct_lab_topo_batch(lab, CT_ROLE_CLIENT, script, err);
}

/* "route add CLIENTS via CLIENT0": the side facing the client reaches the
 * whole client half through one next hop, so its neighbour table holds one
 * entry, not one per client (the table is global: gc_thresh3). */
static size_t via_client0(const struct ct_lab_addr *ap, const char *dev, char *buf, size_t cap)
{
	char a[INET_ADDRSTRLEN], c0[INET_ADDRSTRLEN];

	ct_lab_addr_str(ct_lab_addr_client(ap, 0), c0);
	return (size_t)snprintf(buf, cap, "route add %s/32 dev %s\nroute add %s/%u via %s dev %s\n",
				c0, dev, ct_lab_addr_str(ap->cli_net, a), ap->half_prefix, c0,
				dev);
}

static int build_links(struct ct_lab *lab, struct ct_err *err)
{
	const struct ct_scenario *sc = lab->sc;
	const struct ct_lab_addr *ap = &lab->ap;
	size_t cap = 8192, len;
	char *script = malloc(cap), a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	int ret;

	if (!script)
		return -ENOMEM;
	if (sc->lab.path == CT_PATH_DIRECT) {
		ret = veth(lab, CT_ROLE_CLIENT, "veth0", CT_ROLE_SERVER, "veth0", err);
	} else {
		ret = veth(lab, CT_ROLE_CLIENT, "veth0", CT_ROLE_ROUTER, "vcli", err);
		if (ret == 0)
			ret = veth(lab, CT_ROLE_SERVER, "veth0", CT_ROLE_ROUTER, "vsrv", err);
	}
	if (ret == 0)
		ret = client_links(lab, script, cap, err);
	if (ret < 0)
		goto out;

	len = (size_t)snprintf(script, cap, "addr add %s/%u dev veth0\nlink set veth0 up\n",
			       ct_lab_addr_str(ap->server, a), ap->half_prefix);
	/* The responder owns the server address as a packet engine owns the
	 * client's: on the veth, the kernel would answer its segments with
	 * RSTs and its ARP requests too (docs/ARCHITECTURE.md). */
	if (sc->server.engine != CT_SRVENG_CTSERVER)
		snprintf(script, cap, "link set veth0 up\n");
	/* Under NAT the server sees only the router's address: no route back. */
	else if (sc->lab.path == CT_PATH_ROUTER)
		snprintf(script + len, cap - len, "route add %s/%u via %s\n",
			 ct_lab_addr_str(ap->cli_net, a), ap->half_prefix,
			 ct_lab_addr_str(ap->router_srv, b));
	else if (sc->lab.path == CT_PATH_DIRECT)
		via_client0(ap, "veth0", script + len, cap - len);
	ret = ct_lab_topo_batch(lab, CT_ROLE_SERVER, script, err);
	if (ret < 0 || sc->lab.path == CT_PATH_DIRECT)
		goto out;

	/* The router's client side is a /32: the client half is not on-link
	 * (which would mean a neighbour entry per client), it is via client 0. */
	len = (size_t)snprintf(script, cap, "addr add %s/32 dev vcli\n",
			       ct_lab_addr_str(ap->router_cli, a));
	len += (size_t)snprintf(script + len, cap - len,
				"addr add %s/%u dev vsrv\nlink set vcli up\nlink set vsrv up\n",
				ct_lab_addr_str(ap->router_srv, a), ap->half_prefix);
	via_client0(ap, "vcli", script + len, cap - len);
	ret = ct_lab_topo_batch(lab, CT_ROLE_ROUTER, script, err);
out:
	free(script);
	return ret;
}

static int build_rules(struct ct_lab *lab, struct ct_err *err)
{
	const struct ct_scenario *sc = lab->sc;
	char rules[1024], a[INET_ADDRSTRLEN];
	struct ct_err nft = {.msg = ""};
	int ret;

	if (sc->lab.path != CT_PATH_DIRECT) {
		ret = ct_sysctl_apply(lab->st, "router", lab->nsfd[CT_ROLE_ROUTER],
				      lab->ns[CT_ROLE_ROUTER], "net.ipv4.ip_forward", "1", err);
		if (ret < 0)
			return ret;
	}
	if (sc->lab.conntrack_on != CT_CTON_NONE) {
		enum ct_role r =
		    sc->lab.conntrack_on == CT_CTON_SERVER ? CT_ROLE_SERVER : CT_ROLE_ROUTER;
		const char *hook = r == CT_ROLE_SERVER ? "input" : "forward";

		/* A stateful rule is what makes conntrack track in a netns; the
		 * same effect as iptables -m state --state ESTABLISHED,RELATED. */
		snprintf(rules, sizeof(rules),
			 "table inet ctload {\n"
			 "  chain %s {\n"
			 "    type filter hook %s priority filter; policy accept;\n"
			 "    ct state established,related accept\n"
			 "  }\n"
			 "}\n",
			 hook, hook);
		ret = ct_nft_apply(lab->nsfd[r], rules, &nft);
		if (ret < 0) {
			ct_err_set(err, CT_EXIT_ENV, "nft rules in %s: %s", lab->ns[r], nft.msg);
			return ret;
		}
		ct_lab_event(lab, "conntrack on in %s (nft ct state rule on %s)", lab->ns[r], hook);
	}
	if (sc->lab.path == CT_PATH_NAT) {
		snprintf(rules, sizeof(rules),
			 "table ip ctload_nat {\n"
			 "  chain postrouting {\n"
			 "    type nat hook postrouting priority srcnat; policy accept;\n"
			 "    oifname \"vsrv\" ip saddr %s/%u masquerade\n"
			 "  }\n"
			 "}\n",
			 ct_lab_addr_str(lab->ap.cli_net, a), lab->ap.half_prefix);
		ret = ct_nft_apply(lab->nsfd[CT_ROLE_ROUTER], rules, &nft);
		if (ret < 0) {
			ct_err_set(err, CT_EXIT_ENV, "nft masquerade in %s: %s",
				   lab->ns[CT_ROLE_ROUTER], nft.msg);
			return ret;
		}
		ct_lab_event(lab, "masquerade of %s/%u on %s", a, lab->ap.half_prefix,
			     lab->ns[CT_ROLE_ROUTER]);
	}
	return 0;
}

int ct_lab_topo_build(struct ct_lab *lab, struct ct_err *err)
{
	int ret;

	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (!has_role(lab->sc, (enum ct_role)r))
			continue;
		ret = make_netns(lab, (enum ct_role)r, err);
		if (ret < 0)
			return ret;
	}
	ret = build_links(lab, err);
	if (ret == 0)
		ret = ct_lab_hosts_build(lab, err);
	if (ret == 0)
		ret = build_rules(lab, err);
	return ret;
}

int ct_lab_topo_delete(struct ct_lab *lab, struct ct_err *err)
{
	if (ct_lab_hosts_delete(lab, err) < 0)
		return -EIO;
	for (int r = CT_ROLE_NLAB - 1; r >= 0; r--) {
		int ret;

		if (!lab->ns[r][0])
			continue;
		ret = ct_netns_del(lab->ns[r]);
		if (ret < 0) {
			ct_err_set(err, CT_EXIT_ENV, "deleting netns %s for a fresh start: %s",
				   lab->ns[r], strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void ct_lab_topo_close(struct ct_lab *lab)
{
	ct_lab_hosts_close(lab);
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (lab->nsfd[r] >= 0)
			close(lab->nsfd[r]);
		lab->nsfd[r] = -1;
	}
}

/* Does conntrack track in netns `r` (see build_rules)? */
bool ct_lab_topo_tracks(const struct ct_lab *lab, enum ct_role r)
{
	const struct ct_scenario *sc = lab->sc;

	if (r == CT_ROLE_SERVER)
		return sc->lab.conntrack_on == CT_CTON_SERVER;
	if (r == CT_ROLE_ROUTER)
		return sc->lab.conntrack_on == CT_CTON_ROUTER || sc->lab.path == CT_PATH_NAT;
	return false;
}
