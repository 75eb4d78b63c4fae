/* step — what a step may change in a built lab: ctserver's settings (a new
 * ctserver when they differ) and the number of client addresses (changed
 * in place); and what it may not: the topology. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/lab/lab_int.h"

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
		ct_err_set(err, code, "%s:%d: [sweep] %s: %s", file, line, key, what);
	else
		ct_err_set(err, code, "%s: %s: %s", file, key, what);
}

/* The value of one [lab] preload key as written in a file. */
static void preload_values(const struct ct_scenario *sc, const char *key, char *buf, size_t len)
{
	if (!strcmp(key, "lab.preload"))
		snprintf(buf, len, "%llu", (unsigned long long)sc->lab.preload);
	else if (!strcmp(key, "lab.preload_state"))
		snprintf(buf, len, "%s", ct_preload_state_name(sc->lab.preload_state));
	else
		snprintf(buf, len, "%llus",
			 (unsigned long long)(sc->lab.preload_timeout_ns / 1000000000ull));
}

/* The topology is built once; a sweep point may not change it. */
int ct_lab_step_check_fixed(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err)
{
	const struct ct_scenario *sc = lab->sc;
	const char *had = sc->lab.addresses ? sc->lab.addresses : CT_LAB_ADDR_DEFAULT;
	const char *want = pt->lab.addresses ? pt->lab.addresses : CT_LAB_ADDR_DEFAULT;
	const char *key = NULL, *from = NULL, *to = NULL;
	char fb[32], tb[32];

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
	} else if (pt->lab.client_hosts != sc->lab.client_hosts ||
		   (sc->lab.client_hosts > 1 && pt->lab.clients != sc->lab.clients)) {
		/* The hosts' links and address blocks are built once. */
		bool hosts = pt->lab.client_hosts != sc->lab.client_hosts;
		key = hosts ? "lab.client_hosts" : "lab.clients";
		snprintf(fb, sizeof(fb), "%u", hosts ? sc->lab.client_hosts : sc->lab.clients);
		snprintf(tb, sizeof(tb), "%u", hosts ? pt->lab.client_hosts : pt->lab.clients);
		from = fb;
		to = tb;
	} else if (pt->lab.bystander != sc->lab.bystander ||
		   pt->lab.bystander_port != sc->lab.bystander_port) {
		/* Its netns, link and listener are built once. */
		bool rate = pt->lab.bystander != sc->lab.bystander;
		key = rate ? "lab.bystander" : "lab.bystander_port";
		if (rate) {
			snprintf(fb, sizeof(fb), "%g/s", sc->lab.bystander);
			snprintf(tb, sizeof(tb), "%g/s", pt->lab.bystander);
		} else {
			snprintf(fb, sizeof(fb), "%u", sc->lab.bystander_port);
			snprintf(tb, sizeof(tb), "%u", pt->lab.bystander_port);
		}
		from = fb;
		to = tb;
	} else if (pt->lab.preload != sc->lab.preload ||
		   pt->lab.preload_state != sc->lab.preload_state ||
		   pt->lab.preload_timeout_ns != sc->lab.preload_timeout_ns) {
		/* Made with the netns; fresh-netns makes the same ones again. */
		key = pt->lab.preload != sc->lab.preload	       ? "lab.preload"
		      : pt->lab.preload_state != sc->lab.preload_state ? "lab.preload_state"
								       : "lab.preload_timeout";
		preload_values(sc, key, fb, sizeof(fb));
		preload_values(pt, key, tb, sizeof(tb));
		from = fb;
		to = tb;
	} else if (ct_lab_packet_engine(pt) != ct_lab_packet_engine(sc)) {
		/* A packet engine's client addresses are off the interface. */
		key = "load.engine";
		from = ct_engine_kind_name(sc->load.engine);
		to = ct_engine_kind_name(pt->load.engine);
	} else if (pt->server.engine != sc->server.engine) {
		/* The responder's address is off the server veth, ctserver's on it. */
		key = "server.engine";
		from = ct_srv_engine_name(sc->server.engine);
		to = ct_srv_engine_name(pt->server.engine);
	}
	if (!key)
		return 0;
	key_err(err, CT_EXIT_USAGE, pt, key,
		"%s: lab %s was built with %s and cannot change it between steps; run the "
		"scenario once per value (ctload run --set %s=%s) instead of sweeping it",
		to, lab->id, from, key, to);
	return -EINVAL;
}

