/* ct_capture_probe — run the capture module alone, for the capture test.
 *
 *   ct_capture_probe NETNS IFNAME OUT.pcap SECONDS [MAX_PACKETS]
 *
 * Captures on IFNAME inside named netns NETNS for SECONDS (or until SIGINT/
 * SIGTERM), printing one sample object (the "pkt" counts over the interval)
 * per 100 ms as JSON lines on stdout, then the step hook's object. Prints
 * "ready" on stderr once the capture is running. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ctime.h"
#include "common/sig.h"
#include "loadgen/probe/capture.h"
#include "loadgen/host/netns.h"

int main(int argc, char **argv)
{
	struct ct_err err = {0};
	int nsfd;

	if (argc < 5) {
		fprintf(stderr,
			"usage: ct_capture_probe NETNS IFNAME OUT.pcap SECONDS [MAX_PACKETS]\n");
		return 2;
	}
	ct_signals_install();
	nsfd = ct_netns_open(argv[1]);
	if (nsfd < 0) {
		fprintf(stderr, "ct_capture_probe: netns %s: %s\n", argv[1], strerror(-nsfd));
		return 3;
	}
	struct ct_capture_opts o = {.path = argv[3],
				    .ifname = argv[2],
				    .netns_fd = nsfd,
				    .max_packets = argc > 5 ? strtoull(argv[5], NULL, 10) : 0};
	struct ct_capture *c = ct_capture_new(&o, &err);
	if (!c) {
		fprintf(stderr, "ct_capture_probe: %s\n", err.msg);
		return 3;
	}
	struct ct_sample_source src = ct_capture_source(c), hook = ct_capture_step_hook(c);
	ct_capture_step_begin(c);
	fprintf(stderr, "ready\n");
	uint64_t start = ct_now_ns(), end = start + (uint64_t)(atof(argv[4]) * 1e9);
	for (uint64_t next = start + 100000000ull; next < end && !ct_stop_requested();
	     next += 100000000ull) {
		ct_sleep_until_ns(next);
		json_t *s = json_pack("{s:f}", "t", (double)(ct_now_ns() - start) / 1e9);
		src.fill(src.ctx, s);
		json_dumpf(s, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		fflush(stdout);
		json_decref(s);
	}
	json_t *st = json_object();
	hook.fill(hook.ctx, st);
	json_dumpf(st, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(st);
	ct_capture_free(c);
	close(nsfd);
	return 0;
}
