/*
 * report.c — the summary: a human table on stdout, the same numbers as JSON
 * (--json FILE), and the --assert checks (correctness only, never timing).
 *
 * Definitions:
 *   join time     WebSocket open -> first downlink RTP packet (media thread)
 *   loss %        sequence-number gaps in the downlink / (received + missing)
 *   gap           time between two downlink arrivals above --gap-ms, counted
 *                 from a session's first packet (and a silence still running
 *                 when the session ends)
 *   latency       marker.h: marker send -> heard, minus the calibrated codec
 *                 delay; decoded listeners only, inside the window
 *   bridge CPU %  (utime + stime) delta over the window / wall time, in % of
 *                 one core; per thread the same from /proc/PID/task
 *   RSS/participant (VmRSS at the window's end - VmRSS before the first
 *                 join) / N
 *   tick p99      from the floorbridge_mixer_tick_seconds histogram delta
 *                 over the window (interpolated in the bucket), else the
 *                 control socket's cumulative p99
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load/load.h"
#include "load/probe.h"

int ld_samples_add(ld_samples *s, double x) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    double *v = realloc(s->v, cap * sizeof *v);
    if (!v) return -1;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = x;
  return 0;
}

void ld_samples_free(ld_samples *s) {
  free(s->v);
  memset(s, 0, sizeof *s);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double ld_samples_quantile(const ld_samples *s, double q) {
  if (!s->n) return NAN;
  double *v = malloc(s->n * sizeof *v);
  if (!v) return NAN;
  memcpy(v, s->v, s->n * sizeof *v);
  qsort(v, s->n, sizeof *v, cmp);
  size_t i = (size_t)ceil(q * (double)s->n);
  double x = v[i ? i - 1 : 0];
  free(v);
  return x;
}

static const char *scenario_name(ld_scenario s) {
  static const char *n[] = {"steady", "storm", "churn", "impaired", "webcast"};
  return n[s];
}

static json_t *num(double x) {
  return isfinite(x) ? json_real(round(x * 1000) / 1000) : json_null();
}

/* Per-thread CPU % over the window, summed by thread name. */
static json_t *threads(const ld_probe *a, const ld_probe *b, double secs, double hz) {
  json_t *o = json_object();
  for (int i = 0; i < b->nthreads; i++) {
    uint64_t before = 0;
    for (int k = 0; k < a->nthreads; k++)
      if (a->th[k].tid == b->th[i].tid) before = a->th[k].ticks;
    double pct = (double)(b->th[i].ticks - before) / hz / secs * 100;
    json_t *prev = json_object_get(o, b->th[i].comm);
    json_object_set_new(o, b->th[i].comm, num(pct + (prev ? json_number_value(prev) : 0)));
  }
  return o;
}

static void fmt(char *buf, size_t n, const char *f, double x) {
  if (isfinite(x))
    snprintf(buf, n, f, x);
  else
    snprintf(buf, n, "n/a");
}

