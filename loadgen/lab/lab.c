/* lab — up, down and fresh netns of a lab, and what it reports (lab.h);
 * the parts live in the modules listed in lab_int.h. */
#include "loadgen/lab/lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/sysctl.h"
#include "loadgen/lab/lab_int.h"
#include "loadgen/probe/kmsg.h"

void ct_lab_err_clear(struct ct_err *err)
{
	if (err) {
		err->msg[0] = '\0';
		err->code = CT_EXIT_ENV;
	}
}

static void lab_free(struct ct_lab *lab)
{
	ct_lab_bystander_stop(lab, false);
	ct_lab_sources_close(lab);
	ct_lab_topo_close(lab);
	if (lab->arp_fd >= 0)
		close(lab->arp_fd);
	ct_kmsg_free(lab->kmsg);
	ct_lab_logs_close(lab);
	ct_labstate_free(lab->st);
	ct_scenario_free(lab->sc);
	json_decref(lab->info);
	json_decref(lab->pending_events);
	free(lab->client_addrs);
	free(lab);
}

/* The lab's memory, and the plans made before anything on the host
 * changes. NULL with err on failure. */
static struct ct_lab *lab_new(const struct ct_scenario *sc, struct ct_err *err)
{
	struct ct_lab *lab = calloc(1, sizeof(*lab));

	if (!lab) {
		ct_err_set(err, CT_EXIT_ENV, "out of memory");
		return NULL;
	}
	for (int r = 0; r < CT_ROLE_NLAB; r++)
		lab->nsfd[r] = -1;
	for (int h = 0; h < CT_LAB_HOSTS_MAX; h++)
		lab->host_fd[h] = -1;
	lab->arp_fd = -1;
	lab->pending_events = json_array();
	lab->sc = ct_scenario_dup(sc);
	if (!lab->sc || !lab->pending_events) {
		ct_err_set(err, CT_EXIT_ENV, "out of memory");
		goto fail;
	}
	if (ct_lab_addr_plan(sc->lab.addresses, sc->lab.clients, &lab->ap, err) < 0)
		goto fail;
	if (sc->lab.bystander > 0 && sc->lab.clients >= ct_lab_addr_max_clients(&lab->ap)) {
		ct_err_set(err, CT_EXIT_USAGE,
			   "%s: [lab] clients = %u leaves no address for the bystander (the "
			   "last of the %u the range holds); use %u clients or a wider [lab] "
			   "addresses",
			   sc->path ? sc->path : "scenario", sc->lab.clients,
			   ct_lab_addr_max_clients(&lab->ap), ct_lab_addr_max_clients(&lab->ap) - 1);
		goto fail;
	}
	ct_lab_ctserver_cfg_from(sc, &lab->srv);
	return lab;
fail:
	lab_free(lab);
	errno = EINVAL;
	return NULL;
}

/* The client and server addresses of the plan as the engine takes them. */
static int set_addrs(struct ct_lab *lab, const struct ct_scenario *sc)
{
	lab->n_clients = sc->lab.clients;
	lab->client_addrs = calloc(lab->n_clients, sizeof(*lab->client_addrs));
	if (!lab->client_addrs)
		return -ENOMEM;
	for (size_t i = 0; i < lab->n_clients; i++)
		ct_lab_addr_sockaddr(ct_lab_addr_client(&lab->ap, (unsigned)i), 0,
				     &lab->client_addrs[i]);
	ct_lab_addr_sockaddr(lab->ap.server, sc->server.port_lo, &lab->server_addr);
	ct_lab_hosts_plan(lab);
	return 0;
}

/* The netns and all that lives in them, at up and for a fresh netns. */
static int build_netns(struct ct_lab *lab, struct ct_err *err)
{
	int ret = ct_lab_topo_build(lab, err);

	if (ret == 0)
		ret = ct_lab_sysctls_apply_netns(lab, lab->sc, err);
	if (ret == 0)
		ret = ct_lab_sources_open(lab, err);
	if (ret == 0)
		ret = ct_lab_preload(lab, err);
	if (ret == 0)
		ret = ct_lab_ctserver_start(lab, err);
	/* After the preload: drain waits for the count to come back to it. */
	if (ret == 0)
		ret = ct_lab_bystander_start(lab, err);
	if (ret == 0 && lab->bys)
		lab->sources[lab->n_sources++] = (struct ct_sample_source){
		    .name = "bystander", .fill = ct_lab_bystander_fill, .ctx = lab->bys};
	if (ret == 0)
		ct_lab_sources_record_base(lab);
	return ret;
}

