#include "loadgen/probe/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "loadgen/base/role.h"
#include "loadgen/probe/ctnl.h"
#include "loadgen/probe/ctwalk.h"
#include "loadgen/host/netns.h"

const char *const ct_ctstat_header[CT_CTSTAT_N] = {
    [CT_CTSTAT_FOUND] = "found",
    [CT_CTSTAT_INVALID] = "invalid",
    [CT_CTSTAT_INSERT] = "insert",
    [CT_CTSTAT_INSERT_FAILED] = "insert_failed",
    [CT_CTSTAT_DROP] = "drop",
    [CT_CTSTAT_EARLY_DROP] = "early_drop",
    [CT_CTSTAT_CLASH_RESOLVE] = "clashres",
    [CT_CTSTAT_SEARCH_RESTART] = "search_restart",
    [CT_CTSTAT_CHAINTOOLONG] = "chainlength",
};

/* The JSON names, as the summary and fail_when spell them. */
static const char *const ctstat_json[CT_CTSTAT_N] = {
    [CT_CTSTAT_FOUND] = "ct.found",
    [CT_CTSTAT_INVALID] = "ct.invalid",
    [CT_CTSTAT_INSERT] = "ct.insert",
    [CT_CTSTAT_INSERT_FAILED] = "ct.insert_failed",
    [CT_CTSTAT_DROP] = "ct.drop",
    [CT_CTSTAT_EARLY_DROP] = "ct.early_drop",
    [CT_CTSTAT_CLASH_RESOLVE] = "ct.clash_resolve",
    [CT_CTSTAT_SEARCH_RESTART] = "ct.search_restart",
    [CT_CTSTAT_CHAINTOOLONG] = "ct.chaintoolong",
};

const char *const ct_tcpext_name[CT_TCPEXT_N] = {
    [CT_TCPEXT_TW] = "TW",
    [CT_TCPEXT_TW_RECYCLED] = "TWRecycled",
    [CT_TCPEXT_TW_KILLED] = "TWKilled",
    [CT_TCPEXT_TW_OVERFLOW] = "TCPTimeWaitOverflow",
    [CT_TCPEXT_LISTEN_OVERFLOWS] = "ListenOverflows",
    [CT_TCPEXT_LISTEN_DROPS] = "ListenDrops",
    [CT_TCPEXT_SYN_RETRANS] = "TCPSynRetrans",
};

const char *const ct_tcpsnmp_name[CT_TCP_N] = {
    [CT_TCP_ACTIVE_OPENS] = "ActiveOpens",
    [CT_TCP_PASSIVE_OPENS] = "PassiveOpens",
    [CT_TCP_ATTEMPT_FAILS] = "AttemptFails",
    [CT_TCP_ESTAB_RESETS] = "EstabResets",
};

const char *const ct_tcp_ct_state_name[CT_TCP_CT_NSTATES] = {
    "NONE",	  "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT",
    "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",	  "SYN_SENT2",
};

/* ---- pure parsers ---------------------------------------------------------- */

/* Copy the line starting at `p` (without '\n') into buf; return the next line. */
static const char *line_at(const char *p, char *buf, size_t len)
{
	const char *nl = strchr(p, '\n');
	size_t n = nl ? (size_t)(nl - p) : strlen(p);

	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return nl ? nl + 1 : NULL;
}

int ct_parse_sockstat(const char *text, uint64_t *inuse, uint64_t *orphan, uint64_t *tw,
		      uint64_t *alloc)
{
	char line[512], *save = NULL, *tok;
	const char *p = text;

	while (p && *p) {
		p = line_at(p, line, sizeof(line));
		if (strncmp(line, "TCP:", 4))
			continue;
		*inuse = *orphan = *tw = *alloc = 0;
		strtok_r(line, " ", &save);
		while ((tok = strtok_r(NULL, " ", &save))) {
			char *val = strtok_r(NULL, " ", &save);
			uint64_t v;
			if (!val)
				break;
			v = strtoull(val, NULL, 10);
			if (!strcmp(tok, "inuse"))
				*inuse = v;
			else if (!strcmp(tok, "orphan"))
				*orphan = v;
			else if (!strcmp(tok, "tw"))
				*tw = v;
			else if (!strcmp(tok, "alloc"))
				*alloc = v;
		}
		return 0;
	}
	return -EINVAL;
}

