/*
 * srtp_fast.h — SRTP and SRTCP, one direction each, written on OpenSSL's EVP
 * interface: AES_CM_128_HMAC_SHA1_80 (RFC 3711) and AEAD_AES_128_GCM
 * (RFC 7714), with the RFC 3711 key derivation (kdr = 0), RTP index
 * estimation (Appendix A), the SRTCP index with its E flag, and a 128-packet
 * replay window.
 *
 * Hand-written on purpose: this is the per-listener hot path. Debian's
 * libsrtp2 is built on NSS and costs 39 us per AES-CM protect with 3000
 * sessions round robin (14.6 us with 1000; 112-byte packets; the NSS
 * contexts thrash the cache), so 3000 listeners would need 117 ms of a 20
 * ms tick (bench/results/srtp.md). Here the AES key schedule and the HMAC key are
 * set up once per session and a packet costs an IV, one pass of AES-NI and (for
 * AES-CM) one HMAC. The output is byte-identical to libsrtp's, which the unit
 * test checks in both directions.
 *
 * SRTCP (fb_srtcp_fast) is about one packet a second, so it is built for
 * memory instead: a direction holds only its derived keys and per-SSRC index
 * state (a few hundred bytes; a libsrtp session is 18-30 KB), and each
 * packet keys a cipher and HMAC context that belongs to the calling thread
 * (created on a thread's first SRTCP packet, freed when the thread exits).
 *
 * Not thread-safe: one direction of one participant, used by one thread at a
 * time.
 */
#ifndef FB_SRTP_FAST_H
#define FB_SRTP_FAST_H

#include <stdint.h>

typedef struct fb_srtp_fast fb_srtp_fast;

/* Create one direction from a master key and salt. profile is
 * FB_SRTP_PROFILE_AES128_CM_SHA1_80 (key 16, salt 14) or
 * FB_SRTP_PROFILE_AEAD_AES_128_GCM (key 16, salt 12). NULL on bad sizes or
 * when OpenSSL fails. */
fb_srtp_fast *fb_srtp_fast_new(int profile, const uint8_t *master_key, int key_len,
                               const uint8_t *master_salt, int salt_len);

/* Free; NULL is allowed. Keys are wiped. */
void fb_srtp_fast_free(fb_srtp_fast *s);

/* Protect the RTP packet pkt[0..*len) in place; *len grows by the tag (10 or
 * 16 bytes), cap is the buffer size. Returns FB_SRTP_OK, FB_SRTP_ERR_ARG (not
 * RTP, no room) or FB_SRTP_ERR_OTHER. */
int fb_srtp_fast_protect(fb_srtp_fast *s, uint8_t *pkt, int *len, int cap);

/* Verify and decrypt pkt[0..*len) in place; *len shrinks by the tag. Returns
 * FB_SRTP_OK, FB_SRTP_ERR_AUTH (tag wrong: the packet is untouched),
 * FB_SRTP_ERR_REPLAY (seen, or older than the window) or FB_SRTP_ERR_ARG. */
int fb_srtp_fast_unprotect(fb_srtp_fast *s, uint8_t *pkt, int *len);

/* Prepare what every session shares (the HMAC-SHA1 implementation); once
 * per process, any thread, any number of times. 0, or -1 when OpenSSL lacks
 * AES-CTR, AES-GCM or HMAC-SHA1. The _new functions call it too. */
int fb_srtp_fast_global_init(void);

typedef struct fb_srtcp_fast fb_srtcp_fast;

/* Create one SRTCP direction from a master key and salt (same arguments and
 * failures as fb_srtp_fast_new; the SRTCP keys are derived from the master
 * key with their own labels). */
fb_srtcp_fast *fb_srtcp_fast_new(int profile, const uint8_t *master_key, int key_len,
                                 const uint8_t *master_salt, int salt_len);

/* Free; NULL is allowed. Keys are wiped. */
void fb_srtcp_fast_free(fb_srtcp_fast *s);

/* Protect the RTCP compound packet pkt[0..*len) in place: encrypt everything
 * after the first 8 bytes, append E flag || SRTCP index (the next index of
 * the sender SSRC in bytes 4..7, from 1) and the tag. *len grows by 14
 * (AES-CM) or 20 (GCM) bytes; cap is the buffer size. Returns FB_SRTP_OK,
 * FB_SRTP_ERR_ARG (not RTCP, no room) or FB_SRTP_ERR_OTHER (OpenSSL failed,
 * or the SSRC's 2^31 indexes are used up). */
int fb_srtcp_fast_protect(fb_srtcp_fast *s, uint8_t *pkt, int *len, int cap);

/* Verify and decrypt the SRTCP packet pkt[0..*len) in place; *len becomes
 * the RTCP length. A packet without the E flag is authenticated and left in
 * the clear, as libsrtp does. Returns FB_SRTP_OK, FB_SRTP_ERR_AUTH (the
 * packet is untouched), FB_SRTP_ERR_REPLAY (index seen or older than the
 * window) or FB_SRTP_ERR_ARG. */
int fb_srtcp_fast_unprotect(fb_srtcp_fast *s, uint8_t *pkt, int *len);

#endif
