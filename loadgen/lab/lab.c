#include "loadgen/lab/lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/units.h"
#include "loadgen/cli/cli.h"
#include "loadgen/probe/kmsg.h"
#include "loadgen/host/labstate.h"
#include "loadgen/host/netns.h"
#include "loadgen/host/procfs.h"
#include "loadgen/probe/sampler.h"
#include "loadgen/host/sysctl.h"
#include "loadgen/lab/addr.h"

static const char *const role_name[CT_ROLE_NLAB] = {"client", "server", "router"};
static const char *const role_suffix[CT_ROLE_NLAB] = {"cli", "srv", "rtr"};

/* What ctserver runs with: the [server] keys of the last ct_lab_set_server()
 * (or of ct_lab_up), kept apart from `sc`, which ct_lab_apply_sysctls()
 * replaces with each sweep point before the server follows it. */
struct srv_cfg {
	enum ct_srv_mode mode;
	uint16_t port_lo, port_hi;
	enum ct_srv_close close;
	uint64_t close_delay_ns;
	unsigned workers;
	int backlog;
};

struct ct_lab {
	char id[16];
	char prefix[32];
	char ns[CT_ROLE_NLAB][32]; /* "" when the role does not exist */
	int nsfd[CT_ROLE_NLAB];
	struct ct_labstate *st;
	struct ct_scenario *sc; /* the last applied settings */
	struct ct_lab_addr ap;
	struct sockaddr_storage *client_addrs;
	size_t n_clients;
	struct sockaddr_storage server_addr;
	char server_log[512], events_log[512];
	FILE *events;
	pid_t server_pid;
	struct srv_cfg srv;
	uint64_t ct_base[CT_ROLE_NLAB]; /* ct.count right after the netns were built */
	struct ct_sampler *samplers[CT_ROLE_NLAB];
	struct ct_kmsg *kmsg;
	struct ct_sample_source sources[CT_ROLE_NLAB + 1];
	size_t n_sources;
	struct ct_sample_source hooks[1];
	json_t *info;
	json_t *pending_events; /* kernel lines seen since the last sample */
};

static void lab_err(struct ct_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lab_err(struct ct_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* ---- events.log ---------------------------------------------------------------- */

static void event_line(struct ct_lab *lab, double wall, const char *source, const char *text)
{
	char stamp[64];
	time_t secs = (time_t)wall;
	struct tm tm;

	if (!lab->events)
		return;
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(lab->events, "%s.%03dZ %s: %s\n", stamp, (int)((wall - (double)secs) * 1000),
		source, text);
	fflush(lab->events);
}

void ct_lab_event(struct ct_lab *lab, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ct_debug("lab: %s", text);
	event_line(lab, ct_wall_s(), "lab", text);
}

/* ---- building -------------------------------------------------------------- */

static bool has_role(const struct ct_scenario *sc, enum ct_role r)
{
	return r != CT_ROLE_ROUTER || sc->lab.path != CT_PATH_DIRECT;
}

static int check_scenario(const struct ct_scenario *sc, struct ct_err *err)
{
	if (sc->scenario.topology != CT_TOPO_LAB) {
		lab_err(err, CT_EXIT_USAGE,
			"%s: topology = %s: the lab is built only for "
			"topology = lab",
			sc->path ? sc->path : "scenario", ct_topology_name(sc->scenario.topology));
		return -EINVAL;
	}
	if (sc->lab.path == CT_PATH_DIRECT && sc->lab.conntrack_on == CT_CTON_ROUTER) {
		lab_err(err, CT_EXIT_USAGE,
			"%s: [lab] conntrack_on = router needs path = router "
			"or nat (path = direct has no router)",
			sc->path ? sc->path : "scenario");
		return -EINVAL;
	}
	if (sc->lab.path == CT_PATH_DIRECT && sc->sysctl[CT_SYSCTL_ROUTER].n) {
		lab_err(err, CT_EXIT_USAGE,
			"%s:%d: [sysctl.router] is set but path = direct has "
			"no router; use path = router or nat",
			sc->path ? sc->path : "scenario", sc->sysctl[CT_SYSCTL_ROUTER].v[0].line);
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

static int ensure_conntrack(const struct ct_scenario *sc, struct ct_err *err)
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
	lab_err(err, CT_EXIT_ENV,
		"conntrack is not available: /proc/sys/net/netfilter/nf_conntrack_max is "
		"missing and 'modprobe nf_conntrack' failed (%s); this kernel needs "
		"CONFIG_NF_CONNTRACK, or set [lab] conntrack_on = none",
		why.msg[0] ? why.msg : "no message");
	return -ENOENT;
}

static int new_id(struct ct_lab *lab, const char *state_dir, struct ct_err *err)
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
			lab_err(err, CT_EXIT_ENV,
				"cannot create the lab state file in %s: %s (ctload lab needs "
				"root)",
				state_dir ? state_dir : CT_LABSTATE_DIR, strerror(errno));
			return -errno;
		}
	}
	lab_err(err, CT_EXIT_ENV, "no free lab id after 16 tries; run 'ctload lab down --all'");
	return -EEXIST;
}

static int make_netns(struct ct_lab *lab, enum ct_role r, struct ct_err *err)
{
	struct ct_err why = {.msg = ""};
	int ret;

	snprintf(lab->ns[r], sizeof(lab->ns[r]), "%s%s", lab->prefix, role_suffix[r]);
	ret = ct_labstate_add_netns(lab->st, lab->ns[r]);
	if (ret < 0) {
		lab_err(err, CT_EXIT_ENV, "recording netns %s: %s", lab->ns[r], strerror(-ret));
		return ret;
	}
	ret = ct_netns_add(lab->ns[r], &why);
	if (ret < 0) {
		lab_err(err, CT_EXIT_ENV, "creating netns %s: %s", lab->ns[r], why.msg);
		return ret;
	}
	lab->nsfd[r] = ct_netns_open(lab->ns[r]);
	if (lab->nsfd[r] < 0) {
		ret = lab->nsfd[r];
		lab_err(err, CT_EXIT_ENV, "opening netns %s: %s", lab->ns[r], strerror(-ret));
		return ret;
	}
	ct_lab_event(lab, "created netns %s (%s)", lab->ns[r], role_name[r]);
	return 0;
}

