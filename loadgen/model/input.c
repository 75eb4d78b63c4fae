/* input — the model's inputs for a scenario, one source after the other (see
 * input.h). */
#include "loadgen/model/input.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "loadgen/base/role.h"
#include "loadgen/host/hostinfo.h"
#include "loadgen/model/model_int.h"
#include "loadgen/scenario/scenario.h"

int ct_model_ports_in_list(const char *list, unsigned lo, unsigned hi)
{
	const char *p = list;
	int count = 0;

	if (!list)
		return 0;
	while (*p) {
		char *end;
		unsigned long a, b;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p)
			break;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (a > 65535 || b > 65535 || a > b)
			return -EINVAL;
		if (*p && *p != ',' && !isspace((unsigned char)*p))
			return -EINVAL;
		for (unsigned long x = a; x <= b; x++)
			if (x >= lo && x <= hi)
				count++;
	}
	return count;
}

static const char *sysctl_get(const struct ct_scenario *sc, enum ct_sysctl_scope scope,
			      const char *key)
{
	const struct ct_sysctl_list *l = &sc->sysctl[scope];

	for (size_t i = l->n; i-- > 0;)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

static bool get_u64(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (!v)
		return false;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v)
		return false;
	*out = x;
	return true;
}

static bool host_like(const struct ct_scenario *sc, enum ct_sysctl_scope scope)
{
	/* A host scenario runs in the host's netns: a [sysctl.host] key there
	 * also sets what the client and server see. */
	return sc->scenario.topology == CT_TOPO_HOST && scope != CT_SYSCTL_HOST;
}

static const char *lookup(const struct ct_scenario *sc, enum ct_sysctl_scope scope, const char *key)
{
	const char *v = sysctl_get(sc, scope, key);

	if (!v && host_like(sc, scope))
		v = sysctl_get(sc, CT_SYSCTL_HOST, key);
	return v;
}

static bool is_loopback(const char *target)
{
	if (!target)
		return false;
	if (*target == '[')
		target++;
	return strncmp(target, "127.", 4) == 0 || strncmp(target, "::1", 3) == 0 ||
	       strncmp(target, "localhost", 9) == 0;
}

/* Source 1: this host's live values (every key for topology = host), or for
 * a lab only the global keys, since a new netns starts from kernel defaults. */
static void from_host(struct ct_model_input *in, const struct ct_hostinfo *hi, bool host,
		      struct ct_model_text *src)
{
	if (hi && host) {
		ct_hostinfo_to_model(hi, in);
		ct_model_text_add(src, "live values of this host (topology = host)\n");
	} else if (hi) {
		/* A new netns starts from kernel defaults; only the global keys
		 * and the ehash-sized tw_buckets come from the host. */
		if (hi->conntrack) {
			in->ct_max = hi->ct_max;
			in->ct_buckets = hi->ct_buckets;
			ct_model_text_add(
			    src, "nf_conntrack_max %llu, buckets %llu: live (global keys)\n",
			    (unsigned long long)hi->ct_max, (unsigned long long)hi->ct_buckets);
		}
		if (hi->have_tw_buckets) {
			in->tw_buckets_client = in->tw_buckets_server = hi->tw_buckets;
			ct_model_text_add(
			    src,
			    "tcp_max_tw_buckets %llu: the host's (a new netns also gets ehash/2)\n",
			    (unsigned long long)hi->tw_buckets);
		}
		ct_model_text_add(src, "other per-netns keys: kernel defaults of a new netns\n");
	} else {
		ct_model_text_add(src, "host values not read: kernel defaults\n");
	}
}

/* Source 2: the topology: client IPs, NAT, where conntrack runs, the server's
 * ports. Returns the [sysctl.*] scope whose conntrack timeouts apply. */
