/* kworker — one thread of the kernel engine: its own event_base, the
 * schedule timer that launches connections (within the launch window), and
 * the housekeeping tick that ends the step. See kernel_int.h. */
#include "loadgen/engine/kernel/kernel_int.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"

static void count_unsent(struct worker *w, uint64_t until);

void ct_kworker_rearm_now(struct worker *w)
{
	static const struct timeval zero = {0, 0};
	evtimer_add(w->timer, &zero);
}

/* Arm the wake-up timerfd for the monotonic time `at`, unless it already
 * is. A settime also clears an expiry that has fired, so the fd (level-
 * triggered in epoll) stops being readable without a read(). */
static void set_wakeup(struct worker *w, uint64_t at)
{
	if (at == w->wake_at && !w->wake_fired)
		return;
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / CT_NS_PER_SEC),
					      .tv_nsec = (long)(at % CT_NS_PER_SEC)}};
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		/* Cannot happen with a valid fd and time; fall back on a
		 * wake-up after one round of I/O rather than none at all. */
		ct_kworker_rearm_now(w);
		at = 0;
	}
	w->wake_at = at;
	w->wake_fired = false;
}

/* No wake-up is needed: clear one that has fired (else epoll reports the fd
 * on every pass). One still pending may stay (a settime is a system call
 * and its wake-up does no harm), unless `always`. */
static void stop_wakeup(struct worker *w, bool always)
{
	if (w->wake_fired || (always && w->wake_at))
		set_wakeup(w, 0); /* it_value 0 disarms */
}

/* How long before the next due time the wake-up is armed: a quarter of the
 * window, at most WAKE_LEAD_MAX_NS. A wake-up comes tens of microseconds
 * after its time (hundreds on a busy machine); a connection started late
 * counts the delay as latency, one started early counts from its actual
 * start, so the lead keeps the first connection of a round from being
 * late. A quarter keeps the rounds at least 3/4 of the window apart at
 * high rates, where each wake-up costs CPU. */
static uint64_t wake_lead(const struct kengine *e)
{
	uint64_t quarter = e->window_ns / 4;
	return quarter < WAKE_LEAD_MAX_NS ? quarter : WAKE_LEAD_MAX_NS;
}

static void arm_timer(struct worker *w)
{
	uint64_t lead = wake_lead(w->e);
	set_wakeup(w, w->next_due > lead ? w->next_due - lead : 1);
}

/* No more connections start: those in flight get their timeouts to finish. */
static void end_schedule(struct worker *w)
{
	struct kengine *e = w->e;

	w->have_next = false;
	w->sched_over = true;
	w->drain_deadline = ct_now_ns() + e->load->connect_timeout_ns + e->load->reply_timeout_ns;
	if (LOAD(&w->c.inflight) == 0)
		event_base_loopbreak(w->base);
}

static void advance(struct worker *w)
{
	uint64_t due;
	w->have_next = ct_schedule_next(&w->sched, &due, &w->next_seq);
	if (w->have_next)
		w->next_due = w->e->t0 + due;
	else
		end_schedule(w);
}

/* Start every connection due by now + the launch window. Returns true when
 * the next wake-up is to be armed at the next due time; false when the
 * thread waits for a free slot or comes back after one round of I/O (or
 * the schedule is over). */
static bool launch_due(struct worker *w)
{
	unsigned budget = LAUNCH_BUDGET;
	uint64_t now = ct_now_ns();

	if (w->have_next && now >= w->e->t0 + w->e->load->sched.duration_ns + LATE_GRACE_NS) {
		count_unsent(w, UINT64_MAX);
		end_schedule(w);
		return false;
	}
	while (w->have_next && w->next_due <= now + w->e->window_ns && !LOAD(&w->e->stop_req)) {
		if (w->free_head == NO_CONN) {
			w->blocked = true; /* release() re-activates us */
			return false;
		}
		ct_kconn_launch(w, w->next_due, w->next_seq, now);
		advance(w);
		if (--budget == 0) {
			/* Behind schedule: come back after one round of I/O.
			 * A zero timeout (not event_active, which libevent runs
			 * again in the same pass) lets completions and timeouts
			 * through, so overload does not starve them. */
			ct_kworker_rearm_now(w);
			return false;
		}
		now = ct_now_ns();
	}
	return w->have_next && !LOAD(&w->e->stop_req);
}

/* The schedule's timer: the wake-up timerfd (fd >= 0) or, after a round of
 * I/O, the zero timeout of ct_kworker_rearm_now (fd = -1). */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	if (fd >= 0)
		w->wake_fired = true;
	if (launch_due(w))
		arm_timer(w);
	else
		stop_wakeup(w, false);
}

/* The connections due by `until` (ns since t0; UINT64_MAX: the rest of the
 * schedule) that were never started. A step ended early (a stop request)
 * counts only what was due by then: the rest was never scheduled. */
