/*
 * dtls.c — DTLS 1.2 server per participant over an in-memory datagram BIO.
 *
 * Owns the OpenSSL objects (SSL_CTX, our key and certificate in fb_dtls_ctx;
 * one SSL per participant in fb_dtls) and the datagram plumbing between them
 * and the net thread. See dtls.h for the authentication and cookie rationale.
 *
 * Why a custom BIO instead of a pair of memory BIOs: DTLS needs datagram
 * boundaries. A memory BIO concatenates everything SSL writes, so once a
 * flight spans two datagrams (our Certificate flight can, and retransmissions
 * do) we could no longer tell where one datagram ends. BIO_s_dgram_mem would
 * fix that but only exists from OpenSSL 3.2; we build against 3.0. So the
 * fb_dtls BIO turns every write into one queued datagram (OpenSSL's DTLS code
 * already packs records into MTU-sized writes through its internal buffering
 * BIO and flushes at datagram boundaries). The same BIO is the read side: it
 * hands SSL the datagram being fed, whole, exactly once, then reports "retry"
 * (the equivalent of BIO_set_mem_eof_return(rbio, -1)). Reading straight from
 * the caller's buffer saves a copy and can never merge two datagrams.
 *
 * If the outgoing queue is full (the caller did not drain it) further writes
 * are dropped, which DTLS treats like loss on the wire (retransmission).
 * Queued datagrams are allocated at their size and freed when drained: the
 * caller drains after every feed, so the queue is empty almost always, and
 * sixteen MTU-sized slots per participant (19 KiB) were pure overhead.
 */
#include "bridge/dtls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define FB_DTLS_QUEUE 16          /* outgoing datagrams held between drains */
#define FB_DTLS_CERT_DAYS 30
#define FB_DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define FB_DTLS_CIPHERS                                                       \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"              \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"
#define FB_DTLS_SRTP_LABEL "EXTRACTOR-dtls_srtp"

struct fb_dtls_ctx {
  SSL_CTX *ssl_ctx;
  EVP_PKEY *key;
  X509 *cert;
  BIO_METHOD *bio_method;
  char fingerprint[FB_DTLS_FINGERPRINT_MAX];
};

typedef struct {
  uint16_t len;
  uint8_t data[];                /* len bytes */
} fb_dgram;

struct fb_dtls {
  fb_dtls_ctx *ctx;
  SSL *ssl;
  int state;                     /* FB_DTLS_* */
  char err[160];

  /* expected remote fingerprint (fp_md NULL: no check) */
  const EVP_MD *fp_md;
  unsigned char fp[EVP_MAX_MD_SIZE];
  unsigned int fp_len;
  int fp_mismatch;               /* set by the verify callback */

  /* the datagram being fed (read side of the BIO) */
  const uint8_t *in;
  size_t in_len;
  int in_ready;

  /* outgoing datagrams (write side of the BIO), a ring of allocated ones */
  fb_dgram *q[FB_DTLS_QUEUE];
  int q_head, q_count;
  uint64_t q_dropped;

  uint64_t deadline_ns;          /* next retransmission, UINT64_MAX: none */
};

/* ---- helpers ------------------------------------------------------------ */

static uint64_t mono_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Most recent OpenSSL error as text (and clear the queue). */
static void openssl_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_last_error();
  if (e)
    ERR_error_string_n(e, buf, len);
  else
    snprintf(buf, len, "no OpenSSL error recorded");
  ERR_clear_error();
}

static void set_err(char *err, int errlen, const char *what) {
  if (!err || errlen <= 0)
    return;
  char reason[128];
  openssl_reason(reason, sizeof reason);
  snprintf(err, (size_t)errlen, "%s: %s", what, reason);
}

