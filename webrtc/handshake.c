/*
 * handshake.c — the DTLS thread ("fb-dtls"): every DTLS record, retransmit
 * timer and release of a peer's DTLS state, off the receive path.
 *
 * A handshake costs the bridge an ECDHE key exchange and an ECDSA signature
 * (about a millisecond of CPU). Run on the net thread, a burst of 200 joins
 * put 200 of them in front of the live speakers' packets. Here the net
 * thread only copies a DTLS datagram into a bounded queue and goes on; this
 * thread runs at a lower priority (SCHED_OTHER, nice HS_NICE, even when the
 * process is real-time), so the net thread and the tick always come first
 * and handshakes take what CPU is left.
 *
 * Ownership: peer->dtls, peer->failed and peer->connected_ns belong to this
 * thread from attach to detach. The net thread asks for a release by setting
 * peer->dtls_done (the browser's first authenticated SRTP/SRTCP); the sweep
 * here frees it. peer->srtp is published here (release) once.
 *
 * Lifetime: a job names its peer. fb_webrtc_hs_forget (detach, once the net
 * thread can no longer post for the peer) drops the peer's queued jobs and
 * waits while its job is being handled; the sweep walks w->peers under
 * w->lock, which detach's unlist also takes. Locks: hs.lock and w->lock are
 * never held together.
 *
 * A full queue drops the datagram (counted): the browser retransmits its
 * flight, as it would after a loss on the wire.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/log.h"
#include "webrtc/webrtc_peer.h"

#define HS_QUEUE 512                             /* datagrams waiting: ~2 per join */
#define HS_SWEEP_NS 20000000ull                  /* timers and releases every 20 ms */
#define HS_NICE 10                               /* below the net thread's share */
#define DTLS_DEADLINE_NS (20ull * 1000000000ull) /* ICE ok but no DTLS for 20 s */
/* After the handshake the DTLS association is only needed to resend our
 * final flight if the browser's Finished is retransmitted (its copy of ours
 * was lost). The browser sends SRTP/SRTCP only once it has our Finished, so
 * the first packet from it that authenticates releases the SSL object and
 * its record buffers (~70 KiB a participant, most of a listener's peak
 * memory: held 30 s, a join rate of 100/s kept 3000 of them alive); a peer
 * that sends nothing keeps them for DTLS_KEEP_NS. Later DTLS records are
 * ignored. */
#define DTLS_KEEP_NS (30ull * 1000000000ull)

struct fb_webrtc_hs_job {
  fb_webrtc_peer *peer;
  struct sockaddr_storage from;
  socklen_t fromlen;
  uint16_t len;
  uint8_t data[1500];
};

void fb_webrtc_release_dtls(fb_webrtc *w, fb_webrtc_peer *peer) {
  if (!peer->dtls) return;
  fb_dtls_free(peer->dtls);
  peer->dtls = NULL;
  atomic_fetch_sub_explicit(&w->dtls_states, 1, memory_order_relaxed);
}

static void send_dtls_out(fb_webrtc *w, fb_webrtc_peer *peer, const struct sockaddr_storage *to,
                          socklen_t tolen) {
  uint8_t out[FB_DTLS_MTU + 64];
  int n;
  while ((n = fb_dtls_next_outgoing(peer->dtls, out, sizeof out)) > 0)
    fb_net_sendto(w->net, out, (size_t)n, to, tolen);
}

static void fail(fb_webrtc *w, fb_webrtc_peer *peer, const char *ev, const char *why) {
  peer->failed = 1;
  fb_webrtc_emit(w, peer->p, ev, why);
}

