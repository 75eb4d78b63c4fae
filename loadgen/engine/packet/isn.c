/* isn — SipHash-2-4 and the RFC 6528 ISN (see isn.h). */
#include "loadgen/engine/packet/isn.h"

#include <string.h>

static uint64_t rotl(uint64_t x, unsigned b)
{
	return x << b | x >> (64 - b);
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

/* Inlined: as a call it was half of SipHash's time (a SYN's ISN, and
 * three cookies a connection in the responder). */
static inline __attribute__((always_inline)) void round_(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13) ^ s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17) ^ s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? v : __builtin_bswap64(v);
}

uint64_t ct_siphash24(const struct ct_isn_key *key, const void *data, unsigned n)
{
	const uint8_t *p = data;
	struct sip s = {key->k0 ^ 0x736f6d6570736575ull, key->k1 ^ 0x646f72616e646f6dull,
			key->k0 ^ 0x6c7967656e657261ull, key->k1 ^ 0x7465646279746573ull};
	unsigned i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t m = le64(p + i);
		s.v3 ^= m;
		round_(&s);
		round_(&s);
		s.v0 ^= m;
	}
	uint8_t last[8] = {0};
	memcpy(last, p + i, n - i);
	uint64_t b = (uint64_t)n << 56 | le64(last);
	s.v3 ^= b;
	round_(&s);
	round_(&s);
	s.v0 ^= b;
	s.v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		round_(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint32_t ct_isn(const struct ct_isn_key *key, uint32_t saddr, uint16_t sport, uint32_t daddr,
		uint16_t dport, uint64_t now_ns)
{
	uint8_t t[12];
	memcpy(t, &saddr, 4);
	memcpy(t + 4, &daddr, 4);
	memcpy(t + 8, &sport, 2);
	memcpy(t + 10, &dport, 2);
	return (uint32_t)ct_siphash24(key, t, sizeof(t)) + (uint32_t)(now_ns >> 6);
}
