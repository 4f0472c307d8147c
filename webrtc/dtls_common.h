/*
 * dtls_common.h — the OpenSSL pieces both DTLS ends share: the bridge's
 * server (webrtc/dtls.c) and the test/load client (client/dtls_client.c).
 *
 * - A datagram BIO: OpenSSL's memory BIOs lose datagram boundaries and
 *   BIO_s_dgram_mem needs OpenSSL 3.2 (we build against 3.0), so each end
 *   embeds an fb_dgram_bio: every BIO write is one datagram handed to the
 *   owner's write callback; the read side hands SSL exactly the datagram
 *   being fed, once, then reports "retry".
 * - The certificate: an ECDSA P-256 key, a self-signed certificate, and its
 *   SHA-256 fingerprint as SDP writes it.
 * - The remote fingerprint from SDP (RFC 8122), checked against the peer's
 *   certificate.
 * - The DTLS-SRTP keys (RFC 5764 4.2) exported for either side.
 * - The DTLS core (dtls_core.c): our identity (key, certificate, SSL_CTX)
 *   and one association's handshake, records, timers and verdicts. Each end
 *   only adds how its datagrams leave (the bridge queues them for the DTLS
 *   thread to send; the client sends at once).
 */
#ifndef FB_DTLS_COMMON_H
#define FB_DTLS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "webrtc/srtp_session.h"

/* "sha-256 " + 32 * "XX:" - 1 + NUL */
#define FB_DTLS_FP_TEXT_MAX 104

/* The datagram plumbing of one association. The owner sets write, owner
 * and mtu, points the BIO's data at this struct (BIO_set_data) and calls
 * fb_dgram_bio_feed around each SSL call that should see a datagram. */
typedef struct {
  /* one outgoing datagram; its return value is ignored (a failed send is
   * loss on the wire, which DTLS retransmits) */
  void (*write)(void *owner, const uint8_t *data, size_t len);
  void *owner;
  long mtu;          /* what BIO_CTRL_DGRAM_QUERY_MTU answers */
  const uint8_t *in; /* the datagram being fed */
  size_t in_len;
  int in_ready;
} fb_dgram_bio;

/* The BIO_METHOD for fb_dgram_bio (name: for OpenSSL's diagnostics). One
 * per context; free with BIO_meth_free. NULL on failure. */
BIO_METHOD *fb_dgram_bio_method(const char *name);

/* Offer data as the next datagram SSL reads (len 0: none). */
void fb_dgram_bio_feed(fb_dgram_bio *b, const uint8_t *data, size_t len);

/* An expected remote certificate digest, from an SDP a=fingerprint. */
typedef struct {
  const EVP_MD *md; /* NULL: none set */
  unsigned char v[EVP_MAX_MD_SIZE];
  unsigned int len;
} fb_dtls_fp;

/* Parse "sha-256 AB:CD:..." (any RFC 8122 hash, hex either case, trailing
 * white space allowed) into fp. 0, or -1 when malformed (fp unchanged). */
int fb_dtls_fp_parse(fb_dtls_fp *fp, const char *text);

/* 1 when cert's digest with fp->md equals fp (0 when fp has no digest set,
 * or cert is NULL). Constant-time compare. */
int fb_dtls_fp_matches(const fb_dtls_fp *fp, X509 *cert);

/* cert's SHA-256 fingerprint as SDP writes it ("sha-256 AB:..."), into out
 * (FB_DTLS_FP_TEXT_MAX bytes). 0 or -1. */
int fb_dtls_fp_format(X509 *cert, char *out);

/* A self-signed certificate for key: common name cn, random positive 63-bit
 * serial, valid from a day ago (clock skew) for days days. NULL on failure. */
X509 *fb_dtls_make_cert(EVP_PKEY *key, const char *cn, int days);

/* The latest OpenSSL error as text into buf (then the error queue is
 * cleared); "no OpenSSL error recorded" when there is none. */
void fb_dtls_openssl_reason(char *buf, size_t len);

