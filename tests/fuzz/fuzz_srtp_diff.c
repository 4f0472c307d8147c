/*
 * fuzz_srtp_diff.c — differential libFuzzer target: our SRTP/SRTCP
 * (webrtc/srtp_fast.c, optionally through webrtc/srtp_session.h) against
 * libsrtp2, the reference implementation, on the same master key and salt.
 *
 * Why: srtp_fast.c is hand-written on OpenSSL EVP for speed (see its top
 * comment); libsrtp is the oracle. fuzz_srtp finds crashes, this target finds
 * wrong answers: a packet we encrypt differently, accept when libsrtp refuses
 * (or the reverse), or decrypt to other bytes.
 *
 * Sessions per input: ours is one sender (RTP + SRTCP) and one receiver;
 * libsrtp's is an ssrc_any_outbound srtp_t and an ssrc_any_inbound srtp_t
 * (window 128 as ours, allow_repeat_tx as ours), plus, on demand, a second
 * libsrtp sender whose SRTCP is authenticated only (E flag clear), which ours
 * never sends but must accept.
 *
 * Input: [mode] [key seed] then operations until the input ends.
 *   mode bit 0: AEAD_AES_128_GCM, else AES_CM_128_HMAC_SHA1_80;
 *   mode bit 1: ours through fb_srtp (srtp_session.h, whose protect wants
 *               FB_SRTP_TRAILER_MAX of room), else fb_srtp_fast/fb_srtcp_fast
 *               with buffers of exactly the packet plus its trailer;
 *   key seed:   the 30/28-byte master key || salt is made from it.
 * Operations (first byte & 7; each reads its arguments, 0 past the end):
 *   0, 7  PROTECT_RTP  [ctl][b0][b1][ts][ext words][len:2][fill][trim]
 *         ctl bits 0-1: SSRC slot (4 SSRCs); bits 2-3: sequence number =
 *         +1 / +(u8+1) / +u16 (any, also backwards: resends) / = u16;
 *         bit 4: keep b0's version bits (else V=2); bit 5: cut `trim` bytes
 *         off the end (malformed headers); bit 6: first try one byte too
 *         little room (must be ERR_ARG, no state change; fast layer only).
 *   1  PROTECT_RTCP [ctl][b0][pt][len:2][fill]  (slot, version as above)
 *   2  DELIVER      [back][mutation][arg:2]  packet `back` places before the
 *         newest one kept (replays, reordering), as is, bit-flipped,
 *         truncated or extended, to both receivers.
 *   3  BURST        [ctl][count]  count+1 packets on one SSRC (RTP: seq +1
 *         each; SRTCP: index +1 each), all compared; the first and the last
 *         are kept. This is how the SRTCP index gets past the window.
 *   4  RAW          [ctl][len:2][bytes]  input bytes to both receivers.
 *   5  LIB_AUTH_RTCP [len][fill]  libsrtp's authenticated-only SRTCP (E flag
 *         clear), on its own SSRC (slot 3; the other SRTCP uses slots 0-2).
 *   6  DELIVER_REV  [count]  the newest count kept packets, oldest last.
 * Sequence numbers reach the rollover (65535 -> 0, ROC 1, and a packet from
 * before the wrap delivered after it) and the replay window's edge (127
 * behind: accepted once; 128 behind: too old) with a handful of operations.
 *
 * Checks (a violation prints the case and traps):
 *   - protect: ours and libsrtp both succeed with byte-identical output, or
 *     both fail; the packet kept is delivered to BOTH receivers, so each
 *     implementation unprotects what the other protected (when they agree the
 *     bytes are the same; the wire copy is ours for libsrtp's receiver and
 *     libsrtp's for ours);
 *   - unprotect: the same verdict (accept/reject) and, on accept, the same
 *     plaintext, which for an unmodified kept packet is what was protected;
 *     a modified packet is never accepted; an unmodified one that is refused
 *     is refused as a replay by both.
 * Error codes, ours -> libsrtp: FB_SRTP_OK = srtp_err_status_ok;
 * FB_SRTP_ERR_REPLAY = replay_fail (seen) or replay_old (behind the window);
 * FB_SRTP_ERR_AUTH = auth_fail (GCM: also cipher_fail, libsrtp 2.5 says
 * auth_fail); FB_SRTP_ERR_ARG = bad_param or parse_err. Only accept/reject
 * and "replay or not" for authentic packets are compared: for junk the two
 * check in different orders (we look at the version first).
 *
 * Policy differences, handled here on purpose:
 *   - A sender asked to protect an index older than its replay window: ours
 *     protects it (a resend; fb_srtp allows repeats), libsrtp with
 *     allow_repeat_tx still refuses with replay_old. Accepted here when that
 *     is exactly the case; ours' packet is delivered.
 *   - Version: ours refuses RTP/RTCP whose version is not 2 (RFC 3550 5.1),
 *     libsrtp never looks. With mode "keep version" and V != 2 only ours is
 *     asked (it must refuse without touching state); libsrtp protecting it
 *     would make the two senders' indexes differ.
 *   - SRTCP with the E flag clear (authenticated, not encrypted): ours
 *     accepts it (RFC 3711 3.4 lets the sender choose; srtp_fast.h), a
 *     libsrtp 2.5 receiver whose policy encrypts refuses it with cant_check,
 *     and only one with an authenticated-only policy accepts it. So the
 *     auth-only sender has an SSRC of its own and its SRTCP is compared with
 *     such a libsrtp receiver (lib_auth_rx), which sees nothing else.
 *   - Stream slots: ours keeps 4 SSRCs a direction (a sender refuses a 5th,
 *     a receiver recycles), libsrtp any number; the 4 SSRC slots here stay
 *     inside that.
 *   - libsrtp's GCM glue takes at most 2048 bytes of AAD (MAX_AD_SIZE in its
 *     crypto/include/aes_gcm.h), ours any; authenticated-only GCM SRTCP is
 *     all AAD. Worse, libsrtp 2.5.0 on NSS keeps the AAD of a call that
 *     failed, so after one such packet every later SRTCP of that session
 *     fails: a single forged 2065-2068-byte SRTCP datagram with the E flag
 *     clear ends a GCM receiver's SRTCP for every SSRC (a libsrtp bug; ours
 *     keeps no such state). So GCM SRTCP with E clear and more than 2048
 *     bytes of AAD is not given to libsrtp; ours must refuse it on its own
 *     (no sender here makes one: libsrtp's auth-only sender's packets are
 *     at most 260 bytes).
 *   - The SRTCP index limit (2^31) and ROCs near 2^32 are out of reach.
 */
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webrtc/srtp_fast.h"
#include "webrtc/srtp_session.h"
#include "tests/srtp_oracle.h"

