/*
 * reaper.c — the deferred release of participants that left (see reaper.h).
 *
 * A short list under one mutex, walked by its own thread every
 * REAP_PERIOD_NS. The checks are two counters read under their owners'
 * short locks, so a pass over a burst of hundreds of leaves costs
 * microseconds; the release itself (DTLS and SRTP state, the participant's
 * memory) runs outside the list's lock.
 */
#define _GNU_SOURCE
#include "bridge/reaper.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "util/clock.h"

#define REAP_PERIOD_NS 5000000ull /* 5 ms: a tick is 20 ms, so ~1 tick late */

typedef struct {
  fb_participant *p;
  uint64_t net_token, mixer_seq;
} departure;

struct fb_reaper {
  fb_net *net;
  fb_mixer *mixer;
  fb_reaper_release_fn release;
  void *ud;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int stop;        /* under lock */
  departure *list; /* under lock */
  int n, cap;
};

/* applied: fb_mixer_applied_seq, read once per pass (not under r->lock: the
 * tick's lock is never taken inside ours). */
static int ripe(fb_reaper *r, const departure *d, uint64_t applied) {
  return d->mixer_seq <= applied && fb_net_quiescent(r->net, d->net_token);
}

/* Take the ripe departures off the list (all of them when `all`), then
 * release them with the lock dropped. */
static void reap(fb_reaper *r, int all) {
  departure done[64];
  for (;;) {
    int nd = 0;
    uint64_t applied = fb_mixer_applied_seq(r->mixer);
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < r->n && nd < (int)(sizeof done / sizeof done[0]);)
      if (all || ripe(r, &r->list[i], applied)) {
        done[nd++] = r->list[i];
        r->list[i] = r->list[--r->n];
      } else {
        i++;
      }
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < nd; i++) r->release(r->ud, done[i].p);
    if (nd < (int)(sizeof done / sizeof done[0])) return;
  }
}

static void *reaper_main(void *arg) {
  fb_reaper *r = arg;
  pthread_setname_np(pthread_self(), "fb-reaper");
  pthread_mutex_lock(&r->lock);
  while (!r->stop) {
    if (r->n == 0) {
      pthread_cond_wait(&r->wake, &r->lock);
      continue;
    }
    pthread_mutex_unlock(&r->lock);
    reap(r, 0);
    fb_sleep_until_ns(fb_now_ns() + REAP_PERIOD_NS);
    pthread_mutex_lock(&r->lock);
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

fb_reaper *fb_reaper_new(fb_net *net, fb_mixer *mixer, fb_reaper_release_fn fn, void *ud) {
  fb_reaper *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->net = net;
  r->mixer = mixer;
  r->release = fn;
  r->ud = ud;
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->wake, NULL);
  if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    free(r);
    return NULL;
  }
  return r;
}

void fb_reaper_add(fb_reaper *r, fb_participant *p, uint64_t net_token, uint64_t mixer_seq) {
  departure d = {p, net_token, mixer_seq};
  pthread_mutex_lock(&r->lock);
  if (r->n == r->cap) {
    int cap = r->cap ? 2 * r->cap : 64;
    departure *grown = realloc(r->list, (size_t)cap * sizeof *grown);
    if (grown) r->list = grown, r->cap = cap;
  }
  int queued = r->n < r->cap;
  if (queued) {
    r->list[r->n++] = d;
    pthread_cond_signal(&r->wake);
  }
  pthread_mutex_unlock(&r->lock);
  if (queued) return;
  /* No memory for the list: wait here for the batch in progress and the
   * next tick (bounded: 2 s, as the mixer's own wait). */
  uint64_t give_up = fb_now_ns() + 2000000000ull;
  int done;
  while (!(done = ripe(r, &d, fb_mixer_applied_seq(r->mixer))) && fb_now_ns() < give_up)
    fb_sleep_until_ns(fb_now_ns() + 1000000);
  if (done) r->release(r->ud, p); /* else leaked: better than a use after free */
}

int fb_reaper_pending(fb_reaper *r) {
  pthread_mutex_lock(&r->lock);
  int n = r->n;
  pthread_mutex_unlock(&r->lock);
  return n;
}

void fb_reaper_free(fb_reaper *r) {
  if (!r) return;
  pthread_mutex_lock(&r->lock);
  r->stop = 1;
  pthread_cond_signal(&r->wake);
  pthread_mutex_unlock(&r->lock);
  pthread_join(r->thread, NULL);
  reap(r, 1);
  free(r->list);
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->wake);
  free(r);
}