/* [lab] clients: the client netns' local routes replaced in place (a few
 * blocks, whatever the count). They live and die with the netns, so
 * nothing is journaled. Client 0, veth0's own address, always stays. */
static int set_clients(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err)
{
	unsigned want = pt->lab.clients, have = (unsigned)lab->n_clients;
	unsigned max = ct_lab_addr_max_clients(&lab->ap);
	struct sockaddr_storage *addrs;
	char script[8192];
	size_t len;
	int ret;

	if (want == have)
		return 0;
	if (want < 1 || want > max) {
		key_err(err, CT_EXIT_USAGE, pt, "lab.clients",
			"%u: the lab's range holds at most %u client addresses; a wider [lab] "
			"addresses holds more, but the lab is built with its range: run the "
			"scenario with it",
			want, max);
		return -EINVAL;
	}
	addrs = calloc(want, sizeof(*addrs));
	if (!addrs) {
		ct_err_set(err, CT_EXIT_ENV, "out of memory");
		return -ENOMEM;
	}
	script[0] = '\0';
	len = ct_lab_topo_client_routes(&lab->ap, have, false, script, sizeof(script));
	ct_lab_topo_client_routes(&lab->ap, want, true, script + len, sizeof(script) - len);
	/* A packet engine's addresses are its own, not the netns's. */
	ret = script[0] && !ct_lab_packet_engine(lab->sc)
		  ? ct_lab_topo_batch(lab, CT_ROLE_CLIENT, script, err)
		  : 0;
	if (ret < 0) {
		free(addrs);
		return ret;
	}
	for (unsigned i = 0; i < want; i++)
		ct_lab_addr_sockaddr(ct_lab_addr_client(&lab->ap, i), 0, &addrs[i]);
	free(lab->client_addrs);
	lab->client_addrs = addrs;
	lab->n_clients = want;
	ct_lab_hosts_plan(lab); /* one host here (check_fixed): all of them */
	ct_lab_event(lab, "lab.clients %u -> %u: client addresses %s", have, want,
		     want > have ? "added" : "removed");
	return 0;
}

int ct_lab_set_server(struct ct_lab *lab, const struct ct_scenario *pt, struct ct_err *err)
{
	struct ct_lab_ctserver_cfg want;
	size_t had_clients = lab->n_clients;
	bool restart;
	int ret;

	ct_lab_err_clear(err);
	ret = ct_lab_step_check_fixed(lab, pt, err);
	if (ret < 0)
		return ret;
	ret = set_clients(lab, pt, err);
	if (ret < 0)
		return ret;
	ct_lab_ctserver_cfg_from(pt, &want);
	restart = !ct_lab_ctserver_cfg_equal(&want, &lab->srv) || lab->server_pid <= 0;
	if (restart) {
		char diff[512];

		ct_lab_ctserver_cfg_diff(&lab->srv, &want, diff, sizeof(diff));
		ct_lab_event(lab, "ctserver settings %s: restarting it",
			     diff[0] ? diff : "unchanged, but it is not running");
		ct_lab_ctserver_stop(lab);
		/* Kept even if the start fails: a later ct_lab_fresh() retries
		 * with the settings the step asked for. */
		lab->srv = want;
		ret = ct_lab_ctserver_start(lab, err);
		if (ret < 0)
			return ret;
	}
	if ((restart || had_clients != lab->n_clients) && ct_lab_set_info(lab) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "writing the lab state: out of memory");
		return -ENOMEM;
	}
	return 0;
}
