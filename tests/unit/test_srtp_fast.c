/*
 * test_srtp_fast — the hand-written SRTP path against libsrtp, both profiles:
 * protect gives byte-identical packets to libsrtp's (across a sequence-number
 * wrap, so the rollover counter is exercised), libsrtp accepts ours and we
 * accept libsrtp's; a flipped bit is an auth failure that leaves the packet
 * untouched; a replay and a packet older than the window are refused; and the
 * speed ratio on 1000 sessions is printed (not asserted). The same for SRTCP
 * (fb_srtcp_fast): identical bytes with the E flag and per-SSRC index, both
 * ways, tampering (payload, index, E flag) and replays refused, and libsrtp's
 * authenticated-only SRTCP (E flag clear) accepted. And a sequence number
 * jumping 2^15 ahead while the ROC is 0 (no ROC -1). tests/fuzz/
 * fuzz_srtp_diff does all of this against libsrtp on fuzzed scripts.
 */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "webrtc/srtp_fast.h"
#include "webrtc/srtp_session.h"
#include "tests/srtp_oracle.h"
#include "check.h"

/* rtcp_auth_only: SRTCP authenticated, not encrypted (E flag clear). */
static srtp_t lib_session_ex(int gcm, const uint8_t *keysalt, int outbound, int rtcp_auth_only) {
  return fb_oracle_session(gcm, keysalt, outbound, rtcp_auth_only, 1024, 0);
}

static srtp_t lib_session(int gcm, const uint8_t *keysalt, int outbound) {
  return lib_session_ex(gcm, keysalt, outbound, 0);
}

static int make_rtp(uint8_t *pkt, uint16_t seq, uint32_t ts, int ext) {
  int n = 0;
  pkt[n++] = ext ? 0x90 : 0x80;
  pkt[n++] = 111;
  pkt[n++] = (uint8_t)(seq >> 8);
  pkt[n++] = (uint8_t)seq;
  for (int i = 3; i >= 0; i--) pkt[n++] = (uint8_t)(ts >> (8 * i));
  pkt[n++] = 0x12;
  pkt[n++] = 0x34;
  pkt[n++] = 0x56;
  pkt[n++] = 0x78;
  if (ext) {
    uint8_t e[8] = {0xBE, 0xDE, 0, 1, 0x10, 0x85, 0, 0};
    memcpy(pkt + n, e, 8);
    n += 8;
  }
  for (int i = 0; i < 90; i++) pkt[n++] = (uint8_t)(seq * 7 + i);
  return n;
}

