/* dist over Open MPI (dist.h). Every collective is non-blocking and
 * polled against a deadline, so a dead or stopped rank ends the run with
 * its name instead of hanging it; a check-in before each collective lets
 * rank 0 say which rank is missing. */
#include "loadgen/mpi/dist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

#include "common/ctime.h"
#include "common/log.h"
#include "common/sig.h"

#define TAG_CHECKIN 1601

struct rank_info {
	char host[64];
	int pid;
	int lost;	   /* rank 0's view: it did not check in */
	char sources[160]; /* rank 0's view: the client addresses it gave this rank */
};

struct ct_dist {
	int rank, size;
	struct rank_info *info; /* every rank's, on every rank */
	MPI_Datatype tick_type;
	MPI_Op tick_op;
	unsigned seq; /* check-ins so far */
	bool broken;  /* a collective was abandoned: only MPI_Abort is left */
};

/* What one rank contributes to a tick. */
struct tick_msg {
	struct ct_engine_stats st;
	unsigned flags;
};

/* The custom reduction: counters summed, histograms merged, flags OR'ed. */
static void tick_merge(void *in, void *inout, int *len, MPI_Datatype *dt)
{
	(void)dt;
	const struct tick_msg *a = in;
	struct tick_msg *b = inout;
	for (int i = 0; i < *len; i++, a++, b++) {
		const struct ct_engine_stats *s = &a->st;
		struct ct_engine_stats *d = &b->st;
		d->scheduled += s->scheduled;
		d->attempted += s->attempted;
		d->established += s->established;
		d->completed += s->completed;
		for (int f = 0; f < CT_FAIL_N; f++)
			d->failures[f] += s->failures[f];
		d->unsent += s->unsent;
		d->inflight += s->inflight;
		d->syn_retrans += s->syn_retrans;
		d->running += s->running;
		ct_hist_merge(&d->connect, &s->connect);
		ct_hist_merge(&d->total, &s->total);
		ct_hist_merge(&d->connect_call, &s->connect_call);
		b->flags |= a->flags;
	}
}

static bool launched_by_mpi(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int ct_dist_init(int *argc, char ***argv, struct ct_dist **out, struct ct_err *err)
{
	*out = NULL;
	if (!launched_by_mpi())
		return 0;
	if (MPI_Init(argc, argv) != MPI_SUCCESS) {
		ct_err_set(err, CT_EXIT_ENV, "MPI_Init failed: is this run under mpirun or srun?");
		return -EIO;
	}
	struct ct_dist *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &d->size);
	if (d->size < 2) { /* one rank is a run alone */
		free(d);
		MPI_Finalize();
		return 0;
	}
	d->info = calloc((size_t)d->size, sizeof(*d->info));
	if (!d->info) {
		free(d);
		return -ENOMEM;
	}
	struct rank_info me = {.pid = getpid()};
	gethostname(me.host, sizeof(me.host) - 1);
	MPI_Allgather(&me, sizeof(me), MPI_BYTE, d->info, sizeof(me), MPI_BYTE, MPI_COMM_WORLD);
	MPI_Type_contiguous((int)sizeof(struct tick_msg), MPI_BYTE, &d->tick_type);
	MPI_Type_commit(&d->tick_type);
	MPI_Op_create(tick_merge, 1, &d->tick_op);
	*out = d;
	return 0;
}

unsigned ct_dist_rank(const struct ct_dist *d)
{
	return d ? (unsigned)d->rank : 0;
}

unsigned ct_dist_size(const struct ct_dist *d)
{
	return d ? (unsigned)d->size : 1;
}

/* Poll n requests until done or late. A stop request (mpirun's SIGTERM
 * after a rank died) leaves half a second for the rest to arrive.
 * 0 or -ETIMEDOUT; done[i] says which finished. */
static int wait_all(struct ct_dist *d, MPI_Request *req, int n, int *done, double late_s)
{
	uint64_t start = ct_now_ns(), stop_seen = 0;
	uint64_t late = (uint64_t)(late_s * 1e9);
	for (;;) {
		int all = 1;
		for (int i = 0; i < n; i++) {
			if (!done[i])
				MPI_Test(&req[i], &done[i], MPI_STATUS_IGNORE);
			all &= done[i] != 0;
		}
		if (all)
			return 0;
		uint64_t now = ct_now_ns();
		if (ct_stop_requested() && !stop_seen)
			stop_seen = now;
		if (now - start > late || (stop_seen && now - stop_seen > CT_NS_PER_SEC / 2)) {
			d->broken = true;
			return -ETIMEDOUT;
		}
		usleep(200);
	}
}

