/* loadcfg — scenario [load] to engine config (see loadcfg.h). */
#include "loadgen/run/loadcfg.h"

#include <string.h>

static enum ct_sched_profile profile_of(enum ct_profile p)
{
	switch (p) {
	case CT_PROFILE_RAMP:
		return CT_SCHED_RAMP;
	case CT_PROFILE_STEP:
		return CT_SCHED_STEP;
	case CT_PROFILE_POISSON:
		return CT_SCHED_POISSON;
	case CT_PROFILE_CONSTANT:
	default:
		return CT_SCHED_CONSTANT;
	}
}

static enum ct_engine_ports ports_of(enum ct_port_strategy p)
{
	switch (p) {
	case CT_PORTS_BIND:
		return CT_ENGINE_PORTS_BIND;
	case CT_PORTS_RANGE:
		return CT_ENGINE_PORTS_RANGE;
	case CT_PORTS_KERNEL:
	default:
		return CT_ENGINE_PORTS_KERNEL;
	}
}

static enum ct_engine_close close_of(const struct ct_scenario *sc)
{
	switch (ct_scenario_client_close(sc)) {
	case CT_CCLOSE_RST:
		return CT_ENGINE_CLOSE_RST;
	case CT_CCLOSE_WAIT:
		return CT_ENGINE_CLOSE_WAIT;
	case CT_CCLOSE_FIN:
	case CT_CCLOSE_AUTO: /* never: resolved above */
	default:
		return CT_ENGINE_CLOSE_FIN;
	}
}

void ct_loadcfg_fill(struct ct_engine_config *cfg, const struct ct_scenario *sc)
{
	struct ct_engine_load *l = &cfg->load;

	cfg->name = ct_engine_kind_name(sc->load.engine);
	cfg->dpdk.eal = sc->dpdk.eal;
	cfg->dpdk.port = sc->dpdk.port;
	/* net_af_packet's default qdisc bypass sends past the kernel's taps: a
	 * capture on the client veth would hold none of the engine's frames.
	 * With [report] capture = on, the default port keeps the taps. */
	if (sc->report.capture &&
	    (!cfg->dpdk.port || !strcmp(cfg->dpdk.port, "net_af_packet0,iface={iface}")))
		cfg->dpdk.port = "net_af_packet0,iface={iface},qdisc_bypass=0";
	memset(l, 0, sizeof(*l));
	l->sched.profile = profile_of(sc->load.profile);
	l->sched.rate = sc->load.rate;
	l->sched.rate_end = sc->load.rate_end > 0 ? sc->load.rate_end : sc->load.rate;
	l->sched.step_every_ns = sc->load.step_every_ns;
	l->sched.step_by = sc->load.step_by;
	l->sched.duration_ns = sc->load.duration_ns;
	l->sched.max_connections = sc->load.max_connections;
	l->sched.seed = sc->scenario.seed;
	l->request = sc->load.request;
	l->expect = sc->load.expect;
	l->expect_start = sc->load.expect_start;
	l->raw = sc->load.raw;
	l->connect_timeout_ns = sc->load.connect_timeout_ns;
	l->reply_timeout_ns = sc->load.reply_timeout_ns;
	l->ports = ports_of(sc->load.ports);
	l->port_lo = sc->load.port_lo;
	l->port_hi = sc->load.port_hi;
	l->close = close_of(sc);
	l->threads = sc->load.threads;
	l->max_inflight = sc->load.max_inflight;
	l->launch_window_ns = sc->load.launch_window_ns;
	l->reuse_after_ns = sc->load.reuse_after_ns;
}