#define FAIL(...)                                      \
  do {                                                 \
    fprintf(stderr, "fuzz_srtp_diff: disagreement: "); \
    fprintf(stderr, __VA_ARGS__);                      \
    fprintf(stderr, " (line %d)\n", __LINE__);         \
    __builtin_trap();                                  \
  } while (0)
#define CHECK(c, ...)            \
  do {                           \
    if (!(c)) FAIL(__VA_ARGS__); \
  } while (0)

#define NSLOT 4
#define AUTH_SLOT 3 /* SRTCP: the authenticated-only sender's SSRC */
#define KEEP 64
#define LIB_ROOM (SRTP_MAX_TRAILER_LEN + 4)
#define LIB_GCM_MAX_AAD 2048 /* libsrtp's MAX_AD_SIZE */

/* ---- input ------------------------------------------------------------- */

typedef struct {
  const uint8_t *p;
  size_t n, off;
} reader;

static unsigned u8(reader *r) { return r->off < r->n ? r->p[r->off++] : 0; }
static unsigned u16(reader *r) {
  unsigned h = u8(r);
  return h << 8 | u8(r);
}

/* ---- the two implementations --------------------------------------------- */

typedef struct {
  int gcm, wrapped;
  fb_srtp *w;            /* wrapped: local = remote = the key */
  fb_srtp_fast *tx, *rx; /* fast layer */
  fb_srtcp_fast *ctx, *crx;
  srtp_t lib_tx, lib_rx;
  srtp_t lib_auth, lib_auth_rx; /* SRTCP authenticated only, made when needed */
  uint8_t key[30];
  uint16_t seq[NSLOT];
} pair;

typedef struct {
  int rtcp;
  uint8_t *wire; /* protected, exact length */
  int wire_len;
  uint8_t *clear; /* what was protected */
  int clear_len;
} kept;

