/*
 * clock.h — monotonic time helpers for the 20 ms tick.
 */
#ifndef FB_CLOCK_H
#define FB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t fb_now_ns(void);

/* Sleep until the absolute CLOCK_MONOTONIC time t_ns (clock_nanosleep
 * TIMER_ABSTIME; restarts on EINTR). */
void fb_sleep_until_ns(uint64_t t_ns);

/* CPU time consumed by the calling thread, in nanoseconds. */
uint64_t fb_thread_cpu_ns(void);

#endif
