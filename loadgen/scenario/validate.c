/* validate — the checks that involve more than one key (a rate unless
 * [search], topology = host needs a target, ports = bind needs a range ...).
 * They run once the file, the overrides and the sweep are in, and on each
 * sweep value's copy. */
#include <errno.h>
#include <string.h>

#include "loadgen/scenario/scenario_int.h"

/* [server] engine = responder: what a stateless responder cannot do. NULL
 * when the scenario is fine. */
static const char *responder_refusal(const struct ct_scenario *sc)
{
	if (sc->server.engine == CT_SRVENG_CTSERVER)
		return NULL;
	if (sc->scenario.topology != CT_TOPO_LAB)
		return "engine = responder runs in the lab's server netns only (topology = lab)";
	if (sc->lab.conntrack_on == CT_CTON_SERVER)
		return "engine = responder answers on the server veth without the server's "
		       "kernel, so conntrack_on = server would track nothing: set [lab] "
		       "conntrack_on = router (path = router or nat) or none";
	if (sc->server.mode == CT_SRV_HTTP)
		return "engine = responder answers mode = memcache or echo, not http (its reply "
		       "is one segment and it keeps no state)";
	if (sc->server.close_delay_ns)
		return "engine = responder answers at once, with no state to wait in: remove "
		       "close_delay (or use engine = ctserver)";
	return NULL;
}

/* [lab] preload: only into a lab netns that tracks (entries there go with
 * the netns; the host's own table is never touched), for whole seconds. */
static int check_preload(const struct ct_scenario *sc, struct ct_scn_where *w,
			 const struct ct_scn_where *w0, const int *key_lines, struct ct_err *err)
{
	w->line = key_lines && key_lines[AT_PRELOAD] ? key_lines[AT_PRELOAD] : w0->line;
	if (sc->scenario.topology != CT_TOPO_LAB)
		return ct_scn_fail(err, w, "lab", "preload",
				   "preloads the conntrack table of a lab netns: it needs "
				   "topology = lab (ctload never fills the host's own table)");
	if (sc->lab.conntrack_on == CT_CTON_NONE && sc->lab.path != CT_PATH_NAT)
		return ct_scn_fail(err, w, "lab", "preload",
				   "no lab netns tracks connections (conntrack_on = none, path = "
				   "%s): set conntrack_on = server or router, or path = nat",
				   ct_lab_path_name(sc->lab.path));
	if (sc->lab.preload_timeout_ns % 1000000000ull) {
		w->line = key_lines && key_lines[AT_PRELOAD_TIMEOUT] ? key_lines[AT_PRELOAD_TIMEOUT]
								     : w0->line;
		return ct_scn_fail(err, w, "lab", "preload_timeout",
				   "conntrack timeouts are whole seconds: write e.g. 120s or 1h");
	}
	return 0;
}

int ct_scn_check_whole(const struct ct_scenario *sc, const struct ct_scn_where *w0,
		       const int *key_lines, struct ct_err *err)
{
	struct ct_scn_where w = *w0;
	int rc;
	/* The message points at the key's line when the file set it. */
#define AT(idx) (w.line = key_lines && key_lines[idx] ? key_lines[idx] : w0->line, &w)

	if (!sc->scenario.name)
		return ct_scn_fail(err, AT(AT_SCEN), "scenario", "name",
				   "required: every scenario has a name (e.g. name = memcache-tw)");
	/* A search may pick its own start (runner: a quarter of the model's
	 * limit); one step needs its rate. */
	if (!(sc->load.rate > 0.0) && !sc->search.enabled)
		return ct_scn_fail(
		    err, AT(AT_LOAD), "load", "rate",
		    "required: the connection rate to open (e.g. rate = 500/s), unless "
		    "[search] looks for it");
	if (sc->scenario.topology == CT_TOPO_HOST && !sc->server.target)
		return ct_scn_fail(
		    err, AT(AT_TOPO), "scenario", "topology",
		    "topology = host needs [server] target = HOST:PORT (the server to "
		    "load)");
	if (sc->scenario.topology == CT_TOPO_LAB && sc->server.target)
		return ct_scn_fail(
		    err, AT(AT_TARGET), "server", "target",
		    "only for topology = host: in a lab ctload starts its own server in "
		    "the server netns; remove target or set topology = host");
	if (sc->scenario.topology == CT_TOPO_HOST) {
		for (int s = CT_SYSCTL_SERVER; s <= CT_SYSCTL_ROUTER; s++)
			if (sc->sysctl[s].n)
				return ct_scn_fail(
				    err, AT(AT_TOPO), "scenario", "topology",
				    "topology = host has no %s netns: move the keys of "
				    "[sysctl.%s] (line %d) to [sysctl.host] or use "
				    "topology = lab",
				    ct_sysctl_scope_name((enum ct_sysctl_scope)s),
				    ct_sysctl_scope_name((enum ct_sysctl_scope)s),
				    sc->sysctl[s].v[0].line);
	}
	if (sc->lab.conntrack_on == CT_CTON_ROUTER && sc->lab.path == CT_PATH_DIRECT)
		return ct_scn_fail(
		    err, AT(AT_CTON), "lab", "conntrack_on",
		    "conntrack_on = router needs path = router or nat (path = direct "
		    "has no router)");
	const char *resp = responder_refusal(sc);
	if (resp)
		return ct_scn_fail(err, AT(AT_SRVENG), "server", "engine", "%s", resp);
	if (sc->lab.preload && (rc = check_preload(sc, &w, w0, key_lines, err)) < 0)
		return rc;
	if (sc->load.profile == CT_PROFILE_STEP &&
	    (!sc->load.step_every_ns || !(sc->load.step_by > 0)))
		return ct_scn_fail(
		    err, AT(AT_PROFILE), "load", "profile",
		    "profile = step needs step_every (e.g. 5s) and step_by (e.g. 500/s)");
	if ((sc->load.ports == CT_PORTS_BIND || sc->load.ports == CT_PORTS_RANGE) &&
	    !sc->load.port_lo)
		return ct_scn_fail(err, AT(AT_PORTS), "load", "ports",
				   "ports = %s needs a port range: write ports = %s 40000-40999",
				   ct_port_strategy_name(sc->load.ports),
				   ct_port_strategy_name(sc->load.ports));
	/* A reply never ends with a status line: every connection would fail
	 * as protocol (seen against nginx). */
	if (!sc->load.raw && sc->load.expect && strncmp(sc->load.expect, "HTTP/", 5) == 0)
		return ct_scn_fail(err, AT(AT_EXPECT), "load", "expect",
				   "expect = \"%s\" must be the reply's last bytes, and an HTTP "
				   "status line is its first: write expect_start = \"%s\"",
				   sc->load.expect, sc->load.expect);
	return 0;
#undef AT
}

int ct_scenario_check(const struct ct_scenario *sc, struct ct_err *err)
{
	struct ct_scn_where w = {sc && sc->path ? sc->path : "scenario", 0};

	if (!sc)
		return -EINVAL;
	return ct_scn_check_whole(sc, &w, NULL, err);
}
