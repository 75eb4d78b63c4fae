/* explain — the binding limit's arithmetic in sentences (see explain.h). */
#include "loadgen/model/explain.h"

#include <math.h>
#include <stdio.h>

#include "loadgen/model/model_int.h"

/* ct_chains: the table stops short of its max (model.c ct_chains). */
static void chains_sentence(const struct ct_model_input *in, const struct ct_limit *l, char *tmp,
			    size_t len)
{
	snprintf(tmp, len,
		 "Every finished connection keeps a conntrack entry %g s (%s), hashed into %llu "
		 "buckets; nf_conntrack_max allows %.0f a bucket, but the kernel refuses an insert "
		 "into a chain past its cap (50 + a random part under 30), and the first chains "
		 "pass it at %.0f entries, so inserts start to fail above %.1f connections per "
		 "second: SYNs dropped, chaintoolong and insert_failed grow, no \"table full\" "
		 "line.",
		 l->timer_s, ct_model_ct_state_name(ct_model_end_state(in)),
		 (unsigned long long)in->ct_buckets, (double)in->ct_max / in->ct_buckets,
		 l->capacity, l->predicted_cps);
}

/* The binding limit's arithmetic, one sentence. */
static void binding_sentence(const struct ct_model_input *in, const struct ct_limit *l,
			     double r_tuples, char *tmp, size_t len)
{
	switch (l->id) {
	case CT_LIMIT_CLIENT_PORTS:
		if (in->packet_engine) {
			snprintf(tmp, len,
				 "The packet engine has %u ports on each of %u client IP(s) and "
				 "rests each tuple [load] reuse_after (%g s) after its connection, so "
				 "it opens at most %.0f / %g = %.1f connections per second; past it "
				 "connections fail as eaddrnotavail.",
				 ct_model_range_ports(in), in->clients, l->timer_s, l->capacity,
				 l->timer_s, l->predicted_cps);
			break;
		}
		if (ct_model_parity_cliff(in)) {
			snprintf(tmp, len,
				 "connect() takes ports from one parity of the range first (%.0f of "
				 "the %u ports of each client IP and destination); after the client "
				 "closes a port stays 60 s in TIME_WAIT, and once that half is full "
				 "every connect() scans it (~%.1f ms), which at %.0f/s collapses the "
				 "rate with no error: the clients hold at most %.0f / %g = %.1f "
				 "connections per second.",
				 l->capacity / in->clients, ct_model_range_ports(in),
				 l->capacity / in->clients * CT_MODEL_SCAN_NS / 1e6, in->rate,
				 l->capacity, l->timer_s, l->predicted_cps);
			break;
		}
		snprintf(tmp, len,
			 "Each client IP has %u ports for each of the %.0f destination(s); after "
			 "the client closes, a port stays %s, so the clients can open at most "
			 "%.0f / %g = %.1f connections per second before connect() fails with "
			 "EADDRNOTAVAIL.",
			 ct_model_range_ports(in),
			 l->capacity / ((double)ct_model_range_ports(in) * in->clients),
			 l->timer_s < CT_MODEL_TIMEWAIT_S
			     ? "unusable only until tcp_tw_reuse_delay has passed"
			     : "60 s in TIME_WAIT",
			 l->capacity, l->timer_s, l->predicted_cps);
		break;
	case CT_LIMIT_CONNTRACK:
		if (l->predicted_cps > l->capacity / l->timer_s * 1.005) {
			snprintf(tmp, len,
				 "Every finished connection keeps a conntrack entry %g s (%s), but "
				 "connect() hands the same %.0f tuples out again and a SYN that "
				 "matches an entry reopens it: the entries level off below rate x "
				 "%g s, and the table of %.0f fills only above %.1f connections per "
				 "second (%.0f / %g = %.1f if every tuple were new), then the kernel "
				 "drops SYNs (\"table full\").",
				 l->timer_s, ct_model_ct_state_name(ct_model_end_state(in)), r_tuples,
				 l->timer_s, l->capacity, l->predicted_cps, l->capacity, l->timer_s,
				 l->capacity / l->timer_s);
			break;
		}
		snprintf(tmp, len,
			 "Every finished connection keeps a conntrack entry %g s (%s); the table "
			 "holds %.0f entries, so it fills above %.0f / %g = %.1f connections per "
			 "second, then the kernel drops SYNs (\"table full\").",
			 l->timer_s, ct_model_ct_state_name(ct_model_end_state(in)), l->capacity,
			 l->capacity, l->timer_s, l->predicted_cps);
		break;
	case CT_LIMIT_NAT_PORTS:
		snprintf(tmp, len,
			 "NAT maps every new client tuple to one of %.0f source ports per (NAT IP, "
			 "destination), held as long as the conntrack entry (%g s); the clients "
			 "bring %.0f tuples, more than the ports, and use them again as connect() "
			 "laps its range, so NAT runs out above %.1f connections per second "
			 "(%.0f / %g = %.1f if every tuple were new). It drops the SYNs almost "
			 "silently: connections time out.",
			 l->capacity, l->timer_s, r_tuples, l->predicted_cps, l->capacity,
			 l->timer_s, l->capacity / l->timer_s);
		break;
	case CT_LIMIT_CT_CHAINS:
		chains_sentence(in, l, tmp, len);
		break;
	default:
		snprintf(tmp, len, "%s: %s = %.1f connections per second.", l->title, l->formula,
			 l->predicted_cps);
		break;
	}
}

