/* model — the limits arithmetic: each limit's capacity and timer, the binding
 * one, and the result as JSON (see model.h). */
#include "loadgen/model/model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loadgen/base/role.h"
#include "loadgen/model/model_int.h"

static const char *const state_names[CT_MST_N] = {
    "syn_sent",	  "syn_recv", "established", "fin_wait",
    "close_wait", "last_ack", "time_wait",   "close",
};

/* [net/netfilter/nf_conntrack_proto_tcp.c] */
static const double state_defaults[CT_MST_N] = {120, 60, 432000, 120, 60, 30, 120, 10};

const char *ct_model_ct_state_name(enum ct_model_ct_state s)
{
	return (unsigned)s < CT_MST_N ? state_names[s] : "?";
}

const char *ct_model_closer_name(enum ct_model_closer c)
{
	switch (c) {
	case CT_MCLOSE_CLIENT:
		return "client";
	case CT_MCLOSE_SERVER:
		return "server";
	case CT_MCLOSE_RST:
		return "rst";
	}
	return "?";
}

const char *ct_model_ct_where_name(enum ct_model_ct_where w)
{
	switch (w) {
	case CT_MCT_NONE:
		return "none";
	case CT_MCT_CLIENT:
		return ct_role_name(CT_ROLE_CLIENT);
	case CT_MCT_SERVER:
		return ct_role_name(CT_ROLE_SERVER);
	case CT_MCT_ROUTER:
		return ct_role_name(CT_ROLE_ROUTER);
	}
	return "?";
}

void ct_model_input_defaults(struct ct_model_input *in)
{
	memset(in, 0, sizeof(*in));
	in->port_lo = 32768;
	in->port_hi = 60999;
	in->tw_reuse = 2;
	in->reuse_delay_ms = 1000;
	in->timestamps = true;
	in->clients = 1;
	in->server_ips = 1;
	in->server_ports = 1;
	in->backlog = 4096;
	in->somaxconn = 4096;
	in->closer = CT_MCLOSE_CLIENT;
	/* ehash/2; 131072 on this class of machine. Callers pass the live value. */
	in->tw_buckets_client = 131072;
	in->tw_buckets_server = 131072;
	in->ct_where = CT_MCT_NONE;
	in->ct_max = 262144;
	in->ct_buckets = 262144;
	for (int s = 0; s < CT_MST_N; s++)
		in->ct_timeout_s[s] = state_defaults[s];
	in->nat_ips = 1;
}

/* ---- the limits --------------------------------------------------------- */

static void setf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void setf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void ct_model_text_add(struct ct_model_text *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->s || b->used + 1 >= b->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->used, b->len - b->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used = b->used + (size_t)n < b->len ? b->used + (size_t)n : b->len - 1;
}

static const char *plural(double n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void limit_init(struct ct_limit *l, enum ct_limit_id id, const char *name, const char *title,
		       bool hard)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	l->name = name;
	l->title = title;
	l->hard = hard;
}

static void limit_set(struct ct_limit *l, double capacity, double timer_s)
{
	l->applies = true;
	l->capacity = capacity;
	l->timer_s = timer_s;
	l->predicted_cps = timer_s > 0 ? capacity / timer_s : 0;
}

unsigned ct_model_range_ports(const struct ct_model_input *in)
{
	unsigned n = in->port_hi >= in->port_lo ? in->port_hi - in->port_lo + 1 : 0;

	return n > in->reserved_in_range ? n - in->reserved_in_range : 0;
}

static bool reuse_on(const struct ct_model_input *in)
{
	return in->tw_reuse == 1 || (in->tw_reuse == 2 && in->loopback);
}

/* The parity cliff: connect() takes ports from one parity of the range
 * first. With reuse off, once that half is in TIME_WAIT every connect()
 * scans all of it before it tries the other half: about CT_MODEL_SCAN_NS a
 * port. When those scans at the offered rate would take half the client
 * threads' time, the rate collapses there, with no error (measured: 1,000/s
 * fell to a few hundred once 28.6k of 2 x 28232 ports were in TIME_WAIT),
 * so half the range is what the client can hold. A small range is scanned
 * cheaply and fills to EADDRNOTAVAIL instead. */