static kept g_keep[KEEP];
static int g_nkeep;

static const uint32_t g_ssrc[NSLOT] = {0x11223344u, 0xcafe0001u, 0x00000000u, 0xffffffffu};

static srtp_t lib_new(const pair *p, int outbound, int rtcp_auth_only) {
  /* window 128 and resends allowed, as ours */
  srtp_t s = fb_oracle_session(p->gcm, p->key, outbound, rtcp_auth_only, 128, 1);
  CHECK(s != NULL, "srtp_create failed");
  return s;
}

static void pair_init(pair *p, int gcm, int wrapped, unsigned seed) {
  memset(p, 0, sizeof *p);
  p->gcm = gcm;
  p->wrapped = wrapped;
  for (int i = 0; i < 30; i++)
    p->key[i] = (uint8_t)(seed * 131u + 0x3du * (unsigned)i + (seed >> 3));
  int salt = gcm ? 12 : 14;
  int profile = gcm ? FB_SRTP_PROFILE_AEAD_AES_128_GCM : FB_SRTP_PROFILE_AES128_CM_SHA1_80;
  if (wrapped) {
    fb_srtp_keys k;
    memset(&k, 0, sizeof k);
    k.profile = profile;
    k.key_len = 16;
    k.salt_len = salt;
    memcpy(k.local, p->key, (size_t)(16 + salt));
    memcpy(k.remote, p->key, (size_t)(16 + salt));
    p->w = fb_srtp_new(&k);
    CHECK(p->w, "fb_srtp_new failed");
  } else {
    p->tx = fb_srtp_fast_new(profile, p->key, 16, p->key + 16, salt);
    p->rx = fb_srtp_fast_new(profile, p->key, 16, p->key + 16, salt);
    p->ctx = fb_srtcp_fast_new(profile, p->key, 16, p->key + 16, salt);
    p->crx = fb_srtcp_fast_new(profile, p->key, 16, p->key + 16, salt);
    CHECK(p->tx && p->rx && p->ctx && p->crx, "fb_srtp_fast_new failed");
  }
  p->lib_tx = lib_new(p, 1, 0);
  p->lib_rx = lib_new(p, 0, 0);
}

static void pair_free(pair *p) {
  fb_srtp_free(p->w);
  fb_srtp_fast_free(p->tx);
  fb_srtp_fast_free(p->rx);
  fb_srtcp_fast_free(p->ctx);
  fb_srtcp_fast_free(p->crx);
  srtp_dealloc(p->lib_tx);
  srtp_dealloc(p->lib_rx);
  if (p->lib_auth) srtp_dealloc(p->lib_auth);
  if (p->lib_auth_rx) srtp_dealloc(p->lib_auth_rx);
}

static int trailer(const pair *p, int rtcp) { return (p->gcm ? 16 : 10) + (rtcp ? 4 : 0); }

static int ours_protect(pair *p, int rtcp, uint8_t *pkt, int *len, int cap) {
  if (p->wrapped)
    return rtcp ? fb_srtp_protect_rtcp(p->w, pkt, len, cap) : fb_srtp_protect(p->w, pkt, len, cap);
  return rtcp ? fb_srtcp_fast_protect(p->ctx, pkt, len, cap)
              : fb_srtp_fast_protect(p->tx, pkt, len, cap);
}

static int ours_unprotect(pair *p, int rtcp, uint8_t *pkt, int *len) {
  if (p->wrapped)
    return rtcp ? fb_srtp_unprotect_rtcp(p->w, pkt, len) : fb_srtp_unprotect(p->w, pkt, len);
  return rtcp ? fb_srtcp_fast_unprotect(p->crx, pkt, len) : fb_srtp_fast_unprotect(p->rx, pkt, len);
}

static uint8_t *dup_exact(const uint8_t *b, int n) {
  uint8_t *d = malloc(n > 0 ? (size_t)n : 1);
  CHECK(d, "out of memory");
  if (n > 0) memcpy(d, b, (size_t)n);
  return d;
}

