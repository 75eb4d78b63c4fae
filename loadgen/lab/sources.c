/* sources — what the lab adds to each sample and each step: one sampler
 * per lab netns (sample.ns.<role>), the kernel log lines (events.log and
 * sample.events), the neighbour table's overflows (sample.neigh), and the
 * step figures over them (ct, tw, tuples, and the drops outside conntrack:
 * neigh, listen, dev). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ctime.h"
#include "common/log.h"
#include "loadgen/lab/lab_int.h"
#include "loadgen/probe/kmsg.h"
#include "loadgen/probe/sampler.h"

static void on_kernel_line(void *ctx, uint64_t ts_us, const char *text)
{
	struct ct_lab *lab = ctx;
	struct timespec mono;
	double wall = ct_wall_s();

	/* Kernel stamps count from boot on the monotonic clock. */
	if (clock_gettime(CLOCK_MONOTONIC, &mono) == 0) {
		double now_us = (double)mono.tv_sec * 1e6 + (double)mono.tv_nsec / 1e3;
		wall -= (now_us - (double)ts_us) / 1e6;
	}
	ct_lab_logs_line(lab, wall, "kernel", text);
	if (lab->pending_events)
		json_array_append_new(lab->pending_events, json_string(text));
}

/* ns.<role>.ct.preloaded beside ct.count in every sample of the netns that
 * holds a [lab] preload: the part of the count the load did not make. */
static int fill_preload(void *ctx, json_t *sample)
{
	struct ct_lab *lab = ctx;
	json_t *o = json_object_get(json_object_get(sample, "ns"),
				    ct_role_name(ct_lab_preload_role(lab->sc)));

	if (o && json_object_get(o, "ct.count"))
		json_object_set_new(o, "ct.preloaded", json_integer((json_int_t)lab->preloaded));
	return 0;
}

static int fill_kmsg(void *ctx, json_t *sample)
{
	struct ct_lab *lab = ctx;
	int ret;

	if (!lab->kmsg)
		return 0;
	ret = ct_kmsg_poll(lab->kmsg, on_kernel_line, lab);
	if (ret < 0)
		return ret;
	if (json_array_size(lab->pending_events)) {
		json_object_set(sample, "events", lab->pending_events);
		json_decref(lab->pending_events);
		lab->pending_events = json_array();
	}
	return 0;
}

/* The neighbour table's counters (/proc/net/stat/arp_cache: one row of hex
 * per CPU under a header) that mean packets were lost: no room for a new
 * entry, and packets dropped while an address was being resolved. */
static const char *const neigh_names[2] = {"table_fulls", "unresolved_discards"};

static int read_neigh(struct ct_lab *lab, uint64_t v[2])
{
	char *buf;
	size_t len = 0, cap = 1 << 16;
	ssize_t n;

	v[0] = v[1] = 0;
	if (lab->arp_fd < 0)
		return -ENOENT;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (len + 1 < cap && (n = pread(lab->arp_fd, buf + len, cap - 1 - len, (off_t)len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	n = ct_parse_ctstat(buf, neigh_names, 2, v);
	free(buf);
	return n > 0 ? 0 : -EINVAL;
}

static int fill_neigh(void *ctx, json_t *sample)
{
	struct ct_lab *lab = ctx;
	uint64_t v[2];

	if (read_neigh(lab, v) < 0)
		return 0;
	json_object_set_new(sample, "neigh",
			    json_pack("{s:I, s:I}", neigh_names[0],
				      (json_int_t)(v[0] - lab->neigh_prev[0]), neigh_names[1],
				      (json_int_t)(v[1] - lab->neigh_prev[1])));
	lab->neigh_prev[0] = v[0];
	lab->neigh_prev[1] = v[1];
	return 0;
}

/* The drops outside conntrack over the step, summed over the netns; the
 * neighbour table's are the whole host's. */
static void step_drops(struct ct_lab *lab, const struct ct_sampler_step *ss, json_t *step)
{
	uint64_t lo = 0, ld = 0, rx = 0, tx = 0, v[2] = {0, 0};

	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		lo += ss[r].listen_overflows;
		ld += ss[r].listen_drops;
		rx += ss[r].dev_rx_drop;
		tx += ss[r].dev_tx_drop;
	}
	json_object_set_new(step, "listen",
			    json_pack("{s:I, s:I}", "overflows", (json_int_t)lo, "drops",
				      (json_int_t)ld));
	json_object_set_new(step, "dev",
			    json_pack("{s:I, s:I}", "rx_drop", (json_int_t)rx, "tx_drop",
				      (json_int_t)tx));
	if (read_neigh(lab, v) == 0)
		json_object_set_new(step, "neigh",
				    json_pack("{s:I, s:I}", neigh_names[0],
					      (json_int_t)(v[0] - lab->neigh_base[0]),
					      neigh_names[1],
					      (json_int_t)(v[1] - lab->neigh_base[1])));
}

static int fill_step(void *ctx, json_t *step)
{
	struct ct_lab *lab = ctx;
	struct ct_sampler_step ss[CT_ROLE_NLAB] = {{0}};
	uint64_t peak = 0, limit = 0, drop = 0, early = 0, failed = 0, chain = 0;
	double states_age = 0;
	bool degraded = false, seen = false;

	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (!lab->samplers[r])
			continue;
		ct_sampler_step(lab->samplers[r], &ss[r]);
		if (ss[r].ct_peak > peak)
			peak = ss[r].ct_peak;
		if (ss[r].ct_limit)
			limit = ss[r].ct_limit;
		drop += ss[r].ct_drop;
		early += ss[r].ct_early_drop;
		failed += ss[r].ct_insert_failed;
		chain += ss[r].ct_chaintoolong;
		seen |= ss[r].states_seen;
		if (ss[r].states_age_max_s > states_age)
			states_age = ss[r].states_age_max_s;
		degraded |= ss[r].states_degraded;
	}
	json_object_set_new(step, "ct",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "peak", (json_int_t)peak,
				      "limit", (json_int_t)limit, "drop", (json_int_t)drop,
				      "early_drop", (json_int_t)early, "insert_failed",
				      (json_int_t)failed, "chaintoolong", (json_int_t)chain));
	/* Entries the lab made before the load ([lab] preload): in peak, not
	 * the load's doing. */
	json_object_set_new(json_object_get(step, "ct"), "preloaded",
			    json_integer((json_int_t)lab->preloaded));
	/* How stale the per-state counts got in this step (the table walk
	 * runs off the tick, on a CPU budget); nothing without counts. */
	if (seen) {
		json_t *ct = json_object_get(step, "ct");
		json_object_set_new(ct, "states_age_max_s", json_real(states_age));
		json_object_set_new(ct, "states_degraded", json_boolean(degraded));
	}
	json_object_set_new(step, "tw",
			    json_pack("{s:I, s:I}", "client_peak",
				      (json_int_t)ss[CT_ROLE_CLIENT].tw_peak, "server_peak",
				      (json_int_t)ss[CT_ROLE_SERVER].tw_peak));
	/* Each client socket (open or in TIME_WAIT) holds one distinct 4-tuple. */
	json_object_set_new(step, "tuples",
			    json_pack("{s:I, s:I}", "space", (json_int_t)ct_lab_tuple_space(lab),
				      "in_use_peak", (json_int_t)ss[CT_ROLE_CLIENT].sockets_peak));
	step_drops(lab, ss, step);
	ct_lab_bystander_step(lab, step);
	return 0;
}

