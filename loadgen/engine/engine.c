/* engine — backend choice, in one place. */
#include "loadgen/engine/engine.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ct_config.h"
#include "loadgen/engine/engine_int.h"

static const struct ct_engine_ops *const backends[] = {
    &ct_engine_kernel_ops,
#if CT_HAVE_PCAP
    &ct_engine_pcap_ops,
#endif
#if CT_HAVE_DPDK
    &ct_engine_dpdk_ops,
#endif
    NULL,
};

/* The default is half the CPUs ctload may run on, at least one. The server
 * is always on this host (traffic stays on loopback or in the lab's
 * namespaces) and needs CPUs of its own, and on loopback or a veth the
 * kernel's TCP work for both ends runs on the sending side's CPU. Measured
 * on 2 CPUs against nginx (docs/PERFORMANCE.md): one client thread
 * sustained 32k conn/s with no failure where two threads failed at that
 * rate (nginx starved, SYNs dropped), and it used 8 % less CPU per
 * connection. */
unsigned ct_engine_threads(const struct ct_engine_config *cfg)
{
	unsigned n = cfg->threads ? cfg->threads : cfg->load.threads;
	if (!n) {
		cpu_set_t set;
		long c = sched_getaffinity(0, sizeof(set), &set) == 0
			     ? CPU_COUNT(&set)
			     : sysconf(_SC_NPROCESSORS_ONLN);
		n = c >= 2 ? (unsigned)c / 2 : 1;
	}
	if (cfg->hosts.n > 1) /* every host the same share */
		n = (n + cfg->hosts.n - 1) / cfg->hosts.n * cfg->hosts.n;
	return n;
}

static const struct ct_engine_ops *find(const char *name)
{
	for (const struct ct_engine_ops *const *b = backends; *b; b++)
		if (!strcmp((*b)->name, name))
			return *b;
	return NULL;
}

bool ct_engine_built(const char *name, struct ct_err *err)
{
	if (find(name))
		return true;
	if (!strcmp(name, "pcap") || !strcmp(name, "dpdk"))
		ct_err_set(err, CT_EXIT_ENV,
			   "engine '%s' is not built into this ctload: it needs the meson feature "
			   "'%s' and its Debian package (%s; scripts/setup installs it), then "
			   "meson setup --reconfigure; or use engine = kernel",
			   name, name, !strcmp(name, "pcap") ? "libpcap-dev" : "libdpdk-dev");
	else
		ct_err_set(err, CT_EXIT_ENV,
			   "engine '%s' is not built into this ctload; use engine = kernel", name);
	return false;
}

struct ct_engine *ct_engine_new(const struct ct_engine_config *cfg)
{
	const char *name = cfg->name ? cfg->name : ct_engine_kernel_ops.name;
	const struct ct_engine_ops *b = find(name);
	struct ct_err err = {0};
	if (!b) {
		ct_engine_built(name, &err);
		ct_error("%s", err.msg);
		errno = ENOENT;
		return NULL;
	}
	struct ct_engine *e = b->new (cfg);
	if (e)
		e->ops = b;
	return e;
}

int ct_engine_start(struct ct_engine *e)
{
	return e->ops->start(e);
}

void ct_engine_snapshot(struct ct_engine *e, struct ct_engine_stats *out)
{
	e->ops->snapshot(e, out);
}

void ct_engine_stop(struct ct_engine *e, bool abort)
{
	e->ops->stop(e, abort);
}

void ct_engine_free(struct ct_engine *e)
{
	if (e)
		e->ops->free(e);
}

const char *ct_engine_name(const struct ct_engine *e)
{
	return e->ops->name;
}

size_t ct_engine_conn_size(const struct ct_engine *e)
{
	return e->ops->conn_size(e);
}