/* Every rank tells rank 0 it reached `what`; rank 0 names those that did
 * not within CT_DIST_LATE_S. 0 or -ETIMEDOUT. */
static int checkin(struct ct_dist *d, const char *what)
{
	unsigned seq = ++d->seq;
	if (d->rank != 0) {
		MPI_Send(&seq, 1, MPI_UNSIGNED, 0, TAG_CHECKIN, MPI_COMM_WORLD);
		return 0;
	}
	MPI_Request *req = calloc((size_t)d->size, sizeof(*req));
	unsigned *got = calloc((size_t)d->size, sizeof(*got));
	int *done = calloc((size_t)d->size, sizeof(*done));
	if (!req || !got || !done) {
		free(req), free(got), free(done);
		return -ENOMEM;
	}
	done[0] = 1;
	req[0] = MPI_REQUEST_NULL;
	for (int r = 1; r < d->size; r++)
		MPI_Irecv(&got[r], 1, MPI_UNSIGNED, r, TAG_CHECKIN, MPI_COMM_WORLD, &req[r]);
	int rc = wait_all(d, req, d->size, done, CT_DIST_LATE_S);
	for (int r = 1; rc < 0 && r < d->size; r++)
		if (!done[r] && (d->info[r].lost = 1))
			ct_error(
			    "MPI rank %d (host %s, pid %d) did not reach %s: it died, stopped or "
			    "is more than %.0f s late; the run ends here (exit 3)",
			    r, d->info[r].host, d->info[r].pid, what, CT_DIST_LATE_S);
	free(req), free(got), free(done);
	return rc;
}

/* Wait for one collective; workers allow rank 0 time to name the culprit. */
static int wait_long(struct ct_dist *d, MPI_Request *req, const char *what, double worker_late)
{
	int done = 0;
	double late = d->rank == 0 ? CT_DIST_LATE_S : worker_late;
	int rc = wait_all(d, req, 1, &done, late);
	if (rc < 0)
		ct_error("MPI rank %d: the other ranks did not finish %s in time; the run ends "
			 "here (exit 3)",
			 d->rank, what);
	return rc;
}

static int wait_one(struct ct_dist *d, MPI_Request *req, const char *what)
{
	return wait_long(d, req, what, CT_DIST_LATE_S + 5);
}

int ct_dist_bcast_text(struct ct_dist *d, char **text, int *code)
{
	MPI_Request req;
	long hdr[2] = {d->rank == 0 && *text ? (long)strlen(*text) + 1 : 0, *code};
	MPI_Ibcast(hdr, 2, MPI_LONG, 0, MPI_COMM_WORLD, &req);
	if (wait_one(d, &req, "the scenario's broadcast") < 0)
		return -ETIMEDOUT;
	*code = (int)hdr[1];
	if (hdr[0] == 0) {
		if (d->rank != 0)
			*text = NULL;
		return 0;
	}
	if (d->rank != 0 && !(*text = calloc(1, (size_t)hdr[0])))
		return -ENOMEM;
	MPI_Ibcast(*text, (int)hdr[0], MPI_CHAR, 0, MPI_COMM_WORLD, &req);
	return wait_one(d, &req, "the scenario's broadcast");
}

int ct_dist_agree(struct ct_dist *d, int code)
{
	int *all = calloc((size_t)d->size, sizeof(int)), worst = code;
	MPI_Request req;
	if (!all)
		return CT_EXIT_ENV;
	MPI_Iallgather(&code, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD, &req);
	if (wait_one(d, &req, "the target check") < 0) {
		free(all);
		return CT_EXIT_ENV;
	}
	for (int r = 0; r < d->size; r++) {
		if (all[r] > worst)
			worst = all[r];
		if (all[r] && r != 0 && d->rank == 0)
			ct_error("MPI rank %d (host %s) refused the run (exit %d): see its message",
				 r, d->info[r].host, all[r]);
	}
	free(all);
	return worst;
}

int ct_dist_trial_begin(struct ct_dist *d, unsigned threads, unsigned *base, unsigned *total)
{
	char what[64];
	snprintf(what, sizeof(what), "the start of a step (check-in %u)", d->seq + 1);
	if (checkin(d, what) < 0)
		return -ETIMEDOUT;
	unsigned mine = threads, sum = 0;
	MPI_Request req[2];
	int done[2] = {0, 0};
	*base = 0;
	/* The barrier: nobody's schedule starts before every engine exists. */
	MPI_Iexscan(&mine, base, 1, MPI_UNSIGNED, MPI_SUM, MPI_COMM_WORLD, &req[0]);
	MPI_Iallreduce(&mine, &sum, 1, MPI_UNSIGNED, MPI_SUM, MPI_COMM_WORLD, &req[1]);
	if (wait_all(d, req, 2, done, CT_DIST_LATE_S + (d->rank ? 5 : 0)) < 0) {
		ct_error("MPI rank %d: the ranks did not start the step together (exit 3)",
			 d->rank);
		return -ETIMEDOUT;
	}
	if (d->rank == 0)
		*base = 0; /* MPI_Exscan leaves rank 0's result undefined */
	*total = sum;
	return 0;
}