/* Create a veth pair a<->b with one end in each netns. */
static int veth(struct ct_lab *lab, enum ct_role ra, const char *a, enum ct_role rb,
		const char *b, struct ct_err *err)
{
	const char *argv[] = {"ip",   "-n",   lab->ns[ra], "link", "add",   a,		 "type",
			      "veth", "peer", "name",	   b,	   "netns", lab->ns[rb], NULL};
	struct ct_err why = {.msg = ""};
	int ret = ct_exec(-1, argv, NULL, &why);

	if (ret < 0)
		lab_err(err, CT_EXIT_ENV, "creating veth %s/%s between %s and %s: %s", a, b,
			lab->ns[ra], lab->ns[rb], why.msg);
	return ret;
}

static int batch(struct ct_lab *lab, enum ct_role r, const char *script, struct ct_err *err)
{
	struct ct_err why = {.msg = ""};
	int ret = ct_ip_batch(lab->ns[r], script, &why);

	if (ret < 0)
		lab_err(err, CT_EXIT_ENV, "configuring netns %s: %s", lab->ns[r], why.msg);
	return ret;
}

static int build_links(struct ct_lab *lab, struct ct_err *err)
{
	const struct ct_scenario *sc = lab->sc;
	const struct ct_lab_addr *ap = &lab->ap;
	size_t cap = 128 + lab->n_clients * 64;
	char *script = malloc(cap), a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	unsigned cli_prefix = ct_lab_addr_link_prefix(ap, sc->lab.path == CT_PATH_DIRECT);
	size_t len = 0;
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
	if (ret < 0)
		goto out;

	/* Client: one address per [lab] clients, the route to the server half. */
	for (size_t i = 0; i < lab->n_clients; i++)
		len += (size_t)snprintf(script + len, cap - len, "addr add %s/%u dev veth0\n",
					ct_lab_addr_str(ct_lab_addr_client(ap, (unsigned)i), a), cli_prefix);
	len += (size_t)snprintf(script + len, cap - len, "link set veth0 up\n");
	if (sc->lab.path != CT_PATH_DIRECT)
		len +=
		    (size_t)snprintf(script + len, cap - len, "route add %s/%u via %s\n",
				     ct_lab_addr_str(ap->srv_net, a), ap->half_prefix, ct_lab_addr_str(ap->router_cli, b));
	ret = batch(lab, CT_ROLE_CLIENT, script, err);
	if (ret < 0)
		goto out;

	len = (size_t)snprintf(script, cap, "addr add %s/%u dev veth0\nlink set veth0 up\n",
			       ct_lab_addr_str(ap->server, a), cli_prefix);
	/* Under NAT the server sees only the router's address: no route back. */
	if (sc->lab.path == CT_PATH_ROUTER)
		snprintf(script + len, cap - len, "route add %s/%u via %s\n", ct_lab_addr_str(ap->cli_net, a),
			 ap->half_prefix, ct_lab_addr_str(ap->router_srv, b));
	ret = batch(lab, CT_ROLE_SERVER, script, err);
	if (ret < 0 || sc->lab.path == CT_PATH_DIRECT)
		goto out;

	len = (size_t)snprintf(script, cap, "addr add %s/%u dev vcli\n", ct_lab_addr_str(ap->router_cli, a),
			       ap->half_prefix);
	snprintf(script + len, cap - len,
		 "addr add %s/%u dev vsrv\nlink set vcli up\nlink set vsrv up\n",
		 ct_lab_addr_str(ap->router_srv, a), ap->half_prefix);
	ret = batch(lab, CT_ROLE_ROUTER, script, err);
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
		struct ct_err why = {.msg = ""};

		ret = ct_sysctl_apply(lab->st, "router", lab->nsfd[CT_ROLE_ROUTER],
				      lab->ns[CT_ROLE_ROUTER], "net.ipv4.ip_forward", "1", &why);
		if (ret < 0) {
			lab_err(err, CT_EXIT_ENV, "%s", why.msg);
			return ret;
		}
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
			lab_err(err, CT_EXIT_ENV, "nft rules in %s: %s", lab->ns[r], nft.msg);
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
			lab_err(err, CT_EXIT_ENV, "nft masquerade in %s: %s",
				lab->ns[CT_ROLE_ROUTER], nft.msg);
			return ret;
		}
		ct_lab_event(lab, "masquerade of %s/%u on %s", a, lab->ap.half_prefix,
			     lab->ns[CT_ROLE_ROUTER]);
	}
	return 0;
}

/* Two labs changing the same host key would restore each other's values
 * in the wrong order (the second records the first's value as "old"), so a
 * host key belongs to one lab at a time. */
static int host_key_owner(struct ct_lab *lab, const char *key, char *owner, size_t len)
{
	struct ct_labstate **list = ct_labstate_list(NULL);
	int found = 0;

	if (!list)
		return 0;
	for (struct ct_labstate **p = list; *p && !found; p++) {
		json_t *e;
		size_t i;

		if (!strcmp(ct_labstate_run_id(*p), lab->id))
			continue;
		json_array_foreach(ct_labstate_journal(*p), i, e)
		{
			const char *type = json_string_value(json_object_get(e, "type"));
			const char *k = json_string_value(json_object_get(e, "key"));
			if (type && k && !strcmp(type, "sysctl") && !strcmp(k, key) &&
			    json_is_null(json_object_get(e, "netns"))) {
				if (ct_labstate_persistent(*p))
					snprintf(owner, len, "lab %s", ct_labstate_run_id(*p));
				else
					snprintf(owner, len, "run %s (pid %d)",
						 ct_labstate_run_id(*p),
						 (int)ct_labstate_owner_pid(*p));
				found = 1;
				break;
			}
		}
	}
	ct_labstate_list_free(list);
	return found;
}

