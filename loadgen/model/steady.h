/* steady — how the counts that bind grow and where they level off.
 *
 * A limit is a capacity held for a timer, but the count that fills it is not
 * always rate x timer: connect() hands the same 4-tuples out again, and a
 * SYN that matches a conntrack entry (or a TIME_WAIT socket) reopens it
 * instead of adding one. How often a tuple comes back depends on how the
 * kernel picks ports (__inet_hash_connect): for each (source IP,
 * destination) it keeps a cursor in one parity of the range, and after each
 * connect() moves it on by the slots it scanned or a random 1..8 slots,
 * whichever is more. While ports are free that is 4.5 slots on average, so
 * one lap of the cursor touches 2/9 of the half-range, and each lap lands on
 * other slots. After L laps a share 1 - (7/9)^L of the ports was used
 * (ct_model_cover) - between a perfect cycle (all of them after one lap of
 * calls) and independent random picks (the coupon collector). Measured on a
 * lab (10000-19999, tcp_tw_reuse = 1, 100/s): 3,703 entries after 60 s,
 * against 3,703 predicted; a cycle would give 5,000, random picks 3,494.
 *
 * Pure arithmetic, like the rest of the model. */
#pragma once

struct ct_model_input;

/* The counts the model can predict. */
enum ct_model_count {
	CT_MCOUNT_CLIENT_PORTS, /* client sockets holding a port (TIME_WAIT) */
	CT_MCOUNT_CONNTRACK,	/* conntrack entries (also the NAT's mappings) */
	CT_MCOUNT_SERVER_TW,	/* server TIME_WAIT sockets */
};

/* Mean cursor step of connect()'s port search over free ports, in slots of
 * one parity: max(0, random 0..7) + 1. */
#define CT_MODEL_PORT_STRIDE 4.5

/* The share of a pool of n ports that k connect() calls to one destination
 * touch, from 0 to 1 (k / n while the cursor has not lapped). */
double ct_model_cover(double n, double k);

/* Count c expected t seconds into a step offered `rate` from a fresh
 * namespace (t = INFINITY: its plateau). Not capped by any limit. */
double ct_model_count_at(const struct ct_model_input *in, enum ct_model_count c, double rate,
			 double t);

/* The highest rate whose plateau of count c stays at or under cap
 * (INFINITY when no rate fills it: the tuples are fewer than cap). */
double ct_model_rate_for(const struct ct_model_input *in, enum ct_model_count c, double cap);

/* When count c reaches cap at `rate`, in seconds; INFINITY: never. */
double ct_model_time_to(const struct ct_model_input *in, enum ct_model_count c, double rate,
			double cap);
