/* metrics — the run's numbers in Prometheus text format (exposition format
 * 0.0.4) over HTTP: `--metrics-listen ADDR:PORT`, [report] metrics_listen.
 *
 * An evhttp server runs on its own thread with its own event_base; the sample
 * source (called from the run loop) copies the latest values under a mutex
 * and the handler renders them, so a slow scraper never slows the load.
 * GET /metrics answers; any other path is 404. The listen address is any
 * local address the user gives (127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464);
 * port 0 picks a free port (ct_metrics_address() says which, and the
 * note "metrics on http://ADDR:PORT/metrics" says it even with --quiet).
 *
 * Names: node_exporter's where one exists, labelled netns="client" |
 * "server" | "router" (the lab's netns roles; "host" is not sampled):
 *   node_nf_conntrack_entries, node_nf_conntrack_entries_limit      gauge
 *   node_nf_conntrack_stat_drop, _early_drop, _insert_failed         gauge
 *   node_sockstat_TCP_tw, node_sockstat_TCP_inuse, node_sockstat_TCP_orphan  gauge
 *   node_netstat_TcpExt_TCPSynRetrans, _TCPTimeWaitOverflow,
 *   _ListenOverflows, _ListenDrops, _TW                               untyped
 * The conntrack stats and TcpExt values count from the start of the run
 * (node_exporter shows the kernel's own totals; a lab netns may be
 * rebuilt between steps, so only the run's sum is meaningful).
 * ctload_* for the load, counters summed over the run's steps:
 *   ctload_connections_{scheduled,attempted,established,completed,unsent}_total
 *   ctload_connections_failed_total{cause="timeout"|...}
 *   ctload_syn_retransmits_total            (the engine's TCP_INFO count)
 *   ctload_connect_duration_seconds         histogram, from each sample's
 *       "connect_hist" [[ms, count], ...] (the interval's connect times at
 *       ct_hist bucket midpoints): a connection counts in the first le >=
 *       its midpoint; _sum is the sum of midpoints (within 0.8%).
 *   ctload_packets_total{kind="syn"|"syn_retrans"|"synack"|"rst"|"fin"}
 *       when a capture adds "pkt" to the samples (run it before this source)
 * and gauges ctload_sample_time_seconds (the latest sample's t, to find it
 * in timeseries.jsonl), ctload_step, ctload_rate_target_per_second,
 * ctload_rate_per_second, ctload_connections_inflight,
 * ctload_ports_in_use{netns="client"}.
 * Nothing is rendered before the first sample except the
 * ctload_sample_time_seconds family (absent sample: no line). */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "loadgen/base/err.h"

#include "loadgen/probe/probe.h"

struct ct_metrics;

/* Listen on `listen` ("ADDR:PORT", "[V6ADDR]:PORT"); NULL: no server, only
 * the sources and ct_metrics_render() (tests). NULL + errno on failure, with
 * `err` (may be NULL) naming the address and what to do; its code is
 * CT_EXIT_USAGE for an address to fix (EINVAL), else CT_EXIT_ENV. */
struct ct_metrics *ct_metrics_new(const char *listen, struct ct_err *err);
/* Stop the server thread and free. NULL is a no-op. */
void ct_metrics_free(struct ct_metrics *m);
/* "ADDR:PORT" actually bound (port 0 resolved), "" without a server. */
const char *ct_metrics_address(const struct ct_metrics *m);

/* Sample source (after every other source, so the sample is complete) and
 * step hook (folds the step's counts into the run totals). ctx = m. */
struct ct_sample_source ct_metrics_source(struct ct_metrics *m);
struct ct_sample_source ct_metrics_step_hook(struct ct_metrics *m);

/* Kind "metrics" of the probe table: open with a metrics_listen address
 * (noted unless quiet); its sample source and step hook are the two above. */
extern const struct ct_probe_kind ct_probe_metrics;

/* The exposition text for the latest sample (malloc'd, caller frees), NULL
 * on ENOMEM. What the HTTP handler sends. */
char *ct_metrics_render(struct ct_metrics *m);

/* Whether `listen` can be bound now: a trial bind, closed again, so that a
 * bad or taken address refuses the run before its directory is made. 0, or
 * -errno with err filled as ct_metrics_new() fills it. */
int ct_metrics_check_listen(const char *listen, struct ct_err *err);

/* Parse "ADDR:PORT" / "[ADDR]:PORT" into addr (brackets removed) and port.
 * 0 or -EINVAL. Pure, for the scenario check and tests. */
int ct_metrics_parse_listen(const char *s, char *addr, size_t addrlen, unsigned *port);
