/*
 * test_dtls_srtp.c — fb_dtls against a real OpenSSL DTLS 1.2 client, purely
 * in memory, then SRTP/SRTCP with the exported keys.
 *
 * The client plays the browser: its own self-signed P-256 certificate, the
 * use_srtp extension with the profiles under test, memory BIOs. Datagrams are
 * pumped both ways by hand (the client's output is split into one record per
 * datagram), with a bound on rounds so a stuck handshake fails the test
 * instead of hanging it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "webrtc/dtls.h"
#include "webrtc/srtp_session.h"
#include "check.h"

#define MAX_ROUNDS 50
#define LABEL "EXTRACTOR-dtls_srtp"
#define FB_DTLS_SRTP_PROFILES_FOR_TEST "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

/* ---- the test's DTLS client ------------------------------------------------ */

typedef struct {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio, *wbio; /* owned by ssl */
  EVP_PKEY *key;
  X509 *cert;
  char fp[FB_DTLS_FINGERPRINT_MAX];
  int done, failed, closed;
} client;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fingerprint_of(X509 *x, char *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(x, EVP_sha256(), md, &n);
  char *p = out + sprintf(out, "sha-256 ");
  for (unsigned int i = 0; i < n; i++) p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
}

static int accept_any(int ok, X509_STORE_CTX *st) {
  (void)ok;
  (void)st;
  return 1;
}

/* profiles NULL: no use_srtp extension at all. */
static int client_init(client *c, const char *profiles) {
  memset(c, 0, sizeof *c);
  c->key = EVP_EC_gen("P-256");
  c->cert = X509_new();
  X509_set_version(c->cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(c->cert), 4242);
  X509_gmtime_adj(X509_getm_notBefore(c->cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(c->cert), 86400);
  X509_NAME *name = X509_get_subject_name(c->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"browser", -1, -1, 0);
  X509_set_issuer_name(c->cert, name);
  X509_set_pubkey(c->cert, c->key);
  if (X509_sign(c->cert, c->key, EVP_sha256()) <= 0) return -1;
  fingerprint_of(c->cert, c->fp);

  c->ctx = SSL_CTX_new(DTLS_client_method());
  SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(c->ctx, DTLS1_2_VERSION);
  SSL_CTX_use_certificate(c->ctx, c->cert);
  SSL_CTX_use_PrivateKey(c->ctx, c->key);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, accept_any);
  if (profiles && SSL_CTX_set_tlsext_use_srtp(c->ctx, profiles) != 0) return -1;
  c->ssl = SSL_new(c->ctx);
  c->rbio = BIO_new(BIO_s_mem());
  c->wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(c->rbio, -1);
  BIO_set_mem_eof_return(c->wbio, -1);
  SSL_set_bio(c->ssl, c->rbio, c->wbio);
  SSL_set_options(c->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(c->ssl, 1200);
  SSL_set_connect_state(c->ssl);
  return 0;
}

static void client_free(client *c) {
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
  X509_free(c->cert);
  EVP_PKEY_free(c->key);
}

/* Let the client process whatever is in its read BIO. */
static void client_step(client *c) {
  if (c->failed || c->closed) return;
  if (!c->done) {
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
      c->done = 1;
    } else {
      int e = SSL_get_error(c->ssl, rc);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) c->failed = 1;
    }
    ERR_clear_error();
    return;
  }
  unsigned char buf[2048];
  int rc;
  while ((rc = SSL_read(c->ssl, buf, sizeof buf)) > 0)
    ;
  int e = SSL_get_error(c->ssl, rc);
  if (e == SSL_ERROR_ZERO_RETURN)
    c->closed = 1;
  else if (e != SSL_ERROR_WANT_READ)
    c->failed = 1;
  ERR_clear_error();
}

/* ---- pumping ------------------------------------------------------------ */

typedef struct {
  client c;
  fb_dtls *s;
  int connected_events;       /* how many times feed returned CONNECTED */
  int last;                   /* last feed result */
  uint8_t first_record[2048]; /* the client's first record (its ClientHello) */
  int first_len;
} pair;