/* An RTCP packet: V=2, PT 200 (SR), sender ssrc, then words of filler. */
static int make_rtcp(uint8_t *pkt, uint32_t ssrc, int words, int salt) {
  int n = 8 + 4 * words;
  pkt[0] = 0x80;
  pkt[1] = 200;
  pkt[2] = (uint8_t)((n / 4 - 1) >> 8);
  pkt[3] = (uint8_t)(n / 4 - 1);
  for (int i = 0; i < 4; i++) pkt[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
  for (int i = 8; i < n; i++) pkt[i] = (uint8_t)(salt * 13 + i);
  return n;
}

/* A sender never recycles a stream: a new SSRC beyond its slots is refused,
 * and the streams it has keep counting, so no (SSRC, index) pair, and so no
 * IV, is ever used twice under one key. (fuzz_srtp found SRTCP restarting an
 * evicted stream's index at 1.) */
static void sender_never_recycles(int profile, const uint8_t *keysalt, int salt_len) {
  fb_srtcp_fast *rtcp = fb_srtcp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
  fb_srtp_fast *rtp = fb_srtp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
  CHECK(rtcp && rtp, "sessions for the slot test");
  if (!rtcp || !rtp) return;
  int refused_rtcp = 0, refused_rtp = 0, first_again = 0;
  uint32_t first_index = 0;
  for (int i = 0; i < 40; i++) {
    uint32_t ssrc = 0x1000u + (uint32_t)(i % 10); /* ten senders, more than the slots */
    uint8_t a[1600];
    int n = make_rtcp(a, ssrc, 4, i), na = n;
    if (fb_srtcp_fast_protect(rtcp, a, &na, sizeof a) != FB_SRTP_OK) {
      refused_rtcp++;
    } else if (ssrc == 0x1000u) {
      uint32_t idx = ((uint32_t)a[na - 14] << 24 | (uint32_t)a[na - 13] << 16 |
                      (uint32_t)a[na - 12] << 8 | a[na - 11]) &
                     0x7fffffffu;
      if (salt_len == 12) /* GCM: the index word is last */
        idx = ((uint32_t)a[na - 4] << 24 | (uint32_t)a[na - 3] << 16 | (uint32_t)a[na - 2] << 8 |
               a[na - 1]) &
              0x7fffffffu;
      first_again += i > 0 && idx <= first_index;
      first_index = idx;
    }
    uint8_t b[1600];
    int nb = make_rtp(b, (uint16_t)i, 960u * (uint32_t)i, 0);
    b[8] = (uint8_t)(ssrc >> 24), b[9] = (uint8_t)(ssrc >> 16), b[10] = (uint8_t)(ssrc >> 8),
    b[11] = (uint8_t)ssrc;
    if (fb_srtp_fast_protect(rtp, b, &nb, sizeof b) != FB_SRTP_OK) refused_rtp++;
  }
  CHECK(refused_rtcp > 0 && refused_rtp > 0, "a sender refuses SSRCs beyond its slots (%d, %d)",
        refused_rtcp, refused_rtp);
  CHECK(first_again == 0, "a kept stream's SRTCP index only grows (%d repeats)", first_again);
  fb_srtcp_fast_free(rtcp);
  fb_srtp_fast_free(rtp);
}

/* seq jumping more than 2^15 ahead while the ROC is 0: RFC 3711 has no ROC
 * -1, so the packet is ahead in ROC 0, as libsrtp estimates it; then on to
 * 50000 and 100 (ROC 1). Byte-identical to libsrtp, accepted both ways.
 * (fuzz_srtp_diff found ours guessing ROC 0xffffffff: different bytes, a
 * receiver dropping the stream, and seq 100 at the end under the IV of the
 * first packet, ROC 0.) */
static void roc_zero_jump(int gcm, int profile, const uint8_t *keysalt, int salt_len) {
  const char *name = gcm ? "GCM" : "CM";
  fb_srtp_fast *tx = fb_srtp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
  fb_srtp_fast *rx = fb_srtp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
  srtp_t lib_tx = lib_session(gcm, keysalt, 1), lib_rx = lib_session(gcm, keysalt, 0);
  CHECK(tx && rx && lib_tx && lib_rx, "%s: sessions for the ROC 0 jump", name);
  if (!tx || !rx || !lib_tx || !lib_rx) return;
  const uint16_t seqs[] = {100, 32992, 33000, 50000, 100, 101};
  int same = 0, lib_accepts = 0, we_accept = 0, n_seqs = (int)(sizeof seqs / sizeof seqs[0]);
  uint8_t first[1600];
  for (int i = 0; i < n_seqs; i++) {
    uint8_t a[1600], b[1600], clear[1600];
    int n = make_rtp(a, seqs[i], 0, 0);
    memset(a + 12, 0, (size_t)(n - 12)); /* same payload: equal ciphertext = reused keystream */
    memcpy(b, a, (size_t)n);
    memcpy(clear, a, (size_t)n);
    int na = n, nb = n;
    int ra = fb_srtp_fast_protect(tx, a, &na, sizeof a);
    int rb = srtp_protect(lib_tx, b, &nb);
    if (i == 0) memcpy(first, a, (size_t)na);
    if (i == 4)
      CHECK(memcmp(first + 12, a + 12, (size_t)(n - 12)) != 0,
            "%s: seq 100 in ROC 1 is not encrypted as seq 100 in ROC 0", name);
    same +=
        ra == FB_SRTP_OK && rb == srtp_err_status_ok && na == nb && memcmp(a, b, (size_t)na) == 0;
    int nc = na;
    lib_accepts += srtp_unprotect(lib_rx, a, &nc) == srtp_err_status_ok && nc == n &&
                   memcmp(a, clear, (size_t)n) == 0;
    int nd = nb;
    we_accept += fb_srtp_fast_unprotect(rx, b, &nd) == FB_SRTP_OK && nd == n &&
                 memcmp(b, clear, (size_t)n) == 0;
  }
  CHECK(same == n_seqs, "%s: ROC 0 jump: protect byte-identical to libsrtp %d/%d", name, same,
        n_seqs);
  CHECK(lib_accepts == n_seqs, "%s: ROC 0 jump: libsrtp accepts ours %d/%d", name, lib_accepts,
        n_seqs);
  CHECK(we_accept == n_seqs, "%s: ROC 0 jump: we accept libsrtp's %d/%d", name, we_accept, n_seqs);
  fb_srtp_fast_free(tx);
  fb_srtp_fast_free(rx);
  srtp_dealloc(lib_tx);
  srtp_dealloc(lib_rx);
}

/* SRTCP both ways against libsrtp for one profile. */
static void srtcp_checks(int gcm, int profile, const uint8_t *keysalt, int salt_len) {
  const char *name = gcm ? "GCM SRTCP" : "CM SRTCP";
  fb_srtcp_fast *ours = fb_srtcp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
  fb_srtcp_fast *ours_in = fb_srtcp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
  srtp_t lib_out = lib_session(gcm, keysalt, 1), lib_in = lib_session(gcm, keysalt, 0);
  CHECK(ours && ours_in && lib_out && lib_in, "%s sessions created", name);
  if (!ours || !ours_in || !lib_out || !lib_in) return;
  int same = 0, lib_accepts = 0, we_accept = 0, total = 0;
  for (int i = 0; i < 300; i++) {
    uint32_t ssrc = i % 3 ? 0x11223344u : 0x55667788u; /* two senders, own indexes */
    uint8_t a[1600], b[1600], c[1600], clear[1600];
    int n = make_rtcp(a, ssrc, i % 40, i);
    memcpy(b, a, (size_t)n);
    memcpy(clear, a, (size_t)n);
    int na = n, nb = n;
    int ra = fb_srtcp_fast_protect(ours, a, &na, sizeof a);
    int rb = srtp_protect_rtcp(lib_out, b, &nb);
    total++;
    if (ra == FB_SRTP_OK && rb == srtp_err_status_ok && na == nb && memcmp(a, b, (size_t)na) == 0)
      same++;
    memcpy(c, a, (size_t)na);
    int nc = na;
    if (srtp_unprotect_rtcp(lib_in, c, &nc) == srtp_err_status_ok && nc == n &&
        memcmp(c, clear, (size_t)n) == 0)
      lib_accepts++;
    int nd = nb;
    if (fb_srtcp_fast_unprotect(ours_in, b, &nd) == FB_SRTP_OK && nd == n &&
        memcmp(b, clear, (size_t)n) == 0)
      we_accept++;
  }
  CHECK(same == total, "%s: protect byte-identical to libsrtp %d/%d", name, same, total);
  CHECK(lib_accepts == total, "%s: libsrtp accepts ours %d/%d", name, lib_accepts, total);
  CHECK(we_accept == total, "%s: we accept libsrtp's %d/%d", name, we_accept, total);

  /* tampering: payload, index, E flag; each refused with the packet left as it was */
  uint8_t p[1600], saved[1600];
  int n = make_rtcp(p, 0x11223344u, 10, 7), np = n;
  CHECK(fb_srtcp_fast_protect(ours, p, &np, sizeof p) == FB_SRTP_OK, "%s: protect", name);
  memcpy(saved, p, (size_t)np);
  int trailer = gcm ? np - 4 : np - 14;
  int spots[3] = {20, trailer + 2, trailer}; /* index + 256: fresh, so only the tag can refuse it */
  const char *what[3] = {"payload", "index", "E flag"};
  for (int k = 0; k < 3; k++) {
    p[spots[k]] ^= k == 2 ? 0x80 : 1;
    int nt = np;
    CHECK(fb_srtcp_fast_unprotect(ours_in, p, &nt) == FB_SRTP_ERR_AUTH, "%s: tampered %s refused",
          name, what[k]);
    p[spots[k]] ^= k == 2 ? 0x80 : 1;
    CHECK(memcmp(p, saved, (size_t)np) == 0, "%s: refused packet untouched (%s)", name, what[k]);
  }
  int nt = np;
  CHECK(fb_srtcp_fast_unprotect(ours_in, p, &nt) == FB_SRTP_OK && nt == n,
        "%s: the real one passes", name);
  memcpy(p, saved, (size_t)np);
  nt = np;
  CHECK(fb_srtcp_fast_unprotect(ours_in, p, &nt) == FB_SRTP_ERR_REPLAY, "%s: replay refused", name);
  /* an old packet from before the window: keep one, send 200 more */
  uint8_t old[1600];
  int nold = make_rtcp(old, 0x11223344u, 2, 1);
  fb_srtcp_fast_protect(ours, old, &nold, sizeof old);
  for (int i = 0; i < 200; i++) {
    uint8_t x[1600];
    int nx = make_rtcp(x, 0x11223344u, 2, i);
    fb_srtcp_fast_protect(ours, x, &nx, sizeof x);
    if (i == 199) {
      int nxx = nx;
      CHECK(fb_srtcp_fast_unprotect(ours_in, x, &nxx) == FB_SRTP_OK, "%s: jump ahead accepted",
            name);
    }
  }
  nt = nold;
  CHECK(fb_srtcp_fast_unprotect(ours_in, old, &nt) == FB_SRTP_ERR_REPLAY,
        "%s: older than the window refused", name);
  int small = 12;
  CHECK(fb_srtcp_fast_unprotect(ours_in, p, &small) == FB_SRTP_ERR_ARG, "%s: runt refused", name);
  uint8_t tight[40];
  int ntight = make_rtcp(tight, 1, 5, 0);
  CHECK(fb_srtcp_fast_protect(ours, tight, &ntight, ntight + 13) == FB_SRTP_ERR_ARG,
        "%s: no room for the trailer refused", name);

  /* libsrtp's authenticated-only SRTCP (E flag clear) is accepted, in the clear */
  srtp_t lib_auth = lib_session_ex(gcm, keysalt, 1, 1);
  uint8_t q[1600], qclear[1600];
  int nq = make_rtcp(q, 0x99999999u, 6, 3), nq0 = nq;
  memcpy(qclear, q, (size_t)nq);
  int ok = lib_auth && srtp_protect_rtcp(lib_auth, q, &nq) == srtp_err_status_ok;
  ok = ok && !(q[nq - (gcm ? 4 : 14)] & 0x80) && memcmp(q + 8, qclear + 8, (size_t)(nq0 - 8)) == 0;
  CHECK(ok, "%s: libsrtp sends authenticated-only SRTCP in the clear", name);
  CHECK(ok && fb_srtcp_fast_unprotect(ours_in, q, &nq) == FB_SRTP_OK && nq == nq0 &&
            memcmp(q, qclear, (size_t)nq0) == 0,
        "%s: we accept it", name);
  if (lib_auth) srtp_dealloc(lib_auth);
  fb_srtcp_fast_free(ours);
  fb_srtcp_fast_free(ours_in);
  srtp_dealloc(lib_out);
  srtp_dealloc(lib_in);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
  CHECK(srtp_init() == srtp_err_status_ok && fb_srtp_global_init() == 0, "libsrtp initialised");
  for (int gcm = 0; gcm <= 1; gcm++) {
    const char *name = gcm ? "GCM" : "CM";
    int salt_len = gcm ? 12 : 14,
        profile = gcm ? FB_SRTP_PROFILE_AEAD_AES_128_GCM : FB_SRTP_PROFILE_AES128_CM_SHA1_80;
    uint8_t keysalt[30];
    for (int i = 0; i < 30; i++) keysalt[i] = (uint8_t)(0x40 + 3 * i);
    fb_srtp_fast *ours = fb_srtp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
    fb_srtp_fast *ours_in = fb_srtp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
    srtp_t lib_out = lib_session(gcm, keysalt, 1), lib_in = lib_session(gcm, keysalt, 0);
    CHECK(ours && ours_in && lib_out && lib_in, "%s sessions created", name);
    if (!ours || !ours_in || !lib_out || !lib_in) continue;
    srtcp_checks(gcm, profile, keysalt, salt_len);
    sender_never_recycles(profile, keysalt, salt_len);
    roc_zero_jump(gcm, profile, keysalt, salt_len);

    int same = 0, lib_accepts = 0, we_accept = 0, total = 0;
    for (int i = 0; i < 300; i++) {
      uint16_t seq = (uint16_t)(65400 + i); /* wraps at i = 136 */
      uint8_t a[1600], b[1600], clear[1600];
      int n = make_rtp(a, seq, (uint32_t)i * 960, i % 3 == 0);
      memcpy(b, a, (size_t)n);
      memcpy(clear, a, (size_t)n);
      int na = n, nb = n;
      int ra = fb_srtp_fast_protect(ours, a, &na, sizeof a);
      int rb = srtp_protect(lib_out, b, &nb);
      total++;
      if (ra == FB_SRTP_OK && rb == srtp_err_status_ok && na == nb && memcmp(a, b, (size_t)na) == 0)
        same++;
      uint8_t c[1600];
      memcpy(c, a, (size_t)na);
      int nc = na;
      if (srtp_unprotect(lib_in, c, &nc) == srtp_err_status_ok && nc == n &&
          memcmp(c, clear, (size_t)n) == 0)
        lib_accepts++;
      int nd = nb;
      if (fb_srtp_fast_unprotect(ours_in, b, &nd) == FB_SRTP_OK && nd == n &&
          memcmp(b, clear, (size_t)n) == 0)
        we_accept++;
    }
    CHECK(same == total, "%s: protect byte-identical to libsrtp %d/%d (incl. seq wrap)", name, same,
          total);
    CHECK(lib_accepts == total, "%s: libsrtp accepts ours %d/%d", name, lib_accepts, total);
    CHECK(we_accept == total, "%s: we accept libsrtp's %d/%d", name, we_accept, total);

    /* tamper, replay, too old */
    uint8_t p[1600], saved[1600];
    int n = make_rtp(p, 200, 5000, 0), np = n;
    fb_srtp_fast_protect(ours, p, &np, sizeof p);
    memcpy(saved, p, (size_t)np);
    p[20] ^= 1;
    int nt = np;
    CHECK(fb_srtp_fast_unprotect(ours_in, p, &nt) == FB_SRTP_ERR_AUTH,
          "%s: tampered payload refused", name);
    p[20] ^= 1;
    CHECK(memcmp(p, saved, (size_t)np) == 0, "%s: a refused packet is left untouched", name);
    nt = np;
    CHECK(fb_srtp_fast_unprotect(ours_in, p, &nt) == FB_SRTP_OK, "%s: the real one passes", name);
    memcpy(p, saved, (size_t)np);
    nt = np;
    CHECK(fb_srtp_fast_unprotect(ours_in, p, &nt) == FB_SRTP_ERR_REPLAY, "%s: replay refused",
          name);
    /* jump ahead 200 packets, then an old one from before the window */
    uint8_t q[1600];
    int nq = make_rtp(q, 500, 0, 0);
    fb_srtp_fast_protect(ours, q, &nq, sizeof q);
    nt = nq;
    CHECK(fb_srtp_fast_unprotect(ours_in, q, &nt) == FB_SRTP_OK, "%s: jump ahead accepted", name);
    uint8_t o[1600];
    int no = make_rtp(o, 250, 0, 0);
    fb_srtp_fast_protect(ours, o, &no, sizeof o);
    nt = no;
    CHECK(fb_srtp_fast_unprotect(ours_in, o, &nt) == FB_SRTP_ERR_REPLAY,
          "%s: older than the window refused", name);
    uint8_t r[1600];
    int nr = make_rtp(r, 450, 0, 0);
    fb_srtp_fast_protect(ours, r, &nr, sizeof r);
    nt = nr;
    CHECK(fb_srtp_fast_unprotect(ours_in, r, &nt) == FB_SRTP_OK,
          "%s: late but inside the window accepted", name);
    /* a resend far behind the highest index (fuzzer finding: it wrote past
     * the replay bitmap) */
    uint8_t hi[1600], lo[1600];
    int nhi = make_rtp(hi, 9192, 0, 0), nlo = make_rtp(lo, 1001, 0, 0);
    CHECK(fb_srtp_fast_protect(ours, hi, &nhi, sizeof hi) == FB_SRTP_OK &&
              fb_srtp_fast_protect(ours, lo, &nlo, sizeof lo) == FB_SRTP_OK,
          "%s: protecting an index far behind is fine", name);
    int small = 10;
    CHECK(fb_srtp_fast_unprotect(ours_in, r, &small) == FB_SRTP_ERR_ARG, "%s: runt refused", name);

    /* speed on 1000 sessions, round robin, as the fan-out uses them */
    enum { M = 1000, ROUNDS = 20 };
    static fb_srtp_fast *fs[M];
    static srtp_t ls[M];
    for (int j = 0; j < M; j++) {
      fs[j] = fb_srtp_fast_new(profile, keysalt, 16, keysalt + 16, salt_len);
      ls[j] = lib_session(gcm, keysalt, 1);
    }
    double t0 = now_s();
    for (int k = 0; k < ROUNDS; k++)
      for (int j = 0; j < M; j++) {
        uint8_t x[1600];
        int nx = make_rtp(x, (uint16_t)k, 0, 0);
        fb_srtp_fast_protect(fs[j], x, &nx, sizeof x);
      }
    double t1 = now_s();
    for (int k = 0; k < ROUNDS; k++)
      for (int j = 0; j < M; j++) {
        uint8_t x[1600];
        int nx = make_rtp(x, (uint16_t)k, 0, 0);
        srtp_protect(ls[j], x, &nx);
      }
    double t2 = now_s();
    printf("%s protect, 1000 sessions: ours %.2f us, libsrtp %.2f us per packet (%.0fx)\n", name,
           (t1 - t0) / (M * ROUNDS) * 1e6, (t2 - t1) / (M * ROUNDS) * 1e6, (t2 - t1) / (t1 - t0));
    for (int j = 0; j < M; j++) {
      fb_srtp_fast_free(fs[j]);
      srtp_dealloc(ls[j]);
    }
    fb_srtp_fast_free(ours);
    fb_srtp_fast_free(ours_in);
    srtp_dealloc(lib_out);
    srtp_dealloc(lib_in);
  }
  return CHECK_DONE();
}
