/* engine — opens and closes connections on an open-loop schedule.
 *
 * One small ops table per backend ("kernel" = libevent sockets; "pcap" and "dpdk" =
 * the userspace TCP client of packet/ over libpcap or DPDK), chosen in
 * exactly one place, ct_engine_new(), by name.
 * Callers see only struct ct_engine and the functions below.
 *
 * Life: new -> start -> (snapshot ... until stats.running == 0) -> stop ->
 * free. The engine runs its own threads; every call here is made from one
 * controlling thread. A connection is connect -> send the request -> read
 * until the expected reply -> close (FIN, RST, or after the server closes),
 * never reused. Latencies are measured from the connection's scheduled
 * start, so a stall shows as latency, not as a lower rate.
 *
 * An engine sees no scenario: it reads the [load] part it needs from
 * struct ct_engine_load, which run/loadcfg fills from the scenario (the one
 * place that maps one to the other), and it reports its own cost per
 * connection (ct_engine_conn_size).
 *
 * Counters are per engine thread, written only by that thread without
 * locks, and merged by ct_engine_snapshot() with relaxed atomic loads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loadgen/base/err.h"
#include "loadgen/engine/cause.h"
#include "loadgen/engine/hist.h"
#include "loadgen/engine/schedule.h"

/* How the client picks its source port ([load] ports). */
enum ct_engine_ports {
	CT_ENGINE_PORTS_KERNEL, /* connect() picks from the kernel's ephemeral range */
	CT_ENGINE_PORTS_BIND,	/* bind() to port_lo..port_hi in turn (SO_REUSEADDR) */
	CT_ENGINE_PORTS_RANGE,	/* connect() picks from port_lo..port_hi (IP_LOCAL_PORT_RANGE) */
};

/* How the client ends a connection once the reply matched ([load] close,
 * auto already resolved). */
enum ct_engine_close {
	CT_ENGINE_CLOSE_FIN,
	CT_ENGINE_CLOSE_RST,  /* SO_LINGER 0 */
	CT_ENGINE_CLOSE_WAIT, /* wait for the server's close, then close */
};

/* The [load] part of a scenario, as an engine reads it. */
struct ct_engine_load {
	struct ct_schedule_params sched; /* profile, rates, duration, cap; seed = scenario seed */
	const char *request;		 /* template as written, escapes not decoded; NULL = "" */
	const char *expect;		 /* the reply's end, as written; NULL or "" = any */
	const char *expect_start;	 /* the reply's start, as written; NULL or "" = any */
	bool raw;			 /* request as-is, reply read until the server closes */
	uint64_t connect_timeout_ns, reply_timeout_ns;
	enum ct_engine_ports ports;
	uint16_t port_lo, port_hi; /* ports = bind|range */
	enum ct_engine_close close;
	unsigned threads;	   /* 0 = half the CPUs (>= 1) */
	unsigned max_inflight;	   /* 0 = 10000 */
	uint64_t launch_window_ns; /* start together what is due this soon */
	uint64_t reuse_after_ns;   /* packet engines: a client tuple rests this long */
};

struct ct_engine_config {
	const char *name; /* the backend, as [load] engine names it: "kernel"; NULL = "kernel" */
	struct ct_engine_load load;  /* its strings must outlive ct_engine_new() */
	struct sockaddr_storage dst; /* server address; its port is ignored */
	uint16_t dport_lo, dport_hi; /* server ports, used in turn */
	const struct sockaddr_storage
	    *src; /* client addresses used in turn (port 0); may be NULL */
	size_t n_src;
	int netns_fd;	  /* -1 = current netns; else each engine thread setns()es
			   * into it before it opens any socket */
	unsigned threads; /* 0 = load.threads, and if that is 0, half the CPUs (>= 1) */
	/* Several engines sharing one schedule (MPI ranks): this engine's
	 * threads are [thread_base, thread_base + threads) of threads_total
	 * numbered across all of them, so connection n goes to thread
	 * n mod threads_total. 0 = this engine runs the whole schedule. */
	unsigned thread_base, threads_total;
	/* Several client hosts ([lab] client_hosts; the kernel engine only):
	 * thread i runs in host h = i mod hosts.n, entering hosts.fd[h] instead
	 * of netns_fd and binding only that host's addresses, the hosts.count[h]
	 * from src[hosts.first[h]]; the threads are rounded up to a multiple of
	 * hosts.n, so each host gets an equal share of the schedule. n 0 or 1:
	 * one host. The arrays must outlive the engine. */
	struct {
		unsigned n;
		const int *fd;
		const size_t *first, *count;
	} hosts;
	/* Packet engines only: the interface they send on (inside netns_fd)
	 * and the IPv4 next hop toward dst (dst itself on one link). */
	const char *ifname;
	struct sockaddr_storage gateway;
	/* engine = dpdk: [dpdk] eal and port, and the EAL's --file-prefix
	 * (the lab's, so its runtime directory is in the lab's journal). */
	struct {
		const char *eal, *port, *file_prefix;
	} dpdk;
	/* Packet engines split per core (engine = dpdk, one shard an lcore):
	 * this engine is shard `index` of `count` (count 0: not split), its
	 * port one queue of the shared port; port_lo..port_hi is the whole
	 * pool's source-port range, split by ct_pktio_shard_of(). */
	struct {
		unsigned index, count;
		uint16_t port_lo, port_hi;
		uint8_t gw_mac[6]; /* the next hop's MAC shard 0 learnt; 0: ask */
	} shard;
};

