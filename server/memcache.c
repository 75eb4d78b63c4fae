/* memcache — the handlers behind the parser: one parsed command in, the
 * answer appended to the connection's output. No socket work here. */
#include "common/ctime.h"
#include "common/mcproto.h"
#include "ct_config.h"
#include "server/hoststat.h"
#include "server/srv_int.h"

#include <event2/event.h>
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* A get stops adding values past this much pending output, lets the
 * socket drain, then resumes: a multi-get of big values stays bounded. */
#define OUT_HIGH (256 * 1024)

static void answer(struct ct_outbuf *out, const struct ct_mc_cmd *cmd, const char *line)
{
	if (cmd->noreply)
		return;
	ct_outbuf_str(out, line);
	ct_outbuf_add(out, "\r\n", 2);
}

struct get_ctx {
	struct ct_outbuf *out;
	bool with_cas;
};

static void on_item(void *arg, const struct ct_store_item_view *v)
{
	struct get_ctx *g = arg;

	ct_outbuf_add(g->out, "VALUE ", 6);
	ct_outbuf_add(g->out, v->key, v->nkey);
	if (g->with_cas)
		ct_outbuf_printf(g->out, " %" PRIu32 " %zu %" PRIu64 "\r\n", v->flags,
				 v->nbytes - 2, v->cas);
	else
		ct_outbuf_printf(g->out, " %" PRIu32 " %zu\r\n", v->flags, v->nbytes - 2);
	ct_outbuf_add(g->out, v->data, v->nbytes);
}

static enum ct_mc_next do_get(struct ct_worker *w, const struct ct_mc_cmd *cmd,
			      struct ct_outbuf *out, size_t *get_pos)
{
	struct get_ctx g = {out, cmd->op == CT_MC_OP_GETS};
	int64_t now = (int64_t)time(NULL);
	size_t pos = *get_pos, before;
	const char *key;
	size_t nkey;

	for (;;) {
		before = pos;
		if (!ct_mc_next_key(cmd, &pos, &key, &nkey))
			break;
		if (ct_outbuf_pending(out) > OUT_HIGH) {
			*get_pos = before;
			return CT_MC_NEXT_PAUSE;
		}
		CT_CNT_INC(w, cmd_get);
		if (ct_store_get(w->srv->store, key, nkey, now, on_item, &g))
			CT_CNT_INC(w, get_hits);
		else
			CT_CNT_INC(w, get_misses);
	}
	*get_pos = 0;
	ct_outbuf_add(out, "END\r\n", 5);
	return CT_MC_NEXT_CONTINUE;
}

static void stat_u(struct ct_outbuf *out, const char *name, uint64_t v)
{
	ct_outbuf_printf(out, "STAT %s %" PRIu64 "\r\n", name, v);
}

static void stat_l(struct ct_outbuf *out, const char *name, long v)
{
	ct_outbuf_printf(out, "STAT %s %ld\r\n", name, v);
}