int ld_report(ld_run *r, const ld_probe_window *w) {
  const ld_opts *o = &r->o;
  double hz = (double)sysconf(_SC_CLK_TCK);
  double secs = w->tb > w->ta ? (double)(w->tb - w->ta) / 1e9 : NAN;
  /* sessions */
  uint64_t rx = 0, lost = 0, srtp_fail = 0;
  int gaps = 0, gaps_win = 0, listeners = 0, gapped = 0, decoded = 0, deaf = 0, over = 0;
  int markers = 0, expected = 0, media_failed = 0;
  double max_gap = 0;
  for (size_t i = 0; i < r->nres; i++) {
    const ld_result *x = &r->res[i];
    rx += x->rx;
    lost += x->lost;
    srtp_fail += x->srtp_fail;
    media_failed += x->media_failed;
    if (x->role != LD_LISTENER) continue;
    listeners++;
    gaps += x->gaps;
    gaps_win += x->gaps_window;
    gapped += x->gaps > 0;
    over += x->gaps_over_assert > 0;
    if (x->max_gap_ms > max_gap) max_gap = x->max_gap_ms;
    if (x->decode && x->joined) {
      decoded++;
      markers += x->markers;
      expected += x->markers_expected;
      deaf += x->markers == 0;
    }
  }
  double loss_pct = rx + lost ? 100.0 * (double)lost / (double)(rx + lost) : NAN;
  /* bridge */
  const ld_probe *z = &w->zero, *a = &w->a, *b = &w->b;
  int have_proc = a->have_proc && b->have_proc;
  double cpu = have_proc ? (double)(b->cpu_ticks - a->cpu_ticks) / hz / secs * 100 : NAN;
  double rss_per = z->have_proc && b->have_proc ? (double)(b->rss_kb - z->rss_kb) / o->n : NAN;
  double tick_p50 = ld_probe_tick_quantile(a, b, 0.5) * 1e3;
  double tick_p99 = ld_probe_tick_quantile(a, b, 0.99) * 1e3;
  const char *tick_src = "metrics";
  double missed =
      a->have_metrics && b->have_metrics ? (double)(b->missed_total - a->missed_total) : NAN;
  if (!isfinite(tick_p99) && b->have_status) {
    tick_p50 = b->st_tick_p50_us / 1e3;
    tick_p99 = b->st_tick_p99_us / 1e3;
    tick_src = "control (cumulative)";
  }
  if (!isfinite(missed) && a->have_status && b->have_status)
    missed = (double)(b->st_missed - a->st_missed);
  if (!isfinite(tick_p99) && !isfinite(missed)) tick_src = "none";
  double tool_cpu = secs > 0 ? (double)(b->self_cpu_ns - a->self_cpu_ns) / 1e9 / secs * 100 : NAN;
  /* everything else the machine ran meanwhile (other processes): a noisy
   * neighbour makes every number above suspect */
  double machine = b->sys_busy_ticks && secs > 0
                       ? (double)(b->sys_busy_ticks - a->sys_busy_ticks) / hz / secs * 100
                       : NAN;
  double others = machine - tool_cpu - (isfinite(cpu) ? cpu : 0);
  int ok = atomic_load(&r->joins_ok), failed = atomic_load(&r->joins_failed);
  int started = atomic_load(&r->joins_started);
  double j50 = ld_samples_quantile(&r->join_ms, .5), j95 = ld_samples_quantile(&r->join_ms, .95);
  double j99 = ld_samples_quantile(&r->join_ms, .99);
  double l50 = ld_samples_quantile(&r->lat_ms, .5), l95 = ld_samples_quantile(&r->lat_ms, .95);
  double l99 = ld_samples_quantile(&r->lat_ms, .99), lmax = ld_samples_quantile(&r->lat_ms, 1);
  double lag99 = ld_samples_quantile(&r->lag_ms, .99);

  /* ---- table ---- */
  char v1[32], v2[32], v3[32];
  printf("\nfloorbridge-load: %s, N=%d, S=%d live (pool %d), window %.1f s\n",
         scenario_name(o->scenario), o->n, o->speakers, o->pool, isfinite(secs) ? secs : 0.0);
  printf("  floor control        %s\n", r->floor_note);
  printf("  joins                %d ok, %d failed (of %d started), %d dropped later%s%s\n", ok,
         failed, started, r->dropped, r->first_error[0] ? "; first failure: " : "", r->first_error);
  fmt(v1, sizeof v1, "%.1f", j50), fmt(v2, sizeof v2, "%.1f", j95), fmt(v3, sizeof v3, "%.1f", j99);
  printf("  join ms p50/p95/p99  %s / %s / %s   (WebSocket open -> first downlink RTP)\n", v1, v2,
         v3);
  fmt(v1, sizeof v1, "%.1f", ld_samples_quantile(&r->connect_ms, .95));
  fmt(v2, sizeof v2, "%.1f", ld_samples_quantile(&r->joined_ms, .95));
  fmt(v3, sizeof v3, "%.1f", ld_samples_quantile(&r->answer_ms, .95));
  printf("    phases p95         connect %s, open->joined %s, open->answer %s ms\n", v1, v2, v3);
  fmt(v1, sizeof v1, "%.3f", loss_pct);
  printf(
      "  downlink             %llu packets, loss %s %%, %d gaps > %.0f ms (%d in window) on "
      "%d of %d listeners, max gap %.0f ms\n",
      (unsigned long long)rx, v1, gaps, o->gap_ms, gaps_win, gapped, listeners, max_gap);
  fmt(v1, sizeof v1, "%.1f", l50), fmt(v2, sizeof v2, "%.1f", l95), fmt(v3, sizeof v3, "%.1f", l99);
  printf(
      "  latency ms p50/p95/p99 %s / %s / %s (max %.1f; %zu markers on %d decoded listeners, "
      "%d expected)\n",
      v1, v2, v3, isfinite(lmax) ? lmax : 0.0, r->lat_ms.n, decoded, expected);
  fmt(v1, sizeof v1, "%.1f", cpu);
  printf("  bridge CPU           %s %% of one core\n", v1);
  fmt(v1, sizeof v1, "%.0f", z->rss_kb / 1024.0), fmt(v2, sizeof v2, "%.0f", b->rss_kb / 1024.0);
  fmt(v3, sizeof v3, "%.1f", rss_per);
  printf("  bridge RSS           %s MiB before, %s MiB at end: %s KiB per participant\n",
         z->have_proc ? v1 : "n/a", b->have_proc ? v2 : "n/a", v3);
  fmt(v1, sizeof v1, "%.2f", tick_p50), fmt(v2, sizeof v2, "%.2f", tick_p99);
  fmt(v3, sizeof v3, "%.0f", missed);
  printf("  mixer tick ms        p50 %s, p99 %s, missed ticks %s  [%s]\n", v1, v2, v3, tick_src);
  if (b->have_status)
    printf("  bridge's own latency p50 %.2f / p99 %.2f ms (uplink arrival -> downlink send)\n",
           b->st_lat_p50_ms, b->st_lat_p99_ms);
  fmt(v1, sizeof v1, "%.1f", tool_cpu), fmt(v2, sizeof v2, "%.2f", lag99);
  printf("  load tool            %s %% CPU, speaker tick lag p99 %s ms\n", v1, v2);
  fmt(v1, sizeof v1, "%.1f", machine), fmt(v2, sizeof v2, "%.1f", others);
  printf("  machine              %s %% busy (all cores, in %% of one); other processes %s %%%s\n",
         v1, v2, isfinite(others) && others > 20 ? "  <-- NOISY: numbers suspect" : "");
  if (o->scenario == LD_IMPAIRED)
    printf("  uplink impairment    %llu sent, %llu dropped, %llu delayed, %llu reordered\n",
           (unsigned long long)r->up_sent, (unsigned long long)r->up_dropped,
           (unsigned long long)r->up_delayed, (unsigned long long)r->up_reordered);
  if (r->chair_protocol)
    printf(
        "  chair                %d grants, %d end_turns, %d refused%s%s; received %.1f MB in "
        "%llu messages; dropped by the bridge %d time(s)\n",
        r->grants, r->end_turns, r->grant_errors + r->end_turn_errors,
        r->chair_error[0] ? ": " : "", r->chair_error, r->chair_rx_bytes / 1e6,
        (unsigned long long)r->chair_rx_msgs, r->chair_dropped);
  if (o->scenario == LD_WEBCAST)
    printf("  webcast              %d switch(es); markers heard after it: %llu\n", r->mode_switches,
           (unsigned long long)r->webcast_leaks);

  /* ---- JSON ---- */
  if (o->json_path[0]) {
    json_t *j = json_object();
    json_object_set_new(j, "scenario", json_string(scenario_name(o->scenario)));
    json_object_set_new(j, "participants", json_integer(o->n));
    json_object_set_new(j, "speakers", json_integer(o->speakers));
    json_object_set_new(j, "pool", json_integer(o->pool));
    json_object_set_new(j, "floor", json_string(r->floor_note));
    json_object_set_new(j, "window_s", num(secs));
    json_object_set_new(
        j, "joins",
        json_pack("{s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s}", "started", started, "ok", ok,
                  "failed", failed, "dropped", r->dropped, "p50_ms", num(j50), "p95_ms", num(j95),
                  "p99_ms", num(j99), "max_ms", num(ld_samples_quantile(&r->join_ms, 1)),
                  "connect_p95_ms", num(ld_samples_quantile(&r->connect_ms, .95)), "joined_p95_ms",
                  num(ld_samples_quantile(&r->joined_ms, .95)), "answer_p95_ms",
                  num(ld_samples_quantile(&r->answer_ms, .95)), "first_failure", r->first_error));
    json_object_set_new(
        j, "downlink",
        json_pack("{s:I,s:I,s:o,s:i,s:i,s:i,s:i,s:o,s:I,s:i}", "packets", (json_int_t)rx, "lost",
                  (json_int_t)lost, "loss_pct", num(loss_pct), "gaps", gaps, "gaps_window",
                  gaps_win, "listeners_with_gaps", gapped, "listeners", listeners, "max_gap_ms",
                  num(max_gap), "srtp_fail", (json_int_t)srtp_fail, "media_failed", media_failed));
    json_object_set_new(
        j, "latency",
        json_pack("{s:o,s:o,s:o,s:o,s:I,s:i,s:i,s:i,s:I,s:o}", "p50_ms", num(l50), "p95_ms",
                  num(l95), "p99_ms", num(l99), "max_ms", num(lmax), "samples",
                  (json_int_t)r->lat_ms.n, "decoded_listeners", decoded, "markers", markers,
                  "markers_expected", expected, "stray", (json_int_t)r->markers_stray,
                  "codec_delay_subtracted_ms", num(r->sig.cal_ns / 1e6)));
    json_t *br =
        json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s}", "pid", o->bridge_pid, "cpu_pct",
                  num(cpu), "rss_before_kib", z->have_proc ? json_integer(z->rss_kb) : json_null(),
                  "rss_end_kib", b->have_proc ? json_integer(b->rss_kb) : json_null(),
                  "rss_per_participant_kib", num(rss_per), "tick_p50_ms", num(tick_p50),
                  "tick_p99_ms", num(tick_p99), "missed_ticks", num(missed), "ticks",
                  a->have_metrics && b->have_metrics
                      ? json_integer((json_int_t)(b->ticks_total - a->ticks_total))
                      : json_null(),
                  "tick_source", tick_src);
    if (have_proc) json_object_set_new(br, "threads_cpu_pct", threads(a, b, secs, hz));
    if (b->have_status) {
      json_object_set_new(br, "own_latency_p50_ms", num(b->st_lat_p50_ms));
      json_object_set_new(br, "own_latency_p99_ms", num(b->st_lat_p99_ms));
      json_object_set_new(br, "status_tick_p99_ms", num(b->st_tick_p99_us / 1e3));
      json_object_set_new(br, "status_tick_max_ms", num(b->st_tick_max_us / 1e3));
    }
    json_object_set_new(j, "bridge", br);
    json_object_set_new(
        j, "tool", json_pack("{s:o,s:o}", "cpu_pct", num(tool_cpu), "tick_lag_p99_ms", num(lag99)));
    json_object_set_new(j, "machine",
                        json_pack("{s:o,s:o,s:i}", "busy_pct", num(machine), "other_processes_pct",
                                  num(others), "cores", (int)sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(
        j, "uplink",
        json_pack("{s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "sent", (json_int_t)r->up_sent, "dropped",
                  (json_int_t)r->up_dropped, "delayed", (json_int_t)r->up_delayed, "reordered",
                  (json_int_t)r->up_reordered, "loss_pct", num(o->loss_pct), "jitter_ms",
                  num(o->jitter_ms), "reorder_pct", num(o->reorder_pct)));
    json_object_set_new(
        j, "chair",
        json_pack("{s:b,s:i,s:i,s:i,s:i,s:s,s:I,s:I,s:i}", "floor_control", r->chair_protocol,
                  "grants", r->grants, "end_turns", r->end_turns, "refused",
                  r->grant_errors + r->end_turn_errors, "webcast_switches", r->mode_switches,
                  "first_refusal", r->chair_error, "rx_bytes", (json_int_t)r->chair_rx_bytes,
                  "rx_messages", (json_int_t)r->chair_rx_msgs, "dropped", r->chair_dropped));
    if (o->scenario == LD_WEBCAST)
      json_object_set_new(j, "webcast_markers_heard", json_integer((json_int_t)r->webcast_leaks));
    if (o->scenario == LD_CHURN)
      json_object_set_new(
          j, "churn",
          json_pack("{s:i,s:o}", "leaves", atomic_load(&r->leaves), "per_s", num(o->churn_per_s)));
    if (json_dump_file(j, o->json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
      fprintf(stderr, "floorbridge-load: cannot write %s\n", o->json_path);
    json_decref(j);
  }

  /* ---- --assert: correctness only ---- */
  if (!o->assert_ok) return 0;
  int bad = 0;
#define FAIL(...) \
  (fprintf(stderr, "floorbridge-load: ASSERT: " __VA_ARGS__), fputc('\n', stderr), bad++)
  if (failed || ok != started || started < o->n)
    FAIL("%d of %d joins succeeded (%s)", ok, started, r->first_error);
  if (over) FAIL("%d listener(s) had a downlink gap over %.0f ms", over, o->assert_gap_ms);
  int webcast = o->scenario == LD_WEBCAST && r->chair_protocol;
  if (!webcast && o->speakers > 0 && (decoded == 0 || deaf))
    FAIL("%d of %d decoded listeners heard no marker", deaf, decoded);
  if (webcast && r->webcast_leaks)
    FAIL("%llu markers heard after the switch to webcast", (unsigned long long)r->webcast_leaks);
  if (media_failed) FAIL("%d media session(s) failed", media_failed);
  if (r->dropped) FAIL("%d joined session(s) lost their WebSocket", r->dropped);
#undef FAIL
  if (!bad) printf("  assert               ok\n");
  return bad ? 1 : 0;
}
