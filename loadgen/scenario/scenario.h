/* scenario — an INI scenario file turned into a validated struct.
 *
 * Pure: reading the file is its only effect (notes go through ct_note()).
 * Every error names file:line, the [section] and the key, and what is wrong
 * ("scenarios/x.ini:12: [load] rate: unknown time unit '/x' in rate '500/x';
 * use /s, /m, /h, /ms or /us"). Unknown keys are
 * rejected with the nearest known key suggested. Legacy sysctl names from old
 * tuning guides are mapped to the modern key with a note.
 *
 * Section and key names are the interface users write. Every key, with its
 * kind, range, default and meaning, is one row of keys.def, which drives the
 * parser, the defaults, dup/free/equal, ct_scenario_write and the key tables
 * of scenarios/README.md.
 *
 * Durations are stored in nanoseconds, rates in connections per second. */
#pragma once

#include "loadgen/base/err.h"
#include "loadgen/base/role.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/srvmode.h"

enum ct_topology { CT_TOPO_LAB, CT_TOPO_HOST };
enum ct_lab_path { CT_PATH_DIRECT, CT_PATH_ROUTER, CT_PATH_NAT };
enum ct_ct_on { CT_CTON_SERVER, CT_CTON_ROUTER, CT_CTON_NONE };
/* [lab] preload_state: the TCP state of the entries the lab preloads. */
enum ct_preload_state { CT_PRELOAD_TIME_WAIT, CT_PRELOAD_ESTABLISHED };
enum ct_engine_kind { CT_ENGINE_KERNEL, CT_ENGINE_PCAP, CT_ENGINE_DPDK };
/* What answers in the lab's server netns ([server] engine). */
enum ct_srv_engine { CT_SRVENG_CTSERVER, CT_SRVENG_RESPONDER, CT_SRVENG_RESPONDER_DPDK };
enum ct_profile { CT_PROFILE_CONSTANT, CT_PROFILE_RAMP, CT_PROFILE_STEP, CT_PROFILE_POISSON };
/* How the client picks its source port ([load] ports). */
enum ct_port_strategy { CT_PORTS_KERNEL, CT_PORTS_BIND, CT_PORTS_RANGE };
/* How the client ends a connection ([load] close): FIN, RST (SO_LINGER 0),
 * wait for the server to close and then close, or auto (the default): wait
 * when the lab's server closes first, else fin. The engine and the model
 * see it through ct_scenario_client_close(), never as auto. */
enum ct_client_close { CT_CCLOSE_FIN, CT_CCLOSE_RST, CT_CCLOSE_WAIT, CT_CCLOSE_AUTO };
enum ct_cooldown { CT_COOL_FRESH_NETNS, CT_COOL_DRAIN, CT_COOL_NONE };
/* [load] sustain: what a step that held must prove (run/sustain.h). */
enum ct_sustain_mode {
	CT_SUSTAIN_CHECK = 0, /* held but not proven sustained: "unsustained", a failure */
	CT_SUSTAIN_PROVE,     /* run each step until proven or failed, up to its horizon + 15 s */
	CT_SUSTAIN_OFF,	      /* the old rule: held for its duration passes (smoke runs) */
};

/* Where a [sysctl.ROLE] section applies: a lab role, or the host. */
enum ct_sysctl_scope {
	CT_SYSCTL_CLIENT = CT_ROLE_CLIENT,
	CT_SYSCTL_SERVER = CT_ROLE_SERVER,
	CT_SYSCTL_ROUTER = CT_ROLE_ROUTER,
	CT_SYSCTL_HOST = CT_ROLE_HOST, /* the init netns: global keys such as nf_conntrack_max */
	CT_SYSCTL_NSCOPES = CT_ROLE_N
};

/* One sysctl to write. `key` is the modern dotted name (legacy names are
 * mapped when parsed), checked against the allowlist of networking keys
 * ctload understands. `value` is as the kernel takes it ("1024 65535"). */
struct ct_sysctl {
	char key[96];
	char value[64];
	int line; /* where it was set in the file, 0 for an override */
};

struct ct_sysctl_list {
	struct ct_sysctl *v;
	size_t n;
};