/* Digest names as they appear in SDP (RFC 8122 hash-func) and in OpenSSL. */
static const EVP_MD *sdp_hash(const char *name, size_t len) {
  static const struct { const char *sdp; const char *ossl; } map[] = {
    {"sha-1", "SHA1"},     {"sha-224", "SHA224"}, {"sha-256", "SHA256"},
    {"sha-384", "SHA384"}, {"sha-512", "SHA512"},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strlen(map[i].sdp) == len && strncasecmp(map[i].sdp, name, len) == 0)
      return EVP_get_digestbyname(map[i].ossl);
  return NULL;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parse "sha-256 AB:CD:..." into d->fp_md / d->fp; 0 or -1. */
static int parse_fingerprint(fb_dtls *d, const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  const char *sp = strpbrk(s, " \t");
  if (!sp)
    return -1;
  const EVP_MD *md = sdp_hash(s, (size_t)(sp - s));
  if (!md)
    return -1;
  s = sp;
  while (*s == ' ' || *s == '\t')
    s++;
  int want = EVP_MD_get_size(md);
  int n = 0;
  while (n < want) {
    int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
    if (lo < 0)
      return -1;
    d->fp[n++] = (unsigned char)(hi << 4 | lo);
    s += 2;
    if (n < want && *s++ != ':')
      return -1;
  }
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
    s++;
  if (*s)
    return -1;
  d->fp_md = md;
  d->fp_len = (unsigned int)want;
  return 0;
}

/* 1 when cert's digest equals the expected fingerprint (or no check). */
static int fingerprint_matches(const fb_dtls *d, X509 *cert) {
  if (!d->fp_md)
    return 1;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!cert || !X509_digest(cert, d->fp_md, md, &n))
    return 0;
  return n == d->fp_len && CRYPTO_memcmp(md, d->fp, n) == 0;
}

/* ---- the datagram BIO ----------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len) {
  fb_dtls *d = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!d || len < 0)
    return -1;
  if (len == 0)
    return 0;
  fb_dgram *g = len > FB_DTLS_MTU || d->q_count == FB_DTLS_QUEUE
                    ? NULL
                    : malloc(sizeof *g + (size_t)len);
  if (!g) {
    d->q_dropped++;              /* like loss on the wire */
    return len;
  }
  memcpy(g->data, buf, (size_t)len);
  g->len = (uint16_t)len;
  d->q[(d->q_head + d->q_count) % FB_DTLS_QUEUE] = g;
  d->q_count++;
  return len;
}

static int bio_read(BIO *b, char *buf, int len) {
  fb_dtls *d = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!d || !d->in_ready) {
    BIO_set_retry_read(b);       /* "no datagram now", not EOF */
    return -1;
  }
  size_t n = d->in_len < (size_t)len ? d->in_len : (size_t)len; /* UDP truncation */
  memcpy(buf, d->in, n);
  d->in_ready = 0;
  return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  fb_dtls *d = BIO_get_data(b);
  (void)num;
  (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;                    /* every write already is a datagram */
  case BIO_CTRL_PENDING:
    return d && d->in_ready ? (long)d->in_len : 0;
  case BIO_CTRL_WPENDING:
    return 0;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return FB_DTLS_MTU;
  case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
    return 0;                    /* FB_DTLS_MTU is already the payload size */
  default:
    return 0;
  }
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static int bio_destroy(BIO *b) {
  BIO_set_data(b, NULL);
  return 1;
}

static BIO_METHOD *make_bio_method(void) {
  int idx = BIO_get_new_index();
  if (idx < 0)
    return NULL;
  BIO_METHOD *m = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, "fb_dtls datagram");
  if (!m)
    return NULL;
  if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
      !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create) ||
      !BIO_meth_set_destroy(m, bio_destroy)) {
    BIO_meth_free(m);
    return NULL;
  }
  return m;
}

/* ---- context ------------------------------------------------------------ */

/* Self-signed certificate for key: CN floorbridge, random positive 63-bit
 * serial, from yesterday (clock skew) to FB_DTLS_CERT_DAYS days from now. */
static X509 *make_cert(EVP_PKEY *key) {
  X509 *x = X509_new();
  BIGNUM *bn = NULL;
  unsigned char rnd[8];
  int ok = x && X509_set_version(x, X509_VERSION_3) && RAND_bytes(rnd, sizeof rnd) == 1;
  if (ok) {
    rnd[0] &= 0x7f;
    rnd[0] |= 0x01;              /* positive and never zero */
    bn = BN_bin2bn(rnd, sizeof rnd, NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  }
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) &&
       X509_gmtime_adj(X509_getm_notAfter(x), FB_DTLS_CERT_DAYS * 24L * 3600);
  X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
  ok = ok && name &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  (const unsigned char *)"floorbridge", -1, -1, 0) &&
       X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) &&
       X509_sign(x, key, EVP_sha256()) > 0;
  BN_free(bn);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