bool ct_model_parity_cliff(const struct ct_model_input *in)
{
	double parity = ceil(ct_model_range_ports(in) / 2.0);
	double threads = in->threads ? in->threads : 1;

	/* A packet engine does no port search. */
	return !in->packet_engine && in->closer == CT_MCLOSE_CLIENT &&
	       !(reuse_on(in) && in->timestamps) &&
	       !in->explicit_bind && in->rate > 0 &&
	       parity * CT_MODEL_SCAN_NS * 1e-9 * in->rate >= 0.5 * threads;
}

/* A packet engine holds a client tuple (address, port) for [load]
 * reuse_after after each connection, whoever closed: no TIME_WAIT socket,
 * no tcp_tw_reuse, one slot per tuple whatever the destination. */
static void packet_ports(const struct ct_model_input *in, struct ct_limit *l)
{
	unsigned ports = ct_model_range_ports(in);
	limit_init(l, CT_LIMIT_CLIENT_PORTS, "client_ports", "client tuples (reuse_after)", true);
	if (in->packet_reuse_s <= 0) {
		setf(l->note, sizeof(l->note),
		     "[load] reuse_after = 0: the packet engine reuses a tuple as soon as it is free");
		return;
	}
	limit_set(l, (double)ports * in->clients, in->packet_reuse_s);
	setf(l->formula, sizeof(l->formula), "%u %s x %u client %s / %g s", ports,
	     plural(ports, "port", "ports"), in->clients, plural(in->clients, "IP", "IPs"),
	     in->packet_reuse_s);
	setf(l->note, sizeof(l->note),
	     "the packet engine rests each client tuple [load] reuse_after (%g s) after its "
	     "connection; none rested: the connection fails as eaddrnotavail",
	     in->packet_reuse_s);
}

static void client_ports(const struct ct_model_input *in, struct ct_limit *l, double dests)
{
	if (in->packet_engine) {
		packet_ports(in, l);
		return;
	}
	bool parity = ct_model_parity_cliff(in);
	unsigned ports = parity ? (unsigned)ceil(ct_model_range_ports(in) / 2.0)
				: ct_model_range_ports(in);
	bool reuse = reuse_on(in) && in->timestamps;
	double cap = (double)ports * in->clients * dests;
	double timer = reuse ? in->reuse_delay_ms / 1000.0 : CT_MODEL_TIMEWAIT_S;

	limit_init(l, CT_LIMIT_CLIENT_PORTS, "client_ports", "client ports (TIME_WAIT)", true);
	if (in->closer == CT_MCLOSE_SERVER) {
		setf(l->note, sizeof(l->note),
		     "the server closes first and holds TIME_WAIT; the client's port is free as "
		     "soon as it closes");
		return;
	}
	if (in->closer == CT_MCLOSE_RST) {
		setf(l->note, sizeof(l->note),
		     "a RST leaves no TIME_WAIT socket; the port is free at once");
		return;
	}
	if (in->explicit_bind && in->timestamps) {
		setf(
		    l->note, sizeof(l->note),
		    "bind() to an explicit port then connect() reuses a TIME_WAIT 4-tuple at once, "
		    "whatever tcp_tw_reuse says (timestamps are on)");
		return;
	}
	if ((double)in->tw_buckets_client < cap && !reuse) {
		setf(l->note, sizeof(l->note),
		     "tcp_max_tw_buckets on the client (%llu) is below the %.0f ports: past it "
		     "closing sockets skip TIME_WAIT and free their port, so ports never run out "
		     "(see tw_buckets.client)",
		     (unsigned long long)in->tw_buckets_client, cap);
		return;
	}
	limit_set(l, cap, timer);
	setf(l->formula, sizeof(l->formula), "%u %s x %u client %s x %.0f %s / %g s", ports,
	     plural(ports, "port", "ports"), in->clients, plural(in->clients, "IP", "IPs"), dests,
	     plural(dests, "destination", "destinations"), timer);
	if (reuse)
		setf(l->note, sizeof(l->note),
		     "tcp_tw_reuse=%d%s: a TIME_WAIT 4-tuple is reused once older than "
		     "tcp_tw_reuse_delay (%u ms); past it connect() fails with EADDRNOTAVAIL",
		     in->tw_reuse, in->tw_reuse == 2 ? " (loopback target)" : "",
		     in->reuse_delay_ms);
	else if (reuse_on(in))
		setf(l->note, sizeof(l->note),
		     "tcp_tw_reuse is on but TCP timestamps are off, so no 4-tuple can be reused: "
		     "each port stays 60 s in TIME_WAIT; past it connect() fails with "
		     "EADDRNOTAVAIL");
	else if (parity)
		setf(l->note, sizeof(l->note),
		     "tcp_tw_reuse=%d: each port stays 60 s in TIME_WAIT. connect() fills one parity "
		     "of the range first; past it every call scans %u ports (~%.1f ms) and at "
		     "%.0f/s the rate collapses there with no error, so half the range counts",
		     in->tw_reuse, ports, ports * CT_MODEL_SCAN_NS / 1e6, in->rate);
	else
		setf(l->note, sizeof(l->note),
		     "tcp_tw_reuse=%d%s: each port stays 60 s in TIME_WAIT (TCP_TIMEWAIT_LEN); "
		     "past it "
		     "connect() fails with EADDRNOTAVAIL. The whole range counts: connect() tries "
		     "one "
		     "parity first, then the other",
		     in->tw_reuse, in->tw_reuse == 2 ? " (loopback only; this target is not)" : "");
}

