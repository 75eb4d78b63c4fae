/* capture — see capture.h. */
#include "loadgen/probe/capture.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "common/log.h"
#include "loadgen/host/netns.h"

#define DEFAULT_SNAPLEN	    96u
#define DEFAULT_MAX_BYTES   (64ull << 20)
#define DEFAULT_MAX_PACKETS (1ull << 20)
#define PCAP_FILE_HDR	    24u /* pcap global header */
#define PCAP_REC_HDR	    16u /* per-packet record header */
#define RING_BYTES	    (8 << 20)
#define POLL_MS		    100
#define DRAIN_WAIT_MS	    50

/* Recent SYNs: 4-way sets, FIFO replacement within a set. */
#define SYN_SET_BITS 16
#define SYN_SETS     (1u << SYN_SET_BITS)
#define SYN_WAYS     4

enum { C_SYN = 0, C_SYN_RETRANS, C_SYNACK, C_RST, C_FIN, C_CAPTURED, C_WRITTEN, C_N };
static const char *const count_name[] = {"syn", "syn_retrans", "synack", "rst", "fin"};

struct ct_capture {
	char *path;
	char ifname[64];
	unsigned snaplen;
	uint64_t max_bytes, max_packets;

	pcap_t *live;	       /* owned by the thread while it runs */
	pcap_t *dead;	       /* only to make the dumper */
	pcap_dumper_t *dumper; /* written by the thread only */
	uint64_t file_bytes;   /* thread only */
	bool full_said;	       /* thread only */
	bool broken;	       /* thread only: the handle failed */

	pthread_t thread;
	bool thread_running;
	int wake_fd; /* eventfd: stop or drain request */
	int stop;    /* atomic */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t drain_req, drain_done;	    /* under mu */
	uint64_t drop_base, drop_now;	    /* under mu: pcap_stats over reopens */
	char pending_err[PCAP_ERRBUF_SIZE]; /* under mu: the handle's failure, unsaid */

	uint64_t count[C_N]; /* atomic: written by the thread */
	int file_full;	     /* atomic */

	uint64_t prev[C_N]; /* at the previous sample (caller's thread) */
	uint64_t step0[C_N];

	uint64_t *syn_tab; /* SYN_SETS * SYN_WAYS keys, 0 = empty */
	uint8_t *syn_next; /* per set: the way to replace next */
};

/* ---- parsing ---------------------------------------------------------------- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int ct_capture_parse(const uint8_t *f, size_t len, struct ct_capture_pkt *out)
{
	size_t l3 = 14, l4;
	uint16_t type;
	const uint8_t *src, *dst;
	size_t alen;

	memset(out, 0, sizeof(*out));
	if (len < l3)
		return -EINVAL;
	type = be16(f + 12);
	while ((type == 0x8100 || type == 0x88a8) && len >= l3 + 4) {
		type = be16(f + l3 + 2);
		l3 += 4;
	}
	if (type == 0x0800) {
		if (len < l3 + 20 || (f[l3] >> 4) != 4 || f[l3 + 9] != 6)
			return -EINVAL;
		if (be16(f + l3 + 6) & 0x1fff) /* a later fragment: no TCP header */
			return -EINVAL;
		l4 = l3 + (size_t)(f[l3] & 0x0f) * 4;
		src = f + l3 + 12;
		dst = f + l3 + 16;
		alen = 4;
	} else if (type == 0x86dd) {
		/* Extension headers are not followed: the lab never sends them. */
		if (len < l3 + 40 || (f[l3] >> 4) != 6 || f[l3 + 6] != 6)
			return -EINVAL;
		l4 = l3 + 40;
		src = f + l3 + 8;
		dst = f + l3 + 24;
		alen = 16;
	} else {
		return -EINVAL;
	}
	if (len < l4 + 14)
		return -EINVAL;
	uint8_t flags = f[l4 + 13];
	out->fin = flags & 0x01;
	out->syn = flags & 0x02;
	out->rst = flags & 0x04;
	out->ack = flags & 0x10;
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv1a(h, src, alen);
	h = fnv1a(h, dst, alen);
	h = fnv1a(h, f + l4, 8); /* ports and sequence number */
	out->key = h ? h : 1;
	return 0;
}

