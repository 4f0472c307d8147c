/*
 * bench_srtp.c — fb-bench-srtp: our SRTP (webrtc/srtp_fast.c, OpenSSL EVP)
 * against Debian's libsrtp2 (NSS), in the same run, so that the ratio the
 * design rests on (docs/ARCHITECTURE.md "SRTP on the hot path") can be
 * measured again on any machine. Not part of CI; results in
 * bench/results/srtp.md.
 *
 *   build/fb-bench-srtp [rounds]     (default 200 rounds)
 *
 * Per packet: protect and unprotect of a 112-byte RTP packet (12-byte header,
 * 100 bytes of payload, about an Opus frame), both profiles, on 1 session and
 * on 1000 and 3000 sessions used round robin (as the fan-out does: every
 * listener's session once a tick, so the per-session state is cold in the
 * cache; 3000 is the listener count the fan-out is sized for).
 * Unprotect is given the packets one sender protected (all sessions share the
 * key and SSRC, so session j gets packet k like every other); only the
 * unprotect is timed, each on a fresh copy.
 * Per session: creation time and heap (glibc mallinfo2 before and after,
 * which sees NSS's allocations too) of one sending direction with its first
 * packet protected (libsrtp makes the stream on it): ours is fb_srtp_fast +
 * fb_srtcp_fast (RTP + SRTCP), libsrtp one srtp_t (RTP + SRTCP).
 */
#include <malloc.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webrtc/srtp_fast.h"
#include "webrtc/srtp_session.h"
#include "tests/srtp_oracle.h"

enum { PKT = 112, MANY = 1000 };

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint8_t g_key[30];

static srtp_t lib_new(int gcm, int outbound) {
  srtp_t s = fb_oracle_session(gcm, g_key, outbound, 0, 128, 1);
  if (!s) {
    fprintf(stderr, "srtp_create failed\n");
    exit(1);
  }
  return s;
}

static fb_srtp_fast *ours_new(int gcm) {
  int profile = gcm ? FB_SRTP_PROFILE_AEAD_AES_128_GCM : FB_SRTP_PROFILE_AES128_CM_SHA1_80;
  fb_srtp_fast *s = fb_srtp_fast_new(profile, g_key, 16, g_key + 16, gcm ? 12 : 14);
  if (!s) {
    fprintf(stderr, "fb_srtp_fast_new failed\n");
    exit(1);
  }
  return s;
}

static int make_rtp(uint8_t *p, uint16_t seq) {
  memset(p, 0, PKT);
  p[0] = 0x80, p[1] = 111, p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
  p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78;
  for (int i = 12; i < PKT; i++) p[i] = (uint8_t)(seq + i);
  return PKT;
}

typedef struct {
  double protect_us, unprotect_us;
} result;

/* n sessions round robin, rounds packets each; microseconds a packet. */
static result run(int gcm, int lib, int n, int rounds) {
  fb_srtp_fast **otx = calloc((size_t)n, sizeof *otx), **orx = calloc((size_t)n, sizeof *orx);
  srtp_t *ltx = calloc((size_t)n, sizeof *ltx), *lrx = calloc((size_t)n, sizeof *lrx);
  uint8_t(*wire)[PKT + 64] = malloc((size_t)rounds * sizeof *wire);
  int *wlen = malloc((size_t)rounds * sizeof *wlen);
  for (int j = 0; j < n; j++) {
    if (lib)
      ltx[j] = lib_new(gcm, 1), lrx[j] = lib_new(gcm, 0);
    else
      otx[j] = ours_new(gcm), orx[j] = ours_new(gcm);
  }
  fb_srtp_fast *ref = ours_new(gcm);
  for (int k = 0; k < rounds; k++) {
    wlen[k] = make_rtp(wire[k], (uint16_t)k);
    fb_srtp_fast_protect(ref, wire[k], &wlen[k], PKT + 64);
  }
  fb_srtp_fast_free(ref);
  uint8_t buf[PKT + SRTP_MAX_TRAILER_LEN + 4];
  int bad = 0;
  double t0 = now_s();
  for (int k = 0; k < rounds; k++)
    for (int j = 0; j < n; j++) {
      int len = make_rtp(buf, (uint16_t)k);
      bad |= lib ? srtp_protect(ltx[j], buf, &len) != srtp_err_status_ok
                 : fb_srtp_fast_protect(otx[j], buf, &len, (int)sizeof buf) != FB_SRTP_OK;
    }
  double t1 = now_s(), tu = 0;
  for (int k = 0; k < rounds; k++)
    for (int j = 0; j < n; j++) {
      int len = wlen[k];
      memcpy(buf, wire[k], (size_t)len);
      bad |= lib ? srtp_unprotect(lrx[j], buf, &len) != srtp_err_status_ok
                 : fb_srtp_fast_unprotect(orx[j], buf, &len) != FB_SRTP_OK;
    }
  tu = now_s() - t1;
  if (bad)
    fprintf(stderr, "warning: a call failed (%s, %s)\n", lib ? "libsrtp" : "ours",
            gcm ? "GCM" : "CM");
  for (int j = 0; j < n; j++) {
    if (lib)
      srtp_dealloc(ltx[j]), srtp_dealloc(lrx[j]);
    else
      fb_srtp_fast_free(otx[j]), fb_srtp_fast_free(orx[j]);
  }
  free(otx), free(orx), free(ltx), free(lrx), free(wire), free(wlen);
  double per = 1e6 / ((double)n * rounds);
  return (result){(t1 - t0) * per, tu * per};
}