static void do_stats(struct ct_worker *w, struct ct_outbuf *out)
{
	struct ct_srv *srv = w->srv;
	struct ct_srv_counters c;
	struct ct_store_stats ss = {0};
	struct ct_hoststat hs;
	struct rusage ru;
	uint64_t cmd_set;

	ct_srv_sum_counters(srv, &c);
	if (srv->store)
		ct_store_get_stats(srv->store, &ss);
	ct_hoststat_sample(&hs);
	cmd_set = c.cmd_set;
	stat_u(out, "pid", (uint64_t)getpid());
	stat_u(out, "uptime", (ct_now_ns() - srv->started_ns) / 1000000000ULL);
	stat_u(out, "time", (uint64_t)time(NULL));
	/* memcached's form (a number clients parse); ct_version names us. */
	ct_outbuf_str(out, "STAT version " CT_MC_COMPAT_VERSION "\r\n");
	ct_outbuf_printf(out, "STAT libevent %s\r\n", event_get_version());
	stat_u(out, "pointer_size", sizeof(void *) * 8);
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		ct_outbuf_printf(out, "STAT rusage_user %ld.%06ld\r\n", (long)ru.ru_utime.tv_sec,
				 (long)ru.ru_utime.tv_usec);
		ct_outbuf_printf(out, "STAT rusage_system %ld.%06ld\r\n", (long)ru.ru_stime.tv_sec,
				 (long)ru.ru_stime.tv_usec);
	}
	stat_u(out, "max_connections", srv->cfg.max_conns);
	stat_u(out, "curr_connections", __atomic_load_n(&srv->curr_conns, __ATOMIC_RELAXED));
	stat_u(out, "total_connections", c.total_conns);
	stat_u(out, "rejected_connections", c.rejected_conns);
	stat_u(out, "cmd_get", c.cmd_get);
	stat_u(out, "cmd_set", cmd_set);
	stat_u(out, "cmd_flush", c.cmd_flush);
	stat_u(out, "cmd_touch", c.cmd_touch);
	stat_u(out, "get_hits", c.get_hits);
	stat_u(out, "get_misses", c.get_misses);
	stat_u(out, "delete_misses", c.delete_misses);
	stat_u(out, "delete_hits", c.delete_hits);
	stat_u(out, "incr_misses", c.incr_misses);
	stat_u(out, "incr_hits", c.incr_hits);
	stat_u(out, "decr_misses", c.decr_misses);
	stat_u(out, "decr_hits", c.decr_hits);
	stat_u(out, "cas_misses", c.cas_misses);
	stat_u(out, "cas_hits", c.cas_hits);
	stat_u(out, "cas_badval", c.cas_badval);
	stat_u(out, "touch_hits", c.touch_hits);
	stat_u(out, "touch_misses", c.touch_misses);
	stat_u(out, "bytes_read", c.bytes_read);
	stat_u(out, "bytes_written", c.bytes_written);
	stat_u(out, "limit_maxbytes", ss.limit_maxbytes);
	stat_u(out, "threads", srv->cfg.workers);
	stat_u(out, "bytes", ss.bytes);
	stat_u(out, "curr_items", ss.curr_items);
	stat_u(out, "total_items", ss.total_items);
	stat_u(out, "evictions", ss.evictions);
	/* This host as the server's netns sees it (-1: not readable here). */
	ct_outbuf_str(out, "STAT ct_version " CT_VERSION "\r\n");
	ct_outbuf_printf(out, "STAT ct_mode %s\r\n", ct_srv_mode_name(srv->cfg.mode));
	ct_outbuf_printf(out, "STAT ct_close %s\r\n", ct_srv_close_name(srv->cfg.close));
	stat_l(out, "ct_conntrack_count", hs.conntrack_count);
	stat_l(out, "ct_conntrack_max", hs.conntrack_max);
	stat_l(out, "ct_tw", hs.tw);
	stat_u(out, "ct_accepted", c.total_conns);
	stat_u(out, "ct_rejected_max_conns", c.rejected_conns);
	stat_u(out, "ct_closed_by_client", c.closed_by_client);
	stat_u(out, "ct_closed_by_server", c.closed_by_server);
	stat_u(out, "ct_closed_by_rst", c.closed_by_rst);
	stat_u(out, "ct_closed_idle", c.closed_idle);
	stat_u(out, "ct_closed_error", c.closed_error);
	ct_outbuf_add(out, "END\r\n", 5);
}

/* set/add/replace/append/prepend/cas: refuse an item over the limit, else
 * read its value block next. */
static enum ct_mc_next exec_update(struct ct_worker *w, const struct ct_mc_cmd *cmd,
				   struct ct_outbuf *out, int64_t now)
{
	if (ct_mc_item_too_large(cmd->nkey, (size_t)cmd->vlen, cmd->flags, w->srv->cfg.item_max)) {
		answer(out, cmd, "SERVER_ERROR object too large for cache");
		/* As memcached: a failed set must not leave the old value. */
		if (cmd->op == CT_MC_OP_SET)
			ct_store_delete(w->srv->store, cmd->key, cmd->nkey, now);
		return CT_MC_NEXT_SWALLOW;
	}
	return CT_MC_NEXT_READ_VALUE;
}

static void exec_delete(struct ct_worker *w, const struct ct_mc_cmd *cmd, struct ct_outbuf *out,
			int64_t now)
{
	if (ct_store_delete(w->srv->store, cmd->key, cmd->nkey, now) == CT_STORE_DELETED) {
		CT_CNT_INC(w, delete_hits);
		answer(out, cmd, "DELETED");
	} else {
		CT_CNT_INC(w, delete_misses);
		answer(out, cmd, "NOT_FOUND");
	}
}

/* incr and decr. */
static void exec_arith(struct ct_worker *w, const struct ct_mc_cmd *cmd, struct ct_outbuf *out,
		       int64_t now)
{
	bool incr = cmd->op == CT_MC_OP_INCR;
	char num[32];

	switch (ct_store_delta(w->srv->store, cmd->key, cmd->nkey, incr, cmd->delta, now, num,
			       sizeof(num))) {
	case CT_STORE_STORED:
		if (incr)
			CT_CNT_INC(w, incr_hits);
		else
			CT_CNT_INC(w, decr_hits);
		answer(out, cmd, num);
		break;
	case CT_STORE_NON_NUMERIC:
		answer(out, cmd, "CLIENT_ERROR cannot increment or decrement non-numeric value");
		break;
	case CT_STORE_NO_MEMORY:
		answer(out, cmd, "SERVER_ERROR out of memory");
		break;
	default:
		if (incr)
			CT_CNT_INC(w, incr_misses);
		else
			CT_CNT_INC(w, decr_misses);
		answer(out, cmd, "NOT_FOUND");
		break;
	}
}

