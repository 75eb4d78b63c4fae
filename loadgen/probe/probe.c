/* probe — the table of the probes a run opens, and the set it opened (see
 * probe.h). */
#include "loadgen/probe/probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/probe/capture.h"
#include "loadgen/probe/failwatch.h"
#include "loadgen/probe/liveview.h"
#include "loadgen/probe/metrics.h"

/* In sample order: a probe that adds to the sample comes before those that
 * read all of it (metrics renders the capture's "pkt"; the live view draws
 * everything), and the step hooks add their keys to summary.json's steps in
 * this order. */
static const struct ct_probe_kind *const kinds[] = {
    &ct_probe_failwatch,
    &ct_probe_capture,
    &ct_probe_metrics,
    &ct_probe_liveview,
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct ct_probes {
	void *ctx[N_KINDS]; /* NULL: not open */
};

int ct_probes_check(const struct ct_probe_config *cfg, struct ct_err *err)
{
	for (size_t i = 0; i < N_KINDS; i++) {
		int rc = kinds[i]->wanted(cfg, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct ct_probes *ct_probes_open(const struct ct_probe_config *cfg, struct ct_err *err)
{
	struct ct_probes *p = calloc(1, sizeof(*p));
	int rc = -ENOMEM;

	if (!p) {
		ct_err_set(err, CT_EXIT_ENV, "probes: out of memory");
		goto fail;
	}
	for (size_t i = N_KINDS; i-- > 0;) {
		rc = kinds[i]->wanted(cfg, err);
		if (rc < 0)
			goto fail;
		if (rc == 0)
			continue;
		p->ctx[i] = kinds[i]->open(cfg, err);
		if (!p->ctx[i]) {
			rc = errno ? -errno : -ENOMEM;
			goto fail;
		}
	}
	return p;
fail:
	ct_probes_close(p);
	errno = -rc;
	return NULL;
}

bool ct_probes_has(const struct ct_probes *p, const char *name)
{
	for (size_t i = 0; p && i < N_KINDS; i++)
		if (p->ctx[i] && !strcmp(kinds[i]->name, name))
			return true;
	return false;
}

void ct_probes_step_begin(struct ct_probes *p, const struct ct_probe_step *st)
{
	for (size_t i = 0; p && i < N_KINDS; i++)
		if (p->ctx[i] && kinds[i]->step_begin)
			kinds[i]->step_begin(p->ctx[i], st);
}

size_t ct_probes_sources(const struct ct_probes *p, struct ct_sample_source *v, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; p && i < N_KINDS && n < max; i++)
		if (p->ctx[i] && kinds[i]->sample)
			v[n++] =
			    (struct ct_sample_source){kinds[i]->name, kinds[i]->sample, p->ctx[i]};
	return n;
}

size_t ct_probes_hooks(const struct ct_probes *p, struct ct_sample_source *v, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; p && i < N_KINDS && n < max; i++)
		if (p->ctx[i] && kinds[i]->step_end)
			v[n++] = (struct ct_sample_source){kinds[i]->name, kinds[i]->step_end,
							   p->ctx[i]};
	return n;
}

void ct_probes_close(struct ct_probes *p)
{
	if (!p)
		return;
	for (size_t i = N_KINDS; i-- > 0;)
		if (p->ctx[i])
			kinds[i]->close(p->ctx[i]);
	free(p);
}