/* A merged snapshot. Counters are cumulative since start. */
struct ct_engine_stats {
	uint64_t scheduled;   /* connections whose due time has come */
	uint64_t attempted;   /* connect() called (or failed before it: socket, bind) */
	uint64_t established; /* the TCP handshake completed */
	uint64_t completed;   /* reply matched and the connection closed cleanly */
	uint64_t failures[CT_FAIL_N];
	uint64_t unsent;   /* due but never started: the in-flight cap was reached until the end */
	uint64_t inflight; /* started and not finished */
	uint64_t syn_retrans;	     /* SYN retransmissions seen at connect completion (TCP_INFO) */
	unsigned running;	     /* engine threads still running; 0 = the run is over */
	struct ct_hist connect;	     /* scheduled start -> handshake complete, ns */
	struct ct_hist total;	     /* scheduled start -> reply complete and closed, ns */
	struct ct_hist connect_call; /* time inside the connect() call, ns */
	/* Packet engines (0 otherwise): frames received and sent, and the TSC
	 * cycles of the loop turns that had work (a frame in, a launch), which
	 * leaves out idle polling: their cost per connection; io_cycles is the
	 * part of it inside the port's rx_burst and tx_burst calls (on a veth
	 * the kernel's whole path behind the send: the peer's stack too). */
	uint64_t frames, busy_cycles, io_cycles;
};

struct ct_engine;

struct ct_engine_ops {
	const char *name;
	/* Allocate everything (pools, threads not yet started). NULL + errno,
	 * with a message logged. */
	struct ct_engine *(*new)(const struct ct_engine_config *cfg);
	/* Start the threads; the schedule's time 0 is a few ms after the call. */
	int (*start)(struct ct_engine *e);
	/* Merge the threads' counters into *out (zeroed first). */
	void (*snapshot)(struct ct_engine *e, struct ct_engine_stats *out);
	/* Stop starting connections. abort=false: let in-flight ones finish
	 * (bounded by the timeouts); abort=true: close them now (they count
	 * as timeout). Returns at once; ct_engine_free() joins. */
	void (*stop)(struct ct_engine *e, bool abort);
	/* Join the threads and free. NULL is a no-op. */
	void (*free)(struct ct_engine *e);
	/* The engine's own state per connection in flight, in bytes (buffers
	 * included, the kernel's socket aside): what one connection costs it. */
	size_t (*conn_size)(const struct ct_engine *e);
};

/* Generic handle: ops + backend state. Backends embed it first. */
struct ct_engine {
	const struct ct_engine_ops *ops;
};

/* Is backend `name` built into this binary? When not, and err is given, it
 * says which meson feature and Debian package would build it (exit 3). */
bool ct_engine_built(const char *name, struct ct_err *err);

/* Pick the backend by name and create it. ENOENT when the backend is not
 * built into this binary. */
struct ct_engine *ct_engine_new(const struct ct_engine_config *cfg);
int ct_engine_start(struct ct_engine *e);
void ct_engine_snapshot(struct ct_engine *e, struct ct_engine_stats *out);
void ct_engine_stop(struct ct_engine *e, bool abort);
void ct_engine_free(struct ct_engine *e);

/* The backend's name ("kernel") and its bytes per connection in flight. */
const char *ct_engine_name(const struct ct_engine *e);
size_t ct_engine_conn_size(const struct ct_engine *e);

/* The thread count an engine will use for cfg (resolves 0). */
unsigned ct_engine_threads(const struct ct_engine_config *cfg);