/* Client output -> server, one DTLS record per datagram. */
static void client_to_server(pair *p) {
  static uint8_t buf[65536];
  int n = BIO_read(p->c.wbio, buf, sizeof buf);
  for (int off = 0; n > 0 && off + 13 <= n;) {
    int rl = 13 + (buf[off + 11] << 8 | buf[off + 12]);
    if (off + rl > n) break;
    if (p->first_len == 0 && rl <= (int)sizeof p->first_record) {
      memcpy(p->first_record, buf + off, (size_t)rl);
      p->first_len = rl;
    }
    p->last = fb_dtls_feed(p->s, buf + off, (size_t)rl);
    if (p->last == FB_DTLS_CONNECTED) p->connected_events++;
    off += rl;
  }
}

/* Server output -> client (one datagram at a time); returns datagrams moved.
 * drop: discard instead of delivering. */
static int server_to_client(pair *p, int drop) {
  uint8_t buf[FB_DTLS_MTU];
  int n, count = 0;
  while ((n = fb_dtls_next_outgoing(p->s, buf, sizeof buf)) > 0) {
    count++;
    if (drop) continue;
    BIO_write(p->c.rbio, buf, n);
    client_step(&p->c);
  }
  return count;
}

static int terminal(int st) { return st == FB_DTLS_CLOSED || st == FB_DTLS_FAILED; }

/* Run until both sides are done or one failed; returns rounds used. */
static int pump(pair *p) {
  int round;
  for (round = 0; round < MAX_ROUNDS; round++) {
    client_step(&p->c);
    client_to_server(p);
    server_to_client(p, 0);
    if (BIO_ctrl_pending(p->c.wbio) > 0) continue;
    if ((p->c.done && fb_dtls_state(p->s) == FB_DTLS_CONNECTED) || p->c.failed ||
        terminal(fb_dtls_state(p->s)))
      break;
  }
  return round;
}

static int pair_start(pair *p, fb_dtls_ctx *ctx, const char *profiles, const char *expect_fp) {
  memset(p, 0, sizeof *p);
  if (client_init(&p->c, profiles) < 0) return -1;
  p->s = fb_dtls_new(ctx, expect_fp ? expect_fp : p->c.fp);
  return p->s ? 0 : -1;
}

static void pair_free(pair *p) {
  fb_dtls_free(p->s);
  client_free(&p->c);
}

/* The client's view of the keys: local = client write key+salt. */
static void client_keys(client *c, const fb_srtp_keys *server, fb_srtp_keys *out) {
  size_t k = (size_t)server->key_len, s = (size_t)server->salt_len;
  unsigned char km[2 * FB_SRTP_MASTER_MAX];
  memset(out, 0, sizeof *out);
  SSL_export_keying_material(c->ssl, km, 2 * (k + s), LABEL, strlen(LABEL), NULL, 0, 0);
  out->profile = server->profile;
  out->key_len = server->key_len;
  out->salt_len = server->salt_len;
  memcpy(out->local, km, k);
  memcpy(out->local + k, km + 2 * k, s);
  memcpy(out->remote, km + k, k);
  memcpy(out->remote + k, km + 2 * k + s, s);
}

/* ---- checks ------------------------------------------------------------- */

static int fingerprint_format_ok(const char *fp) {
  if (strncmp(fp, "sha-256 ", 8) != 0 || strlen(fp) != 8 + 32 * 3 - 1) return 0;
  for (int i = 0; i < 32; i++) {
    const char *g = fp + 8 + i * 3;
    for (int j = 0; j < 2; j++)
      if (!((g[j] >= '0' && g[j] <= '9') || (g[j] >= 'A' && g[j] <= 'F'))) return 0;
    if (i < 31 && g[2] != ':') return 0;
  }
  return 1;
}

