/*
 * gen_seeds.c — writes the binary seed corpora of the fuzz targets (a normal
 * program, built as build-fuzz/fuzz/gen_seeds; not a fuzzer):
 *
 *   build-fuzz/fuzz/gen_seeds tests/fuzz/corpus
 *
 * It makes what a real peer sends, with the real libraries, in the input
 * format each target reads (see the top comment of each fuzz_X.c):
 *   stun/        Binding requests from libnice's ICE usage (as the existing
 *                seeds: USERNAME SeedUfrg:rEm0, pwd SeedPassword0123456789ab)
 *   rtp/, rtcp/  packets built with fb_rtp_write_header / fb_rtcp_build_sr
 *   dtls/        an OpenSSL DTLS 1.2 client's ClientHello and its second
 *                flight, recorded against a real fb_dtls server
 *   srtp/        RTP/RTCP protected with the harness's fixed keys
 *   jitter/      real Opus packets (speech synth) with loss and reordering
 *   token/       tokens signed with the fuzz secret, and JSON claims
 *   ws_message/  single messages: join (minted token), offer, ping, floor/chat
 *   meeting/     scripts of a meeting (tests/fuzz/meeting_script.h): floor
 *                control, quality and auto-cut, replaced and lost connections,
 *                webcast sessions, chat limits, client errors, queue edits
 * Text seeds (config/, sdp/) are kept as files in the corpus, not made here.
 * Randoms (transaction ids, DTLS randoms, keys) differ on every run; the
 * seeds in git are one such run.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/stat.h>

#include "webrtc/dtls.h"
#include "webrtc/rtcp.h"
#include "mixer/rtp.h"
#include "webrtc/srtp_session.h"
#include "codecs/opus_codec.h"
#include "codecs/synth.h"
#include "signalling/token.h"
#include "tests/fuzz/meeting_script.h"
#include "tests/fuzz/seed_offer.h"

#define SECRET "fuzz-seed-secret-0123456789"

static const char *root;

static void die(const char *what) {
  fprintf(stderr, "gen_seeds: %s\n", what);
  exit(1);
}

/* Growable byte buffer for multi-record seeds. */
typedef struct {
  uint8_t b[65536];
  size_t n;
} buf;

static void put(buf *o, const void *p, size_t n) {
  if (o->n + n > sizeof o->b) die("seed too large");
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void put8(buf *o, int v) {
  uint8_t b = (uint8_t)v;
  put(o, &b, 1);
}
static void put16(buf *o, size_t v) {
  put8(o, (int)(v >> 8));
  put8(o, (int)v);
}
static void put32(buf *o, uint32_t v) {
  put16(o, v >> 16);
  put16(o, v & 0xffff);
}

static void save(const char *target, const char *name, const void *p, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, target);
  if (mkdir(path, 0755) < 0 && errno != EEXIST) die("mkdir failed");
  snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) die("cannot write a seed");
}
static void save_buf(const char *target, const char *name, const buf *o) {
  save(target, name, o->b, o->n);
}

/* ---- stun ------------------------------------------------------------------ */

