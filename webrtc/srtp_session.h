/*
 * srtp_session.h — SRTP/SRTCP protection for one participant.
 *
 * An fb_srtp owns the four directions (RTP and SRTCP, in and out; written
 * on OpenSSL in srtp_fast.h, byte-identical to libsrtp) keyed from one
 * DTLS-SRTP handshake (webrtc/dtls.h produces the fb_srtp_keys). It does not know about sockets,
 * RTP parsing or participants: callers hand it whole packets in their own
 * buffers and it encrypts/authenticates (protect) or checks/decrypts
 * (unprotect) them in place.
 *
 * Threading: an fb_srtp holds independent directions so that the two
 * threads of the media path never share one:
 *   - outbound RTP   (fb_srtp_protect)        — the mixer thread sends audio;
 *   - outbound RTCP  (fb_srtp_protect_rtcp)   — reports may come from another
 *                                               thread (e.g. the net thread);
 *   - inbound RTP and RTCP (fb_srtp_unprotect, fb_srtp_unprotect_rtcp) — the
 *                                               net thread.
 * Each of the three groups must be called from one thread at a time (or be
 * serialised by the caller); different groups may run concurrently. The stats
 * counters are atomics, so fb_srtp_get_stats may be called from any thread.
 * fb_srtp_new and fb_srtp_free must not race with any other call.
 *
 * Buffers: protect grows the packet by the authentication tag (and the SRTCP
 * index); cap must be at least *len + FB_SRTP_TRAILER_MAX, libsrtp's bound,
 * kept so that buffers sized for it stay valid.
 */
#ifndef FB_SRTP_SESSION_H
#define FB_SRTP_SESSION_H

#include <stdint.h>

/* DTLS-SRTP protection profiles, by their IANA ids (RFC 5764, RFC 7714). */
#define FB_SRTP_PROFILE_AES128_CM_SHA1_80 0x0001
#define FB_SRTP_PROFILE_AEAD_AES_128_GCM 0x0007

/* Largest master key + master salt we handle (AES-256 key + 14-byte salt). */
#define FB_SRTP_MASTER_MAX 46

/* Free space protect/protect_rtcp need after the packet (libsrtp's
 * SRTP_MAX_TRAILER_LEN + 4 for the SRTCP index, as when libsrtp did the
 * work). The packet actually grows by at most 16 bytes (RTP) or 20 bytes
 * (RTCP) with the profiles above. */
#define FB_SRTP_TRAILER_MAX 148

/* Keys for one participant as seen from this side of the DTLS association.
 * local = our outbound master key followed by its salt (key_len + salt_len
 * bytes); remote = the peer's (used to unprotect what it sends). */
typedef struct {
  int profile;                        /* FB_SRTP_PROFILE_* */
  int key_len;                        /* 16 for both profiles */
  int salt_len;                       /* 14 (AES-CM) or 12 (GCM) */
  uint8_t local[FB_SRTP_MASTER_MAX];  /* key || salt */
  uint8_t remote[FB_SRTP_MASTER_MAX]; /* key || salt */
} fb_srtp_keys;

/* Counters since fb_srtp_new (RTP and RTCP together). */
typedef struct {
  uint64_t protect_ok;
  uint64_t unprotect_ok;
  uint64_t auth_fail;   /* unprotect: tag did not verify (tampered, wrong key) */
  uint64_t replay_fail; /* unprotect: index already seen or too old */
  uint64_t other_fail;  /* anything else, both directions (bad length, ...) */
} fb_srtp_stats;

/* Return codes of the protect/unprotect functions. */
#define FB_SRTP_OK 0
#define FB_SRTP_ERR_AUTH -1   /* authentication failed (unprotect) */
#define FB_SRTP_ERR_REPLAY -2 /* replayed or too old (unprotect) */
#define FB_SRTP_ERR_ARG -3    /* packet too short, no room for the trailer */
#define FB_SRTP_ERR_OTHER -4  /* any other error (OpenSSL failed, ...) */

typedef struct fb_srtp fb_srtp;

/* Prepare the shared crypto state once per process (pthread_once; safe from
 * any thread, any number of times). Returns 0, or -1 when OpenSSL lacks what
 * the profiles need. fb_srtp_new calls it too; call it at start-up to fail
 * early. */
int fb_srtp_global_init(void);

/* Create the directions for keys (derived; the caller may wipe its copy).
 * Replay window 128 packets per SSRC; outbound allows repeated sequence
 * numbers (we may resend a packet). Returns NULL on an unknown profile, key
 * lengths that do not match the profile, or an OpenSSL failure. */
fb_srtp *fb_srtp_new(const fb_srtp_keys *keys);

/* Protect the RTP packet pkt[0..*len) in place. On success *len is the SRTP
 * length and FB_SRTP_OK is returned; otherwise a negative FB_SRTP_ERR_* and
 * the buffer content is unspecified. cap is the buffer size: it must be at
 * least *len + FB_SRTP_TRAILER_MAX. */
int fb_srtp_protect(fb_srtp *s, uint8_t *pkt, int *len, int cap);

/* Verify and decrypt the SRTP packet pkt[0..*len) in place; on success *len
 * is the RTP length. Returns FB_SRTP_OK, FB_SRTP_ERR_AUTH, FB_SRTP_ERR_REPLAY
 * or another negative code; failures are counted in the stats. On failure
 * the packet must be dropped (its bytes may have been changed). */
int fb_srtp_unprotect(fb_srtp *s, uint8_t *pkt, int *len);

/* fb_srtp_protect for an RTCP compound packet (SRTCP, encrypted, with the
 * E flag and index appended). Same buffer rule. */
int fb_srtp_protect_rtcp(fb_srtp *s, uint8_t *pkt, int *len, int cap);

/* fb_srtp_unprotect for SRTCP. */
int fb_srtp_unprotect_rtcp(fb_srtp *s, uint8_t *pkt, int *len);

/* Snapshot of the counters (any thread). */
void fb_srtp_get_stats(const fb_srtp *s, fb_srtp_stats *out);

/* Free the sessions and wipe the keys. NULL is fine. */
void fb_srtp_free(fb_srtp *s);

#endif
