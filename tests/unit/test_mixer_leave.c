/*
 * test_mixer_leave — leaving never fails, waits or allocates. Participants are
 * added and removed asynchronously from several threads while the tick runs,
 * and released by the bridge's reaper (bridge/reaper.c) once the tick has
 * applied each removal; every one must be released exactly once, and only
 * after the mixer let go of it.
 *
 * The linker routes the bridge library's malloc, calloc and realloc through
 * the wrappers below (tests/CMakeLists.txt: --wrap), so a thread can make its
 * own allocations fail and count them: every fb_mixer_remove_async here runs
 * with allocation failing and must not have tried once. A transport that can
 * hold the tick inside its flush makes hundreds of removals queue up between
 * two ticks, all in the slots fb_mixer_add reserved.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/clock.h"
#include "mixer/mixer.h"
#include "bridge/reaper.h"
#include "check.h"

#define THREADS 4
#define BURST 400  /* participants leaving at once, in phase 2 */
#define ROUNDS 200 /* join-and-leave rounds per thread, in phase 3 */
#define TOTAL (BURST + THREADS * ROUNDS)

/* ------------------------------------------------ allocation failure hook */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static __thread int oom;                 /* this thread: every allocation fails */
static __thread unsigned long oom_tries; /* ...and is counted here */

void *__wrap_malloc(size_t n) {
  if (oom) {
    oom_tries++;
    return NULL;
  }
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  if (oom) {
    oom_tries++;
    return NULL;
  }
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  if (oom) {
    oom_tries++;
    return NULL;
  }
  return __real_realloc(p, n);
}

/* ------------------------------------------------------------ transports */

static void null_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hl,
                      const uint8_t *pl, size_t plen) {}
static void null_flush(fb_transport *t) {}
static fb_transport null_tp = {.send = null_send, .flush = null_flush};

/* The gate: while closed, the tick waits in its flush (bounded, 10 s). */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_closed, tick_held;

static void gate_flush(fb_transport *t) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&gate_lock);
  tick_held = gate_closed;
  pthread_cond_broadcast(&gate_cond);
  while (gate_closed && pthread_cond_timedwait(&gate_cond, &gate_lock, &until) == 0) {
  }
  tick_held = 0;
  pthread_mutex_unlock(&gate_lock);
}
static fb_transport gate_tp = {.send = null_send, .flush = gate_flush};

static void gate_set(int closed) {
  pthread_mutex_lock(&gate_lock);
  gate_closed = closed;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
}

/* Wait (bounded, 2 s) until the tick is held at the gate. */
static int gate_wait_held(void) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 2;
  pthread_mutex_lock(&gate_lock);
  while (!tick_held && pthread_cond_timedwait(&gate_cond, &gate_lock, &until) == 0) {
  }
  int held = tick_held;
  pthread_mutex_unlock(&gate_lock);
  return held;
}

/* ------------------------------------------------------------ releases */

static fb_participant *parts[TOTAL]; /* p->id = index + 1; freed at the end */
static atomic_int nparts;
static atomic_int releases[TOTAL];
static atomic_int released_while_mixed; /* the mixer still had it: must stay 0 */
static atomic_ulong remove_alloc_tries; /* allocations tried by removes: must stay 0 */

/* The reaper thread: the tick has applied p's removal. */
static void on_release(void *ud, fb_participant *p) {
  atomic_fetch_add(&releases[p->id - 1], 1);
  if (p->mixer_index != -1) atomic_fetch_add(&released_while_mixed, 1);
}

static fb_participant *new_participant(fb_transport *tp) {
  int i = atomic_fetch_add(&nparts, 1);
  char name[32];
  snprintf(name, sizeof name, "p%d", i);
  fb_participant *p = fb_participant_new(name, 111, tp);
  if (p) p->id = i + 1;
  parts[i] = p;
  return p;
}

/* Leave as the bridge's depart() does, with allocation failing for the
 * mixer's part. */