static void keep(int rtcp, const uint8_t *wire, int wire_len, const uint8_t *clear, int clear_len) {
  kept *k = &g_keep[g_nkeep % KEEP];
  free(k->wire);
  free(k->clear);
  k->rtcp = rtcp;
  k->wire = dup_exact(wire, wire_len);
  k->wire_len = wire_len;
  k->clear = dup_exact(clear, clear_len);
  k->clear_len = clear_len;
  g_nkeep++;
}

static uint32_t rd32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int lib_is_replay(srtp_err_status_t e) {
  return e == srtp_err_status_replay_fail || e == srtp_err_status_replay_old;
}

/* ---- protect --------------------------------------------------------------- */

/* Protect clear[0..n) with both senders; compare; keep the packet. */
static void protect_both(pair *p, int rtcp, const uint8_t *clear, int n, int tight,
                         const char *what) {
  int room = p->wrapped ? FB_SRTP_TRAILER_MAX : trailer(p, rtcp);
  int version2 = n > 0 && (clear[0] >> 6) == 2;
  if (tight && !p->wrapped) {
    /* one byte too little room: refused, and nothing about the stream moves
     * (the real call below must still match libsrtp) */
    uint8_t *t = malloc((size_t)n + (size_t)room - 1);
    CHECK(t, "out of memory");
    memcpy(t, clear, (size_t)n);
    int tn = n;
    int rc = ours_protect(p, rtcp, t, &tn, n + room - 1);
    CHECK(rc == FB_SRTP_ERR_ARG, "%s: protect without room gave %d, not ERR_ARG", what, rc);
    free(t);
  }
  uint8_t *a = malloc((size_t)n + (size_t)room);
  CHECK(a, "out of memory");
  memcpy(a, clear, (size_t)n);
  int na = n;
  int ra = ours_protect(p, rtcp, a, &na, n + room);
  CHECK(ra == FB_SRTP_OK || ra == FB_SRTP_ERR_ARG || ra == FB_SRTP_ERR_OTHER, "%s: rc %d", what,
        ra);
  if (!version2) {
    /* V != 2: ours refuses (RFC 3550); libsrtp is not asked (see the top) */
    CHECK(ra == FB_SRTP_ERR_ARG, "%s: ours protected a packet of version %d", what,
          n > 0 ? clear[0] >> 6 : -1);
    free(a);
    return;
  }
  uint8_t *b = malloc((size_t)n + LIB_ROOM);
  CHECK(b, "out of memory");
  memcpy(b, clear, (size_t)n);
  int nb = n;
  srtp_err_status_t rb =
      rtcp ? srtp_protect_rtcp(p->lib_tx, b, &nb) : srtp_protect(p->lib_tx, b, &nb);
  if (ra == FB_SRTP_OK && rb == srtp_err_status_ok) {
    CHECK(na == nb, "%s: protected length ours %d, libsrtp %d", what, na, nb);
    CHECK(na == n + trailer(p, rtcp), "%s: protected length %d for %d", what, na, n);
    CHECK(memcmp(a, b, (size_t)na) == 0, "%s: protected bytes differ (len %d)", what, na);
    /* identical: either one is both directions' wire packet */
    keep(rtcp, b, nb, clear, n);
  } else if (ra == FB_SRTP_OK && !rtcp && rb == srtp_err_status_replay_old) {
    /* policy: ours resends an index behind the window, libsrtp will not */
    CHECK(na == n + trailer(p, rtcp), "%s: protected length %d for %d", what, na, n);
    keep(rtcp, a, na, clear, n);
  } else {
    CHECK(ra != FB_SRTP_OK && rb != srtp_err_status_ok,
          "%s: protect verdicts differ: ours %d, libsrtp %d (len %d)", what, ra, (int)rb, n);
  }
  free(a);
  free(b);
}

/* Pattern bytes (big packets from short inputs). */
static void fill(uint8_t *b, int n, unsigned seed) {
  uint32_t x = 0x9e3779b9u ^ seed * 0x85ebca6bu;
  for (int i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b[i] = (uint8_t)x;
  }
}

static uint16_t next_seq(pair *p, int slot, unsigned mode, reader *r) {
  uint16_t s = p->seq[slot];
  switch (mode) {
  case 0: s = (uint16_t)(s + 1); break;
  case 1: s = (uint16_t)(s + u8(r) + 1); break;
  case 2: s = (uint16_t)(s + u16(r)); break;
  default: s = (uint16_t)u16(r); break;
  }
  p->seq[slot] = s;
  return s;
}