int ct_lab_set_info(struct ct_lab *lab)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], clients[64], server[64];
	const struct ct_scenario *sc = lab->sc;
	const struct ct_lab_ctserver_cfg *srv = &lab->srv;

	ct_lab_addr_str(ct_lab_addr_client(&lab->ap, 0), a);
	ct_lab_addr_str(ct_lab_addr_client(&lab->ap, (unsigned)lab->n_clients - 1), b);
	if (lab->n_clients > 1)
		snprintf(clients, sizeof(clients), "%s-%s", a, b);
	else
		snprintf(clients, sizeof(clients), "%s", a);
	ct_lab_addr_str(lab->ap.server, a);
	if (srv->port_hi > srv->port_lo)
		snprintf(server, sizeof(server), "%s:%u-%u", a, srv->port_lo, srv->port_hi);
	else
		snprintf(server, sizeof(server), "%s:%u", a, srv->port_lo);
	json_decref(lab->info);
	lab->info =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "id", lab->id,
		      "scenario", sc->path ? sc->path : "", "path", ct_lab_path_name(sc->lab.path),
		      "conntrack_on", ct_ct_on_name(sc->lab.conntrack_on), "clients", clients,
		      "server", server, "server_engine", ct_srv_engine_name(srv->engine),
		      "server_mode", ct_srv_mode_name(srv->mode), "server_close",
		      ct_srv_close_name(srv->close), "server_pid", (int)lab->server_pid,
		      "server_log", lab->server_log, "events_log", lab->events_log);
	if (!lab->info)
		return -ENOMEM;
	{
		json_t *ns = json_object();
		for (int r = 0; r < CT_ROLE_NLAB; r++)
			if (lab->ns[r][0])
				json_object_set_new(ns, ct_role_name((enum ct_role)r),
						    json_string(lab->ns[r]));
		for (unsigned h = 1; h < lab->n_hosts; h++) {
			char role[24];
			snprintf(role, sizeof(role), "client%u", h + 1);
			json_object_set_new(ns, role, json_string(lab->host_ns[h]));
		}
		if (lab->bys_ns[0])
			json_object_set_new(ns, "bystander", json_string(lab->bys_ns));
		json_object_set_new(lab->info, "netns", ns);
	}
	if (sc->lab.preload)
		json_object_set_new(
		    lab->info, "preload",
		    json_pack("{s:s, s:I, s:I, s:s, s:I}", "netns",
			      lab->ns[ct_lab_preload_role(sc)], "asked",
			      (json_int_t)sc->lab.preload, "created", (json_int_t)lab->preloaded,
			      "state", ct_preload_state_name(sc->lab.preload_state), "timeout_s",
			      (json_int_t)(sc->lab.preload_timeout_ns / 1000000000ull)));
	return ct_labstate_set_info(lab->st, lab->info);
}

struct ct_lab *ct_lab_up(const struct ct_scenario *sc, const char *run_dir, struct ct_err *err)
{
	struct ct_lab *lab;
	int ret;

	ct_lab_err_clear(err);
	if (ct_lab_topo_check(sc, err) < 0) {
		errno = EINVAL;
		return NULL;
	}
	lab = lab_new(sc, err);
	if (!lab)
		return NULL;
	ret = ct_labstate_recover_stale();
	if (ret < 0)
		ct_warn("recovering labs left by crashed runs: %s", strerror(-ret));
	if (ct_lab_topo_ensure_conntrack(sc, err) < 0 || ct_lab_topo_new_id(lab, NULL, err) < 0) {
		lab_free(lab);
		errno = EINVAL;
		return NULL;
	}
	if (ct_lab_logs_open(lab, run_dir, err) < 0)
		goto fail;
	/* The DPDK EAL leaves /var/run/dpdk/<prefix> behind: journalled
	 * before it exists, so a crash's recovery removes it too. */
	if (sc->load.engine == CT_ENGINE_DPDK) {
		snprintf(lab->dpdk_prefix, sizeof(lab->dpdk_prefix), "ctload-%s", lab->id);
		if ((ret = ct_labstate_add_dpdk_dir(lab->st, lab->dpdk_prefix)) < 0) {
			ct_err_set(err, CT_EXIT_ENV, "recording the DPDK runtime directory: %s",
				   strerror(-ret));
			goto fail;
		}
	}
	/* The responder is a second DPDK process: a prefix of its own. */
	if (sc->server.engine == CT_SRVENG_RESPONDER_DPDK) {
		snprintf(lab->dpdk_srv_prefix, sizeof(lab->dpdk_srv_prefix), "ctload-%s-srv",
			 lab->id);
		if ((ret = ct_labstate_add_dpdk_dir(lab->st, lab->dpdk_srv_prefix)) < 0) {
			ct_err_set(err, CT_EXIT_ENV, "recording the DPDK runtime directory: %s",
				   strerror(-ret));
			goto fail;
		}
	}
	ct_lab_event(lab, "lab %s up for %s (path=%s, conntrack_on=%s, clients=%u)", lab->id,
		     sc->path ? sc->path : "scenario", ct_lab_path_name(sc->lab.path),
		     ct_ct_on_name(sc->lab.conntrack_on), sc->lab.clients);
	if (set_addrs(lab, sc) < 0)
		goto fail;
	/* Host settings first: they are the ones a crash must not leave behind,
	 * and the journal has them before anything else can fail. */
	if (ct_lab_sysctls_apply(lab, CT_SYSCTL_HOST, &sc->sysctl[CT_SYSCTL_HOST], err) < 0)
		goto fail;
	if (build_netns(lab, err) < 0)
		goto fail;
	ct_lab_sources_start(lab);
	if (ct_lab_set_info(lab) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "writing the lab state: out of memory");
		goto fail;
	}
	ct_lab_step_begin(lab);
	return lab;
