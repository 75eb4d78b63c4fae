/* drain — cooldown = drain: wait until the lab's netns hold no TIME_WAIT
 * socket and no more conntrack entries than when they were built. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/units.h"
#include "loadgen/host/sysctl.h"
#include "loadgen/lab/lab_int.h"
#include "loadgen/probe/sampler.h"

/* A socket's TIME_WAIT is fixed at 60 s (TCP_TIMEWAIT_LEN); a conntrack
 * entry's is the tracking netns' nf_conntrack_tcp_timeout_time_wait
 * (120 s by default). The longer of the two, and 10 s for the garbage
 * collector to get round to it. */
static uint64_t drain_budget(const struct ct_lab *lab)
{
	uint64_t longest = 60;

	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		char v[64];

		if (lab->nsfd[r] < 0 || !ct_lab_topo_tracks(lab, (enum ct_role)r))
			continue;
		if (ct_sysctl_read(lab->nsfd[r], "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
				   v, sizeof(v)) == 0) {
			uint64_t t = strtoull(v, NULL, 10);
			if (t > longest)
				longest = t;
		}
	}
	return (longest + 10) * 1000000000ull;
}

struct drain_left {
	uint64_t tw[CT_ROLE_NLAB], ct[CT_ROLE_NLAB];
	bool any;
};

/* `states`: also dump the conntrack table, which makes the kernel reap the
 * expired entries it walks past (the count otherwise waits for the GC). */
static int drain_read(struct ct_lab *lab, bool states, struct drain_left *left, struct ct_err *err)
{
	memset(left, 0, sizeof(*left));
	for (int r = 0; r < CT_ROLE_NLAB; r++) {
		struct ct_ns_counters c;
		int ret;

		if (!lab->samplers[r])
			continue;
		ret = ct_sampler_read(lab->samplers[r], states, &c);
		if (ret < 0) {
			ct_err_set(err, CT_EXIT_ENV, "drain: reading the counters of netns %s: %s",
				   lab->ns[r], strerror(-ret));
			return ret;
		}
		if (c.tcp_tw > 0) {
			left->tw[r] = c.tcp_tw;
			left->any = true;
		}
		if (c.has_ct && c.ct_count > lab->ct_base[r]) {
			left->ct[r] = c.ct_count;
			left->any = true;
		}
	}
	return 0;
}

/* "server netns ctl-3f2a-srv still holds 812 conntrack entries, client
 * netns ctl-3f2a-cli still holds 3 TIME_WAIT sockets" */
static void drain_what(const struct ct_lab *lab, const struct drain_left *left, char *out,
		       size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int r = 0; r < CT_ROLE_NLAB && n < len; r++) {
		if (left->ct[r] && n < len) {
			n += (size_t)snprintf(out + n, len - n,
					      "%s%s netns %s still holds %llu conntrack entries",
					      n ? ", " : "", ct_role_name((enum ct_role)r),
					      lab->ns[r], (unsigned long long)left->ct[r]);
			if (lab->ct_base[r] && n < len)
				n += (size_t)snprintf(out + n, len - n, " (%llu when it was built)",
						      (unsigned long long)lab->ct_base[r]);
		}
		if (left->tw[r] && n < len)
			n += (size_t)snprintf(out + n, len - n,
					      "%s%s netns %s still holds %llu TIME_WAIT sockets",
					      n ? ", " : "", ct_role_name((enum ct_role)r),
					      lab->ns[r], (unsigned long long)left->tw[r]);
	}
}

int ct_lab_drain(struct ct_lab *lab, uint64_t max_wait_ns, struct ct_err *err)
{
	uint64_t start = ct_now_ns(), waited;
	struct drain_left left;
	char what[768], dur[32];
	int ret;

	ct_lab_err_clear(err);
	if (max_wait_ns == 0)
		max_wait_ns = drain_budget(lab);
	for (unsigned i = 0;; i++) {
		/* The table dump at most once a second, as the sampler does. */
		ret = drain_read(lab, i % 5 == 0, &left, err);
		if (ret < 0)
			return ret;
		waited = ct_now_ns() - start;
		if (!left.any) {
			ct_lab_event(lab, "drained in %s",
				     ct_fmt_duration(waited, dur, sizeof(dur)));
			return 0;
		}
		drain_what(lab, &left, what, sizeof(what));
		if (i == 0) {
			ct_fmt_duration(max_wait_ns, dur, sizeof(dur));
			ct_info("cooldown = drain: %s; waiting up to %s", what, dur);
			ct_lab_event(lab, "drain: %s; waiting up to %s", what, dur);
		}
		if (ct_stop_requested()) {
			ct_err_set(err, CT_EXIT_ENV, "drain interrupted: %s", what);
			return -EINTR;
		}
		if (waited >= max_wait_ns) {
			ct_fmt_duration(waited, dur, sizeof(dur));
			ct_err_set(
			    err, CT_EXIT_ENV,
			    "%s after %s of [search] cooldown = drain; wait longer, or use "
			    "cooldown = fresh-netns, which starts each step from empty netns",
			    what, dur);
			ct_lab_event(lab, "drain gave up: %s after %s", what, dur);
			return -ETIMEDOUT;
		}
		{
			uint64_t left_ns = max_wait_ns - waited;
			uint64_t nap = left_ns < 200000000ull ? left_ns : 200000000ull;
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap};

			/* A signal cuts the nap short; the stop flag is checked next. */
			nanosleep(&ts, NULL);
		}
	}
}