static size_t stun_request(uint8_t *out, size_t cap, const char *user, const char *pwd, int uc) {
  static const uint16_t known[] = {STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                   STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_FINGERPRINT, 0};
  StunAgent agent;
  StunMessage msg;
  stun_agent_init(&agent, known, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  return stun_usage_ice_conncheck_create(&agent, &msg, out, cap, (const uint8_t *)user,
                                         strlen(user), (const uint8_t *)pwd, strlen(pwd), uc, true,
                                         0x6e7f1eff, 0x1122334455667788ull, NULL,
                                         STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
}

static void stun_seed(const char *name, int ctl, const char *user, const char *pwd, int uc,
                      uint16_t type) {
  uint8_t m[512];
  size_t n = stun_request(m + 1, sizeof m - 1, user, pwd, uc);
  if (!n) die("stun request");
  m[0] = (uint8_t)ctl;
  m[1] = (uint8_t)(type >> 8);
  m[2] = (uint8_t)type;
  save("stun", name, m, n + 1);
}

static void gen_stun(void) {
  const char *a = "SeedUfrg:rEm0", *apw = "SeedPassword0123456789ab";
  stun_seed("request_v4", 0x00, a, apw, 0, 0x0001);
  stun_seed("request_use_candidate_v6", 0x02, a, apw, 1, 0x0001);
  stun_seed("request_v4mapped", 0x04, a, apw, 1, 0x0001);
  stun_seed("request_any_remote", 0x00, "AnyRemote:xYz1", "AnyRemotePassword0123456", 0, 0x0001);
  stun_seed("request_wrong_remote", 0x01, "SeedUfrg:other", apw, 0, 0x0001);
  stun_seed("request_resign", 0x01, a, apw, 1, 0x0001);
  stun_seed("request_cap64", 24 << 3, a, apw, 0, 0x0001);
  stun_seed("request_cap32", 20 << 3, a, apw, 0, 0x0001);
  stun_seed("request_bad_from", 0x06, a, apw, 0, 0x0001);
  stun_seed("indication", 0x00, a, apw, 0, 0x0011);
  stun_seed("success_response", 0x00, a, apw, 0, 0x0101);
}

/* ---- rtp / rtcp -------------------------------------------------------------- */

static void gen_rtp(void) {
  uint8_t p[256];
  fb_rtp_write_header(p, 1, 111, 4660, 960 * 7, 0x1234abcd);
  memcpy(p + 12, "\xfc\xff\xfe", 3); /* an Opus TOC and a little payload */
  save("rtp", "opus", p, 15);
  /* 2 CSRCs, one-byte extension (audio level), 3 bytes padding */
  fb_rtp_write_header(p, 0, 111, 4661, 960 * 8, 0x1234abcd);
  p[0] = 0x80 | 0x20 | 0x10 | 2;
  memcpy(p + 12, "\x00\x00\x00\x01\x00\x00\x00\x02", 8);
  memcpy(p + 20, "\xbe\xde\x00\x01\x10\x85\x00\x00", 8);
  memcpy(p + 28, "\xfc\x01\x02\x00\x00\x03", 6);
  save("rtp", "csrc_ext_padding", p, 34);
  /* two-byte header extension (0x1000), no payload */
  fb_rtp_write_header(p, 0, 96, 1, 0, 1);
  p[0] = 0x90;
  memcpy(p + 12, "\x10\x00\x00\x02\x01\x02\xaa\xbb\x00\x00\x00\x00", 12);
  save("rtp", "two_byte_ext_empty", p, 24);
}

static void gen_rtcp(void) {
  fb_rtcp_block b = {0x5eed0001u, 12, -3, 70000, 321, 0x12345678u, 6553};
  buf o = {.n = 0};
  put32(&o, 0x5eed0001u); /* about: the block is about this SSRC */
  uint8_t pkt[512];
  size_t n = fb_rtcp_build_sr(pkt, sizeof pkt, 0xabcdef01u, 0xe5a1b2c3d4e5f607ull, 123456, 500,
                              80000, &b, "browser-cname");
  if (!n) die("rtcp sr");
  put(&o, pkt, n);
  save_buf("rtcp", "sr_block_sdes", &o);
  /* RR with two blocks (the second about us), then a BYE */
  o.n = 0;
  put32(&o, 0x0000beefu);
  static const uint8_t rr[] = {0x82, 201,  0,    13, 0xab, 0xcd, 0xef, 0x01, 0,   0,  0, 1, 5, 0xff,
                               0xff, 0xfe, 0,    1,  0,    9,    0,    0,    0,   40, 1, 2, 3, 4,
                               0,    0,    0x10, 0,  0,    0,    0xbe, 0xef, 128, 0,  0, 7, 0, 0,
                               0x12, 0x34, 0,    0,  0,    3,    5,    6,    7,   8,  0, 1, 0, 0,
                               0x81, 203,  0,    1,  0xab, 0xcd, 0xef, 0x01};
  put(&o, rr, sizeof rr);
  save_buf("rtcp", "rr_two_blocks_bye", &o);
  /* receive-statistics events: in-order packets, a gap, reports, an SR */
  o.n = 0;
  put32(&o, 0x11111111u);
  for (int i = 0; i < 24; i++) {
    int seq = 100 + i + (i > 12 ? 5 : 0);
    uint8_t op = i % 6 == 5 ? 2 : i == 3 ? 3 : 0;
    put8(&o, op);
    put16(&o, (size_t)seq);
    put32(&o, (uint32_t)(960 * seq));
    put8(&o, 20 + (i % 3));
  }
  save_buf("rtcp", "rx_events", &o);
}

/* ---- dtls ------------------------------------------------------------------ */

static int accept_any(int ok, X509_STORE_CTX *st) {
  (void)ok, (void)st;
  return 1;
}

/* A browser-like client: own P-256 certificate, use_srtp, memory BIOs. */
static SSL *dtls_client(SSL_CTX **ctx_out) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"browser", -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  if (!key || X509_sign(x, key, EVP_sha256()) <= 0) die("client certificate");
  SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_use_certificate(ctx, x);
  SSL_CTX_use_PrivateKey(ctx, key);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
  SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
  X509_free(x);
  EVP_PKEY_free(key);
  SSL *ssl = SSL_new(ctx);
  BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(r, -1);
  BIO_set_mem_eof_return(w, -1);
  SSL_set_bio(ssl, r, w);
  SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl, 1200);
  SSL_set_connect_state(ssl);
  *ctx_out = ctx;
  return ssl;
}

