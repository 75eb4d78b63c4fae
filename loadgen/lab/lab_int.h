/* lab_int — what the lab's own modules share: the lab itself and the calls
 * between them. Nothing outside loadgen/lab/ includes this.
 *
 *   lab.c       up, down, fresh netns, and what the lab reports (lab.h)
 *   addr.c      the address plan (pure, addr.h)
 *   logs.c      where server.log and events.log go; events.log's lines
 *   topo.c      the netns, their veths and addresses, the nft rules
 *   sysctls.c   [sysctl.*], journaled: at up, per step, in a fresh netns
 *   ctserver.c  the ctserver process: its settings, start and end
 *   sources.c   the netns samplers and kernel log lines as sample sources
 *   step.c      per step: ctserver's settings, client addresses, the
 *               topology that may not change
 *   drain.c     cooldown = drain
 *   hosts.c     [lab] client_hosts: the clients split over several netns
 *   bystander.c [lab] bystander: a third party's connects, in a netns of
 *               its own behind the router
 *   preload.c   [lab] preload: conntrack entries made over ctnetlink */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include "loadgen/lab/addr.h"
#include "loadgen/lab/lab.h"

struct ct_bystander;
struct ct_kmsg;
struct ct_labstate;
struct ct_sampler;

/* What ctserver runs with: the [server] keys of the last ct_lab_set_server()
 * (or of ct_lab_up), kept apart from `sc`, which ct_lab_apply_sysctls()
 * replaces with each sweep point before the server follows it. */
struct ct_lab_ctserver_cfg {
	enum ct_srv_engine engine; /* ctserver, or the stateless responder */
	enum ct_srv_mode mode;
	uint16_t port_lo, port_hi;
	enum ct_srv_close close;
	uint64_t close_delay_ns;
	unsigned workers;
	int backlog;
	uint64_t body; /* mode http */
};

/* [lab] client_hosts at most. */
#define CT_LAB_HOSTS_MAX 64

struct ct_lab {
	char id[16];
	char prefix[32];
	char dpdk_prefix[32]; /* engine = dpdk: the EAL's --file-prefix; "" otherwise */
	char dpdk_srv_prefix[40]; /* [server] engine = responder-dpdk: the responder's */
	char ns[CT_ROLE_NLAB][32]; /* "" when the role does not exist */
	int nsfd[CT_ROLE_NLAB];
	struct ct_labstate *st;
	struct ct_scenario *sc; /* the last applied settings */
	struct ct_lab_addr ap;
	struct sockaddr_storage *client_addrs;
	size_t n_clients;
	struct sockaddr_storage server_addr;
	/* Client hosts (hosts.c): host 0 is ns[CT_ROLE_CLIENT]; 1..n_hosts-1
	 * have netns of their own. Host h holds client_addrs[host_first[h]]
	 * and the host_count[h] - 1 after it. */
	unsigned n_hosts;
	char host_ns[CT_LAB_HOSTS_MAX][48];
	int host_fd[CT_LAB_HOSTS_MAX]; /* [0]: a copy of nsfd[CT_ROLE_CLIENT] */
	size_t host_first[CT_LAB_HOSTS_MAX], host_count[CT_LAB_HOSTS_MAX];
	char server_log[512], events_log[512];
	FILE *events;
	pid_t server_pid;
	struct ct_lab_ctserver_cfg srv;
	uint64_t ct_base[CT_ROLE_NLAB]; /* ct.count right after the netns were built */
	uint64_t preloaded; /* [lab] preload: entries the kernel took (preload.c) */
	struct ct_sampler *samplers[CT_ROLE_NLAB];
	struct ct_kmsg *kmsg;
	struct ct_sample_source sources[CT_ROLE_NLAB + 3];
	size_t n_sources;
	struct ct_sample_source hooks[1];
	json_t *info;
	char bys_ns[40];	  /* [lab] bystander's netns; "" without one */
	struct ct_bystander *bys; /* its thread and counts; NULL without one */
	json_t *pending_events; /* kernel lines seen since the last sample */
	/* /proc/net/stat/arp_cache, opened in ctload's own netns: the only
	 * one that has it, for the neighbour table is one for all netns. */
	int arp_fd;
	uint64_t neigh_base[2], neigh_prev[2]; /* table_fulls, unresolved_discards */
};

/* lab.c: an API entry starts from an empty message and CT_EXIT_ENV. */
void ct_lab_err_clear(struct ct_err *err);
/* lab.c: rewrite what `ctload lab status` shows (ct_lab_info) and journal
 * it. 0 or -ENOMEM. */
int ct_lab_set_info(struct ct_lab *lab);

/* logs.c: choose server.log and events.log (in run_dir, or journaled next
 * to the state file when run_dir is NULL) and open events.log. */
int ct_lab_logs_open(struct ct_lab *lab, const char *run_dir, struct ct_err *err);
/* logs.c: one events.log line stamped `wall` (seconds since the epoch). */
void ct_lab_logs_line(struct ct_lab *lab, double wall, const char *source, const char *text);
void ct_lab_logs_close(struct ct_lab *lab);

/* topo.c: refuse a scenario the lab cannot build (CT_EXIT_USAGE). */
int ct_lab_topo_check(const struct ct_scenario *sc, struct ct_err *err);
/* topo.c: load nf_conntrack when the scenario needs it and it is missing. */
int ct_lab_topo_ensure_conntrack(const struct ct_scenario *sc, struct ct_err *err);
/* topo.c: pick a lab id no netns and no state file uses; create the state
 * file (the journal) under it. */
int ct_lab_topo_new_id(struct ct_lab *lab, const char *state_dir, struct ct_err *err);
/* topo.c: create the netns of each role, link and address them, load the
 * nft rules. */