static void exec_touch(struct ct_worker *w, const struct ct_mc_cmd *cmd, struct ct_outbuf *out,
		       int64_t now)
{
	CT_CNT_INC(w, cmd_touch);
	if (ct_store_touch(w->srv->store, cmd->key, cmd->nkey, cmd->exptime, now) ==
	    CT_STORE_TOUCHED) {
		CT_CNT_INC(w, touch_hits);
		answer(out, cmd, "TOUCHED");
	} else {
		CT_CNT_INC(w, touch_misses);
		answer(out, cmd, "NOT_FOUND");
	}
}

enum ct_mc_next ct_mc_exec(struct ct_worker *w, const struct ct_mc_cmd *cmd, struct ct_outbuf *out,
			   size_t *get_pos)
{
	int64_t now = (int64_t)time(NULL);

	switch (cmd->op) {
	case CT_MC_OP_REPLY:
		if (cmd->drop_queued)
			ct_outbuf_discard(out);
		answer(out, cmd, cmd->reply);
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_CLOSE:
	case CT_MC_OP_QUIT:
		return CT_MC_NEXT_CLOSE;
	case CT_MC_OP_BINARY:
		/* What follows is binary framing, not text: answer and end. */
		ct_outbuf_str(out, "ERROR\r\n");
		return CT_MC_NEXT_FAIL;
	case CT_MC_OP_GET:
	case CT_MC_OP_GETS:
		return do_get(w, cmd, out, get_pos);
	case CT_MC_OP_SET:
	case CT_MC_OP_ADD:
	case CT_MC_OP_REPLACE:
	case CT_MC_OP_APPEND:
	case CT_MC_OP_PREPEND:
	case CT_MC_OP_CAS:
		return exec_update(w, cmd, out, now);
	case CT_MC_OP_DELETE:
		exec_delete(w, cmd, out, now);
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_INCR:
	case CT_MC_OP_DECR:
		exec_arith(w, cmd, out, now);
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_TOUCH:
		exec_touch(w, cmd, out, now);
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_FLUSH_ALL:
		CT_CNT_INC(w, cmd_flush);
		ct_store_flush(w->srv->store, cmd->exptime, now);
		answer(out, cmd, "OK");
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_VERSION:
		ct_outbuf_str(out, "VERSION " CT_MC_COMPAT_VERSION "\r\n");
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_VERBOSITY:
		/* Accepted and ignored: ctserver's verbosity is -v. */
		answer(out, cmd, "OK");
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_STATS:
		do_stats(w, out);
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_STATS_RESET:
		ct_srv_reset_counters(w->srv);
		/* As memcached: total_items and evictions restart at 0. */
		ct_store_reset_stats(w->srv->store);
		answer(out, cmd, "RESET");
		return CT_MC_NEXT_CONTINUE;
	case CT_MC_OP_STATS_CACHEDUMP:
		/* One LRU, no slab classes: every class is empty, which is also
		 * what memcached lists for items not yet in its cold LRU. */
		ct_outbuf_add(out, "END\r\n", 5);
		return CT_MC_NEXT_CONTINUE;
	}
	answer(out, cmd, "ERROR");
	return CT_MC_NEXT_CONTINUE;
}

void ct_mc_exec_value(struct ct_worker *w, const struct ct_mc_cmd *cmd, const char *block,
		      struct ct_outbuf *out)
{
	static const enum ct_store_op ops[] = {
	    [CT_MC_OP_SET] = CT_STORE_SET,	   [CT_MC_OP_ADD] = CT_STORE_ADD,
	    [CT_MC_OP_REPLACE] = CT_STORE_REPLACE, [CT_MC_OP_APPEND] = CT_STORE_APPEND,
	    [CT_MC_OP_PREPEND] = CT_STORE_PREPEND, [CT_MC_OP_CAS] = CT_STORE_CAS,
	};
	enum ct_store_result r;

	if (!ct_mc_data_ok(block, (size_t)cmd->vlen)) {
		answer(out, cmd, "CLIENT_ERROR bad data chunk");
		return;
	}
	CT_CNT_INC(w, cmd_set);
	r = ct_store_store(w->srv->store, ops[cmd->op], cmd->key, cmd->nkey, cmd->flags,
			   cmd->exptime, block, (size_t)cmd->vlen, cmd->cas, (int64_t)time(NULL));
	switch (r) {
	case CT_STORE_STORED:
		if (cmd->op == CT_MC_OP_CAS)
			CT_CNT_INC(w, cas_hits);
		answer(out, cmd, "STORED");
		break;
	case CT_STORE_EXISTS:
		CT_CNT_INC(w, cas_badval);
		answer(out, cmd, "EXISTS");
		break;
	case CT_STORE_NOT_FOUND:
		CT_CNT_INC(w, cas_misses);
		answer(out, cmd, "NOT_FOUND");
		break;
	case CT_STORE_NO_MEMORY:
		answer(out, cmd, "SERVER_ERROR out of memory storing object");
		break;
	default:
		answer(out, cmd, "NOT_STORED");
		break;
	}
}
