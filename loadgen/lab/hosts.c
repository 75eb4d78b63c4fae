/* hosts — [lab] client_hosts: the clients split over several netns, each
 * its own kernel (its own TCP timestamps, sequence numbers and port choice)
 * with its own link to the router, as real client machines behind one NAT.
 *
 * Host 0 is the client netns (ctl-ID-cli, topo.c); hosts 1..N-1 are
 * ctl-ID-cli1, ... each with veth0 to the router's vcli1, ... Host h holds
 * the client addresses [first[h], first[h] + count[h]) of the plan: the
 * first on veth0, the rest as local routes on lo (as in topo.c). The
 * router keeps its client-side address on each link (as a /32) and routes
 * the host's blocks via the host's first address; host 0's route for the
 * whole client half stays, the longer prefixes win. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"
#include "loadgen/lab/lab_int.h"

void ct_lab_hosts_plan(struct ct_lab *lab)
{
	unsigned n = lab->sc->lab.client_hosts > 1 ? lab->sc->lab.client_hosts : 1;
	size_t clients = lab->n_clients;

	lab->n_hosts = n;
	for (unsigned h = 0; h < n; h++) {
		lab->host_first[h] = h * clients / n;
		lab->host_count[h] = (h + 1) * clients / n - lab->host_first[h];
	}
}

/* "route add A/P via FIRST dev DEV" for host h's addresses but its first,
 * and the /32 of its first: the router's side of host h. */
static size_t router_routes(struct ct_lab *lab, unsigned h, const char *dev, char *buf, size_t cap)
{
	struct ct_lab_block b[CT_LAB_BLOCKS_MAX];
	char a[INET_ADDRSTRLEN], first[INET_ADDRSTRLEN];
	uint32_t f = ct_lab_addr_client(&lab->ap, (unsigned)lab->host_first[h]);
	size_t len, nb;

	ct_lab_addr_str(f, first);
	len = (size_t)snprintf(buf, cap, "route add %s/32 dev %s\n", first, dev);
	nb = lab->host_count[h] > 1
		 ? ct_lab_addr_blocks(f + 1, (uint32_t)lab->host_count[h] - 1, b, CT_LAB_BLOCKS_MAX)
		 : 0;
	for (size_t i = 0; i < nb && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "route add %s/%u via %s dev %s\n",
					ct_lab_addr_str(b[i].net, a), b[i].prefix, first, dev);
	return len < cap ? len : cap - 1;
}

/* Host h's own side: its first address on veth0, the others local, the
 * way to the server through the router. */
static size_t host_script(struct ct_lab *lab, unsigned h, char *buf, size_t cap)
{
	struct ct_lab_block b[CT_LAB_BLOCKS_MAX];
	char a[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];
	uint32_t f = ct_lab_addr_client(&lab->ap, (unsigned)lab->host_first[h]);
	size_t len, nb;

	len = (size_t)snprintf(buf, cap, "addr add %s/%u dev veth0\nlink set veth0 up\n",
			       ct_lab_addr_str(f, a), lab->ap.half_prefix);
	nb = lab->host_count[h] > 1
		 ? ct_lab_addr_blocks(f + 1, (uint32_t)lab->host_count[h] - 1, b, CT_LAB_BLOCKS_MAX)
		 : 0;
	for (size_t i = 0; i < nb && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "route add local %s/%u dev lo\n",
					ct_lab_addr_str(b[i].net, a), b[i].prefix);
	if (len < cap)
		len += (size_t)snprintf(buf + len, cap - len, "route add %s/%u via %s\n",
					ct_lab_addr_str(lab->ap.srv_net, a), lab->ap.half_prefix,
					ct_lab_addr_str(lab->ap.router_cli, r));
	return len < cap ? len : cap - 1;
}

static int build_host(struct ct_lab *lab, unsigned h, char *script, size_t cap, struct ct_err *err)
{
	char dev[16];
	const char *ns = lab->host_ns[h], *rtr = lab->ns[CT_ROLE_ROUTER];
	const char *argv[] = {"ip",   "-n",   ns,     "link", "add",   "veth0", "type",
			      "veth", "peer", "name", dev,    "netns", rtr,	NULL};
	struct ct_err why = {.msg = ""};
	char r[INET_ADDRSTRLEN];
	size_t len;
	int ret;

	snprintf(dev, sizeof(dev), "vcli%u", h);
	if ((ret = ct_labstate_add_netns(lab->st, ns)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "recording netns %s: %s", ns, strerror(-ret));
		return ret;
	}
	if ((ret = ct_netns_add(ns, &why)) < 0 || (ret = ct_exec(-1, argv, NULL, &why)) < 0 ||
	    (host_script(lab, h, script, cap), ret = ct_ip_batch(ns, script, &why)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "building client host %u (netns %s): %s", h + 1, ns,
			   why.msg);
		return ret;
	}
	len = (size_t)snprintf(script, cap, "addr add %s/32 dev %s\nlink set %s up\n",
			       ct_lab_addr_str(lab->ap.router_cli, r), dev, dev);
	router_routes(lab, h, dev, script + len, cap - len);
	if ((ret = ct_ip_batch(rtr, script, &why)) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "the router's link to client host %u (%s): %s", h + 1,
			   dev, why.msg);
		return ret;
	}
	lab->host_fd[h] = ct_netns_open(ns);
	if (lab->host_fd[h] < 0) {
		ct_err_set(err, CT_EXIT_ENV, "opening netns %s: %s", ns,
			   strerror(-lab->host_fd[h]));
		return lab->host_fd[h];
	}
	ct_lab_event(lab, "created netns %s (client host %u of %u: %zu client addresses)", ns,
		     h + 1, lab->n_hosts, lab->host_count[h]);
	return 0;
}

int ct_lab_hosts_build(struct ct_lab *lab, struct ct_err *err)
{
	size_t cap = 8192;
	char *script;
	int ret = 0;

	/* Not owned: topo.c opens and closes the client netns. */
	lab->host_fd[0] = lab->nsfd[CT_ROLE_CLIENT];
	if (lab->n_hosts < 2)
		return 0;
	if (!(script = malloc(cap)))
		return -ENOMEM;
	for (unsigned h = 1; h < lab->n_hosts && ret == 0; h++) {
		snprintf(lab->host_ns[h], sizeof(lab->host_ns[h]), "%scli%u", lab->prefix, h);
		ret = build_host(lab, h, script, cap, err);
	}
	free(script);
	return ret;
}

void ct_lab_hosts_close(struct ct_lab *lab)
{
	for (unsigned h = 1; h < CT_LAB_HOSTS_MAX; h++) {
		if (lab->host_fd[h] >= 0)
			close(lab->host_fd[h]);
		lab->host_fd[h] = -1;
	}
}

int ct_lab_hosts_delete(struct ct_lab *lab, struct ct_err *err)
{
	for (unsigned h = 1; h < lab->n_hosts; h++) {
		int ret = lab->host_ns[h][0] ? ct_netns_del(lab->host_ns[h]) : 0;
		if (ret < 0) {
			ct_err_set(err, CT_EXIT_ENV, "deleting netns %s for a fresh start: %s",
				   lab->host_ns[h], strerror(-ret));
			return ret;
		}
	}
	return 0;
}
