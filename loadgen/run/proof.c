/* proof — a step's sustain check wired to the run (see proof.h). */
#include "loadgen/run/proof.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/host/hostinfo.h"

struct ct_proof {
	enum ct_sustain_mode mode;
	struct ct_sustain_spec spec;
	struct ct_sustain *tr;
	struct ct_sustain_result res;
	double next_eval_s;
	double at_limit_s; /* prove: when a count first reached its limit; < 0 not yet */
	/* the model's view, for the counts it predicts (steady.h) */
	struct ct_model_input in;
	struct ct_model_result mr;
	bool have_model;
};

int ct_proof_model(const struct ct_scenario *pt, struct ct_model_input *in,
		   struct ct_model_result *res)
{
	struct ct_hostinfo *hi = calloc(1, sizeof(*hi));
	int rc = -ENOMEM;

	if (hi && ct_hostinfo_read(hi, NULL) == 0 &&
	    ct_model_input_from_scenario(in, pt, hi, NULL, 0) == 0)
		rc = ct_model_compute(in, res);
	free(hi);
	return rc;
}

static struct ct_sustain_count_spec *add_count(struct ct_sustain_spec *sp, enum ct_role role,
					       const char *key, const char *limit_name)
{
	if (sp->n >= CT_SUSTAIN_MAX_COUNTS)
		return NULL;
	struct ct_sustain_count_spec *c = &sp->c[sp->n++];
	*c = (struct ct_sustain_count_spec){.role = role, .key = key};
	snprintf(c->name, sizeof(c->name), "%s.%s", ct_role_name(role), key);
	snprintf(c->limit_name, sizeof(c->limit_name), "%s", limit_name);
	return c;
}

/* In a lab: the counts its samplers show. */
static void add_lab_counts(struct ct_sustain_spec *sp, const struct ct_model_input *in,
			   const struct ct_model_result *mr)
{
	const struct ct_limit *ports = &mr->limits[CT_LIMIT_CLIENT_PORTS];
	const struct ct_limit *nat = &mr->limits[CT_LIMIT_NAT_PORTS];
	const struct ct_limit *chains = &mr->limits[CT_LIMIT_CT_CHAINS];
	struct ct_sustain_count_spec *c;

	if (ports->applies && ports->timer_s >= CT_MODEL_TIMEWAIT_S &&
	    (c = add_count(sp, CT_ROLE_CLIENT, "ports_in_use", "client_ports")))
		c->limit = ports->capacity; /* half the range past the parity cliff */
	enum ct_role where = in->ct_where == CT_MCT_ROUTER ? CT_ROLE_ROUTER
			     : in->ct_where == CT_MCT_CLIENT ? CT_ROLE_CLIENT
							     : CT_ROLE_SERVER;
	/* Watched wherever conntrack tracks, also when the model says the
	 * tuples cannot fill the table: that is a claim to prove, by the
	 * count's plateau, over the entries' timer. */
	if (in->ct_where != CT_MCT_NONE && (c = add_count(sp, where, "ct.count", "conntrack"))) {
		c->limit_key = "ct.max";
		double timer = in->ct_timeout_s[ct_model_end_state(in)];
		if (timer > sp->horizon_s)
			sp->horizon_s = timer;
	}
	if (nat->applies && (c = add_count(sp, CT_ROLE_ROUTER, "ct.count", "nat_ports")))
		c->limit = nat->capacity;
	/* Few buckets: the chains refuse inserts before the table's max. */
	if (chains->applies && in->ct_where != CT_MCT_NONE &&
	    (c = add_count(sp, where, "ct.count", "ct_chains")))
		c->limit = chains->capacity + (double)in->ct_preload; /* the count has both */
}

static void build_spec(struct ct_proof *p, const struct ct_scenario *pt,
		       const struct ct_model_input *in, const struct ct_model_result *mr, bool lab)
{
	struct ct_sustain_spec *sp = &p->spec;

	sp->settle_s = CT_SUSTAIN_SETTLE_S;
	sp->steady = pt->load.profile == CT_PROFILE_CONSTANT || pt->load.profile == CT_PROFILE_POISSON;
	sp->rate = in->rate;
	for (int i = 0; i < CT_LIMIT_N; i++)
		if (mr->limits[i].applies && mr->limits[i].hard && mr->limits[i].timer_s > sp->horizon_s)
			sp->horizon_s = mr->limits[i].timer_s;
	if (lab)
		add_lab_counts(sp, in, mr);
	/* The hard limits no count watches: proven by rate x their timer. */
	for (int i = 0; i < CT_LIMIT_N; i++) {
		const struct ct_limit *l = &mr->limits[i];
		bool watched = false;
		for (size_t k = 0; k < sp->n; k++)
			watched |= !strcmp(sp->c[k].limit_name, l->name);
		if (!l->applies || !l->hard || l->timer_s <= 0 || watched ||
		    sp->n_u >= CT_SUSTAIN_MAX_COUNTS)
			continue;
		snprintf(sp->u[sp->n_u].limit_name, sizeof(sp->u[0].limit_name), "%s", l->name);
		sp->u[sp->n_u].timer_s = l->timer_s;
		sp->u[sp->n_u++].capacity = l->capacity;
	}
}


struct ct_proof *ct_proof_new(const struct ct_scenario *pt, bool lab)
{
	struct ct_proof *p = calloc(1, sizeof(*p));
	struct ct_model_input *in = calloc(1, sizeof(*in));
	struct ct_model_result *mr = calloc(1, sizeof(*mr));

