/*
 * dtls_client.c — the client library's OpenSSL side: the shared context (key,
 * self-signed certificate, DTLS 1.2 client SSL_CTX with use_srtp) and one
 * DTLS client association per fb_rtc_client.
 *
 * I/O goes through a small custom BIO that keeps datagram boundaries: every
 * BIO write is one datagram handed straight to the owner's send callback
 * (OpenSSL's DTLS layer writes one datagram per call), and the read side
 * hands SSL exactly the one datagram being fed, then reports "retry". The
 * same idea as bridge/dtls.c, minus its outgoing queue: a client owns its
 * socket, so it can send at once.
 *
 * The bridge's certificate is self-signed; it is authenticated by its digest,
 * compared with the answer's a=fingerprint in the verify callback (a mismatch
 * aborts the handshake with bad_certificate) and again once connected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "client/rtc_client_int.h"

#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define SRTP_LABEL "EXTRACTOR-dtls_srtp"
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
  int state;                         /* FB_RTC_DTLS_* */
  char err[160];
  fb_rtc_dtls_send_fn send;
  void *ud;
  const EVP_MD *fp_md;               /* expected server certificate digest */
  unsigned char fp[EVP_MAX_MD_SIZE];
  unsigned int fp_len;
  int fp_mismatch;
  const uint8_t *in;                 /* datagram being fed */
  size_t in_len;
  int in_ready;
  uint64_t deadline_ns;
};

/* ---- helpers --------------------------------------------------------------- */

static void openssl_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_last_error();
  if (e)
    ERR_error_string_n(e, buf, len);
  else
    snprintf(buf, len, "no OpenSSL error recorded");
  ERR_clear_error();
}

static const EVP_MD *sdp_hash(const char *name, size_t len) {
  static const struct { const char *sdp, *ossl; } map[] = {
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

/* "sha-256 AB:CD:..." -> d->fp_md/fp/fp_len; 0 or -1. */
static int parse_fingerprint(fb_rtc_dtls *d, const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  const char *sp = strpbrk(s, " \t");
  if (!sp) return -1;
  const EVP_MD *md = sdp_hash(s, (size_t)(sp - s));
  if (!md) return -1;
  s = sp;
  while (*s == ' ' || *s == '\t') s++;
  int want = EVP_MD_get_size(md), n = 0;
  while (n < want) {
    int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
    if (lo < 0) return -1;
    d->fp[n++] = (unsigned char)(hi << 4 | lo);
    s += 2;
    if (n < want && *s++ != ':') return -1;
  }
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  if (*s) return -1;
  d->fp_md = md;
  d->fp_len = (unsigned int)want;
  return 0;
}

static int fingerprint_matches(const fb_rtc_dtls *d, X509 *cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!cert || !d->fp_md || !X509_digest(cert, d->fp_md, md, &n)) return 0;
  return n == d->fp_len && CRYPTO_memcmp(md, d->fp, n) == 0;
}

/* ---- datagram BIO ------------------------------------------------------------ */

static int bio_write(BIO *b, const char *buf, int len) {
  fb_rtc_dtls *d = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!d || len < 0) return -1;
  if (len > 0 && d->send) d->send(d->ud, (const uint8_t *)buf, (size_t)len);
  return len; /* a failed send is loss on the wire: DTLS retransmits */
}

static int bio_read(BIO *b, char *buf, int len) {
  fb_rtc_dtls *d = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!d || !d->in_ready) {
    BIO_set_retry_read(b);
    return -1;
  }
  size_t n = d->in_len < (size_t)len ? d->in_len : (size_t)len;
  memcpy(buf, d->in, n);
  d->in_ready = 0;
  return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  fb_rtc_dtls *d = BIO_get_data(b);
  (void)num;
  (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_PENDING:
    return d && d->in_ready ? (long)d->in_len : 0;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return FB_RTC_DTLS_MTU;
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
  BIO_METHOD *m = idx < 0 ? NULL : BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, "fb_rtc_client dgram");
  if (!m) return NULL;
  if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
      !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create) ||
      !BIO_meth_set_destroy(m, bio_destroy)) {
    BIO_meth_free(m);
    return NULL;
  }
  return m;
}

