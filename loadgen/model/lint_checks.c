/* lint_checks — what a sysctl line means beyond its syntax: the checks of
 * one key (tcp_fin_timeout, a low tcp_max_tw_buckets, the hash size through
 * sysctl) and those over every line (entries a bucket, ephemeral ports over
 * listening ones or of one parity, tcp_tw_reuse without timestamps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "loadgen/host/hostinfo.h"
#include "loadgen/model/lint_int.h"
#include "loadgen/model/model.h"

/* Entries a bucket at a full table past which lint speaks. The kernel's
 * own sizing gives 1 (nf_conntrack_max = nf_conntrack_buckets), the usual
 * advice and `ctload check`'s is 4 (buckets = max / 4); past 8 every lookup
 * in a full table walks a long chain. */
#define MAX_PER_BUCKET 8
/* Current kernels refuse an insert into a chain longer than a random cap of
 * 50 to 80 (MIN_CHAINLEN and MAX_CHAINLEN in nf_conntrack_core.c): measured
 * on 6.18, a table shaped for more stopped filling near 40 entries a
 * bucket, dropping new connections with no "table full" message. */
#define CHAIN_STOP_PER_BUCKET 40
/* Below this tcp_max_tw_buckets only hides TIME_WAIT (the usual default is
 * ehash/2 = 131072 on a few GB of RAM; 32768 is far under any range in use). */
#define LOW_TW_BUCKETS 32768

/* Services that listen on ports a widened ephemeral range swallows. */
static const struct {
	uint16_t port;
	const char *what;
} well_known[] = {
    {2181, "zookeeper"},  {2379, "etcd"},	{3306, "mysql"},	 {5432, "postgresql"},
    {5672, "amqp"},	  {6379, "redis"},	{8080, "http-alt"},	 {8443, "https-alt"},
    {9090, "prometheus"}, {9092, "kafka"},	{9100, "node_exporter"}, {9200, "elasticsearch"},
    {10250, "kubelet"},	  {11211, "memcached"}, {27017, "mongodb"},
};

/* ---- checks of one key ---------------------------------------------------- */

static void check_fin_timeout(struct ct_lint *l, const struct ct_lint_at *at, const struct ct_sysctl_key *k,
			      const char *norm)
{
	struct ct_lint_finding *f;

	if (!(f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_MISUNDERSTOOD)))
		return;
	CT_LINT_SET(f->msg, "tcp_fin_timeout bounds only an orphaned FIN_WAIT_2 socket; it %s", k->note);
	CT_LINT_SET(f->fix, "TIME_WAIT cannot be shortened: use net.ipv4.tcp_tw_reuse = 1 on the "
		    "host that connects, or let the server close first");
}

static void check_tw_buckets(struct ct_lint *l, const struct ct_lint_at *at, const struct ct_sysctl_key *k,
			     const char *norm)
{
	struct ct_lint_finding *f;

	if (strtoll(norm, NULL, 10) >= LOW_TW_BUCKETS ||
	    !(f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_MISUNDERSTOOD)))
		return;
	CT_LINT_SET(f->msg,
	    "tcp_max_tw_buckets %s frees nothing: past it closing sockets skip "
	    "TIME_WAIT without an error (%s)",
	    norm, k->note);
	CT_LINT_SET(f->fix, "leave the default (ehash/2); fix the rate of short connections, the "
		    "port range or tcp_tw_reuse instead");
}

static void check_hashsize(struct ct_lint *l, const struct ct_lint_at *at, const struct ct_sysctl_key *k,
			   const char *norm)
{
	struct ct_lint_finding *f;

	if (!(f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_HASHSIZE)))
		return;
	CT_LINT_SET(f->msg, "the conntrack hash size is writable only from the init netns "
		    "(read-only in containers) and only once nf_conntrack is loaded, "
		    "which at boot is often after sysctl ran");
	CT_LINT_SET(f->fix,
	    "options nf_conntrack hashsize=%.20s in /etc/modprobe.d/nf_conntrack.conf "
	    "(now: echo %.20s > /sys/module/nf_conntrack/parameters/hashsize)",
	    norm, norm);
}

/* What lint knows about single keys beyond their kind and range (those, and
 * the notes the messages quote, live in scenario/sysctl_keys): a check of
 * the value, and the setting the checks over several lines need. */