static void leave(fb_mixer *m, fb_reaper *r, fb_participant *p) {
  oom = 1;
  oom_tries = 0;
  uint64_t seq = fb_mixer_remove_async(m, p);
  oom = 0;
  atomic_fetch_add(&remove_alloc_tries, oom_tries);
  fb_reaper_add(r, p, 0, seq); /* net token 0: no net thread to wait for */
}

static int mixer_holds(fb_mixer *m, int n) {
  fb_mixer_stats st;
  fb_mixer_get_stats(m, &st);
  return st.participants == n;
}

/* Wait (bounded) until the running tick's table holds n participants. */
static int wait_holds(fb_mixer *m, int n, int ms) {
  for (int i = 0; i < ms && !mixer_holds(m, n); i++) fb_sleep_until_ns(fb_now_ns() + 1000000);
  return mixer_holds(m, n);
}

static int wait_reaped(fb_reaper *r, int ms) {
  for (int i = 0; i < ms && fb_reaper_pending(r); i++) fb_sleep_until_ns(fb_now_ns() + 1000000);
  return fb_reaper_pending(r) == 0;
}

static fb_mixer *new_mixer(int max_participants) {
  fb_mixer_config cfg = {.bitrate = 32000,
                         .complexity = 0,
                         .max_live = 8,
                         .max_participants = max_participants,
                         .jitter_max_ms = 60,
                         .limiter_threshold = 0.891f,
                         .tick_cpu = -1};
  return fb_mixer_new(&cfg, NULL, NULL, NULL);
}

/* -------------------------------------------- phase 1: no tick thread */

/* Without a tick the adds stay queued, so the removes come on top of a full
 * queue. */
static void test_without_tick(void) {
  enum { N = 64 };
  fb_mixer *m = new_mixer(N);
  fb_participant *p[N];
  for (int i = 0; i < N; i++) p[i] = fb_participant_new("q", 111, &null_tp);

  /* the hook works: the first add must grow the empty queue, and cannot */
  oom = 1;
  oom_tries = 0;
  int rc = fb_mixer_add(m, p[0], 0);
  oom = 0;
  CHECK(rc == -1 && oom_tries > 0, "an add that needs memory fails cleanly (rc %d, %lu tries)", rc,
        oom_tries);

  int added = 0;
  for (int i = 0; i < N; i++) added += fb_mixer_add(m, p[i], i < 4) == 0;
  CHECK(added == N, "%d of %d added", added, N);
  uint64_t last = 0;
  oom = 1;
  oom_tries = 0;
  for (int i = 0; i < N; i++) last = fb_mixer_remove_async(m, p[i]);
  oom = 0;
  CHECK(oom_tries == 0, "without a tick, %d removes tried %lu allocations", N, oom_tries);
  CHECK(fb_mixer_applied_seq(m) == last, "without a tick a remove is applied at once");
  fb_mixer_tick(m, fb_now_ns());
  CHECK(mixer_holds(m, 0), "the table is empty");
  int detached = 1;
  for (int i = 0; i < N; i++) detached &= p[i]->mixer_index == -1 && !p[i]->live;
  CHECK(detached, "every participant detached");
  fb_mixer_free(m);
  for (int i = 0; i < N; i++) fb_participant_free(p[i]);
}

/* ---------------------------- phase 2 and 3: the tick, threads, the reaper */

typedef struct {
  fb_mixer *m;
  fb_reaper *r;
  int first, n; /* phase 2: this thread's slice of parts[] */
  int added;    /* adds that succeeded */
} worker;

static void *burst_leave(void *arg) {
  worker *w = arg;
  for (int i = w->first; i < w->first + w->n; i++) leave(w->m, w->r, parts[i]);
  return NULL;
}