static void count_unsent(struct worker *w, uint64_t until)
{
	uint64_t due, seq, t0 = w->e->t0, n = 0;
	if (w->have_next && w->next_due - t0 <= until) {
		n = 1;
		while (ct_schedule_next(&w->sched, &due, &seq) && due <= until)
			n++;
	}
	ADD(&w->c.unsent, n);
	w->have_next = false;
	w->blocked = false;
	evtimer_del(w->timer);
	stop_wakeup(w, true);
}

/* Every 10 ms: stop requests, the end of the schedule while blocked on a
 * full pool, and the drain deadline. */
static void on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct kengine *e = w->e;
	uint64_t now = ct_now_ns();
	int stop = LOAD(&e->stop_req);

	if (!w->sched_over) {
		bool end = stop || now >= e->t0 + e->load->sched.duration_ns + LATE_GRACE_NS;
		if (end) {
			/* what was due when the stop was asked, not when seen */
			uint64_t at = LOAD(&e->stop_ns) ? LOAD(&e->stop_ns) : now;
			count_unsent(w, stop && at > e->t0 ? at - e->t0 : UINT64_MAX);
			end_schedule(w); /* -> sched_over, drain deadline */
		}
	}
	if (stop == 2 || (w->sched_over && now >= w->drain_deadline))
		ct_kconn_abort_all(w);
	if (w->sched_over && LOAD(&w->c.inflight) == 0)
		event_base_loopbreak(w->base);
}

/* The thread's event_base, its timeouts, timer and housekeeping events, and
 * the pool's events. 0, or -1 with the reason logged. */
static int setup_events(struct worker *w)
{
	struct kengine *e = w->e;
	struct event_config *ec = event_config_new();

	if (!ec)
		return -1;
	/* One base per thread, never shared: no locks. Not PRECISE_TIMER:
	 * libevent would then call timerfd_settime on every pass of the loop.
	 * Its own timers run on CLOCK_MONOTONIC_COARSE (a jiffy, 4 ms at
	 * HZ=250), fine for connection timeouts and housekeeping; the
	 * schedule has a timerfd of its own (w->tfd), set once per wake-up. */
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (!w->base) {
		ct_error("engine thread %u: cannot create an event base", w->idx);
		return -1;
	}
	struct timeval ctv = {
	    .tv_sec = (time_t)(e->load->connect_timeout_ns / CT_NS_PER_SEC),
	    .tv_usec = (suseconds_t)(e->load->connect_timeout_ns % CT_NS_PER_SEC / 1000)};
	struct timeval rtv = {.tv_sec = (time_t)(e->load->reply_timeout_ns / CT_NS_PER_SEC),
			      .tv_usec =
				  (suseconds_t)(e->load->reply_timeout_ns % CT_NS_PER_SEC / 1000)};
	/* Every connection uses the same two timeouts: libevent keeps such
	 * "common timeouts" in O(1) queues instead of its heap. */
	w->conn_tv = event_base_init_common_timeout(w->base, &ctv);
	w->reply_tv = event_base_init_common_timeout(w->base, &rtv);
	w->timer = evtimer_new(w->base, on_timer, w);
	w->hk = event_new(w->base, -1, EV_PERSIST, on_housekeeping, w);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->wake = w->tfd >= 0 ? event_new(w->base, w->tfd, EV_READ | EV_PERSIST, on_timer, w) : NULL;
	if (!w->conn_tv || !w->reply_tv || !w->timer || !w->hk || !w->wake ||
	    event_add(w->wake, NULL) < 0) {
		ct_error("engine thread %u: cannot create its events", w->idx);
		return -1;
	}
	/* Assigned once so that event_del() is valid on every slot, even one
	 * that failed before its first event_add(). */
	for (uint32_t i = 0; i < w->npool; i++) {
		w->pool[i].w = w;
		event_assign(&w->pool[i].ev, w->base, -1, 0, ct_kconn_on_io, &w->pool[i]);
	}
	return 0;
}

void *ct_kworker_main(void *arg)
{
	struct worker *w = arg;
	struct kengine *e = w->e;

	w->tfd = -1;
	int nsfd = e->cfg.hosts.n > 1 ? e->cfg.hosts.fd[w->host] : e->cfg.netns_fd;
	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
		ct_error("engine thread %u: setns into the client netns: %s; is ctload root?",
			 w->idx, strerror(errno));
		goto out;
	}
	if (setup_events(w) < 0)
		goto out;
	struct timeval hk_tv = {.tv_sec = 0, .tv_usec = HK_PERIOD_US};
	event_add(w->hk, &hk_tv);
	advance(w);
	if (w->have_next)
		arm_timer(w);
	event_base_dispatch(w->base);
	ct_kconn_abort_all(w);
out:
	if (w->timer)
		event_free(w->timer);
	if (w->hk)
		event_free(w->hk);
	if (w->wake)
		event_free(w->wake);
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->base)
		event_base_free(w->base);
	w->timer = w->hk = w->wake = NULL;
	w->tfd = -1;
	w->base = NULL;
	STORE(&w->running, 0);
	return NULL;
}
