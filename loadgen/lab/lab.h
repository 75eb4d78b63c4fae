/* lab — the network namespaces ctload builds for topology = lab, the
 * settings applied in them (always restored), the ctserver inside, and the
 * samplers that watch them. The only module that changes the host; every
 * change goes to the lab state journal (labstate.h) before it is made.
 *
 * Topology (names carry a per-lab id so two runs never collide):
 *   direct   ctl-ID-cli [veth0] ------------------------ [veth0] ctl-ID-srv
 *   router   ctl-ID-cli [veth0] -- [vcli] ctl-ID-rtr [vsrv] -- [veth0] ctl-ID-srv
 *   nat      as router, with masquerade of the client addresses on vsrv
 *            (as Docker does); the server has no route back to the clients.
 * Addresses (addr.h) come from [lab] addresses (default 198.18.0.0/15, RFC 2544's
 * benchmarking range), split in halves: the clients take the first half
 * (198.18.0.1, .2, ... one per [lab] clients), the server the first address
 * of the second half (198.19.0.1); the router takes the last usable address
 * of each half (198.18.255.254, 198.19.255.254). direct puts both halves on
 * one link. No lab netns has a default route, and the engine runs in the
 * client netns, so lab traffic cannot leave the lab.
 *
 * conntrack_on = server|router adds `ct state established,related accept`
 * (nft, table inet ctload) on that netns' input|forward hook, so conntrack
 * tracks there; none leaves it idle (nat still tracks on the router).
 *
 * Settings: [sysctl.host] is written in ctload's own (init) netns, the
 * others in their netns. Per-netns values go away with the netns; host
 * values are restored by ct_lab_down(), by `ctload lab down`, or by the
 * next ctload after a crash (ct_labstate_recover_stale()).
 *
 * ctserver is the one next to the running ctload (dirname of /proc/self/exe),
 * or $CTSERVER when set (tests, installed layouts).
 *
 * The nf_conntrack module is loaded with modprobe when it is needed and
 * missing, and left loaded (unloading would drop the host's own table).
 *
 * How a run uses it (runner, topology = lab):
 *     lab = ct_lab_up(sc, ct_rundir_path(rd), &err);      // NULL: print err.msg,
 *                                                          // exit err.code
 *     for each step (sweep point pt, or search trial) but the first:
 *         cooldown == fresh-netns: ct_lab_fresh(lab, &err);
 *         cooldown == drain:       ct_lab_drain(lab, 0, &err);  // 0: default wait
 *     and then for every step, the first too, in this order:
 *         ct_lab_apply_sysctls(lab, pt, &err);            // journaled
 *         ct_lab_set_server(lab, pt, &err);               // [server], [lab] clients
 *         ct_lab_target(lab, &target);                    // after the two above
 *         ct_lab_step_begin(lab);
 *         o.sources = ct_lab_sources(lab, &o.n_sources);
 *         o.step_hooks = ct_lab_step_hooks(lab, &o.n_step_hooks);
 *         ct_trial_run(&o, &result);
 *     ct_lab_down(lab);                                    // on every path
 * Any of them failing: print err.msg, leave the loop, ct_lab_down(), exit
 * err.code. The topology ([lab] path, conntrack_on, addresses) is
 * built once: a step that changes it is refused (CT_EXIT_USAGE, naming the
 * [sweep] line) by ct_lab_apply_sysctls() and ct_lab_set_server().
 * ct_lab_up() already calls ct_labstate_recover_stale(); call it yourself
 * before changing the host any other way. A SIGINT/SIGTERM only sets the
 * stop flag (common/sig.h): leave the loop and call ct_lab_down(). A host
 * sysctl already changed by another live lab is refused (exit 3), since
 * two owners would restore each other's values in the wrong order. */
#pragma once

#include "loadgen/base/err.h"
#include "loadgen/base/role.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "loadgen/scenario/scenario.h"
#include "loadgen/run/trial.h"

struct ct_lab;

/* Build the lab for `sc` (topology = lab), apply every [sysctl.*], start
 * ctserver in the server netns and wait until it listens. `run_dir` (may be
 * NULL) receives server.log and events.log; without it they go next to the
 * state file and are removed by the teardown. Rolls back everything it did
 * and returns NULL with `err` filled on failure. Recovers stale labs first. */
struct ct_lab *ct_lab_up(const struct ct_scenario *sc, const char *run_dir, struct ct_err *err);

/* Undo everything (end ctserver, restore sysctls, delete the netns) and
 * free. 0 or the first -errno (reported). NULL is a no-op. */
int ct_lab_down(struct ct_lab *lab);

/* Keep the lab after this process exits (`ctload lab up`): mark the state
 * persistent and free the memory without undoing anything. */
int ct_lab_detach(struct ct_lab *lab);

