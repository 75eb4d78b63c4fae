/* capture_none — the capture probe of a ctload built without libpcap:
 * [report] capture = on is refused, saying how to get a capture. No pcap
 * header here (see capture.h). */
#include "loadgen/probe/capture.h"

#include <errno.h>

static int none_wanted(const struct ct_probe_config *cfg, struct ct_err *err)
{
	if (!cfg->capture)
		return 0;
	ct_err_set(err, CT_EXIT_USAGE,
		   "[report] capture = on: this ctload was built without libpcap (install "
		   "libpcap-dev and rebuild)");
	return -ENOTSUP;
}

static void *none_open(const struct ct_probe_config *cfg, struct ct_err *err)
{
	errno = -none_wanted(cfg, err);
	return NULL;
}

static void none_close(void *ctx)
{
}

const struct ct_probe_kind ct_probe_capture = {
    .name = "capture",
    .wanted = none_wanted,
    .open = none_open,
    .close = none_close,
};
