/* cause — the failure-cause table (see cause.h). */
#include "loadgen/engine/cause.h"

static const struct ct_fail_info causes[CT_FAIL_N] = {
    [CT_FAIL_EADDRNOTAVAIL] = {"eaddrnotavail", "no free port (EADDRNOTAVAIL)",
			       "found no free port (EADDRNOTAVAIL)"},
    [CT_FAIL_TIMEOUT] = {"timeout", "timed out", "timed out"},
    [CT_FAIL_REFUSED] = {"refused", "refused", "were refused"},
    [CT_FAIL_RESET] = {"reset", "reset", "were reset"},
    [CT_FAIL_PROTOCOL] = {"protocol", "bad reply", "got a wrong reply"},
    [CT_FAIL_EMFILE] = {"emfile", "out of file descriptors (EMFILE)",
			"hit the file descriptor limit (EMFILE)"},
    [CT_FAIL_OTHER] = {"other", "other", "failed otherwise"},
};

static const struct ct_fail_info unknown = {"?", "?", "?"};

const struct ct_fail_info *ct_fail_info(enum ct_fail f)
{
	return (unsigned)f < CT_FAIL_N ? &causes[f] : &unknown;
}

const char *ct_fail_name(enum ct_fail f)
{
	return ct_fail_info(f)->name;
}
