/* pktio — the one place a packet-I/O backend is chosen by name. */
#include "loadgen/engine/packet/pktio.h"

#include <stddef.h>
#include <string.h>

#include "ct_config.h"
#include "loadgen/engine/packet/packet_int.h"

static const struct ct_pktio_ops *const backends[] = {
#if CT_HAVE_PCAP
    &ct_pktio_pcap_ops,
#endif
#if CT_HAVE_DPDK
    &ct_pktio_dpdk_ops,
#endif
    NULL,
};

int ct_pktio_prepare(const char *name, const struct ct_pktio_cfg *cfg, struct ct_err *err)
{
	for (const struct ct_pktio_ops *const *b = backends; *b; b++)
		if (!strcmp((*b)->name, name))
			return (*b)->prepare ? (*b)->prepare(cfg, err) : 0;
	return 0;
}

struct ct_pktio *ct_pktio_open(const char *name, const struct ct_pktio_cfg *cfg,
			       struct ct_err *err)
{
	for (const struct ct_pktio_ops *const *b = backends; *b; b++) {
		if (strcmp((*b)->name, name))
			continue;
		struct ct_pktio *io = (*b)->open(cfg, err);
		if (io)
			io->ops = *b;
		return io;
	}
	ct_err_set(err, CT_EXIT_ENV,
		   "packet I/O '%s' is not built into this ctload: it needs the meson feature "
		   "'%s' and its Debian package (%s); see scripts/setup",
		   name, name, !strcmp(name, "dpdk") ? "libdpdk-dev" : "libpcap-dev");
	return NULL;
}