/* Creation time (us) and heap (bytes) of one sending direction, averaged. */
static void per_session(int gcm, int lib, double *us, double *bytes) {
  enum { N = 1000 };
  static void *keep[N][2];
  struct mallinfo2 m0 = mallinfo2();
  double t0 = now_s();
  for (int j = 0; j < N; j++) {
    uint8_t p[PKT + SRTP_MAX_TRAILER_LEN + 4];
    int len = make_rtp(p, 1);
    if (lib) {
      srtp_t s = lib_new(gcm, 1);
      srtp_protect(s, p, &len);
      keep[j][0] = s;
    } else {
      int profile = gcm ? FB_SRTP_PROFILE_AEAD_AES_128_GCM : FB_SRTP_PROFILE_AES128_CM_SHA1_80;
      fb_srtp_fast *s = ours_new(gcm);
      fb_srtcp_fast *c = fb_srtcp_fast_new(profile, g_key, 16, g_key + 16, gcm ? 12 : 14);
      fb_srtp_fast_protect(s, p, &len, (int)sizeof p);
      keep[j][0] = s, keep[j][1] = c;
    }
  }
  double t1 = now_s();
  struct mallinfo2 m1 = mallinfo2();
  *us = (t1 - t0) / N * 1e6;
  *bytes = ((double)m1.uordblks + (double)m1.hblkhd - (double)m0.uordblks - (double)m0.hblkhd) / N;
  for (int j = 0; j < N; j++) {
    if (lib)
      srtp_dealloc(keep[j][0]);
    else
      fb_srtp_fast_free(keep[j][0]), fb_srtcp_fast_free(keep[j][1]);
  }
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 200;
  if (rounds < 1 || rounds > 60000) rounds = 200;
  for (int i = 0; i < 30; i++) g_key[i] = (uint8_t)(0x40 + 3 * i);
  if (srtp_init() != srtp_err_status_ok || fb_srtp_global_init() != 0) return 1;
  printf(
      "fb-bench-srtp: %d-byte RTP packets, %d rounds; us per packet (ratio = libsrtp / ours)\n\n",
      PKT, rounds);
  printf(
      "| profile | sessions | op | ours us | libsrtp us | ratio |\n|---|---:|---|---:|---:|---:|\n");
  for (int gcm = 0; gcm <= 1; gcm++) {
    const char *name = gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80";
    int counts[3] = {1, MANY, 3 * MANY};
    for (int c = 0; c < 3; c++) {
      int n = counts[c], r = n == 1 ? rounds * 100 : rounds;
      if (r > 60000) r = 60000; /* seq stays below 65536: no wrap in the timed loop */
      result o = run(gcm, 0, n, r), l = run(gcm, 1, n, r);
      printf("| %s | %d | protect | %.2f | %.2f | %.1fx |\n", name, n, o.protect_us, l.protect_us,
             l.protect_us / o.protect_us);
      printf("| %s | %d | unprotect | %.2f | %.2f | %.1fx |\n", name, n, o.unprotect_us,
             l.unprotect_us, l.unprotect_us / o.unprotect_us);
    }
  }
  printf(
      "\n| profile | per session (one sending direction, RTP + SRTCP) | ours | libsrtp | ratio |\n"
      "|---|---|---:|---:|---:|\n");
  for (int gcm = 0; gcm <= 1; gcm++) {
    const char *name = gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80";
    double ou, ob, lu, lb;
    per_session(gcm, 0, &ou, &ob);
    per_session(gcm, 1, &lu, &lb);
    printf("| %s | creation, us | %.1f | %.1f | %.1fx |\n", name, ou, lu, lu / ou);
    printf("| %s | heap, bytes | %.0f | %.0f | %.1fx |\n", name, ob, lb, lb / ob);
  }
  return 0;
}