/* The use_srtp profiles both ends offer, in order of preference. */
#define FB_DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

/* Export the DTLS-SRTP master keys of a connected ssl into out: local is
 * what we protect with, remote what we unprotect with (is_server says
 * which half of the RFC 5764 layout is ours). *profile_name, when not NULL,
 * gets OpenSSL's name of the profile. 0, or -1 (no or unknown profile,
 * export failed; out zeroed). */
int fb_dtls_export_srtp_keys(SSL *ssl, int is_server, fb_srtp_keys *out, const char **profile_name);

/* ---- the DTLS core (dtls_core.c) ---------------------------------------- */

/* An association's states; dtls.h and the client's header give them their
 * public names (FB_DTLS_*, FB_RTC_DTLS_*), with the same values. */
#define FB_DTLS_CORE_CONTINUE 0  /* nothing new (handshaking, or connected traffic) */
#define FB_DTLS_CORE_CONNECTED 1 /* handshake just completed and verified (once) */
#define FB_DTLS_CORE_CLOSED 2    /* the peer sent close_notify, or we closed (terminal) */
#define FB_DTLS_CORE_FAILED 3    /* alert, bad fingerprint, no SRTP profile, gave up (terminal) */

/* Our side: an ECDSA P-256 key, a self-signed certificate (common name cn)
 * and a DTLS 1.2 SSL_CTX for one role, with use_srtp, the peer's
 * certificate required and checked by digest only (self-signed on both
 * sides), no tickets or renegotiation, ECDHE-ECDSA AEAD ciphers, record
 * buffers released when idle, fragments no larger than mtu. */
typedef struct {
  SSL_CTX *ssl_ctx;
  EVP_PKEY *key;
  X509 *cert;
  BIO_METHOD *bio_method;
  int is_server;
  char fingerprint[FB_DTLS_FP_TEXT_MAX];
} fb_dtls_identity;

/* 0, or -1 with what failed in err (id is then freed). */
int fb_dtls_identity_init(fb_dtls_identity *id, int is_server, const char *cn, long mtu, char *err,
                          int errlen);
void fb_dtls_identity_free(fb_dtls_identity *id);

/* One association, either role. */
typedef struct {
  SSL *ssl;
  int state; /* FB_DTLS_CORE_* */
  char err[160];
  fb_dtls_fp fp;   /* the expected remote digest (md NULL: no check) */
  int fp_mismatch; /* set by the verify callback */
  fb_dgram_bio io;
  uint64_t deadline_ns;                  /* next retransmission, UINT64_MAX: none */
  const char *mismatch_msg, *closed_msg; /* each end's wording */
} fb_dtls_assoc;

/* Set a up on id (in id's role): datagrams SSL writes
 * go to write(owner, ...), one each; expected_fp (NULL: no check) is the
 * SDP a=fingerprint. 0, or -1 (malformed fingerprint, OpenSSL failure;
 * nothing to free). */
int fb_dtls_assoc_init(fb_dtls_assoc *a, const fb_dtls_identity *id, const char *expected_fp,
                       void (*write)(void *, const uint8_t *, size_t), void *owner, long mtu,
                       const char *mismatch_msg, const char *closed_msg);
void fb_dtls_assoc_free(fb_dtls_assoc *a);

/* Run the handshake one step without input (the client's ClientHello). */
int fb_dtls_assoc_start(fb_dtls_assoc *a, uint64_t now_ns);

/* Process one received datagram. CONNECTED is returned exactly once, after
 * the peer's certificate matched and an SRTP profile was agreed. */
int fb_dtls_assoc_feed(fb_dtls_assoc *a, const uint8_t *in, size_t len, uint64_t now_ns);

/* Retransmit when a->deadline_ns has passed (FAILED once OpenSSL gives up). */
int fb_dtls_assoc_handle_timeout(fb_dtls_assoc *a, uint64_t now_ns);

/* Send close_notify when connected; the association ends CLOSED. */
void fb_dtls_assoc_close(fb_dtls_assoc *a);

#endif
