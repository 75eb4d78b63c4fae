/* model — the arithmetic that predicts where short connections break.
 *
 * From a set of settings (live values, a scenario's sysctls, or a test's
 * hand-worked case) compute, for every limit, the sustained connection rate
 * it allows and name the binding one: the lowest limit past which
 * connections fail. Every run records it and compares the measured threshold
 * with it; `ctload model` and `ctload check` print it. The formulas and
 * their reasons are in docs/ARCHITECTURE.md (The model).
 *
 * Pure: no I/O. A limit is a capacity (ports, entries, sockets) held for a
 * timer (s): predicted_cps = capacity / timer.
 *
 * This header holds the types and the arithmetic (model.c); the rest of the
 * folder's API, one header per concern, is included at the end:
 *   input.h    the inputs of a scenario (host values, netns defaults, sysctls, topology)
 *   infer.h    from a measurement back to the model (time to failure, error)
 *   explain.h  the binding limit in sentences
 *   sizing.h   table sizes from RAM and the sysctl advice of `ctload check`
 *   steady.h   how the binding counts grow and level off (tuples reused) */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_scenario;
struct ct_hostinfo;

/* Who ends the connection, which decides who holds TIME_WAIT. */
enum ct_model_closer {
	CT_MCLOSE_CLIENT, /* client sends FIN first: TIME_WAIT on the client */
	CT_MCLOSE_SERVER, /* server sends FIN first: TIME_WAIT on the server */
	CT_MCLOSE_RST,	  /* a RST ends it: no TIME_WAIT, conntrack entry -> CLOSE */
};

/* Where conntrack tracks the connections. */
enum ct_model_ct_where {
	CT_MCT_NONE,
	CT_MCT_CLIENT,
	CT_MCT_SERVER,
	CT_MCT_ROUTER,
};

/* Conntrack TCP states whose timeout can hold a finished connection. */
enum ct_model_ct_state {
	CT_MST_SYN_SENT,
	CT_MST_SYN_RECV,
	CT_MST_ESTABLISHED,
	CT_MST_FIN_WAIT,
	CT_MST_CLOSE_WAIT,
	CT_MST_LAST_ACK,
	CT_MST_TIME_WAIT,
	CT_MST_CLOSE,
	CT_MST_N
};

/* Socket TIME_WAIT length: TCP_TIMEWAIT_LEN, a constant (no sysctl). */
#define CT_MODEL_TIMEWAIT_S 60.0
/* What connect() pays per port when it scans a whole parity of the range
 * (measured: about 0.7 ms a call over the 14,116 ports of one parity). */
#define CT_MODEL_SCAN_NS 50.0
/* NAT source ports: 1024..65535, not ip_local_port_range. */
#define CT_MODEL_NAT_PORT_LO 1024
#define CT_MODEL_NAT_PORT_HI 65535

/* Everything the arithmetic needs. ct_model_input_defaults() fills kernel
 * defaults (docs/ARCHITECTURE.md (kernel facts)); callers override what they know. */
struct ct_model_input {
	/* client */
	unsigned port_lo, port_hi;  /* ip_local_port_range (or [load] ports = range) */
	unsigned reserved_in_range; /* ip_local_reserved_ports inside the range */
	int tw_reuse;		    /* 0 off, 1 on, 2 loopback only */
	bool loopback;		    /* the target is 127.0.0.0/8 or ::1 */
	unsigned reuse_delay_ms;    /* tcp_tw_reuse_delay; 1000 before 6.14 */
	bool timestamps;	    /* tcp_timestamps on both ends (reuse needs them) */
	bool explicit_bind;	    /* [load] ports = bind: bind() then connect() */
	unsigned clients;	    /* client source IPs, >= 1 */
	bool packet_engine;	    /* [load] engine = pcap|dpdk: no kernel client socket */
	double packet_reuse_s;	    /* its [load] reuse_after: how long a tuple rests */
	/* server */
	unsigned server_ips;   /* >= 1 */
	unsigned server_ports; /* distinct destination ports, >= 1 */
	int backlog;	       /* listen() backlog asked for */
	int somaxconn;	       /* caps the backlog */
	double accept_cps;     /* measured accept rate, 0 = not measured */
	/* who closes */
	enum ct_model_closer closer;
	/* TIME_WAIT buckets per side (tcp_max_tw_buckets, per netns) */
	uint64_t tw_buckets_client, tw_buckets_server;
	/* conntrack */
	enum ct_model_ct_where ct_where;
	uint64_t ct_max;	       /* nf_conntrack_max */
	uint64_t ct_buckets;	       /* nf_conntrack_buckets (for advice) */
	uint64_t ct_preload;	       /* [lab] preload: entries there before any load */
	double ct_timeout_s[CT_MST_N]; /* nf_conntrack_tcp_timeout_* */
	/* NAT on the path (masquerade/SNAT) */
	bool nat;
	unsigned nat_ips; /* >= 1 when nat */
	/* a host talking to many peers (ctload check): conntrack entries are not
	 * bounded by one client's 4-tuples */
	bool many_peers;
	/* offered rate, 0 = none: then each limit's load_pct and fill_s */
	double rate;
	/* client threads sharing the port search ([load] threads; 0 = one) */
	unsigned threads;
};

