/* infer — from a measurement back to the model (see infer.h). */
#include "loadgen/model/infer.h"

#include <errno.h>
#include <math.h>

double ct_model_error_pct(double measured_cps, double predicted_cps)
{
	if (!(predicted_cps > 0))
		return NAN;
	return (measured_cps - predicted_cps) / predicted_cps * 100.0;
}

int ct_model_infer(double rate, double t_fail_s, double timer_s, double *capacity,
		   double *limit_cps)
{
	if (!(rate > 0) || !(t_fail_s > 0) || !(timer_s > 0) || !isfinite(rate) ||
	    !isfinite(t_fail_s))
		return -EINVAL;
	if (t_fail_s >= timer_s)
		return -EDOM;
	if (capacity)
		*capacity = rate * t_fail_s;
	if (limit_cps)
		*limit_cps = rate * t_fail_s / timer_s;
	return 0;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *ct_model_threshold_json(double measured_cps, const struct ct_model_result *r)
{
	const struct ct_limit *b = ct_model_binding(r);

	return json_pack("{s:o,s:o,s:o,s:o}", "measured_cps",
			 measured_cps > 0 ? jnum(measured_cps) : json_null(), "predicted_cps",
			 b ? jnum(b->predicted_cps) : json_null(), "binding_limit",
			 b ? json_string(b->name) : json_null(), "error_pct",
			 b && measured_cps > 0
			     ? jnum(ct_model_error_pct(measured_cps, b->predicted_cps))
			     : json_null());
}