static void put32(uint8_t *b, uint32_t v) {
  b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
}

/* An RTP packet into buf (big enough: 12 + 60 + 4 + 1020 + 2100); its length. */
static int build_rtp(uint8_t *buf, unsigned b0, unsigned b1, uint16_t seq, unsigned ts,
                     uint32_t ssrc, unsigned ext_words, int payload, unsigned seed) {
  int cc = (int)(b0 & 0x0f), n = 12 + 4 * cc;
  buf[0] = (uint8_t)b0;
  buf[1] = (uint8_t)b1;
  buf[2] = (uint8_t)(seq >> 8), buf[3] = (uint8_t)seq;
  put32(buf + 4, ts * 960u);
  put32(buf + 8, ssrc);
  fill(buf + 12, 4 * cc, seed + 1);
  if (b0 & 0x10) {
    buf[n] = 0xbe, buf[n + 1] = 0xde, buf[n + 2] = 0, buf[n + 3] = (uint8_t)ext_words;
    fill(buf + n + 4, 4 * (int)ext_words, seed + 2);
    n += 4 + 4 * (int)ext_words;
  }
  fill(buf + n, payload, seed);
  return n + payload;
}

enum { RTP_MAX = 12 + 60 + 4 + 1020 + 2100 };

static void op_protect_rtp(pair *p, reader *r) {
  unsigned ctl = u8(r), b0 = u8(r), b1 = u8(r), ts = u8(r), ext = u8(r);
  int slot = (int)(ctl & 3);
  uint16_t seq = next_seq(p, slot, (ctl >> 2) & 3, r);
  int payload = (int)(u16(r) % 2100);
  unsigned seed = u8(r), trim = u8(r);
  if (!(ctl & 0x10)) b0 = (b0 & 0x3f) | 0x80;
  static uint8_t buf[RTP_MAX];
  int n = build_rtp(buf, b0, b1, seq, ts, g_ssrc[slot], ext, payload, seed);
  if (ctl & 0x20) n = (int)trim < n ? n - (int)trim : 0;
  uint8_t *clear = dup_exact(buf, n);
  protect_both(p, 0, clear, n, (ctl & 0x40) != 0, "protect RTP");
  free(clear);
}

static int build_rtcp(uint8_t *buf, unsigned b0, unsigned pt, uint32_t ssrc, int len,
                      unsigned seed) {
  fill(buf, len, seed);
  if (len > 0) buf[0] = (uint8_t)b0;
  if (len > 1) buf[1] = (uint8_t)pt;
  if (len > 3) buf[2] = (uint8_t)((len / 4 - 1) >> 8), buf[3] = (uint8_t)(len / 4 - 1);
  if (len >= 8) put32(buf + 4, ssrc);
  return len;
}

static void op_protect_rtcp(pair *p, reader *r) {
  unsigned ctl = u8(r), b0 = u8(r), pt = u8(r);
  int len = (int)(u16(r) % 2108), slot = (int)(ctl & 3) % AUTH_SLOT;
  unsigned seed = u8(r);
  if (!(ctl & 0x10)) b0 = (b0 & 0x3f) | 0x80;
  static uint8_t buf[2108];
  int n = build_rtcp(buf, b0, pt, g_ssrc[slot], len, seed);
  uint8_t *clear = dup_exact(buf, n);
  protect_both(p, 1, clear, n, (ctl & 0x40) != 0, "protect RTCP");
  free(clear);
}

static void op_burst(pair *p, reader *r) {
  unsigned ctl = u8(r), count = u8(r) + 1;
  int rtcp = (ctl >> 2) & 1, slot = (int)(ctl & 3) % (rtcp ? AUTH_SLOT : NSLOT);
  static uint8_t buf[RTP_MAX];
  for (unsigned i = 0; i < count; i++) {
    int n;
    if (rtcp) {
      n = build_rtcp(buf, 0x81, 200, g_ssrc[slot], 8 + 4 * (int)(i % 16), i);
    } else {
      uint16_t seq = p->seq[slot] = (uint16_t)(p->seq[slot] + 1);
      n = build_rtp(buf, 0x80, 111, seq, i, g_ssrc[slot], 0, 20 + (int)(i % 64), i);
    }
    int before = g_nkeep;
    uint8_t *clear = dup_exact(buf, n);
    protect_both(p, rtcp, clear, n, 0, rtcp ? "burst RTCP" : "burst RTP");
    free(clear);
    /* keep only the first and the last of the burst */
    if (g_nkeep > before && i > 0 && i + 1 < count) {
      g_nkeep--;
      kept *k = &g_keep[g_nkeep % KEEP];
      free(k->wire);
      free(k->clear);
      k->wire = k->clear = NULL;
    }
  }
}

