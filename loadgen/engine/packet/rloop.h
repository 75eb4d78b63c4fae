/* rloop — the stateless responder as a running loop: a packet-I/O port
 * (pktio.h) opened on an interface of the current netns, every received
 * frame answered by ct_resp_answer() (responder.h), until the stop flag
 * (common/sig.h: SIGTERM, SIGINT) is set. What `ctload respond` runs, and
 * what the lab starts in its server netns for [server] engine = responder.
 *
 * Bounded: the loop sleeps at most 10 ms in poll() between bursts (a port
 * without an fd, DPDK's, is busy-polled, with 50 us naps once it has been
 * idle for a while), so a stop request ends it within that; it holds no
 * connection state, so there is nothing to drain. */
#pragma once

#include <stdint.h>

#include "loadgen/base/err.h"
#include "loadgen/engine/packet/responder.h"

struct ct_rloop_cfg {
	const char *backend; /* "pcap" or "dpdk" */
	/* dpdk: the EAL's arguments, the port (vdev spec or device) and the
	 * EAL's --file-prefix (one a process: the client's differs) */
	const char *eal, *port, *file_prefix;
	const char *ifname;
	uint32_t addr; /* the server address it answers for, host order */
	uint16_t port_lo, port_hi;
	enum ct_resp_mode mode;
	enum ct_resp_close close;
	/* called once the port is open, before the first frame is read */
	void (*ready)(void *arg, const uint8_t mac[6]);
	void *ready_arg;
};

struct ct_rloop_stats {
	struct ct_resp_stats resp;
	uint64_t rx, tx, tx_dropped;
};

/* Run until ct_stop_requested(). 0, or -errno with err filled (the port
 * would not open: exit code in err). *st is filled either way. */
int ct_rloop_run(const struct ct_rloop_cfg *cfg, struct ct_rloop_stats *st, struct ct_err *err);
