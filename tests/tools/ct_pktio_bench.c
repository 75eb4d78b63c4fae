/* ct_pktio_bench — how long a packet-I/O backend takes to send a frame:
 * IFNAME N [BURST]: sends N 60-byte TCP frames (to a MAC no one has, so the
 * peer drops them at once) in bursts, and prints ns per frame of wall and
 * CPU time. Run it inside a netns of your own on one end of a veth pair
 * (scripts/bench-pktio does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/ctime.h"
#include "loadgen/engine/packet/pktio.h"
#include "loadgen/engine/packet/wire.h"

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ct_pktio_bench IFNAME N [BURST]\n");
		return 2;
	}
	unsigned long n = strtoul(argv[2], NULL, 10), sent = 0;
	unsigned burst = argc > 3 ? (unsigned)atoi(argv[3]) : 32;
	struct ct_pktio_cfg cfg = {.ifname = argv[1], .burst = burst, .tx_bufs = burst};
	struct ct_err err = {0};
	struct ct_pktio *io = ct_pktio_open("pcap", &cfg, &err);
	if (!io) {
		fprintf(stderr, "ct_pktio_bench: %s\n", err.msg);
		return 3;
	}
	struct ct_pkt p[256];
	struct ct_wire_flow fl = {.dst_mac = {2, 0, 0, 0, 0, 0x99},
				  .saddr = 0xc6120001u, .daddr = 0xc6130001u,
				  .sport = 40000, .dport = 9};
	memcpy(fl.src_mac, io->mac, 6);
	double c0 = cpu_s();
	uint64_t t0 = ct_now_ns();
	while (sent < n) {
		unsigned k = ct_pktio_tx_alloc(io, p, burst > 256 ? 256 : burst);
		for (unsigned i = 0; i < k; i++)
			p[i].len = (uint32_t)ct_wire_tcp_build(p[i].data, &fl, 0x02, (uint32_t)(sent + i),
							       0, 65535, 1460, NULL, 0);
		unsigned s = ct_pktio_tx_burst(io, p, k);
		ct_pktio_tx_free(io, p + s, k - s);
		sent += s;
	}
	double wall = (double)(ct_now_ns() - t0), cpu = (cpu_s() - c0) * 1e9;
	printf("%s: %lu frames, %.0f ns/frame wall, %.0f ns/frame CPU (%.2f Mpps), %llu refused\n",
	       io->ops->name, sent, wall / (double)sent, cpu / (double)sent,
	       (double)sent / wall * 1e3, (unsigned long long)io->st.tx_fail);
	ct_pktio_close(io);
	return 0;
}
