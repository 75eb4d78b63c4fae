/* ctserver — the ctserver process in the server netns: the settings it
 * runs with, where its binary is, its start (journaled before it may exec,
 * then waited for until it listens) and its end. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/units.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"
#include "loadgen/host/procfs.h"
#include "loadgen/lab/lab_int.h"

void ct_lab_ctserver_cfg_from(const struct ct_scenario *sc, struct ct_lab_ctserver_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->engine = sc->server.engine;
	cfg->mode = sc->server.mode;
	cfg->port_lo = sc->server.port_lo;
	cfg->port_hi =
	    sc->server.port_hi > sc->server.port_lo ? sc->server.port_hi : sc->server.port_lo;
	cfg->close = sc->server.close;
	cfg->close_delay_ns = sc->server.close_delay_ns;
	cfg->workers = sc->server.workers;
	cfg->backlog = sc->server.backlog;
	cfg->body = sc->server.body;
}

bool ct_lab_ctserver_cfg_equal(const struct ct_lab_ctserver_cfg *a,
			       const struct ct_lab_ctserver_cfg *b)
{
	return a->engine == b->engine && a->mode == b->mode && a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       a->close == b->close && a->close_delay_ns == b->close_delay_ns &&
	       a->workers == b->workers && a->backlog == b->backlog &&
	       (a->mode != CT_SRV_HTTP || a->body == b->body);
}

/* "server.close client -> server, server.port 11211 -> 11211-11214" */
void ct_lab_ctserver_cfg_diff(const struct ct_lab_ctserver_cfg *a,
			      const struct ct_lab_ctserver_cfg *b, char *out, size_t len)
{
	char x[64], y[64];
	size_t n = 0;

	out[0] = '\0';
#define DIFF(cond, key, fa, fb)                                                                    \
	do {                                                                                       \
		if ((cond) && n < len)                                                             \
			n += (size_t)snprintf(out + n, len - n, "%s%s %s -> %s", n ? ", " : "",    \
					      key, fa, fb);                                        \
	} while (0)
	DIFF(a->engine != b->engine, "server.engine", ct_srv_engine_name(a->engine),
	     ct_srv_engine_name(b->engine));
	DIFF(a->mode != b->mode, "server.mode", ct_srv_mode_name(a->mode),
	     ct_srv_mode_name(b->mode));
	if (a->port_lo != b->port_lo || a->port_hi != b->port_hi) {
		snprintf(x, sizeof(x), a->port_hi > a->port_lo ? "%u-%u" : "%u", a->port_lo,
			 a->port_hi);
		snprintf(y, sizeof(y), b->port_hi > b->port_lo ? "%u-%u" : "%u", b->port_lo,
			 b->port_hi);
		DIFF(true, "server.port", x, y);
	}
	DIFF(a->close != b->close, "server.close", ct_srv_close_name(a->close),
	     ct_srv_close_name(b->close));
	if (a->close_delay_ns != b->close_delay_ns) {
		ct_fmt_duration_exact(a->close_delay_ns, x, sizeof(x));
		ct_fmt_duration_exact(b->close_delay_ns, y, sizeof(y));
		DIFF(true, "server.close_delay", x, y);
	}
	if (a->workers != b->workers) {
		snprintf(x, sizeof(x), "%u", a->workers);
		snprintf(y, sizeof(y), "%u", b->workers);
		DIFF(true, "server.workers", x, y);
	}
	if (a->body != b->body) {
		ct_fmt_size(a->body, x, sizeof(x));
		ct_fmt_size(b->body, y, sizeof(y));
		DIFF(true, "server.body", x, y);
	}
	if (a->backlog != b->backlog) {
		snprintf(x, sizeof(x), "%d", a->backlog);
		snprintf(y, sizeof(y), "%d", b->backlog);
		DIFF(true, "server.backlog", x, y);
	}
#undef DIFF
}

