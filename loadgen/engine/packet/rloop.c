/* rloop — the stateless responder's loop over a packet-I/O port (rloop.h). */
#include "loadgen/engine/packet/rloop.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/sig.h"
#include "loadgen/engine/packet/pktio.h"

#define RL_BURST   64
#define RL_WAIT_MS 10
#define RL_IDLE_TURNS 1000
#define RL_IDLE_NAP_US 50

struct rl {
	struct ct_pktio *io;
	struct ct_resp r;
	struct ct_pkt tx[2 * RL_BURST];
	unsigned ntx;
	uint64_t tx_dropped;
};

/* Send what is queued: a full queue takes part of a burst, the rest is
 * retried a few times, then dropped (counted), as a lossy link would. */
static void flush(struct rl *l)
{
	unsigned off = 0;
	for (int tries = 0; off < l->ntx && tries < 4; tries++)
		off += ct_pktio_tx_burst(l->io, l->tx + off, l->ntx - off);
	if (off < l->ntx) {
		l->tx_dropped += l->ntx - off;
		ct_pktio_tx_free(l->io, l->tx + off, l->ntx - off);
	}
	l->ntx = 0;
}

/* Answer one received frame into the send queue. */
static void answer(struct rl *l, const struct ct_pkt *in, uint64_t now_s)
{
	uint8_t *out[2];
	size_t olen[2] = {0, 0};

	if (l->ntx + 2 > 2 * RL_BURST)
		flush(l);
	unsigned got = ct_pktio_tx_alloc(l->io, l->tx + l->ntx, 2);
	if (got < 2) {
		ct_pktio_tx_free(l->io, l->tx + l->ntx, got);
		l->tx_dropped++;
		return;
	}
	out[0] = l->tx[l->ntx].data;
	out[1] = l->tx[l->ntx + 1].data;
	unsigned k = ct_resp_answer(&l->r, in->data, in->len, now_s, out, olen);
	for (unsigned i = 0; i < k; i++)
		l->tx[l->ntx + i].len = (uint32_t)olen[i];
	ct_pktio_tx_free(l->io, l->tx + l->ntx + k, 2 - k);
	l->ntx += k;
}

/* Sleep until frames wait (at most RL_WAIT_MS); a port without an fd is
 * polled, with a short nap once idle for RL_IDLE_TURNS turns (a DPDK
 * responder shares the machine with the client it answers). */
static void wait_frames(struct rl *l, unsigned *idle)
{
	struct pollfd pf = {.fd = ct_pktio_fd(l->io), .events = POLLIN};
	if (pf.fd >= 0)
		(void)poll(&pf, 1, RL_WAIT_MS);
	else if (++*idle >= RL_IDLE_TURNS)
		usleep(RL_IDLE_NAP_US);
}

int ct_rloop_run(const struct ct_rloop_cfg *cfg, struct ct_rloop_stats *st, struct ct_err *err)
{
	struct ct_pktio_cfg pc = {.ifname = cfg->ifname, .burst = RL_BURST,
				  .tx_bufs = 4 * RL_BURST, .inflight = 4 * RL_BURST,
				  .eal = cfg->eal, .port = cfg->port, .file_prefix = cfg->file_prefix};
	struct ct_pkt rx[RL_BURST];
	struct rl l = {0};
	unsigned idle = 0;

	memset(st, 0, sizeof(*st));
	if (ct_pktio_prepare(cfg->backend, &pc, err) < 0)
		return -EIO;
	l.io = ct_pktio_open(cfg->backend, &pc, err);
	if (!l.io)
		return -EIO;
	memcpy(l.r.mac, l.io->mac, sizeof(l.r.mac));
	l.r.addr = cfg->addr;
	l.r.port_lo = cfg->port_lo;
	l.r.port_hi = cfg->port_hi;
	l.r.mode = cfg->mode;
	l.r.close = cfg->close;
	if (getrandom(&l.r.key, sizeof(l.r.key), 0) != sizeof(l.r.key)) {
		int e = errno;
		ct_err_set(err, CT_EXIT_ENV, "responder: getrandom: %s", strerror(e));
		ct_pktio_close(l.io);
		return -e;
	}
	if (cfg->ready)
		cfg->ready(cfg->ready_arg, l.io->mac);
	while (!ct_stop_requested()) {
		unsigned n = ct_pktio_rx_burst(l.io, rx, RL_BURST);
		uint64_t now_s = ct_now_ns() / CT_NS_PER_SEC;
		for (unsigned i = 0; i < n; i++)
			answer(&l, &rx[i], now_s);
		ct_pktio_rx_free(l.io, rx, n);
		flush(&l);
		if (n)
			idle = 0;
		if (n < RL_BURST)
			wait_frames(&l, &idle);
	}
	st->resp = l.r.st;
	st->rx = l.io->st.rx;
	st->tx = l.io->st.tx;
	st->tx_dropped = l.tx_dropped;
	ct_pktio_close(l.io);
	return 0;
}
