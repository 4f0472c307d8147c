/*
 * reaper.c — the deferred release of participants that left (see reaper.h).
 *
 * A list under one mutex, linked through the participants themselves (so a
 * leave never allocates and never waits), walked by its own thread every
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

struct fb_reaper {
  fb_net *net;
  fb_mixer *mixer;
  fb_reaper_release_fn release;
  void *ud;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int stop;             /* under lock */
  fb_participant *list; /* under lock: linked through p->reap_next */
  int n;
};

/* applied: fb_mixer_applied_seq, read once per pass (not under r->lock: the
 * tick's lock is never taken inside ours). */
static int ripe(fb_reaper *r, const fb_participant *p, uint64_t applied) {
  return p->reap_mixer_seq <= applied && fb_net_quiescent(r->net, p->reap_net_token);
}

/* Take the ripe departures off the list (all of them when `all`), then
 * release them with the lock dropped. */
static void reap(fb_reaper *r, int all) {
  fb_participant *done = NULL;
  uint64_t applied = fb_mixer_applied_seq(r->mixer);
  pthread_mutex_lock(&r->lock);
  for (fb_participant **pp = &r->list; *pp;) {
    fb_participant *p = *pp;
    if (all || ripe(r, p, applied)) {
      *pp = p->reap_next;
      p->reap_next = done;
      done = p;
      r->n--;
    } else {
      pp = &p->reap_next;
    }
  }
  pthread_mutex_unlock(&r->lock);
  while (done) {
    fb_participant *p = done;
    done = p->reap_next;
    r->release(r->ud, p);
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
  p->reap_net_token = net_token;
  p->reap_mixer_seq = mixer_seq;
  pthread_mutex_lock(&r->lock);
  p->reap_next = r->list;
  r->list = p;
  r->n++;
  pthread_cond_signal(&r->wake);
  pthread_mutex_unlock(&r->lock);
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
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->wake);
  free(r);
}