fail:
	if (!err || !err->msg[0])
		ct_err_set(err, CT_EXIT_ENV, "building the lab failed: %s", strerror(errno));
	ct_lab_down(lab);
	errno = EIO;
	return NULL;
}

int ct_lab_down(struct ct_lab *lab)
{
	int ret = 0;

	if (!lab)
		return 0;
	ct_lab_bystander_stop(lab, false);
	ct_lab_sources_close(lab);
	ct_lab_topo_close(lab);
	if (lab->st) {
		ct_lab_event(lab, "lab %s down", lab->id);
		ct_lab_logs_close(lab);
		ret = ct_labstate_rollback(lab->st, false, NULL);
	}
	lab_free(lab);
	return ret;
}

int ct_lab_detach(struct ct_lab *lab)
{
	int ret = ct_labstate_set_persistent(lab->st, true);

	if (ret < 0)
		return ret;
	lab_free(lab);
	return 0;
}

int ct_lab_fresh(struct ct_lab *lab, struct ct_err *err)
{
	uint64_t t0 = ct_now_ns();
	int ret;

	ct_lab_err_clear(err);
	ct_lab_ctserver_stop(lab);
	ct_lab_bystander_stop(lab, true);
	ct_lab_sources_close(lab);
	ct_lab_topo_close(lab);
	ret = ct_lab_topo_delete(lab, err);
	if (ret < 0)
		return ret;
	ct_lab_event(lab, "fresh netns: rebuilding the lab");
	ret = build_netns(lab, err);
	if (ret < 0)
		return ret;
	ct_lab_set_info(lab);
	ct_lab_event(lab, "fresh netns: rebuilt in %.2f s", (double)(ct_now_ns() - t0) / 1e9);
	return ct_lab_step_begin(lab);
}

/* ---- what the lab reports ------------------------------------------------------ */

const char *ct_lab_id(const struct ct_lab *lab)
{
	return lab->id;
}

const char *ct_lab_netns(const struct ct_lab *lab, enum ct_role role)
{
	return lab->ns[role][0] ? lab->ns[role] : NULL;
}

int ct_lab_client_netns_fd(const struct ct_lab *lab)
{
	return lab->nsfd[CT_ROLE_CLIENT];
}

const struct sockaddr_storage *ct_lab_client_addrs(const struct ct_lab *lab, size_t *n)
{
	*n = lab->n_clients;
	return lab->client_addrs;
}

void ct_lab_server_addr(const struct ct_lab *lab, struct sockaddr_storage *out, uint16_t *port_lo,
			uint16_t *port_hi)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	*out = lab->server_addr;
	sin->sin_port = htons(lab->srv.port_lo);
	*port_lo = lab->srv.port_lo;
	*port_hi = lab->srv.port_hi;
}

void ct_lab_target(const struct ct_lab *lab, struct ct_trial_target *t)
{
	memset(t, 0, sizeof(*t));
	ct_lab_server_addr(lab, &t->dst, &t->port_lo, &t->port_hi);
	t->src = lab->client_addrs;
	t->n_src = lab->n_clients;
	t->netns_fd = lab->nsfd[CT_ROLE_CLIENT];
	if (lab->n_hosts > 1) {
		t->hosts.n = lab->n_hosts;
		t->hosts.fd = lab->host_fd;
		t->hosts.first = lab->host_first;
		t->hosts.count = lab->host_count;
	}
	/* A packet engine sends on the client veth itself, to the server on
	 * one link or else to the router. */
	t->ifname = "veth0";
	t->dpdk_prefix = lab->dpdk_prefix[0] ? lab->dpdk_prefix : NULL;
	ct_lab_addr_sockaddr(lab->sc->lab.path == CT_PATH_DIRECT ? lab->ap.server
								 : lab->ap.router_cli,
			     0, &t->gateway);
}

uint64_t ct_lab_tuple_space(const struct ct_lab *lab)
{
	char range[64];
	unsigned lo = 32768, hi = 60999;
	uint16_t plo, phi;
	struct sockaddr_storage ss;

	if (lab->nsfd[CT_ROLE_CLIENT] >= 0 &&
	    ct_sysctl_read(lab->nsfd[CT_ROLE_CLIENT], "net.ipv4.ip_local_port_range", range,
			   sizeof(range)) == 0)
		sscanf(range, "%u %u", &lo, &hi);
	ct_lab_server_addr(lab, &ss, &plo, &phi);
	return (uint64_t)lab->n_clients * (uint64_t)(phi - plo + 1) *
	       (uint64_t)(hi >= lo ? hi - lo + 1 : 0);
}

json_t *ct_lab_info(const struct ct_lab *lab)
{
	return lab->info;
}
