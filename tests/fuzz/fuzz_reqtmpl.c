/* fuzz_reqtmpl — libFuzzer target for loadgen/engine/reqtmpl.h: the input as a
 * [load] request as written in a scenario (escapes decoded by
 * ct_reqtmpl_unescape), compiled and rendered for extreme seq, thread and
 * seed values. Promises checked: a rendering never passes
 * ct_reqtmpl_max_len(), fits a buffer of exactly that size, is the same
 * when rendered twice, and a one-byte-short buffer gives -ENOBUFS, never
 * an overrun (the buffer is heap, exact size, so ASan sees one). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/engine/reqtmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t seqs[] = {0, 1, 999999, UINT64_MAX};
	static const unsigned threads[] = {0, 7, UINT32_MAX};
	char *in = malloc(size + 1), *dec = malloc(size + 1);
	struct ct_err err;
	struct ct_reqtmpl *t = NULL;
	long n;

	if (!in || !dec)
		goto out;
	memcpy(in, data, size);
	in[size] = '\0';
	n = ct_reqtmpl_unescape(in, dec);
	if (n < 0)
		goto out;
	if ((size_t)n > strlen(in))
		abort(); /* decoding never grows the text */
	t = ct_reqtmpl_new(dec, (size_t)n, &err);
	if (!t)
		goto out;
	size_t max = ct_reqtmpl_max_len(t);
	if (max > 16 * 1024 * 1024)
		goto out;
	char *buf = malloc(max ? max : 1), *again = malloc(max ? max : 1);
	for (size_t i = 0; buf && again && i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		for (size_t j = 0; j < sizeof(threads) / sizeof(threads[0]); j++) {
			int len = ct_reqtmpl_render(t, seqs[i], threads[j], seqs[i] ^ 0x5eed, buf, max);
			if (len < 0 || (size_t)len > max)
				abort(); /* max_len is an upper bound */
			if (ct_reqtmpl_render(t, seqs[i], threads[j], seqs[i] ^ 0x5eed, again, max) != len ||
			    memcmp(buf, again, (size_t)len) != 0)
				abort(); /* rendering is pure */
			if (len > 0 &&
			    ct_reqtmpl_render(t, seqs[i], threads[j], seqs[i] ^ 0x5eed, buf, (size_t)len - 1) !=
				-ENOBUFS)
				abort();
		}
	}
	free(buf);
	free(again);
out:
	ct_reqtmpl_free(t);
	free(in);
	free(dec);
	return 0;
}
