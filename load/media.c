/*
 * media.c — the media thread: every participant's UDP socket in one epoll,
 * client timers in a min-heap, the speakers' 20 ms tick, uplink impairment,
 * and what listeners check (continuity, markers, latency).
 *
 * Loop: wait (epoll_pwait2, nanosecond timeout) until a socket is readable,
 * the next client timer, the next speaker tick or the next delayed packet is
 * due; then drain the command queue (add/remove from the signalling thread,
 * woken through an eventfd), serve readable sockets, due timers, the tick and
 * delayed packets. Every loop is bounded by what is ready.
 *
 * Speakers send frame k of the shared pre-encoded signal at tick k (k counts
 * 20 ms from the thread's start and follows the clock, so a late tick skips
 * frames rather than bunching them). Marker frames record their send time.
 *
 * Listeners: a downlink gap is the time between two receive batches that is
 * longer than --gap-ms (default 60); it counts only after the first packet.
 * Sampled listeners decrypt, decode (set_decode(1)) and run the marker
 * detector; the others only count packets and sequence numbers from the
 * clear RTP header (set_decode(0) + set_light(1): no SRTP work, one read per
 * readiness; --no-light verifies SRTP for everyone).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "client/rtc_build.h"
#include "codecs/audio.h"
#include "load/heap.h"
#include "load/load.h"

enum { CMD_ADD = 1, CMD_REMOVE };

typedef struct {
  int op;
  ld_sess *s;
} cmd;

typedef struct {
  uint64_t due;
  ld_sess *s;
  int len;
  uint8_t buf[FB_RTC_BUILD_MAX];
} delayed;

#define MAX_DELAYED 4096
#define MAX_EVENTS 256

static struct {
  ld_run *r;
  pthread_t th;
  int started;
  int ep, evfd;
  pthread_mutex_t lock;
  cmd *q;
  size_t qn, qcap;
  ld_heap heap;
  ld_sess **all;
  int nall, capall;
  delayed *dl;
  int ndl;
  uint64_t t0, next_tick;
  long long tick;
  uint64_t marker_ns[LD_MARK_IDS];
  uint32_t rng;
} M;

static uint32_t rnd(void) { /* xorshift32: impairment decisions */
  uint32_t x = M.rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return M.rng = x;
}

static double rnd01(void) { return (rnd() & 0xffffff) / (double)0x1000000; }

void ld_result_add(ld_run *r, const ld_result *x) {
  pthread_mutex_lock(&r->res_lock);
  if (r->nres == r->capres) {
    size_t cap = r->capres ? r->capres * 2 : 256;
    ld_result *v = realloc(r->res, cap * sizeof *v);
    if (v) {
      r->res = v;
      r->capres = cap;
    }
  }
  if (r->nres < r->capres) r->res[r->nres++] = *x;
  pthread_mutex_unlock(&r->res_lock);
}

/* Count a join once, as it first ends: audio arrived, or failed. */
void ld_join_done(ld_run *r, ld_sess *s, int ok, const char *why) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&s->outcome, &expected, ok ? 1 : 2)) return;
  atomic_fetch_add(ok ? &r->joins_ok : &r->joins_failed, 1);
  if (!ok && why) {
    pthread_mutex_lock(&r->res_lock);
    if (!r->first_error[0]) snprintf(r->first_error, sizeof r->first_error, "%s", why);
    pthread_mutex_unlock(&r->res_lock);
    if (r->o.verbose)
      fprintf(stderr, "floorbridge-load: %s: join failed: %s\n", s->part->delegate, why);
  }
}

static void post(int op, ld_sess *s) {
  pthread_mutex_lock(&M.lock);
  if (M.qn == M.qcap) {
    size_t cap = M.qcap ? M.qcap * 2 : 256;
    cmd *v = realloc(M.q, cap * sizeof *v);
    if (!v) {
      pthread_mutex_unlock(&M.lock);
      fprintf(stderr, "floorbridge-load: out of memory (media queue)\n");
      return;
    }
    M.q = v;
    M.qcap = cap;
  }
  M.q[M.qn++] = (cmd){op, s};
  pthread_mutex_unlock(&M.lock);
  uint64_t one = 1;
  if (write(M.evfd, &one, sizeof one) < 0) { /* counter saturated: already awake */
  }
}

void ld_media_add(ld_run *r, ld_sess *s) {
  (void)r;
  atomic_fetch_add(&s->refs, 1);
  post(CMD_ADD, s);
}

void ld_media_remove(ld_run *r, ld_sess *s) {
  (void)r;
  post(CMD_REMOVE, s);
}

/* ---- timers ------------------------------------------------------------------ */