static const struct key_check {
	const char *key;
	void (*check)(struct ct_lint *l, const struct ct_lint_at *at, const struct ct_sysctl_key *k,
		      const char *norm); /* NULL: only remembered */
	enum ct_lint_setting_id setting;	 /* CT_LSET_NONE: not remembered */
} key_checks[] = {
    {"net.ipv4.tcp_fin_timeout", check_fin_timeout, CT_LSET_NONE},
    {"net.ipv4.tcp_max_tw_buckets", check_tw_buckets, CT_LSET_NONE},
    {"net.netfilter.nf_conntrack_buckets", check_hashsize, CT_LSET_BUCKETS},
    {"net.netfilter.nf_conntrack_max", NULL, CT_LSET_CT_MAX},
    {"net.ipv4.ip_local_port_range", NULL, CT_LSET_PORT_RANGE},
    {"net.ipv4.ip_local_reserved_ports", NULL, CT_LSET_RESERVED},
    {"net.ipv4.tcp_tw_reuse", NULL, CT_LSET_TW_REUSE},
    {"net.ipv4.tcp_timestamps", NULL, CT_LSET_TIMESTAMPS},
};

/* Keep the value for the checks over several lines. A second name of the
 * same setting (net.nf_conntrack_max) set to another value is a duplicate:
 * the later write wins for both names. */
static void remember(struct ct_lint *l, struct ct_lint_setting *s, const struct ct_lint_at *at,
		     const char *value)
{
	struct ct_lint_finding *f;

	if (s->set && strcmp(s->name, at->key) != 0 && strcmp(s->value, value) != 0 &&
	    (f = ct_lint_add(l, at->file, at->line, at->key, CT_LINT_DUPLICATE))) {
		CT_LINT_SET(f->msg,
			    "%s and %s are one setting (%.100s:%d set it to '%s'): this later "
			    "'%s' replaces it",
			    at->key, s->name, s->file, s->line, s->value, value);
		CT_LINT_SET(f->fix, "set it once");
	}
	s->set = true;
	snprintf(s->file, sizeof(s->file), "%s", at->file);
	s->line = at->line;
	snprintf(s->value, sizeof(s->value), "%s", value);
	snprintf(s->name, sizeof(s->name), "%s", at->key);
}

void ct_lint_key_taken(struct ct_lint *l, const struct ct_lint_at *at, const struct ct_sysctl_key *k,
		       const char *norm)
{
	for (size_t i = 0; i < sizeof(key_checks) / sizeof(key_checks[0]); i++) {
		const struct key_check *kc = &key_checks[i];

		if (strcmp(kc->key, k->name) != 0)
			continue;
		if (kc->check)
			kc->check(l, at, k, norm);
		if (kc->setting != CT_LSET_NONE)
			remember(l, &l->set[kc->setting], at, norm);
		break;
	}
}

/* ---- checks over every line ----------------------------------------------- */

/* The ratio's finding: what a full table costs, and where current kernels
 * stop filling it. */
static void ratio_finding(struct ct_lint *l, const struct ct_lint_setting *where, const char *key,
			  uint64_t max, uint64_t buckets, const char *bfrom, const char *live_note)
{
	double per = ct_model_entries_per_bucket(max, buckets);
	uint64_t adv = ct_model_advise_buckets(max, 4);
	char stop[256] = "", sz[32];
	struct ct_lint_finding *f;

	if (per > CHAIN_STOP_PER_BUCKET)
		snprintf(stop, sizeof(stop),
			 "; and the kernel refuses an insert into a chain past 50 to 80 entries "
			 "(nf_conntrack_core.c), so it stops near %d a bucket (%llu entries) and drops "
			 "new connections, no 'table full' logged (conntrack -S: chaintoolong)",
			 CHAIN_STOP_PER_BUCKET, (unsigned long long)buckets * CHAIN_STOP_PER_BUCKET);
	if (!(f = ct_lint_add(l, where->file, where->line, key, CT_LINT_RATIO)))
		return;
	CT_LINT_SET(f->msg,
		    "nf_conntrack_max %llu%s over %llu buckets (%s) is %.0f entries a bucket at a "
		    "full table: every lookup walks a chain that long%s",
		    (unsigned long long)max, live_note, (unsigned long long)buckets, bfrom, per,
		    stop);
	CT_LINT_SET(f->fix,
		    "options nf_conntrack hashsize=%llu (max/4: 4 entries a bucket; a bucket is "
		    "8 bytes, %s)",
		    (unsigned long long)adv, ct_fmt_size(adv * 8, sz, sizeof(sz)));
}