/* ---- the capture thread --------------------------------------------------------- */

static void bump(struct ct_capture *c, int i)
{
	__atomic_fetch_add(&c->count[i], 1, __ATOMIC_RELAXED);
}

static bool syn_seen(struct ct_capture *c, uint64_t key)
{
	size_t set = (size_t)(key >> (64 - SYN_SET_BITS));
	uint64_t *ways = c->syn_tab + set * SYN_WAYS;

	for (int w = 0; w < SYN_WAYS; w++)
		if (ways[w] == key)
			return true;
	ways[c->syn_next[set]] = key;
	c->syn_next[set] = (uint8_t)((c->syn_next[set] + 1) % SYN_WAYS);
	return false;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct ct_capture *c = (struct ct_capture *)user;
	struct ct_capture_pkt p;

	bump(c, C_CAPTURED);
	if (ct_capture_parse(bytes, h->caplen, &p) == 0) {
		if (p.syn && !p.ack) {
			bump(c, C_SYN);
			if (syn_seen(c, p.key))
				bump(c, C_SYN_RETRANS);
		} else if (p.syn) {
			bump(c, C_SYNACK);
		}
		if (p.rst)
			bump(c, C_RST);
		if (p.fin)
			bump(c, C_FIN);
	}
	uint64_t rec = PCAP_REC_HDR + h->caplen;
	uint64_t written = __atomic_load_n(&c->count[C_WRITTEN], __ATOMIC_RELAXED);
	if (written < c->max_packets && c->file_bytes + rec <= c->max_bytes) {
		pcap_dump((u_char *)c->dumper, h, bytes);
		c->file_bytes += rec;
		bump(c, C_WRITTEN);
	} else if (!c->full_said) {
		c->full_said = true;
		__atomic_store_n(&c->file_full, 1, __ATOMIC_RELAXED);
		ct_warn("capture: %s reached its bound (%llu packets, %llu bytes); packets are "
			"still counted but no longer written",
			c->path, (unsigned long long)written, (unsigned long long)c->file_bytes);
	}
}

static void drain(struct ct_capture *c)
{
	if (c->broken)
		return;
	for (;;) {
		int n = pcap_dispatch(c->live, -1, on_packet, (u_char *)c);
		if (n == 0)
			break;
		if (n < 0) {
			c->broken = true;
			/* Said at the next sample, not now: between steps the lab
			 * deletes the netns for a fresh one, and the reopen that
			 * follows makes that no news. */
			pthread_mutex_lock(&c->mu);
			snprintf(c->pending_err, sizeof(c->pending_err), "%s",
				 pcap_geterr(c->live));
			pthread_mutex_unlock(&c->mu);
			break;
		}
	}
}

static void *capture_main(void *arg)
{
	struct ct_capture *c = arg;
	int pfd = pcap_get_selectable_fd(c->live);

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		struct pollfd fds[2] = {{.fd = c->wake_fd, .events = POLLIN},
					{.fd = c->broken ? -1 : pfd, .events = POLLIN}};
		uint64_t req, junk;
		struct pcap_stat st;

		if (poll(fds, 2, POLL_MS) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN)
			(void)!read(c->wake_fd, &junk, sizeof(junk));
		pthread_mutex_lock(&c->mu);
		req = c->drain_req;
		pthread_mutex_unlock(&c->mu);
		drain(c);
		if (req) /* a sample is waiting: the file is worth flushing too */
			pcap_dump_flush(c->dumper);
		bool have_st = !c->broken && pcap_stats(c->live, &st) == 0;
		pthread_mutex_lock(&c->mu);
		if (have_st)
			c->drop_now = st.ps_drop;
		c->drain_done = req;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	drain(c);
	return NULL;
}

/* ---- opening ------------------------------------------------------------------ */

