/* metrics — see metrics.h. */
#include "loadgen/probe/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "loadgen/base/role.h"

#define MAX_CAUSES 16
#define TICK_MS	   100

/* Load counters cumulative within a step (as the samples carry them). */
enum load { L_SCHEDULED = 0, L_ATTEMPTED, L_ESTABLISHED, L_COMPLETED, L_UNSENT, L_SYNRETX, L_N };
static const char *const load_key[L_N] = {"scheduled", "attempted", "established",
					  "completed", "unsent",    "syn_retrans"};

/* Per-netns deltas (per sample) summed over the run. */
enum nsd {
	D_DROP = 0,
	D_EARLY_DROP,
	D_INSERT_FAILED,
	D_SYN_RETRANS,
	D_TW_OVERFLOW,
	D_LISTEN_OVERFLOWS,
	D_LISTEN_DROPS,
	D_TW,
	D_N
};
static const char *const nsd_key[D_N] = {"ct.drop",
					 "ct.early_drop",
					 "ct.insert_failed",
					 "tcpext.TCPSynRetrans",
					 "tcpext.TCPTimeWaitOverflow",
					 "tcpext.ListenOverflows",
					 "tcpext.ListenDrops",
					 "tcpext.TW"};

enum pkt { P_SYN = 0, P_SYN_RETRANS, P_SYNACK, P_RST, P_FIN, P_N };
static const char *const pkt_key[P_N] = {"syn", "syn_retrans", "synack", "rst", "fin"};

/* Upper bounds of the connect-time histogram, seconds (+Inf implied). */
static const double le_s[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
			      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,	   10};
#define N_LE (sizeof(le_s) / sizeof(le_s[0]))

struct ns_state {
	bool present, has_ct;
	uint64_t ct_count, ct_max, tw, inuse, orphan, ports_in_use;
	bool has_ports;
	uint64_t sum[D_N];
	bool has[D_N];
};

struct state {
	bool have_sample;
	double t, rate_target, rate;
	int64_t step;
	uint64_t inflight;
	uint64_t base[L_N], cur[L_N]; /* base: earlier steps; cur: this step */
	size_t n_causes;
	char *cause[MAX_CAUSES];
	uint64_t fail_base[MAX_CAUSES], fail_cur[MAX_CAUSES];
	uint64_t hist[N_LE + 1]; /* per bucket (not cumulative); last = +Inf */
	double hist_sum;
	bool have_pkt;
	uint64_t pkt[P_N];
	struct ns_state ns[CT_ROLE_NLAB]; /* by enum ct_role: the lab roles */
};

struct ct_metrics {
	pthread_mutex_t mu;
	struct state st; /* under mu */

	struct event_base *base;
	struct evhttp *http;
	struct event *tick;
	pthread_t thread;
	bool thread_running;
	int stop; /* atomic */
	char address[128];
};

/* ---- folding samples into the state (caller's thread, under mu) -------------- */

static uint64_t u64_of(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	if (json_is_real(v))
		return json_real_value(v) > 0 ? (uint64_t)json_real_value(v) : 0;
	return 0;
}

static void fold_step(struct state *s)
{
	for (int i = 0; i < L_N; i++) {
		s->base[i] += s->cur[i];
		s->cur[i] = 0;
	}
	for (size_t i = 0; i < s->n_causes; i++) {
		s->fail_base[i] += s->fail_cur[i];
		s->fail_cur[i] = 0;
	}
}

static int cause_index(struct state *s, const char *name)
{
	for (size_t i = 0; i < s->n_causes; i++)
		if (!strcmp(s->cause[i], name))
			return (int)i;
	if (s->n_causes == MAX_CAUSES)
		return -1;
	s->cause[s->n_causes] = strdup(name);
	if (!s->cause[s->n_causes])
		return -1;
	return (int)s->n_causes++;
}

static void take_ns(struct ns_state *n, json_t *o)
{
	n->present = true;
	n->has_ct = json_object_get(o, "ct.count") != NULL;
	n->ct_count = u64_of(json_object_get(o, "ct.count"));
	n->ct_max = u64_of(json_object_get(o, "ct.max"));
	n->tw = u64_of(json_object_get(o, "tw"));
	n->inuse = u64_of(json_object_get(o, "inuse"));
	n->orphan = u64_of(json_object_get(o, "orphan"));
	n->has_ports = json_object_get(o, "ports_in_use") != NULL;
	n->ports_in_use = u64_of(json_object_get(o, "ports_in_use"));
	for (int d = 0; d < D_N; d++) {
		json_t *v = json_object_get(o, nsd_key[d]);
		if (v) {
			n->has[d] = true;
			n->sum[d] += u64_of(v);
		}
	}
}

