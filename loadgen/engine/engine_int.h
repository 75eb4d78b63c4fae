/* engine_int — what the engine folder shares inside: the backends' ops
 * tables, which only engine.c's chooser names. A backend lives in its own
 * sub-folder (kernel/; packet/ for the userspace TCP client, its pcap and
 * dpdk files the only ones with those headers) and adds its ops here and to
 * engine.c's table. */
#pragma once

#include "loadgen/engine/engine.h"

/* kernel/: libevent sockets. */
extern const struct ct_engine_ops ct_engine_kernel_ops;
/* packet/: the userspace TCP client over libpcap (built with CT_HAVE_PCAP). */
extern const struct ct_engine_ops ct_engine_pcap_ops;
/* packet/: the same client over DPDK (built with CT_HAVE_DPDK). */
extern const struct ct_engine_ops ct_engine_dpdk_ops;