static void op_lib_auth_rtcp(pair *p, reader *r) {
  int slot = AUTH_SLOT, len = 8 + 4 * (int)(u8(r) % 64);
  unsigned seed = u8(r);
  if (!p->lib_auth) p->lib_auth = lib_new(p, 1, 1);
  static uint8_t buf[8 + 4 * 64 + LIB_ROOM];
  int n = build_rtcp(buf, 0x80, 201, g_ssrc[slot], len, seed);
  uint8_t *clear = dup_exact(buf, n);
  int nb = n;
  srtp_err_status_t rb = srtp_protect_rtcp(p->lib_auth, buf, &nb);
  CHECK(rb == srtp_err_status_ok, "libsrtp auth-only SRTCP protect failed: %d", (int)rb);
  CHECK(!(buf[nb - (p->gcm ? 4 : 14)] & 0x80), "libsrtp auth-only SRTCP has the E flag");
  keep(1, buf, nb, clear, n);
  free(clear);
}

/* ---- unprotect ------------------------------------------------------------- */

/* Give wire[0..n) to both receivers. clear: the plaintext when the bytes
 * are an unmodified protected packet, else NULL; modified: never authentic. */
static void unprotect_both(pair *p, int rtcp, const uint8_t *wire, int n, const uint8_t *clear,
                           int clear_len, int modified, const char *what) {
  uint8_t *a = dup_exact(wire, n), *b = dup_exact(wire, n);
  int na = n, nb = n;
  int ra = ours_unprotect(p, rtcp, a, &na);
  int body = n - trailer(p, 1); /* SRTCP: the packet before tag and E+index */
  if (rtcp && p->gcm && body >= 8 && !(wire[n - 4] & 0x80) && body + 4 > LIB_GCM_MAX_AAD) {
    /* policy: more AAD than libsrtp takes, and it would keep failing after
     * (see the top); nobody here protected it, so ours must refuse it */
    CHECK(ra != FB_SRTP_OK, "%s SRTCP: ours accepts GCM auth-only nobody sent", what);
    CHECK(na <= n, "%s SRTCP: length grew", what);
    free(a);
    free(b);
    return;
  }
  /* SRTCP of the authenticated-only SSRC goes to libsrtp's auth-only
   * receiver (see the top: libsrtp's encrypting receiver says cant_check) */
  srtp_t lib = p->lib_rx;
  if (rtcp && n >= 8 && rd32(wire + 4) == g_ssrc[AUTH_SLOT]) {
    if (!p->lib_auth_rx) p->lib_auth_rx = lib_new(p, 0, 1);
    lib = p->lib_auth_rx;
  }
  srtp_err_status_t rb = rtcp ? srtp_unprotect_rtcp(lib, b, &nb) : srtp_unprotect(lib, b, &nb);
  const char *kind = rtcp ? "SRTCP" : "SRTP";
  CHECK(ra == FB_SRTP_OK || ra == FB_SRTP_ERR_AUTH || ra == FB_SRTP_ERR_REPLAY ||
            ra == FB_SRTP_ERR_ARG || ra == FB_SRTP_ERR_OTHER,
        "%s %s: rc %d", what, kind, ra);
  CHECK(na <= n, "%s %s: length grew", what, kind);
  CHECK((ra == FB_SRTP_OK) == (rb == srtp_err_status_ok),
        "%s %s: verdicts differ: ours %d, libsrtp %d (len %d, seq/index %02x%02x)", what, kind, ra,
        (int)rb, n, n > 3 ? wire[2] : 0, n > 3 ? wire[3] : 0);
  if (ra == FB_SRTP_OK) {
    CHECK(!modified, "%s %s: a modified packet was accepted by both", what, kind);
    CHECK(na == nb && memcmp(a, b, (size_t)na) == 0, "%s %s: plaintexts differ (%d, %d)", what,
          kind, na, nb);
    if (clear)
      CHECK(na == clear_len && memcmp(a, clear, (size_t)na) == 0,
            "%s %s: plaintext is not what was protected", what, kind);
  } else if (clear) {
    /* an authentic packet is refused as a replay, or (RTP) as a forgery
     * when the receiver's ROC is not the sender's (its first packet of an
     * SSRC came after a wrap): the same reason on both sides */
    CHECK((ra == FB_SRTP_ERR_REPLAY && lib_is_replay(rb)) ||
              (!rtcp && ra == FB_SRTP_ERR_AUTH &&
               (rb == srtp_err_status_auth_fail || rb == srtp_err_status_cipher_fail)),
          "%s %s: authentic packet refused differently: ours %d, libsrtp %d", what, kind, ra,
          (int)rb);
  }
  free(a);
  free(b);
}