static void schedule(ld_sess *s) {
  if (s->removed || !s->mc) return;
  uint64_t due = fb_rtc_client_next_timeout_ns(s->mc);
  if (due == UINT64_MAX || due >= s->heap_due) return;
  if (ld_heap_push(&M.heap, due, s) == 0) {
    s->heap_due = due;
    s->holds++;
  }
}

static void release(ld_sess *s) {
  if (--s->holds == 0 && s->removed) ld_sess_unref(s);
}

/* ---- listeners ----------------------------------------------------------------- */

static void on_markers(ld_sess *s, uint64_t now) {
  ld_run *r = M.r;
  long n;
  const float *pcm = fb_rtc_client_pcm(s->mc, &n);
  int ids[8];
  uint64_t heard[8];
  int k = ld_detect(&s->det, &r->sig, pcm, n, fb_rtc_client_pcm_total(s->mc), now, ids, heard, 8);
  for (int i = 0; i < k; i++) {
    uint64_t t = M.marker_ns[ids[i]];
    if (!t || heard[i] < t || heard[i] - t > 1500 * LD_MS) {
      r->markers_stray++;
      continue;
    }
    s->markers++;
    if (atomic_load(&r->webcast_on) && t > atomic_load(&r->webcast_since) + LD_S)
      r->webcast_leaks++;
    double ms = ((double)(heard[i] - t) - r->sig.cal_ns) / 1e6;
    if (atomic_load(&r->window_open)) ld_samples_add(&r->lat_ms, ms);
  }
}

static void after_io(ld_sess *s, uint64_t now) {
  ld_run *r = M.r;
  fb_rtc_client_stats st;
  fb_rtc_client_get_stats(s->mc, &st);
  if (st.rtp_packets_rx != s->rx_seen) {
    if (!s->first_rx_ns) {
      s->first_rx_ns = st.first_audio_ns ? st.first_audio_ns : now;
      s->markers_at_first = r->markers_sent;
      ld_samples_add(&r->join_ms, (double)(s->first_rx_ns - s->t_open) / 1e6);
      ld_join_done(r, s, 1, NULL);
    } else {
      double gap = (double)(now - s->last_rx_ns) / 1e6;
      if (gap > s->max_gap_ms) s->max_gap_ms = gap;
      if (gap > r->o.gap_ms) {
        s->gaps++;
        if (atomic_load(&r->window_open)) s->gaps_window++;
      }
      if (gap > r->o.assert_gap_ms) s->gaps_over_assert++;
    }
    s->rx_seen = st.rtp_packets_rx;
    s->last_rx_ns = now;
    if (s->decode) on_markers(s, now);
  }
  if (!s->media_failed && fb_rtc_client_state(s->mc) == FB_RTC_FAILED) {
    s->media_failed = 1;
    char why[200];
    snprintf(why, sizeof why, "media: %s", fb_rtc_client_error(s->mc));
    ld_join_done(r, s, 0, why);
  }
  schedule(s);
}

/* ---- sessions ---------------------------------------------------------------- */

static void add(ld_sess *s) {
  ld_run *r = M.r;
  s->heap_due = UINT64_MAX;
  fb_rtc_client_set_decode(s->mc, s->decode);
  fb_rtc_client_set_light(s->mc, !s->decode && r->o.light);
  if (s->decode) fb_rtc_client_set_pcm_capacity(s->mc, 4 * FB_FRAME);
  if (s->speaker) fb_rtc_client_set_audio_level_ext(s->mc, 1);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
  if (M.nall == M.capall) {
    int cap = M.capall ? M.capall * 2 : 1024;
    ld_sess **v = realloc(M.all, (size_t)cap * sizeof *v);
    if (!v) goto fail;
    M.all = v;
    M.capall = cap;
  }
  if (epoll_ctl(M.ep, EPOLL_CTL_ADD, fb_rtc_client_fd(s->mc), &ev) < 0) goto fail;
  s->registered = 1;
  s->slot = M.nall;
  M.all[M.nall++] = s;
  atomic_fetch_add(&r->sessions_live, 1);
  fb_rtc_client_poll(s->mc, fb_now_ns()); /* first ICE check now */
  schedule(s);
  return;
fail:
  ld_join_done(r, s, 0, "media: cannot register the socket");
  s->removed = 1;
  fb_rtc_client_free(s->mc);
  s->mc = NULL;
  if (s->holds == 0) ld_sess_unref(s);
}