int ct_lab_topo_build(struct ct_lab *lab, struct ct_err *err);
/* topo.c: delete every lab netns (for a fresh one), the router's first. */
int ct_lab_topo_delete(struct ct_lab *lab, struct ct_err *err);
/* topo.c: close the netns file descriptors. */
void ct_lab_topo_close(struct ct_lab *lab);
/* topo.c: run an `ip -batch` script in the netns of role r. */
int ct_lab_topo_batch(struct ct_lab *lab, enum ct_role r, const char *script, struct ct_err *err);
/* topo.c: the `ip -batch` lines that add (or delete) the local routes of
 * client addresses 1..n-1 in the client netns, into buf; returns their
 * length. */
size_t ct_lab_topo_client_routes(const struct ct_lab_addr *ap, unsigned n, bool add, char *buf,
				 size_t cap);
/* topo.c: does the client run a packet engine (no client addresses on
 * its interface)? */
bool ct_lab_packet_engine(const struct ct_scenario *sc);
/* topo.c: does conntrack track in the netns of role r? */
bool ct_lab_topo_tracks(const struct ct_lab *lab, enum ct_role r);

/* sysctls.c: apply one [sysctl.SCOPE] list, journaled. */
int ct_lab_sysctls_apply(struct ct_lab *lab, enum ct_sysctl_scope scope,
			 const struct ct_sysctl_list *list, struct ct_err *err);
/* sysctls.c: [sysctl.client], [sysctl.server], [sysctl.router] of sc. */
int ct_lab_sysctls_apply_netns(struct ct_lab *lab, const struct ct_scenario *sc,
			       struct ct_err *err);

/* ctserver.c: ctserver's settings from the [server] keys of sc. */
void ct_lab_ctserver_cfg_from(const struct ct_scenario *sc, struct ct_lab_ctserver_cfg *cfg);
bool ct_lab_ctserver_cfg_equal(const struct ct_lab_ctserver_cfg *a,
			       const struct ct_lab_ctserver_cfg *b);
/* ctserver.c: what differs from a to b, as "server.KEY A -> B, ...". */
void ct_lab_ctserver_cfg_diff(const struct ct_lab_ctserver_cfg *a,
			      const struct ct_lab_ctserver_cfg *b, char *out, size_t len);
/* ctserver.c: start ctserver with lab->srv in the server netns, journaled,
 * and wait until it listens on its first and last port. */
int ct_lab_ctserver_start(struct ct_lab *lab, struct ct_err *err);
/* ctserver.c: spawn argv (ctserver, or the responder: `what`) in the
 * server netns with its output to server.log, journaled before it may
 * exec; sets lab->server_pid. */
int ct_lab_server_spawn(struct ct_lab *lab, const char *what, const char *const *argv,
			struct ct_err *err);
/* responder.c: start `ctload respond` with lab->srv on the server veth,
 * journaled, and wait until it says it is ready (5 s at most). */
int ct_lab_responder_start(struct ct_lab *lab, struct ct_err *err);
/* ctserver.c: end it (SIGTERM, then SIGKILL) and drop it from the journal
 * (the responder too: the same process slot). */
void ct_lab_ctserver_stop(struct ct_lab *lab);

/* sources.c: a sampler per lab netns, and the sample sources over them. */
int ct_lab_sources_open(struct ct_lab *lab, struct ct_err *err);
void ct_lab_sources_close(struct ct_lab *lab);
/* sources.c: remember each netns' conntrack count (what drain waits for). */
void ct_lab_sources_record_base(struct ct_lab *lab);
/* sources.c: open /dev/kmsg (kernel log lines; none if it cannot be read)
 * and set the step hook. */
void ct_lab_sources_start(struct ct_lab *lab);

/* hosts.c: split the client addresses over [lab] client_hosts. */
void ct_lab_hosts_plan(struct ct_lab *lab);
/* hosts.c: build client hosts 1..n-1 (netns journaled, link, addresses,
 * the router's routes to them); after the client netns and the router. */
int ct_lab_hosts_build(struct ct_lab *lab, struct ct_err *err);
/* hosts.c: delete their netns (a fresh netns) / close their fds. */
int ct_lab_hosts_delete(struct ct_lab *lab, struct ct_err *err);
void ct_lab_hosts_close(struct ct_lab *lab);

/* bystander.c: its address: the last client address before the router's. */
uint32_t ct_lab_bystander_addr(const struct ct_lab_addr *ap);
/* bystander.c: with [lab] bystander > 0, build its netns and link, its
 * listener in the server netns when ctserver does not serve its port, and
 * start its thread; else nothing. Call after ctserver listens. */
int ct_lab_bystander_start(struct ct_lab *lab, struct ct_err *err);
/* bystander.c: end its thread and listener (NULL-safe); delete_netns for a
 * fresh netns (at the end the journal's rollback deletes it). */
void ct_lab_bystander_stop(struct ct_lab *lab, bool delete_netns);
/* bystander.c: sample.bystander: this tick's connects (a sample source). */
int ct_lab_bystander_fill(void *ctx, json_t *sample);
/* bystander.c: the step's counts start from here / go to step.bystander. */
void ct_lab_bystander_step_begin(struct ct_lab *lab);
void ct_lab_bystander_step(struct ct_lab *lab, json_t *step);
/* preload.c: create [lab] preload conntrack entries in the tracking netns,
 * journaled first; sets lab->preloaded. 0, or -errno with err. */
int ct_lab_preload(struct ct_lab *lab, struct ct_err *err);
/* preload.c: the netns role that holds the preload. */
enum ct_role ct_lab_preload_role(const struct ct_scenario *sc);

/* step.c: refuse a step that changes the topology (CT_EXIT_USAGE). */
int ct_lab_step_check_fixed(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err);
