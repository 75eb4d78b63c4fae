/* failwatch — the first failures of a step (see failwatch.h). */
#include "loadgen/probe/failwatch.h"

#include <errno.h>
#include <stdlib.h>

#include "loadgen/base/json.h"
#include "loadgen/engine/cause.h"

/* The first is the cause's name (cause.h) with "_s": seconds. */
static const char *const keys[CT_FIRST_N] = {
    [CT_FIRST_PORTS] = "eaddrnotavail_s",
    [CT_FIRST_CT_DROP] = "ct_drop_s",
    [CT_FIRST_CT_INSERT] = "ct_insert_failed_s",
};

struct failwatch {
	double t0;	      /* the step's start, s since the run's origin */
	double interval;      /* sample interval, s */
	double t[CT_FIRST_N]; /* < 0: not seen */
};

const char *ct_failwatch_key(enum ct_first_failure f)
{
	return (unsigned)f < CT_FIRST_N ? keys[f] : NULL;
}

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
	if (fw->t[CT_FIRST_PORTS] < 0 && eaddr > 0)
		fw->t[CT_FIRST_PORTS] = t;
	if (fw->t[CT_FIRST_CT_DROP] < 0 && ns_sum(sample, "ct.drop") > 0)
		fw->t[CT_FIRST_CT_DROP] = t;
	if (fw->t[CT_FIRST_CT_INSERT] < 0 && ns_sum(sample, "ct.insert_failed") > 0)
		fw->t[CT_FIRST_CT_INSERT] = t;
	return 0;
}

static int fw_step_end(void *ctx, json_t *step)
{
	struct failwatch *fw = ctx;
	json_t *o = json_object();
	/* Counted from the load's start: an engine that took a while to start
	 * (the DPDK EAL) would otherwise make the table last that much longer. */
	double delay = ct_json_d(step, "start_delay_s");

	for (int f = 0; f < CT_FIRST_N; f++)
		if (fw->t[f] >= 0)
			json_object_set_new(o, keys[f],
					    json_real(fw->t[f] > delay ? fw->t[f] - delay : 0));
	json_object_set_new(step, "first_failure", o);
	return 0;
}

static void fw_step_begin(void *ctx, const struct ct_probe_step *st)
{
	struct failwatch *fw = ctx;

	fw->t0 = st->t0_s;
	fw->interval = st->interval_s;
	for (int f = 0; f < CT_FIRST_N; f++)
		fw->t[f] = -1;
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
	for (int f = 0; f < CT_FIRST_N; f++)
		fw->t[f] = -1;
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
