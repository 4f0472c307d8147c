/*
 * hist.c — log-linear histogram: 8 linear sub-buckets per power of two, from
 * 8 µs upward (values below 8 µs get one bucket per µs). 128 buckets reach
 * about 260 ms, past any tick or useful latency; anything larger lands in the
 * last bucket, whose quantile reads as max_ns.
 */
#include "util/hist.h"

#include <string.h>

static int bucket_of(uint64_t ns) {
  uint64_t us = ns / 1000;
  if (us < 8) return (int)us;
  int exp = 63 - __builtin_clzll(us);     /* us in [2^exp, 2^(exp+1)) , exp >= 3 */
  int sub = (int)((us >> (exp - 3)) & 7); /* top 3 bits below the leading one */
  int b = 8 + (exp - 3) * 8 + sub;
  return b < FB_HIST_BUCKETS ? b : FB_HIST_BUCKETS - 1;
}

static uint64_t bucket_upper_ns(int b) {
  if (b < 8) return (uint64_t)(b + 1) * 1000;
  int exp = (b - 8) / 8 + 3;
  int sub = (b - 8) % 8;
  uint64_t lo = (1ull << exp) + ((uint64_t)sub << (exp - 3));
  return (lo + (1ull << (exp - 3))) * 1000;
}

void fb_hist_add(fb_hist *h, uint64_t ns) {
  h->count++;
  h->sum_ns += ns;
  if (ns > h->max_ns) h->max_ns = ns;
  h->buckets[bucket_of(ns)]++;
}

uint64_t fb_hist_quantile(const fb_hist *h, double q) {
  if (h->count == 0) return 0;
  uint64_t want = (uint64_t)(q * (double)h->count);
  if (want >= h->count) want = h->count - 1;
  uint64_t seen = 0;
  for (int b = 0; b < FB_HIST_BUCKETS; b++) {
    seen += h->buckets[b];
    if (seen > want) {
      if (b == FB_HIST_BUCKETS - 1) return h->max_ns;
      uint64_t up = bucket_upper_ns(b);
      return up < h->max_ns ? up : h->max_ns;
    }
  }
  return h->max_ns;
}

uint64_t fb_hist_bucket_upper_ns(int b) {
  return b >= FB_HIST_BUCKETS - 1 ? UINT64_MAX : bucket_upper_ns(b);
}

void fb_hist_reset(fb_hist *h) { memset(h, 0, sizeof *h); }
