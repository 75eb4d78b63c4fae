/* plan — the sweep points (see plan.h). */
#include "loadgen/scenario/plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

size_t ct_plan_points(const struct ct_scenario *sc)
{
	size_t n = 1;

	for (size_t i = 0; i < sc->n_sweep; i++)
		n *= sc->sweep[i].n ? sc->sweep[i].n : 1;
	return n;
}

const char *ct_plan_value(const struct ct_scenario *sc, size_t idx, size_t axis)
{
	/* Mixed radix, last axis fastest. */
	for (size_t i = sc->n_sweep; i-- > axis + 1;)
		idx /= sc->sweep[i].n;
	return sc->sweep[axis].values[idx % sc->sweep[axis].n];
}

struct ct_scenario *ct_plan_point(const struct ct_scenario *sc, size_t idx, char *label,
				  size_t label_len, struct ct_err *err)
{
	struct ct_scenario *pt;
	size_t used = 0;

	if (label_len)
		label[0] = '\0';
	if (idx >= ct_plan_points(sc)) {
		ct_err_set(err, CT_EXIT_USAGE, "sweep point %zu does not exist", idx);
		errno = EINVAL;
		return NULL;
	}
	pt = ct_scenario_dup(sc);
	if (!pt) {
		ct_err_set(err, CT_EXIT_USAGE, "out of memory copying the scenario");
		return NULL;
	}
	for (size_t a = 0; a < sc->n_sweep; a++) {
		const char *v = ct_plan_value(sc, idx, a);

		if (ct_scenario_set(pt, sc->sweep[a].key, v, err) < 0) {
			ct_scenario_free(pt);
			errno = EINVAL;
			return NULL;
		}
		if (used < label_len) {
			int w = snprintf(label + used, label_len - used, "%s%s=%s", a ? ", " : "",
					 sc->sweep[a].key, v);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	return pt;
}