static void handle_record(fb_webrtc *w, struct fb_webrtc_hs_job *j) {
  fb_webrtc_peer *peer = j->peer;
  if (!peer->dtls) return; /* released after the handshake */
  peer->records++;
  int rc = fb_dtls_feed(peer->dtls, j->data, j->len);
  if (rc == FB_DTLS_CONNECTED && !atomic_load_explicit(&peer->srtp, memory_order_relaxed)) {
    /* The keys are published before our last flight leaves: the browser
     * sends SRTP as soon as it has our Finished, and the net thread drops
     * what it cannot yet unprotect. */
    fb_srtp_keys keys;
    fb_srtp *s = NULL;
    if (fb_dtls_srtp_keys(peer->dtls, &keys) == 0) s = fb_srtp_new(&keys);
    memset(&keys, 0, sizeof keys);
    if (!s) {
      fail(w, peer, "dtls_failed", "SRTP keys could not be set up");
      return;
    }
    atomic_store_explicit(&peer->srtp, s, memory_order_release);
    send_dtls_out(w, peer, &j->from, j->fromlen);
    peer->connected_ns = fb_now_ns();
    fb_webrtc_emit(w, peer->p, "media_connected", "");
    return;
  }
  send_dtls_out(w, peer, &j->from, j->fromlen);
  if ((rc == FB_DTLS_FAILED || rc == FB_DTLS_CLOSED) && !peer->failed)
    fail(w, peer, rc == FB_DTLS_FAILED ? "dtls_failed" : "dtls_closed", fb_dtls_error(peer->dtls));
}

/* Retransmit timers, the 20 s deadline and releases (w->lock held). */
static void sweep_peer(fb_webrtc *w, fb_webrtc_peer *peer, uint64_t now) {
  if (!peer->dtls) return;
  fb_srtp *s = atomic_load_explicit(&peer->srtp, memory_order_acquire);
  if (s && (atomic_load_explicit(&peer->dtls_done, memory_order_relaxed) ||
            (peer->connected_ns && now > peer->connected_ns &&
             now - peer->connected_ns > DTLS_KEEP_NS))) {
    fb_webrtc_release_dtls(w, peer);
    return;
  }
  if (s || peer->failed || !atomic_load_explicit(&peer->has_address, memory_order_acquire)) return;
  if (fb_dtls_next_timeout_ns(peer->dtls) <= now) {
    struct sockaddr_storage to;
    socklen_t tolen = fb_participant_get_addr(peer->p, &to);
    int rc = fb_dtls_handle_timeout(peer->dtls, now);
    if (tolen) send_dtls_out(w, peer, &to, tolen);
    if (rc == FB_DTLS_FAILED) {
      fail(w, peer, "dtls_failed", "handshake timed out");
      return;
    }
  }
  /* ice_ns is written before has_address is published (acquired above),
   * and may be later than this sweep's now: never subtract past zero */
  if (now > peer->ice_ns && now - peer->ice_ns > DTLS_DEADLINE_NS) {
    char why[96];
    snprintf(why, sizeof why, "no DTLS handshake within 20 s of ICE (%u records received)",
             peer->records);
    fail(w, peer, "dtls_failed", why);
  }
}

static void sweep(fb_webrtc *w, uint64_t now) {
  /* in a steady meeting nobody holds DTLS state: no walk over every peer */
  if (atomic_load_explicit(&w->dtls_states, memory_order_relaxed) == 0) return;
  pthread_mutex_lock(&w->lock);
  for (int i = 0; i < w->npeers; i++) sweep_peer(w, w->peers[i], now);
  pthread_mutex_unlock(&w->lock);
}

/* Below the net thread and the tick, whatever the process was started as. */
static void lower_priority(void) {
  struct sched_param sp = {.sched_priority = 0};
  pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
  if (setpriority(PRIO_PROCESS, (id_t)gettid(), HS_NICE) != 0)
    fb_log(FB_LOG_WARN, "webrtc", "could not lower the DTLS thread's priority (%s)",
           strerror(errno));
}

