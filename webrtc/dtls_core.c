/*
 * dtls_core.c — the one DTLS 1.2 core of both ends: the bridge's server
 * (webrtc/dtls.c) and the test/load client (client/dtls_client.c).
 *
 * It owns an identity (key, self-signed certificate, SSL_CTX for a role)
 * and, per association, the SSL object, the state machine (handshake,
 * records once connected, close_notify, alerts), the retransmission
 * deadline and the verdicts: the peer's certificate must match the SDP
 * fingerprint (checked in the verify callback, which aborts the handshake
 * with bad_certificate, and again once connected) and an SRTP profile must
 * have been agreed. The two ends differ only in where their datagrams go
 * (the write callback of the datagram BIO) and in the wording of two
 * messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/err.h>

#include "webrtc/dtls_common.h"

#define CERT_DAYS 30
#define CIPHERS                                                  \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"

/* ---- identity ----------------------------------------------------------- */

/* Accept the chain as such (self-signed); only the leaf's digest counts. A
 * mismatch makes OpenSSL abort the handshake with bad_certificate. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store) {
  (void)preverify_ok;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  fb_dtls_assoc *a = ssl ? SSL_get_app_data(ssl) : NULL;
  if (!a) return 0;
  if (X509_STORE_CTX_get_error_depth(store) > 0) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  if (a->fp.md && !fb_dtls_fp_matches(&a->fp, X509_STORE_CTX_get0_cert(store))) {
    a->fp_mismatch = 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

static int ctx_setup(fb_dtls_identity *id, long mtu, const char **what) {
  *what = "SSL_CTX setup";
  SSL_CTX *s = id->ssl_ctx =
      SSL_CTX_new(id->is_server ? DTLS_server_method() : DTLS_client_method());
  if (!s || !SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(s, DTLS1_2_VERSION))
    return -1;
  *what = "certificate/key";
  if (SSL_CTX_use_certificate(s, id->cert) != 1 || SSL_CTX_use_PrivateKey(s, id->key) != 1 ||
      SSL_CTX_check_private_key(s) != 1)
    return -1;
  *what = "cipher list";
  if (SSL_CTX_set_cipher_list(s, CIPHERS) != 1 ||
      SSL_CTX_set1_groups_list(s, "X25519:P-256:P-384") != 1)
    return -1;
  *what = "use_srtp profiles";
  if (SSL_CTX_set_tlsext_use_srtp(s, FB_DTLS_SRTP_PROFILES) != 0) /* 0 = success */
    return -1;
  SSL_CTX_set_verify(s, SSL_VERIFY_PEER | (id->is_server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                     verify_cb);
  SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
  /* No resumption (each join is a fresh handshake), no renegotiation (the
   * SRTP keys come from the first handshake only), our own MTU. */
  SSL_CTX_set_options(s, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                             (id->is_server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  /* Record buffers only while a record is in flight: thousands of idle
   * associations must not each hold ~34 KiB of buffers. */
  SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
  /* DTLS keeps its record buffers for the whole handshake regardless. The
   * write buffer is sized for the largest fragment we may send: no record
   * of ours is larger than a datagram, so 16 KiB of it per handshake in
   * flight bought nothing. (The read buffer cannot shrink: the peer picks
   * its record sizes.) */
  *what = "max send fragment";
  if (SSL_CTX_set_max_send_fragment(s, mtu) != 1) return -1;
  return 0;
}

int fb_dtls_identity_init(fb_dtls_identity *id, int is_server, const char *cn, long mtu, char *err,
                          int errlen) {
  memset(id, 0, sizeof *id);
  id->is_server = is_server;
  if (err && errlen > 0) err[0] = '\0';
  ERR_clear_error();
  const char *what = "EC P-256 key generation";
  if (!(id->key = EVP_EC_gen("P-256"))) goto fail;
  what = "self-signed certificate";
  if (!(id->cert = fb_dtls_make_cert(id->key, cn, CERT_DAYS)) ||
      fb_dtls_fp_format(id->cert, id->fingerprint) < 0)
    goto fail;
  what = "datagram BIO method";
  if (!(id->bio_method = fb_dgram_bio_method(is_server ? "fb_dtls server" : "fb_dtls client")))
    goto fail;
  if (ctx_setup(id, mtu, &what) != 0) goto fail;
  return 0;

fail:
  if (err && errlen > 0) {
    char reason[128];
    fb_dtls_openssl_reason(reason, sizeof reason);
    snprintf(err, (size_t)errlen, "%s: %s", what, reason);
  }
  fb_dtls_identity_free(id);
  return -1;
}

void fb_dtls_identity_free(fb_dtls_identity *id) {
  SSL_CTX_free(id->ssl_ctx);
  X509_free(id->cert);
  EVP_PKEY_free(id->key);
  if (id->bio_method) BIO_meth_free(id->bio_method);
  memset(id, 0, sizeof *id);
}

/* ---- association -------------------------------------------------------- */

int fb_dtls_assoc_init(fb_dtls_assoc *a, const fb_dtls_identity *id, const char *expected_fp,
                       void (*write)(void *, const uint8_t *, size_t), void *owner, long mtu,
                       const char *mismatch_msg, const char *closed_msg) {
  memset(a, 0, sizeof *a);
  a->state = FB_DTLS_CORE_CONTINUE;
  a->deadline_ns = UINT64_MAX;
  a->mismatch_msg = mismatch_msg;
  a->closed_msg = closed_msg;
  a->io = (fb_dgram_bio){.write = write, .owner = owner, .mtu = mtu};
  if (expected_fp && fb_dtls_fp_parse(&a->fp, expected_fp) < 0) return -1;
  ERR_clear_error();
  a->ssl = SSL_new(id->ssl_ctx);
  BIO *bio = a->ssl ? BIO_new(id->bio_method) : NULL;
  if (!bio) goto fail;
  BIO_set_data(bio, &a->io);
  SSL_set_bio(a->ssl, bio, bio); /* one BIO both ways; SSL owns it */
  SSL_set_app_data(a->ssl, a);
  if (!SSL_set_mtu(a->ssl, mtu) || !DTLS_set_link_mtu(a->ssl, mtu)) goto fail;
  if (id->is_server)
    SSL_set_accept_state(a->ssl);
  else
    SSL_set_connect_state(a->ssl);
  return 0;

fail:
  fb_dtls_assoc_free(a);
  ERR_clear_error();
  return -1;
}

void fb_dtls_assoc_free(fb_dtls_assoc *a) {
  SSL_free(a->ssl);
  a->ssl = NULL;
}

/* Enter a terminal state with a reason (NULL: take OpenSSL's). */
static int finish(fb_dtls_assoc *a, int state, const char *reason) {
  a->state = state;
  if (reason)
    snprintf(a->err, sizeof a->err, "%s", reason);
  else
    fb_dtls_openssl_reason(a->err, sizeof a->err);
  ERR_clear_error();
  a->deadline_ns = UINT64_MAX;
  return state;
}

/* Map a failed SSL_do_handshake/SSL_read result to our state. */
static int ssl_failure(fb_dtls_assoc *a, int rc) {
  switch (SSL_get_error(a->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE: ERR_clear_error(); return FB_DTLS_CORE_CONTINUE;
  case SSL_ERROR_ZERO_RETURN:
    SSL_shutdown(a->ssl); /* answer the close_notify */
    return finish(a, FB_DTLS_CORE_CLOSED, a->closed_msg);
  default: return finish(a, FB_DTLS_CORE_FAILED, a->fp_mismatch ? a->mismatch_msg : NULL);
  }
}

/* Read (and discard) application records until SSL wants more input; this
 * is what processes alerts, close_notify and the peer's retransmissions once
 * connected. */
static int drain_records(fb_dtls_assoc *a) {
  unsigned char buf[2048];
  for (;;) {
    ERR_clear_error();
    int rc = SSL_read(a->ssl, buf, sizeof buf);
    if (rc <= 0) return ssl_failure(a, rc);
  }
}

/* Checks once the handshake completed: fingerprint (again) and profile. */
static int handshake_done(fb_dtls_assoc *a) {
  if (a->fp.md && !fb_dtls_fp_matches(&a->fp, SSL_get0_peer_certificate(a->ssl))) {
    SSL_shutdown(a->ssl);
    return finish(a, FB_DTLS_CORE_FAILED, a->mismatch_msg);
  }
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(a->ssl);
  if (!p || (p->id != SRTP_AES128_CM_SHA1_80 && p->id != SRTP_AEAD_AES_128_GCM)) {
    SSL_shutdown(a->ssl);
    return finish(a, FB_DTLS_CORE_FAILED, "no DTLS-SRTP profile negotiated");
  }
  a->state = FB_DTLS_CORE_CONNECTED;
  /* Records that arrived in the same datagram after the Finished. */
  int st = drain_records(a);
  return st == FB_DTLS_CORE_CONTINUE ? FB_DTLS_CORE_CONNECTED : st;
}

static void update_deadline(fb_dtls_assoc *a, uint64_t now_ns) {
  struct timeval tv;
  if (a->state == FB_DTLS_CORE_CLOSED || a->state == FB_DTLS_CORE_FAILED ||
      DTLSv1_get_timeout(a->ssl, &tv) != 1) {
    a->deadline_ns = UINT64_MAX;
    return;
  }
  a->deadline_ns = now_ns + (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static int step(fb_dtls_assoc *a) {
  if (a->state != FB_DTLS_CORE_CONTINUE) return drain_records(a);
  ERR_clear_error();
  int rc = SSL_do_handshake(a->ssl);
  return rc == 1 ? handshake_done(a) : ssl_failure(a, rc);
}

int fb_dtls_assoc_start(fb_dtls_assoc *a, uint64_t now_ns) {
  if (a->state != FB_DTLS_CORE_CONTINUE) return a->state;
  int st = step(a);
  update_deadline(a, now_ns);
  return st;
}

int fb_dtls_assoc_feed(fb_dtls_assoc *a, const uint8_t *in, size_t len, uint64_t now_ns) {
  if (a->state == FB_DTLS_CORE_CLOSED || a->state == FB_DTLS_CORE_FAILED) return a->state;
  if (!in || len == 0) return FB_DTLS_CORE_CONTINUE;
  fb_dgram_bio_feed(&a->io, in, len);
  int st = step(a);
  fb_dgram_bio_feed(&a->io, NULL, 0);
  update_deadline(a, now_ns);
  return st;
}

int fb_dtls_assoc_handle_timeout(fb_dtls_assoc *a, uint64_t now_ns) {
  if (a->state == FB_DTLS_CORE_CLOSED || a->state == FB_DTLS_CORE_FAILED || now_ns < a->deadline_ns)
    return a->state;
  ERR_clear_error();
  /* OpenSSL keeps its own clock and treats a timer with < 15 ms left as
   * expired; if it thinks it is early, update_deadline reschedules. */
  if (DTLSv1_handle_timeout(a->ssl) < 0)
    return finish(a, FB_DTLS_CORE_FAILED, "DTLS handshake timed out");
  ERR_clear_error();
  update_deadline(a, now_ns);
  return a->state;
}

void fb_dtls_assoc_close(fb_dtls_assoc *a) {
  if (a->state == FB_DTLS_CORE_CLOSED || a->state == FB_DTLS_CORE_FAILED) return;
  ERR_clear_error();
  if (a->state == FB_DTLS_CORE_CONNECTED) SSL_shutdown(a->ssl); /* queues close_notify */
  finish(a, FB_DTLS_CORE_CLOSED, "closed locally");
}