struct open_args {
	struct ct_capture *c;
	pcap_t *p;
	struct ct_err *err;
};

/* Runs in a thread inside the target netns: the packet socket stays there. */
static int open_live(void *arg)
{
	struct open_args *a = arg;
	struct ct_capture *c = a->c;
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	pcap_t *p;
	int rc;

	p = pcap_create(c->ifname, ebuf);
	if (!p) {
		ct_err_set(a->err, CT_EXIT_ENV, "capture: opening %s: %s", c->ifname, ebuf);
		return -ENODEV;
	}
	if (pcap_set_snaplen(p, (int)c->snaplen) || pcap_set_promisc(p, 0) ||
	    pcap_set_immediate_mode(p, 1) || pcap_set_buffer_size(p, RING_BYTES) ||
	    pcap_set_timeout(p, POLL_MS)) {
		ct_err_set(a->err, CT_EXIT_ENV, "capture: setting up %s: %s", c->ifname,
			   pcap_geterr(p));
		rc = -EINVAL;
		goto fail;
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		ct_err_set(a->err, CT_EXIT_ENV,
			   "capture: cannot capture on %s: %s (%s); capture needs root "
			   "(CAP_NET_RAW) and the lab link, or set [report] capture = off",
			   c->ifname, pcap_statustostr(rc), pcap_geterr(p));
		rc = rc == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV
		     : rc == PCAP_ERROR_PERM_DENIED  ? -EPERM
						     : -EIO;
		goto fail;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		ct_err_set(a->err, CT_EXIT_ENV, "capture: %s is not an Ethernet link (%s)",
			   c->ifname, pcap_datalink_val_to_name(pcap_datalink(p)));
		rc = -EINVAL;
		goto fail;
	}
	if (pcap_compile(p, &prog, "tcp", 1, PCAP_NETMASK_UNKNOWN) < 0) {
		ct_err_set(a->err, CT_EXIT_ENV, "capture: compiling the filter: %s",
			   pcap_geterr(p));
		rc = -EINVAL;
		goto fail;
	}
	rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc < 0 || pcap_setnonblock(p, 1, ebuf) < 0) {
		ct_err_set(a->err, CT_EXIT_ENV, "capture: setting the filter on %s: %s", c->ifname,
			   pcap_geterr(p));
		rc = -EIO;
		goto fail;
	}
	if (pcap_get_selectable_fd(p) < 0) {
		ct_err_set(a->err, CT_EXIT_ENV, "capture: %s has no pollable descriptor",
			   c->ifname);
		rc = -EINVAL;
		goto fail;
	}
	a->p = p;
	return 0;
fail:
	pcap_close(p);
	return rc;
}

static int start_thread(struct ct_capture *c, int netns_fd, struct ct_err *err)
{
	struct open_args a = {.c = c, .p = NULL, .err = err};
	int rc = ct_netns_run(netns_fd, open_live, &a);

	if (rc < 0) {
		if (!a.p && err && !err->msg[0])
			ct_err_set(err, CT_EXIT_ENV, "capture: entering the netns of %s: %s",
				   c->ifname, strerror(-rc));
		return rc;
	}
	c->live = a.p;
	c->broken = false;
	__atomic_store_n(&c->stop, 0, __ATOMIC_RELAXED);
	rc = pthread_create(&c->thread, NULL, capture_main, c);
	if (rc) {
		ct_err_set(err, CT_EXIT_ENV, "capture: starting the capture thread: %s",
			   strerror(rc));
		pcap_close(c->live);
		c->live = NULL;
		return -rc;
	}
	c->thread_running = true;
	return 0;
}

static void wake(struct ct_capture *c)
{
	uint64_t one = 1;
	(void)!write(c->wake_fd, &one, sizeof(one));
}

static void stop_thread(struct ct_capture *c)
{
	if (!c->thread_running)
		return;
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	wake(c);
	pthread_join(c->thread, NULL);
	c->thread_running = false;
	pthread_mutex_lock(&c->mu);
	c->drop_base += c->drop_now;
	c->drop_now = 0;
	pthread_mutex_unlock(&c->mu);
	pcap_close(c->live);
	c->live = NULL;
}

