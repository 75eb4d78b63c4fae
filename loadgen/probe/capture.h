/* capture — libpcap on the lab link: capture.pcap (headers only, bounded)
 * and per-interval counts of the TCP handshake and teardown packets.
 *
 * Built only when meson finds libpcap (CT_HAVE_PCAP in ct_config.h): the
 * only file of ctload's core that includes a pcap header. Without it the
 * functions below are absent and only the probe kind exists
 * (capture_none.c), refusing [report] capture = on with the message that
 * says how to get it; a caller of the functions guards them with
 * `#if CT_HAVE_PCAP`, the runner needs no guard (probe.h).
 *
 * The pcap handle is opened in a short-lived thread that entered the client
 * netns (ct_netns_run): its packet socket stays in that netns, so the
 * capture thread itself never changes netns. Lab only: in topology = host
 * the load runs on the host's own interfaces, which ctload does not capture.
 *
 * The capture thread polls the handle (immediate mode, BPF "tcp", snaplen
 * 96: Ethernet + IP + TCP headers) and, for every packet:
 *   - counts it: syn (SYN without ACK), syn_retrans (a SYN whose 4-tuple
 *     and ISN were seen before: kept in a 4-way set-associative table of
 *     recent SYNs, 256 Ki entries, so a retransmission is missed only when
 *     that many other SYNs came in between), synack, rst (any RST), fin
 *     (any FIN);
 *   - writes it to the pcap file until max_bytes (file size) or max_packets
 *     is reached; then it only counts, and says once that the file is full.
 *
 * JSON (sample source): each sample gets
 *   "pkt": {"syn", "syn_retrans", "synack", "rst", "fin"}   counts over the
 *          interval since the previous sample (divide by the interval for /s)
 * Before reading, the fill wakes the capture thread and waits (≤ 50 ms) until
 * it has drained the ring, so a packet the kernel saw before the sample is
 * counted in that sample. Step hook: the step result gets
 *   "pkt": {syn, syn_retrans, synack, rst, fin  (totals over the step),
 *           captured, written, kernel_drop, file_full}
 * where captured/written count packets seen and written to the file over the
 * whole capture so far, kernel_drop is pcap_stats' ps_drop (the ring was
 * full: counts undercount), file_full is true once a bound was hit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen/base/err.h"
#include "loadgen/probe/probe.h"

struct ct_capture_opts {
	const char *path;     /* capture.pcap */
	const char *ifname;   /* "veth0" (the client's end of the lab link) */
	int netns_fd;	      /* netns holding ifname; -1: ctload's own */
	unsigned snaplen;     /* 0: 96 */
	uint64_t max_bytes;   /* file size bound; 0: 64 MiB */
	uint64_t max_packets; /* 0: 1 Mi */
};

/* Counts since the capture began. */
struct ct_capture_counts {
	uint64_t syn, syn_retrans, synack, rst, fin;
	uint64_t captured, written;
	uint64_t kernel_drop;
	bool file_full;
};

struct ct_capture;

/* Create the file, open the interface and start the capture thread. NULL +
 * errno on failure, with `err` (may be NULL) saying what failed and what to
 * do, code CT_EXIT_ENV. */
struct ct_capture *ct_capture_new(const struct ct_capture_opts *o, struct ct_err *err);

/* Move the capture to `netns_fd` (after ct_lab_fresh() replaced the client
 * netns): the live handle is reopened there, the file and the counts go on.
 * 0 or -errno with `err` filled. */
int ct_capture_reopen(struct ct_capture *c, int netns_fd, struct ct_err *err);

/* Counts so far (drains the ring first, like the sample source). */
void ct_capture_counts(struct ct_capture *c, struct ct_capture_counts *out);

/* Stop the thread, flush and close the file. NULL is a no-op. */
void ct_capture_free(struct ct_capture *c);

/* Sample source and step hook (ctx = c); ct_capture_step_begin() sets the
 * baseline of the step totals (call it before each step). */
struct ct_sample_source ct_capture_source(struct ct_capture *c);
struct ct_sample_source ct_capture_step_hook(struct ct_capture *c);
void ct_capture_step_begin(struct ct_capture *c);

/* Kind "capture" of the probe table: open with [report] capture = on in a
 * lab (capture.pcap in the run directory, on the client's veth0); reopened
 * in the new client netns when a step begins in a fresh one. */
extern const struct ct_probe_kind ct_probe_capture;

/* Pure: classify one captured frame (DLT_EN10MB). Returns 0 and fills the
 * fields for a TCP segment over IPv4/IPv6, -EINVAL otherwise. key is a hash
 * of (addresses, ports, sequence number) for the SYN table. */
struct ct_capture_pkt {
	bool syn, ack, rst, fin;
	uint64_t key;
};
int ct_capture_parse(const uint8_t *frame, size_t caplen, struct ct_capture_pkt *out);
