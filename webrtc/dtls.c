/*
 * dtls.c — DTLS 1.2 server per participant over an in-memory datagram BIO.
 *
 * Owns the OpenSSL objects (SSL_CTX, our key and certificate in fb_dtls_ctx;
 * one SSL per participant in fb_dtls) and the datagram plumbing between them
 * and the net thread. See dtls.h for the authentication and cookie rationale.
 *
 * I/O is the datagram BIO of dtls_common.h (why not memory BIOs: there).
 * Here every datagram SSL writes goes into a small ring that the net thread
 * drains (fb_dtls_next_outgoing); OpenSSL's DTLS code already packs records
 * into MTU-sized writes and flushes at datagram boundaries. If the ring is
 * full (the caller did not drain it) further writes are dropped, which DTLS
 * treats like loss on the wire (retransmission). Queued datagrams are
 * allocated at their size and freed when drained: the caller drains after
 * every feed, so the ring is empty almost always, and sixteen MTU-sized
 * slots per participant (19 KiB) were pure overhead. The read side hands SSL
 * the datagram being fed straight from the caller's buffer, once.
 */
#include "webrtc/dtls.h"
#include "webrtc/dtls_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define FB_DTLS_QUEUE 16 /* outgoing datagrams held between drains */
#define FB_DTLS_CERT_DAYS 30
#define FB_DTLS_CIPHERS                                          \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"

struct fb_dtls_ctx {
  SSL_CTX *ssl_ctx;
  EVP_PKEY *key;
  X509 *cert;
  BIO_METHOD *bio_method;
  char fingerprint[FB_DTLS_FINGERPRINT_MAX];
};

typedef struct {
  uint16_t len;
  uint8_t data[]; /* len bytes */
} fb_dgram;

struct fb_dtls {
  fb_dtls_ctx *ctx;
  SSL *ssl;
  int state; /* FB_DTLS_* */
  char err[160];

  /* expected remote fingerprint (fp.md NULL: no check) */
  fb_dtls_fp fp;
  int fp_mismatch; /* set by the verify callback */

  fb_dgram_bio io; /* the BIO's state: the datagram being fed */

  /* outgoing datagrams (write side of the BIO), a ring of allocated ones */
  fb_dgram *q[FB_DTLS_QUEUE];
  int q_head, q_count;
  uint64_t q_dropped;

  uint64_t deadline_ns; /* next retransmission, UINT64_MAX: none */
};

/* ---- helpers ------------------------------------------------------------ */

static uint64_t mono_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_err(char *err, int errlen, const char *what) {
  if (!err || errlen <= 0) return;
  char reason[128];
  fb_dtls_openssl_reason(reason, sizeof reason);
  snprintf(err, (size_t)errlen, "%s: %s", what, reason);
}

/* 1 when cert matches the expected fingerprint, or none was given. */
static int fingerprint_ok(const fb_dtls *d, X509 *cert) {
  return !d->fp.md || fb_dtls_fp_matches(&d->fp, cert);
}

/* The BIO's write side: one datagram into the ring. */
static void queue_datagram(void *owner, const uint8_t *buf, size_t len) {
  fb_dtls *d = owner;
  fb_dgram *g = len > FB_DTLS_MTU || d->q_count == FB_DTLS_QUEUE ? NULL : malloc(sizeof *g + len);
  if (!g) {
    d->q_dropped++; /* like loss on the wire */
    return;
  }
  memcpy(g->data, buf, len);
  g->len = (uint16_t)len;
  d->q[(d->q_head + d->q_count) % FB_DTLS_QUEUE] = g;
  d->q_count++;
}

/* ---- context ------------------------------------------------------------ */

