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

#endif