bool ct_dist_one_host(const struct ct_dist *d)
{
	for (int r = 1; d && r < d->size; r++)
		if (strcmp(d->info[r].host, d->info[0].host))
			return false;
	return true;
}

/* What rank 0 sends of its target. */
struct target_hdr {
	struct sockaddr_storage dst;
	uint16_t port_lo, port_hi;
	long n_src;
	int pid, netns_fd;
};

/* This rank's share of the n client addresses in all. */
static struct sockaddr_storage *my_share(const struct ct_dist *d,
					 const struct sockaddr_storage *all, size_t n, size_t *mine)
{
	size_t size = (size_t)d->size, rank = (size_t)d->rank, k = 0;
	*mine = 0;
	if (!n)
		return NULL;
	struct sockaddr_storage *v = calloc(n / size + 1, sizeof(*v));
	if (!v)
		return NULL;
	if (n < size)
		v[k++] = all[rank % n]; /* fewer addresses than ranks: shared */
	else
		for (size_t i = rank; i < n; i += size)
			v[k++] = all[i];
	*mine = k;
	return v;
}

/* Rank 0 notes which client addresses each rank got, for summary.json. */
static void note_shares(struct ct_dist *d, const struct sockaddr_storage *all, size_t n)
{
	for (int r = 0; r < d->size; r++) {
		char *o = d->info[r].sources, a[INET6_ADDRSTRLEN];
		size_t left = sizeof(d->info[r].sources);
		o[0] = 0;
		for (size_t i = 0; i < n; i++) {
			if (n < (size_t)d->size ? i != (size_t)r % n
						: i % (size_t)d->size != (size_t)r)
				continue;
			const void *ip =
			    all[i].ss_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)&all[i])->sin6_addr
				: (const void *)&((const struct sockaddr_in *)&all[i])->sin_addr;
			inet_ntop(all[i].ss_family, ip, a, sizeof(a));
			int w = snprintf(o, left, "%s%s", o == d->info[r].sources ? "" : " ", a);
			if (w < 0 || (size_t)w >= left)
				break;
			o += w;
			left -= (size_t)w;
		}
	}
}