int ct_parse_netstat(const char *text, const char *section, const char *const names[], size_t n,
		     uint64_t *out)
{
	size_t slen = strlen(section);
	const char *p = text;
	char *head = NULL, *vals = NULL;
	int found = 0, ret = -EINVAL;

	for (size_t i = 0; i < n; i++)
		out[i] = 0;
	/* Lines come in pairs: "Section: name name ..." then "Section: n n ...". */
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > slen && !strncmp(p, section, slen) && p[slen] == ':') {
			char *copy = strndup(p, len);
			if (!copy)
				goto out;
			if (!head) {
				head = copy;
			} else {
				vals = copy;
				break;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!head || !vals)
		goto out;
	{
		char *hs = NULL, *vs = NULL, *h, *v;

		strtok_r(head, " ", &hs);
		strtok_r(vals, " ", &vs);
		while ((h = strtok_r(NULL, " ", &hs)) && (v = strtok_r(NULL, " ", &vs))) {
			for (size_t i = 0; i < n; i++) {
				if (!strcmp(h, names[i])) {
					/* snmp has signed fields (MaxConn -1); we
					 * only read counters, which are not. */
					out[i] = (uint64_t)strtoll(v, NULL, 10);
					found |= 1 << i;
				}
			}
		}
	}
	ret = found;
out:
	free(head);
	free(vals);
	return ret;
}

int ct_parse_ctstat(const char *text, const char *const names[], size_t n, uint64_t *out)
{
	int col_of[32], ncols = 0, found = 0;
	char line[1024], *save = NULL, *tok;
	const char *p = text;

	for (size_t i = 0; i < n; i++)
		out[i] = 0;
	if (!p || !*p)
		return -EINVAL;
	p = line_at(p, line, sizeof(line));
	{
		const char *q = line + strspn(line, " \t");
		if (!*q || (*q >= '0' && *q <= '9'))
			return -EINVAL; /* no header row */
	}
	/* Header: map each column to the index of the name we want, or -1. */
	for (tok = strtok_r(line, " \t", &save); tok && ncols < 32;
	     tok = strtok_r(NULL, " \t", &save)) {
		col_of[ncols] = -1;
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(tok, names[i])) {
				col_of[ncols] = (int)i;
				found |= 1 << i;
			}
		}
		ncols++;
	}
	while (p && *p) {
		int c = 0;
		p = line_at(p, line, sizeof(line));
		save = NULL;
		for (tok = strtok_r(line, " \t", &save); tok && c < ncols;
		     tok = strtok_r(NULL, " \t", &save), c++) {
			if (col_of[c] >= 0)
				out[col_of[c]] += strtoull(tok, NULL, 16);
		}
	}
	return found;
}

int ct_parse_netdev(const char *text, uint64_t *rx_drop, uint64_t *tx_drop)
{
	char line[512];
	const char *p = text;
	int devs = 0;

	*rx_drop = *tx_drop = 0;
	/* "  veth0: rbytes rpackets errs drop fifo frame compressed multicast
	 * tbytes tpackets errs drop ...": the 4th and 12th numbers after the
	 * colon. The two header lines have no colon after a name. */
	while (p && *p) {
		unsigned long long v[12];
		const char *colon;

		p = line_at(p, line, sizeof(line));
		colon = strchr(line, ':');
		if (!colon || strchr(line, '|'))
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) != 12)
			continue;
		*rx_drop += v[3];
		*tx_drop += v[11];
		devs++;
	}
	return devs > 0 ? devs : -EINVAL;
}