static void *hs_main(void *arg) {
  fb_webrtc *w = arg;
  fb_webrtc_hs *hs = &w->hs;
  struct fb_webrtc_hs_job job; /* one record, copied out of the queue */
  pthread_setname_np(pthread_self(), "fb-dtls");
  lower_priority();
  uint64_t next_sweep = fb_now_ns() + HS_SWEEP_NS;
  pthread_mutex_lock(&hs->lock);
  while (hs->running) {
    if (hs->count == 0) {
      struct timespec until = {.tv_sec = (time_t)(next_sweep / 1000000000ull),
                               .tv_nsec = (long)(next_sweep % 1000000000ull)};
      pthread_cond_timedwait(&hs->wake, &hs->lock, &until);
    }
    while (hs->count > 0 && hs->running) {
      /* copied out, so that forget never races with the handler on a slot */
      job = hs->jobs[hs->head];
      hs->head = (hs->head + 1) % HS_QUEUE;
      hs->count--;
      hs->busy = job.peer;
      pthread_mutex_unlock(&hs->lock);
      if (job.peer) handle_record(w, &job);
      pthread_mutex_lock(&hs->lock);
      hs->busy = NULL;
      pthread_cond_broadcast(&hs->idle);
    }
    uint64_t now = fb_now_ns();
    if (now >= next_sweep) {
      pthread_mutex_unlock(&hs->lock);
      sweep(w, now);
      pthread_mutex_lock(&hs->lock);
      next_sweep = now + HS_SWEEP_NS;
    }
  }
  pthread_mutex_unlock(&hs->lock);
  return NULL;
}

int fb_webrtc_hs_start(fb_webrtc *w) {
  fb_webrtc_hs *hs = &w->hs;
  hs->jobs = calloc(HS_QUEUE, sizeof *hs->jobs);
  if (!hs->jobs) return -1;
  pthread_mutex_init(&hs->lock, NULL);
  /* timed waits against CLOCK_MONOTONIC, the clock of fb_now_ns */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&hs->wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&hs->idle, NULL);
  hs->running = 1;
  if (pthread_create(&hs->thread, NULL, hs_main, w) != 0) {
    hs->running = 0;
    return -1;
  }
  hs->started = 1;
  return 0;
}

void fb_webrtc_hs_stop(fb_webrtc *w) {
  fb_webrtc_hs *hs = &w->hs;
  if (!hs->started) return;
  pthread_mutex_lock(&hs->lock);
  hs->running = 0;
  pthread_cond_signal(&hs->wake);
  pthread_mutex_unlock(&hs->lock);
  pthread_join(hs->thread, NULL);
  hs->started = 0;
}

void fb_webrtc_hs_free(fb_webrtc *w) {
  fb_webrtc_hs *hs = &w->hs;
  if (!hs->jobs) return;
  fb_webrtc_hs_stop(w);
  pthread_cond_destroy(&hs->wake);
  pthread_cond_destroy(&hs->idle);
  pthread_mutex_destroy(&hs->lock);
  free(hs->jobs);
  hs->jobs = NULL;
}

void fb_webrtc_hs_post(fb_webrtc *w, fb_webrtc_peer *peer, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, socklen_t fromlen) {
  fb_webrtc_hs *hs = &w->hs;
  if (len > sizeof hs->jobs[0].data) return;
  pthread_mutex_lock(&hs->lock);
  if (!hs->running || hs->count == HS_QUEUE) {
    pthread_mutex_unlock(&hs->lock);
    atomic_fetch_add_explicit(&hs->dropped, 1, memory_order_relaxed);
    return;
  }
  struct fb_webrtc_hs_job *j = &hs->jobs[(hs->head + hs->count) % HS_QUEUE];
  j->peer = peer;
  memcpy(&j->from, from, sizeof j->from);
  j->fromlen = fromlen;
  j->len = (uint16_t)len;
  memcpy(j->data, buf, len);
  hs->count++;
  pthread_cond_signal(&hs->wake);
  pthread_mutex_unlock(&hs->lock);
}

void fb_webrtc_hs_forget(fb_webrtc *w, fb_webrtc_peer *peer) {
  fb_webrtc_hs *hs = &w->hs;
  if (!hs->jobs) return;
  pthread_mutex_lock(&hs->lock);
  /* queued jobs for it become no-ops (the queue keeps its order) */
  for (int i = 0; i < hs->count; i++) {
    struct fb_webrtc_hs_job *j = &hs->jobs[(hs->head + i) % HS_QUEUE];
    if (j->peer == peer) j->peer = NULL;
  }
  while (hs->busy == peer) pthread_cond_wait(&hs->idle, &hs->lock);
  pthread_mutex_unlock(&hs->lock);
}

uint64_t fb_webrtc_dtls_dropped(const fb_webrtc *w) {
  return atomic_load_explicit(&w->hs.dropped, memory_order_relaxed);
}