static void take_hist(struct state *s, json_t *h)
{
	size_t i;
	json_t *pair;

	json_array_foreach(h, i, pair)
	{
		double ms = json_number_value(json_array_get(pair, 0));
		uint64_t n = u64_of(json_array_get(pair, 1));
		double sec = ms / 1e3;
		size_t b = 0;
		while (b < N_LE && sec > le_s[b])
			b++;
		s->hist[b] += n;
		s->hist_sum += sec * (double)n;
	}
}

static void take_sample(struct state *s, json_t *smp)
{
	int64_t step = json_integer_value(json_object_get(smp, "step"));
	json_t *f, *v, *ns;
	const char *k;

	if (s->have_sample && step != s->step)
		fold_step(s); /* a new step without the step hook: fold here */
	s->have_sample = true;
	s->step = step;
	s->t = json_number_value(json_object_get(smp, "t"));
	s->rate_target = json_number_value(json_object_get(smp, "rate_target"));
	s->rate = json_number_value(json_object_get(smp, "rate"));
	s->inflight = u64_of(json_object_get(smp, "inflight"));
	for (int i = 0; i < L_N; i++)
		s->cur[i] = u64_of(json_object_get(smp, load_key[i]));
	f = json_object_get(smp, "failures");
	json_object_foreach(f, k, v)
	{
		int c = cause_index(s, k);
		if (c >= 0)
			s->fail_cur[c] = u64_of(v);
	}
	take_hist(s, json_object_get(smp, "connect_hist"));
	if ((v = json_object_get(smp, "pkt"))) {
		s->have_pkt = true;
		for (int p = 0; p < P_N; p++)
			s->pkt[p] += u64_of(json_object_get(v, pkt_key[p]));
	}
	ns = json_object_get(smp, "ns");
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		json_t *o = json_object_get(ns, ct_role_name(r));
		if (o)
			take_ns(&s->ns[r], o);
	}
}