static void deliver(pair *p, int back, unsigned mutation, unsigned arg) {
  if (g_nkeep == 0) return;
  int live = g_nkeep < KEEP ? g_nkeep : KEEP;
  kept *k = &g_keep[(g_nkeep - 1 - back % live) % KEEP];
  if (!k->wire) return;
  int n = k->wire_len;
  switch (mutation % 4) {
  case 0: unprotect_both(p, k->rtcp, k->wire, n, k->clear, k->clear_len, 0, "deliver"); break;
  case 1: { /* flip one bit */
    uint8_t *m = dup_exact(k->wire, n);
    unsigned bit = arg % (unsigned)(8 * n);
    m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    unprotect_both(p, k->rtcp, m, n, NULL, 0, 1, "bit flip");
    free(m);
    break;
  }
  case 2: { /* truncate by 1..n */
    int cut = 1 + (int)(arg % (unsigned)n);
    unprotect_both(p, k->rtcp, k->wire, n - cut, NULL, 0, 1, "truncated");
    break;
  }
  default: { /* one more byte */
    uint8_t *m = malloc((size_t)n + 1);
    CHECK(m, "out of memory");
    memcpy(m, k->wire, (size_t)n);
    m[n] = (uint8_t)arg;
    unprotect_both(p, k->rtcp, m, n + 1, NULL, 0, 1, "extended");
    free(m);
    break;
  }
  }
}

static void op_raw(pair *p, reader *r) {
  int rtcp = u8(r) & 1, len = (int)u16(r);
  if ((size_t)len > r->n - r->off) len = (int)(r->n - r->off);
  const uint8_t *bytes = r->p + r->off;
  r->off += (size_t)len;
  /* junk: a verdict both agree on (in practice, refused) */
  unprotect_both(p, rtcp, bytes, len, NULL, 0, 0, "raw");
}

static int g_lib_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  if (!g_lib_ready) {
    CHECK(srtp_init() == srtp_err_status_ok && fb_srtp_global_init() == 0, "init failed");
    g_lib_ready = 1;
  }
  reader r = {data, size, 0};
  unsigned mode = u8(&r), seed = u8(&r);
  pair p;
  pair_init(&p, mode & 1, (mode >> 1) & 1, seed);
  int ops = 0;
  while (r.off < r.n && ops++ < 512) {
    unsigned op = u8(&r) & 7;
    switch (op) {
    case 1: op_protect_rtcp(&p, &r); break;
    case 2: {
      unsigned back = u8(&r), mutation = u8(&r), arg = u16(&r);
      deliver(&p, (int)back, mutation, arg);
      break;
    }
    case 3: op_burst(&p, &r); break;
    case 4: op_raw(&p, &r); break;
    case 5: op_lib_auth_rtcp(&p, &r); break;
    case 6: {
      int count = (int)u8(&r) % KEEP + 1;
      for (int i = 0; i < count; i++) deliver(&p, i, 0, 0);
      break;
    }
    default: op_protect_rtp(&p, &r); break;
    }
  }
  for (int i = 0; i < KEEP; i++) {
    free(g_keep[i].wire);
    free(g_keep[i].clear);
    g_keep[i].wire = g_keep[i].clear = NULL;
  }
  g_nkeep = 0;
  pair_free(&p);
  return 0;
}