static void finish(ld_sess *s, uint64_t now) {
  ld_run *r = M.r;
  if (s->removed) return;
  s->removed = 1;
  if (!s->registered) return;
  if (s->first_rx_ns && now - s->last_rx_ns > (uint64_t)(r->o.gap_ms * 1e6)) {
    double gap = (double)(now - s->last_rx_ns) / 1e6; /* still waiting: a stall */
    s->gaps++;
    if (atomic_load(&r->window_open)) s->gaps_window++;
    if (gap > r->o.assert_gap_ms) s->gaps_over_assert++;
    if (gap > s->max_gap_ms) s->max_gap_ms = gap;
  }
  if (!s->first_rx_ns) ld_join_done(r, s, 0, "media: no downlink audio before the end");
  fb_rtc_client_stats st;
  fb_rtc_client_get_stats(s->mc, &st);
  ld_result x;
  memset(&x, 0, sizeof x);
  x.index = s->part->index;
  x.role = s->part->role;
  x.decode = s->decode;
  x.joined = s->first_rx_ns != 0;
  x.join_ms = x.joined ? (double)(s->first_rx_ns - s->t_open) / 1e6 : -1;
  x.rx = st.rtp_packets_rx;
  x.lost = st.lost_packets;
  x.late = st.late_packets;
  x.srtp_fail = st.srtp_fail;
  x.gaps = s->gaps;
  x.gaps_window = s->gaps_window;
  x.gaps_over_assert = s->gaps_over_assert;
  x.max_gap_ms = s->max_gap_ms;
  x.markers = s->markers;
  uint64_t heard_span = r->markers_sent - s->markers_at_first;
  x.markers_expected = s->decode && x.joined && heard_span > 1 ? (int)(heard_span - 1) : 0;
  x.media_failed = s->media_failed;
  if (s->media_failed) snprintf(x.error, sizeof x.error, "%s", fb_rtc_client_error(s->mc));
  ld_result_add(r, &x);
  epoll_ctl(M.ep, EPOLL_CTL_DEL, fb_rtc_client_fd(s->mc), NULL);
  fb_rtc_client_free(s->mc);
  s->mc = NULL;
  M.all[s->slot] = M.all[--M.nall];
  M.all[s->slot]->slot = s->slot;
  atomic_fetch_sub(&r->sessions_live, 1);
  if (s->holds == 0) ld_sess_unref(s);
}

static void drain_commands(void) {
  uint64_t v;
  if (read(M.evfd, &v, sizeof v) < 0) { /* nothing pending */
  }
  pthread_mutex_lock(&M.lock);
  cmd *q = M.q;
  size_t n = M.qn;
  M.q = NULL;
  M.qn = M.qcap = 0;
  pthread_mutex_unlock(&M.lock);
  uint64_t now = fb_now_ns();
  for (size_t i = 0; i < n; i++) {
    if (q[i].op == CMD_ADD)
      add(q[i].s);
    else
      finish(q[i].s, now);
  }
  free(q);
}

/* ---- speakers ---------------------------------------------------------------- */

static void send_impaired(ld_sess *s, int f, uint64_t now) {
  ld_run *r = M.r;
  if (M.ndl >= MAX_DELAYED) return;
  delayed *d = &M.dl[M.ndl];
  d->len = fb_rtc_client_build_opus(s->mc, r->sig.pkt[f], r->sig.len[f], r->sig.level[f], d->buf,
                                    sizeof d->buf);
  if (d->len <= 0) return;
  r->up_sent++;
  if (rnd01() * 100 < r->o.loss_pct) {
    r->up_dropped++;
    return;
  }
  uint64_t delay = r->o.jitter_ms > 0 ? (uint64_t)(rnd01() * r->o.jitter_ms * 1e6) : 0;
  if (rnd01() * 100 < r->o.reorder_pct) {
    delay += 21 * LD_MS; /* arrives after the next packet */
    r->up_reordered++;
  }
  if (!delay) {
    fb_rtc_client_send_raw(s->mc, d->buf, (size_t)d->len);
    return;
  }
  r->up_delayed++;
  d->due = now + delay;
  d->s = s;
  s->holds++;
  M.ndl++;
}

static void send_delayed(uint64_t now) {
  for (int i = 0; i < M.ndl;) {
    delayed *d = &M.dl[i];
    if (d->due > now) {
      i++;
      continue;
    }
    if (!d->s->removed && d->s->mc) fb_rtc_client_send_raw(d->s->mc, d->buf, (size_t)d->len);
    ld_sess *s = d->s;
    *d = M.dl[--M.ndl];
    release(s);
  }
}

static uint64_t delayed_due(void) {
  uint64_t t = UINT64_MAX;
  for (int i = 0; i < M.ndl; i++)
    if (M.dl[i].due < t) t = M.dl[i].due;
  return t;
}