void ct_lab_sources_close(struct ct_lab *lab)
{
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		ct_sampler_free(lab->samplers[r]);
		lab->samplers[r] = NULL;
	}
	lab->n_sources = 0;
}

int ct_lab_sources_open(struct ct_lab *lab, struct ct_err *err)
{
	lab->n_sources = 0;
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (!lab->ns[r][0])
			continue;
		lab->samplers[r] = ct_sampler_new(ct_role_name((enum ct_role)r), lab->nsfd[r]);
		if (!lab->samplers[r]) {
			ct_err_set(err, CT_EXIT_ENV, "opening the counters of netns %s: %s",
				   lab->ns[r], strerror(errno));
			return -errno;
		}
		lab->sources[lab->n_sources++] =
		    (struct ct_sample_source){.name = ct_role_name((enum ct_role)r),
					      .fill = ct_sampler_fill,
					      .ctx = lab->samplers[r]};
	}
	if (lab->sc->lab.preload)
		lab->sources[lab->n_sources++] =
		    (struct ct_sample_source){.name = "preload", .fill = fill_preload, .ctx = lab};
	lab->sources[lab->n_sources++] =
	    (struct ct_sample_source){.name = "kmsg", .fill = fill_kmsg, .ctx = lab};
	if (lab->arp_fd < 0) {
		/* Opened from ctload's own netns (the host's): a lab netns has
		 * no /proc/net/stat/arp_cache. */
		lab->arp_fd = open("/proc/net/stat/arp_cache", O_RDONLY | O_CLOEXEC);
		if (lab->arp_fd < 0)
			ct_debug("no neighbour table counters: /proc/net/stat/arp_cache: %s",
				 strerror(errno));
		else
			read_neigh(lab, lab->neigh_prev);
	}
	if (lab->arp_fd >= 0)
		lab->sources[lab->n_sources++] =
		    (struct ct_sample_source){.name = "neigh", .fill = fill_neigh, .ctx = lab};
	return 0;
}

/* What ct_lab_drain() waits to get back to: a freshly built netns tracks
 * nothing, but a kernel that tracks the lab's own setup traffic would. */
void ct_lab_sources_record_base(struct ct_lab *lab)
{
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		struct ct_ns_counters c;

		lab->ct_base[r] = 0;
		if (lab->samplers[r] && ct_sampler_read(lab->samplers[r], false, &c) == 0)
			lab->ct_base[r] = c.ct_count;
	}
}

void ct_lab_sources_start(struct ct_lab *lab)
{
	lab->kmsg = ct_kmsg_open();
	if (!lab->kmsg)
		ct_info("no kernel log events: /dev/kmsg: %s", strerror(errno));
	lab->hooks[0] = (struct ct_sample_source){.name = "lab", .fill = fill_step, .ctx = lab};
}

const struct ct_sample_source *ct_lab_sources(struct ct_lab *lab, size_t *n)
{
	*n = lab->n_sources;
	return lab->sources;
}

const struct ct_sample_source *ct_lab_step_hooks(struct ct_lab *lab, size_t *n)
{
	*n = 1;
	return lab->hooks;
}

int ct_lab_step_begin(struct ct_lab *lab)
{
	read_neigh(lab, lab->neigh_base);
	ct_lab_bystander_step_begin(lab);
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		if (lab->samplers[r]) {
			int ret = ct_sampler_step_begin(lab->samplers[r]);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}