/* ---- context ------------------------------------------------------------------- */

static X509 *make_cert(EVP_PKEY *key) {
  X509 *x = X509_new();
  BIGNUM *bn = NULL;
  unsigned char rnd[8];
  int ok = x && X509_set_version(x, X509_VERSION_3) && RAND_bytes(rnd, sizeof rnd) == 1;
  if (ok) {
    rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x01);
    bn = BN_bin2bn(rnd, sizeof rnd, NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  }
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) &&
       X509_gmtime_adj(X509_getm_notAfter(x), CERT_DAYS * 24L * 3600);
  X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
  ok = ok && name &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fbclient",
                                  -1, -1, 0) &&
       X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) &&
       X509_sign(x, key, EVP_sha256()) > 0;
  BN_free(bn);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

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
  if (!fingerprint_matches(d, X509_STORE_CTX_get0_cert(store))) {
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
  if (!(c->cert = make_cert(c->key))) goto fail;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!X509_digest(c->cert, EVP_sha256(), md, &n) || n != 32) goto fail;
  char *p = c->fingerprint + sprintf(c->fingerprint, "sha-256 ");
  for (unsigned int i = 0; i < n; i++) p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
  what = "datagram BIO method";
  if (!(c->bio_method = make_bio_method())) goto fail;
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
  if (SSL_CTX_set_tlsext_use_srtp(s, SRTP_PROFILES) != 0) /* 0 = success */
    goto fail;
  SSL_CTX_set_verify(s, SSL_VERIFY_PEER, verify_cb);
  SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(s, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU);
  return c;

fail:
  if (err && errlen > 0) {
    char reason[128];
    openssl_reason(reason, sizeof reason);
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
  if (parse_fingerprint(d, expected_fp) < 0) {
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
  BIO_set_data(bio, d);
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
    openssl_reason(d->err, sizeof d->err);
  ERR_clear_error();
  d->deadline_ns = UINT64_MAX;
  return state;
}

static int ssl_failure(fb_rtc_dtls *d, int rc) {
  switch (SSL_get_error(d->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    ERR_clear_error();
    return FB_RTC_DTLS_CONTINUE;
  case SSL_ERROR_ZERO_RETURN:
    return finish(d, FB_RTC_DTLS_CLOSED, "the bridge sent close_notify");
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
    if (!fingerprint_matches(d, SSL_get0_peer_certificate(d->ssl)))
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
  d->in = buf;
  d->in_len = len;
  d->in_ready = 1;
  int st;
  if (d->state == FB_RTC_DTLS_CONTINUE) {
    st = handshake_step(d, now_ns);
  } else {
    st = drain_records(d);
  }
  d->in = NULL;
  d->in_len = 0;
  d->in_ready = 0;
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
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  if (!p) return -1;
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
  if (profile) *profile = p->name;
  /* RFC 5764 4.2: client_key | server_key | client_salt | server_salt.
   * We are the client: local = client key + salt, remote = the bridge's. */
  size_t k = (size_t)out->key_len, s = (size_t)out->salt_len;
  unsigned char km[2 * FB_SRTP_MASTER_MAX];
  ERR_clear_error();
  if (SSL_export_keying_material(d->ssl, km, 2 * (k + s), SRTP_LABEL, strlen(SRTP_LABEL), NULL,
                                 0, 0) != 1) {
    ERR_clear_error();
    memset(out, 0, sizeof *out);
    return -1;
  }
  memcpy(out->local, km, k);
  memcpy(out->remote, km + k, k);
  memcpy(out->local + k, km + 2 * k, s);
  memcpy(out->remote + k, km + 2 * k + s, s);
  OPENSSL_cleanse(km, sizeof km);
  return 0;
}

const char *fb_rtc_dtls_error(const fb_rtc_dtls *d) { return d ? d->err : "no association"; }