/* "sha-256 AB:CD:..." for cert into out (FB_DTLS_FINGERPRINT_MAX bytes). */
static int format_fingerprint(X509 *cert, char *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!X509_digest(cert, EVP_sha256(), md, &n) || n != 32)
    return -1;
  char *p = out + sprintf(out, "sha-256 ");
  for (unsigned int i = 0; i < n; i++)
    p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
  return 0;
}

/* Accept any certificate chain (browsers self-sign); reject only a leaf
 * whose digest differs from the SDP fingerprint, which makes OpenSSL abort
 * the handshake with a bad_certificate alert. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  (void)preverify_ok;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  fb_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
  if (!d)
    return 0;
  if (!fingerprint_matches(d, X509_STORE_CTX_get0_cert(store))) {
    d->fp_mismatch = 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

fb_dtls_ctx *fb_dtls_ctx_new(char *err, int errlen) {
  if (err && errlen > 0)
    err[0] = '\0';
  ERR_clear_error();
  fb_dtls_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    if (err && errlen > 0)
      snprintf(err, (size_t)errlen, "out of memory");
    return NULL;
  }
  const char *what = "EC P-256 key generation";
  c->key = EVP_EC_gen("P-256");
  if (!c->key)
    goto fail;
  what = "self-signed certificate";
  c->cert = make_cert(c->key);
  if (!c->cert || format_fingerprint(c->cert, c->fingerprint) < 0)
    goto fail;
  what = "datagram BIO method";
  c->bio_method = make_bio_method();
  if (!c->bio_method)
    goto fail;

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
  if (SSL_CTX_set_max_send_fragment(s, FB_DTLS_MTU) != 1)
    goto fail;
  return c;

fail:
  set_err(err, errlen, what);
  fb_dtls_ctx_free(c);
  return NULL;
}

const char *fb_dtls_ctx_fingerprint(const fb_dtls_ctx *ctx) {
  return ctx ? ctx->fingerprint : "";
}

void fb_dtls_ctx_free(fb_dtls_ctx *ctx) {
  if (!ctx)
    return;
  SSL_CTX_free(ctx->ssl_ctx);
  X509_free(ctx->cert);
  EVP_PKEY_free(ctx->key);
  if (ctx->bio_method)
    BIO_meth_free(ctx->bio_method);
  free(ctx);
}

/* ---- association -------------------------------------------------------- */