static int apply_list(struct ct_lab *lab, enum ct_sysctl_scope scope,
		      const struct ct_sysctl_list *list, struct ct_err *err)
{
	enum ct_role r = scope == CT_SYSCTL_CLIENT	 ? CT_ROLE_CLIENT
			     : scope == CT_SYSCTL_SERVER ? CT_ROLE_SERVER
							 : CT_ROLE_ROUTER;
	int nsfd = scope == CT_SYSCTL_HOST ? -1 : lab->nsfd[r];
	const char *ns = scope == CT_SYSCTL_HOST ? NULL : lab->ns[r];
	char owner[768];
	struct ct_err why = {.msg = ""};

	if (scope != CT_SYSCTL_HOST && !ns[0])
		return 0;
	/* Buckets first: a max set in the same section is then checked against
	 * the new table, not the old one. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < list->n; i++) {
			const struct ct_sysctl *s = &list->v[i];
			bool buckets = strstr(s->key, "nf_conntrack_buckets") != NULL;
			int ret;

			if ((pass == 0) != buckets)
				continue;
			if (scope == CT_SYSCTL_HOST &&
			    host_key_owner(lab, s->key, owner, sizeof(owner))) {
				lab_err(
				    err, CT_EXIT_ENV,
				    "[sysctl.host] %s: already changed by %s, which restores it "
				    "when it ends; take that down first (ctload lab down)",
				    s->key, owner);
				return -EBUSY;
			}
			ret = ct_sysctl_apply(lab->st, ct_sysctl_scope_name(scope), nsfd, ns,
					      s->key, s->value, &why);
			if (ret < 0) {
				if (s->line > 0 && lab->sc->path)
					lab_err(err, CT_EXIT_ENV, "%s:%d: [sysctl.%s] %s",
						lab->sc->path, s->line, ct_sysctl_scope_name(scope),
						why.msg);
				else
					lab_err(err, CT_EXIT_ENV, "[sysctl.%s] %s",
						ct_sysctl_scope_name(scope), why.msg);
				return ret;
			}
			ct_lab_event(lab, "sysctl %s = %s [%s]", s->key, s->value,
				     ct_sysctl_scope_name(scope));
		}
	}
	return 0;
}

static int apply_netns_sysctls(struct ct_lab *lab, const struct ct_scenario *sc,
			       struct ct_err *err)
{
	for (int s = CT_SYSCTL_CLIENT; s <= CT_SYSCTL_ROUTER; s++) {
		int ret = apply_list(lab, (enum ct_sysctl_scope)s, &sc->sysctl[s], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- ctserver ---------------------------------------------------------------- */

static void srv_from(const struct ct_scenario *sc, struct srv_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = sc->server.mode;
	cfg->port_lo = sc->server.port_lo;
	cfg->port_hi =
	    sc->server.port_hi > sc->server.port_lo ? sc->server.port_hi : sc->server.port_lo;
	cfg->close = sc->server.close;
	cfg->close_delay_ns = sc->server.close_delay_ns;
	cfg->workers = sc->server.workers;
	cfg->backlog = sc->server.backlog;
}

static bool srv_equal(const struct srv_cfg *a, const struct srv_cfg *b)
{
	return a->mode == b->mode && a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       a->close == b->close && a->close_delay_ns == b->close_delay_ns &&
	       a->workers == b->workers && a->backlog == b->backlog;
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

static int start_server(struct ct_lab *lab, struct ct_err *err)
{
	const struct srv_cfg *cfg = &lab->srv;
	char exe[PATH_MAX], bind_addr[INET_ADDRSTRLEN], ports[32], workers[16], backlog[16];
	char delay[32];
	const char *argv[24];
	unsigned long long start = 0;
	int n = 0, log_fd, tcp_fd, ret;
	pid_t pid;

	ret = ctserver_path(exe, sizeof(exe));
	if (ret < 0) {
		lab_err(err, CT_EXIT_ENV,
			"ctserver not found next to ctload (%s): %s; build it "
			"with ninja",
			exe, strerror(-ret));
		return ret;
	}
	ct_lab_addr_str(lab->ap.server, bind_addr);
	if (cfg->port_hi > cfg->port_lo)
		snprintf(ports, sizeof(ports), "%u-%u", cfg->port_lo, cfg->port_hi);
	else
		snprintf(ports, sizeof(ports), "%u", cfg->port_lo);
	argv[n++] = exe;
	argv[n++] = "--mode";
	argv[n++] = ct_srv_mode_name(cfg->mode);
	argv[n++] = "--bind";
	argv[n++] = bind_addr;
	argv[n++] = "--port";
	argv[n++] = ports;
	argv[n++] = "--close";
	argv[n++] = ct_srv_close_name(cfg->close);
	if (cfg->workers) {
		snprintf(workers, sizeof(workers), "%u", cfg->workers);
		argv[n++] = "--workers";
		argv[n++] = workers;
	}
	if (cfg->backlog > 0) {
		snprintf(backlog, sizeof(backlog), "%d", cfg->backlog);
		argv[n++] = "--backlog";
		argv[n++] = backlog;
	}
	if (cfg->close_delay_ns) {
		argv[n++] = "--close-delay";
		argv[n++] = ct_fmt_duration_exact(cfg->close_delay_ns, delay, sizeof(delay));
	}
	argv[n] = NULL;

	log_fd = open(lab->server_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		lab_err(err, CT_EXIT_ENV, "opening %s: %s", lab->server_log, strerror(errno));
		return -errno;
	}
	tcp_fd = ct_netns_open_file(lab->nsfd[CT_ROLE_SERVER], "/proc/net/tcp", O_RDONLY);
	int release_fd = -1;
	pid = ct_netns_spawn(lab->nsfd[CT_ROLE_SERVER], argv, log_fd, &release_fd);
	close(log_fd);
	if (pid < 0) {
		if (tcp_fd >= 0)
			close(tcp_fd);
		lab_err(err, CT_EXIT_ENV, "starting ctserver: %s", strerror(-pid));
		return pid;
	}
	/* Journaled before the child may exec: a crash from here on still
	 * ends it, and one before this line makes the child exit on its own
	 * (ct_netns_spawn's gate). Fork already fixed the start time. */
	ct_proc_start_time(pid, &start);
	lab->server_pid = pid;
	ret = ct_labstate_add_proc(lab->st, "ctserver", pid, start, lab->ns[CT_ROLE_SERVER]);
	ct_netns_release(release_fd, ret == 0);
	if (ret < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		lab->server_pid = 0;
		if (tcp_fd >= 0)
			close(tcp_fd);
		lab_err(err, CT_EXIT_ENV, "recording ctserver: %s", strerror(-ret));
		return ret;
	}
	for (int i = 0; i < 500; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			lab->server_pid = 0;
			ct_labstate_drop_proc(lab->st, pid);
			if (tcp_fd >= 0)
				close(tcp_fd);
			lab_err(err, CT_EXIT_ENV,
				"ctserver exited (status %d) before it listened on %s:%s; see %s",
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				bind_addr, ports, lab->server_log);
			return -ECHILD;
		}
		if (tcp_fd < 0 ||
		    listening(tcp_fd, cfg->port_lo, cfg->port_hi))
			break;
		usleep(10000);
		if (i == 499) {
			close(tcp_fd);
			lab_err(err, CT_EXIT_ENV,
				"ctserver did not listen on %s:%s within 5 s; see %s", bind_addr,
				ports, lab->server_log);
			return -ETIMEDOUT;
		}
	}
	if (tcp_fd >= 0)
		close(tcp_fd);
	ct_lab_event(lab, "ctserver pid %d listening on %s:%s in %s (%s, close=%s)", (int)pid,
		     bind_addr, ports, lab->ns[CT_ROLE_SERVER], ct_srv_mode_name(cfg->mode),
		     ct_srv_close_name(cfg->close));
	return 0;
}

static void stop_server(struct ct_lab *lab)
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
	ct_lab_event(lab, "ctserver pid %d ended", (int)lab->server_pid);
	lab->server_pid = 0;
}

