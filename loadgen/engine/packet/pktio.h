/* pktio — the packet engine's port: bursts of frames in and out.
 *
 * One ops table per backend (pcap, dpdk), chosen by name in one
 * place, ct_pktio_open(). The shape is DPDK's: rx_burst fills an array of
 * struct ct_pkt that point into the backend's own buffers (for DPDK, the
 * mbufs rte_eth_rx_burst returned: data = rte_pktmbuf_mtod, priv = the
 * mbuf), which the caller hands back with rx_free once it has read them;
 * a frame to send is written into a buffer from tx_alloc (an mbuf from the
 * pool) and given to tx_burst, which takes the first k it returns (as
 * rte_eth_tx_burst) and leaves the rest to the caller, to retry or tx_free.
 * No call copies a frame on the DPDK path; the pcap backend copies once
 * each way because libpcap owns its ring slots only during a callback.
 *
 * Only a backend's own file includes its library's headers (pcap.h,
 * rte_*.h); the engine sees this file only. One thread uses a port.
 *
 * Offloads: a backend says what it does for the engine; the engine
 * computes in software whatever is not offered (af_packet and af_xdp
 * offer no checksum offload at all). */
#pragma once

#include <stdint.h>

#include "loadgen/base/err.h"

struct ct_pkt {
	uint8_t *data; /* the frame, from its Ethernet header */
	uint32_t len;  /* bytes in the frame; tx: set by the caller */
	void *priv;    /* the backend's buffer (an rte_mbuf *) */
};

/* What the port does in hardware (or the backend in software). */
enum ct_pktio_offload {
	CT_PKTIO_TX_IP_CSUM = 1 << 0,  /* fills the IPv4 header checksum */
	CT_PKTIO_TX_TCP_CSUM = 1 << 1, /* fills the TCP checksum */
	CT_PKTIO_RX_CSUM = 1 << 2,     /* has checked received checksums */
};

struct ct_pktio_cfg {
	const char *ifname; /* the interface (pcap), or the port's vdev (dpdk) */
	unsigned burst;	    /* the most frames one rx or tx call handles */
	unsigned tx_bufs;   /* tx buffers the engine may hold at once */
	unsigned inflight;  /* the engine's in-flight cap (sizes dpdk's rings) */
	/* dpdk: [dpdk] eal and port, and the EAL file prefix (lab.c) */
	const char *eal, *port, *file_prefix;
	/* dpdk: this handle is queue `queue` of `queues` (0: 1) of the port;
	 * queue 0 opens first and sets the port up, the others attach. A
	 * frame's queue is chosen by ct_pktio_shard_of() on its TCP
	 * destination port within steer_lo..steer_hi. */
	unsigned queue, queues;
	uint16_t steer_lo, steer_hi;
};

/* Which of n shards owns client port `port` of the pool lo..hi: the
 * range cut in n contiguous parts (port outside it: shard 0). */
static inline unsigned ct_pktio_shard_of(uint16_t port, uint16_t lo, uint16_t hi, unsigned n)
{
	if (n <= 1 || port < lo || port > hi)
		return 0;
	return (unsigned)((uint64_t)(port - lo) * n / ((uint32_t)hi - lo + 1));
}

/* Kept by the backend, read by the engine's owner thread. */
struct ct_pktio_stats {
	uint64_t rx, tx;   /* frames */
	uint64_t tx_fail;  /* frames a send refused (full queue, error) */
	uint64_t rx_trunc; /* frames cut by the buffer size: not passed on */
};

struct ct_pktio;

struct ct_pktio_ops {
	const char *name;
	/* Optional (NULL: none): process-wide setup, made from ctload's own
	 * netns before open() runs inside the client's (DPDK's EAL, whose
	 * threads would otherwise hold the client netns). 0 or -errno with
	 * err filled (-EINVAL: a bad setting, exit 2). */
	int (*prepare)(const struct ct_pktio_cfg *cfg, struct ct_err *err);
	/* NULL with err filled (exit code 3 for the environment). */
	struct ct_pktio *(*open)(const struct ct_pktio_cfg *cfg, struct ct_err *err);
	/* Up to n received frames into pkts; 0 when none is waiting. */
	unsigned (*rx_burst)(struct ct_pktio *io, struct ct_pkt *pkts, unsigned n);
	/* Hand received frames back. */
	void (*rx_free)(struct ct_pktio *io, struct ct_pkt *pkts, unsigned n);
	/* Up to n empty buffers of io->frame_size bytes. */
	unsigned (*tx_alloc)(struct ct_pktio *io, struct ct_pkt *pkts, unsigned n);
	/* Send pkts[0..n): returns k, the frames taken (pkts[0..k) are the
	 * backend's again); pkts[k..n) stay the caller's. */
	unsigned (*tx_burst)(struct ct_pktio *io, struct ct_pkt *pkts, unsigned n);
	/* Return unsent buffers. */
	void (*tx_free)(struct ct_pktio *io, struct ct_pkt *pkts, unsigned n);
	/* An fd that polls readable when frames wait, or -1 (busy-poll). */
	int (*fd)(struct ct_pktio *io);
	/* Optional (NULL: none): the thread that will use the port starts and
	 * ends (DPDK registers it as an lcore, so mempool caches work). */
	void (*thread_enter)(struct ct_pktio *io);
	void (*thread_leave)(struct ct_pktio *io);
	void (*close)(struct ct_pktio *io);
};

/* Generic handle: ops + what every backend reports. Backends embed it first. */
struct ct_pktio {
	const struct ct_pktio_ops *ops;
	uint8_t mac[6];
	unsigned mtu;
	unsigned offloads; /* enum ct_pktio_offload bits */
	uint32_t frame_size; /* bytes of a tx buffer (>= mtu + 14) */
	struct ct_pktio_stats st;
};

/* Backend `name`'s prepare, if it has one (0 for an unknown name: open
 * says so). */
int ct_pktio_prepare(const char *name, const struct ct_pktio_cfg *cfg, struct ct_err *err);

/* Open backend `name` ("pcap", "dpdk") on cfg. NULL with err filled; an unknown or
 * unbuilt backend is exit 3 naming the meson feature. */
struct ct_pktio *ct_pktio_open(const char *name, const struct ct_pktio_cfg *cfg,
			       struct ct_err *err);

static inline unsigned ct_pktio_rx_burst(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	return io->ops->rx_burst(io, p, n);
}
static inline void ct_pktio_rx_free(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	io->ops->rx_free(io, p, n);
}
static inline unsigned ct_pktio_tx_alloc(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	return io->ops->tx_alloc(io, p, n);
}
static inline unsigned ct_pktio_tx_burst(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	return io->ops->tx_burst(io, p, n);
}
static inline void ct_pktio_tx_free(struct ct_pktio *io, struct ct_pkt *p, unsigned n)
{
	io->ops->tx_free(io, p, n);
}
static inline int ct_pktio_fd(struct ct_pktio *io)
{
	return io->ops->fd(io);
}
static inline void ct_pktio_thread_enter(struct ct_pktio *io)
{
	if (io->ops->thread_enter)
		io->ops->thread_enter(io);
}
static inline void ct_pktio_thread_leave(struct ct_pktio *io)
{
	if (io->ops->thread_leave)
		io->ops->thread_leave(io);
}
/* NULL is a no-op. */
static inline void ct_pktio_close(struct ct_pktio *io)
{
	if (io)
		io->ops->close(io);
}
