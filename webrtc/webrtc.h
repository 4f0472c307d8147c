/*
 * webrtc.h — the WebRTC media transport on the shared UDP port: ICE-lite
 * (answer checks, learn and follow the browser's address), DTLS-SRTP
 * (handshake, keys), SRTP/SRTCP, consent freshness (RFC 7675) and RTCP
 * (sender reports for our downlink, report blocks for the uplink, RTT from the
 * browser's reports).
 *
 * Threads: receiving (STUN checks, SRTP unprotect), consent and RTCP run on
 * the net thread (through net.h's handler hooks). DTLS records, handshake
 * timers and the release of DTLS state run on the DTLS thread ("fb-dtls",
 * handshake.c, below the net thread's priority): the net thread only queues
 * a copy of each DTLS datagram, so a burst of handshakes never sits in front
 * of the live speakers' packets. The mixer thread only calls the transport's
 * send/flush, which SRTP-protect RTP with the outbound session and sendmmsg
 * it. Attach comes from the signalling thread, detach from the reaper.
 *
 * A peer's life: attach (credentials, DTLS object, STUN user) -> the browser's
 * valid checks give it an address -> DTLS handshake -> SRTP keys -> media.
 * Removal: fb_net_unroute (no more datagrams reach it) and
 * fb_mixer_remove_async (no more sends); once the net thread is quiescent and
 * the tick has applied the removal (the bridge's reaper checks both),
 * fb_webrtc_detach frees it.
 */
#ifndef FB_WEBRTC_H
#define FB_WEBRTC_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "mixer/participant.h"

typedef struct fb_webrtc fb_webrtc;
typedef struct fb_webrtc_peer fb_webrtc_peer;

/* Peer events, called on the net thread ("ice_connected", "consent_lost",
 * "consent_restored") or the DTLS thread ("media_connected", "dtls_failed",
 * "dtls_closed"); for one peer, ice_connected always comes first. */
typedef void (*fb_webrtc_event_cb)(void *ud, fb_participant *p, const char *event,
                                   const char *detail);

/* Create the transport on net's socket and install its net hooks (before
 * fb_net_start). consent_timeout_s: a peer whose checks stop for this long is
 * reported lost. NULL with a message in err on failure. */
fb_webrtc *fb_webrtc_new(fb_net *net, int consent_timeout_s, fb_webrtc_event_cb cb, void *ud,
                         char *err, int errlen);

/* Stop the DTLS thread (after fb_net_stop): no event is reported after this
 * returns. Peers can still be detached. */
void fb_webrtc_stop(fb_webrtc *w);

/* Free (after the net thread and the mixer stopped and every peer detached). */
void fb_webrtc_free(fb_webrtc *w);

/* The transport participants joined over WebRTC send through. */
fb_transport *fb_webrtc_transport(fb_webrtc *w);

/* "sha-256 AB:CD:..." of our DTLS certificate, for the SDP answer. */
const char *fb_webrtc_fingerprint(const fb_webrtc *w);

/* Give p (tr = fb_webrtc_transport) its WebRTC state: fresh ICE credentials
 * (written to ufrag/pwd for the answer), a DTLS server expecting the
 * browser's certificate fingerprint, and a STUN user so its checks are
 * answered. audio_level_ext: extmap id of RFC 6464 audio levels, 0 if none.
 * Returns 0, or -1 with a message. */
int fb_webrtc_attach(fb_webrtc *w, fb_participant *p, const char *remote_ufrag,
                     const char *remote_fingerprint, int audio_level_ext, char *ufrag,
                     size_t ufraglen, char *pwd, size_t pwdlen, char *err, size_t errlen);

/* Free p's WebRTC state. Only once neither the net thread nor the mixer can
 * reach p (after fb_net_quiescent and the tick applied its removal). */
void fb_webrtc_detach(fb_webrtc *w, fb_participant *p);

typedef struct {
  int has_address;         /* ICE: a valid check was answered */
  int media;               /* DTLS done, SRTP keys in place */
  int64_t rtt_us;          /* from the browser's receiver reports, -1 unknown */
  int audio_level;         /* last RFC 6464 level, -dBov (0..127), -1 unknown */
  uint64_t srtp_auth_fail; /* uplink packets that failed authentication */
  uint64_t srtp_replay;    /* uplink replays dropped */
  uint32_t uplink_lost;    /* cumulative lost (RFC 3550) */
  double uplink_jitter_ms; /* RFC 3550 interarrival jitter */
} fb_webrtc_peer_stats;

/* Participants still holding DTLS handshake state (any thread): it is
 * released once the browser's first SRTP/SRTCP packet authenticates, or 30 s
 * after the handshake for a browser that sends nothing. */
int fb_webrtc_dtls_states(fb_webrtc *w);

/* DTLS datagrams dropped because the DTLS thread's queue was full (the
 * browser retransmits them). */
uint64_t fb_webrtc_dtls_dropped(const fb_webrtc *w);

/* Snapshot of p's transport-level counters (any thread; values may be a
 * moment old). */
void fb_webrtc_get_peer_stats(fb_participant *p, fb_webrtc_peer_stats *out);

#endif
