/*
 * fuzz_srtp.c — libFuzzer target for fb_srtp_unprotect and
 * fb_srtp_unprotect_rtcp (webrtc/srtp_session.h) with fixed keys.
 *
 * Input: [profile] then records [flags][len:2 big-endian][len bytes].
 * profile bit 0: AEAD_AES_128_GCM, else AES128_CM_SHA1_80. flags bit 0: the
 * record is RTCP (else RTP); bit 1: "protect first" — a sender session with
 * the mirrored keys (what the browser would have) protects the record, so
 * the receiver gets an authentic packet and its decrypt path is reached;
 * bit 2: then flip one bit of the protected packet (position from flags and
 * the record). Without bit 1 the bytes go to unprotect as they are.
 * Packets sit in heap buffers of exactly their length (protect: length +
 * FB_SRTP_TRAILER_MAX), so ASan sees reads and writes past them.
 *
 * Invariants (a violation traps):
 *   - the length never grows, whatever the result; results are FB_SRTP_*;
 *   - an authentic packet that unprotects gives back exactly what was
 *     protected; an unmodified RTCP packet and the first RTP packet always
 *     unprotect (later RTP ones may be replays: the sender allows repeats),
 *     unless an as-is record authenticated before (seeds are protected with
 *     these keys, so the fuzzer can replay them);
 *   - a packet with a flipped bit never unprotects;
 *   - the counters add up to the calls made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webrtc/srtp_session.h"

#define CHECK(c)                                                                    \
  do {                                                                              \
    if (!(c)) {                                                                     \
      fprintf(stderr, "fuzz_srtp: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                             \
    }                                                                               \
  } while (0)

static void make_keys(fb_srtp_keys *k, int gcm, int mirrored) {
  memset(k, 0, sizeof *k);
  k->profile = gcm ? FB_SRTP_PROFILE_AEAD_AES_128_GCM : FB_SRTP_PROFILE_AES128_CM_SHA1_80;
  k->key_len = 16;
  k->salt_len = gcm ? 12 : 14;
  for (int i = 0; i < FB_SRTP_MASTER_MAX; i++) {
    uint8_t ours = (uint8_t)(0x11 * i + 3), theirs = (uint8_t)(0x5c ^ (7 * i));
    k->local[i] = mirrored ? theirs : ours;
    k->remote[i] = mirrored ? ours : theirs;
  }
}

static int valid_rc(int rc) {
  return rc == FB_SRTP_OK || rc == FB_SRTP_ERR_AUTH || rc == FB_SRTP_ERR_REPLAY ||
         rc == FB_SRTP_ERR_ARG || rc == FB_SRTP_ERR_OTHER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int gcm = data[0] & 1;
  fb_srtp_keys k;
  make_keys(&k, gcm, 0);
  fb_srtp *rx = fb_srtp_new(&k), *tx = NULL; /* tx only when needed: sessions are slow */
  CHECK(rx);

  uint64_t calls = 0;
  int rtp_protected = 0;
  int raw_ok[2] = {0, 0}; /* an as-is RTP / RTCP record authenticated (a seed can) */
  size_t off = 1;
  while (off + 3 <= size) {
    uint8_t flags = data[off];
    size_t len = (size_t)(data[off + 1] << 8 | data[off + 2]);
    off += 3;
    if (len > size - off) len = size - off;
    const uint8_t *rec = data + off;
    off += len;
    int rtcp = flags & 1, protect = flags & 2, flip = flags & 4;

    uint8_t *pkt;
    int n = (int)len, first_rtp = 0;
    if (protect) {
      if (!tx) {
        make_keys(&k, gcm, 1);
        tx = fb_srtp_new(&k); /* the peer: our remote key is its local */
        CHECK(tx);
      }
      int cap = n + FB_SRTP_TRAILER_MAX;
      pkt = malloc((size_t)cap);
      CHECK(pkt);
      memcpy(pkt, rec, len);
      int rc = rtcp ? fb_srtp_protect_rtcp(tx, pkt, &n, cap) : fb_srtp_protect(tx, pkt, &n, cap);
      CHECK(valid_rc(rc) && n <= cap);
      if (rc != FB_SRTP_OK) {
        free(pkt);
        continue;
      }
      first_rtp = !rtcp && !rtp_protected++;
      if (flip) {
        size_t bit = ((size_t)(flags >> 3) * 131 + len) % ((size_t)n * 8);
        pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      }
      /* the receiver gets exactly n bytes */
      uint8_t *exact = malloc((size_t)n);
      CHECK(exact);
      memcpy(exact, pkt, (size_t)n);
      free(pkt);
      pkt = exact;
    } else {
      pkt = malloc(len ? len : 1);
      CHECK(pkt);
      memcpy(pkt, rec, len);
    }

    int before = n;
    int rc = rtcp ? fb_srtp_unprotect_rtcp(rx, pkt, &n) : fb_srtp_unprotect(rx, pkt, &n);
    calls++;
    CHECK(valid_rc(rc));
    CHECK(n <= before); /* never grows */
    if (protect && !flip) {
      /* fresh receiver state: the first RTP packet; every RTCP one (index
       * strictly increasing) — unless as-is records already moved it */
      if (!raw_ok[rtcp] && (rtcp || first_rtp)) CHECK(rc == FB_SRTP_OK);
      if (rc == FB_SRTP_OK) CHECK((size_t)n == len && memcmp(pkt, rec, len) == 0);
    }
    if (protect && flip) CHECK(rc != FB_SRTP_OK);
    if (!protect && rc == FB_SRTP_OK) raw_ok[rtcp] = 1;
    free(pkt);
  }

  fb_srtp_stats st;
  fb_srtp_get_stats(rx, &st);
  CHECK(st.unprotect_ok + st.auth_fail + st.replay_fail + st.other_fail == calls);
  fb_srtp_free(rx);
  fb_srtp_free(tx);
  return 0;
}
