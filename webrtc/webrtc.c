/*
 * webrtc.c — WebRTC transport: receive side and timers on the net thread
 * (ICE-lite checks, SRTP unprotect, RTCP, consent). DTLS records go to the
 * DTLS thread (handshake.c); the mixer-thread send side lives in
 * webrtc_tx.c. See webrtc.h for the threads and the lifecycle.
 *
 * Demultiplexing (RFC 7983) of a datagram from a known address: 0..3 STUN,
 * 20..63 DTLS, 128..191 RTP/RTCP (RTCP by packet type, RFC 5761). From an
 * unknown address only STUN gets here (net.c), and only a check with a
 * registered ufrag and valid integrity is ever answered, so the port cannot
 * reflect or amplify traffic.
 */
#define _GNU_SOURCE
#include "webrtc/webrtc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "webrtc/dtls.h"
#include "util/log.h"
#include "webrtc/rtcp.h"
#include "mixer/rtp.h"
#include "webrtc/srtp_session.h"
#include "webrtc/stun.h"
#include "webrtc/webrtc_peer.h"

#define RTCP_INTERVAL_NS 1000000000ull /* at most one report a second per peer */

/* RFC 3550 6.2: the report interval grows with the session so RTCP stays a
 * small share of the work: 1 s up to 1000 peers, then 1 ms per peer, each
 * randomised over [0.5, 1.5] so reports do not synchronise. */
static uint64_t rtcp_interval_ns(int npeers) {
  uint64_t base = RTCP_INTERVAL_NS;
  if (npeers > 1000) base = (uint64_t)npeers * 1000000ull;
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r) r = (uint32_t)fb_now_ns();
  return base / 2 + (uint64_t)r % base;
}

static void on_stranger(void *ud, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                        socklen_t fromlen, uint64_t now);
static void on_timer(void *ud, uint64_t now);
static void on_peer_removed(void *ud, fb_participant *p);

fb_webrtc *fb_webrtc_new(fb_net *net, int consent_timeout_s, fb_webrtc_event_cb cb, void *ud,
                         char *err, int errlen) {
  fb_webrtc *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->net = net;
  w->consent_timeout_ns =
      (uint64_t)(consent_timeout_s > 0 ? consent_timeout_s : 30) * 1000000000ull;
  w->cb = cb;
  w->cb_ud = ud;
  pthread_mutex_init(&w->lock, NULL);
  w->stun = fb_stun_new();
  w->dtls_ctx = fb_dtls_ctx_new(err, errlen);
  if (!w->stun || !w->dtls_ctx || fb_srtp_global_init() != 0) {
    if (w->stun && w->dtls_ctx)
      snprintf(err, errlen, "SRTP could not initialise (OpenSSL lacks AES or HMAC-SHA1)");
    fb_webrtc_free(w);
    return NULL;
  }
  fb_webrtc_tx_init(w);
  if (fb_webrtc_hs_start(w) != 0) {
    snprintf(err, errlen, "the DTLS thread could not start");
    fb_webrtc_free(w);
    return NULL;
  }
  fb_net_handler h = {
      .on_stranger = on_stranger, .on_timer = on_timer, .on_peer_removed = on_peer_removed};
  fb_net_set_handler(net, &h, w);
  return w;
}