/* Accept any certificate chain (browsers self-sign); reject only a leaf
 * whose digest differs from the SDP fingerprint, which makes OpenSSL abort
 * the handshake with a bad_certificate alert. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  (void)preverify_ok;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  fb_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
  if (!d) return 0;
  if (!fingerprint_ok(d, X509_STORE_CTX_get0_cert(store))) {
    d->fp_mismatch = 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

fb_dtls_ctx *fb_dtls_ctx_new(char *err, int errlen) {
  if (err && errlen > 0) err[0] = '\0';
  ERR_clear_error();
  fb_dtls_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "out of memory");
    return NULL;
  }
  const char *what = "EC P-256 key generation";
  c->key = EVP_EC_gen("P-256");
  if (!c->key) goto fail;
  what = "self-signed certificate";
  c->cert = fb_dtls_make_cert(c->key, "floorbridge", FB_DTLS_CERT_DAYS);
  if (!c->cert || fb_dtls_fp_format(c->cert, c->fingerprint) < 0) goto fail;
  what = "datagram BIO method";
  c->bio_method = fb_dgram_bio_method("fb_dtls datagram");
  if (!c->bio_method) goto fail;

  what = "SSL_CTX setup";
  SSL_CTX *s = c->ssl_ctx = SSL_CTX_new(DTLS_server_method());
  if (!s || !SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(s, DTLS1_2_VERSION))
    goto fail;
  what = "certificate/key";
  if (SSL_CTX_use_certificate(s, c->cert) != 1 || SSL_CTX_use_PrivateKey(s, c->key) != 1 ||
      SSL_CTX_check_private_key(s) != 1)
    goto fail;
  what = "cipher list";
  if (SSL_CTX_set_cipher_list(s, FB_DTLS_CIPHERS) != 1 ||
      SSL_CTX_set1_groups_list(s, "X25519:P-256:P-384") != 1)
    goto fail;
  what = "use_srtp profiles";
  if (SSL_CTX_set_tlsext_use_srtp(s, FB_DTLS_SRTP_PROFILES) != 0) /* 0 = success */
    goto fail;
  SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
  SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
  /* No resumption (each join is a fresh handshake), no renegotiation (the
   * SRTP keys come from the first handshake only), our own MTU. */
  SSL_CTX_set_options(s, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_QUERY_MTU);
  /* Record buffers only while a record is in flight: thousands of idle
   * associations must not each hold ~34 KiB of buffers. */
  SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
  /* DTLS keeps its record buffers for the whole handshake regardless. The
   * write buffer is sized for the largest fragment we may send: no record
   * of ours is larger than a datagram, so 16 KiB of it per handshake in
   * flight bought nothing. (The read buffer cannot shrink: the peer picks
   * its record sizes.) */
  what = "max send fragment";
  if (SSL_CTX_set_max_send_fragment(s, FB_DTLS_MTU) != 1) goto fail;
  return c;

fail:
  set_err(err, errlen, what);
  fb_dtls_ctx_free(c);
  return NULL;
}

const char *fb_dtls_ctx_fingerprint(const fb_dtls_ctx *ctx) { return ctx ? ctx->fingerprint : ""; }

void fb_dtls_ctx_free(fb_dtls_ctx *ctx) {
  if (!ctx) return;
  SSL_CTX_free(ctx->ssl_ctx);
  X509_free(ctx->cert);
  EVP_PKEY_free(ctx->key);
  if (ctx->bio_method) BIO_meth_free(ctx->bio_method);
  free(ctx);
}

/* ---- association -------------------------------------------------------- */

fb_dtls *fb_dtls_new(fb_dtls_ctx *ctx, const char *expected_remote_fingerprint) {
  if (!ctx) return NULL;
  fb_dtls *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->ctx = ctx;
  d->state = FB_DTLS_CONTINUE;
  d->deadline_ns = UINT64_MAX;
  d->io = (fb_dgram_bio){.write = queue_datagram, .owner = d, .mtu = FB_DTLS_MTU};
  if (expected_remote_fingerprint && fb_dtls_fp_parse(&d->fp, expected_remote_fingerprint) < 0) {
    free(d);
    return NULL;
  }
  ERR_clear_error();
  d->ssl = SSL_new(ctx->ssl_ctx);
  BIO *bio = d->ssl ? BIO_new(ctx->bio_method) : NULL;
  if (!bio) {
    fb_dtls_free(d);
    ERR_clear_error();
    return NULL;
  }
  BIO_set_data(bio, &d->io);
  SSL_set_bio(d->ssl, bio, bio); /* one BIO both ways; SSL owns it */
  SSL_set_app_data(d->ssl, d);
  SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
  if (!SSL_set_mtu(d->ssl, FB_DTLS_MTU) || !DTLS_set_link_mtu(d->ssl, FB_DTLS_MTU)) {
    fb_dtls_free(d);
    ERR_clear_error();
    return NULL;
  }
  SSL_set_accept_state(d->ssl);
  return d;
}

void fb_dtls_free(fb_dtls *d) {
  if (!d) return;
  SSL_free(d->ssl);
  for (int i = 0; i < d->q_count; i++) free(d->q[(d->q_head + i) % FB_DTLS_QUEUE]);
  free(d);
}

/* Enter a terminal state with a reason (NULL: take OpenSSL's). */
static int finish(fb_dtls *d, int state, const char *reason) {
  d->state = state;
  if (reason)
    snprintf(d->err, sizeof d->err, "%s", reason);
  else
    fb_dtls_openssl_reason(d->err, sizeof d->err);
  ERR_clear_error();
  d->deadline_ns = UINT64_MAX;
  return state;
}

