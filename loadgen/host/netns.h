/* netns — named network namespaces and the links, addresses, routes and nft
 * rules inside them; running code and programs inside a netns.
 *
 * Setup execs iproute2 (`ip netns add`, `ip -n NS -batch -`) and nftables
 * (`nft -f -`) instead of speaking rtnetlink/nf_tables netlink directly: both
 * are Debian packages, well kept, and their error messages name the object
 * that failed; `ip netns add` also owns the /run/netns bind-mount dance that
 * makes a netns named, so users can `ip netns exec` into the lab. All of this
 * runs only while building or tearing down a lab, never on a hot path. The
 * hot path (samplers) uses file descriptors opened once inside the netns.
 *
 * setns() moves only the calling thread, so code that must run "inside" a
 * netns runs in a short-lived thread (ct_netns_run): the caller's thread never
 * changes netns and cannot be left in the wrong one by an error. A file under
 * /proc/thread-self/net or /proc/sys/net opened there keeps reading that
 * netns after the thread is gone (/proc/self/net would follow the main
 * thread's netns, hence thread-self). */
#pragma once

#include "loadgen/base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Run argv (argv[0] looked up in PATH), inside netns `nsfd` unless it is -1,
 * with `stdin_text` (may be NULL) as its standard input. Returns 0 when it
 * exits 0; otherwise -EIO (non-zero exit; `err` gets "ip: <its stderr>"),
 * -ENOENT (program not found), or another -errno. `err` (may be NULL) gets
 * code CT_EXIT_ENV. */
int ct_exec(int nsfd, const char *const argv[], const char *stdin_text, struct ct_err *err);

/* Create named netns `name` (ip netns add) and bring its lo up. */
int ct_netns_add(const char *name, struct ct_err *err);
/* Delete named netns `name`; 0 if it did not exist. */
int ct_netns_del(const char *name);
bool ct_netns_exists(const char *name);
/* Open /run/netns/NAME: fd (O_CLOEXEC) or -errno. */
int ct_netns_open(const char *name);
/* Names in /run/netns starting with `prefix`, as a NULL-terminated array the
 * caller frees with ct_netns_list_free. NULL + errno on failure. */
char **ct_netns_list(const char *prefix);
void ct_netns_list_free(char **names);

/* Run fn(arg) in a new thread that entered netns `nsfd` (-1: the caller's
 * netns, run directly). Returns fn's result, or -errno if the thread could
 * not be made or the netns not entered. */
int ct_netns_run(int nsfd, int (*fn)(void *arg), void *arg);

/* Open `path` inside netns `nsfd` (-1: here). A path starting with
 * "/proc/net/" is opened as /proc/thread-self/net/... so it reads the netns
 * it was opened in. Returns fd or -errno. */
int ct_netns_open_file(int nsfd, const char *path, int flags);

/* Apply an `ip -batch` script in netns `name` (NULL: here). */
int ct_ip_batch(const char *name, const char *script, struct ct_err *err);
/* Load an nft ruleset (nft -f -) inside netns `nsfd`. */
int ct_nft_apply(int nsfd, const char *ruleset, struct ct_err *err);

/* Start a long-lived program inside netns `nsfd` in its own session (so a
 * terminal's ^C reaches ctload, which then ends it), stdin from /dev/null,
 * stdout and stderr to `log_fd` (-1: /dev/null). Returns its PID or -errno.
 *
 * The child waits before exec until ct_netns_release(*release_fd) is
 * called, so the caller can journal the PID first; if the caller dies
 * before that (SIGKILL), the child sees the pipe close and exits without
 * ever running the program: no process outlives an unrecorded start. */
pid_t ct_netns_spawn(int nsfd, const char *const argv[], int log_fd, int *release_fd);
/* Let a spawned child exec (go = true) or make it exit (go = false); closes
 * the fd. */
void ct_netns_release(int release_fd, bool go);