enum ct_limit_id {
	CT_LIMIT_CLIENT_PORTS,
	CT_LIMIT_CONNTRACK,
	CT_LIMIT_NAT_PORTS,
	CT_LIMIT_TW_CLIENT,
	CT_LIMIT_TW_SERVER,
	CT_LIMIT_BACKLOG,
	CT_LIMIT_CONNECT_CLIFF,
	CT_LIMIT_CT_CHAINS, /* a conntrack hash chain past the kernel's cap refuses inserts */
	CT_LIMIT_N
};

struct ct_limit {
	enum ct_limit_id id;
	const char *name;     /* stable: "client_ports", "conntrack", ... (summary.json) */
	const char *title;    /* for people: "client ports (TIME_WAIT)" */
	bool applies;	      /* false: cannot bind here; note says why */
	bool hard;	      /* past it connections fail; soft = degrade or change silently */
	bool estimate;	      /* a rule of thumb, not an exact count */
	double predicted_cps; /* capacity / timer_s; 0 when !applies */
	double capacity;      /* ports, entries or sockets */
	double timer_s;	      /* how long one connection holds one unit */
	char formula[200];    /* the arithmetic with the numbers: "28232 ports / 60 s" */
	char note[320];	      /* why it applies or not, what happens past it */
	/* with input.rate > 0 */
	double load_pct; /* rate / predicted_cps x 100 */
	double fill_s;	 /* rate above the limit: seconds until capacity is used, else 0 */
};

struct ct_model_result {
	struct ct_limit limits[CT_LIMIT_N];
	int binding;	  /* index of the lowest applicable hard limit, -1 if none */
	double cliff_cps; /* estimate where connect() starts to slow, 0 if n/a */
	/* distinct 4-tuples the client can use (bounds conntrack entries) */
	double tuples;
};

/* Kernel defaults for a fresh network namespace (docs/ARCHITECTURE.md (kernel facts)). */
void ct_model_input_defaults(struct ct_model_input *in);

/* The conntrack state a finished connection's entry ends in: TIME_WAIT,
 * or CLOSE after a RST. */
enum ct_model_ct_state ct_model_end_state(const struct ct_model_input *in);

/* The kernel's lowest cap on a conntrack hash chain: an insert into a
 * chain longer than 50 + a random part under 30 is refused (MIN_CHAINLEN,
 * nf_conntrack_core.c; chaintoolong and insert_failed grow). */
#define CT_MODEL_CHAIN_CAP_MIN 50
/* Mean entries a bucket at which the first of `buckets` chains passes
 * CT_MODEL_CHAIN_CAP_MIN, entries hashing uniformly: buckets x
 * P(Poisson(mean) > 50) = 1 (512 buckets: 32.8; 16,384: 28.0; 1,048,576:
 * 23.9). 0 for no buckets. */
double ct_model_chain_onset(uint64_t buckets);

/* Whether the client's port limit is half its range at the offered rate
 * (the parity cliff, model.c). */
bool ct_model_parity_cliff(const struct ct_model_input *in);

/* Compute every limit. Returns 0, or -EINVAL on a nonsensical input. */
int ct_model_compute(const struct ct_model_input *in, struct ct_model_result *out);

/* The binding limit, or NULL. */
const struct ct_limit *ct_model_binding(const struct ct_model_result *r);

/* The result as JSON: {"binding": name|null, "cliff_cps", "tuples",
 * "limits": [{name, title, applies, hard, estimate, predicted_cps, capacity,
 * timer_s, formula, note, load_pct?, fill_s?}], "inputs": {...}}.
 * NULL on allocation failure. */
json_t *ct_model_to_json(const struct ct_model_input *in, const struct ct_model_result *r);

/* Names as written: "client", "server", "rst"; "none", "client", ... */
const char *ct_model_closer_name(enum ct_model_closer c);
const char *ct_model_ct_where_name(enum ct_model_ct_where w);
const char *ct_model_ct_state_name(enum ct_model_ct_state s);

/* The folder's other modules; their headers need the types above. */
#include "loadgen/model/explain.h"
#include "loadgen/model/infer.h"
#include "loadgen/model/input.h"
#include "loadgen/model/sizing.h"
#include "loadgen/model/steady.h"
