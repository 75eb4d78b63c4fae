/* responder — [server] engine = responder: `ctload respond` (this very
 * binary) in the server netns on its veth, in place of ctserver. The
 * server address is not on the veth (topo.c), so the netns' kernel neither
 * answers ARP for it nor resets the responder's connections; the responder
 * answers ARP itself. It holds no state: it is started, journaled and ended
 * exactly as ctserver is (ctserver.c), and ends with the lab. With
 * responder-dpdk it is a DPDK process with the lab's second --file-prefix
 * (ctload-ID-srv, journaled at up, so its /var/run/dpdk directory goes
 * with the lab: the client's EAL has ctload-ID). */
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

#include "loadgen/host/labstate.h"
#include "loadgen/lab/lab_int.h"

/* Has server.log the responder's "ready" line? */
static bool said_ready(const char *log, pid_t pid)
{
	char want[64], buf[8192];
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	bool yes = false;
	ssize_t n;
	off_t end;

	if (fd < 0)
		return false;
	/* The log is appended to across restarts: its last part is enough. */
	end = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		snprintf(want, sizeof(want), "responder pid %d ready", (int)pid);
		yes = strstr(buf, want) != NULL;
	}
	return yes;
}

/* Up to `secs` for the ready line, or for the responder to exit. */
static int wait_ready(struct ct_lab *lab, int secs, struct ct_err *err)
{
	pid_t pid = lab->server_pid;

	for (int i = 0; i < secs * 100; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			lab->server_pid = 0;
			ct_labstate_drop_proc(lab->st, pid);
			ct_err_set(err, CT_EXIT_ENV,
				   "the responder exited (status %d) before it was ready on %s's "
				   "veth0; see %s",
				   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				   lab->ns[CT_ROLE_SERVER], lab->server_log);
			return -ECHILD;
		}
		if (said_ready(lab->server_log, pid))
			return 0;
		usleep(10000);
	}
	ct_err_set(err, CT_EXIT_ENV, "the responder was not ready on %s's veth0 within %d s; see %s",
		   lab->ns[CT_ROLE_SERVER], secs, lab->server_log);
	return -ETIMEDOUT;
}

int ct_lab_responder_start(struct ct_lab *lab, struct ct_err *err)
{
	const struct ct_lab_ctserver_cfg *cfg = &lab->srv;
	char exe[PATH_MAX], addr[INET_ADDRSTRLEN], ports[32];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int ret;

	if (len < 0) {
		ct_err_set(err, CT_EXIT_ENV, "the responder: reading /proc/self/exe: %s",
			   strerror(errno));
		return -errno;
	}
	exe[len] = '\0';
	ct_lab_addr_str(lab->ap.server, addr);
	snprintf(ports, sizeof(ports), "%u-%u", cfg->port_lo, cfg->port_hi);
	const char *argv[24] = {exe,	 "respond", "--iface", "veth0",
				"--addr", addr,	     "--port",	ports,
				"--mode", ct_srv_mode_name(cfg->mode),
				"--close", ct_srv_close_name(cfg->close)};
	int n = 12;
	/* A DPDK process of its own: its own --file-prefix (journaled at up). */
	if (cfg->engine == CT_SRVENG_RESPONDER_DPDK) {
		argv[n++] = "--backend";
		argv[n++] = "dpdk";
		argv[n++] = "--file-prefix";
		argv[n++] = lab->dpdk_srv_prefix;
		if (lab->sc->dpdk.eal) {
			argv[n++] = "--eal";
			argv[n++] = lab->sc->dpdk.eal;
		}
		if (lab->sc->dpdk.port) {
			argv[n++] = "--dpdk-port";
			argv[n++] = lab->sc->dpdk.port;
		}
	}
	argv[n] = NULL;
	ret = ct_lab_server_spawn(lab, "responder", argv, err);
	if (ret == 0)
		/* DPDK's EAL maps and fills its memory first: a few seconds. */
		ret = wait_ready(lab, cfg->engine == CT_SRVENG_RESPONDER_DPDK ? 30 : 5, err);
	if (ret < 0) {
		ct_lab_ctserver_stop(lab);
		return ret;
	}
	ct_lab_event(lab, "responder pid %d answering %s:%s on veth0 in %s (%s, close=%s, %s)",
		     (int)lab->server_pid, addr, ports, lab->ns[CT_ROLE_SERVER],
		     ct_srv_mode_name(cfg->mode), ct_srv_close_name(cfg->close),
		     cfg->engine == CT_SRVENG_RESPONDER_DPDK ? lab->dpdk_srv_prefix : "pcap");
	return 0;
}
