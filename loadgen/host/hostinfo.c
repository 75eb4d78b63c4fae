#include "loadgen/host/hostinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/host/procfs.h"

static const char *const ct_state_files[CT_MST_N] = {
    "syn_sent",	  "syn_recv", "established", "fin_wait",
    "close_wait", "last_ack", "time_wait",   "close",
};

/* Read a small file under root into buf, without the trailing newline. */
static int read_text(const char *root, const char *rel, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;
	int saved;

	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : "", rel);
	if (!(f = fopen(path, "re")))
		return -errno;
	n = fread(buf, 1, len - 1, f);
	saved = ferror(f) ? -EIO : 0;
	fclose(f);
	if (saved)
		return saved;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static bool read_u64(const char *root, const char *rel, uint64_t *out)
{
	char buf[64], *end;
	unsigned long long v;

	if (read_text(root, rel, buf, sizeof(buf)) < 0)
		return false;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return false;
	*out = v;
	return true;
}

static bool read_int(const char *root, const char *rel, int *out)
{
	uint64_t v;

	if (!read_u64(root, rel, &v) || v > INT32_MAX)
		return false;
	*out = (int)v;
	return true;
}

int ct_hostinfo_read(struct ct_hostinfo *hi, const char *root)
{
	char buf[512];
	uint64_t v;
	int got = 0;

	memset(hi, 0, sizeof(*hi));
	if (read_text(root, "proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf)) == 0 &&
	    sscanf(buf, "%u %u", &hi->port_lo, &hi->port_hi) == 2) {
		hi->have_port_range = true;
		got++;
	}
	if (read_text(root, "proc/sys/net/ipv4/ip_local_reserved_ports", hi->reserved_ports,
		      sizeof(hi->reserved_ports)) < 0)
		hi->reserved_ports[0] = '\0';
	hi->have_tw_reuse = read_int(root, "proc/sys/net/ipv4/tcp_tw_reuse", &hi->tw_reuse);
	if (read_u64(root, "proc/sys/net/ipv4/tcp_tw_reuse_delay", &v)) {
		hi->have_reuse_delay = true;
		hi->reuse_delay_ms = (unsigned)v;
	} else {
		hi->reuse_delay_ms = 1000; /* fixed at 1 s before 6.14 */
	}
	hi->have_timestamps = read_int(root, "proc/sys/net/ipv4/tcp_timestamps", &hi->timestamps);
	hi->have_tw_buckets =
	    read_u64(root, "proc/sys/net/ipv4/tcp_max_tw_buckets", &hi->tw_buckets);
	hi->have_fin_timeout =
	    read_int(root, "proc/sys/net/ipv4/tcp_fin_timeout", &hi->fin_timeout);
	hi->have_somaxconn = read_int(root, "proc/sys/net/core/somaxconn", &hi->somaxconn);
	hi->have_syn_backlog =
	    read_int(root, "proc/sys/net/ipv4/tcp_max_syn_backlog", &hi->max_syn_backlog);
	got += hi->have_tw_reuse + hi->have_tw_buckets + hi->have_somaxconn;

	hi->conntrack = read_u64(root, "proc/sys/net/netfilter/nf_conntrack_max", &hi->ct_max);
	if (hi->conntrack) {
		read_u64(root, "proc/sys/net/netfilter/nf_conntrack_buckets", &hi->ct_buckets);
		read_u64(root, "proc/sys/net/netfilter/nf_conntrack_count", &hi->ct_count);
		for (int s = 0; s < CT_MST_N; s++) {
			char rel[128];

			snprintf(rel, sizeof(rel),
				 "proc/sys/net/netfilter/nf_conntrack_tcp_timeout_%s",
				 ct_state_files[s]);
			if (read_u64(root, rel, &v)) {
				hi->have_ct_timeout[s] = true;
				hi->ct_timeout_s[s] = (double)v;
			}
		}
	}
	hi->have_hashsize =
	    read_u64(root, "sys/module/nf_conntrack/parameters/hashsize", &hi->hashsize);

	{
		char path[512], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/proc/meminfo", root && *root ? root : "");
		if ((f = fopen(path, "re"))) {
			unsigned long long kb;

			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
					hi->mem_total = kb * 1024ULL;
					hi->have_mem_total = true;
					got++;
					break;
				}
			fclose(f);
		}
	}
	if (read_text(root, "proc/sys/kernel/osrelease", hi->kernel, sizeof(hi->kernel)) < 0)
		hi->kernel[0] = '\0';
	return got ? 0 : -ENOENT;
}

void ct_hostinfo_to_model(const struct ct_hostinfo *hi, struct ct_model_input *in)
{
	if (hi->have_port_range && hi->port_lo > 0 && hi->port_lo <= hi->port_hi) {
		int n = ct_model_ports_in_list(hi->reserved_ports, hi->port_lo, hi->port_hi);

		in->port_lo = hi->port_lo;
		in->port_hi = hi->port_hi;
		in->reserved_in_range = n > 0 ? (unsigned)n : 0;
	}
	if (hi->have_tw_reuse)
		in->tw_reuse = hi->tw_reuse;
	in->reuse_delay_ms = hi->reuse_delay_ms ? hi->reuse_delay_ms : 1000;
	if (hi->have_timestamps)
		in->timestamps = hi->timestamps != 0;
	if (hi->have_tw_buckets)
		in->tw_buckets_client = in->tw_buckets_server = hi->tw_buckets;
	if (hi->have_somaxconn)
		in->somaxconn = hi->somaxconn;
	if (hi->conntrack) {
		in->ct_where = CT_MCT_CLIENT;
		in->ct_max = hi->ct_max;
		in->ct_buckets = hi->ct_buckets;
		for (int s = 0; s < CT_MST_N; s++)
			if (hi->have_ct_timeout[s])
				in->ct_timeout_s[s] = hi->ct_timeout_s[s];
	} else {
		in->ct_where = CT_MCT_NONE;
	}
}