static void gen_dtls(void) {
  char err[256];
  fb_dtls_ctx *sctx = fb_dtls_ctx_new(err, sizeof err);
  if (!sctx) die(err);
  fb_dtls *srv = fb_dtls_new(sctx, NULL);
  SSL_CTX *cctx;
  SSL *cl = dtls_client(&cctx);
  buf all = {.n = 0}, hello = {.n = 0};
  put8(&all, 0);
  put8(&hello, 0);
  /* pump: client records (one per datagram) -> server -> client */
  for (int round = 0; round < 10; round++) {
    SSL_do_handshake(cl);
    ERR_clear_error();
    uint8_t out[65536];
    int n = BIO_read(SSL_get_wbio(cl), out, sizeof out);
    for (int off = 0; n > 0 && off + 13 <= n;) {
      int rl = 13 + (out[off + 11] << 8 | out[off + 12]);
      if (off + rl > n) break;
      put16(&all, (size_t)rl);
      put(&all, out + off, (size_t)rl);
      if (round == 0) {
        put16(&hello, (size_t)rl);
        put(&hello, out + off, (size_t)rl);
      }
      fb_dtls_feed(srv, out + off, (size_t)rl);
      off += rl;
    }
    uint8_t dg[FB_DTLS_MTU];
    int k;
    while ((k = fb_dtls_next_outgoing(srv, dg, sizeof dg)) > 0) BIO_write(SSL_get_rbio(cl), dg, k);
    if (fb_dtls_state(srv) != FB_DTLS_CONTINUE) break;
  }
  if (fb_dtls_state(srv) != FB_DTLS_CONNECTED) die("the recorded DTLS handshake did not complete");
  save_buf("dtls", "client_hello", &hello);
  hello.b[0] = 1; /* the same with a (non-matching) expected fingerprint */
  save_buf("dtls", "client_hello_fingerprint", &hello);
  save_buf("dtls", "client_flights", &all);
  all.b[0] = 1;
  save_buf("dtls", "client_flights_fingerprint", &all);
  put16(&hello, 0);           /* then the retransmission timer */
  put16(&hello, 0x8000 | 40); /* and a drain into a too small buffer */
  save_buf("dtls", "client_hello_timeout", &hello);
  SSL_free(cl);
  SSL_CTX_free(cctx);
  fb_dtls_free(srv);
  fb_dtls_ctx_free(sctx);
}

/* ---- srtp -------------------------------------------------------------------- */

/* The harness's keys (fuzz_srtp.c make_keys), from the sender's side. */
static void peer_keys(fb_srtp_keys *k, int gcm) {
  memset(k, 0, sizeof *k);
  k->profile = gcm ? FB_SRTP_PROFILE_AEAD_AES_128_GCM : FB_SRTP_PROFILE_AES128_CM_SHA1_80;
  k->key_len = 16;
  k->salt_len = gcm ? 12 : 14;
  for (int i = 0; i < FB_SRTP_MASTER_MAX; i++) {
    k->local[i] = (uint8_t)(0x5c ^ (7 * i));
    k->remote[i] = (uint8_t)(0x11 * i + 3);
  }
}