	if (!p || !in || !mr)
		goto fail;
	p->mode = pt->load.sustain;
	p->at_limit_s = -1;
	if (ct_proof_model(pt, in, mr) == 0) {
		build_spec(p, pt, in, mr, lab);
		p->in = *in;
		p->mr = *mr;
		p->have_model = true;
	}
	if (!(p->tr = ct_sustain_new(&p->spec)))
		goto fail;
	free(in);
	free(mr);
	return p;
fail:
	free(in);
	free(mr);
	free(p);
	errno = ENOMEM;
	return NULL;
}

void ct_proof_free(struct ct_proof *p)
{
	if (!p)
		return;
	ct_sustain_free(p->tr);
	free(p);
}

const struct ct_sustain_spec *ct_proof_spec(const struct ct_proof *p)
{
	return &p->spec;
}

uint64_t ct_proof_duration_ns(const struct ct_proof *p, uint64_t duration_ns)
{
	if (p->mode != CT_SUSTAIN_PROVE)
		return duration_ns;
	uint64_t bound = (uint64_t)((p->spec.horizon_s + CT_PROOF_MARGIN_S) * 1e9);
	return bound > duration_ns ? bound : duration_ns;
}

/* prove: end the step once proven (after at least a settle window), or
 * 5 s after a count reached its limit (it has failed; the rest would only
 * add failures). Evaluated once a second. */
static int on_sample(void *ctx, const json_t *sample, double t_step)
{
	struct ct_proof *p = ctx;

	if (ct_sustain_add(p->tr, sample, t_step) < 0 || p->mode != CT_SUSTAIN_PROVE ||
	    t_step < p->next_eval_s)
		return 0;
	p->next_eval_s = t_step + 1;
	ct_sustain_eval(p->tr, &p->res);
	if (p->res.sustained && t_step >= p->spec.settle_s)
		return 1;
	for (size_t k = 0; k < p->res.n; k++)
		if (p->res.c[k].state == CT_SUST_AT_LIMIT && p->at_limit_s < 0)
			p->at_limit_s = t_step;
	return p->at_limit_s >= 0 && t_step >= p->at_limit_s + 5 ? 1 : 0;
}

struct ct_trial_watch ct_proof_watch(struct ct_proof *p)
{
	return (struct ct_trial_watch){.fn = on_sample, .ctx = p};
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static void model_count(json_t *o, const struct ct_proof *p, const char *name,
			enum ct_model_count c, const struct ct_limit *l)
{
	double rate = p->spec.rate, t = p->res.elapsed_s;
	bool lim = l && l->applies;

	json_object_set_new(
	    o, name,
	    json_pack("{s:o, s:o, s:o, s:o, s:o}", "plateau",
		      num_or_null(ct_model_count_at(&p->in, c, rate, INFINITY)), "at_end",
		      num_or_null(ct_model_count_at(&p->in, c, rate, t)), "limit",
		      lim ? json_string(l->name) : json_null(), "capacity",
		      num_or_null(lim ? l->capacity : NAN), "fail_at_s",
		      num_or_null(lim ? ct_model_time_to(&p->in, c, rate, l->capacity) : NAN)));
}

/* What the model expects of the counts a lab samples at this rate: each
 * one's plateau, its value when the step ended, and when it reaches the
 * limit it fills (scripts/validate-model compares them with the samples). */
static void add_model_counts(const struct ct_proof *p, json_t *step)
{
	const struct ct_limit *L = p->mr.limits;
	json_t *o = json_object();
	char name[48];

	if (!p->have_model || !o)
		return;
	if (p->in.closer == CT_MCLOSE_CLIENT)
		model_count(o, p, "client.tw", CT_MCOUNT_CLIENT_PORTS,
			    L[CT_LIMIT_CLIENT_PORTS].timer_s >= CT_MODEL_TIMEWAIT_S
				? &L[CT_LIMIT_CLIENT_PORTS]
				: NULL);
	if (p->in.closer == CT_MCLOSE_SERVER)
		model_count(o, p, "server.tw", CT_MCOUNT_SERVER_TW, NULL);
	if (p->in.ct_where != CT_MCT_NONE) {
		enum ct_role where = p->in.ct_where == CT_MCT_ROUTER   ? CT_ROLE_ROUTER
				     : p->in.ct_where == CT_MCT_CLIENT ? CT_ROLE_CLIENT
								       : CT_ROLE_SERVER;
		const struct ct_limit *l = &L[CT_LIMIT_CONNTRACK];
		if (L[CT_LIMIT_NAT_PORTS].applies &&
		    (!l->applies || L[CT_LIMIT_NAT_PORTS].capacity < l->capacity))
			l = &L[CT_LIMIT_NAT_PORTS];
		if (L[CT_LIMIT_CT_CHAINS].applies &&
		    (!l->applies || L[CT_LIMIT_CT_CHAINS].capacity < l->capacity))
			l = &L[CT_LIMIT_CT_CHAINS];
		snprintf(name, sizeof(name), "%s.ct.count", ct_role_name(where));
		model_count(o, p, name, CT_MCOUNT_CONNTRACK, l);
	}
	json_object_set_new(step, "model_counts", o);
}

bool ct_proof_finish(struct ct_proof *p, json_t *step)
{
	ct_sustain_eval(p->tr, &p->res);
	ct_sustain_to_step(&p->spec, &p->res, p->mode, step);
	add_model_counts(p, step);
	return p->mode == CT_SUSTAIN_OFF || p->res.sustained;
}

void ct_proof_why(const struct ct_proof *p, char *buf, size_t len)
{
	ct_sustain_why(&p->spec, &p->res, buf, len);
}

const char *ct_proof_limit(const struct ct_proof *p)
{
	if (p->res.projection >= 0)
		return p->spec.c[p->res.projection].limit_name;
	return p->res.unmeasured >= 0 ? p->spec.u[p->res.unmeasured].limit_name : "horizon";
}