/* ---- per-netns sampler ------------------------------------------------------- */

enum sampler_file { F_SOCKSTAT, F_NETSTAT, F_SNMP, F_NETDEV, F_CTSTAT, F_CTCOUNT, F_CTMAX, F_N };

static const char *const file_path[F_N] = {
    [F_SOCKSTAT] = "/proc/net/sockstat",
    [F_NETSTAT] = "/proc/net/netstat",
    [F_SNMP] = "/proc/net/snmp",
    [F_NETDEV] = "/proc/net/dev",
    [F_CTSTAT] = "/proc/net/stat/nf_conntrack",
    [F_CTCOUNT] = "/proc/sys/net/netfilter/nf_conntrack_count",
    [F_CTMAX] = "/proc/sys/net/netfilter/nf_conntrack_max",
};

struct ct_sampler {
	char role[16];
	int fd[F_N];
	struct ct_ctnl *ctnl;	/* NULL when ctnetlink is not available */
	struct ct_ctwalk *walk; /* the per-state counts, off the tick; NULL: none */
	char *buf;
	size_t buflen;
	bool have_prev;
	struct ct_ns_counters prev; /* at the previous fill, for deltas */
	struct ct_ns_counters base; /* at step begin */
	uint64_t ct_peak, tw_peak, ct_limit, sockets_peak;
	bool states_seen;	 /* this step's samples carried per-state counts */
	double states_age_max_s; /* this step's oldest per-state counts */
	bool states_degraded;	 /* ... and whether the walk budget held them back */
	struct ct_ns_counters cur;
};

struct ct_sampler *ct_sampler_new(const char *role, int netns_fd)
{
	struct ct_sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->role, sizeof(s->role), "%s", role);
	for (int i = 0; i < F_N; i++)
		s->fd[i] = -1;
	/* netstat grows with the kernel; 64 KiB is ample. */
	s->buflen = 65536;
	s->buf = malloc(s->buflen);
	if (!s->buf) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	for (int i = 0; i < F_N; i++) {
		int fd = ct_netns_open_file(netns_fd, file_path[i], O_RDONLY);
		if (fd < 0) {
			/* Without conntrack in this kernel its files are absent:
			 * sample what there is. The TCP files must exist. */
			if (i < F_CTSTAT) {
				ct_error("sampler %s: cannot open %s in its netns: %s", role,
					 file_path[i], strerror(-fd));
				ct_sampler_free(s);
				errno = -fd;
				return NULL;
			}
			ct_debug("sampler %s: %s: %s", role, file_path[i], strerror(-fd));
			continue;
		}
		s->fd[i] = fd;
	}
	s->ctnl = ct_ctnl_new(netns_fd);
	if (!s->ctnl)
		ct_debug("sampler %s: no ctnetlink socket: %s", role, strerror(errno));
	if (s->fd[F_CTCOUNT] >= 0 && s->ctnl) {
		/* Its socket is made now, in the netns; the thread waits for
		 * the first step or sample (a status query never needs it). */
		s->walk = ct_ctwalk_new(netns_fd, role, CT_CTWALK_BUDGET);
		if (!s->walk)
			ct_debug("sampler %s: no table walker: %s", role, strerror(errno));
	}
	return s;
}

void ct_sampler_free(struct ct_sampler *s)
{
	if (!s)
		return;
	for (int i = 0; i < F_N; i++)
		if (s->fd[i] >= 0)
			close(s->fd[i]);
	ct_ctwalk_free(s->walk);
	ct_ctnl_free(s->ctnl);
	free(s->buf);
	free(s);
}

const char *ct_sampler_role(const struct ct_sampler *s)
{
	return s->role;
}

