/*
 * dtls_common.c — what the bridge's DTLS server and the client's DTLS client
 * share (see dtls_common.h): the datagram BIO, certificates and
 * fingerprints, and the DTLS-SRTP key export. One copy, so a fix to either
 * end's plumbing is a fix to both.
 */
#include "webrtc/dtls_common.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#define SRTP_LABEL "EXTRACTOR-dtls_srtp"

/* ---- the datagram BIO ---------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len) {
  fb_dgram_bio *d = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!d || len < 0) return -1;
  if (len > 0 && d->write) d->write(d->owner, (const uint8_t *)buf, (size_t)len);
  return len;
}

static int bio_read(BIO *b, char *buf, int len) {
  fb_dgram_bio *d = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!d || !d->in_ready) {
    BIO_set_retry_read(b); /* "no datagram now", not EOF */
    return -1;
  }
  size_t n = d->in_len < (size_t)len ? d->in_len : (size_t)len; /* UDP truncation */
  memcpy(buf, d->in, n);
  d->in_ready = 0;
  return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  fb_dgram_bio *d = BIO_get_data(b);
  (void)num;
  (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH: return 1; /* every write already is a datagram */
  case BIO_CTRL_PENDING: return d && d->in_ready ? (long)d->in_len : 0;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return d ? d->mtu : 0;
  default: return 0; /* WPENDING, GET_MTU_OVERHEAD (mtu is the payload size), ... */
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

BIO_METHOD *fb_dgram_bio_method(const char *name) {
  int idx = BIO_get_new_index();
  BIO_METHOD *m = idx < 0 ? NULL : BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, name);
  if (!m) return NULL;
  if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
      !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create) ||
      !BIO_meth_set_destroy(m, bio_destroy)) {
    BIO_meth_free(m);
    return NULL;
  }
  return m;
}

void fb_dgram_bio_feed(fb_dgram_bio *b, const uint8_t *data, size_t len) {
  b->in = len ? data : NULL;
  b->in_len = len;
  b->in_ready = len > 0;
}

/* ---- fingerprints and certificates ------------------------------------------ */

/* Digest names as they appear in SDP (RFC 8122 hash-func) and in OpenSSL. */
static const EVP_MD *sdp_hash(const char *name, size_t len) {
  static const struct {
    const char *sdp, *ossl;
  } map[] = {
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

int fb_dtls_fp_parse(fb_dtls_fp *fp, const char *s) {
  if (!fp || !s) return -1;
  while (*s == ' ' || *s == '\t') s++;
  const char *sp = strpbrk(s, " \t");
  if (!sp) return -1;
  const EVP_MD *md = sdp_hash(s, (size_t)(sp - s));
  if (!md) return -1;
  s = sp;
  while (*s == ' ' || *s == '\t') s++;
  unsigned char v[EVP_MAX_MD_SIZE];
  int want = EVP_MD_get_size(md), n = 0;
  if (want <= 0 || want > EVP_MAX_MD_SIZE) return -1;
  while (n < want) {
    int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
    if (lo < 0) return -1;
    v[n++] = (unsigned char)(hi << 4 | lo);
    s += 2;
    if (n < want && *s++ != ':') return -1;
  }
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  if (*s) return -1;
  fp->md = md;
  memcpy(fp->v, v, (size_t)want);
  fp->len = (unsigned int)want;
  return 0;
}

int fb_dtls_fp_matches(const fb_dtls_fp *fp, X509 *cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!fp || !fp->md || !cert || !X509_digest(cert, fp->md, md, &n)) return 0;
  return n == fp->len && CRYPTO_memcmp(md, fp->v, n) == 0;
}

int fb_dtls_fp_format(X509 *cert, char *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!cert || !X509_digest(cert, EVP_sha256(), md, &n) || n != 32) return -1;
  char *p = out + sprintf(out, "sha-256 ");
  for (unsigned int i = 0; i < n; i++) p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
  return 0;
}

X509 *fb_dtls_make_cert(EVP_PKEY *key, const char *cn, int days) {
  X509 *x = X509_new();
  BIGNUM *bn = NULL;
  unsigned char rnd[8];
  int ok = x && X509_set_version(x, X509_VERSION_3) && RAND_bytes(rnd, sizeof rnd) == 1;
  if (ok) {
    rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x01); /* positive and never zero */
    bn = BN_bin2bn(rnd, sizeof rnd, NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  }
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) &&
       X509_gmtime_adj(X509_getm_notAfter(x), days * 24L * 3600);
  X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
  ok = ok && name &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
       X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) &&
       X509_sign(x, key, EVP_sha256()) > 0;
  BN_free(bn);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

void fb_dtls_openssl_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_last_error();
  if (e)
    ERR_error_string_n(e, buf, len);
  else
    snprintf(buf, len, "no OpenSSL error recorded");
  ERR_clear_error();
}

/* ---- DTLS-SRTP keys ------------------------------------------------------------ */

int fb_dtls_export_srtp_keys(SSL *ssl, int is_server, fb_srtp_keys *out,
                             const char **profile_name) {
  const SRTP_PROTECTION_PROFILE *p = ssl ? SSL_get_selected_srtp_profile(ssl) : NULL;
  if (!p || !out) return -1;
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
  if (profile_name) *profile_name = p->name;
  /* RFC 5764 4.2: client_key | server_key | client_salt | server_salt */
  size_t k = (size_t)out->key_len, s = (size_t)out->salt_len;
  unsigned char km[2 * FB_SRTP_MASTER_MAX];
  ERR_clear_error();
  if (SSL_export_keying_material(ssl, km, 2 * (k + s), SRTP_LABEL, strlen(SRTP_LABEL), NULL, 0,
                                 0) != 1) {
    ERR_clear_error();
    memset(out, 0, sizeof *out);
    return -1;
  }
  uint8_t *client = is_server ? out->remote : out->local;
  uint8_t *server = is_server ? out->local : out->remote;
  memcpy(client, km, k);
  memcpy(server, km + k, k);
  memcpy(client + k, km + 2 * k, s);
  memcpy(server + k, km + 2 * k + s, s);
  OPENSSL_cleanse(km, sizeof km);
  return 0;
}