static void gen_srtp(void) {
  for (int gcm = 0; gcm < 2; gcm++) {
    fb_srtp_keys k;
    peer_keys(&k, gcm);
    fb_srtp *tx = fb_srtp_new(&k);
    if (!tx) die("srtp session");
    buf o = {.n = 0}, plain = {.n = 0};
    put8(&o, gcm);
    put8(&plain, gcm);
    for (int i = 0; i < 4; i++) {
      uint8_t p[256];
      memset(p, 0, sizeof p);
      fb_rtp_write_header(p, i == 0, 111, (uint16_t)(1000 + i), (uint32_t)(960 * i), 0xfeedbeef);
      memcpy(p + 12, "\xfc\x11\x22\x33\x44\x55\x66\x77", 8);
      int n = 20;
      put8(&plain, 2); /* protect first (RTP) */
      put16(&plain, (size_t)n);
      put(&plain, p, (size_t)n);
      if (fb_srtp_protect(tx, p, &n, sizeof p) != FB_SRTP_OK) die("srtp protect");
      put8(&o, 0); /* already protected: as it is */
      put16(&o, (size_t)n);
      put(&o, p, (size_t)n);
    }
    uint8_t r[512];
    fb_rtcp_block b = {0xfeedbeef, 0, 0, 1003, 5, 0, 0};
    int n = (int)fb_rtcp_build_sr(r, 256, 0xfeedbeef, 0xe5a1b2c3d4e5f607ull, 4000, 4, 80, &b, "c");
    put8(&plain, 3); /* protect first (RTCP) */
    put16(&plain, (size_t)n);
    put(&plain, r, (size_t)n);
    put8(&plain, 7); /* and with a flipped bit */
    put16(&plain, (size_t)n);
    put(&plain, r, (size_t)n);
    if (fb_srtp_protect_rtcp(tx, r, &n, sizeof r) != FB_SRTP_OK) die("srtcp protect");
    put8(&o, 1);
    put16(&o, (size_t)n);
    put(&o, r, (size_t)n);
    put8(&o, 0); /* a replay of the last RTP packet would be here: a short junk one */
    put16(&o, 12);
    put(&o, "\x80\x6f\x00\x01\x00\x00\x00\x00\xfe\xed\xbe\xef", 12);
    save_buf("srtp", gcm ? "protected_gcm" : "protected_cm", &o);
    save_buf("srtp", gcm ? "protect_first_gcm" : "protect_first_cm", &plain);
    fb_srtp_free(tx);
  }
}

/* ---- jitter ------------------------------------------------------------------ */

static void gen_jitter(void) {
  fb_encoder *enc = fb_encoder_new(32000, 5, 1, 1);
  if (!enc) die("opus encoder");
  fb_speech sp;
  fb_speech_init(&sp, 7);
  float pcm[960];
  for (int variant = 0; variant < 3; variant++) {
    buf o = {.n = 0};
    put8(&o, 50); /* max 200 ms */
    uint16_t seq = 0;
    for (int i = 0; i < 40; i++) {
      fb_speech_fill(&sp, pcm, 960);
      uint8_t pkt[1276];
      int n = fb_encoder_encode(enc, pcm, pkt, sizeof pkt);
      if (n <= 0) die("opus encode");
      if (n > 255) n = 255; /* the harness's length is one byte */
      int lost = variant == 1 && i % 7 == 3;
      int swap = variant == 2 && i % 5 == 2;
      if (!lost && !swap) {
        put8(&o, 0x30 | 0); /* put, relative, duration 960 */
        put8(&o, i == 0 ? 0 : 1);
        put8(&o, i == 0 ? 0 : 8);
        put8(&o, n);
        put(&o, pkt, (size_t)n);
        put8(&o, (i * 37) % 200);
      } else if (swap) {
        put8(&o, 0x30); /* skip one seq ahead, the next record goes back */
        put8(&o, 2);
        put8(&o, 16);
        put8(&o, n);
        put(&o, pkt, (size_t)n);
        put8(&o, 10);
        put8(&o, 0xb0);
        put8(&o, (uint8_t)-1);
        put8(&o, (uint8_t)-8);
        put8(&o, n);
        put(&o, pkt, (size_t)n);
        put8(&o, 30);
        put8(&o, 0x30);
        put8(&o, 1);
        put8(&o, 8);
        put8(&o, 0);
        put8(&o, 0);
      } else {
        put8(&o, 0x30); /* lost: only the numbers move */
        put8(&o, 2);
        put8(&o, 16);
        put8(&o, 0);
        put8(&o, 0);
        seq++;
      }
      seq++;
      put8(&o, 2 | (32 << 2)); /* one 20 ms tick */
    }
    put8(&o, 3 | (60 << 2)); /* a long pause: idle */
    put8(&o, 0xff);          /* reset */
    char name[32];
    snprintf(name, sizeof name, "opus_speech_%s",
             variant == 0   ? "clean"
             : variant == 1 ? "loss"
                            : "reorder");
    save_buf("jitter", name, &o);
  }
  fb_encoder_free(enc);
}

/* ---- token / ws_message -------------------------------------------------------- */

static void mint(char *out, const char *delegate, const char *role, int speak) {
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "m1");
  snprintf(t.delegate, sizeof t.delegate, "%s", delegate);
  snprintf(t.name, sizeof t.name, "Delegate %s", delegate);
  t.role = (fb_role)fb_role_parse(role);
  t.exp = 4102444800LL; /* 2100-01-01 */
  t.iat = 1700000000LL;
  t.speak = speak;
  snprintf(t.jti, sizeof t.jti, "seed-%s", delegate);
  if (fb_token_mint(SECRET, &t, out, FB_TOKEN_MAX + 1) != 0) die("token mint");
}