static int read_fd(struct ct_sampler *s, int which)
{
	ssize_t n;

	if (s->fd[which] < 0)
		return -ENOENT;
	n = pread(s->fd[which], s->buf, s->buflen - 1, 0);
	if (n < 0)
		return -errno;
	s->buf[n] = '\0';
	return 0;
}

int ct_sampler_read(struct ct_sampler *s, bool with_states, struct ct_ns_counters *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_fd(s, F_SOCKSTAT);
	if (ret < 0)
		return ret;
	ct_parse_sockstat(s->buf, &out->tcp_inuse, &out->tcp_orphan, &out->tcp_tw, &out->tcp_alloc);
	if (read_fd(s, F_NETSTAT) == 0)
		ct_parse_netstat(s->buf, "TcpExt", ct_tcpext_name, CT_TCPEXT_N, out->tcpext);
	if (read_fd(s, F_SNMP) == 0)
		ct_parse_netstat(s->buf, "Tcp", ct_tcpsnmp_name, CT_TCP_N, out->tcp);
	if (read_fd(s, F_NETDEV) == 0)
		ct_parse_netdev(s->buf, &out->dev_rx_drop, &out->dev_tx_drop);
	if (read_fd(s, F_CTCOUNT) == 0) {
		out->has_ct = true;
		out->ct_count = strtoull(s->buf, NULL, 10);
	}
	if (read_fd(s, F_CTMAX) == 0)
		out->ct_max = strtoull(s->buf, NULL, 10);
	if (read_fd(s, F_CTSTAT) == 0) {
		ret = ct_parse_ctstat(s->buf, ct_ctstat_header, CT_CTSTAT_N, out->ctstat);
		out->ctstat_present = ret > 0 ? (unsigned)ret : 0;
	} else if (s->ctnl) {
		struct ct_ctnl_stats st;
		if (ct_ctnl_stats(s->ctnl, &st) == 0) {
			out->ctstat[CT_CTSTAT_FOUND] = st.found;
			out->ctstat[CT_CTSTAT_INVALID] = st.invalid;
			out->ctstat[CT_CTSTAT_INSERT] = st.insert;
			out->ctstat[CT_CTSTAT_INSERT_FAILED] = st.insert_failed;
			out->ctstat[CT_CTSTAT_DROP] = st.drop;
			out->ctstat[CT_CTSTAT_EARLY_DROP] = st.early_drop;
			out->ctstat[CT_CTSTAT_CLASH_RESOLVE] = st.clash_resolve;
			out->ctstat[CT_CTSTAT_SEARCH_RESTART] = st.search_restart;
			out->ctstat[CT_CTSTAT_CHAINTOOLONG] = st.chaintoolong;
			out->ctstat_present = (1u << CT_CTSTAT_N) - 1;
		}
	}
	if (with_states && s->ctnl && out->has_ct) {
		struct ct_ctnl_states st;
		ret = ct_ctnl_states(s->ctnl, &st);
		if (ret == 0) {
			out->has_states = true;
			for (int i = 0; i < CT_TCP_CT_NSTATES; i++)
				out->ct_states[i] = st.tcp[i];
		} else {
			ct_debug("sampler %s: conntrack dump: %s; no per-state counts", s->role,
				 strerror(-ret));
			ct_ctnl_free(s->ctnl);
			s->ctnl = NULL;
		}
	}
	return 0;
}

static void track(struct ct_sampler *s, const struct ct_ns_counters *c)
{
	if (c->ct_count > s->ct_peak)
		s->ct_peak = c->ct_count;
	if (c->tcp_tw > s->tw_peak)
		s->tw_peak = c->tcp_tw;
	if (c->tcp_inuse + c->tcp_tw > s->sockets_peak)
		s->sockets_peak = c->tcp_inuse + c->tcp_tw;
	if (c->ct_max)
		s->ct_limit = c->ct_max;
	s->cur = *c;
}