/* A table of tuples fills more slowly than rate x timer when connect()
 * hands the same tuples out again (a SYN that matches an entry reopens it):
 * the sustained rate is where the count's plateau meets the capacity
 * (steady.h). Never below capacity / timer. */
static void steady_rate(const struct ct_model_input *in, struct ct_limit *l,
			enum ct_model_count c)
{
	double r = ct_model_rate_for(in, c, l->capacity);

	if (isfinite(r) && r > l->predicted_cps)
		l->predicted_cps = r;
}

/* Distinct original 4-tuples the clients present: the bound on conntrack
 * entries, since a SYN matching an entry reopens it instead of adding one. */
static double distinct_tuples(const struct ct_model_input *in, double dests)
{
	double pool = ct_model_range_ports(in);

	if (in->many_peers)
		return INFINITY;

	/* With reuse, or when the server or a RST ends the connection (no
	 * TIME_WAIT on the client), connect() finds a free port in its
	 * preferred parity and stays there: measured, the count sat at 14,116
	 * = the even half of 32768-60999. */
	if (!in->explicit_bind &&
	    (in->closer != CT_MCLOSE_CLIENT || (reuse_on(in) && in->timestamps)))
		pool = ceil(pool / 2);
	/* Reuse off with the parity cliff: ports cycle within the preferred
	 * parity (a port is handed out again once its 60 s TIME_WAIT ends), so
	 * that half bounds the tuples too (measured: 1,000/s over 2 x 60001
	 * ports plateaued at ~61k entries). */
	if (ct_model_parity_cliff(in))
		pool = ceil(pool / 2);
	return pool * in->clients * dests;
}

enum ct_model_ct_state ct_model_end_state(const struct ct_model_input *in)
{
	return in->closer == CT_MCLOSE_RST ? CT_MST_CLOSE : CT_MST_TIME_WAIT;
}