/* ---- samplers ---------------------------------------------------------------- */

static void on_kernel_line(void *ctx, uint64_t ts_us, const char *text)
{
	struct ct_lab *lab = ctx;
	struct timespec mono;
	double wall = ct_wall_s();

	/* Kernel stamps count from boot on the monotonic clock. */
	if (clock_gettime(CLOCK_MONOTONIC, &mono) == 0) {
		double now_us = (double)mono.tv_sec * 1e6 + (double)mono.tv_nsec / 1e3;
		wall -= (now_us - (double)ts_us) / 1e6;
	}
	event_line(lab, wall, "kernel", text);
	if (lab->pending_events)
		json_array_append_new(lab->pending_events, json_string(text));
}

static int fill_kmsg(void *ctx, json_t *sample)
{
	struct ct_lab *lab = ctx;
	int ret;

	if (!lab->kmsg)
		return 0;
	ret = ct_kmsg_poll(lab->kmsg, on_kernel_line, lab);
	if (ret < 0)
		return ret;
	if (json_array_size(lab->pending_events)) {
		json_object_set(sample, "events", lab->pending_events);
		json_decref(lab->pending_events);
		lab->pending_events = json_array();
	}
	return 0;
}

static int fill_step(void *ctx, json_t *step)
{
	struct ct_lab *lab = ctx;
	struct ct_sampler_step ss[CT_ROLE_NLAB] = {{0}};
	uint64_t peak = 0, limit = 0, drop = 0, early = 0, failed = 0;

	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (!lab->samplers[r])
			continue;
		ct_sampler_step(lab->samplers[r], &ss[r]);
		if (ss[r].ct_peak > peak)
			peak = ss[r].ct_peak;
		if (ss[r].ct_limit)
			limit = ss[r].ct_limit;
		drop += ss[r].ct_drop;
		early += ss[r].ct_early_drop;
		failed += ss[r].ct_insert_failed;
	}
	json_object_set_new(step, "ct",
			    json_pack("{s:I, s:I, s:I, s:I, s:I}", "peak", (json_int_t)peak,
				      "limit", (json_int_t)limit, "drop", (json_int_t)drop,
				      "early_drop", (json_int_t)early, "insert_failed",
				      (json_int_t)failed));
	json_object_set_new(step, "tw",
			    json_pack("{s:I, s:I}", "client_peak",
				      (json_int_t)ss[CT_ROLE_CLIENT].tw_peak, "server_peak",
				      (json_int_t)ss[CT_ROLE_SERVER].tw_peak));
	/* Each client socket (open or in TIME_WAIT) holds one distinct 4-tuple. */
	json_object_set_new(step, "tuples",
			    json_pack("{s:I, s:I}", "space", (json_int_t)ct_lab_tuple_space(lab),
				      "in_use_peak", (json_int_t)ss[CT_ROLE_CLIENT].sockets_peak));
	return 0;
}