fb_dtls *fb_dtls_new(fb_dtls_ctx *ctx, const char *expected_remote_fingerprint) {
  if (!ctx)
    return NULL;
  fb_dtls *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->ctx = ctx;
  d->state = FB_DTLS_CONTINUE;
  d->deadline_ns = UINT64_MAX;
  if (expected_remote_fingerprint && parse_fingerprint(d, expected_remote_fingerprint) < 0) {
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
  BIO_set_data(bio, d);
  SSL_set_bio(d->ssl, bio, bio);   /* one BIO both ways; SSL owns it */
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
  if (!d)
    return;
  SSL_free(d->ssl);
  for (int i = 0; i < d->q_count; i++)
    free(d->q[(d->q_head + i) % FB_DTLS_QUEUE]);
  free(d);
}

/* Enter a terminal state with a reason (NULL: take OpenSSL's). */
static int finish(fb_dtls *d, int state, const char *reason) {
  d->state = state;
  if (reason)
    snprintf(d->err, sizeof d->err, "%s", reason);
  else
    openssl_reason(d->err, sizeof d->err);
  ERR_clear_error();
  d->deadline_ns = UINT64_MAX;
  return state;
}

/* Map a failed SSL_do_handshake/SSL_read result to our state. */
static int ssl_failure(fb_dtls *d, int rc) {
  switch (SSL_get_error(d->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    ERR_clear_error();
    return FB_DTLS_CONTINUE;
  case SSL_ERROR_ZERO_RETURN:
    SSL_shutdown(d->ssl);          /* answer the close_notify */
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
    if (rc <= 0)
      return ssl_failure(d, rc);
  }
}

/* Checks once the handshake completed: fingerprint (again) and profile. */
static int handshake_done(fb_dtls *d) {
  if (!fingerprint_matches(d, SSL_get0_peer_certificate(d->ssl))) {
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
  d->deadline_ns = mono_now_ns() + (uint64_t)tv.tv_sec * 1000000000ull +
                   (uint64_t)tv.tv_usec * 1000ull;
}

int fb_dtls_feed(fb_dtls *d, const uint8_t *in, size_t len) {
  if (!d)
    return FB_DTLS_FAILED;
  if (d->state == FB_DTLS_CLOSED || d->state == FB_DTLS_FAILED)
    return d->state;
  if (!in || len == 0)
    return FB_DTLS_CONTINUE;
  d->in = in;
  d->in_len = len;
  d->in_ready = 1;
  int st;
  if (d->state == FB_DTLS_CONTINUE) {
    ERR_clear_error();
    int rc = SSL_do_handshake(d->ssl);
    st = rc == 1 ? handshake_done(d) : ssl_failure(d, rc);
  } else {
    st = drain_records(d);
  }
  d->in = NULL;
  d->in_len = 0;
  d->in_ready = 0;
  update_deadline(d);
  return st;
}

int fb_dtls_next_outgoing(fb_dtls *d, uint8_t *out, size_t cap) {
  if (!d || d->q_count == 0)
    return 0;
  fb_dgram *g = d->q[d->q_head];
  if (cap < g->len)
    return -1;
  int len = g->len;
  memcpy(out, g->data, g->len);
  free(g);
  d->q[d->q_head] = NULL;
  d->q_head = (d->q_head + 1) % FB_DTLS_QUEUE;
  d->q_count--;
  return len;
}

uint64_t fb_dtls_next_timeout_ns(const fb_dtls *d) {
  return d ? d->deadline_ns : UINT64_MAX;
}

int fb_dtls_handle_timeout(fb_dtls *d, uint64_t now_ns) {
  if (!d)
    return FB_DTLS_FAILED;
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

int fb_dtls_state(const fb_dtls *d) {
  return d ? d->state : FB_DTLS_FAILED;
}

const char *fb_dtls_error(const fb_dtls *d) {
  return d ? d->err : "no association";
}

int fb_dtls_srtp_keys(fb_dtls *d, fb_srtp_keys *out) {
  if (!d || !out || d->state != FB_DTLS_CONNECTED)
    return -1;
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  if (!p)
    return -1;
  memset(out, 0, sizeof *out);
  if (p->id == SRTP_AES128_CM_SHA1_80) {
    out->profile = FB_SRTP_PROFILE_AES128_CM_SHA1_80;
    out->key_len = 16;
    out->salt_len = 14;
  } else if (p->id == SRTP_AEAD_AES_128_GCM) {
    out->profile = FB_SRTP_PROFILE_AEAD_AES_128_GCM;
    out->key_len = 16;
    out->salt_len = 12;
  } else {
    return -1;
  }
  /* RFC 5764 4.2: client_key | server_key | client_salt | server_salt */
  size_t k = (size_t)out->key_len, s = (size_t)out->salt_len;
  unsigned char km[2 * FB_SRTP_MASTER_MAX];
  ERR_clear_error();
  if (SSL_export_keying_material(d->ssl, km, 2 * (k + s), FB_DTLS_SRTP_LABEL,
                                 strlen(FB_DTLS_SRTP_LABEL), NULL, 0, 0) != 1) {
    ERR_clear_error();
    memset(out, 0, sizeof *out);
    return -1;
  }
  memcpy(out->remote, km, k);                  /* client write key */
  memcpy(out->local, km + k, k);               /* server write key */
  memcpy(out->remote + k, km + 2 * k, s);      /* client salt */
  memcpy(out->local + k, km + 2 * k + s, s);   /* server salt */
  OPENSSL_cleanse(km, sizeof km);
  return 0;
}

void fb_dtls_close(fb_dtls *d) {
  if (!d || d->state == FB_DTLS_CLOSED || d->state == FB_DTLS_FAILED)
    return;
  ERR_clear_error();
  if (d->state == FB_DTLS_CONNECTED)
    SSL_shutdown(d->ssl);          /* queues close_notify */
  finish(d, FB_DTLS_CLOSED, "closed locally");
}