static int ctserver_path(char *out, size_t len)
{
	char self[PATH_MAX - 16];
	const char *env = getenv("CTSERVER");
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		snprintf(out, len, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	snprintf(out, len, "%s/ctserver", self);
	return access(out, X_OK) == 0 ? 0 : -errno;
}

struct want_ports {
	uint16_t lo, hi;
	bool seen_lo, seen_hi;
};

static bool on_listen_port(void *ctx, uint16_t port)
{
	struct want_ports *w = ctx;

	w->seen_lo = w->seen_lo || port == w->lo;
	w->seen_hi = w->seen_hi || port == w->hi;
	return w->seen_lo && w->seen_hi;
}

/* Whether the netns of tcp_fd (its /proc/net/tcp) has listeners on both
 * ports, in one pass over the whole file: a ctserver on 16 ports with 2
 * workers has 32 listeners, and the one looked for is often not in the
 * first page a read returns. */
static bool listening(int tcp_fd, uint16_t lo, uint16_t hi)
{
	struct want_ports w = {.lo = lo, .hi = hi};

	return ct_procfs_tcp_listen_each(tcp_fd, on_listen_port, &w) == 1;
}

/* ctserver's command line for lab->srv; argv points into the struct. */
struct srv_args {
	char exe[PATH_MAX], bind_addr[INET_ADDRSTRLEN], ports[32], workers[16], backlog[16];
	char delay[32], body[32];
	const char *argv[26];
};

static void srv_args(const struct ct_lab *lab, struct srv_args *a)
{
	const struct ct_lab_ctserver_cfg *cfg = &lab->srv;
	int n = 0;

	ct_lab_addr_str(lab->ap.server, a->bind_addr);
	if (cfg->port_hi > cfg->port_lo)
		snprintf(a->ports, sizeof(a->ports), "%u-%u", cfg->port_lo, cfg->port_hi);
	else
		snprintf(a->ports, sizeof(a->ports), "%u", cfg->port_lo);
	a->argv[n++] = a->exe;
	a->argv[n++] = "--mode";
	a->argv[n++] = ct_srv_mode_name(cfg->mode);
	a->argv[n++] = "--bind";
	a->argv[n++] = a->bind_addr;
	a->argv[n++] = "--port";
	a->argv[n++] = a->ports;
	a->argv[n++] = "--close";
	a->argv[n++] = ct_srv_close_name(cfg->close);
	if (cfg->workers) {
		snprintf(a->workers, sizeof(a->workers), "%u", cfg->workers);
		a->argv[n++] = "--workers";
		a->argv[n++] = a->workers;
	}
	if (cfg->backlog > 0) {
		snprintf(a->backlog, sizeof(a->backlog), "%d", cfg->backlog);
		a->argv[n++] = "--backlog";
		a->argv[n++] = a->backlog;
	}
	if (cfg->close_delay_ns) {
		a->argv[n++] = "--close-delay";
		a->argv[n++] =
		    ct_fmt_duration_exact(cfg->close_delay_ns, a->delay, sizeof(a->delay));
	}
	if (cfg->mode == CT_SRV_HTTP) {
		snprintf(a->body, sizeof(a->body), "%llu", (unsigned long long)cfg->body);
		a->argv[n++] = "--body";
		a->argv[n++] = a->body;
	}
	a->argv[n] = NULL;
}

/* Spawn argv (ctserver, or the responder: `what`) in the server netns, its
 * output to server.log, and journal it before it may exec:
 * lab->server_pid, or -errno with err. */
int ct_lab_server_spawn(struct ct_lab *lab, const char *what, const char *const *argv,
			struct ct_err *err)
{
	unsigned long long start = 0;
	int log_fd, release_fd = -1, ret;
	pid_t pid;

	log_fd = open(lab->server_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		ct_err_set(err, CT_EXIT_ENV, "opening %s: %s", lab->server_log, strerror(errno));
		return -errno;
	}
	pid = ct_netns_spawn(lab->nsfd[CT_ROLE_SERVER], argv, log_fd, &release_fd);
	close(log_fd);
	if (pid < 0) {
		ct_err_set(err, CT_EXIT_ENV, "starting %s: %s", what, strerror(-pid));
		return pid;
	}
	/* Journaled before the child may exec: a crash from here on still
	 * ends it, and one before this line makes the child exit on its own
	 * (ct_netns_spawn's gate). Fork already fixed the start time. */
	ct_proc_start_time(pid, &start);
	lab->server_pid = pid;
	ret = ct_labstate_add_proc(lab->st, what, pid, start, lab->ns[CT_ROLE_SERVER]);
	ct_netns_release(release_fd, ret == 0);
	if (ret < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		lab->server_pid = 0;
		ct_err_set(err, CT_EXIT_ENV, "recording %s: %s", what, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Up to 5 s for ctserver to listen on its first and last port (tcp_fd: the
 * server netns' /proc/net/tcp; -1: do not wait), or for it to exit. */
static int wait_listening(struct ct_lab *lab, const struct srv_args *a, int tcp_fd,
			  struct ct_err *err)
{
	const struct ct_lab_ctserver_cfg *cfg = &lab->srv;
	pid_t pid = lab->server_pid;

	for (int i = 0; i < 500; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			lab->server_pid = 0;
			ct_labstate_drop_proc(lab->st, pid);
			ct_err_set(
			    err, CT_EXIT_ENV,
			    "ctserver exited (status %d) before it listened on %s:%s; see %s",
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			    a->bind_addr, a->ports, lab->server_log);
			return -ECHILD;
		}
		if (tcp_fd < 0 || listening(tcp_fd, cfg->port_lo, cfg->port_hi))
			break;
		usleep(10000);
		if (i == 499) {
			ct_err_set(err, CT_EXIT_ENV,
				   "ctserver did not listen on %s:%s within 5 s; see %s",
				   a->bind_addr, a->ports, lab->server_log);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

int ct_lab_ctserver_start(struct ct_lab *lab, struct ct_err *err)
{
	const struct ct_lab_ctserver_cfg *cfg = &lab->srv;
	struct srv_args a = {.exe = ""};
	int tcp_fd, ret;

	if (cfg->engine != CT_SRVENG_CTSERVER)
		return ct_lab_responder_start(lab, err);
	ret = ctserver_path(a.exe, sizeof(a.exe));
	if (ret < 0) {
		ct_err_set(err, CT_EXIT_ENV,
			   "ctserver not found next to ctload (%s): %s; build it "
			   "with ninja",
			   a.exe, strerror(-ret));
		return ret;
	}
	srv_args(lab, &a);
	ret = ct_lab_server_spawn(lab, "ctserver", a.argv, err);
	if (ret < 0)
		return ret;
	tcp_fd = ct_netns_open_file(lab->nsfd[CT_ROLE_SERVER], "/proc/net/tcp", O_RDONLY);
	ret = wait_listening(lab, &a, tcp_fd, err);
	if (tcp_fd >= 0)
		close(tcp_fd);
	if (ret < 0)
		return ret;
	ct_lab_event(lab, "ctserver pid %d listening on %s:%s in %s (%s, close=%s)",
		     (int)lab->server_pid, a.bind_addr, a.ports, lab->ns[CT_ROLE_SERVER],
		     ct_srv_mode_name(cfg->mode), ct_srv_close_name(cfg->close));
	return 0;
}

void ct_lab_ctserver_stop(struct ct_lab *lab)
{
	unsigned long long start;

	if (lab->server_pid <= 0)
		return;
	if (ct_proc_start_time(lab->server_pid, &start) == 0) {
		kill(lab->server_pid, SIGTERM);
		for (int i = 0; i < 300; i++) {
			if (waitpid(lab->server_pid, NULL, WNOHANG) == lab->server_pid)
				break;
			usleep(10000);
			if (i == 299) {
				kill(lab->server_pid, SIGKILL);
				waitpid(lab->server_pid, NULL, 0);
			}
		}
	}
	ct_labstate_drop_proc(lab->st, lab->server_pid);
	ct_lab_event(lab, "%s pid %d ended",
		     lab->srv.engine != CT_SRVENG_CTSERVER ? "responder" : "ctserver",
		     (int)lab->server_pid);
	lab->server_pid = 0;
}
