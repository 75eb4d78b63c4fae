/* kworker — one thread of the kernel engine: its own event_base, the
 * schedule timer that launches connections (within the launch window), and
 * the housekeeping tick that ends the step. See kernel_int.h. */
#include "loadgen/engine/kernel/kernel_int.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "common/log.h"

static void count_unsent(struct worker *w, uint64_t until);

void ct_kworker_rearm_now(struct worker *w)
{
	static const struct timeval zero = {0, 0};
	evtimer_add(w->timer, &zero);
}

static void arm_timer(struct worker *w)
{
	uint64_t now = ct_now_ns();
	/* libevent's millisecond timeout rounds up: ask for a wake-up one
	 * millisecond early so that it is not late. */
	uint64_t lead = w->e->window_ns >= CT_NS_PER_MSEC ? CT_NS_PER_MSEC : 0;
	uint64_t at = w->next_due > lead ? w->next_due - lead : 0;
	uint64_t d = at > now ? at - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(d / CT_NS_PER_SEC),
			     .tv_usec = (suseconds_t)((d % CT_NS_PER_SEC) / 1000)};
	evtimer_add(w->timer, &tv);
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

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	unsigned budget = LAUNCH_BUDGET;
	uint64_t now = ct_now_ns();

	if (w->have_next && now >= w->e->t0 + w->e->load->sched.duration_ns + LATE_GRACE_NS) {
		count_unsent(w, UINT64_MAX);
		end_schedule(w);
		return;
	}
	while (w->have_next && w->next_due <= now + w->e->window_ns && !LOAD(&w->e->stop_req)) {
		if (w->free_head == NO_CONN) {
			w->blocked = true; /* release() re-activates us */
			return;
		}
		ct_kconn_launch(w, w->next_due, w->next_seq, now);
		advance(w);
		if (--budget == 0) {
			/* Behind schedule: come back after one round of I/O.
			 * A zero timeout (not event_active, which libevent runs
			 * again in the same pass) lets completions and timeouts
			 * through, so overload does not starve them. */
			ct_kworker_rearm_now(w);
			return;
		}
		now = ct_now_ns();
	}
	if (w->have_next && !LOAD(&w->e->stop_req))
		arm_timer(w);
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
	/* One base per thread, never shared: no locks. A launch window under
	 * 1 ms needs timerfd (microseconds); from 1 ms on, epoll_wait's
	 * millisecond timeout is enough and saves a timerfd_settime per loop. */
	event_config_set_flag(
	    ec, EVENT_BASE_FLAG_NOLOCK |
		    (e->window_ns < CT_NS_PER_MSEC ? EVENT_BASE_FLAG_PRECISE_TIMER : 0));
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
	if (!w->conn_tv || !w->reply_tv || !w->timer || !w->hk) {
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

	if (e->cfg.netns_fd >= 0 && setns(e->cfg.netns_fd, CLONE_NEWNET) < 0) {
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
	if (w->base)
		event_base_free(w->base);
	w->timer = w->hk = NULL;
	w->base = NULL;
	STORE(&w->running, 0);
	return NULL;
}