static void *churn(void *arg) {
  worker *w = arg;
  for (int k = 0; k < ROUNDS; k++) {
    fb_participant *p = new_participant(&null_tp);
    if (!p || fb_mixer_add(w->m, p, 0) < 0) continue;
    w->added++;
    if (k % 8 == 0) fb_sleep_until_ns(fb_now_ns() + 2000000); /* let ticks in between */
    leave(w->m, w->r, p);
  }
  return NULL;
}

/* Run fn on every worker; a leave that blocks ends the test (10 s). */
static void run_workers(void *(*fn)(void *), worker *w) {
  pthread_t t[THREADS];
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, fn, &w[i]);
  for (int i = 0; i < THREADS; i++) {
    int stuck = pthread_timedjoin_np(t[i], NULL, &until) != 0;
    CHECK(!stuck, "worker %d still joining or leaving after 10 s", i);
    if (stuck) exit(CHECK_DONE());
  }
}

static void test_with_tick(void) {
  fb_mixer *m = new_mixer(BURST + THREADS + 1);
  fb_reaper *r = fb_reaper_new(NULL, m, on_release, NULL);
  CHECK(m && r, "mixer and reaper");
  fb_participant *anchor = fb_participant_new("anchor", 111, &gate_tp);
  CHECK(fb_mixer_add(m, anchor, 0) == 0, "anchor added");
  CHECK(fb_mixer_start(m) == 0, "tick started");
  /* joins a few at a time, each batch applied by a tick: the queue itself
   * never holds more than a batch */
  int added = 0;
  for (int i = 0; i < BURST; i++) {
    fb_participant *p = new_participant(&null_tp);
    added += p && fb_mixer_add(m, p, i < 8) == 0;
    if (i % 16 == 15) wait_holds(m, added + 1, 1000);
  }
  CHECK(added == BURST && wait_holds(m, BURST + 1, 1000), "%d of %d joined", added, BURST);

  /* phase 2: the tick held, all leave at once: the removals queue up */
  gate_set(1);
  CHECK(gate_wait_held(), "the tick is held at the gate");
  uint64_t applied = fb_mixer_applied_seq(m);
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++)
    w[i] = (worker){.m = m, .r = r, .first = i * (BURST / THREADS), .n = BURST / THREADS};
  run_workers(burst_leave, w);
  CHECK(fb_mixer_applied_seq(m) == applied && fb_reaper_pending(r) == BURST,
        "%d removals queued behind the held tick (%d waiting), none released", BURST,
        fb_reaper_pending(r));
  gate_set(0);
  CHECK(wait_reaped(r, 3000), "all released once the tick went on (%d left)", fb_reaper_pending(r));

  /* phase 3: joins and leaves interleaved from every thread, tick running */
  added = 0;
  for (int i = 0; i < THREADS; i++) w[i] = (worker){.m = m, .r = r};
  run_workers(churn, w);
  for (int i = 0; i < THREADS; i++) added += w[i].added;
  CHECK(added == THREADS * ROUNDS, "every join admitted (%d of %d)", added, THREADS * ROUNDS);
  CHECK(wait_reaped(r, 3000), "all released (%d left)", fb_reaper_pending(r));
  CHECK(wait_holds(m, 1, 1000), "only the anchor left in the table");

  int n = atomic_load(&nparts), once = 0;
  for (int i = 0; i < n; i++) once += atomic_load(&releases[i]) == 1;
  CHECK(once == n, "%d of %d participants released exactly once", once, n);
  CHECK(atomic_load(&released_while_mixed) == 0, "%d released while the mixer still had them",
        atomic_load(&released_while_mixed));
  CHECK(atomic_load(&remove_alloc_tries) == 0, "removes tried %lu allocations",
        atomic_load(&remove_alloc_tries));

  fb_mixer_stop(m);
  fb_reaper_free(r);
  fb_mixer_free(m);
  fb_participant_free(anchor);
  for (int i = 0; i < n; i++) fb_participant_free(parts[i]);
}

int main(void) {
  test_without_tick();
  test_with_tick();
  return CHECK_DONE();
}