int ct_dist_share_target(struct ct_dist *d, const struct ct_dist_target *in,
			 struct ct_dist_target *out, struct sockaddr_storage **srcbuf, int *own_fd)
{
	struct target_hdr h = {.dst = in->dst,
			       .port_lo = in->port_lo,
			       .port_hi = in->port_hi,
			       .n_src = (long)in->n_src,
			       .pid = getpid(),
			       .netns_fd = in->netns_fd};
	struct sockaddr_storage *all = NULL;
	MPI_Request req;
	*srcbuf = NULL;
	*own_fd = -1;
	if (checkin(d, "the target of a step") < 0)
		return -ETIMEDOUT;
	/* Between steps rank 0 alone works: a lab up, a fresh netns, a
	 * TIME_WAIT drain; the other ranks wait here for as long as that takes. */
	MPI_Ibcast(&h, sizeof(h), MPI_BYTE, 0, MPI_COMM_WORLD, &req);
	if (wait_long(d, &req, "the target's broadcast", CT_DIST_GAP_S) < 0)
		return -ETIMEDOUT;
	all = d->rank == 0 ? (struct sockaddr_storage *)in->src
			   : calloc((size_t)h.n_src + 1, sizeof(*all));
	if (!all && h.n_src > 0)
		return -ENOMEM;
	int rc = 0;
	if (h.n_src > 0) {
		MPI_Ibcast(all, (int)(h.n_src * (long)sizeof(*all)), MPI_BYTE, 0, MPI_COMM_WORLD,
			   &req);
		rc = wait_one(d, &req, "the target's broadcast");
	}
	*out = (struct ct_dist_target){
	    .dst = h.dst, .port_lo = h.port_lo, .port_hi = h.port_hi, .netns_fd = in->netns_fd};
	if (rc == 0 && h.n_src > 0 && !(*srcbuf = my_share(d, all, (size_t)h.n_src, &out->n_src)))
		rc = -ENOMEM;
	out->src = *srcbuf;
	if (rc == 0 && d->rank == 0)
		note_shares(d, all, (size_t)h.n_src);
	if (rc == 0 && d->rank != 0 && h.netns_fd >= 0) {
		/* The lab's client netns is rank 0's open fd; its namespace
		 * file may be gone (a fresh netns is not named the same). */
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", h.pid, h.netns_fd);
		if ((*own_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = -errno;
			ct_error(
			    "MPI rank %d: cannot open rank 0's client netns %s: %s (every rank "
			    "of a lab run must be on rank 0's host, as root)",
			    d->rank, path, strerror(errno));
		}
		out->netns_fd = *own_fd;
	}
	if (d->rank != 0)
		free(all);
	return rc;
}

int ct_dist_barrier(struct ct_dist *d)
{
	MPI_Request req;
	MPI_Ibarrier(MPI_COMM_WORLD, &req);
	return wait_one(d, &req, "the barrier before a step") < 0 ? -ETIMEDOUT : 0;
}

int ct_dist_tick(struct ct_dist *d, struct ct_engine_stats *st, unsigned *flags)
{
	struct tick_msg *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
	MPI_Request req;
	int rc = -ENOMEM;
	if (!in || !out)
		goto done;
	if ((rc = checkin(d, "a sample tick")) < 0)
		goto done;
	in->st = *st;
	in->flags = *flags;
	MPI_Iallreduce(in, out, 1, d->tick_type, d->tick_op, MPI_COMM_WORLD, &req);
	if ((rc = wait_one(d, &req, "a sample tick")) < 0)
		goto done;
	*st = out->st;
	*flags = out->flags;
done:
	free(in);
	free(out);
	return rc;
}

int ct_dist_step_cpu(struct ct_dist *d, json_t *r)
{
	if (checkin(d, "the step's end") < 0)
		return -ETIMEDOUT;
	json_t *cpu = json_object_get(r, "cpu");
	double mine[2] = {json_real_value(json_object_get(cpu, "user")),
			  json_real_value(json_object_get(cpu, "sys"))};
	double sum[2] = {0, 0};
	MPI_Request req;
	MPI_Ireduce(mine, sum, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD, &req);
	if (wait_one(d, &req, "the step's end") < 0)
		return -ETIMEDOUT;
	if (d->rank == 0) {
		json_int_t att = json_integer_value(json_object_get(r, "attempted"));
		json_object_set_new(r, "cpu",
				    json_pack("{s:f, s:f}", "user", sum[0], "sys", sum[1]));
		json_object_set_new(r, "cpu_per_conn_us",
				    json_real(att ? (sum[0] + sum[1]) * 1e6 / (double)att : 0));
		json_object_set_new(r, "ranks", json_integer(d->size));
	}
	return 0;
}

int ct_dist_step_result(struct ct_dist *d, json_t **result)
{
	char *text = d->rank == 0 ? json_dumps(*result, JSON_COMPACT) : NULL;
	int code = 0;
	if (d->rank == 0 && !text)
		return -ENOMEM;
	int rc = ct_dist_bcast_text(d, &text, &code);
	if (rc == 0 && d->rank != 0) {
		json_t *r = text ? json_loads(text, 0, NULL) : NULL;
		if (!r)
			rc = -EPROTO;
		else {
			json_decref(*result);
			*result = r;
		}
	}
	free(text);
	return rc;
}

json_t *ct_dist_ranks(const struct ct_dist *d)
{
	json_t *a = json_array();
	for (int r = 0; d && a && r < d->size; r++)
		json_array_append_new(a, json_pack("{s:i, s:s, s:i, s:b, s:s}", "rank", r, "host",
						   d->info[r].host, "pid", d->info[r].pid, "lost",
						   d->info[r].lost, "client_addresses",
						   d->info[r].sources));
	return a;
}

bool ct_dist_broken(const struct ct_dist *d)
{
	return d && d->broken;
}

int ct_dist_end(struct ct_dist *d, int code)
{
	if (!d)
		return code;
	/* A lost rank, or one that could not run (exit 3): the others may be
	 * waiting in a collective that will never complete. */
	if (d->broken || code == CT_EXIT_ENV) {
		fflush(NULL);
		MPI_Abort(MPI_COMM_WORLD, code ? code : CT_EXIT_ENV);
	}
	MPI_Op_free(&d->tick_op);
	MPI_Type_free(&d->tick_type);
	MPI_Finalize();
	free(d->info);
	free(d);
	return code;
}
