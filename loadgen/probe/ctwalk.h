/* ctwalk — the per-state breakdown of one netns's conntrack table, counted
 * by a table walk (a ctnetlink dump) on a thread of its own, off the
 * sampling tick.
 *
 * A dump costs CPU, mostly the kernel's: about 1.5 us an entry of its own
 * netns, and a part of that for every entry of the host's other netns,
 * since the kernel walks every bucket of the hash table all netns share
 * (docs/PERFORMANCE.md has the figures at a million entries). That CPU
 * is taken from the conntrack lookups a run measures. So the walker holds
 * its own CPU (user + kernel, on the thread's clock) to `budget`, a share
 * of one core:
 * - a walk is predicted to cost the larger of the last walk's CPU and the
 *   netns's entry count (the tick's nf_conntrack_count, ct_ctwalk_hint) at
 *   the last measured cost an entry;
 * - walks start at least 1 s apart, and at least prediction / budget apart;
 * - a walk may spend budget x the time since the previous one began; past
 *   that it is cut short (its counts dropped, its socket replaced) and the
 *   next prediction doubles. So a table that grew, here or in another netns,
 *   costs at most that allowance before the walker has learnt its price.
 *
 * A netns whose count is 0 is not walked: its breakdown is all zeros, as of
 * the tick that saw the count.
 *
 * The tick reads the last finished walk (ct_ctwalk_get) without waiting:
 * its counts, when that walk began (their age), and whether the budget is
 * what keeps the walks apart (degraded: the counts are older than a 1 s
 * cadence would give). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The cadence the walker aims for, and the one it backs off from. */
#define CT_CTWALK_MIN_INTERVAL_NS 1000000000ull

/* The CPU share a walker may use, of one core (0.5%: two lab netns with
 * large tables stay under 1%). */
#define CT_CTWALK_BUDGET 0.005

/* Until a walk was measured: the cost of an entry, as measured on this
 * kind of host (kernel 6.18; the dump's kernel time dominates). */
#define CT_CTWALK_NS_PER_ENTRY_GUESS 1500.0

struct ct_ctwalk;

/* The last finished walk. */
struct ct_ctwalk_result {
	bool have;	       /* a walk has finished */
	uint64_t tcp[10];      /* TCP entries by state (enum tcp_conntrack) */
	uint64_t other;	       /* non-TCP entries */
	uint64_t total;	       /* entries walked */
	uint64_t started_ns;   /* CLOCK_MONOTONIC when it began: the counts' age */
	uint64_t cpu_ns;       /* its CPU (user + kernel) */
	uint64_t interval_ns;  /* the interval the budget sets now */
	bool degraded;	       /* the budget stretches the interval past 1 s */
	uint64_t walks;	       /* walks finished */
	uint64_t walks_cut;    /* walks cut short by the budget */
	uint64_t cpu_total_ns; /* CPU of every walk so far, cut ones included */
	int error;	       /* the last walk's -errno (0: fine; -ECANCELED: cut) */
};

/* The CPU the next walk is predicted to cost: the larger of `floor_ns`
 * (the last walk's cost) and `entries` at `ns_per_entry` (pure). */
uint64_t ct_ctwalk_predict_ns(uint64_t entries, double ns_per_entry, uint64_t floor_ns);
/* The interval between walk starts that keeps walks of `predicted_ns` CPU
 * within `budget` of a core, and at least CT_CTWALK_MIN_INTERVAL_NS (pure). */
uint64_t ct_ctwalk_interval_ns(uint64_t predicted_ns, double budget);

/* A walker of netns `nsfd` (-1: here); it opens its own ctnetlink socket
 * there. The thread starts at ct_ctwalk_start(). NULL + errno. */
struct ct_ctwalk *ct_ctwalk_new(int nsfd, const char *name, double budget);
/* Start the thread; it walks at once when the hinted table is small enough
 * to walk each second, then on the budget's schedule. 0 or -errno. */
int ct_ctwalk_start(struct ct_ctwalk *w);
/* Stop the thread (a walk under way finishes first) and free. NULL ok. */
void ct_ctwalk_free(struct ct_ctwalk *w);
/* The table's size now (from the tick's nf_conntrack_count). */
void ct_ctwalk_hint(struct ct_ctwalk *w, uint64_t entries);
/* The last finished walk; never waits for one. */
void ct_ctwalk_get(struct ct_ctwalk *w, struct ct_ctwalk_result *out);