static void make_rtp(uint8_t *pkt, uint16_t seq) {
  pkt[0] = 0x80;
  pkt[1] = 111;
  pkt[2] = (uint8_t)(seq >> 8);
  pkt[3] = (uint8_t)seq;
  uint32_t ts = 960u * seq, ssrc = 0x11223344;
  for (int i = 0; i < 4; i++) {
    pkt[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
    pkt[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
  }
  for (int i = 0; i < 100; i++) pkt[12 + i] = (uint8_t)(i * 7 + seq);
}

/* SRTP and SRTCP between the client's and the server's key views. */
static void srtp_round_trips(const fb_srtp_keys *skeys, const fb_srtp_keys *ckeys) {
  fb_srtp *srv = fb_srtp_new(skeys), *cli = fb_srtp_new(ckeys);
  CHECK(srv && cli, "fb_srtp_new failed (profile %d)", skeys->profile);
  if (!srv || !cli) {
    fb_srtp_free(srv);
    fb_srtp_free(cli);
    return;
  }
  int tag = skeys->profile == FB_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10;
  _Alignas(8) uint8_t plain[112], pkt[112 + FB_SRTP_TRAILER_MAX], copy[sizeof pkt];
  int len = 112, rc;

  /* client -> server */
  make_rtp(plain, 1);
  memcpy(pkt, plain, 112);
  rc = fb_srtp_protect(cli, pkt, &len, sizeof pkt);
  CHECK(rc == FB_SRTP_OK && len == 112 + tag, "protect rc %d len %d", rc, len);
  CHECK(memcmp(pkt + 12, plain + 12, 100) != 0, "payload not encrypted");
  memcpy(copy, pkt, sizeof pkt);
  int clen = len;
  rc = fb_srtp_unprotect(srv, pkt, &len);
  CHECK(rc == FB_SRTP_OK && len == 112 && memcmp(pkt, plain, 112) == 0, "unprotect rc %d len %d",
        rc, len);
  len = clen;
  rc = fb_srtp_unprotect(srv, copy, &len);
  CHECK(rc == FB_SRTP_ERR_REPLAY, "replayed packet: rc %d", rc);

  /* tampered packet rejected, the genuine one still accepted */
  make_rtp(plain, 2);
  memcpy(pkt, plain, 112);
  len = 112;
  fb_srtp_protect(cli, pkt, &len, sizeof pkt);
  memcpy(copy, pkt, sizeof pkt);
  clen = len;
  copy[40] ^= 0x01;
  rc = fb_srtp_unprotect(srv, copy, &len);
  CHECK(rc == FB_SRTP_ERR_AUTH, "tampered packet: rc %d", rc);
  len = clen;
  rc = fb_srtp_unprotect(srv, pkt, &len);
  CHECK(rc == FB_SRTP_OK && memcmp(pkt, plain, 112) == 0, "genuine after tamper: rc %d", rc);

  /* resending the same sequence number is allowed on our side */
  for (int i = 0; i < 2; i++) {
    memcpy(pkt, plain, 112);
    len = 112;
    rc = fb_srtp_protect(cli, pkt, &len, sizeof pkt);
    CHECK(rc == FB_SRTP_OK, "repeat protect %d: rc %d", i, rc);
  }
  /* not enough room for the trailer */
  len = 112;
  rc = fb_srtp_protect(cli, pkt, &len, 112 + 20);
  CHECK(rc == FB_SRTP_ERR_ARG, "small cap: rc %d", rc);

  /* server -> client */
  make_rtp(plain, 7);
  memcpy(pkt, plain, 112);
  len = 112;
  rc = fb_srtp_protect(srv, pkt, &len, sizeof pkt);
  CHECK(rc == FB_SRTP_OK, "server protect rc %d", rc);
  rc = fb_srtp_unprotect(cli, pkt, &len);
  CHECK(rc == FB_SRTP_OK && len == 112 && memcmp(pkt, plain, 112) == 0, "client unprotect rc %d",
        rc);

  /* RTCP receiver report, client -> server, then replayed */
  _Alignas(8) uint8_t rr[32 + FB_SRTP_TRAILER_MAX], rrplain[32], rrcopy[sizeof rr];
  for (int i = 0; i < 32; i++) /* RR with one report block, sender SSRC 0xAA000001 */
    rrplain[i] = (uint8_t)(i < 8 ? "\x81\xc9\x00\x07\xaa\x00\x00\x01"[i] : i);
  memcpy(rr, rrplain, 32);
  len = 32;
  rc = fb_srtp_protect_rtcp(cli, rr, &len, sizeof rr);
  CHECK(rc == FB_SRTP_OK && len == 32 + 4 + tag, "protect_rtcp rc %d len %d", rc, len);
  memcpy(rrcopy, rr, sizeof rr);
  clen = len;
  rc = fb_srtp_unprotect_rtcp(srv, rr, &len);
  CHECK(rc == FB_SRTP_OK && len == 32 && memcmp(rr, rrplain, 32) == 0,
        "unprotect_rtcp rc %d len %d", rc, len);
  len = clen;
  rc = fb_srtp_unprotect_rtcp(srv, rrcopy, &len);
  CHECK(rc == FB_SRTP_ERR_REPLAY, "replayed RTCP: rc %d", rc);
  /* and server -> client */
  memcpy(rr, rrplain, 32);
  len = 32;
  rc = fb_srtp_protect_rtcp(srv, rr, &len, sizeof rr);
  rc = rc ? rc : fb_srtp_unprotect_rtcp(cli, rr, &len);
  CHECK(rc == FB_SRTP_OK && len == 32 && memcmp(rr, rrplain, 32) == 0, "RTCP s->c rc %d", rc);

  fb_srtp_stats a, b;
  fb_srtp_get_stats(srv, &a);
  fb_srtp_get_stats(cli, &b);
  CHECK(a.unprotect_ok == 3 && a.auth_fail == 1 && a.replay_fail == 2 && a.protect_ok == 2 &&
            a.other_fail == 0,
        "server stats ok %d auth %d replay %d protect %d other %d", (int)a.unprotect_ok,
        (int)a.auth_fail, (int)a.replay_fail, (int)a.protect_ok, (int)a.other_fail);
  CHECK(b.protect_ok == 5 && b.other_fail == 1 && b.unprotect_ok == 2,
        "client stats protect %d other %d unprotect %d", (int)b.protect_ok, (int)b.other_fail,
        (int)b.unprotect_ok);
  fb_srtp_free(srv);
  fb_srtp_free(cli);
}

/* A full handshake offering only `profiles`; expects that profile. */
static void test_profile(fb_dtls_ctx *ctx, const char *profiles, int want_profile,
                         int lowercase_fp) {
  pair p;
  char fp[FB_DTLS_FINGERPRINT_MAX];
  if (pair_start(&p, ctx, profiles, NULL) < 0) {
    CHECK(0, "pair_start %s", profiles);
    return;
  }
  if (lowercase_fp) { /* SDP hex is case-insensitive */
    fb_dtls_free(p.s);
    strcpy(fp, p.c.fp);
    for (char *q = fp; *q; q++)
      if (*q >= 'A' && *q <= 'F') *q = (char)(*q - 'A' + 'a');
    p.s = fb_dtls_new(ctx, fp);
  }
  int rounds = pump(&p);
  CHECK(p.c.done && !p.c.failed, "%s: client handshake done=%d failed=%d", profiles, p.c.done,
        p.c.failed);
  CHECK(fb_dtls_state(p.s) == FB_DTLS_CONNECTED && p.connected_events == 1,
        "%s: server state %d, CONNECTED reported %d times (%s)", profiles, fb_dtls_state(p.s),
        p.connected_events, fb_dtls_error(p.s));
  CHECK(rounds < MAX_ROUNDS, "%s: %d rounds", profiles, rounds);

  /* the client sees the certificate whose fingerprint we advertise */
  char seen[FB_DTLS_FINGERPRINT_MAX] = "";
  X509 *peer = SSL_get0_peer_certificate(p.c.ssl);
  if (peer) fingerprint_of(peer, seen);
  CHECK(strcmp(seen, fb_dtls_ctx_fingerprint(ctx)) == 0, "server cert %s vs SDP %s", seen,
        fb_dtls_ctx_fingerprint(ctx));

  fb_srtp_keys sk, ck;
  CHECK(fb_dtls_srtp_keys(p.s, &sk) == 0, "%s: srtp keys", profiles);
  CHECK(sk.profile == want_profile, "%s: profile %d want %d", profiles, sk.profile, want_profile);
  client_keys(&p.c, &sk, &ck);
  size_t n = (size_t)(sk.key_len + sk.salt_len);
  CHECK(memcmp(sk.remote, ck.local, n) == 0 && memcmp(sk.local, ck.remote, n) == 0,
        "%s: keys do not match crosswise", profiles);
  CHECK(memcmp(sk.local, sk.remote, n) != 0, "%s: local == remote key", profiles);
  const SRTP_PROTECTION_PROFILE *cp = SSL_get_selected_srtp_profile(p.c.ssl);
  CHECK(cp && (int)cp->id == want_profile, "%s: client profile", profiles);
  srtp_round_trips(&sk, &ck);

  /* a stale ClientHello after connect: dropped, no second CONNECTED */
  int st = fb_dtls_feed(p.s, p.first_record, (size_t)p.first_len);
  CHECK(st == FB_DTLS_CONTINUE, "%s: old ClientHello after connect -> %d", profiles, st);
  server_to_client(&p, 1);

  /* random garbage while connected is dropped */
  srand(7);
  uint8_t junk[300];
  for (int i = 0; i < 200; i++) {
    int len = 1 + rand() % (int)sizeof junk;
    for (int j = 0; j < len; j++) junk[j] = (uint8_t)rand();
    if (i % 2) { /* plausible header: alert/app data, DTLS 1.2, epoch 1 */
      junk[0] = (uint8_t)(i % 4 ? 23 : 21);
      junk[1] = 0xfe;
      junk[2] = 0xfd;
      junk[3] = 0;
      junk[4] = 1;
    }
    st = fb_dtls_feed(p.s, junk, (size_t)len);
    if (st != FB_DTLS_CONTINUE) break;
  }
  CHECK(st == FB_DTLS_CONTINUE && fb_dtls_state(p.s) == FB_DTLS_CONNECTED,
        "%s: junk while connected -> %d (%s)", profiles, st, fb_dtls_error(p.s));
  server_to_client(&p, 1);

  /* the client closes: server reports CLOSED and answers */
  SSL_shutdown(p.c.ssl);
  client_to_server(&p);
  CHECK(p.last == FB_DTLS_CLOSED, "%s: after close_notify %d", profiles, p.last);
  CHECK(server_to_client(&p, 0) >= 1, "%s: no close_notify back", profiles);
  CHECK(p.c.closed, "%s: client did not see our close_notify", profiles);
  pair_free(&p);
}

/* Handshakes the server must refuse: wrong SDP fingerprint (the client gets
 * a bad_certificate alert), or a client without use_srtp. */
static void test_refused(fb_dtls_ctx *ctx, const char *profiles, const char *expect_fp,
                         const char *why) {
  pair p;
  if (pair_start(&p, ctx, profiles, expect_fp) < 0) {
    CHECK(0, "pair_start");
    return;
  }
  pump(&p);
  CHECK(fb_dtls_state(p.s) == FB_DTLS_FAILED && p.connected_events == 0, "%s: state %d", why,
        fb_dtls_state(p.s));
  CHECK(strstr(fb_dtls_error(p.s), why) != NULL, "error: %s", fb_dtls_error(p.s));
  if (expect_fp)
    CHECK(!p.c.done && p.c.failed, "client should see the alert: done %d failed %d", p.c.done,
          p.c.failed);
  fb_srtp_keys k;
  CHECK(fb_dtls_srtp_keys(p.s, &k) < 0, "%s: keys after failure", why);
  CHECK(fb_dtls_feed(p.s, p.first_record, (size_t)p.first_len) == FB_DTLS_FAILED, "sticky");
  pair_free(&p);
}

/* Our first flight is lost: the retransmission timer resends it. */
static void test_retransmit(fb_dtls_ctx *ctx) {
  pair p;
  if (pair_start(&p, ctx, FB_DTLS_SRTP_PROFILES_FOR_TEST, NULL) < 0) {
    CHECK(0, "pair_start");
    return;
  }
  CHECK(fb_dtls_next_timeout_ns(p.s) == UINT64_MAX, "timer before any input");
  client_step(&p.c);
  client_to_server(&p);
  int lost = server_to_client(&p, 1);
  uint64_t t0 = now_ns(), deadline = fb_dtls_next_timeout_ns(p.s);
  CHECK(lost >= 1, "no first flight");
  CHECK(deadline > t0 && deadline <= t0 + 2000000000ull, "deadline in %lld ms",
        (long long)(deadline - t0) / 1000000);
  CHECK(fb_dtls_handle_timeout(p.s, t0) == FB_DTLS_CONTINUE && server_to_client(&p, 1) == 0,
        "early timeout call must not resend");
  struct timespec ts = {(time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  CHECK(fb_dtls_handle_timeout(p.s, now_ns()) == FB_DTLS_CONTINUE, "handle_timeout");
  CHECK(fb_dtls_next_timeout_ns(p.s) > deadline, "timer not re-armed");
  CHECK(server_to_client(&p, 0) >= 1, "nothing retransmitted");
  pump(&p);
  CHECK(p.c.done && fb_dtls_state(p.s) == FB_DTLS_CONNECTED && p.connected_events == 1,
        "after retransmission: client %d server %d", p.c.done, fb_dtls_state(p.s));
  /* a local close sends close_notify */
  fb_dtls_close(p.s);
  CHECK(fb_dtls_state(p.s) == FB_DTLS_CLOSED, "closed");
  server_to_client(&p, 0);
  CHECK(p.c.closed, "client did not see close_notify");
  pair_free(&p);
}

/* Our last flight (ChangeCipherSpec + Finished) is lost after we reported
 * CONNECTED: the client retransmits its flight, we answer with ours again
 * and do not report CONNECTED a second time. */
static void test_lost_final_flight(fb_dtls_ctx *ctx) {
  pair p;
  if (pair_start(&p, ctx, FB_DTLS_SRTP_PROFILES_FOR_TEST, NULL) < 0) {
    CHECK(0, "pair_start");
    return;
  }
  client_step(&p.c);
  client_to_server(&p);    /* ClientHello */
  server_to_client(&p, 0); /* our first flight; the client answers */
  client_to_server(&p);    /* Certificate .. Finished */
  CHECK(p.connected_events == 1, "not connected after the client's Finished");
  CHECK(server_to_client(&p, 1) >= 1, "no final flight to lose");
  CHECK(!p.c.done, "client done without our Finished");
  CHECK(fb_dtls_next_timeout_ns(p.s) == UINT64_MAX, "server timer running after connect");

  struct timeval tv;
  if (DTLSv1_get_timeout(p.c.ssl, &tv) == 1) {
    struct timespec ts = {tv.tv_sec, tv.tv_usec * 1000L};
    nanosleep(&ts, NULL);
  }
  CHECK(DTLSv1_handle_timeout(p.c.ssl) == 1, "client did not retransmit");
  client_to_server(&p);
  CHECK(p.last == FB_DTLS_CONTINUE && p.connected_events == 1,
        "retransmitted client flight: last %d, CONNECTED %d times", p.last, p.connected_events);
  CHECK(server_to_client(&p, 0) >= 1, "final flight not resent");
  CHECK(p.c.done && !p.c.failed, "client did not complete");
  CHECK(fb_dtls_state(p.s) == FB_DTLS_CONNECTED, "state %d", fb_dtls_state(p.s));
  pair_free(&p);
}

static uint32_t rng_state = 12345;
static uint32_t rng(void) { /* xorshift32, fixed seed */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void test_random_input(fb_dtls_ctx *ctx, const uint8_t *hello, int hello_len) {
  uint8_t buf[1500], out[FB_DTLS_MTU];
  fb_dtls *d = fb_dtls_new(ctx, NULL);
  int connected = 0, st = FB_DTLS_CONTINUE;
  for (int i = 0; i < 10000; i++) {
    size_t len = 1 + rng() % sizeof buf;
    for (size_t j = 0; j < len; j++) buf[j] = (uint8_t)rng();
    st = fb_dtls_feed(d, buf, len);
    connected |= st == FB_DTLS_CONNECTED;
    while (fb_dtls_next_outgoing(d, out, sizeof out) > 0) {
    }
  }
  CHECK(!connected && (st == FB_DTLS_CONTINUE || st == FB_DTLS_FAILED),
        "random datagrams: connected %d state %d", connected, st);
  fprintf(stderr, "10000 random datagrams: final state %d (%s)\n", st, fb_dtls_error(d));
  fb_dtls_free(d);

  /* mutated copies of a real ClientHello, each into a fresh association */
  int fails = 0, answered = 0;
  for (int i = 0; i < 400 && hello_len > 0; i++) {
    d = fb_dtls_new(ctx, NULL);
    memcpy(buf, hello, (size_t)hello_len);
    size_t len = (size_t)hello_len;
    int flips = 1 + (int)(rng() % 6);
    for (int f = 0; f < flips; f++) buf[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
    if (i % 5 == 0) len = 1 + rng() % len;
    st = fb_dtls_feed(d, buf, len);
    connected |= st == FB_DTLS_CONNECTED;
    fails += st == FB_DTLS_FAILED;
    while (fb_dtls_next_outgoing(d, out, sizeof out) > 0) answered++;
    fb_dtls_free(d);
  }
  CHECK(!connected, "mutated ClientHello connected");
  fprintf(stderr, "mutated ClientHellos: %d failed, %d datagrams answered\n", fails, answered);
}

int main(void) {
  uint64_t t0 = now_ns();
  CHECK(fb_srtp_global_init() == 0 && fb_srtp_global_init() == 0, "srtp init");
  char err[256];
  fb_dtls_ctx *ctx = fb_dtls_ctx_new(err, sizeof err);
  CHECK(ctx != NULL, "ctx: %s", err);
  if (!ctx) return CHECK_DONE();
  const char *fp = fb_dtls_ctx_fingerprint(ctx);
  CHECK(fingerprint_format_ok(fp), "fingerprint format: %s", fp);

  CHECK(fb_dtls_new(ctx, "sha-256 zz") == NULL, "bad fingerprint accepted");
  CHECK(fb_dtls_new(ctx, "md5 00:11") == NULL, "unknown hash accepted");
  CHECK(fb_dtls_new(ctx, "sha-256 00:11:22") == NULL, "short fingerprint accepted");

  test_profile(ctx, "SRTP_AES128_CM_SHA1_80", FB_SRTP_PROFILE_AES128_CM_SHA1_80, 0);
  test_profile(ctx, "SRTP_AEAD_AES_128_GCM", FB_SRTP_PROFILE_AEAD_AES_128_GCM, 1);
  /* offering both (as browsers do): our preference, GCM */
  test_profile(ctx, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM",
               FB_SRTP_PROFILE_AEAD_AES_128_GCM, 0);
  test_refused(ctx, "SRTP_AES128_CM_SHA1_80",
               "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
               "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
               "fingerprint");
  test_refused(ctx, NULL, NULL, "SRTP");
  test_retransmit(ctx);
  test_lost_final_flight(ctx);

  pair p; /* grab a genuine ClientHello for the mutation pass */
  int hello_len = 0;
  uint8_t hello[2048];
  if (pair_start(&p, ctx, "SRTP_AES128_CM_SHA1_80", NULL) == 0) {
    client_step(&p.c);
    client_to_server(&p);
    memcpy(hello, p.first_record, (size_t)p.first_len);
    hello_len = p.first_len;
    pair_free(&p);
  }
  test_random_input(ctx, hello, hello_len);

  fb_dtls_ctx_free(ctx);
  double secs = (double)(now_ns() - t0) / 1e9;
  fprintf(stderr, "total %.2f s\n", secs);
  CHECK(secs < 10.0, "took %.2f s", secs);
  return CHECK_DONE();
}
