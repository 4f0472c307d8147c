/*
 * probe.h — what the load tool reads about the bridge (and itself) at the
 * edges of the measured window:
 *
 *   /proc/PID/stat, /proc/PID/status, /proc/PID/task/TID/stat
 *        process CPU (utime + stime), VmRSS, per-thread CPU by name
 *   GET /metrics (Prometheus text from the signalling port)
 *        floorbridge_mixer_ticks_total, floorbridge_mixer_missed_ticks_total,
 *        the floorbridge_mixer_tick_seconds histogram
 *   the control socket's "status" (fallback, or extra when given)
 *        ticks, missed_ticks, tick p50/p99, the bridge's own latency p50/p99
 *
 * Differences between two probes give the window's numbers: CPU % of one
 * core, missed ticks, and a tick p99 from the histogram buckets.
 */
#ifndef FB_LOAD_PROBE_H
#define FB_LOAD_PROBE_H

#include <stdint.h>

#include "load/load.h"

#define LD_PROBE_THREADS 64
#define LD_PROBE_BUCKETS 32

typedef struct {
  int tid;
  char comm[32];
  uint64_t ticks;
} ld_thread_cpu;

typedef struct {
  uint64_t mono_ns;
  /* /proc */
  int have_proc;
  uint64_t cpu_ticks;
  long rss_kb;
  int nthreads;
  ld_thread_cpu th[LD_PROBE_THREADS];
  /* /metrics */
  int have_metrics;
  uint64_t ticks_total, missed_total;
  int nbuckets;
  double le[LD_PROBE_BUCKETS];    /* +Inf as INFINITY */
  uint64_t cnt[LD_PROBE_BUCKETS]; /* cumulative */
  /* control status */
  int have_status;
  uint64_t st_ticks, st_missed;
  double st_tick_p50_us, st_tick_p99_us, st_tick_max_us;
  double st_lat_p50_ms, st_lat_p99_ms;
  /* the load tool itself, and the whole machine (/proc/stat, all cores) */
  uint64_t self_cpu_ns;
  uint64_t sys_busy_ticks;
} ld_probe;

struct ld_probe_window {
  ld_probe zero; /* before the first join */
  ld_probe a, b; /* window start and end */
  uint64_t ta, tb;
};

/* Take every probe the options allow (missing ones leave have_* = 0). */
void ld_probe_take(const ld_opts *o, ld_probe *p);

/* Value at quantile q of the tick histogram between a and b (seconds,
 * linear inside the bucket; the last finite bound when it falls in +Inf);
 * NAN when there were no ticks or no metrics. */
double ld_probe_tick_quantile(const ld_probe *a, const ld_probe *b, double q);

#endif
