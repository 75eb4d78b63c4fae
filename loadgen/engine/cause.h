/* cause — why a connection failed: the one table of failure causes.
 *
 * Every engine counts failures by these causes; summary.json and
 * timeseries.jsonl use the names as keys (failures.<name>), and the report
 * and the live view take their titles and sentences from here. */
#pragma once

enum ct_fail {
	CT_FAIL_EADDRNOTAVAIL = 0, /* no source port left (connect or bind) */
	CT_FAIL_TIMEOUT,	   /* connect or reply did not complete in time */
	CT_FAIL_REFUSED,	   /* RST to the SYN */
	CT_FAIL_RESET,		   /* reset after the connection was up */
	CT_FAIL_PROTOCOL,	   /* reply did not match [load] expect */
	CT_FAIL_EMFILE,		   /* out of file descriptors */
	CT_FAIL_OTHER,
	CT_FAIL_N
};

struct ct_fail_info {
	const char *name;  /* JSON key: "eaddrnotavail" */
	const char *title; /* a legend or table label: "no free port (EADDRNOTAVAIL)" */
	const char *words; /* after a count, in a sentence: "12 timed out" */
};

/* The cause's entry; an out-of-range f gets {"?", "?", "?"}. */
const struct ct_fail_info *ct_fail_info(enum ct_fail f);

/* ct_fail_info(f)->name. */
const char *ct_fail_name(enum ct_fail f);
