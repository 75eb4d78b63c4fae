/* isn — initial sequence numbers as RFC 6528 asks (pure).
 *
 * ISN = M + F(4-tuple, secret): F is SipHash-2-4 of the 4-tuple under a
 * 128-bit secret drawn once per engine, M a clock that ticks every 64 ns
 * (as the kernel's secure_tcp_seq does). A tuple reused later starts
 * higher than before, so a Linux server that holds it in TIME_WAIT
 * accepts the new SYN (tcp_minisocks.c: a SYN whose ISN is after the old
 * connection's end reopens the tuple), and other tuples are unpredictable.
 *
 * SipHash is written here rather than taken from a crypto library: it is
 * 30 lines, runs once per SYN, and keeps the packet engine free of another
 * dependency. */
#pragma once

#include <stdint.h>

struct ct_isn_key {
	uint64_t k0, k1;
};

/* SipHash-2-4 of n bytes under key (the reference algorithm). */
uint64_t ct_siphash24(const struct ct_isn_key *key, const void *data, unsigned n);

/* The ISN for (saddr, sport) -> (daddr, dport), host order, at clock
 * time now_ns (any monotonic nanosecond clock). */
uint32_t ct_isn(const struct ct_isn_key *key, uint32_t saddr, uint16_t sport, uint32_t daddr,
		uint16_t dport, uint64_t now_ns);