struct ct_capture *ct_capture_new(const struct ct_capture_opts *o, struct ct_err *err)
{
	struct ct_capture *c = calloc(1, sizeof(*c));
	int rc = -ENOMEM;

	if (err)
		err->msg[0] = '\0';
	if (!c)
		goto fail;
	c->wake_fd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->path = strdup(o->path);
	c->syn_tab = calloc((size_t)SYN_SETS * SYN_WAYS, sizeof(uint64_t));
	c->syn_next = calloc(SYN_SETS, 1);
	if (!c->path || !c->syn_tab || !c->syn_next)
		goto fail;
	snprintf(c->ifname, sizeof(c->ifname), "%s", o->ifname ? o->ifname : "veth0");
	c->snaplen = o->snaplen ? o->snaplen : DEFAULT_SNAPLEN;
	c->max_bytes = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
	c->max_packets = o->max_packets ? o->max_packets : DEFAULT_MAX_PACKETS;
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0) {
		rc = -errno;
		ct_err_set(err, CT_EXIT_ENV, "capture: eventfd: %s", strerror(errno));
		goto fail;
	}
	c->dead = pcap_open_dead(DLT_EN10MB, (int)c->snaplen);
	if (!c->dead)
		goto fail;
	c->dumper = pcap_dump_open(c->dead, c->path);
	if (!c->dumper) {
		ct_err_set(err, CT_EXIT_ENV, "capture: creating %s: %s", c->path,
			   pcap_geterr(c->dead));
		rc = -EIO;
		goto fail;
	}
	c->file_bytes = PCAP_FILE_HDR;
	rc = start_thread(c, o->netns_fd, err);
	if (rc < 0)
		goto fail;
	return c;
fail:
	if (rc == -ENOMEM && err && !err->msg[0])
		ct_err_set(err, CT_EXIT_ENV, "capture: out of memory");
	ct_capture_free(c);
	errno = -rc;
	return NULL;
}

int ct_capture_reopen(struct ct_capture *c, int netns_fd, struct ct_err *err)
{
	if (err)
		err->msg[0] = '\0';
	stop_thread(c);
	pthread_mutex_lock(&c->mu);
	c->pending_err[0] = '\0';
	pthread_mutex_unlock(&c->mu);
	return start_thread(c, netns_fd, err);
}

/* A failure of the handle that no reopen followed: say it once. */
static void say_failure(struct ct_capture *c)
{
	char msg[PCAP_ERRBUF_SIZE];

	pthread_mutex_lock(&c->mu);
	snprintf(msg, sizeof(msg), "%s", c->pending_err);
	c->pending_err[0] = '\0';
	pthread_mutex_unlock(&c->mu);
	if (msg[0])
		ct_warn("capture on %s stopped: %s; the packet counts end here", c->ifname, msg);
}

void ct_capture_free(struct ct_capture *c)
{
	if (!c)
		return;
	stop_thread(c);
	if (c->dumper)
		pcap_dump_close(c->dumper);
	if (c->dead)
		pcap_close(c->dead);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->syn_tab);
	free(c->syn_next);
	free(c->path);
	free(c);
}

/* ---- reading ------------------------------------------------------------------ */

/* Have the thread empty the ring, so what the kernel saw is counted. */
static void sync_thread(struct ct_capture *c)
{
	struct timespec dl;
	uint64_t req;

	if (!c->thread_running)
		return;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += DRAIN_WAIT_MS * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	req = ++c->drain_req;
	pthread_mutex_unlock(&c->mu);
	wake(c);
	pthread_mutex_lock(&c->mu);
	while (c->drain_done < req)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&c->mu);
}

static void load_counts(struct ct_capture *c, uint64_t v[C_N])
{
	for (int i = 0; i < C_N; i++)
		v[i] = __atomic_load_n(&c->count[i], __ATOMIC_RELAXED);
}