static void check_ratio(struct ct_lint *l)
{
	const struct ct_lint_setting *cmax = &l->set[CT_LSET_CT_MAX], *cb = &l->set[CT_LSET_BUCKETS],
				     *opt = &l->set[CT_LSET_HASHSIZE_OPT], *where;
	uint64_t max, buckets = 0;
	const char *bfrom = "";
	struct ct_hostinfo hi;
	char live_note[96] = "";

	if (!cmax->set && !cb->set && !opt->set)
		return;
	if (cb->set) {
		buckets = strtoull(cb->value, NULL, 10);
		bfrom = "nf_conntrack_buckets";
	} else if (opt->set) {
		buckets = strtoull(opt->value, NULL, 10);
		bfrom = "hashsize";
	}
	max = cmax->set ? strtoull(cmax->value, NULL, 10) : 0;
	if (l->opts.live && (!max || !buckets) && ct_hostinfo_read(&hi, NULL) == 0 &&
	    hi.conntrack) {
		if (!max) {
			max = hi.ct_max;
			snprintf(live_note, sizeof(live_note), " (this host's nf_conntrack_max)");
		} else {
			buckets = hi.ct_buckets;
			bfrom = "this host's nf_conntrack_buckets";
		}
	}
	if (!max || !buckets || ct_model_entries_per_bucket(max, buckets) <= MAX_PER_BUCKET)
		return;
	where = cmax->set ? cmax : cb->set ? cb : opt;
	ratio_finding(l, where, where == opt ? "hashsize" : where->name, max, buckets, bfrom,
		      live_note);
}

static void check_ports(struct ct_lint *l)
{
	unsigned lo, hi;
	char list[400] = "", ports[200] = "";
	size_t o = 0, po = 0;
	int nfound = 0;
	struct ct_lint_finding *f;

	if (!l->set[CT_LSET_PORT_RANGE].set ||
	    sscanf(l->set[CT_LSET_PORT_RANGE].value, "%u %u", &lo, &hi) != 2)
		return;
	if ((lo % 2) == (hi % 2) &&
	    (f = ct_lint_add(l, l->set[CT_LSET_PORT_RANGE].file, l->set[CT_LSET_PORT_RANGE].line,
		     "net.ipv4.ip_local_port_range", CT_LINT_PORT_PARITY))) {
		CT_LINT_SET(f->msg,
		    "both ends of %u-%u are %s: connect() takes one parity first and bind() "
		    "the other, and the kernel asks for ends of different parity",
		    lo, hi, lo % 2 ? "odd" : "even");
		CT_LINT_SET(f->fix, "net.ipv4.ip_local_port_range = %u %u", lo, hi % 2 ? hi : hi - 1);
	}
	/* Well-known ports, then the ones given or live, each once. */
	for (unsigned p = lo; p <= hi && p <= 65535; p++) {
		const char *what = NULL;
		bool hit = false;

		for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
			if (well_known[i].port == p) {
				what = well_known[i].what;
				hit = true;
			}
		if (!hit && bsearch(&(uint16_t){(uint16_t)p}, l->listen, l->nlisten,
				    sizeof(uint16_t), ct_lint_cmp_u16)) {
			what = "listening here now";
			hit = true;
		}
		if (!hit || (l->set[CT_LSET_RESERVED].set &&
			     ct_model_ports_in_list(l->set[CT_LSET_RESERVED].value, p, p) > 0))
			continue;
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%u (%s)",
					      nfound ? ", " : "", p, what);
		if (po < sizeof(ports))
			po += (size_t)snprintf(ports + po, sizeof(ports) - po, "%s%u",
					       nfound ? "," : "", p);
		nfound++;
	}
	if (!nfound || !(f = ct_lint_add(l, l->set[CT_LSET_PORT_RANGE].file, l->set[CT_LSET_PORT_RANGE].line,
				 "net.ipv4.ip_local_port_range", CT_LINT_PORT_OVERLAP)))
		return;
	CT_LINT_SET(f->msg,
	    "the ephemeral range %u-%u covers port%s services listen on: %s; connect() can "
	    "take one before the service binds it (Address already in use)",
	    lo, hi, nfound > 1 ? "s" : "", list);
	CT_LINT_SET(f->fix, "net.ipv4.ip_local_reserved_ports = %s (or start the range above them)", ports);
}

static void check_reuse(struct ct_lint *l)
{
	struct ct_lint_finding *f;

	if (!l->set[CT_LSET_TW_REUSE].set || strcmp(l->set[CT_LSET_TW_REUSE].value, "0") == 0 ||
	    !l->set[CT_LSET_TIMESTAMPS].set || strcmp(l->set[CT_LSET_TIMESTAMPS].value, "0") != 0)
		return;
	if (!(f = ct_lint_add(l, l->set[CT_LSET_TW_REUSE].file, l->set[CT_LSET_TW_REUSE].line,
		      "net.ipv4.tcp_tw_reuse", CT_LINT_REUSE_NO_TS)))
		return;
	CT_LINT_SET(f->msg,
	    "tcp_tw_reuse reuses a TIME_WAIT 4-tuple only when TCP timestamps are on, and "
	    "%s:%d turns them off: this line does nothing",
	    l->set[CT_LSET_TIMESTAMPS].file, l->set[CT_LSET_TIMESTAMPS].line);
	CT_LINT_SET(f->fix, "net.ipv4.tcp_timestamps = 1");
}

void ct_lint_cross_checks(struct ct_lint *l)
{
	check_ratio(l);
	check_ports(l);
	check_reuse(l);
}