static void close_samplers(struct ct_lab *lab)
{
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		ct_sampler_free(lab->samplers[r]);
		lab->samplers[r] = NULL;
	}
	lab->n_sources = 0;
}

static int open_samplers(struct ct_lab *lab, struct ct_err *err)
{
	lab->n_sources = 0;
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (!lab->ns[r][0])
			continue;
		lab->samplers[r] = ct_sampler_new(role_name[r], lab->nsfd[r]);
		if (!lab->samplers[r]) {
			lab_err(err, CT_EXIT_ENV, "opening the counters of netns %s: %s",
				lab->ns[r], strerror(errno));
			return -errno;
		}
		lab->sources[lab->n_sources++] = (struct ct_sample_source){
		    .name = role_name[r], .fill = ct_sampler_fill, .ctx = lab->samplers[r]};
	}
	lab->sources[lab->n_sources++] =
	    (struct ct_sample_source){.name = "kmsg", .fill = fill_kmsg, .ctx = lab};
	return 0;
}

/* ---- up / down ---------------------------------------------------------------- */

static void close_netns_fds(struct ct_lab *lab)
{
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (lab->nsfd[r] >= 0)
			close(lab->nsfd[r]);
		lab->nsfd[r] = -1;
	}
}

/* What ct_lab_drain() waits to get back to: a freshly built netns tracks
 * nothing, but a kernel that tracks the lab's own setup traffic would. */
static void record_ct_base(struct ct_lab *lab)
{
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		struct ct_ns_counters c;

		lab->ct_base[r] = 0;
		if (lab->samplers[r] && ct_sampler_read(lab->samplers[r], false, &c) == 0)
			lab->ct_base[r] = c.ct_count;
	}
}

static int build_netns(struct ct_lab *lab, struct ct_err *err)
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
		ret = build_rules(lab, err);
	if (ret == 0)
		ret = apply_netns_sysctls(lab, lab->sc, err);
	if (ret == 0)
		ret = open_samplers(lab, err);
	if (ret == 0)
		ret = start_server(lab, err);
	if (ret == 0)
		record_ct_base(lab);
	return ret;
}

static int set_info(struct ct_lab *lab)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], clients[64], server[64];
	const struct ct_scenario *sc = lab->sc;
	const struct srv_cfg *srv = &lab->srv;

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
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "id", lab->id,
		      "scenario", sc->path ? sc->path : "", "path", ct_lab_path_name(sc->lab.path),
		      "conntrack_on", ct_ct_on_name(sc->lab.conntrack_on), "clients", clients,
		      "server", server, "server_mode", ct_srv_mode_name(srv->mode), "server_close",
		      ct_srv_close_name(srv->close), "server_pid", (int)lab->server_pid,
		      "server_log", lab->server_log, "events_log", lab->events_log);
	if (!lab->info)
		return -ENOMEM;
	{
		json_t *ns = json_object();
		for (int r = 0; r < CT_ROLE_NLAB; r++)
			if (lab->ns[r][0])
				json_object_set_new(ns, role_name[r], json_string(lab->ns[r]));
		json_object_set_new(lab->info, "netns", ns);
	}
	return ct_labstate_set_info(lab->st, lab->info);
}

static int open_logs(struct ct_lab *lab, const char *run_dir, struct ct_err *err)
{
	int ret;

	if (run_dir) {
		snprintf(lab->server_log, sizeof(lab->server_log), "%s/server.log", run_dir);
		snprintf(lab->events_log, sizeof(lab->events_log), "%s/events.log", run_dir);
	} else {
		snprintf(lab->server_log, sizeof(lab->server_log), "%s/%s.server.log",
			 CT_LABSTATE_DIR, lab->id);
		snprintf(lab->events_log, sizeof(lab->events_log), "%s/%s.events.log",
			 CT_LABSTATE_DIR, lab->id);
		if ((ret = ct_labstate_add_file(lab->st, lab->server_log)) < 0 ||
		    (ret = ct_labstate_add_file(lab->st, lab->events_log)) < 0) {
			lab_err(err, CT_EXIT_ENV, "recording lab logs: %s", strerror(-ret));
			return ret;
		}
	}
	lab->events = fopen(lab->events_log, "ae");
	if (!lab->events) {
		lab_err(err, CT_EXIT_ENV, "opening %s: %s", lab->events_log, strerror(errno));
		return -errno;
	}
	return 0;
}

struct ct_lab *ct_lab_up(const struct ct_scenario *sc, const char *run_dir, struct ct_err *err)
{
	struct ct_lab *lab;
	int ret;

	if (err) {
		err->msg[0] = '\0';
		err->code = CT_EXIT_ENV;
	}
	if (check_scenario(sc, err) < 0) {
		errno = EINVAL;
		return NULL;
	}
	lab = calloc(1, sizeof(*lab));
	if (!lab) {
		lab_err(err, CT_EXIT_ENV, "out of memory");
		return NULL;
	}
	for (int r = 0; r < CT_ROLE_NLAB; r++)
		lab->nsfd[r] = -1;
	lab->pending_events = json_array();
	lab->sc = ct_scenario_dup(sc);
	if (!lab->sc || !lab->pending_events) {
		lab_err(err, CT_EXIT_ENV, "out of memory");
		goto fail_free;
	}
	if (ct_lab_addr_plan(sc->lab.addresses, sc->lab.clients, &lab->ap, err) < 0)
		goto fail_free;
	srv_from(sc, &lab->srv);
	ret = ct_labstate_recover_stale();
	if (ret < 0)
		ct_warn("recovering labs left by crashed runs: %s", strerror(-ret));
	if (ensure_conntrack(sc, err) < 0)
		goto fail_free;
	if (new_id(lab, NULL, err) < 0)
		goto fail_free;
	if (open_logs(lab, run_dir, err) < 0)
		goto fail;
	ct_lab_event(lab, "lab %s up for %s (path=%s, conntrack_on=%s, clients=%u)", lab->id,
		     sc->path ? sc->path : "scenario", ct_lab_path_name(sc->lab.path),
		     ct_ct_on_name(sc->lab.conntrack_on), sc->lab.clients);