void ct_capture_counts(struct ct_capture *c, struct ct_capture_counts *out)
{
	uint64_t v[C_N];

	sync_thread(c);
	load_counts(c, v);
	out->syn = v[C_SYN];
	out->syn_retrans = v[C_SYN_RETRANS];
	out->synack = v[C_SYNACK];
	out->rst = v[C_RST];
	out->fin = v[C_FIN];
	out->captured = v[C_CAPTURED];
	out->written = v[C_WRITTEN];
	out->file_full = __atomic_load_n(&c->file_full, __ATOMIC_RELAXED);
	pthread_mutex_lock(&c->mu);
	out->kernel_drop = c->drop_base + c->drop_now;
	pthread_mutex_unlock(&c->mu);
}

static json_t *counts_obj(const uint64_t now[C_N], const uint64_t base[C_N])
{
	json_t *o = json_object();
	for (int i = 0; o && i <= C_FIN; i++)
		json_object_set_new(o, count_name[i], json_integer((json_int_t)(now[i] - base[i])));
	return o;
}

static int fill_sample(void *ctx, json_t *sample)
{
	struct ct_capture *c = ctx;
	uint64_t v[C_N];

	sync_thread(c);
	say_failure(c);
	load_counts(c, v);
	json_t *o = counts_obj(v, c->prev);
	if (!o || json_object_set_new(sample, "pkt", o) < 0)
		return -ENOMEM;
	memcpy(c->prev, v, sizeof(v));
	return 0;
}

static int fill_step(void *ctx, json_t *step)
{
	struct ct_capture *c = ctx;
	struct ct_capture_counts n;
	uint64_t v[C_N];

	ct_capture_counts(c, &n);
	load_counts(c, v);
	json_t *o = counts_obj(v, c->step0);
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "captured", json_integer((json_int_t)n.captured));
	json_object_set_new(o, "written", json_integer((json_int_t)n.written));
	json_object_set_new(o, "kernel_drop", json_integer((json_int_t)n.kernel_drop));
	json_object_set_new(o, "file_full", json_boolean(n.file_full));
	return json_object_set_new(step, "pkt", o) < 0 ? -ENOMEM : 0;
}

void ct_capture_step_begin(struct ct_capture *c)
{
	sync_thread(c);
	/* prev is left alone: a packet between two steps goes in the next sample. */
	load_counts(c, c->step0);
}

struct ct_sample_source ct_capture_source(struct ct_capture *c)
{
	return (struct ct_sample_source){.name = "capture", .fill = fill_sample, .ctx = c};
}

struct ct_sample_source ct_capture_step_hook(struct ct_capture *c)
{
	return (struct ct_sample_source){.name = "capture", .fill = fill_step, .ctx = c};
}

/* ---- the probe ------------------------------------------------------------------ */

/* Lab only: the runner refuses a capture in topology = host, and the client
 * netns is known once the lab is up. */
static int cap_wanted(const struct ct_probe_config *cfg, struct ct_err *err)
{
	return cfg->capture && cfg->client_netns_fd >= 0;
}

static void *cap_open(const struct ct_probe_config *cfg, struct ct_err *err)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/capture.pcap", cfg->run_dir);
	struct ct_capture_opts co = {
	    .path = path,
	    .ifname = "veth0",
	    .netns_fd = cfg->client_netns_fd,
	};
	return ct_capture_new(&co, err);
}

static void cap_step_begin(void *ctx, const struct ct_probe_step *st)
{
	struct ct_capture *c = ctx;

	if (st->fresh_netns) {
		struct ct_err err = {0};
		if (ct_capture_reopen(c, st->client_netns_fd, &err) < 0)
			ct_warn("%s", err.msg);
	}
	ct_capture_step_begin(c);
}

static void cap_close(void *ctx)
{
	ct_capture_free(ctx);
}

const struct ct_probe_kind ct_probe_capture = {
    .name = "capture",
    .wanted = cap_wanted,
    .open = cap_open,
    .step_begin = cap_step_begin,
    .sample = fill_sample,
    .step_end = fill_step,
    .close = cap_close,
};