void fb_webrtc_free(fb_webrtc *w) {
  if (!w) return;
  fb_webrtc_hs_free(w);
  fb_stun_free(w->stun);
  fb_dtls_ctx_free(w->dtls_ctx);
  free(w->peers);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

const char *fb_webrtc_fingerprint(const fb_webrtc *w) {
  return fb_dtls_ctx_fingerprint(w->dtls_ctx);
}

/* Take peer off the timer's list (the timer walks it under w->lock). */
static void unlist(fb_webrtc *w, fb_webrtc_peer *peer) {
  pthread_mutex_lock(&w->lock);
  for (int i = 0; i < w->npeers; i++)
    if (w->peers[i] == peer) {
      w->peers[i] = w->peers[--w->npeers];
      break;
    }
  pthread_mutex_unlock(&w->lock);
}

int fb_webrtc_attach(fb_webrtc *w, fb_participant *p, const char *remote_ufrag,
                     const char *remote_fingerprint, int audio_level_ext, char *ufrag,
                     size_t ufraglen, char *pwd, size_t pwdlen, char *err, size_t errlen) {
  fb_webrtc_peer *peer = calloc(1, sizeof *peer);
  if (!peer) {
    snprintf(err, errlen, "internal: out of memory");
    return -1;
  }
  peer->p = p;
  peer->audio_level_ext = audio_level_ext;
  atomic_store(&peer->audio_level, -1);
  peer->created_ns = fb_now_ns();
  atomic_store(&peer->consent_ok, 1);
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = (uint32_t)peer->created_ns;
  peer->next_rtcp_ns = peer->created_ns + RTCP_INTERVAL_NS + r % RTCP_INTERVAL_NS;
  if (fb_ice_credentials(peer->ufrag, peer->pwd) != 0) {
    snprintf(err, errlen, "internal: no randomness for ICE credentials");
    free(peer);
    return -1;
  }
  peer->dtls = fb_dtls_new(w->dtls_ctx, remote_fingerprint);
  if (!peer->dtls) {
    snprintf(err, errlen, "internal: DTLS could not start");
    free(peer);
    return -1;
  }
  /* Listed for the timer first, then made reachable (the STUN user): a
   * failure in between has nothing to wait for. */
  pthread_mutex_lock(&w->lock);
  if (w->npeers == w->cappeers) {
    int cap = w->cappeers ? 2 * w->cappeers : 64;
    fb_webrtc_peer **grown = realloc(w->peers, (size_t)cap * sizeof *grown);
    if (grown) w->peers = grown, w->cappeers = cap;
  }
  int listed = w->npeers < w->cappeers;
  if (listed) w->peers[w->npeers++] = peer;
  pthread_mutex_unlock(&w->lock);
  if (!listed || fb_stun_add_user(w->stun, peer->ufrag, peer->pwd, remote_ufrag, p) != 0) {
    snprintf(err, errlen, listed ? "bad_sdp: ICE credentials refused" : "full: out of memory");
    if (listed) unlist(w, peer);
    fb_dtls_free(peer->dtls);
    free(peer);
    return -1;
  }
  atomic_fetch_add_explicit(&w->dtls_states, 1, memory_order_relaxed);
  p->rtc = peer;
  snprintf(ufrag, ufraglen, "%s", peer->ufrag);
  snprintf(pwd, pwdlen, "%s", peer->pwd);
  return 0;
}

/* fb_net_unroute (any thread, net lock held): no new STUN check finds p after
 * this returns; one already being handled is covered by the net epoch. */
static void on_peer_removed(void *ud, fb_participant *p) {
  fb_webrtc *w = ud;
  if (p->rtc) fb_stun_remove_user(w->stun, p->rtc->ufrag); /* not a browser: nothing */
}

int fb_webrtc_dtls_states(fb_webrtc *w) {
  return atomic_load_explicit(&w->dtls_states, memory_order_relaxed);
}

void fb_webrtc_detach(fb_webrtc *w, fb_participant *p) {
  fb_webrtc_peer *peer = p->rtc;
  if (!peer) return;
  unlist(w, peer);              /* the DTLS thread's sweep no longer sees it */
  fb_webrtc_hs_forget(w, peer); /* nor any record of it */
  fb_srtp_free(atomic_load(&peer->srtp));
  fb_webrtc_release_dtls(w, peer);
  memset(peer->pwd, 0, sizeof peer->pwd);
  free(peer);
  p->rtc = NULL;
}

void fb_webrtc_stop(fb_webrtc *w) {
  if (w) fb_webrtc_hs_stop(w);
}

void fb_webrtc_emit(fb_webrtc *w, fb_participant *p, const char *ev, const char *detail) {
  fb_log(FB_LOG_INFO, "webrtc", "%s: %s%s%s", p->name, ev, detail[0] ? " — " : "", detail);
  if (w->cb) w->cb(w->cb_ud, p, ev, detail);
}

/* Copy p's current address (net thread: the writer itself, so never busy). */
static socklen_t peer_addr(fb_participant *p, struct sockaddr_storage *out) {
  return fb_participant_get_addr(p, out);
}

static void handle_stun(fb_webrtc *w, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                        socklen_t fromlen, uint64_t now) {
  uint8_t out[FB_STUN_MAX_OUT];
  fb_stun_result res;
  int n = fb_stun_handle(w->stun, buf, len, (const struct sockaddr *)from, fromlen, out, sizeof out,
                         &res);
  if (n <= 0) return;
  fb_net_sendto(w->net, out, (size_t)n, from, fromlen);
  fb_participant *p = res.user;
  fb_webrtc_peer *peer = p->rtc;
  peer->last_consent_ns = now;
  if (!atomic_exchange(&peer->consent_ok, 1)) fb_webrtc_emit(w, p, "consent_restored", "");
  int bound = atomic_load_explicit(&peer->has_address, memory_order_relaxed);
  /* ICE-lite: the controlling browser nominates; before any nomination the
   * first valid check gives us somewhere to send. A nominated check from a
   * new address is a NAT rebinding (or a better pair): follow it. */
  if (!bound || res.use_candidate) {
    if (fb_net_rebind(w->net, p, from, fromlen) == 0) {
      if (!bound) {
        peer->ice_ns = now; /* before has_address: the DTLS thread reads it after */
        atomic_store_explicit(&peer->has_address, 1, memory_order_release);
        fb_webrtc_emit(w, p, "ice_connected", "");
      }
    }
  }
}

/* RFC 6464 level from an RFC 8285 one-byte-header extension block. */
static int audio_level(const fb_rtp *r, int id) {
  if (!r->ext || r->ext_profile != 0xBEDE || id <= 0) return -1;
  size_t i = 0;
  while (i < r->ext_len) {
    uint8_t b = r->ext[i];
    if (b == 0) {
      i++;
      continue;
    } /* padding */
    int eid = b >> 4, elen = (b & 0x0f) + 1;
    if (eid == 15 || i + 1 + (size_t)elen > r->ext_len) return -1;
    if (eid == id) return r->ext[i + 1] & 0x7f;
    i += 1 + (size_t)elen;
  }
  return -1;
}

/* The browser has our Finished (it sent SRTP): the DTLS thread may free the
 * handshake state at its next sweep. */
static void dtls_done(fb_webrtc_peer *peer) {
  if (!atomic_load_explicit(&peer->dtls_done, memory_order_relaxed))
    atomic_store_explicit(&peer->dtls_done, 1, memory_order_relaxed);
}

static void handle_srtp(fb_webrtc *w, fb_participant *p, uint8_t *buf, size_t len, uint64_t now) {
  fb_webrtc_peer *peer = p->rtc;
  fb_srtp *s = atomic_load_explicit(&peer->srtp, memory_order_acquire);
  if (!s || len > 1500) return;
  int n = (int)len;
  if (fb_is_rtcp(buf, len)) {
    /* The browser's reports only feed the RTT of a score, and only decoded
     * participants (live, mic check) are scored: a listener's reports are
     * dropped unread, which keeps SRTCP off the net thread's
     * profile at thousands of listeners. Until the DTLS state is released,
     * one is read to learn that the browser has finished the handshake. */
    if (!atomic_load_explicit(&p->want_uplink, memory_order_relaxed)) {
      if (!atomic_load_explicit(&peer->dtls_done, memory_order_relaxed) &&
          fb_srtp_unprotect_rtcp(s, buf, &n) == FB_SRTP_OK)
        dtls_done(peer);
      return;
    }
    if (fb_srtp_unprotect_rtcp(s, buf, &n) != FB_SRTP_OK) return;
    dtls_done(peer);
    fb_rtcp_info info;
    if (fb_rtcp_parse(buf, (size_t)n, p->ssrc, &info) < 0) return;
    if (info.has_sr) {
      peer->rx.last_sr_mid = info.sr_ntp_mid;
      peer->rx.last_sr_arrival_ns = now;
    }
    if (info.has_block) {
      int64_t rtt = fb_rtcp_rtt_us(&info.block, fb_ntp_now());
      if (rtt >= 0) atomic_store(&p->rtt_us, rtt);
    }
    return;
  }
  int rc = fb_srtp_unprotect(s, buf, &n);
  if (rc != FB_SRTP_OK) {
    if (rc == FB_SRTP_ERR_AUTH)
      atomic_fetch_add(&peer->auth_fail, 1);
    else if (rc == FB_SRTP_ERR_REPLAY)
      atomic_fetch_add(&peer->replay, 1);
    return;
  }
  dtls_done(peer);
  fb_rtp r;
  if (fb_rtp_parse(buf, (size_t)n, &r) < 0 || r.payload_len == 0) return;
  fb_rtcp_rx_update(&peer->rx, r.ssrc, r.seq, r.ts, now, 48000);
  int lvl = audio_level(&r, peer->audio_level_ext);
  if (lvl >= 0) atomic_store_explicit(&peer->audio_level, lvl, memory_order_relaxed);
  fb_participant_push_uplink(p, r.pt, r.seq, r.ts, r.payload, r.payload_len, now);
}

/* A STUN check from an address no participant has yet (net's stranger hook). */
static void on_stranger(void *ud, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                        socklen_t fromlen, uint64_t now) {
  handle_stun(ud, buf, len, from, fromlen, now);
}

void fb_webrtc_receive(fb_transport *t, fb_participant *p, uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, socklen_t fromlen, uint64_t now) {
  fb_webrtc *w = ((fb_webrtc_tx *)t)->w;
  uint8_t b0 = buf[0];
  if (b0 < 4)
    handle_stun(w, buf, len, from, fromlen, now);
  else if (b0 >= 20 && b0 <= 63)
    fb_webrtc_hs_post(w, p->rtc, buf, len, from, fromlen);
  else if (b0 >= 128 && b0 <= 191)
    handle_srtp(w, p, buf, len, now);
}

/* Sender report for our downlink plus a report block for the uplink. */
static void send_rtcp(fb_webrtc *w, fb_participant *p, fb_webrtc_peer *peer, fb_srtp *s,
                      uint64_t now, const struct sockaddr_storage *to, socklen_t tolen) {
  uint8_t pkt[256 + FB_SRTP_TRAILER_MAX];
  fb_rtcp_block rb;
  int have_rb = fb_rtcp_rx_block(&peer->rx, now, &rb) == 0;
  uint64_t sent_ns = atomic_load_explicit(&peer->last_send_ns, memory_order_relaxed);
  uint32_t rtp_ts = atomic_load_explicit(&peer->last_rtp_ts, memory_order_relaxed);
  if (sent_ns && now > sent_ns) rtp_ts += (uint32_t)((now - sent_ns) * 48 / 1000000);
  size_t n = fb_rtcp_build_sr(
      pkt, 256, p->ssrc, fb_ntp_now(), rtp_ts, (uint32_t)atomic_load(&peer->sent_packets),
      (uint32_t)atomic_load(&peer->sent_octets), have_rb ? &rb : NULL, "floorbridge");
  int len = (int)n;
  if (n && fb_srtp_protect_rtcp(s, pkt, &len, (int)sizeof pkt) == FB_SRTP_OK)
    fb_net_sendto(w->net, pkt, (size_t)len, to, tolen);
}

static void on_timer(void *ud, uint64_t now) {
  fb_webrtc *w = ud;
  pthread_mutex_lock(&w->lock);
  for (int i = 0; i < w->npeers; i++) {
    fb_webrtc_peer *peer = w->peers[i];
    fb_participant *p = peer->p;
    int bound = atomic_load_explicit(&peer->has_address, memory_order_acquire);
    struct sockaddr_storage to;
    socklen_t tolen = bound ? peer_addr(p, &to) : 0;
    fb_srtp *s = atomic_load_explicit(&peer->srtp, memory_order_acquire);
    uint64_t since = peer->last_consent_ns ? peer->last_consent_ns : peer->created_ns;
    if (atomic_load(&peer->consent_ok) && now > since + w->consent_timeout_ns) {
      /* RFC 7675 5.1: stop sending until a check succeeds again */
      atomic_store(&peer->consent_ok, 0);
      fb_webrtc_emit(w, p, "consent_lost",
                     peer->last_consent_ns ? "no connectivity checks from the browser"
                                           : "the browser never completed ICE");
    }
    if (s && bound && atomic_load(&peer->consent_ok) && now >= peer->next_rtcp_ns) {
      send_rtcp(w, p, peer, s, now, &to, tolen);
      peer->next_rtcp_ns = now + rtcp_interval_ns(w->npeers);
    }
  }
  pthread_mutex_unlock(&w->lock);
}

void fb_webrtc_get_peer_stats(fb_participant *p, fb_webrtc_peer_stats *o) {
  memset(o, 0, sizeof *o);
  fb_webrtc_peer *peer = p->rtc;
  if (!peer) return;
  o->has_address = atomic_load(&peer->has_address);
  o->media = atomic_load(&peer->srtp) != NULL;
  o->rtt_us = atomic_load(&p->rtt_us);
  o->audio_level = atomic_load(&peer->audio_level);
  o->srtp_auth_fail = atomic_load(&peer->auth_fail);
  o->srtp_replay = atomic_load(&peer->replay);
  /* rx stats are net-thread state; a torn read here only skews a display */
  o->uplink_jitter_ms = peer->rx.jitter / 48.0;
  uint32_t expected = peer->rx.cycles + peer->rx.max_seq - peer->rx.base_seq + 1;
  o->uplink_lost =
      peer->rx.received && expected > peer->rx.received ? expected - peer->rx.received : 0;
}
