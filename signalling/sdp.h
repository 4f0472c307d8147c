/*
 * sdp.h — the browser's SDP offer in, our SDP answer out (WebRTC audio, one
 * m-line used, JSEP/RFC 3264 offer-answer). Parsing and writing go through
 * GStreamer's GstSDPMessage; everything else here is checking.
 *
 * The offer: only the FIRST audio m-line with a non-zero port is used. It
 * must be DTLS-SRTP (…/SAVPF), carry ICE credentials (media or session
 * level), a sha-256 fingerprint (media or session level), rtcp-mux, and
 * opus/48000/2. a=setup:passive is refused (we are passive: the DTLS server).
 * Every other m-line (video, data channel, a second audio) is rejected in the
 * answer with port 0, and only the audio mid stays in a=group:BUNDLE.
 *
 * The answer: ICE-lite, one host candidate, a=setup:passive, opus at the
 * offer's payload type (mono, in-band FEC), the ssrc-audio-level extension
 * at the offer's id when offered, and a direction that is what we want
 * (sendrecv for speakers, sendonly for listen-only) intersected with what the
 * offer allows (RFC 3264 6.1).
 *
 * Errors have stable codes (fb_sdp_error_code): "bad_sdp" (unparseable,
 * larger than FB_SDP_MAX_BYTES, no ICE credentials, no or non-sha-256
 * fingerprint, no rtcp-mux, setup:passive, not DTLS-SRTP, too many m-lines)
 * and "no_audio" (no usable audio m-line, or no opus in it).
 *
 * Pure functions, no global state: safe on any thread.
 */
#ifndef FB_SDP_H
#define FB_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/bridge.h"

#define FB_SDP_MAX_BYTES 65536 /* a longer offer is bad_sdp */
#define FB_SDP_MAX_MEDIA 32    /* more m-lines than this is bad_sdp */

typedef enum { FB_SDP_OK = 0, FB_SDP_BAD, FB_SDP_NO_AUDIO } fb_sdp_error;

/* One m-line of the offer, as much as the answer needs to echo it. */
typedef struct {
  char kind[16];   /* "audio", "video", "application", ... */
  char proto[32];  /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... */
  char format[32]; /* the first format ("111", "webrtc-datachannel") */
  char mid[64];    /* "" when the m-line has no a=mid */
} fb_sdp_media;

/* What we keep of an offer (all strings NUL-terminated, owned here). */
typedef struct {
  char ice_ufrag[257];   /* 4..256 ice-chars */
  char ice_pwd[257];     /* 22..256 ice-chars */
  char fingerprint[128]; /* normalised: "sha-256 AB:CD:..." (upper-case hex) */
  char setup[16];        /* "actpass" or "active" ("actpass" when absent) */
  char mid[64];          /* of the audio m-line; "" when it has none */
  char direction[16];    /* of the audio m-line: sendrecv|sendonly|recvonly|inactive */
  int opus_pt;           /* payload type of opus/48000/2 */
  int audio_level_ext;   /* extmap id of urn:ietf:params:rtp-hdrext:ssrc-audio-level, 0 if none */
  int rtcp_mux;          /* always 1 in a parsed offer (required) */
  int audio_index;       /* which m-line is the audio we use */
  int n_media;           /* m-lines in the offer (all echoed in the answer) */
  fb_sdp_media media[FB_SDP_MAX_MEDIA];
} fb_sdp_offer;

/* Parse and check an offer of len bytes (need not be NUL-terminated; a NUL
 * inside is bad_sdp). On FB_SDP_OK fills *out; otherwise writes a one-line
 * human reason into err. */
fb_sdp_error fb_sdp_parse_offer(const char *text, size_t len, fb_sdp_offer *out, char *err,
                                size_t errlen);

/* "bad_sdp", "no_audio" ("ok" for FB_SDP_OK). */
const char *fb_sdp_error_code(fb_sdp_error e);

/* Point w's fields at o's storage (valid while o lives). */
void fb_sdp_offer_to_webrtc(const fb_sdp_offer *o, fb_webrtc_offer *w);

/* Build our answer to offer with the transport details in ans. uplink: 0 for a
 * listen-only participant (we only send). Returns a malloc'd NUL-terminated
 * SDP (CRLF line ends) to free(), or NULL with a reason in err when ans is
 * unusable (bad address, port, credentials or fingerprint). */
char *fb_sdp_build_answer(const fb_sdp_offer *offer, const fb_webrtc_answer *ans, int uplink,
                          char *err, size_t errlen);

#endif