size_t ct_model_explain(const struct ct_model_input *in, const struct ct_model_result *r, char *buf,
			size_t len)
{
	struct ct_model_text b = {buf, len, 0};
	const struct ct_limit *l = ct_model_binding(r);
	char tmp[640];

	if (!buf || len == 0)
		return 0;
	buf[0] = '\0';
	if (!l) {
		ct_model_text_add(&b, "No modeled limit stops this scenario: none of the modeled "
				      "limits applies as a hard limit, so failures, if any, come "
				      "from elsewhere (CPU, the server).\n");
	} else {
		binding_sentence(in, l, r->tuples, tmp, sizeof(tmp));
		ct_model_text_add(&b, "Binding limit: %s at %.1f/s. %s\n", l->title,
				  l->predicted_cps, tmp);
	}
	if (r->cliff_cps > 0 && !ct_model_parity_cliff(in))
		ct_model_text_add(&b,
				  "Before that wall, connect() slows as the range fills with "
				  "TIME_WAIT: expect latency and client CPU to climb from about "
				  "%.0f/s (estimate: %.0f-%.0f%% of the wall).\n",
				  r->cliff_cps, CT_MODEL_CLIFF_LOW * 100,
				  CT_MODEL_CLIFF_HIGH * 100);
	if (in->rate > 0 && l) {
		if (in->rate > l->predicted_cps && fabs(l->fill_s - l->capacity / in->rate) < 0.05)
			ct_model_text_add(&b,
					  "At the scenario's rate of %.0f/s (%.0f%% of the limit) "
					  "it fills in %.1f s: %.0f / %.0f/s.\n",
					  in->rate, l->load_pct, l->fill_s, l->capacity, in->rate);
		else if (in->rate > l->predicted_cps)
			ct_model_text_add(&b,
					  "At the scenario's rate of %.0f/s (%.0f%% of the limit) "
					  "it fills in %.1f s (later than %.0f / %.0f/s: some "
					  "connections reuse a tuple).\n",
					  in->rate, l->load_pct, l->fill_s, l->capacity, in->rate);
		else
			ct_model_text_add(&b,
					  "At the scenario's rate of %.0f/s it runs at %.0f%% of "
					  "the limit and should not fail.\n",
					  in->rate, l->load_pct);
	}
	return b.used;
}