/* Hand the walker the table's size, and start it on first use. */
static void walk_feed(struct ct_sampler *s, const struct ct_ns_counters *c)
{
	int ret;

	if (!s->walk || !c->has_ct)
		return;
	ct_ctwalk_hint(s->walk, c->ct_count);
	ret = ct_ctwalk_start(s->walk);
	if (ret < 0) {
		ct_warn("sampler %s: cannot start the conntrack table walker: %s; no per-state "
			"counts",
			s->role, strerror(-ret));
		ct_ctwalk_free(s->walk);
		s->walk = NULL;
	}
}

int ct_sampler_step_begin(struct ct_sampler *s)
{
	struct ct_ns_counters c;
	int ret = ct_sampler_read(s, false, &c);

	if (ret < 0)
		return ret;
	walk_feed(s, &c);
	s->base = c;
	s->ct_peak = s->tw_peak = s->sockets_peak = 0;
	s->states_seen = false;
	s->states_age_max_s = 0;
	s->states_degraded = false;
	track(s, &c);
	if (!s->have_prev) {
		s->prev = c;
		s->have_prev = true;
	}
	return 0;
}

static uint64_t grew(uint64_t now, uint64_t then)
{
	/* Counters never go back unless the netns was rebuilt: count from 0. */
	return now >= then ? now - then : now;
}

void ct_sampler_step(const struct ct_sampler *s, struct ct_sampler_step *out)
{
	out->ct_peak = s->ct_peak;
	out->ct_limit = s->ct_limit;
	out->tw_peak = s->tw_peak;
	out->sockets_peak = s->sockets_peak;
	out->ct_drop = grew(s->cur.ctstat[CT_CTSTAT_DROP], s->base.ctstat[CT_CTSTAT_DROP]);
	out->ct_early_drop =
	    grew(s->cur.ctstat[CT_CTSTAT_EARLY_DROP], s->base.ctstat[CT_CTSTAT_EARLY_DROP]);
	out->ct_insert_failed =
	    grew(s->cur.ctstat[CT_CTSTAT_INSERT_FAILED], s->base.ctstat[CT_CTSTAT_INSERT_FAILED]);
	out->ct_chaintoolong =
	    grew(s->cur.ctstat[CT_CTSTAT_CHAINTOOLONG], s->base.ctstat[CT_CTSTAT_CHAINTOOLONG]);
	out->listen_overflows = grew(s->cur.tcpext[CT_TCPEXT_LISTEN_OVERFLOWS],
				     s->base.tcpext[CT_TCPEXT_LISTEN_OVERFLOWS]);
	out->listen_drops = grew(s->cur.tcpext[CT_TCPEXT_LISTEN_DROPS],
				 s->base.tcpext[CT_TCPEXT_LISTEN_DROPS]);
	out->dev_rx_drop = grew(s->cur.dev_rx_drop, s->base.dev_rx_drop);
	out->dev_tx_drop = grew(s->cur.dev_tx_drop, s->base.dev_tx_drop);
	out->states_seen = s->states_seen;
	out->states_age_max_s = s->states_age_max_s;
	out->states_degraded = s->states_degraded;
}