/* A sweep axis: a key ("load.rate", "sysctl.client.net.ipv4.tcp_tw_reuse",
 * "server.close") and the values it takes, already expanded
 * ("100..5000 *2" -> 100,200,400,...; "0,1" -> 0,1). */
struct ct_sweep_axis {
	char key[128];
	char **values;
	size_t n;
	int line;
};

/* An [expect] or fail_when condition as written, with where it came from. */
struct ct_cond {
	char *text;
	int line;      /* its line in the file; 0: --set, a sweep or the default */
	char set[160]; /* "--set expect.check=..." when the command line gave it, else "" */
};

struct ct_scenario {
	char *path; /* the file it was read from */

	struct {
		char *name;
		char *description;
		enum ct_topology topology; /* default lab */
		uint64_t seed;             /* default 1 */
	} scenario;

	struct {
		unsigned clients;          /* client IPs, default 1 */
		unsigned client_hosts;     /* client netns the clients are split over; 0: 1 */
		enum ct_lab_path path;     /* default direct */
		enum ct_ct_on conntrack_on; /* default server */
		char *addresses;           /* CIDR the lab uses, default 198.18.0.0/15 */
		double bystander;          /* the bystander's connects/s, 0 = none */
		unsigned bystander_port;   /* the server port it connects to; 0: 4949 */
		uint64_t preload;          /* conntrack entries made at build, default 0 */
		enum ct_preload_state preload_state; /* default time_wait */
		uint64_t preload_timeout_ns; /* their lifetime, default 1 h */
	} lab;

	struct {
		enum ct_srv_engine engine; /* default ctserver */
		enum ct_srv_mode mode;  /* default memcache */
		uint16_t port_lo;       /* default 11211 */
		uint16_t port_hi;       /* == port_lo unless a range A-B */
		enum ct_srv_close close; /* default client */
		uint64_t close_delay_ns;
		unsigned workers;       /* 0 = ctserver's default (one per CPU); at most
					 * CT_SRV_MAX_WORKERS, what ctserver takes */
		int backlog;            /* default 4096 */
		uint64_t body;          /* mode http: reply body bytes, default 16 KiB */
		char *target;           /* topology=host: "HOST:PORT" or "HOST:A-B" */
	} server;

	struct {
		enum ct_engine_kind engine; /* default kernel */
		double rate;                /* conn/s, > 0 */
		double rate_end;            /* ramp: final rate (default = rate) */
		enum ct_profile profile;    /* default constant */
		uint64_t step_every_ns;     /* step: how often the rate steps up */
		double step_by;             /* step: by how much (conn/s) */
		uint64_t duration_ns;       /* > 0, default 10 s */
		uint64_t max_connections;   /* hard cap on connections started, 0 = rate x duration */
		char *request;              /* template: {seq} {thread} {rand:N}, escapes \r \n \t \\ \xHH */
		char *expect;               /* reply must end with (or contain) this; NULL = any reply */
		char *expect_start;         /* reply must start with this; NULL = no check */
		bool raw;                   /* raw: request sent as-is, reply read until the server closes */
		uint64_t connect_timeout_ns; /* default 3 s */
		uint64_t reply_timeout_ns;  /* default 3 s */
		enum ct_port_strategy ports; /* default kernel */
		uint16_t port_lo, port_hi;  /* ports = bind|range */
		enum ct_client_close close; /* default auto */
		unsigned threads;           /* 0 = half the CPUs, at least one (ct_engine_threads) */
		unsigned max_inflight;      /* default 10000 */
		uint64_t launch_window_ns;  /* start together what is due this soon; default 4 ms */
		uint64_t reuse_after_ns;    /* pcap engine: a client tuple rests this long; 120 s */
		enum ct_sustain_mode sustain; /* default check (run/sustain.h) */
	} load;

	struct ct_sysctl_list sysctl[CT_SYSCTL_NSCOPES];

	struct ct_sweep_axis *sweep;
	size_t n_sweep;

	struct {
		bool enabled;             /* a [search] section is present */
		char *find;               /* "rate" */
		double precision;         /* fraction, default 0.02 */
		uint64_t trial_ns;        /* default 5 s */
		struct ct_cond fail_when; /* default catches collapse without errors */
		enum ct_cooldown cooldown; /* default fresh-netns */
		bool confirm;             /* confirm an inferred limit with a long trial */
	} search;

