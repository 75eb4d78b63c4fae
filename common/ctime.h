/* ctime — clocks. Monotonic nanoseconds for scheduling and latency,
 * wall-clock seconds for timestamps that people read. */
#pragma once

#include <stdint.h>

#define CT_NS_PER_SEC  1000000000ULL
#define CT_NS_PER_MSEC 1000000ULL
#define CT_NS_PER_USEC 1000ULL

/* CLOCK_MONOTONIC in ns. */
uint64_t ct_now_ns(void);
/* CLOCK_REALTIME in seconds, with fraction. */
double ct_wall_s(void);
/* Sleep until the monotonic time `deadline_ns` (returns early on a signal). */
void ct_sleep_until_ns(uint64_t deadline_ns);
