/* labstate — the journal of everything a lab changed on the host, so that it
 * can always be undone: by the normal teardown, on error, on SIGINT/SIGTERM,
 * and after a crash (SIGKILL, power loss of the process) by the next ctload
 * that changes the host or by `ctload lab down`.
 *
 * One JSON file per lab, CT_LABSTATE_DIR/<run id>.json, rewritten atomically
 * (write tmp, fsync, rename, fsync dir) BEFORE each change it records, so a
 * change that happened is always in the file. It holds: the owner (PID and
 * its start time from /proc/PID/stat, so a recycled PID is not mistaken for
 * the owner), the run id, and an ordered journal of actions:
 *   netns   a named netns created          -> undo: ip netns del
 *   sysctl  scope, netns, key, old, new    -> undo: write old back
 *   proc    what, pid, start time, netns   -> undo: SIGTERM, then SIGKILL,
 *           only if the PID still has that start time
 *   file    a path                         -> undo: unlink
 *   dpdk    a DPDK EAL runtime directory   -> undo: remove it and its files
 *   ctpreload  conntrack entries made in a -> undo: none of its own; they go
 *           netns of the journal              with that netns (deleted after
 *                                             it, the journal running in
 *                                             reverse); refused elsewhere
 * Undo runs the journal in reverse. A sysctl is recorded once per (netns,
 * key): the first old value is the one restored, later writes only update
 * "new". A sysctl inside a netns that the journal also created is not
 * restored (it goes away with the netns).
 *
 * A lab made by `ctload lab up` (without --foreground) is marked persistent
 * once built: it outlives its owner, and only `ctload lab down` ends it.
 * Every other lab whose owner is dead is stale and is rolled back by
 * ct_labstate_recover_stale(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define CT_LABSTATE_DIR "/run/ctload"
/* Where a root DPDK process keeps its runtime files, one folder a prefix. */
#define CT_DPDK_RUNDIR "/var/run/dpdk"

struct ct_labstate;

/* Create the state file DIR/<run_id>.json owned by this process (dir NULL:
 * CT_LABSTATE_DIR, created 0755 if missing). Fails with EEXIST if a lab of
 * that id already exists. NULL + errno on failure. */
struct ct_labstate *ct_labstate_create(const char *dir, const char *run_id);
/* Read an existing state file. NULL + errno on failure. */
struct ct_labstate *ct_labstate_load(const char *path);
/* Close without undoing anything (the file stays). */
void ct_labstate_free(struct ct_labstate *st);

/* Tests: sysctl keys are read and written under `root` instead of /proc/sys,
 * and netns-scoped entries are ignored. */
void ct_labstate_set_sysroot(struct ct_labstate *st, const char *root);

const char *ct_labstate_run_id(const struct ct_labstate *st);
const char *ct_labstate_path(const struct ct_labstate *st);
pid_t ct_labstate_owner_pid(const struct ct_labstate *st);
bool ct_labstate_owner_alive(const struct ct_labstate *st);
bool ct_labstate_persistent(const struct ct_labstate *st);

/* Each of these records and fsyncs, and returns 0 or -errno. Call it before
 * making the change. */
int ct_labstate_add_netns(struct ct_labstate *st, const char *name);
/* netns NULL = the init netns (scope "host"). `old` is what the kernel holds
 * now, `new_value` what is about to be written. */
int ct_labstate_add_sysctl(struct ct_labstate *st, const char *scope, const char *netns,
			   const char *key, const char *old, const char *new_value);
int ct_labstate_add_proc(struct ct_labstate *st, const char *what, pid_t pid,
			 unsigned long long start, const char *netns);
/* A file we made that goes away with the lab (logs of a lab without a run
 * directory). */
int ct_labstate_add_file(struct ct_labstate *st, const char *path);
/* The runtime directory CT_DPDK_RUNDIR/<prefix> of the DPDK EAL this
 * process starts with --file-prefix=<prefix>. */
int ct_labstate_add_dpdk_dir(struct ct_labstate *st, const char *prefix);
/* `count` conntrack entries about to be made in netns `netns` ([lab]
 * preload). -EINVAL unless the journal created that netns: entries in any
 * other (the host's) would outlive the lab. */
int ct_labstate_add_preload(struct ct_labstate *st, const char *netns, unsigned long long count);
/* Forget a process ended on purpose (e.g. restarted for a fresh netns). */
int ct_labstate_drop_proc(struct ct_labstate *st, pid_t pid);
/* Mark persistent (survives its owner) and store free-form `info` about the
 * lab for `ctload lab status` (a reference is taken). */
int ct_labstate_set_persistent(struct ct_labstate *st, bool persistent);
int ct_labstate_set_info(struct ct_labstate *st, json_t *info);
/* Borrowed; NULL if none. */
json_t *ct_labstate_info(const struct ct_labstate *st);
/* The journal (borrowed JSON array) for status output. */
json_t *ct_labstate_journal(const struct ct_labstate *st);

/* Undo the journal in reverse and delete the file. `why` (may be NULL) is
 * appended to each line printed; lines go to stderr as notes when `verbose`
 * (recovery), else at info level (a normal teardown). Continues past
 * failures; returns 0 or the first -errno. */
int ct_labstate_rollback(struct ct_labstate *st, bool verbose, const char *why);

/* Roll back every lab in `dir` (NULL: CT_LABSTATE_DIR) whose owner died and
 * that is not persistent (with `include_persistent`, those too), printing
 * what was restored. Returns the number of labs rolled back, or -errno. */
int ct_labstate_recover_dir(const char *dir, const char *sysroot, bool include_persistent);
/* ct_labstate_recover_dir(NULL, NULL, false): what ctload calls before it
 * changes the host. */
int ct_labstate_recover_stale(void);

/* Load every state file in `dir` (NULL: CT_LABSTATE_DIR): NULL-terminated
 * array freed with ct_labstate_list_free. Unreadable files are warned about
 * and skipped. NULL + errno on failure. */
struct ct_labstate **ct_labstate_list(const char *dir);
void ct_labstate_list_free(struct ct_labstate **list);

/* The sysctl key as a path: "net.ipv4.tcp_tw_reuse" -> "net/ipv4/tcp_tw_reuse". */
void ct_sysctl_key_to_path(const char *key, char *out, size_t len);
