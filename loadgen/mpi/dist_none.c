/* dist without MPI: runs are alone; a run launched by mpirun is refused. */
#include "loadgen/mpi/dist.h"

#include <errno.h>
#include <stdlib.h>

int ct_dist_init(int *argc, char ***argv, struct ct_dist **out, struct ct_err *err)
{
	(void)argc;
	(void)argv;
	*out = NULL;
	const char *n = getenv("OMPI_COMM_WORLD_SIZE");
	if (!n)
		n = getenv("PMI_SIZE");
	if (n && atoi(n) > 1) {
		ct_err_set(err, CT_EXIT_ENV,
			   "launched as %s MPI ranks, but this ctload was built without MPI: "
			   "install Open MPI (apt-get install openmpi-bin libopenmpi-dev) and "
			   "rebuild (meson setup build -Dmpi=enabled)",
			   n);
		return -ENOTSUP;
	}
	return 0;
}

unsigned ct_dist_rank(const struct ct_dist *d)
{
	(void)d;
	return 0;
}

unsigned ct_dist_size(const struct ct_dist *d)
{
	(void)d;
	return 1;
}

int ct_dist_bcast_text(struct ct_dist *d, char **text, int *code)
{
	(void)d;
	(void)text;
	(void)code;
	return 0;
}

int ct_dist_agree(struct ct_dist *d, int code)
{
	(void)d;
	return code;
}

int ct_dist_trial_begin(struct ct_dist *d, unsigned threads, unsigned *base, unsigned *total)
{
	(void)d;
	*base = 0;
	*total = threads;
	return 0;
}

int ct_dist_share_target(struct ct_dist *d, const struct ct_dist_target *in,
			 struct ct_dist_target *out, struct sockaddr_storage **srcbuf, int *own_fd)
{
	(void)d;
	*out = *in;
	*srcbuf = NULL;
	*own_fd = -1;
	return 0;
}

bool ct_dist_one_host(const struct ct_dist *d)
{
	(void)d;
	return true;
}

int ct_dist_barrier(struct ct_dist *d)
{
	(void)d;
	return 0;
}

int ct_dist_tick(struct ct_dist *d, struct ct_engine_stats *st, unsigned *flags)
{
	(void)d;
	(void)st;
	(void)flags;
	return 0;
}

int ct_dist_step_cpu(struct ct_dist *d, json_t *result)
{
	(void)d;
	(void)result;
	return 0;
}

int ct_dist_step_result(struct ct_dist *d, json_t **result)
{
	(void)d;
	(void)result;
	return 0;
}

json_t *ct_dist_ranks(const struct ct_dist *d)
{
	(void)d;
	return NULL;
}

bool ct_dist_broken(const struct ct_dist *d)
{
	(void)d;
	return false;
}

int ct_dist_end(struct ct_dist *d, int code)
{
	(void)d;
	return code;
}