	lab->n_clients = sc->lab.clients;
	lab->client_addrs = calloc(lab->n_clients, sizeof(*lab->client_addrs));
	if (!lab->client_addrs)
		goto fail;
	for (size_t i = 0; i < lab->n_clients; i++)
		ct_lab_addr_sockaddr(ct_lab_addr_client(&lab->ap, (unsigned)i), 0,
				     &lab->client_addrs[i]);
	ct_lab_addr_sockaddr(lab->ap.server, sc->server.port_lo, &lab->server_addr);
	if (lab->n_clients > 500)
		ct_note("%zu client addresses: the kernel's neighbour table is global "
			"(net.ipv4.neigh.default.gc_thresh3, default 1024); raise it in "
			"[sysctl.host] if 'neighbour table overflow' shows in events.log",
			lab->n_clients);

	/* Host settings first: they are the ones a crash must not leave behind,
	 * and the journal has them before anything else can fail. */
	if (apply_list(lab, CT_SYSCTL_HOST, &sc->sysctl[CT_SYSCTL_HOST], err) < 0)
		goto fail;
	if (build_netns(lab, err) < 0)
		goto fail;
	lab->kmsg = ct_kmsg_open();
	if (!lab->kmsg)
		ct_info("no kernel log events: /dev/kmsg: %s", strerror(errno));
	lab->hooks[0] = (struct ct_sample_source){.name = "lab", .fill = fill_step, .ctx = lab};
	if (set_info(lab) < 0) {
		lab_err(err, CT_EXIT_ENV, "writing the lab state: out of memory");
		goto fail;
	}
	ct_lab_step_begin(lab);
	return lab;
fail:
	if (!err || !err->msg[0])
		lab_err(err, CT_EXIT_ENV, "building the lab failed: %s", strerror(errno));
	ct_lab_down(lab);
	errno = EIO;
	return NULL;
fail_free:
	json_decref(lab->pending_events);
	ct_scenario_free(lab->sc);
	free(lab);
	errno = EINVAL;
	return NULL;
}

static void lab_free(struct ct_lab *lab)
{
	close_samplers(lab);
	close_netns_fds(lab);
	ct_kmsg_free(lab->kmsg);
	if (lab->events)
		fclose(lab->events);
	ct_labstate_free(lab->st);
	ct_scenario_free(lab->sc);
	json_decref(lab->info);
	json_decref(lab->pending_events);
	free(lab->client_addrs);
	free(lab);
}