static int fill_sample(void *ctx, json_t *sample)
{
	struct ct_metrics *m = ctx;

	pthread_mutex_lock(&m->mu);
	take_sample(&m->st, sample);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static int fill_step(void *ctx, json_t *step)
{
	struct ct_metrics *m = ctx;

	pthread_mutex_lock(&m->mu);
	fold_step(&m->st);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

struct ct_sample_source ct_metrics_source(struct ct_metrics *m)
{
	return (struct ct_sample_source){.name = "metrics", .fill = fill_sample, .ctx = m};
}

struct ct_sample_source ct_metrics_step_hook(struct ct_metrics *m)
{
	return (struct ct_sample_source){.name = "metrics", .fill = fill_step, .ctx = m};
}

/* ---- rendering --------------------------------------------------------------- */

/* The shortest decimal that reads back as the same double (Go's ParseFloat
 * accepts it), with Prometheus' spellings of the special values. */
static void put_double(FILE *f, double v)
{
	char buf[40];

	if (isnan(v)) {
		fputs("NaN", f);
		return;
	}
	if (isinf(v)) {
		fputs(v > 0 ? "+Inf" : "-Inf", f);
		return;
	}
	if (v == (double)(long long)v && fabs(v) < 1e15) {
		fprintf(f, "%lld", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void line_u64(FILE *f, const char *name, const char *lname, const char *lval, uint64_t v)
{
	fputs(name, f);
	if (lname) {
		fprintf(f, "{%s=\"", lname);
		put_label_value(f, lval);
		fputs("\"}", f);
	}
	fprintf(f, " %llu\n", (unsigned long long)v);
}

static void line_double(FILE *f, const char *name, double v)
{
	fprintf(f, "%s ", name);
	put_double(f, v);
	fputc('\n', f);
}

/* One family over the netns roles, for roles where want(ns) holds. */
static void ns_family(FILE *f, const struct state *s, const char *name, const char *type,
		      const char *help, bool (*want)(const struct ns_state *, int), int arg,
		      uint64_t (*get)(const struct ns_state *, int))
{
	bool any = false;

	for (int r = 0; r < CT_ROLE_NLAB; r++)
		any |= s->ns[r].present && want(&s->ns[r], arg);
	if (!any)
		return;
	family(f, name, type, help);
	for (int r = 0; r < CT_ROLE_NLAB; r++)
		if (s->ns[r].present && want(&s->ns[r], arg))
			line_u64(f, name, "netns", ct_role_name(r), get(&s->ns[r], arg));
}

static bool want_ct(const struct ns_state *n, int a)
{
	return n->has_ct;
}
static bool want_any(const struct ns_state *n, int a)
{
	return true;
}
static bool want_ports(const struct ns_state *n, int a)
{
	return n->has_ports;
}
static bool want_sum(const struct ns_state *n, int d)
{
	return n->has[d];
}
static uint64_t get_ct_count(const struct ns_state *n, int a)
{
	return n->ct_count;
}
static uint64_t get_ct_max(const struct ns_state *n, int a)
{
	return n->ct_max;
}
static uint64_t get_tw(const struct ns_state *n, int a)
{
	return n->tw;
}
static uint64_t get_inuse(const struct ns_state *n, int a)
{
	return n->inuse;
}
static uint64_t get_orphan(const struct ns_state *n, int a)
{
	return n->orphan;
}
static uint64_t get_ports(const struct ns_state *n, int a)
{
	return n->ports_in_use;
}
static uint64_t get_sum(const struct ns_state *n, int d)
{
	return n->sum[d];
}

static void render_load(FILE *f, const struct state *s)
{
	static const struct {
		enum load i;
		const char *name, *help;
	} counters[] = {
	    {L_SCHEDULED, "ctload_connections_scheduled_total",
	     "Connections the schedule asked for, over the run."},
	    {L_ATTEMPTED, "ctload_connections_attempted_total",
	     "Connections attempted (connect() called), over the run."},
	    {L_ESTABLISHED, "ctload_connections_established_total",
	     "Connections that completed the handshake, over the run."},
	    {L_COMPLETED, "ctload_connections_completed_total",
	     "Connections that got their reply and closed, over the run."},
	    {L_UNSENT, "ctload_connections_unsent_total",
	     "Scheduled connections never attempted (ctload fell behind), over the run."},
	    {L_SYNRETX, "ctload_syn_retransmits_total",
	     "SYN retransmissions of ctload's connections (TCP_INFO), over the run."},
	};

	family(f, "ctload_step", "gauge", "Index of the step running (summary.json steps[]).");
	fprintf(f, "ctload_step %lld\n", (long long)s->step);
	/* The unit in the name, as Prometheus' naming rules ask. */
	family(f, "ctload_rate_target_per_second", "gauge",
	       "Connections per second the schedule asks for now.");
	line_double(f, "ctload_rate_target_per_second", s->rate_target);
	family(f, "ctload_rate_per_second", "gauge",
	       "Completed connections per second over the last sample.");
	line_double(f, "ctload_rate_per_second", s->rate);
	family(f, "ctload_connections_inflight", "gauge", "Connections open now.");
	line_u64(f, "ctload_connections_inflight", NULL, NULL, s->inflight);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		family(f, counters[i].name, "counter", counters[i].help);
		line_u64(f, counters[i].name, NULL, NULL,
			 s->base[counters[i].i] + s->cur[counters[i].i]);
	}
	family(f, "ctload_connections_failed_total", "counter",
	       "Failed connections by cause, over the run.");
	for (size_t i = 0; i < s->n_causes; i++)
		line_u64(f, "ctload_connections_failed_total", "cause", s->cause[i],
			 s->fail_base[i] + s->fail_cur[i]);

	const char *h = "ctload_connect_duration_seconds";
	uint64_t cum = 0;
	family(f, h, "histogram",
	       "Time from a connection's scheduled start to the end of its handshake.");
	for (size_t b = 0; b <= N_LE; b++) {
		cum += s->hist[b];
		fprintf(f, "%s_bucket{le=\"", h);
		put_double(f, b < N_LE ? le_s[b] : INFINITY);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(f, "%s_sum ", h);
	put_double(f, s->hist_sum);
	fprintf(f, "\n%s_count %llu\n", h, (unsigned long long)cum);

	if (s->have_pkt) {
		family(f, "ctload_packets_total", "counter",
		       "TCP packets seen on the lab link by kind (SYN without ACK, SYN "
		       "retransmitted, SYN-ACK, any RST, any FIN), over the run.");
		for (int p = 0; p < P_N; p++)
			line_u64(f, "ctload_packets_total", "kind", pkt_key[p], s->pkt[p]);
	}
}

static void render_ns(FILE *f, const struct state *s)
{
	static const char *const dname[D_N] = {"node_nf_conntrack_stat_drop",
					       "node_nf_conntrack_stat_early_drop",
					       "node_nf_conntrack_stat_insert_failed",
					       "node_netstat_TcpExt_TCPSynRetrans",
					       "node_netstat_TcpExt_TCPTimeWaitOverflow",
					       "node_netstat_TcpExt_ListenOverflows",
					       "node_netstat_TcpExt_ListenDrops",
					       "node_netstat_TcpExt_TW"};
	static const char *const dhelp[D_N] = {
	    "Packets dropped because the conntrack table was full (since the run began).",
	    "Conntrack entries evicted to make room (since the run began).",
	    "Conntrack entries that could not be inserted, e.g. NAT clashes (since the run "
	    "began).",
	    "TcpExt TCPSynRetrans: SYNs retransmitted in this netns (since the run began).",
	    "TcpExt TCPTimeWaitOverflow: sockets that skipped TIME_WAIT, tcp_max_tw_buckets "
	    "reached (since the run began).",
	    "TcpExt ListenOverflows: accept queue full (since the run began).",
	    "TcpExt ListenDrops: SYNs dropped at a listener (since the run began).",
	    "TcpExt TW: TIME_WAIT sockets whose timer ran out (since the run began)."};

	ns_family(f, s, "node_nf_conntrack_entries", "gauge",
		  "Conntrack entries in this netns (nf_conntrack_count).", want_ct, 0,
		  get_ct_count);
	ns_family(f, s, "node_nf_conntrack_entries_limit", "gauge",
		  "Size of the conntrack table (nf_conntrack_max, global).", want_ct, 0,
		  get_ct_max);
	for (int d = D_DROP; d <= D_INSERT_FAILED; d++)
		ns_family(f, s, dname[d], "gauge", dhelp[d], want_sum, d, get_sum);
	ns_family(f, s, "node_sockstat_TCP_tw", "gauge",
		  "TCP sockets in TIME_WAIT (and FIN_WAIT_2 mini-sockets) in this netns.", want_any,
		  0, get_tw);
	ns_family(f, s, "node_sockstat_TCP_inuse", "gauge", "TCP sockets in use in this netns.",
		  want_any, 0, get_inuse);
	ns_family(f, s, "node_sockstat_TCP_orphan", "gauge",
		  "Orphaned TCP sockets (the kernel's global count).", want_any, 0, get_orphan);
	ns_family(f, s, "ctload_ports_in_use", "gauge",
		  "Client sockets holding a local port: in use plus TIME_WAIT.", want_ports, 0,
		  get_ports);
	for (int d = D_SYN_RETRANS; d < D_N; d++)
		ns_family(f, s, dname[d], "untyped", dhelp[d], want_sum, d, get_sum);
}

char *ct_metrics_render(struct ct_metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	pthread_mutex_lock(&m->mu);
	family(f, "ctload_sample_time_seconds", "gauge",
	       "t of the latest sample, seconds since the run began (as in timeseries.jsonl).");
	if (m->st.have_sample) {
		line_double(f, "ctload_sample_time_seconds", m->st.t);
		render_load(f, &m->st);
		render_ns(f, &m->st);
	}
	pthread_mutex_unlock(&m->mu);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- the HTTP side (its own thread) ---------------------------------------------- */

static void on_request(struct evhttp_request *req, void *arg)
{
	struct ct_metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *body;
	char *text;

	if (!path || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "ctload serves /metrics only");
		return;
	}
	text = ct_metrics_render(m);
	body = evbuffer_new();
	if (!text || !body || evbuffer_add(body, text, strlen(text)) < 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		goto out;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
out:
	if (body)
		evbuffer_free(body);
	free(text);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ct_metrics *m = arg;

	if (__atomic_load_n(&m->stop, __ATOMIC_RELAXED))
		event_base_loopbreak(m->base);
}

static void *serve(void *arg)
{
	struct ct_metrics *m = arg;

	event_base_dispatch(m->base);
	return NULL;
}

int ct_metrics_parse_listen(const char *s, char *addr, size_t addrlen, unsigned *port)
{
	const char *colon, *host = s;
	size_t hlen;
	char *end;
	unsigned long p;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* a bare IPv6 address needs brackets */
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= addrlen || !colon[1])
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p > 65535 || colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	memcpy(addr, host, hlen);
	addr[hlen] = '\0';
	*port = (unsigned)p;
	return 0;
}

static int parse_error(const char *listen, struct ct_err *err)
{
	ct_err_set(err, CT_EXIT_USAGE,
		   "metrics_listen \"%s\": expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464",
		   listen);
	return -EINVAL;
}

/* rc: the errno of a failed bind. */
static int bind_error(const char *listen, int rc, struct ct_err *err)
{
	/* An address the kernel calls invalid is the user's to fix. */
	ct_err_set(err, rc == EINVAL ? CT_EXIT_USAGE : CT_EXIT_ENV,
		   "metrics: cannot listen on %s: %s; give a local address and a free "
		   "port (--metrics-listen 127.0.0.1:9464, or port 0 for any free port)",
		   listen, strerror(rc));
	return -rc;
}

int ct_metrics_check_listen(const char *listen, struct ct_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_ADDRCONFIG};
	struct addrinfo *ai = NULL;
	char host[64], serv[8];
	unsigned port;
	int fd, rc = 0, one = 1;

	if (ct_metrics_parse_listen(listen, host, sizeof(host), &port) < 0)
		return parse_error(listen, err);
	snprintf(serv, sizeof(serv), "%u", port);
	/* As evhttp binds: the first address the name resolves to, with
	 * SO_REUSEADDR (which still refuses a port another socket listens on). */
	if (getaddrinfo(host, serv, &hints, &ai) != 0 || !ai) {
		if (ai)
			freeaddrinfo(ai);
		return bind_error(listen, EADDRNOTAVAIL, err);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		rc = bind_error(listen, errno, err);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

static int start_server(struct ct_metrics *m, const char *listen, struct ct_err *err)
{
	char host[64];
	unsigned port;
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct timeval tv = {0, TICK_MS * 1000};
	int rc;

	if (ct_metrics_parse_listen(listen, host, sizeof(host), &port) < 0)
		return parse_error(listen, err);
	m->base = event_base_new();
	m->http = m->base ? evhttp_new(m->base) : NULL;
	m->tick = m->base ? event_new(m->base, -1, EV_PERSIST, on_tick, m) : NULL;
	if (!m->http || !m->tick || event_add(m->tick, &tv) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "metrics: setting up the HTTP server: out of memory");
		return -ENOMEM;
	}
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(m->http, on_request, m);
	errno = 0;
	bs = evhttp_bind_socket_with_handle(m->http, host, (ev_uint16_t)port);
	if (!bs)
		return bind_error(listen, errno ? errno : EADDRNOTAVAIL, err);
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0) {
		char a[INET6_ADDRSTRLEN] = "?";
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(m->address, sizeof(m->address), "[%s]:%u", a,
				 ntohs(s6->sin6_port));
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			snprintf(m->address, sizeof(m->address), "%s:%u", a, ntohs(s4->sin_port));
		}
	}
	rc = pthread_create(&m->thread, NULL, serve, m);
	if (rc) {
		ct_err_set(err, CT_EXIT_ENV, "metrics: starting the server thread: %s",
			   strerror(rc));
		return -rc;
	}
	m->thread_running = true;
	return 0;
}

struct ct_metrics *ct_metrics_new(const char *listen, struct ct_err *err)
{
	struct ct_metrics *m = calloc(1, sizeof(*m));
	int rc;

	if (err)
		err->msg[0] = '\0';
	if (!m) {
		ct_err_set(err, CT_EXIT_ENV, "metrics: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	if (listen && (rc = start_server(m, listen, err)) < 0) {
		ct_metrics_free(m);
		errno = -rc;
		return NULL;
	}
	return m;
}

const char *ct_metrics_address(const struct ct_metrics *m)
{
	return m->address;
}

void ct_metrics_free(struct ct_metrics *m)
{
	if (!m)
		return;
	if (m->thread_running) {
		__atomic_store_n(&m->stop, 1, __ATOMIC_RELAXED);
		pthread_join(m->thread, NULL);
	}
	if (m->tick)
		event_free(m->tick);
	if (m->http)
		evhttp_free(m->http);
	if (m->base)
		event_base_free(m->base);
	for (size_t i = 0; i < m->st.n_causes; i++)
		free(m->st.cause[i]);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* ---- the probe ------------------------------------------------------------------ */

static int m_wanted(const struct ct_probe_config *cfg, struct ct_err *err)
{
	return cfg->metrics_listen != NULL;
}

static void *m_open(const struct ct_probe_config *cfg, struct ct_err *err)
{
	struct ct_metrics *m = ct_metrics_new(cfg->metrics_listen, err);
	char host[64];
	unsigned port = 1;

	ct_metrics_parse_listen(cfg->metrics_listen, host, sizeof(host), &port);
	/* Port 0: the kernel picked one, and only this line tells which, so
	 * --quiet does not hide it. */
	if (m && (!cfg->quiet || port == 0))
		ct_note("metrics on http://%s/metrics", ct_metrics_address(m));
	return m;
}

static void m_close(void *ctx)
{
	ct_metrics_free(ctx);
}

const struct ct_probe_kind ct_probe_metrics = {
    .name = "metrics",
    .wanted = m_wanted,
    .open = m_open,
    .sample = fill_sample,
    .step_end = fill_step,
    .close = m_close,
};
