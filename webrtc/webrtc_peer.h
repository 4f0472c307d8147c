/*
 * webrtc_peer.h — internal to the WebRTC transport (webrtc.c, webrtc_tx.c):
 * the per-participant state and the transport struct.
 *
 * Field ownership: net thread — rx, consent/ICE times; DTLS thread
 * (handshake.c) — dtls, failed, connected_ns; mixer thread (webrtc_tx.c) —
 * writes the sent_* counters, read by the net thread's RTCP; srtp is
 * published once by the DTLS thread (release) and then used by both others:
 * outbound RTP by the mixer, inbound and RTCP by the net thread, which are
 * separate directions inside fb_srtp.
 */
#ifndef FB_WEBRTC_PEER_H
#define FB_WEBRTC_PEER_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "util/clock.h"
#include "webrtc/dtls.h"
#include "webrtc/rtcp.h"
#include "webrtc/srtp_session.h"
#include "webrtc/stun.h"
#include "webrtc/webrtc.h"

#define FB_WEBRTC_BATCH 64
#define FB_WEBRTC_SLOT (1500 + FB_SRTP_TRAILER_MAX)

struct fb_webrtc_peer {
  fb_participant *p;
  char ufrag[FB_ICE_UFRAG_LEN + 1];
  char pwd[FB_ICE_PWD_LEN + 1];
  int audio_level_ext;

  /* net thread (ice_ns: written before has_address is published) */
  fb_rtcp_rx rx;
  uint64_t created_ns, ice_ns, last_consent_ns, next_rtcp_ns;

  /* DTLS thread */
  fb_dtls *dtls;
  uint64_t connected_ns;
  int failed;
  unsigned records;        /* DTLS records fed (for the failure message) */
  _Atomic(fb_srtp *) srtp; /* published once (release) */

  /* published by the net thread */
  atomic_int dtls_done; /* the browser's SRTP authenticated: DTLS state may go */
  atomic_int has_address;
  atomic_int consent_ok; /* RFC 7675: 0 = consent expired, send nothing */
  atomic_int audio_level;
  atomic_uint_fast64_t auth_fail, replay;

  /* written by the mixer thread */
  atomic_uint_fast64_t sent_packets, sent_octets, last_send_ns;
  atomic_uint last_rtp_ts;
};

/* The send side's batch, mixer thread only. */
typedef struct {
  fb_transport base;
  struct fb_webrtc *w;
  int n;
  struct mmsghdr msgs[FB_WEBRTC_BATCH];
  struct iovec iov[FB_WEBRTC_BATCH];
  struct sockaddr_storage to[FB_WEBRTC_BATCH];
  uint8_t slot[FB_WEBRTC_BATCH][FB_WEBRTC_SLOT];
  uint64_t protect_errors, send_errors, addr_busy;
} fb_webrtc_tx;

/* The DTLS thread's queue (handshake.c). */
struct fb_webrtc_hs_job;
typedef struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake, idle;
  struct fb_webrtc_hs_job *jobs; /* ring of HS_QUEUE */
  int head, count;
  fb_webrtc_peer *busy; /* whose record is being handled */
  int running, started;
  atomic_uint_fast64_t dropped;
} fb_webrtc_hs;

struct fb_webrtc {
  fb_net *net;
  fb_stun *stun;
  fb_dtls_ctx *dtls_ctx;
  uint64_t consent_timeout_ns;
  fb_webrtc_event_cb cb;
  void *cb_ud;
  pthread_mutex_t lock;   /* guards peers[] against attach/detach */
  atomic_int dtls_states; /* peers still holding their fb_dtls */
  fb_webrtc_peer **peers;
  int npeers, cappeers;
  fb_webrtc_tx tx;
  fb_webrtc_hs hs;
};

/* Set up the send side (webrtc_tx.c). */
void fb_webrtc_tx_init(struct fb_webrtc *w);

/* The transport's receive (webrtc.c, net thread): demultiplex by first byte
 * (RFC 7983): STUN answered here, DTLS queued for the DTLS thread, SRTP and
 * SRTCP unprotected here. */
void fb_webrtc_receive(fb_transport *t, fb_participant *p, uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, socklen_t fromlen, uint64_t now);

/* Log a peer event and hand it to the transport's callback (any thread). */
void fb_webrtc_emit(struct fb_webrtc *w, fb_participant *p, const char *ev, const char *detail);

/* The DTLS thread (handshake.c). start: allocate the queue and run it
 * (-1 on failure); stop: join it (idempotent); free: stop and free. */
int fb_webrtc_hs_start(struct fb_webrtc *w);
void fb_webrtc_hs_stop(struct fb_webrtc *w);
void fb_webrtc_hs_free(struct fb_webrtc *w);

/* Net thread: queue a copy of a DTLS datagram from peer's address from.
 * Dropped (and counted) when the queue is full. */
void fb_webrtc_hs_post(struct fb_webrtc *w, fb_webrtc_peer *peer, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, socklen_t fromlen);

/* Detach, once the net thread can no longer post for peer: drop its queued
 * records and wait until none of them is being handled. */
void fb_webrtc_hs_forget(struct fb_webrtc *w, fb_webrtc_peer *peer);

/* Free peer's DTLS state (the DTLS thread, or detach after forget). */
void fb_webrtc_release_dtls(struct fb_webrtc *w, fb_webrtc_peer *peer);

#endif