static void conntrack(const struct ct_model_input *in, struct ct_limit *l, double tuples)
{
	enum ct_model_ct_state st = ct_model_end_state(in);
	double timer = in->ct_timeout_s[st];

	limit_init(l, CT_LIMIT_CONNTRACK, "conntrack", "conntrack table", true);
	if (in->ct_where == CT_MCT_NONE) {
		setf(l->note, sizeof(l->note), "no conntrack on the path");
		return;
	}
	if (timer <= 0) {
		setf(l->note, sizeof(l->note),
		     "nf_conntrack_tcp_timeout_%s is 0: finished entries leave at once",
		     state_names[st]);
		return;
	}
	/* A preloaded table leaves the load only the rest of the max. */
	double room = in->ct_max > in->ct_preload ? (double)(in->ct_max - in->ct_preload) : 0;

	if (tuples < room) {
		setf(l->note, sizeof(l->note),
		     "only %.0f distinct 4-tuples (client ports x client IPs x destinations) < "
		     "nf_conntrack_max %llu%s: a SYN that matches an entry reopens it, so the "
		     "table cannot fill; spread load over more client IPs or server ports to fill "
		     "it",
		     tuples, (unsigned long long)in->ct_max,
		     in->ct_preload ? " less the preloaded entries" : "");
		return;
	}
	limit_set(l, room, timer);
	steady_rate(in, l, CT_MCOUNT_CONNTRACK);
	if (in->ct_preload)
		setf(l->formula, sizeof(l->formula),
		     "(nf_conntrack_max %llu - %llu preloaded) / %s timeout %g s",
		     (unsigned long long)in->ct_max, (unsigned long long)in->ct_preload,
		     state_names[st], timer);
	else if (l->predicted_cps > l->capacity / timer * 1.005)
		setf(l->formula, sizeof(l->formula),
		     "nf_conntrack_max %llu entries of %.0f tuples, %s timeout %g s (tuples "
		     "reused)",
		     (unsigned long long)in->ct_max, tuples, state_names[st], timer);
	else
		setf(l->formula, sizeof(l->formula), "nf_conntrack_max %llu / %s timeout %g s",
		     (unsigned long long)in->ct_max, state_names[st], timer);
	setf(l->note, sizeof(l->note),
	     "conntrack on the %s; every finished connection holds an entry %g s in %s "
	     "(entries: the distinct tuples of the last %g s, of %.0f); past it the kernel logs \"nf_conntrack: "
	     "table full, dropping packet\", SYNs are dropped and connect() retries at whole "
	     "seconds",
	     ct_model_ct_where_name(in->ct_where), timer, state_names[st], timer, tuples);
}

/* P(Poisson(mean) > k), summed in log space so large means stay exact. */
static double poisson_tail(double mean, unsigned k)
{
	double cdf = 0;

	for (unsigned i = 0; i <= k; i++)
		cdf += exp(i * log(mean) - mean - lgamma(i + 1.0));
	return cdf >= 1 ? 0 : 1 - cdf;
}