	struct ct_cond *expect;
	size_t n_expect;

	struct {
		char *eal;  /* EAL arguments; NULL = the lab default (keys.def) */
		char *port; /* a vdev spec or a probed device name; NULL = af_packet */
	} dpdk;

	struct {
		uint64_t sample_interval_ns; /* default 100 ms */
		char *metrics_listen;        /* "ADDR:PORT" or NULL */
		bool capture;
	} report;
};

/* Read and validate `path`, then apply `n_set` overrides of the form
 * "section.key=value" (a --set; "sysctl.client.net.ipv4.tcp_tw_reuse=1" for a
 * sysctl). Returns NULL with err filled ("FILE:LINE: [section] key: what is
 * wrong", exit code CT_EXIT_USAGE) on any problem. Notes (legacy names) are
 * logged with ct_note(). */
struct ct_scenario *ct_scenario_load(const char *path, char *const *sets, size_t n_set,
				     struct ct_err *err);

/* Set one key ("load.rate", "server.close", "sysctl.host.net.netfilter.nf_conntrack_max")
 * to a value, validated as if it were in the file. Used by --set and by the
 * sweep. Also accepted: a key that exists in one section only ("rate"), a
 * bare sysctl name (global keys go to [sysctl.host], others to
 * [sysctl.client]) and "expect.check" (appends a condition). Checks only this
 * key; see ct_scenario_check for the rest. Returns 0, or -EINVAL with err
 * filled. */
int ct_scenario_set(struct ct_scenario *sc, const char *dotted_key, const char *value,
		    struct ct_err *err);

/* The checks that involve several keys (topology=host needs server.target,
 * ports=bind needs a range, a rate unless [search] ...). ct_scenario_load runs
 * them after the overrides; run them after a series of ct_scenario_set
 * calls. Returns 0, or -EINVAL with err filled. */
int ct_scenario_check(const struct ct_scenario *sc, struct ct_err *err);

/* True when two scenarios would run the same (path and line numbers aside). */
bool ct_scenario_equal(const struct ct_scenario *a, const struct ct_scenario *b);

/* Deep copy (each sweep point works on its own copy). NULL + errno on failure. */
struct ct_scenario *ct_scenario_dup(const struct ct_scenario *sc);

/* Write the resolved scenario as INI that ct_scenario_load reads back to an
 * equal struct (the run directory's scenario.ini). Returns 0 or -errno. */
int ct_scenario_write(const struct ct_scenario *sc, FILE *out);

void ct_scenario_free(struct ct_scenario *sc);

/* Where a condition came from, to start a message: "FILE:LINE: WHAT 'TEXT'"
 * for a file line, the option itself ("--set expect.check=TEXT") for --set,
 * "FILE: WHAT 'TEXT'" otherwise (a default). WHAT is e.g. "[expect]".
 * Returns buf. */
const char *ct_cond_where(const struct ct_scenario *sc, const struct ct_cond *c, const char *what,
			  char *buf, size_t len);

/* Names for enums, as written in the file ("memcache", "fresh-netns" ...). */
const char *ct_topology_name(enum ct_topology v);
const char *ct_lab_path_name(enum ct_lab_path v);
const char *ct_ct_on_name(enum ct_ct_on v);
const char *ct_preload_state_name(enum ct_preload_state v);
const char *ct_engine_kind_name(enum ct_engine_kind v);
const char *ct_srv_engine_name(enum ct_srv_engine v);
const char *ct_profile_name(enum ct_profile v);
const char *ct_port_strategy_name(enum ct_port_strategy v);
const char *ct_client_close_name(enum ct_client_close v);
/* [load] close with auto resolved: in a lab whose server closes first
 * ([server] close = server or rst) the client waits for that close, since
 * closing on the reply would race the server's FIN and put TIME_WAIT on
 * whichever side wins; otherwise fin. */
enum ct_client_close ct_scenario_client_close(const struct ct_scenario *sc);
const char *ct_cooldown_name(enum ct_cooldown v);
const char *ct_sustain_mode_name(enum ct_sustain_mode v);
const char *ct_sysctl_scope_name(enum ct_sysctl_scope v);
