/*
 * dtls_client.c — the client library's OpenSSL side: the shared context (key,
 * self-signed certificate, DTLS 1.2 client SSL_CTX with use_srtp) and one
 * DTLS client association per fb_rtc_client.
 *
 * I/O goes through the datagram BIO of webrtc/dtls_common.h, shared with the
 * bridge's server: every BIO write is one datagram handed straight to the
 * owner's send callback (the bridge queues instead; a client owns its
 * socket, so it can send at once), and the read side hands SSL exactly the
 * one datagram being fed. Certificates, fingerprints and the SRTP key
 * export are shared the same way.
 *
 * The bridge's certificate is self-signed; it is authenticated by its digest,
 * compared with the answer's a=fingerprint in the verify callback (a mismatch
 * aborts the handshake with bad_certificate) and again once connected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "webrtc/dtls_common.h"
#include "client/rtc_client_int.h"

#define CERT_DAYS 30

struct fb_rtc_client_ctx {
  SSL_CTX *ssl_ctx;
  EVP_PKEY *key;
  X509 *cert;
  BIO_METHOD *bio_method;
  char fingerprint[FB_RTC_FINGERPRINT_MAX];
};

struct fb_rtc_dtls {
  SSL *ssl;
  int state; /* FB_RTC_DTLS_* */
  char err[160];
  fb_rtc_dtls_send_fn send;
  void *ud;
  fb_dtls_fp fp; /* expected server certificate digest */
  int fp_mismatch;
  fb_dgram_bio io; /* the BIO's state: the datagram being fed */
  uint64_t deadline_ns;
};

/* ---- helpers --------------------------------------------------------------- */

/* The BIO's write side: straight to the socket. */
static void send_datagram(void *owner, const uint8_t *buf, size_t len) {
  fb_rtc_dtls *d = owner;
  if (d->send) d->send(d->ud, buf, len);
}

/* ---- context ------------------------------------------------------------------- */

/* Accept the chain as such (self-signed); only the leaf's digest counts. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  (void)preverify_ok;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  fb_rtc_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
  if (!d) return 0;
  if (X509_STORE_CTX_get_error_depth(store) > 0) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  if (!fb_dtls_fp_matches(&d->fp, X509_STORE_CTX_get0_cert(store))) {
    d->fp_mismatch = 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

fb_rtc_client_ctx *fb_rtc_client_ctx_new(char *err, int errlen) {
  if (err && errlen > 0) err[0] = 0;
  ERR_clear_error();
  const char *what = "SRTP initialisation";
  fb_rtc_client_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "out of memory");
    return NULL;
  }
  if (fb_srtp_global_init() != 0) goto fail;
  what = "EC P-256 key generation";
  if (!(c->key = EVP_EC_gen("P-256"))) goto fail;
  what = "self-signed certificate";
  if (!(c->cert = fb_dtls_make_cert(c->key, "fbclient", CERT_DAYS))) goto fail;
  if (fb_dtls_fp_format(c->cert, c->fingerprint) < 0) goto fail;
  what = "datagram BIO method";
  if (!(c->bio_method = fb_dgram_bio_method("fb_rtc_client dgram"))) goto fail;
  what = "SSL_CTX setup";
  SSL_CTX *s = c->ssl_ctx = SSL_CTX_new(DTLS_client_method());
  if (!s || !SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(s, DTLS1_2_VERSION))
    goto fail;
  what = "certificate/key";
  if (SSL_CTX_use_certificate(s, c->cert) != 1 || SSL_CTX_use_PrivateKey(s, c->key) != 1 ||
      SSL_CTX_check_private_key(s) != 1)
    goto fail;
  what = "use_srtp profiles";
  if (SSL_CTX_set_tlsext_use_srtp(s, FB_DTLS_SRTP_PROFILES) != 0) /* 0 = success */
    goto fail;
  SSL_CTX_set_verify(s, SSL_VERIFY_PEER, verify_cb);
  SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(s, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU);
  return c;

fail:
  if (err && errlen > 0) {
    char reason[128];
    fb_dtls_openssl_reason(reason, sizeof reason);
    snprintf(err, (size_t)errlen, "%s: %s", what, reason);
  }
  fb_rtc_client_ctx_free(c);
  return NULL;
}

const char *fb_rtc_client_ctx_fingerprint(const fb_rtc_client_ctx *ctx) {
  return ctx ? ctx->fingerprint : "";
}

void fb_rtc_client_ctx_free(fb_rtc_client_ctx *ctx) {
  if (!ctx) return;
  SSL_CTX_free(ctx->ssl_ctx);
  X509_free(ctx->cert);
  EVP_PKEY_free(ctx->key);
  if (ctx->bio_method) BIO_meth_free(ctx->bio_method);
  free(ctx);
}

/* ---- association ------------------------------------------------------------------ */

fb_rtc_dtls *fb_rtc_dtls_new(fb_rtc_client_ctx *ctx, const char *expected_fp,
                             fb_rtc_dtls_send_fn send, void *ud) {
  if (!ctx || !expected_fp) return NULL;
  fb_rtc_dtls *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->send = send;
  d->ud = ud;
  d->deadline_ns = UINT64_MAX;
  d->io = (fb_dgram_bio){.write = send_datagram, .owner = d, .mtu = FB_RTC_DTLS_MTU};
  if (fb_dtls_fp_parse(&d->fp, expected_fp) < 0) {
    free(d);
    return NULL;
  }
  ERR_clear_error();
  d->ssl = SSL_new(ctx->ssl_ctx);
  BIO *bio = d->ssl ? BIO_new(ctx->bio_method) : NULL;
  if (!bio) {
    fb_rtc_dtls_free(d);
    ERR_clear_error();
    return NULL;
  }
  BIO_set_data(bio, &d->io);
  SSL_set_bio(d->ssl, bio, bio);
  SSL_set_app_data(d->ssl, d);
  if (!SSL_set_mtu(d->ssl, FB_RTC_DTLS_MTU) || !DTLS_set_link_mtu(d->ssl, FB_RTC_DTLS_MTU)) {
    fb_rtc_dtls_free(d);
    ERR_clear_error();
    return NULL;
  }
  SSL_set_connect_state(d->ssl);
  return d;
}

