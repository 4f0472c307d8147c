/*
 * hist.h — fixed-bucket latency/duration histogram (log-linear, 1 µs .. ~1 s),
 * no allocation, single writer. Readers on other threads may see a count that is
 * one sample behind; good enough for metrics.
 */
#ifndef FB_HIST_H
#define FB_HIST_H

#include <stdint.h>

#define FB_HIST_BUCKETS 128

typedef struct {
  uint64_t count;
  uint64_t sum_ns;
  uint64_t max_ns;
  uint64_t buckets[FB_HIST_BUCKETS];
} fb_hist;

/* Record one value in nanoseconds. */
void fb_hist_add(fb_hist *h, uint64_t ns);

/* Value at quantile q (0..1), in nanoseconds (bucket upper bound); 0 if empty. */
uint64_t fb_hist_quantile(const fb_hist *h, double q);

/* Upper bound of bucket b in nanoseconds (UINT64_MAX for the last one). */
uint64_t fb_hist_bucket_upper_ns(int b);

/* Reset to empty. */
void fb_hist_reset(fb_hist *h);

#endif