static void gen_token(void) {
  char tok[FB_TOKEN_MAX + 2];
  tok[0] = 0; /* mode 0: as it is */
  mint(tok + 1, "d7", "chair", 1);
  save("token", "minted_chair", tok, strlen(tok + 1) + 1);
  static const char *claims[] = {
      "{\"mtg\":\"m1\",\"sub\":\"d1\",\"name\":\"Seed\",\"role\":\"delegate\",\"exp\":4102444800,"
      "\"iat\":1700000000,\"speak\":true,\"jti\":\"j\"}",
      "{\"mtg\":\"m1\",\"sub\":\"d2\",\"name\":\"Obs\",\"role\":\"observer\",\"exp\":4102444800,"
      "\"iat\":0,\"speak\":0}",
      "{\"mtg\":\"m2\",\"sub\":\"d3\",\"name\":\"Other meeting\",\"role\":\"chair\","
      "\"exp\":4102444800,\"iat\":1700000000}",
      "{\"mtg\":\"m1\",\"sub\":\"d4\",\"name\":\"Expired\",\"role\":\"delegate\",\"exp\":1600000000,"
      "\"iat\":1500000000}",
      "{\"mtg\":\"m1\",\"sub\":\"d5\",\"name\":\"Bad role\",\"role\":\"king\",\"exp\":4102444800,"
      "\"iat\":1700000000}",
  };
  const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  for (size_t i = 0; i < sizeof claims / sizeof *claims; i++) {
    buf o = {.n = 0};
    put8(&o, 2); /* mode 2: header JSON \0 claims JSON, signed by the harness */
    put(&o, hdr, strlen(hdr) + 1);
    put(&o, claims[i], strlen(claims[i]));
    char name[32];
    snprintf(name, sizeof name, "claims_%zu", i);
    save_buf("token", name, &o);
  }
  /* mode 1: the minted token without its signature (the harness signs) */
  mint(tok + 1, "d8", "observer", 0);
  tok[0] = 1;
  *strrchr(tok + 1, '.') = '\0';
  save("token", "unsigned_observer", tok, strlen(tok + 1) + 1);
}

/* One message per seed: fuzz_ws_message reads a single WebSocket text frame. */
static void gen_ws(void) {
  char tok[FB_TOKEN_MAX + 1], j[2 * FB_TOKEN_MAX], offer[4096];
  mint(tok, "d1", "delegate", 1);
  snprintf(j, sizeof j, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}", tok);
  save("ws_message", "join", j, strlen(j));
  /* the offer as a JSON string: CRLF escaped */
  char *p = offer + sprintf(offer, "{\"v\":1,\"type\":\"offer\",\"sdp\":\"");
  for (const char *s = FB_SEED_OFFER; *s; s++)
    p += *s == '\r' ? sprintf(p, "\\r") : *s == '\n' ? sprintf(p, "\\n") : sprintf(p, "%c", *s);
  sprintf(p, "\"}");
  save("ws_message", "offer", offer, strlen(offer));
  static const struct {
    const char *name, *text;
  } msgs[] = {
      {"ping", "{\"v\":1,\"type\":\"ping\",\"id\":{\"n\":[1,2.5,\"x\",null,true]}}"},
      {"leave", "{\"v\":1,\"type\":\"leave\"}"},
      {"request_floor", "{\"v\":1,\"type\":\"request_floor\"}"},
      {"mute", "{\"v\":1,\"type\":\"mute\",\"on\":true,\"delegate\":\"d2\"}"},
      {"chat", "{\"v\":1,\"type\":\"chat\",\"to\":\"all\",\"text\":\"Point of order \\u00e9\"}"},
      {"cut", "{\"v\":1,\"type\":\"cut\",\"delegate\":\"d2\",\"reason\":\"time\"}"},
      {"queue_move", "{\"v\":1,\"type\":\"queue_move\",\"delegate\":\"d3\",\"position\":1}"},
      {"set_mode", "{\"v\":1,\"type\":\"set_mode\",\"mode\":\"queue\"}"},
      {"set_session", "{\"v\":1,\"type\":\"set_session\",\"index\":0}"},
      {"chat_policy", "{\"v\":1,\"type\":\"chat_policy\",\"delegates_to_all\":false}"},
      {"bad_version", "{\"v\":2,\"type\":\"join\",\"token\":\"a.b.c\"}"},
      {"unknown_type", "{\"v\":1,\"type\":\"dance\"}"},
  };
  for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++)
    save("ws_message", msgs[i].name, msgs[i].text, strlen(msgs[i].text));
}

