/* steady — how the binding counts grow and level off (see steady.h). */
#include "loadgen/model/steady.h"

#include <math.h>

#include "loadgen/model/model.h"
#include "loadgen/model/model_int.h"

double ct_model_cover(double n, double k)
{
	double p = 1.0 / CT_MODEL_PORT_STRIDE, laps, whole;

	if (!(n > 0) || !(k > 0))
		return 0;
	if (isinf(k))
		return 1;
	laps = k * CT_MODEL_PORT_STRIDE / n;
	whole = floor(laps);
	/* each whole lap leaves 7/9 of what was untouched; the lap under way
	 * has touched its share of the rest so far */
	return 1 - pow(1 - p, whole) * (1 - p * (laps - whole));
}

static bool reuse_works(const struct ct_model_input *in)
{
	return (in->tw_reuse == 1 || (in->tw_reuse == 2 && in->loopback)) && in->timestamps;
}

/* The ports of one (client IP, destination) that connect() cycles through. */
static double pool(const struct ct_model_input *in, bool free_ports)
{
	double n = ct_model_range_ports(in);

	/* While ports are free the search never leaves its first parity. */
	if (free_ports || ct_model_parity_cliff(in))
		n = ceil(n / 2);
	return n;
}

/* Distinct tuples that `rate` connections over `w` seconds use, when ports
 * are free again at once (server or RST closes first, tcp_tw_reuse). */
static double distinct_free(const struct ct_model_input *in, double rate, double w)
{
	double procs = (double)in->clients * in->server_ips * in->server_ports;
	double n = pool(in, true);

	if (in->many_peers)
		return rate * w;
	if (in->explicit_bind) /* ctload's own pool hands ports out in turn */
		return fmin(ct_model_range_ports(in) * procs, rate * w);
	return procs * n * ct_model_cover(n, rate * w / procs);
}

/* Reuse off, the client closing first: the last 60 s of ports are busy in
 * TIME_WAIT; older connections lapped over the ports still free, in the
 * first parity while it has some (measured: 50/s over 10000-19999 with a
 * 90 s conntrack timeout, 3,000 busy, 4,156 entries; this gives 4,138).
 * Past the parity cliff only the first parity counts (model.c). */
static double distinct_busy(const struct ct_model_input *in, double rate, double w)
{
	double procs = (double)in->clients * in->server_ips * in->server_ports;
	double half = pool(in, true), full = pool(in, false);
	double busy = rate * fmin(w, CT_MODEL_TIMEWAIT_S), b, m;

	if (in->many_peers)
		return rate * w;
	if (busy >= full * procs)
		return full * procs;
	if (w <= CT_MODEL_TIMEWAIT_S)
		return busy;
	b = busy / procs;
	m = (b < half ? half : full) - b;
	return busy + procs * m * ct_model_cover(m, rate * (w - CT_MODEL_TIMEWAIT_S) / procs);
}

static double window_of(const struct ct_model_input *in, enum ct_model_count c)
{
	switch (c) {
	case CT_MCOUNT_CONNTRACK:
		return in->ct_timeout_s[ct_model_end_state(in)];
	case CT_MCOUNT_CLIENT_PORTS:
	case CT_MCOUNT_SERVER_TW:
		break;
	}
	return CT_MODEL_TIMEWAIT_S;
}

double ct_model_count_at(const struct ct_model_input *in, enum ct_model_count c, double rate,
			 double t)
{
	double w = fmin(t, window_of(in, c));
	bool client_tw = in->closer == CT_MCLOSE_CLIENT;

	if (!(rate > 0) || !(w > 0))
		return 0;
	switch (c) {
	case CT_MCOUNT_CLIENT_PORTS:
		if (!client_tw)
			return 0;
		break;
	case CT_MCOUNT_SERVER_TW:
		if (in->closer != CT_MCLOSE_SERVER)
			return 0;
		break;
	case CT_MCOUNT_CONNTRACK:
		break;
	}
	if (client_tw && !reuse_works(in) && !in->explicit_bind)
		return distinct_busy(in, rate, w);
	return distinct_free(in, rate, w);
}

double ct_model_rate_for(const struct ct_model_input *in, enum ct_model_count c, double cap)
{
	double lo = 0, hi = 1, w = window_of(in, c);

	if (!(cap > 0) || !(w > 0))
		return INFINITY;
	/* the plateau only grows with the rate: find where it crosses cap */
	while (ct_model_count_at(in, c, hi, INFINITY) <= cap) {
		hi *= 2;
		if (hi > 1e9)
			return INFINITY; /* the tuples run out first */
	}
	for (int i = 0; i < 60; i++) {
		double mid = (lo + hi) / 2;
		if (ct_model_count_at(in, c, mid, INFINITY) <= cap)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

double ct_model_time_to(const struct ct_model_input *in, enum ct_model_count c, double rate,
			double cap)
{
	double lo = 0, hi = window_of(in, c);

	if (!(rate > 0) || ct_model_count_at(in, c, rate, hi) < cap)
		return INFINITY;
	for (int i = 0; i < 60; i++) {
		double mid = (lo + hi) / 2;
		if (ct_model_count_at(in, c, rate, mid) < cap)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}