static enum ct_sysctl_scope from_topology(struct ct_model_input *in, const struct ct_scenario *sc,
					  bool host)
{
	enum ct_sysctl_scope ctscope = CT_SYSCTL_SERVER;

	if (host) {
		in->loopback = is_loopback(sc->server.target);
		in->clients = 1;
		if (sc->lab.conntrack_on == CT_CTON_NONE)
			in->ct_where = CT_MCT_NONE;
		ctscope = CT_SYSCTL_HOST;
	} else {
		in->clients = sc->lab.clients ? sc->lab.clients : 1;
		in->ct_preload = sc->lab.preload;
		in->nat = sc->lab.path == CT_PATH_NAT;
		in->nat_ips = 1;
		switch (sc->lab.conntrack_on) {
		case CT_CTON_SERVER:
			in->ct_where = CT_MCT_SERVER;
			ctscope = CT_SYSCTL_SERVER;
			break;
		case CT_CTON_ROUTER:
			in->ct_where = CT_MCT_ROUTER;
			ctscope = CT_SYSCTL_ROUTER;
			break;
		case CT_CTON_NONE:
			in->ct_where = CT_MCT_NONE;
			break;
		}
		/* NAT needs conntrack on the router whatever conntrack_on says. */
		if (in->nat && in->ct_where == CT_MCT_NONE) {
			in->ct_where = CT_MCT_ROUTER;
			ctscope = CT_SYSCTL_ROUTER;
		}
	}
	in->server_ports = sc->server.port_hi >= sc->server.port_lo
			       ? (unsigned)(sc->server.port_hi - sc->server.port_lo + 1)
			       : 1;
	if (host && sc->server.target) {
		const char *colon = strrchr(sc->server.target, ':');
		uint16_t lo, hi2;

		if (colon && ct_parse_port_range(colon + 1, &lo, &hi2, NULL, 0) == 0)
			in->server_ports = (unsigned)(hi2 - lo + 1);
	}
	return ctscope;
}

/* Source 3: the scenario's [server] and [load]: backlog, who closes, rate. */
static void from_load(struct ct_model_input *in, const struct ct_scenario *sc)
{
	enum ct_client_close cc = ct_scenario_client_close(sc);

	in->backlog = sc->server.backlog;
	if (cc == CT_CCLOSE_RST || sc->server.close == CT_SRV_CLOSE_RST)
		in->closer = CT_MCLOSE_RST;
	else if (sc->server.close == CT_SRV_CLOSE_SERVER || cc == CT_CCLOSE_WAIT)
		in->closer = CT_MCLOSE_SERVER;
	else
		in->closer = CT_MCLOSE_CLIENT;
	in->rate = sc->load.rate > 0 ? sc->load.rate : 0;
	in->threads = sc->load.threads;
}

/* Source 4a: the client's port range: the sysctls, then [load] ports, which
 * bypasses them. */
static void from_ports(struct ct_model_input *in, const struct ct_scenario *sc,
		       struct ct_model_text *src)
{
	const char *v;

	if ((v = lookup(sc, CT_SYSCTL_CLIENT, "net.ipv4.ip_local_port_range"))) {
		unsigned a, b;

		if (sscanf(v, "%u %u", &a, &b) == 2 && a > 0 && a <= b && b <= 65535) {
			in->port_lo = a;
			in->port_hi = b;
			ct_model_text_add(src, "port range %u-%u: scenario\n", a, b);
		}
	}
	if ((v = lookup(sc, CT_SYSCTL_CLIENT, "net.ipv4.ip_local_reserved_ports"))) {
		int n = ct_model_ports_in_list(v, in->port_lo, in->port_hi);

		in->reserved_in_range = n > 0 ? (unsigned)n : 0;
	}
	in->packet_engine = sc->load.engine != CT_ENGINE_KERNEL;
	in->packet_reuse_s = (double)sc->load.reuse_after_ns / 1e9;
	if (in->packet_engine && sc->load.ports == CT_PORTS_KERNEL) {
		/* A packet engine's own default, whatever the client netns says. */
		in->port_lo = 32768;
		in->port_hi = 60999;
		in->reserved_in_range = 0;
	}
	if (sc->load.ports == CT_PORTS_RANGE || sc->load.ports == CT_PORTS_BIND) {
		if (sc->load.port_lo && sc->load.port_hi >= sc->load.port_lo) {
			in->port_lo = sc->load.port_lo;
			in->port_hi = sc->load.port_hi;
			in->reserved_in_range = 0;
			ct_model_text_add(src, "client ports %u-%u: [load] ports\n", in->port_lo,
					  in->port_hi);
		}
		in->explicit_bind = sc->load.ports == CT_PORTS_BIND;
	}
}

/* Source 4b: the TIME_WAIT and listen sysctls of the client and server. */
static void from_tcp_sysctls(struct ct_model_input *in, const struct ct_scenario *sc,
			     struct ct_model_text *src)
{
	uint64_t u;