/* Map a failed SSL_do_handshake/SSL_read result to our state. */
static int ssl_failure(fb_dtls *d, int rc) {
  switch (SSL_get_error(d->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE: ERR_clear_error(); return FB_DTLS_CONTINUE;
  case SSL_ERROR_ZERO_RETURN:
    SSL_shutdown(d->ssl); /* answer the close_notify */
    return finish(d, FB_DTLS_CLOSED, "peer sent close_notify");
  default:
    if (d->fp_mismatch)
      return finish(d, FB_DTLS_FAILED, "remote certificate does not match the SDP fingerprint");
    return finish(d, FB_DTLS_FAILED, NULL);
  }
}

/* Read (and discard) application records until SSL wants more input; this
 * is what processes alerts, close_notify and the peer's retransmissions once
 * connected. */
static int drain_records(fb_dtls *d) {
  unsigned char buf[2048];
  for (;;) {
    ERR_clear_error();
    int rc = SSL_read(d->ssl, buf, sizeof buf);
    if (rc <= 0) return ssl_failure(d, rc);
  }
}

/* Checks once the handshake completed: fingerprint (again) and profile. */
static int handshake_done(fb_dtls *d) {
  if (!fingerprint_ok(d, SSL_get0_peer_certificate(d->ssl))) {
    SSL_shutdown(d->ssl);
    return finish(d, FB_DTLS_FAILED, "remote certificate does not match the SDP fingerprint");
  }
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  if (!p || (p->id != SRTP_AES128_CM_SHA1_80 && p->id != SRTP_AEAD_AES_128_GCM)) {
    SSL_shutdown(d->ssl);
    return finish(d, FB_DTLS_FAILED, "no DTLS-SRTP profile negotiated");
  }
  d->state = FB_DTLS_CONNECTED;
  /* Records that arrived in the same datagram after the Finished. */
  int st = drain_records(d);
  return st == FB_DTLS_CONTINUE ? FB_DTLS_CONNECTED : st;
}

static void update_deadline(fb_dtls *d) {
  struct timeval tv;
  if (d->state == FB_DTLS_CLOSED || d->state == FB_DTLS_FAILED ||
      DTLSv1_get_timeout(d->ssl, &tv) != 1) {
    d->deadline_ns = UINT64_MAX;
    return;
  }
  d->deadline_ns =
      mono_now_ns() + (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

int fb_dtls_feed(fb_dtls *d, const uint8_t *in, size_t len) {
  if (!d) return FB_DTLS_FAILED;
  if (d->state == FB_DTLS_CLOSED || d->state == FB_DTLS_FAILED) return d->state;
  if (!in || len == 0) return FB_DTLS_CONTINUE;
  fb_dgram_bio_feed(&d->io, in, len);
  int st;
  if (d->state == FB_DTLS_CONTINUE) {
    ERR_clear_error();
    int rc = SSL_do_handshake(d->ssl);
    st = rc == 1 ? handshake_done(d) : ssl_failure(d, rc);
  } else {
    st = drain_records(d);
  }
  fb_dgram_bio_feed(&d->io, NULL, 0);
  update_deadline(d);
  return st;
}

int fb_dtls_next_outgoing(fb_dtls *d, uint8_t *out, size_t cap) {
  if (!d || d->q_count == 0) return 0;
  fb_dgram *g = d->q[d->q_head];
  if (cap < g->len) return -1;
  int len = g->len;
  memcpy(out, g->data, g->len);
  free(g);
  d->q[d->q_head] = NULL;
  d->q_head = (d->q_head + 1) % FB_DTLS_QUEUE;
  d->q_count--;
  return len;
}

uint64_t fb_dtls_next_timeout_ns(const fb_dtls *d) { return d ? d->deadline_ns : UINT64_MAX; }

int fb_dtls_handle_timeout(fb_dtls *d, uint64_t now_ns) {
  if (!d) return FB_DTLS_FAILED;
  if (d->state == FB_DTLS_CLOSED || d->state == FB_DTLS_FAILED || now_ns < d->deadline_ns)
    return d->state;
  ERR_clear_error();
  /* OpenSSL keeps its own clock; it treats a timer with < 15 ms left as
   * expired, which absorbs the difference between the two clocks. */
  if (DTLSv1_handle_timeout(d->ssl) < 0)
    return finish(d, FB_DTLS_FAILED, "DTLS handshake timed out");
  ERR_clear_error();
  update_deadline(d);
  return d->state;
}

int fb_dtls_state(const fb_dtls *d) { return d ? d->state : FB_DTLS_FAILED; }

const char *fb_dtls_error(const fb_dtls *d) { return d ? d->err : "no association"; }

int fb_dtls_srtp_keys(fb_dtls *d, fb_srtp_keys *out) {
  if (!d || !out || d->state != FB_DTLS_CONNECTED) return -1;
  return fb_dtls_export_srtp_keys(d->ssl, 1, out, NULL);
}

void fb_dtls_close(fb_dtls *d) {
  if (!d || d->state == FB_DTLS_CLOSED || d->state == FB_DTLS_FAILED) return;
  ERR_clear_error();
  if (d->state == FB_DTLS_CONNECTED) SSL_shutdown(d->ssl); /* queues close_notify */
  finish(d, FB_DTLS_CLOSED, "closed locally");
}