void fb_rtc_dtls_free(fb_rtc_dtls *d) {
  if (!d) return;
  SSL_free(d->ssl);
  free(d);
}

static int finish(fb_rtc_dtls *d, int state, const char *reason) {
  d->state = state;
  if (reason)
    snprintf(d->err, sizeof d->err, "%s", reason);
  else
    fb_dtls_openssl_reason(d->err, sizeof d->err);
  ERR_clear_error();
  d->deadline_ns = UINT64_MAX;
  return state;
}

static int ssl_failure(fb_rtc_dtls *d, int rc) {
  switch (SSL_get_error(d->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE: ERR_clear_error(); return FB_RTC_DTLS_CONTINUE;
  case SSL_ERROR_ZERO_RETURN: return finish(d, FB_RTC_DTLS_CLOSED, "the bridge sent close_notify");
  default:
    if (d->fp_mismatch)
      return finish(d, FB_RTC_DTLS_FAILED,
                    "the bridge's certificate does not match the answer's fingerprint");
    return finish(d, FB_RTC_DTLS_FAILED, NULL);
  }
}

/* Connected: read (and discard) records so alerts and close_notify count. */
static int drain_records(fb_rtc_dtls *d) {
  unsigned char buf[1500];
  for (;;) {
    ERR_clear_error();
    int rc = SSL_read(d->ssl, buf, sizeof buf);
    if (rc <= 0) return ssl_failure(d, rc);
  }
}

static void update_deadline(fb_rtc_dtls *d, uint64_t now_ns) {
  struct timeval tv;
  if (d->state != FB_RTC_DTLS_CONTINUE || DTLSv1_get_timeout(d->ssl, &tv) != 1) {
    d->deadline_ns = UINT64_MAX;
    return;
  }
  d->deadline_ns = now_ns + (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static int handshake_step(fb_rtc_dtls *d, uint64_t now_ns) {
  ERR_clear_error();
  int rc = SSL_do_handshake(d->ssl);
  int st;
  if (rc == 1) {
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    if (!fb_dtls_fp_matches(&d->fp, SSL_get0_peer_certificate(d->ssl)))
      st = finish(d, FB_RTC_DTLS_FAILED,
                  "the bridge's certificate does not match the answer's fingerprint");
    else if (!p || (p->id != SRTP_AES128_CM_SHA1_80 && p->id != SRTP_AEAD_AES_128_GCM))
      st = finish(d, FB_RTC_DTLS_FAILED, "no DTLS-SRTP profile negotiated");
    else {
      d->state = FB_RTC_DTLS_CONNECTED;
      st = drain_records(d);
      if (st == FB_RTC_DTLS_CONTINUE) st = FB_RTC_DTLS_CONNECTED;
    }
  } else {
    st = ssl_failure(d, rc);
  }
  update_deadline(d, now_ns);
  return st;
}

int fb_rtc_dtls_start(fb_rtc_dtls *d, uint64_t now_ns) {
  if (!d) return FB_RTC_DTLS_FAILED;
  if (d->state != FB_RTC_DTLS_CONTINUE) return d->state;
  return handshake_step(d, now_ns);
}

int fb_rtc_dtls_feed(fb_rtc_dtls *d, const uint8_t *buf, size_t len, uint64_t now_ns) {
  if (!d) return FB_RTC_DTLS_FAILED;
  if (d->state == FB_RTC_DTLS_CLOSED || d->state == FB_RTC_DTLS_FAILED) return d->state;
  if (!buf || len == 0) return FB_RTC_DTLS_CONTINUE;
  fb_dgram_bio_feed(&d->io, buf, len);
  int st;
  if (d->state == FB_RTC_DTLS_CONTINUE) {
    st = handshake_step(d, now_ns);
  } else {
    st = drain_records(d);
  }
  fb_dgram_bio_feed(&d->io, NULL, 0);
  return st;
}

uint64_t fb_rtc_dtls_deadline(const fb_rtc_dtls *d) { return d ? d->deadline_ns : UINT64_MAX; }

int fb_rtc_dtls_handle_timeout(fb_rtc_dtls *d, uint64_t now_ns) {
  if (!d) return FB_RTC_DTLS_FAILED;
  if (d->state != FB_RTC_DTLS_CONTINUE || now_ns < d->deadline_ns) return d->state;
  ERR_clear_error();
  /* OpenSSL keeps its own clock and treats < 15 ms left as expired; if it
   * thinks it is early, update_deadline reschedules for the remainder. */
  if (DTLSv1_handle_timeout(d->ssl) < 0)
    return finish(d, FB_RTC_DTLS_FAILED, "DTLS handshake timed out");
  ERR_clear_error();
  update_deadline(d, now_ns);
  return d->state;
}

int fb_rtc_dtls_srtp_keys(fb_rtc_dtls *d, fb_srtp_keys *out, const char **profile) {
  if (!d || d->state != FB_RTC_DTLS_CONNECTED) return -1;
  return fb_dtls_export_srtp_keys(d->ssl, 0, out, profile); /* we are the client */
}

const char *fb_rtc_dtls_error(const fb_rtc_dtls *d) { return d ? d->err : "no association"; }