	if (get_u64(lookup(sc, CT_SYSCTL_CLIENT, "net.ipv4.tcp_tw_reuse"), &u)) {
		in->tw_reuse = (int)u;
		ct_model_text_add(src, "tcp_tw_reuse %d: scenario\n", in->tw_reuse);
	}
	if (get_u64(lookup(sc, CT_SYSCTL_CLIENT, "net.ipv4.tcp_tw_reuse_delay"), &u)) {
		in->reuse_delay_ms = (unsigned)u;
		ct_model_text_add(src, "tcp_tw_reuse_delay %u ms: scenario\n", in->reuse_delay_ms);
	}
	if (get_u64(lookup(sc, CT_SYSCTL_CLIENT, "net.ipv4.tcp_timestamps"), &u) && u == 0)
		in->timestamps = false;
	if (get_u64(lookup(sc, CT_SYSCTL_SERVER, "net.ipv4.tcp_timestamps"), &u) && u == 0)
		in->timestamps = false;
	if (get_u64(lookup(sc, CT_SYSCTL_CLIENT, "net.ipv4.tcp_max_tw_buckets"), &u)) {
		in->tw_buckets_client = u;
		ct_model_text_add(src, "client tcp_max_tw_buckets %llu: scenario\n",
				  (unsigned long long)u);
	}
	if (get_u64(lookup(sc, CT_SYSCTL_SERVER, "net.ipv4.tcp_max_tw_buckets"), &u)) {
		in->tw_buckets_server = u;
		ct_model_text_add(src, "server tcp_max_tw_buckets %llu: scenario\n",
				  (unsigned long long)u);
	}
	if (get_u64(lookup(sc, CT_SYSCTL_SERVER, "net.core.somaxconn"), &u))
		in->somaxconn = (int)u;
}

/* Source 4c: conntrack's size (global keys: [sysctl.host]) and its timeouts
 * in the scope where conntrack runs. */
static void from_conntrack_sysctls(struct ct_model_input *in, const struct ct_scenario *sc,
				   enum ct_sysctl_scope ctscope, struct ct_model_text *src)
{
	/* [sysctl.SCOPE] is named after the role whose netns it sets. */
	static const enum ct_role scope_role[CT_SYSCTL_NSCOPES] = {
	    [CT_SYSCTL_CLIENT] = CT_ROLE_CLIENT,
	    [CT_SYSCTL_SERVER] = CT_ROLE_SERVER,
	    [CT_SYSCTL_ROUTER] = CT_ROLE_ROUTER,
	    [CT_SYSCTL_HOST] = CT_ROLE_HOST,
	};
	uint64_t u;

	if (get_u64(sysctl_get(sc, CT_SYSCTL_HOST, "net.netfilter.nf_conntrack_max"), &u)) {
		in->ct_max = u;
		ct_model_text_add(src, "nf_conntrack_max %llu: scenario\n", (unsigned long long)u);
	}
	if (get_u64(sysctl_get(sc, CT_SYSCTL_HOST, "net.netfilter.nf_conntrack_buckets"), &u))
		in->ct_buckets = u;
	for (int s = 0; s < CT_MST_N; s++) {
		const char *state = ct_model_ct_state_name((enum ct_model_ct_state)s);
		char key[96];

		snprintf(key, sizeof(key), "net.netfilter.nf_conntrack_tcp_timeout_%s", state);
		if (get_u64(lookup(sc, ctscope, key), &u)) {
			in->ct_timeout_s[s] = (double)u;
			ct_model_text_add(
			    src, "conntrack %s timeout %llu s: scenario [sysctl.%s]\n", state,
			    (unsigned long long)u, ct_role_name(scope_role[ctscope]));
		}
	}
}

int ct_model_input_from_scenario(struct ct_model_input *in, const struct ct_scenario *sc,
				 const struct ct_hostinfo *hi, char *srcs, size_t srclen)
{
	struct ct_model_text src = {srcs, srclen, 0};
	bool host = sc->scenario.topology == CT_TOPO_HOST;
	enum ct_sysctl_scope ctscope;

	if (srcs && srclen)
		srcs[0] = '\0';
	ct_model_input_defaults(in);
	from_host(in, hi, host, &src);
	ctscope = from_topology(in, sc, host);
	from_load(in, sc);
	/* The scenario's sysctls override. */
	from_ports(in, sc, &src);
	from_tcp_sysctls(in, sc, &src);
	from_conntrack_sysctls(in, sc, ctscope, &src);
	return 0;
}