const char *ct_lab_id(const struct ct_lab *lab);
/* Name of a role's netns ("ctl-3f2a-cli"), NULL if this lab has none. */
const char *ct_lab_netns(const struct ct_lab *lab, enum ct_role role);
/* The client netns, for the engine's threads to setns() into; owned by the
 * lab and replaced by ct_lab_fresh(). */
int ct_lab_client_netns_fd(const struct ct_lab *lab);
/* The client source addresses (owned by the lab). */
const struct sockaddr_storage *ct_lab_client_addrs(const struct ct_lab *lab, size_t *n);
/* The server address and its port range. */
void ct_lab_server_addr(const struct ct_lab *lab, struct sockaddr_storage *out, uint16_t *port_lo,
			uint16_t *port_hi);
/* All of the above as the engine's target. */
void ct_lab_target(const struct ct_lab *lab, struct ct_trial_target *t);
/* Distinct (client IP, server port, client port) tuples the lab offers:
 * clients x server ports x the client netns' ip_local_port_range. Conntrack
 * holds at most about this many entries however high the rate. */
uint64_t ct_lab_tuple_space(const struct ct_lab *lab);

/* Apply the [sysctl.*] of `sc` (a sweep point's copy), journaled. Values the
 * kernel refuses are an error naming key and answer (err). */
int ct_lab_apply_sysctls(struct ct_lab *lab, const struct ct_scenario *sc, struct ct_err *err);

/* cooldown = fresh-netns: delete and rebuild every lab netns (no TIME_WAIT
 * or conntrack entry survives), re-apply the per-netns sysctls last applied,
 * restart ctserver with the settings it last ran with (those of the last
 * ct_lab_set_server), with the current client addresses. The client netns
 * fd changes. */
int ct_lab_fresh(struct ct_lab *lab, struct ct_err *err);

/* Make the lab serve step `pt`: if any [server] key of `pt` (mode, port,
 * close, close_delay, workers, backlog) differs from what ctserver runs
 * with, end it (by PID; the journal forgets it), start a new one with pt's
 * settings, wait until it listens on every port and journal it; otherwise
 * nothing. A [lab] clients change adds or removes client addresses in the
 * client netns in place (198.18.0.1 stays). ct_lab_target(),
 * ct_lab_server_addr(), ct_lab_client_addrs(), ct_lab_tuple_space() and
 * ct_lab_info() report the new settings afterwards (the client address
 * array moves: take the target again), and ct_lab_fresh() keeps them.
 * Refuses a change of path, conntrack_on or addresses (CT_EXIT_USAGE). On
 * failure no ctserver runs: end the lab. */
int ct_lab_set_server(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err);

/* cooldown = drain: sample the lab's netns every 200 ms until no TIME_WAIT
 * socket is left in any of them (sockstat tw, FIN_WAIT_2 included) and each
 * conntrack count is back where it was when the netns were built (0 in
 * practice); once a second the conntrack table is dumped, which makes the
 * kernel reap expired entries the GC has not reached yet. Gives up after
 * `max_wait_ns` (0: the longer of the socket TIME_WAIT, 60 s, and the
 * tracking netns' nf_conntrack_tcp_timeout_time_wait, plus 10 s; 130 s with
 * the defaults) with -ETIMEDOUT and err naming what is left ("server netns
 * ctl-3f2a-srv still holds 812 conntrack entries after 2m10s ..."), and
 * with -EINTR as soon as ct_stop_requested(). Changes nothing. */
int ct_lab_drain(struct ct_lab *lab, uint64_t max_wait_ns, struct ct_err *err);

/* Mark the start of a step: the step hooks report peaks and counter growth
 * from here. */
int ct_lab_step_begin(struct ct_lab *lab);

/* Sample sources for ct_trial_opts.sources: one per netns sampler (adds
 * sample.ns.<role>) and one for kernel log events (written to events.log,
 * and listed in sample.events). Owned by the lab, valid until the next
 * ct_lab_fresh() or ct_lab_down(). */
const struct ct_sample_source *ct_lab_sources(struct ct_lab *lab, size_t *n);
/* Step hooks for ct_trial_opts.step_hooks: add to the step result
 *   ct{peak,limit,drop,early_drop,insert_failed}   over the netns that track
 *   tw{client_peak,server_peak}
 *   tuples{space, in_use_peak}: the 4-tuples the lab offers, and the most
 *   the client held at once (its sockets open or in TIME_WAIT). */
const struct ct_sample_source *ct_lab_step_hooks(struct ct_lab *lab, size_t *n);

/* One line in events.log: wall time, "lab", the text. */
void ct_lab_event(struct ct_lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What `ctload lab status` shows (borrowed). */
json_t *ct_lab_info(const struct ct_lab *lab);