int ct_lab_down(struct ct_lab *lab)
{
	int ret = 0;

	if (!lab)
		return 0;
	close_samplers(lab);
	close_netns_fds(lab);
	if (lab->st) {
		ct_lab_event(lab, "lab %s down", lab->id);
		if (lab->events) {
			fclose(lab->events);
			lab->events = NULL;
		}
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

/* ---- accessors ---------------------------------------------------------------- */

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

const struct ct_sample_source *ct_lab_sources(struct ct_lab *lab, size_t *n)
{
	*n = lab->n_sources;
	return lab->sources;
}

const struct ct_sample_source *ct_lab_step_hooks(struct ct_lab *lab, size_t *n)
{
	*n = 1;
	return lab->hooks;
}

int ct_lab_step_begin(struct ct_lab *lab)
{
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (lab->samplers[r]) {
			int ret = ct_sampler_step_begin(lab->samplers[r]);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* The line of the [sweep] axis over `key`, or 0. */
static int axis_line(const struct ct_scenario *pt, const char *key)
{
	for (size_t a = 0; a < pt->n_sweep; a++)
		if (!strcmp(pt->sweep[a].key, key))
			return pt->sweep[a].line;
	return 0;
}

static void key_err(struct ct_err *err, int code, const struct ct_scenario *pt, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "FILE:LINE: [sweep] lab.path: ..." when the key is swept, else
 * "FILE: lab.path: ...". */
static void key_err(struct ct_err *err, int code, const struct ct_scenario *pt, const char *key,
		    const char *fmt, ...)
{
	char what[768];
	int line = axis_line(pt, key);
	const char *file = pt->path ? pt->path : "scenario";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		lab_err(err, code, "%s:%d: [sweep] %s: %s", file, line, key, what);
	else
		lab_err(err, code, "%s: %s: %s", file, key, what);
}

/* The topology is built once; a sweep point may not change it. */
static int check_fixed(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err)
{
	const struct ct_scenario *sc = lab->sc;
	const char *had = sc->lab.addresses ? sc->lab.addresses : CT_LAB_ADDR_DEFAULT;
	const char *want = pt->lab.addresses ? pt->lab.addresses : CT_LAB_ADDR_DEFAULT;
	const char *key = NULL, *from = NULL, *to = NULL;

	if (pt->lab.path != sc->lab.path) {
		key = "lab.path";
		from = ct_lab_path_name(sc->lab.path);
		to = ct_lab_path_name(pt->lab.path);
	} else if (pt->lab.conntrack_on != sc->lab.conntrack_on) {
		key = "lab.conntrack_on";
		from = ct_ct_on_name(sc->lab.conntrack_on);
		to = ct_ct_on_name(pt->lab.conntrack_on);
	} else if (strcmp(had, want)) {
		key = "lab.addresses";
		from = had;
		to = want;
	}
	if (!key)
		return 0;
	key_err(err, CT_EXIT_USAGE, pt, key,
		"%s: lab %s was built with %s and cannot change it between steps; run the "
		"scenario once per value (ctload run --set %s=%s) instead of sweeping it",
		to, lab->id, from, key, to);
	return -EINVAL;
}

int ct_lab_apply_sysctls(struct ct_lab *lab, const struct ct_scenario *sc, struct ct_err *err)
{
	struct ct_scenario *copy;
	int ret;

	if (err) {
		err->msg[0] = '\0';
		err->code = CT_EXIT_ENV;
	}
	/* lab->sc becomes `sc` below, and a later fresh netns is built from it. */
	ret = check_fixed(lab, sc, err);
	if (ret < 0)
		return ret;
	ret = apply_list(lab, CT_SYSCTL_HOST, &sc->sysctl[CT_SYSCTL_HOST], err);
	if (ret == 0)
		ret = apply_netns_sysctls(lab, sc, err);
	if (ret < 0)
		return ret;
	/* Remember them for a fresh netns. */
	copy = ct_scenario_dup(sc);
	if (!copy)
		return -ENOMEM;
	ct_scenario_free(lab->sc);
	lab->sc = copy;
	return 0;
}

int ct_lab_fresh(struct ct_lab *lab, struct ct_err *err)
{
	int ret;

	if (err) {
		err->msg[0] = '\0';
		err->code = CT_EXIT_ENV;
	}
	stop_server(lab);
	close_samplers(lab);
	close_netns_fds(lab);
	for (int r = CT_ROLE_NLAB - 1; r >= 0; r--) {
		if (!lab->ns[r][0])
			continue;
		ret = ct_netns_del(lab->ns[r]);
		if (ret < 0) {
			lab_err(err, CT_EXIT_ENV, "deleting netns %s for a fresh start: %s",
				lab->ns[r], strerror(-ret));
			return ret;
		}
	}
	ct_lab_event(lab, "fresh netns: rebuilding the lab");
	ret = build_netns(lab, err);
	if (ret < 0)
		return ret;
	set_info(lab);
	return ct_lab_step_begin(lab);
}

/* ---- per-step server and clients ------------------------------------------- */

/* "server.close client -> server, server.port 11211 -> 11211-11214" */
static void srv_diff(const struct srv_cfg *a, const struct srv_cfg *b, char *out, size_t len)
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
	if (a->backlog != b->backlog) {
		snprintf(x, sizeof(x), "%d", a->backlog);
		snprintf(y, sizeof(y), "%d", b->backlog);
		DIFF(true, "server.backlog", x, y);
	}
#undef DIFF
}

/* [lab] clients: add or remove the client netns' addresses in place. The
 * addresses live and die with the netns, so nothing is journaled. Removed
 * ones go from the top, so 198.18.0.1 (the primary, whose deletion would
 * take the secondaries with it) always stays. */
static int set_clients(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err)
{
	unsigned want = pt->lab.clients, have = (unsigned)lab->n_clients;
	unsigned max = ct_lab_addr_max_clients(&lab->ap);
	unsigned prefix = ct_lab_addr_link_prefix(&lab->ap, lab->sc->lab.path == CT_PATH_DIRECT);
	unsigned lo = want < have ? want : have, hi = want < have ? have : want;
	struct sockaddr_storage *addrs;
	char a[INET_ADDRSTRLEN], *script;
	size_t cap, len = 0;
	int ret;

	if (want == have)
		return 0;
	if (want < 1 || want > max) {
		key_err(err, CT_EXIT_USAGE, pt, "lab.clients",
			"%u: the lab's range holds at most %u client addresses", want,
			max);
		return -EINVAL;
	}
	cap = 64 + (size_t)(hi - lo) * 64;
	script = malloc(cap);
	addrs = calloc(want, sizeof(*addrs));
	if (!script || !addrs) {
		free(script);
		free(addrs);
		lab_err(err, CT_EXIT_ENV, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = lo; i < hi; i++)
		len += (size_t)snprintf(script + len, cap - len, "addr %s %s/%u dev veth0\n",
					want > have ? "add" : "del",
					ct_lab_addr_str(ct_lab_addr_client(&lab->ap, i), a), prefix);
	ret = batch(lab, CT_ROLE_CLIENT, script, err);
	free(script);
	if (ret < 0) {
		free(addrs);
		return ret;
	}
	for (unsigned i = 0; i < want; i++)
		ct_lab_addr_sockaddr(ct_lab_addr_client(&lab->ap, i), 0, &addrs[i]);
	free(lab->client_addrs);
	lab->client_addrs = addrs;
	lab->n_clients = want;
	ct_lab_event(lab, "lab.clients %u -> %u: client addresses %s", have, want,
		     want > have ? "added" : "removed");
	return 0;
}

int ct_lab_set_server(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err)
{
	struct srv_cfg want;
	size_t had_clients = lab->n_clients;
	bool restart;
	int ret;

	if (err) {
		err->msg[0] = '\0';
		err->code = CT_EXIT_ENV;
	}
	ret = check_fixed(lab, pt, err);
	if (ret < 0)
		return ret;
	ret = set_clients(lab, pt, err);
	if (ret < 0)
		return ret;
	srv_from(pt, &want);
	restart = !srv_equal(&want, &lab->srv) || lab->server_pid <= 0;
	if (restart) {
		char diff[512];

		srv_diff(&lab->srv, &want, diff, sizeof(diff));
		ct_lab_event(lab, "ctserver settings %s: restarting it",
			     diff[0] ? diff : "unchanged, but it is not running");
		stop_server(lab);
		/* Kept even if the start fails: a later ct_lab_fresh() retries
		 * with the settings the step asked for. */
		lab->srv = want;
		ret = start_server(lab, err);
		if (ret < 0)
			return ret;
	}
	if ((restart || had_clients != lab->n_clients) && set_info(lab) < 0) {
		lab_err(err, CT_EXIT_ENV, "writing the lab state: out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---- cooldown = drain ------------------------------------------------------- */

/* Does conntrack track in netns `r` (see build_rules)? */
static bool tracks(const struct ct_lab *lab, enum ct_role r)
{
	const struct ct_scenario *sc = lab->sc;

	if (r == CT_ROLE_SERVER)
		return sc->lab.conntrack_on == CT_CTON_SERVER;
	if (r == CT_ROLE_ROUTER)
		return sc->lab.conntrack_on == CT_CTON_ROUTER || sc->lab.path == CT_PATH_NAT;
	return false;
}

/* A socket's TIME_WAIT is fixed at 60 s (TCP_TIMEWAIT_LEN); a conntrack
 * entry's is the tracking netns' nf_conntrack_tcp_timeout_time_wait
 * (120 s by default). The longer of the two, and 10 s for the garbage
 * collector to get round to it. */
static uint64_t drain_budget(const struct ct_lab *lab)
{
	uint64_t longest = 60;

	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		char v[64];

		if (lab->nsfd[r] < 0 || !tracks(lab, (enum ct_role)r))
			continue;
		if (ct_sysctl_read(lab->nsfd[r], "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
				   v, sizeof(v)) == 0) {
			uint64_t t = strtoull(v, NULL, 10);
			if (t > longest)
				longest = t;
		}
	}
	return (longest + 10) * 1000000000ull;
}

struct drain_left {
	uint64_t tw[CT_ROLE_NLAB], ct[CT_ROLE_NLAB];
	bool any;
};

/* `states`: also dump the conntrack table, which makes the kernel reap the
 * expired entries it walks past (the count otherwise waits for the GC). */
static int drain_read(struct ct_lab *lab, bool states, struct drain_left *left,
		      struct ct_err *err)
{
	memset(left, 0, sizeof(*left));
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		struct ct_ns_counters c;
		int ret;

		if (!lab->samplers[r])
			continue;
		ret = ct_sampler_read(lab->samplers[r], states, &c);
		if (ret < 0) {
			lab_err(err, CT_EXIT_ENV, "drain: reading the counters of netns %s: %s",
				lab->ns[r], strerror(-ret));
			return ret;
		}
		if (c.tcp_tw > 0) {
			left->tw[r] = c.tcp_tw;
			left->any = true;
		}
		if (c.has_ct && c.ct_count > lab->ct_base[r]) {
			left->ct[r] = c.ct_count;
			left->any = true;
		}
	}
	return 0;
}

/* "server netns ctl-3f2a-srv still holds 812 conntrack entries, client
 * netns ctl-3f2a-cli still holds 3 TIME_WAIT sockets" */
static void drain_what(const struct ct_lab *lab, const struct drain_left *left, char *out,
		       size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int r = 0; r < CT_ROLE_NLAB && n < len; r++) {
		if (left->ct[r] && n < len) {
			n += (size_t)snprintf(out + n, len - n,
					      "%s%s netns %s still holds %llu conntrack entries",
					      n ? ", " : "", role_name[r], lab->ns[r],
					      (unsigned long long)left->ct[r]);
			if (lab->ct_base[r] && n < len)
				n += (size_t)snprintf(out + n, len - n, " (%llu when it was built)",
						      (unsigned long long)lab->ct_base[r]);
		}
		if (left->tw[r] && n < len)
			n += (size_t)snprintf(out + n, len - n,
					      "%s%s netns %s still holds %llu TIME_WAIT sockets",
					      n ? ", " : "", role_name[r], lab->ns[r],
					      (unsigned long long)left->tw[r]);
	}
}

int ct_lab_drain(struct ct_lab *lab, uint64_t max_wait_ns, struct ct_err *err)
{
	uint64_t start = ct_now_ns(), waited;
	struct drain_left left;
	char what[768], dur[32];
	int ret;

	if (err) {
		err->msg[0] = '\0';
		err->code = CT_EXIT_ENV;
	}
	if (max_wait_ns == 0)
		max_wait_ns = drain_budget(lab);
	for (unsigned i = 0;; i++) {
		/* The table dump at most once a second, as the sampler does. */
		ret = drain_read(lab, i % 5 == 0, &left, err);
		if (ret < 0)
			return ret;
		waited = ct_now_ns() - start;
		if (!left.any) {
			ct_lab_event(lab, "drained in %s",
				     ct_fmt_duration(waited, dur, sizeof(dur)));
			return 0;
		}
		drain_what(lab, &left, what, sizeof(what));
		if (i == 0) {
			ct_fmt_duration(max_wait_ns, dur, sizeof(dur));
			ct_info("cooldown = drain: %s; waiting up to %s", what, dur);
			ct_lab_event(lab, "drain: %s; waiting up to %s", what, dur);
		}
		if (ct_stop_requested()) {
			lab_err(err, CT_EXIT_ENV, "drain interrupted: %s", what);
			return -EINTR;
		}
		if (waited >= max_wait_ns) {
			ct_fmt_duration(waited, dur, sizeof(dur));
			lab_err(err, CT_EXIT_ENV,
				"%s after %s of [search] cooldown = drain; wait longer, or use "
				"cooldown = fresh-netns, which starts each step from empty netns",
				what, dur);
			ct_lab_event(lab, "drain gave up: %s after %s", what, dur);
			return -ETIMEDOUT;
		}
		{
			uint64_t left_ns = max_wait_ns - waited;
			uint64_t nap = left_ns < 200000000ull ? left_ns : 200000000ull;
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap};

			/* A signal cuts the nap short; the stop flag is checked next. */
			nanosleep(&ts, NULL);
		}
	}
}