static int set_u64(json_t *obj, const char *key, uint64_t v)
{
	return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

/* The walker's last counts, with their age: "ct.states" (entries per TCP
 * state, when there are any), "ct.states_age_s" (since that walk began) and
 * "ct.states_degraded" (the CPU budget holds the walks more than 1 s apart). */
static int fill_states(struct ct_sampler *s, json_t *o, uint64_t now)
{
	struct ct_ctwalk_result r;
	double age;

	if (!s->walk)
		return 0;
	ct_ctwalk_get(s->walk, &r);
	if (!r.have)
		return 0;
	/* Milliseconds are all the precision an age needs. */
	age = (double)((now > r.started_ns ? now - r.started_ns : 0) / CT_NS_PER_MSEC) / 1e3;
	s->states_seen = true;
	if (age > s->states_age_max_s)
		s->states_age_max_s = age;
	s->states_degraded |= r.degraded;
	if (r.total > 0) {
		json_t *st = json_object();
		if (!st || json_object_set_new(o, "ct.states", st) < 0)
			return -ENOMEM;
		for (int i = 1; i < CT_TCP_CT_NSTATES - 1; i++)
			if (r.tcp[i])
				set_u64(st, ct_tcp_ct_state_name[i], r.tcp[i]);
	}
	json_object_set_new(o, "ct.states_age_s", json_real(age));
	json_object_set_new(o, "ct.states_degraded", json_boolean(r.degraded));
	return 0;
}

static json_t *role_obj(struct ct_sampler *s, json_t *sample)
{
	json_t *ns = json_object_get(sample, "ns"), *o;

	if (!ns) {
		ns = json_object();
		if (!ns || json_object_set_new(sample, "ns", ns) < 0)
			return NULL;
	}
	o = json_object();
	if (!o || json_object_set_new(ns, s->role, o) < 0)
		return NULL;
	return o;
}

int ct_sampler_fill(void *ctx, json_t *sample)
{
	struct ct_sampler *s = ctx;
	struct ct_ns_counters c;
	json_t *o;
	int ret;

	/* Only the cheap sources here: procfs and (without procfs) the
	 * per-CPU statistics; the table walk runs on the walker's thread. */
	ret = ct_sampler_read(s, false, &c);
	if (ret < 0)
		return ret;
	if (!s->have_prev) {
		s->prev = c;
		s->base = c;
		s->have_prev = true;
	}
	track(s, &c);
	walk_feed(s, &c);
	o = role_obj(s, sample);
	if (!o)
		return -ENOMEM;
	if (c.has_ct) {
		set_u64(o, "ct.count", c.ct_count);
		set_u64(o, "ct.max", c.ct_max);
		for (int i = 0; i < CT_CTSTAT_N; i++) {
			if (i == CT_CTSTAT_FOUND || i == CT_CTSTAT_INSERT || i == CT_CTSTAT_INVALID)
				continue;
			if (c.ctstat_present & (1u << i))
				set_u64(o, ctstat_json[i], grew(c.ctstat[i], s->prev.ctstat[i]));
		}
	}
	set_u64(o, "tw", c.tcp_tw);
	set_u64(o, "inuse", c.tcp_inuse);
	set_u64(o, "orphan", c.tcp_orphan);
	if (!strcmp(s->role, ct_role_name(CT_ROLE_CLIENT)))
		set_u64(o, "ports_in_use", c.tcp_inuse + c.tcp_tw);
	for (int i = 0; i < CT_TCPEXT_N; i++) {
		char key[64];
		if (i == CT_TCPEXT_TW_KILLED)
			continue;
		snprintf(key, sizeof(key), "tcpext.%s", ct_tcpext_name[i]);
		set_u64(o, key, grew(c.tcpext[i], s->prev.tcpext[i]));
	}
	set_u64(o, "dev.rx_drop", grew(c.dev_rx_drop, s->prev.dev_rx_drop));
	set_u64(o, "dev.tx_drop", grew(c.dev_tx_drop, s->prev.dev_tx_drop));
	set_u64(o, "tcp.ActiveOpens",
		grew(c.tcp[CT_TCP_ACTIVE_OPENS], s->prev.tcp[CT_TCP_ACTIVE_OPENS]));
	set_u64(o, "tcp.PassiveOpens",
		grew(c.tcp[CT_TCP_PASSIVE_OPENS], s->prev.tcp[CT_TCP_PASSIVE_OPENS]));
	if (c.has_ct && fill_states(s, o, ct_now_ns()) < 0)
		return -ENOMEM;
	s->prev = c;
	return 0;
}

void ct_sampler_walk(const struct ct_sampler *s, struct ct_ctwalk_result *out)
{
	memset(out, 0, sizeof(*out));
	if (s->walk)
		ct_ctwalk_get(s->walk, out);
}