double ct_model_chain_onset(uint64_t buckets)
{
	double lo = 0.01, hi = CT_MODEL_CHAIN_CAP_MIN;

	if (buckets == 0)
		return 0;
	/* The tail grows with the mean: bisect to 0.01 entries a bucket. */
	while (hi - lo > 0.01) {
		double mid = (lo + hi) / 2;
		if ((double)buckets * poisson_tail(mid, CT_MODEL_CHAIN_CAP_MIN) > 1)
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

/* A huge nf_conntrack_max over few buckets: since 5.17 the kernel refuses
 * an insert into a chain past its cap (KERNEL.md, long chains), so the
 * table stops short of its max with no "table full" line. */
static void ct_chains(const struct ct_model_input *in, struct ct_limit *l, double tuples)
{
	enum ct_model_ct_state st = ct_model_end_state(in);
	double timer = in->ct_timeout_s[st];
	double per = ct_model_chain_onset(in->ct_buckets);
	double onset = floor(per * (double)in->ct_buckets);

	limit_init(l, CT_LIMIT_CT_CHAINS, "ct_chains", "conntrack hash chains", true);
	if (in->ct_where == CT_MCT_NONE || timer <= 0 || in->ct_buckets == 0) {
		setf(l->note, sizeof(l->note), "no conntrack entries held on the path");
		return;
	}
	if (onset >= (double)in->ct_max) {
		setf(l->note, sizeof(l->note),
		     "nf_conntrack_max %llu fills before a chain of the %llu buckets passes the "
		     "kernel's cap (%d-79 entries; the first passes it at %.0f entries)",
		     (unsigned long long)in->ct_max, (unsigned long long)in->ct_buckets,
		     CT_MODEL_CHAIN_CAP_MIN, onset);
		return;
	}
	if (tuples < onset - (double)in->ct_preload) {
		setf(l->note, sizeof(l->note),
		     "only %.0f distinct 4-tuples: fewer than the %.0f entries at which the first "
		     "of %llu hash chains passes the kernel's cap",
		     tuples, onset - (double)in->ct_preload, (unsigned long long)in->ct_buckets);
		return;
	}
	/* The preload's entries sit in the chains before the load's. */
	limit_set(l, onset > (double)in->ct_preload ? onset - (double)in->ct_preload : 0, timer);
	steady_rate(in, l, CT_MCOUNT_CONNTRACK);
	if (in->ct_preload)
		setf(l->formula, sizeof(l->formula),
		     "(%llu buckets x %.1f entries (first chain past %d) - %llu preloaded) / %s "
		     "timeout %g s",
		     (unsigned long long)in->ct_buckets, per, CT_MODEL_CHAIN_CAP_MIN,
		     (unsigned long long)in->ct_preload, state_names[st], timer);
	else
		setf(l->formula, sizeof(l->formula),
		     "%llu buckets x %.1f entries (first chain past %d) / %s timeout %g s",
		     (unsigned long long)in->ct_buckets, per, CT_MODEL_CHAIN_CAP_MIN,
		     state_names[st], timer);
	setf(l->note, sizeof(l->note),
	     "%.0f entries a bucket at nf_conntrack_max %llu, but a chain past the kernel's cap "
	     "(%d + a random part under 30) refuses the insert: chaintoolong and insert_failed "
	     "grow, the SYN is dropped, nothing is logged, and the table stops short of its max",
	     (double)in->ct_max / (double)in->ct_buckets, (unsigned long long)in->ct_max,
	     CT_MODEL_CHAIN_CAP_MIN);
}

static void nat_ports(const struct ct_model_input *in, struct ct_limit *l, double tuples,
		      double dests)
{
	enum ct_model_ct_state st = ct_model_end_state(in);
	double timer = in->ct_timeout_s[st];
	double per = CT_MODEL_NAT_PORT_HI - CT_MODEL_NAT_PORT_LO + 1;
	double cap = per * in->nat_ips * dests;

	limit_init(l, CT_LIMIT_NAT_PORTS, "nat_ports", "NAT source ports", true);
	if (!in->nat) {
		setf(l->note, sizeof(l->note), "no NAT on the path");
		return;
	}
	if (timer <= 0) {
		setf(l->note, sizeof(l->note), "the conntrack %s timeout is 0", state_names[st]);
		return;
	}
	if (tuples <= cap && isfinite(tuples)) {
		setf(l->note, sizeof(l->note),
		     "only %.0f distinct client 4-tuples for %.0f NAT ones: NAT keeps the source "
		     "port "
		     "while the tuple stays unique, so it never runs out",
		     tuples, cap);
		return;
	}
	limit_set(l, cap, timer);
	steady_rate(in, l, CT_MCOUNT_CONNTRACK);
	setf(l->formula, sizeof(l->formula),
	     "%.0f ports (%d-%d) x %u NAT %s x %.0f %s / %s timeout %g s", per,
	     CT_MODEL_NAT_PORT_LO, CT_MODEL_NAT_PORT_HI, in->nat_ips,
	     plural(in->nat_ips, "IP", "IPs"), dests, plural(dests, "destination", "destinations"),
	     state_names[st], timer);
	setf(l->note, sizeof(l->note),
	     "each mapping lives as long as its conntrack entry; past it the new entry clashes, "
	     "insert_failed grows and the SYN is dropped silently");
}

static void tw_buckets(const struct ct_model_input *in, struct ct_limit *l, bool client)
{
	uint64_t b = client ? in->tw_buckets_client : in->tw_buckets_server;
	enum ct_model_closer side = client ? CT_MCLOSE_CLIENT : CT_MCLOSE_SERVER;

	limit_init(l, client ? CT_LIMIT_TW_CLIENT : CT_LIMIT_TW_SERVER,
		   client ? "tw_buckets.client" : "tw_buckets.server",
		   client ? "TIME_WAIT buckets, client" : "TIME_WAIT buckets, server", false);
	if (in->closer != side) {
		setf(l->note, sizeof(l->note), "the %s does not close first: no TIME_WAIT there",
		     client ? "client" : "server");
		return;
	}
	limit_set(l, (double)b, CT_MODEL_TIMEWAIT_S);
	if (isinf(ct_model_rate_for(in, client ? CT_MCOUNT_CLIENT_PORTS : CT_MCOUNT_SERVER_TW,
				    (double)b))) {
		l->applies = false;
		l->predicted_cps = 0;
		setf(l->note, sizeof(l->note),
		     "the %s's TIME_WAIT sockets never outnumber the 4-tuples in use, and those "
		     "are fewer than tcp_max_tw_buckets (%llu)",
		     client ? "client" : "server", (unsigned long long)b);
		return;
	}
	setf(l->formula, sizeof(l->formula), "tcp_max_tw_buckets %llu / 60 s",
	     (unsigned long long)b);
	setf(l->note, sizeof(l->note),
	     "past it closing sockets skip TIME_WAIT: no error, TcpExt TCPTimeWaitOverflow grows "
	     "and nothing is logged; the protection TIME_WAIT gives is lost");
}

static void backlog(const struct ct_model_input *in, struct ct_limit *l)
{
	int eff = in->backlog;

	if (in->somaxconn > 0 && (eff <= 0 || eff > in->somaxconn))
		eff = in->somaxconn;
	limit_init(l, CT_LIMIT_BACKLOG, "listen_backlog", "listen backlog / accept rate", true);
	if (in->accept_cps <= 0) {
		setf(l->note, sizeof(l->note),
		     "backlog %d (min of listen %d and somaxconn %d) absorbs a burst of %d "
		     "connections; it limits the rate only through the server's accept speed, "
		     "measured during a run (TcpExt ListenOverflows)",
		     eff, in->backlog, in->somaxconn, eff);
		return;
	}
	l->applies = true;
	l->capacity = eff;
	l->predicted_cps = in->accept_cps;
	l->timer_s = eff / in->accept_cps;
	setf(l->formula, sizeof(l->formula), "measured accept rate %.0f/s (queue of %d)",
	     in->accept_cps, eff);
	setf(
	    l->note, sizeof(l->note),
	    "past it the accept queue fills, then SYNs are dropped (ListenOverflows, ListenDrops)");
}

static void cliff(const struct ct_model_input *in, const struct ct_limit *ports, struct ct_limit *l,
		  double *cliff_cps)
{
	limit_init(l, CT_LIMIT_CONNECT_CLIFF, "connect_cliff", "connect() port search cliff",
		   false);
	l->estimate = true;
	*cliff_cps = 0;
	if (in->packet_engine) {
		setf(l->note, sizeof(l->note),
		     "a packet engine takes a tuple from its own pool, with no port search");
		return;
	}
	if (!ports->applies) {
		setf(l->note, sizeof(l->note),
		     "the client's ports do not fill with TIME_WAIT, so connect() finds one at "
		     "once");
		return;
	}
	if (ct_model_parity_cliff(in)) {
		setf(l->note, sizeof(l->note),
		     "at this rate the port search is the limit itself: client ports counts the "
		     "half of the range connect() fills before every call scans");
		return;
	}
	limit_set(l, ports->capacity * CT_MODEL_CLIFF_LOW, ports->timer_s);
	*cliff_cps = l->predicted_cps;
	setf(l->formula, sizeof(l->formula), "%.0f%%-%.0f%% of %.0f ports / %g s = %.0f-%.0f/s",
	     CT_MODEL_CLIFF_LOW * 100, CT_MODEL_CLIFF_HIGH * 100, ports->capacity, ports->timer_s,
	     ports->predicted_cps * CT_MODEL_CLIFF_LOW, ports->predicted_cps * CT_MODEL_CLIFF_HIGH);
	setf(l->note, sizeof(l->note),
	     "estimate: with a share o of the range in TIME_WAIT, connect() probes about 1/(1-o) "
	     "ports under locks (2 at 50%%, 3.3 at 70%%, 10 at 90%%); measured on a veth lab, "
	     "24k/s fell to 1.8k/s with zero errors before EADDRNOTAVAIL. Watch connect() time, "
	     "client CPU and achieved vs scheduled rate");
}

/* Seconds until a limit's capacity is used at the offered rate. */
static double fill_time(const struct ct_model_input *in, const struct ct_limit *l)
{
	double t;

	switch (l->id) {
	case CT_LIMIT_BACKLOG:
		return l->capacity / (in->rate - l->predicted_cps);
	case CT_LIMIT_CONNTRACK:
	case CT_LIMIT_NAT_PORTS:
	case CT_LIMIT_CT_CHAINS:
		t = ct_model_time_to(in, CT_MCOUNT_CONNTRACK, in->rate, l->capacity);
		return isfinite(t) ? t : l->capacity / in->rate;
	default:
		return l->capacity / in->rate;
	}
}

int ct_model_compute(const struct ct_model_input *in, struct ct_model_result *out)
{
	struct ct_limit *L;
	double dests, best = INFINITY;

	if (!in || !out || in->clients == 0 || in->server_ports == 0 || in->server_ips == 0 ||
	    in->port_lo == 0 || in->port_hi < in->port_lo || in->port_hi > 65535 ||
	    (in->nat && in->nat_ips == 0) || in->rate < 0 || !isfinite(in->rate))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	L = out->limits;
	dests = (double)in->server_ips * in->server_ports;
	out->tuples = distinct_tuples(in, dests);
	client_ports(in, &L[CT_LIMIT_CLIENT_PORTS], dests);
	conntrack(in, &L[CT_LIMIT_CONNTRACK], out->tuples);
	nat_ports(in, &L[CT_LIMIT_NAT_PORTS], out->tuples, dests);
	tw_buckets(in, &L[CT_LIMIT_TW_CLIENT], true);
	tw_buckets(in, &L[CT_LIMIT_TW_SERVER], false);
	backlog(in, &L[CT_LIMIT_BACKLOG]);
	cliff(in, &L[CT_LIMIT_CLIENT_PORTS], &L[CT_LIMIT_CONNECT_CLIFF], &out->cliff_cps);
	ct_chains(in, &L[CT_LIMIT_CT_CHAINS], out->tuples);

	out->binding = -1;
	for (int i = 0; i < CT_LIMIT_N; i++) {
		struct ct_limit *l = &L[i];

		if (!l->applies)
			continue;
		if (in->rate > 0 && l->predicted_cps > 0) {
			l->load_pct = in->rate / l->predicted_cps * 100.0;
			if (in->rate > l->predicted_cps && !l->estimate)
				l->fill_s = fill_time(in, l);
		}
		if (l->hard && l->predicted_cps < best) {
			best = l->predicted_cps;
			out->binding = i;
		}
	}
	return 0;
}

const struct ct_limit *ct_model_binding(const struct ct_model_result *r)
{
	return r && r->binding >= 0 ? &r->limits[r->binding] : NULL;
}

/* ---- JSON --------------------------------------------------------------- */

static int jset(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *ct_model_to_json(const struct ct_model_input *in, const struct ct_model_result *r)
{
	json_t *root = json_object(), *arr = json_array(), *inp = json_object(),
	       *to = json_object();
	const struct ct_limit *b = ct_model_binding(r);
	int bad = 0;

	if (!root || !arr || !inp || !to)
		goto fail;
	bad |= jset(root, "binding", b ? json_string(b->name) : json_null());
	bad |= jset(root, "binding_cps", b ? jnum(b->predicted_cps) : json_null());
	bad |= jset(root, "cliff_cps", r->cliff_cps > 0 ? jnum(r->cliff_cps) : json_null());
	bad |= jset(root, "tuples", jnum(r->tuples));
	for (int i = 0; i < CT_LIMIT_N; i++) {
		const struct ct_limit *l = &r->limits[i];
		json_t *o = json_object();

		if (!o || json_array_append_new(arr, o) < 0)
			goto fail;
		bad |= jset(o, "name", json_string(l->name));
		bad |= jset(o, "title", json_string(l->title));
		bad |= jset(o, "applies", json_boolean(l->applies));
		bad |= jset(o, "hard", json_boolean(l->hard));
		bad |= jset(o, "estimate", json_boolean(l->estimate));
		bad |= jset(o, "predicted_cps", l->applies ? jnum(l->predicted_cps) : json_null());
		bad |= jset(o, "capacity", l->applies ? jnum(l->capacity) : json_null());
		bad |= jset(o, "timer_s", l->applies ? jnum(l->timer_s) : json_null());
		bad |= jset(o, "formula", json_string(l->formula));
		bad |= jset(o, "note", json_string(l->note));
		if (in->rate > 0 && l->applies) {
			bad |= jset(o, "load_pct", jnum(l->load_pct));
			bad |= jset(o, "fill_s", l->fill_s > 0 ? jnum(l->fill_s) : json_null());
		}
	}
	bad |= json_object_set_new(root, "limits", arr);
	arr = NULL;
	bad |= jset(inp, "port_lo", json_integer(in->port_lo));
	bad |= jset(inp, "port_hi", json_integer(in->port_hi));
	bad |= jset(inp, "reserved_in_range", json_integer(in->reserved_in_range));
	bad |= jset(inp, "tw_reuse", json_integer(in->tw_reuse));
	bad |= jset(inp, "loopback", json_boolean(in->loopback));
	bad |= jset(inp, "reuse_delay_ms", json_integer(in->reuse_delay_ms));
	bad |= jset(inp, "timestamps", json_boolean(in->timestamps));
	bad |= jset(inp, "explicit_bind", json_boolean(in->explicit_bind));
	bad |= jset(inp, "clients", json_integer(in->clients));
	bad |= jset(inp, "server_ips", json_integer(in->server_ips));
	bad |= jset(inp, "server_ports", json_integer(in->server_ports));
	bad |= jset(inp, "backlog", json_integer(in->backlog));
	bad |= jset(inp, "somaxconn", json_integer(in->somaxconn));
	bad |= jset(inp, "accept_cps", jnum(in->accept_cps));
	bad |= jset(inp, "closer", json_string(ct_model_closer_name(in->closer)));
	bad |= jset(inp, "tw_buckets_client", json_integer((json_int_t)in->tw_buckets_client));
	bad |= jset(inp, "tw_buckets_server", json_integer((json_int_t)in->tw_buckets_server));
	bad |= jset(inp, "conntrack_on", json_string(ct_model_ct_where_name(in->ct_where)));
	bad |= jset(inp, "nf_conntrack_max", json_integer((json_int_t)in->ct_max));
	bad |= jset(inp, "nf_conntrack_buckets", json_integer((json_int_t)in->ct_buckets));
	for (int s = 0; s < CT_MST_N; s++)
		bad |= jset(to, state_names[s], jnum(in->ct_timeout_s[s]));
	bad |= json_object_set_new(inp, "ct_timeout_s", to);
	to = NULL;
	bad |= jset(inp, "many_peers", json_boolean(in->many_peers));
	bad |= jset(inp, "nat", json_boolean(in->nat));
	bad |= jset(inp, "nat_ips", json_integer(in->nat_ips));
	bad |= jset(inp, "rate", jnum(in->rate));
	bad |= json_object_set_new(root, "inputs", inp);
	inp = NULL;
	if (bad)
		goto fail;
	return root;
fail:
	json_decref(root);
	json_decref(arr);
	json_decref(inp);
	json_decref(to);
	return NULL;
}