/* "Name: a b c\nName: 1 2 3" pairs (snmp, netstat): value of field in section. */
static int pair_field(const char *root, const char *rel, const char *section, const char *field,
		      uint64_t *out)
{
	char path[512], hdr[4096], val[4096];
	FILE *f;
	size_t slen = strlen(section);
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : "", rel);
	if (!(f = fopen(path, "re")))
		return -errno;
	while (fgets(hdr, sizeof(hdr), f)) {
		char *hs, *vs, *ht, *vt;
		char *hsave = NULL, *vsave = NULL;

		if (strncmp(hdr, section, slen) != 0 || hdr[slen] != ':')
			continue;
		if (!fgets(val, sizeof(val), f))
			break;
		hs = hdr + slen + 1;
		vs = val + slen + 1;
		for (ht = strtok_r(hs, " \n", &hsave), vt = strtok_r(vs, " \n", &vsave); ht && vt;
		     ht = strtok_r(NULL, " \n", &hsave), vt = strtok_r(NULL, " \n", &vsave))
			if (strcmp(ht, field) == 0) {
				*out = strtoull(vt, NULL, 10);
				rc = 0;
				break;
			}
		break;
	}
	fclose(f);
	return rc;
}

int ct_hostinfo_counters(struct ct_host_counters *c, const char *root)
{
	char path[512], line[512];
	FILE *f;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = pair_field(root, "proc/net/snmp", "Tcp", "ActiveOpens", &c->active_opens)) < 0)
		return rc;
	pair_field(root, "proc/net/snmp", "Tcp", "PassiveOpens", &c->passive_opens);
	pair_field(root, "proc/net/snmp", "Tcp", "AttemptFails", &c->attempt_fails);
	pair_field(root, "proc/net/snmp", "Tcp", "EstabResets", &c->estab_resets);
	pair_field(root, "proc/net/netstat", "TcpExt", "TCPTimeWaitOverflow", &c->tw_overflow);
	pair_field(root, "proc/net/netstat", "TcpExt", "ListenOverflows", &c->listen_overflows);
	pair_field(root, "proc/net/netstat", "TcpExt", "ListenDrops", &c->listen_drops);

	snprintf(path, sizeof(path), "%s/proc/net/sockstat", root && *root ? root : "");
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, " tw ");

			if (strncmp(line, "TCP:", 4) == 0 && p)
				c->tw = strtoull(p + 4, NULL, 10);
		}
		fclose(f);
	}
	c->have_ct = read_u64(root, "proc/sys/net/netfilter/nf_conntrack_count", &c->ct_count);

	/* One row per CPU, hex, after a header naming the columns. */
	snprintf(path, sizeof(path), "%s/proc/net/stat/nf_conntrack", root && *root ? root : "");
	if ((f = fopen(path, "re"))) {
		char hdr[1024];
		int i_drop = -1, i_early = -1, i_insf = -1;

		if (fgets(hdr, sizeof(hdr), f)) {
			char *save = NULL, *t;
			int i = 0;

			for (t = strtok_r(hdr, " \n", &save); t;
			     t = strtok_r(NULL, " \n", &save), i++) {
				if (!strcmp(t, "drop"))
					i_drop = i;
				else if (!strcmp(t, "early_drop"))
					i_early = i;
				else if (!strcmp(t, "insert_failed"))
					i_insf = i;
			}
		}
		while (fgets(line, sizeof(line), f)) {
			char *save = NULL, *t;
			int i = 0;

			for (t = strtok_r(line, " \n", &save); t;
			     t = strtok_r(NULL, " \n", &save), i++) {
				uint64_t x = strtoull(t, NULL, 16);

				if (i == i_drop)
					c->ct_drop += x;
				else if (i == i_early)
					c->ct_early_drop += x;
				else if (i == i_insf)
					c->ct_insert_failed += x;
			}
		}
		fclose(f);
	}
	return 0;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static bool mark_port(void *ctx, uint16_t port)
{
	uint8_t *seen = ctx;

	seen[port / 8] |= (uint8_t)(1u << (port % 8));
	return false;
}

int ct_hostinfo_listen_ports(const char *root, uint16_t *ports, size_t max, size_t *n)
{
	static const char *const files[] = {"proc/net/tcp", "proc/net/tcp6"};
	uint8_t seen[65536 / 8] = {0};
	size_t count = 0, out = 0;
	int opened = 0;

	for (size_t fi = 0; fi < 2; fi++) {
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", root && *root ? root : "", files[fi]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		opened++;
		ct_procfs_tcp_listen_each(fd, mark_port, seen);
		close(fd);
	}
	if (!opened)
		return -ENOENT;
	for (unsigned p = 1; p < 65536; p++)
		if (seen[p / 8] & (1u << (p % 8))) {
			if (out < max)
				ports[out++] = (uint16_t)p;
			count++;
		}
	qsort(ports, out, sizeof(*ports), cmp_u16);
	*n = count;
	return 0;
}