/* ---- meeting --------------------------------------------------------------- */

/* Script steps (fuzz_meeting.c): a message of type t from slot with field f. */
static void m_msg(buf *o, int slot, int t, int f) {
  put8(o, slot << 4 | MS_OP_MESSAGE);
  put8(o, t);
  put8(o, f);
}
static void m_join(buf *o, int slot, int tok) { m_msg(o, slot, MS_JOIN, tok); }
static void m_mute(buf *o, int slot, int who, int on) { m_msg(o, slot, MS_MUTE, on | who << 1); }
static void m_chat(buf *o, int slot, int to_all, int text) {
  m_msg(o, slot, MS_CHAT, (to_all ? 1 : 2) | text << 2);
}
static void m_move(buf *o, int slot, int who, int position) {
  m_msg(o, slot, MS_QUEUE_MOVE, who);
  put8(o, position);
}
static void m_raw(buf *o, int slot, const char *text) {
  put8(o, slot << 4 | MS_OP_RAW);
  put8(o, (int)strlen(text));
  put(o, text, strlen(text));
}
static void m_op(buf *o, int slot, int op) { put8(o, slot << 4 | op); }
static void m_op1(buf *o, int slot, int op, int arg) {
  m_op(o, slot, op);
  put8(o, arg);
}
static void m_quality(buf *o, int slot, int mos_byte, int loss) {
  m_op1(o, slot, MS_OP_QUALITY, mos_byte);
  put8(o, loss);
}

