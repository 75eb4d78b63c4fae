/* fuzz_allow — libFuzzer target for loadgen/run/allow.h: one allowlist
 * entry from the input, and the promise that an accepted entry holds its
 * own network address on its own first port (what a user wrote allows at
 * least that) and never another family. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/run/allow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), why[400];
	struct ct_allow a = {0};

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ct_allow_add(&a, s, "fuzz", why, sizeof(why)) == 0) {
		for (size_t i = 0; i < a.n; i++) {
			const struct ct_allow_entry *e = &a.v[i];
			struct sockaddr_storage ss = {.ss_family = (sa_family_t)e->family};
			if (e->family == AF_INET)
				memcpy(&((struct sockaddr_in *)&ss)->sin_addr, e->addr, 4);
			else
				memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, e->addr, 16);
			if (e->plen <= 0 || e->lo > e->hi || !ct_allow_match(&a, &ss, e->lo, e->lo))
				abort();
			ss.ss_family = e->family == AF_INET ? AF_INET6 : AF_INET;
			if (ct_allow_match(&a, &ss, e->lo, e->lo))
				abort();
		}
	}
	ct_allow_free(&a);
	free(s);
	return 0;
}
