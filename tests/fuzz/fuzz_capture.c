/* fuzz_capture — libFuzzer target for the TCP/IP packet parser of
 * loadgen/probe/capture.h (ct_capture_parse): the input is one captured
 * Ethernet frame, cut at caplen, as libpcap hands it over. Built only with
 * libpcap (CT_HAVE_PCAP); without it the target does nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if CT_HAVE_PCAP
#include "loadgen/probe/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read past caplen. */
	uint8_t *f = malloc(size ? size : 1);
	struct ct_capture_pkt p;

	if (!f)
		return 0;
	memcpy(f, data, size);
	if (ct_capture_parse(f, size, &p) == 0 && p.key == 0)
		abort(); /* 0 marks an empty slot of the SYN table */
	free(f);
	return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
#endif
