/*
 * dtls.h — DTLS 1.2 server for DTLS-SRTP (RFC 5763/5764), one per participant.
 *
 * What it owns: an fb_dtls_ctx holds the bridge's identity (an ECDSA P-256
 * key and a self-signed certificate made at start-up, whose SHA-256
 * fingerprint goes into every SDP answer) and the OpenSSL SSL_CTX. An fb_dtls
 * holds one participant's DTLS association. It does no I/O: the net thread
 * feeds it each received DTLS datagram (first byte 20..63, RFC 7983) with
 * fb_dtls_feed and sends whatever fb_dtls_next_outgoing returns to the
 * participant's address, and calls fb_dtls_handle_timeout when
 * fb_dtls_next_timeout_ns says so (handshake retransmissions).
 *
 * Authentication: browsers use self-signed certificates, so the certificate
 * itself proves nothing; the peer is authenticated by comparing the digest of
 * its certificate with the a=fingerprint from its SDP offer (which came over
 * the authenticated signalling channel). The comparison happens while the
 * client's Certificate is processed (so a mismatch aborts the handshake with
 * a bad_certificate alert before we send our Finished) and again once the
 * handshake is complete.
 *
 * No HelloVerifyRequest cookie exchange: cookies exist to stop a spoofed
 * source address from using the server as an amplifier. Our datagrams reach
 * fb_dtls only from the address that completed an ICE connectivity check
 * (STUN with MESSAGE-INTEGRITY keyed by the ice-pwd from signalling), so the
 * source is already proven reachable, and the cookie round trip would only
 * delay the join. Browsers do not require it either.
 *
 * Lifetimes and threads: the ctx must outlive every fb_dtls made from it.
 * The ctx is read-only after fb_dtls_ctx_new and may be shared by threads;
 * each fb_dtls must be used by one thread at a time (the net thread).
 */
#ifndef FB_DTLS_H
#define FB_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "webrtc/srtp_session.h"

/* Results of fb_dtls_feed / fb_dtls_handle_timeout, and fb_dtls_state. */
#define FB_DTLS_CONTINUE 0 /* nothing new (handshaking, or connected traffic) */
#define FB_DTLS_CONNECTED \
  1                      /* handshake just completed, peer verified, SRTP
                                profile agreed: fetch keys with fb_dtls_srtp_keys */
#define FB_DTLS_CLOSED 2 /* peer sent close_notify (terminal) */
#define FB_DTLS_FAILED \
  3 /* fatal alert, bad fingerprint, no SRTP profile,
                                handshake timed out (terminal) */

/* Datagram ceiling of everything fb_dtls sends (DTLS MTU). Handshake
 * messages are fragmented to fit; 1200 leaves room for IPv6, UDP and TURN
 * framing under a 1280-byte path MTU. */
#define FB_DTLS_MTU 1200

/* Length of the buffer fb_dtls_ctx_fingerprint's result fits in. */
#define FB_DTLS_FINGERPRINT_MAX 128

typedef struct fb_dtls_ctx fb_dtls_ctx;
typedef struct fb_dtls fb_dtls;

/* Generate the key pair and certificate (CN "floorbridge", random serial,
 * valid 30 days from now, SHA-256 signature) and set up the DTLS 1.2 server
 * context (use_srtp with AEAD_AES_128_GCM preferred over AES128_CM_SHA1_80,
 * ECDHE-ECDSA ciphers, client certificate required). Returns NULL on failure
 * and writes a message into err (errlen bytes, may be 0). */
fb_dtls_ctx *fb_dtls_ctx_new(char *err, int errlen);

/* Our certificate's fingerprint for SDP: "sha-256 AB:CD:..." (upper-case hex,
 * 32 bytes colon-separated). Owned by ctx. */
const char *fb_dtls_ctx_fingerprint(const fb_dtls_ctx *ctx);

/* Free the context. Every fb_dtls made from it must be freed first. */
void fb_dtls_ctx_free(fb_dtls_ctx *ctx);

/* New server-side association. expected_remote_fingerprint is the value of
 * the offer's a=fingerprint ("sha-256 XX:XX:..."; sha-1, sha-224, sha-384 and
 * sha-512 are accepted too; hex case-insensitive). NULL skips the check (tests
 * only). Returns NULL on allocation failure or an unparsable fingerprint. */
fb_dtls *fb_dtls_new(fb_dtls_ctx *ctx, const char *expected_remote_fingerprint);

/* Free the association (sends nothing; call fb_dtls_close first for a polite
 * shutdown). NULL is fine. */
void fb_dtls_free(fb_dtls *d);

/* Process one received datagram in[0..len). Returns FB_DTLS_CONNECTED exactly
 * once (the call that completed the handshake), FB_DTLS_CONTINUE otherwise
 * while all is well, and FB_DTLS_CLOSED or FB_DTLS_FAILED when the
 * association ended (and again on every later call). Malformed or unexpected
 * records are dropped silently (RFC 6347 4.1.2.7) and give CONTINUE. After
 * every call, including one that returned FAILED (an alert may be queued),
 * drain fb_dtls_next_outgoing. Application data (data channels) is not
 * supported and is discarded. */
int fb_dtls_feed(fb_dtls *d, const uint8_t *in, size_t len);

/* Pop the oldest pending outgoing datagram into out (cap bytes; FB_DTLS_MTU
 * is always enough). Returns its length, 0 when nothing is pending, or -1
 * when cap is too small (the datagram stays queued). */
int fb_dtls_next_outgoing(fb_dtls *d, uint8_t *out, size_t cap);

/* Absolute CLOCK_MONOTONIC time (ns) at which fb_dtls_handle_timeout should
 * be called next, or UINT64_MAX when no retransmission timer is running. */
uint64_t fb_dtls_next_timeout_ns(const fb_dtls *d);

/* Retransmit the last flight if its timer has expired by now_ns
 * (CLOCK_MONOTONIC ns); drain fb_dtls_next_outgoing afterwards. Returns
 * FB_DTLS_FAILED when the handshake gave up (too many retransmissions; the
 * default timer starts at 1 s and doubles up to 60 s, so the caller should
 * also apply its own overall join deadline), otherwise the current state
 * (FB_DTLS_CONTINUE, or FB_DTLS_CONNECTED once connected). */
int fb_dtls_handle_timeout(fb_dtls *d, uint64_t now_ns);

/* Current state: FB_DTLS_CONTINUE while handshaking, FB_DTLS_CONNECTED,
 * FB_DTLS_CLOSED or FB_DTLS_FAILED. */
int fb_dtls_state(const fb_dtls *d);

/* Why the association failed or closed, for the log ("" while all is well). */
const char *fb_dtls_error(const fb_dtls *d);

/* After FB_DTLS_CONNECTED: export the SRTP master keys (RFC 5764 4.2) for the
 * negotiated profile. We are the DTLS server, so out->local is the server
 * write key+salt (what we protect with) and out->remote the client's.
 * Returns 0, or -1 when not connected or the export failed. The caller should
 * wipe *out once the fb_srtp is made. */
int fb_dtls_srtp_keys(fb_dtls *d, fb_srtp_keys *out);

/* Queue a close_notify (drain fb_dtls_next_outgoing afterwards). The
 * association is CLOSED afterwards. */
void fb_dtls_close(fb_dtls *d);

#endif