static void gen_meeting(void) {
  buf o = {.n = 0};
  /* join + offer for chair, two delegates and an observer; request, grant,
   * mute (chair and self), cut, allow, set_mode both ways, chat, policy,
   * ping, /metrics; restart from the store and rejoin into the kept floor */
  put8(&o, 1 | MS_CFG_STORE);
  int toks[] = {MS_TOK_C1, MS_TOK_D1, MS_TOK_D2_SPEAK, MS_TOK_O1};
  for (int k = 0; k < 4; k++) m_join(&o, k, toks[k]);
  for (int k = 0; k < 4; k++) m_msg(&o, k, MS_OFFER, 0);
  for (int k = 1; k < 4; k++) m_msg(&o, k, MS_REQUEST_FLOOR, 0);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D1);
  m_mute(&o, 0, MS_WHO_D1, 1);
  m_mute(&o, 1, MS_WHO_NONE, 0); /* refused: chair_muted */
  m_mute(&o, 0, MS_WHO_D1, 0);
  m_mute(&o, 1, MS_WHO_NONE, 1);
  m_msg(&o, 0, MS_CUT, MS_WHO_D2);
  m_msg(&o, 0, MS_ALLOW, MS_WHO_D2);
  m_msg(&o, 1, MS_GRANT, MS_WHO_D2); /* refused: not_chair */
  m_msg(&o, 0, MS_SET_MODE, 1);
  m_msg(&o, 2, MS_REQUEST_FLOOR, 0);
  m_msg(&o, 0, MS_SET_MODE, 0);
  m_chat(&o, 1, 1, 0);
  m_chat(&o, 1, 0, 4);
  m_msg(&o, 0, MS_CHAT_POLICY, 0);
  m_chat(&o, 2, 1, 0);
  m_msg(&o, 3, MS_PING, 7);
  m_op1(&o, 0, MS_OP_TIME, 8);
  m_op(&o, 0, MS_OP_METRICS);
  m_msg(&o, 2, MS_REQUEST_FLOOR, 0);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D1);
  m_op(&o, 0, MS_OP_RESTART);
  m_join(&o, 1, MS_TOK_D1);
  m_msg(&o, 1, MS_OFFER, 0);
  m_join(&o, 0, MS_TOK_C1);
  m_msg(&o, 0, MS_END_TURN, MS_WHO_D1);
  m_msg(&o, 1, MS_LEAVE, 0);
  m_op(&o, 1, MS_OP_CLOSE);
  save_buf("meeting", "floor_basics", &o);

  /* a live speaker with bad quality is flagged, then cut automatically;
   * recovers on the mic check; the chair allows */
  o.n = 0;
  put8(&o, 1 | MS_CFG_AUTO_CUT | MS_CFG_STORE);
  m_join(&o, 0, MS_TOK_C1);
  m_join(&o, 1, MS_TOK_D1);
  m_msg(&o, 1, MS_OFFER, 0);
  m_msg(&o, 1, MS_REQUEST_FLOOR, 0);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D1);
  m_quality(&o, 1, 1, 20);
  int waits[] = {4, 4, 8, 8};
  for (int i = 0; i < 4; i++) m_op1(&o, 0, MS_OP_TIME, waits[i]);
  m_quality(&o, 1, 30, 0);
  for (int i = 0; i < 4; i++) m_op1(&o, 0, MS_OP_TIME, 8);
  m_msg(&o, 0, MS_ALLOW, MS_WHO_D1);
  m_op1(&o, 0, MS_OP_TIME, 8);
  m_op(&o, 0, MS_OP_METRICS);
  save_buf("meeting", "quality_autocut", &o);

  /* flagged without auto-cut, then good again; cut, recovered, invalid
   * scores, allowed */
  o.n = 0;
  put8(&o, 1);
  m_join(&o, 0, MS_TOK_C1);
  m_msg(&o, 0, MS_OFFER, 0);
  m_join(&o, 1, MS_TOK_D2_SPEAK);
  m_msg(&o, 1, MS_OFFER, 0);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D2);
  m_quality(&o, 1, 5, 25);
  m_op1(&o, 0, MS_OP_TIME, 4);
  m_op1(&o, 0, MS_OP_TIME, 8);
  m_op1(&o, 0, MS_OP_TIME, 8);
  m_quality(&o, 1, 35, 0);
  m_op1(&o, 0, MS_OP_TIME, 4);
  m_msg(&o, 0, MS_CUT, MS_WHO_D2);
  m_op1(&o, 0, MS_OP_TIME, 4);
  m_op1(&o, 0, MS_OP_TIME, 8);
  m_op1(&o, 0, MS_OP_TIME, 8);
  m_op1(&o, 0, MS_OP_TIME, 12);
  m_quality(&o, 1, 0, 0);
  m_op1(&o, 0, MS_OP_TIME, 4);
  m_msg(&o, 0, MS_ALLOW, MS_WHO_D2);
  m_op1(&o, 0, MS_OP_TIME, 4);
  save_buf("meeting", "quality_flag_recover", &o);

  /* a live delegate reconnects (replaced), loses its media (consent), joins
   * a third time; the bridge refuses one join; an identity comes back as an
   * observer */
  o.n = 0;
  put8(&o, MS_CFG_OPEN_FLOOR);
  m_join(&o, 0, MS_TOK_C2);
  m_join(&o, 1, MS_TOK_D3);
  m_msg(&o, 1, MS_OFFER, 0);
  m_msg(&o, 1, MS_REQUEST_FLOOR, 0);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D3);
  m_join(&o, 2, MS_TOK_D3);
  m_msg(&o, 2, MS_OFFER, 0);
  m_op1(&o, 2, MS_OP_EVENT, 0); /* consent_lost */
  m_op1(&o, 0, MS_OP_EVENT, 2);
  m_op(&o, 0, MS_OP_DRAIN);
  m_join(&o, 3, MS_TOK_D3);
  m_op(&o, 0, MS_OP_FAIL_JOIN);
  m_msg(&o, 3, MS_OFFER, 0);
  m_msg(&o, 3, MS_OFFER, 0);
  m_op1(&o, 3, MS_OP_EVENT, 1);    /* dtls_failed */
  m_op1(&o, 3, MS_OP_EVENT, 0x83); /* to everyone */
  m_join(&o, 4, MS_TOK_D1_OBSERVER);
  m_msg(&o, 4, MS_OFFER, 0);
  m_join(&o, 5, MS_TOK_D1);
  m_op(&o, 0, MS_OP_DRAIN);
  save_buf("meeting", "replace_and_lost", &o);

  /* starts webcast-only; sessions change under a queue and a live,
   * self-muted speaker; mute_all */
  o.n = 0;
  put8(&o, 2 | MS_CFG_WEBCAST_START);
  m_join(&o, 0, MS_TOK_C1);
  m_join(&o, 1, MS_TOK_D2_SPEAK);
  m_msg(&o, 1, MS_OFFER, 0);
  m_msg(&o, 1, MS_REQUEST_FLOOR, 0);
  m_msg(&o, 0, MS_SET_SESSION, 3);
  m_join(&o, 2, MS_TOK_D2_SPEAK);
  m_msg(&o, 2, MS_OFFER, 0);
  m_msg(&o, 2, MS_REQUEST_FLOOR, 0);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D2);
  m_mute(&o, 2, MS_WHO_NONE, 1);
  m_msg(&o, 0, MS_SET_SESSION, 2);
  m_msg(&o, 0, MS_SET_SESSION, 0);
  m_msg(&o, 0, MS_SET_SESSION, 4);
  m_msg(&o, 0, MS_MUTE_ALL, 0);
  save_buf("meeting", "webcast_session", &o);

  /* chat: to everyone refused by the policy, to the chair, too long, control
   * characters, empty, the rate limit and its minute, the chair's policy */
  o.n = 0;
  put8(&o, MS_CFG_NO_CHAT_TO_ALL);
  m_join(&o, 0, MS_TOK_C1);
  m_join(&o, 1, MS_TOK_D1);
  m_chat(&o, 1, 1, 0);
  int texts[] = {0, 1, 3, 5, 4, 0, 0, 0};
  for (int i = 0; i < 8; i++) m_chat(&o, 1, 0, texts[i]);
  m_op1(&o, 0, MS_OP_TIME, 240);
  m_chat(&o, 1, 0, 0);
  m_msg(&o, 0, MS_CHAT_POLICY, 1);
  m_chat(&o, 1, 1, 4);
  m_msg(&o, 1, MS_CHAT, 0);
  m_msg(&o, 1, MS_CHAT_POLICY, 1);
  save_buf("meeting", "chat_limits", &o);

  /* client mistakes until the connection is closed; junk tokens; leave
   * twice; a delegate whose id is the system actor's name */
  o.n = 0;
  put8(&o, 0);
  m_raw(&o, 0, "{");
  m_raw(&o, 0, "[]");
  m_raw(&o, 0, "{\"v\":2,\"type\":\"join\"}");
  m_raw(&o, 0, "{\"v\":1,\"type\":\"dance\"}");
  m_raw(&o, 0, "{\"v\":1,\"type\":\"join\"}");
  for (int t = MS_TOK_FORGED; t < MS_NTOK; t++) m_join(&o, 0, t);
  m_op1(&o, 0, MS_OP_TRANSPORT_ERROR, 0);
  m_op1(&o, 0, MS_OP_TRANSPORT_ERROR, 1);
  m_join(&o, 0, MS_TOK_D1);
  m_op(&o, 0, MS_OP_DRAIN);
  m_join(&o, 0, MS_TOK_D1);
  m_msg(&o, 0, MS_LEAVE, 0);
  m_msg(&o, 0, MS_LEAVE, 0);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D1);
  m_join(&o, 1, MS_TOK_AUTO);
  m_msg(&o, 1, MS_GRANT, MS_WHO_AUTO);
  save_buf("meeting", "errors_close", &o);

  /* a queue of four (requests in one broadcast round), moved, out-of-range
   * moves, removed, withdrawn; restart keeps the order; a chair back as a
   * delegate */
  o.n = 0;
  put8(&o, 3 | MS_CFG_STORE);
  int q[] = {MS_TOK_C1, MS_TOK_D1, MS_TOK_D2_SPEAK, MS_TOK_D3, MS_TOK_AUTO};
  for (int k = 0; k < 5; k++) m_join(&o, k, q[k]);
  m_msg(&o, 1, MS_REQUEST_FLOOR, 0);
  m_op(&o, 0, MS_OP_HOLD);
  for (int k = 2; k < 5; k++) m_msg(&o, k, MS_REQUEST_FLOOR, 0);
  m_move(&o, 0, MS_WHO_D3, 1);
  m_move(&o, 0, MS_WHO_D1, 3);
  m_move(&o, 0, MS_WHO_D2, 0);
  m_move(&o, 0, MS_WHO_D2, 9);
  m_msg(&o, 0, MS_QUEUE_REMOVE, MS_WHO_D2);
  m_msg(&o, 3, MS_WITHDRAW, 0);
  m_op(&o, 0, MS_OP_RESTART);
  m_join(&o, 0, MS_TOK_C1);
  m_join(&o, 1, MS_TOK_D1);
  m_msg(&o, 0, MS_GRANT, MS_WHO_D1);
  m_join(&o, 5, MS_TOK_C1_DELEGATE);
  m_msg(&o, 5, MS_REQUEST_FLOOR, 0);
  save_buf("meeting", "queue_edits", &o);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_seeds CORPUS_DIR   (e.g. tests/fuzz/corpus)\n");
    return 2;
  }
  root = argv[1];
  if (mkdir(root, 0755) < 0 && errno != EEXIST) die("cannot create the corpus directory");
  gen_stun();
  gen_rtp();
  gen_rtcp();
  gen_dtls();
  gen_srtp();
  gen_jitter();
  gen_token();
  gen_ws();
  gen_meeting();
  printf("gen_seeds: seeds written under %s\n", root);
  return 0;
}