static void speaker_tick(uint64_t now) {
  ld_run *r = M.r;
  long long k = (long long)((now - M.t0) / FB_TICK_NS);
  if (k < M.tick) k = M.tick;
  if (atomic_load(&r->window_open)) ld_samples_add(&r->lag_ms, (double)(now - M.next_tick) / 1e6);
  int f = (int)(k % LD_SIG_FRAMES), sent = 0;
  int impaired = r->o.loss_pct > 0 || r->o.jitter_ms > 0 || r->o.reorder_pct > 0;
  for (int i = 0; i < M.nall; i++) {
    ld_sess *s = M.all[i];
    if (!s->speaker || fb_rtc_client_state(s->mc) != FB_RTC_CONNECTED) continue;
    if (impaired)
      send_impaired(s, f, now);
    else if (fb_rtc_client_send_opus(s->mc, r->sig.pkt[f], r->sig.len[f], r->sig.level[f], now) > 0)
      r->up_sent++;
    sent++;
  }
  int id = ld_marker_id(k);
  if (id >= 0 && sent) {
    M.marker_ns[id] = now;
    r->markers_sent++;
  }
  M.tick = k + 1;
  M.next_tick = M.t0 + (uint64_t)M.tick * FB_TICK_NS;
}

/* ---- the thread -------------------------------------------------------------- */

static void *media_main(void *arg) {
  (void)arg;
  ld_run *r = M.r;
  struct epoll_event evs[MAX_EVENTS];
  while (!atomic_load(&r->stop_media)) {
    uint64_t now = fb_now_ns(), due = M.next_tick;
    uint64_t h = ld_heap_top(&M.heap), d = delayed_due();
    if (h < due) due = h;
    if (d < due) due = d;
    struct timespec ts = {0, 0};
    if (due > now) {
      uint64_t w = due - now;
      ts.tv_sec = (time_t)(w / LD_S);
      ts.tv_nsec = (long)(w % LD_S);
    }
    int n = epoll_pwait2(M.ep, evs, MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno != EINTR) {
      perror("floorbridge-load: epoll_pwait2");
      break;
    }
    now = fb_now_ns();
    int commands = 0;
    for (int i = 0; i < n; i++) {
      ld_sess *s = evs[i].data.ptr;
      if (!s) {
        commands = 1; /* after the events: a removal must not free what they name */
        continue;
      }
      if (s->removed || !s->mc) continue;
      fb_rtc_client_on_readable(s->mc, now);
      after_io(s, now);
    }
    if (commands) drain_commands();
    now = fb_now_ns();
    for (int budget = 4096; budget > 0 && ld_heap_top(&M.heap) <= now; budget--) {
      ld_heap_item it = ld_heap_pop(&M.heap);
      ld_sess *s = it.ptr;
      if (!s->removed && it.due == s->heap_due) {
        s->heap_due = UINT64_MAX;
        fb_rtc_client_poll(s->mc, now);
        after_io(s, now);
      }
      release(s);
    }
    if (now >= M.next_tick) speaker_tick(now);
    if (M.ndl) send_delayed(now);
  }
  drain_commands();
  uint64_t now = fb_now_ns();
  while (M.nall) finish(M.all[M.nall - 1], now);
  while (M.heap.n) release((ld_sess *)ld_heap_pop(&M.heap).ptr);
  while (M.ndl) {
    ld_sess *s = M.dl[--M.ndl].s;
    release(s);
  }
  return NULL;
}

int ld_media_start(ld_run *r, char *err, size_t errlen) {
  memset(&M, 0, sizeof M);
  M.r = r;
  M.rng = r->o.seed ? r->o.seed : 12345;
  pthread_mutex_init(&M.lock, NULL);
  M.dl = calloc(MAX_DELAYED, sizeof *M.dl);
  M.ep = epoll_create1(EPOLL_CLOEXEC);
  M.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!M.dl || M.ep < 0 || M.evfd < 0) return snprintf(err, errlen, "media: setup failed"), -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(M.ep, EPOLL_CTL_ADD, M.evfd, &ev) < 0)
    return snprintf(err, errlen, "media: epoll_ctl: %s", strerror(errno)), -1;
  M.t0 = fb_now_ns();
  M.next_tick = M.t0;
  if (pthread_create(&M.th, NULL, media_main, NULL))
    return snprintf(err, errlen, "media: cannot start the thread"), -1;
  pthread_setname_np(M.th, "media");
  M.started = 1;
  return 0;
}

void ld_media_stop(ld_run *r) {
  if (!M.started) return;
  atomic_store(&r->stop_media, 1);
  uint64_t one = 1;
  if (write(M.evfd, &one, sizeof one) < 0) { /* already awake */
  }
  pthread_join(M.th, NULL);
  M.started = 0;
  ld_heap_free(&M.heap);
  free(M.all);
  free(M.dl);
  free(M.q);
  close(M.ep);
  close(M.evfd);
  pthread_mutex_destroy(&M.lock);
}
