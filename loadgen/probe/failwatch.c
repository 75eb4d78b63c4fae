/* failwatch — the first failures of a step (see failwatch.h). */
#include "loadgen/probe/failwatch.h"

#include <errno.h>
#include <stdlib.h>

#include "loadgen/base/json.h"
#include "loadgen/engine/cause.h"

struct failwatch {
	double t0;		     /* the step's start, s since the run's origin */
	double interval;	     /* sample interval, s */
	double t_ports, t_ct, t_nat; /* < 0: not seen */
};

static double ns_sum(const json_t *sample, const char *key)
{
	const json_t *ns = json_object_get(sample, "ns");
	const char *role;
	const json_t *v;
	double sum = 0;

	/* The lab's per-netns keys are flat ("ct.drop"), not nested. */
	json_object_foreach((json_t *)ns, role, v)
	{
		double x;
		if (ct_json_num(json_object_get(v, key), &x) == 0)
			sum += x;
	}
	return sum;
}

static int fw_sample(void *ctx, json_t *sample)
{
	struct failwatch *fw = ctx;
	/* The event happened within the interval that ends at t. */
	double t = ct_json_d(sample, "t") - fw->t0 - fw->interval / 2;
	double eaddr = 0;

	ct_json_num(CT_JSON_GET(sample, "failures", ct_fail_name(CT_FAIL_EADDRNOTAVAIL)), &eaddr);
	if (t < 0)
		t = 0;
	if (fw->t_ports < 0 && eaddr > 0)
		fw->t_ports = t;
	if (fw->t_ct < 0 && ns_sum(sample, "ct.drop") > 0)
		fw->t_ct = t;
	if (fw->t_nat < 0 && ns_sum(sample, "ct.insert_failed") > 0)
		fw->t_nat = t;
	return 0;
}

static int fw_step_end(void *ctx, json_t *step)
{
	struct failwatch *fw = ctx;
	json_t *o = json_object();

	if (fw->t_ports >= 0)
		json_object_set_new(o, "eaddrnotavail_s", json_real(fw->t_ports));
	if (fw->t_ct >= 0)
		json_object_set_new(o, "ct_drop_s", json_real(fw->t_ct));
	if (fw->t_nat >= 0)
		json_object_set_new(o, "ct_insert_failed_s", json_real(fw->t_nat));
	json_object_set_new(step, "first_failure", o);
	return 0;
}

static void fw_step_begin(void *ctx, const struct ct_probe_step *st)
{
	struct failwatch *fw = ctx;

	*fw = (struct failwatch){
	    .t0 = st->t0_s,
	    .interval = st->interval_s,
	    .t_ports = -1,
	    .t_ct = -1,
	    .t_nat = -1,
	};
}

static int fw_wanted(const struct ct_probe_config *cfg, struct ct_err *err)
{
	return 1;
}

static void *fw_open(const struct ct_probe_config *cfg, struct ct_err *err)
{
	struct failwatch *fw = calloc(1, sizeof(*fw));

	if (!fw) {
		ct_err_set(err, CT_EXIT_ENV, "failures: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	fw->t_ports = fw->t_ct = fw->t_nat = -1;
	return fw;
}

static void fw_close(void *ctx)
{
	free(ctx);
}

const struct ct_probe_kind ct_probe_failwatch = {
    .name = "failures",
    .wanted = fw_wanted,
    .open = fw_open,
    .step_begin = fw_step_begin,
    .sample = fw_sample,
    .step_end = fw_step_end,
    .close = fw_close,
};
