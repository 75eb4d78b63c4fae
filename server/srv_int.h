/* srv_int — the structures shared by ctserver's own modules (server.c,
 * conn.c, memcache.c); nothing outside server/ includes this. */
#pragma once

#include "server/config.h"
#include "server/outbuf.h"
#include "server/store.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Counters a worker owns and writes; other threads read them for `stats`
 * with relaxed atomic loads, so no lock is taken on the hot path. */
struct ct_srv_counters {
	uint64_t total_conns, rejected_conns;
	uint64_t closed_by_client, closed_by_server, closed_by_rst, closed_idle, closed_error;
	uint64_t cmd_get, cmd_set, cmd_touch, cmd_flush;
	uint64_t get_hits, get_misses, delete_hits, delete_misses;
	uint64_t incr_hits, incr_misses, decr_hits, decr_misses;
	uint64_t cas_hits, cas_misses, cas_badval, touch_hits, touch_misses;
	uint64_t bytes_read, bytes_written;
};
#define CT_SRV_NCOUNTERS (sizeof(struct ct_srv_counters) / sizeof(uint64_t))

#define CT_CNT_ADD(w, field, n)                                                                    \
	__atomic_store_n(&(w)->cnt.field, (w)->cnt.field + (uint64_t)(n), __ATOMIC_RELAXED)
#define CT_CNT_INC(w, field) CT_CNT_ADD(w, field, 1)

struct ct_conn;
struct ct_srv;

struct ct_worker {
	struct ct_srv *srv;
	unsigned id;
	pthread_t thread;
	struct event_base *base;
	struct event *listen_evs; /* one per port, on this worker's own sockets */
	size_t nlisten;
	struct event stall_ev;
	struct event accept_pause_ev; /* out of fds: listeners rest, then retry */
	bool warned_nofile;
	bool stalled;	       /* --stall window: reads are off */
	struct ct_conn *conns; /* every open connection, for stall and shutdown */
	struct ct_srv_counters cnt;
};

struct ct_srv {
	struct ct_srv_config cfg;
	struct ct_store *store; /* memcache mode only */
	char *body;		/* http mode: --body bytes, shared read-only by every worker */
	struct ct_worker *workers;
	int *listen_fds; /* workers x ports */
	size_t nlisten_fds;
	struct event_base *main_base;
	int64_t started_unix;
	uint64_t started_ns;
	uint64_t curr_conns; /* atomic: bounds --max-conns across workers */
	pthread_mutex_t reset_lock;
	struct ct_srv_counters reset_base; /* `stats reset` subtracts this */
};

/* Accepted socket -> a connection on worker w (conn.c). */
void ct_conn_start(struct ct_worker *w, int fd);
/* Stall window edges and shutdown (conn.c). */
void ct_conn_set_stalled(struct ct_worker *w, bool stalled);
void ct_conn_close_all(struct ct_worker *w);
/* Sum of all workers' counters minus the last `stats reset` (server.c). */
void ct_srv_sum_counters(struct ct_srv *srv, struct ct_srv_counters *out);
void ct_srv_reset_counters(struct ct_srv *srv);

/* memcache.c: run one parsed command; returns what the connection does next. */
struct ct_mc_cmd;
enum ct_mc_next {
	CT_MC_NEXT_CONTINUE,   /* answered (or silent): parse the next command */
	CT_MC_NEXT_READ_VALUE, /* a storage command: gather its data block */
	CT_MC_NEXT_SWALLOW,    /* refused data block: discard vlen + 2 bytes */
	CT_MC_NEXT_PAUSE,      /* output is full: flush, then run this line again */
	CT_MC_NEXT_CLOSE,      /* quit / HTTP request: close now */
	CT_MC_NEXT_FAIL,       /* a binary request: send the answer, close as an error */
};
/* *get_pos keeps a get's place across CT_MC_NEXT_PAUSE (0 = start). */
enum ct_mc_next ct_mc_exec(struct ct_worker *w, const struct ct_mc_cmd *cmd, struct ct_outbuf *out,
			   size_t *get_pos);
/* The data block of a storage command has arrived (vlen + 2 bytes). */
void ct_mc_exec_value(struct ct_worker *w, const struct ct_mc_cmd *cmd, const char *block,
		      struct ct_outbuf *out);

/* http.c: the body buffer (NULL + errno), and the answer to one request
 * head: the reply's head into out, its body (shared, not copied) in
 * *body / *body_len (NULL / 0 for HEAD). */
struct ct_http_req;
char *ct_http_body_new(uint64_t size);
void ct_http_answer(struct ct_worker *w, const struct ct_http_req *req, struct ct_outbuf *out,
		    const char **body, size_t *body_len);
/* A refusal (400, 414, 431, 501, 505): status line and a one-line body. */
void ct_http_refuse(int code, struct ct_outbuf *out);
