/*
 * fuzz_dtls.c — libFuzzer target for fb_dtls_feed (webrtc/dtls.h): a fresh
 * DTLS 1.2 server association per input, fed datagrams from the input.
 *
 * Input: [flags] then records [len:2 big-endian][len bytes] — one datagram
 * each (the last one takes what is left when it is short). len 0 instead
 * fires the retransmission timer (fb_dtls_handle_timeout at the deadline);
 * len with bit 15 set first tries to drain into a (len & 0xff)-byte buffer.
 * flags bit 0: expect a fixed remote fingerprint (else NULL: no check), so
 * both the fingerprint check and the path behind it are reachable.
 * After every call the outgoing queue is drained, as the net thread does.
 *
 * The fb_dtls_ctx (key pair, certificate, SSL_CTX) is made once, lazily, and
 * never changes afterwards (dtls.h: read-only after fb_dtls_ctx_new); the
 * association is new for every input. OpenSSL's randoms (server random,
 * ECDHE keys) make runs not bit-for-bit identical; the inputs' coverage is.
 *
 * Invariants (a violation traps):
 *   - never FB_DTLS_CONNECTED: the input would have to finish a handshake
 *     against ECDHE keys it cannot know, so CONNECTED means a check is broken;
 *     fb_dtls_srtp_keys always fails;
 *   - results are CONTINUE, CLOSED or FAILED, equal to fb_dtls_state, and
 *     CLOSED/FAILED are terminal (every later call returns the same);
 *   - outgoing datagrams are 1..FB_DTLS_MTU bytes; a buffer smaller than
 *     the next datagram gets -1 and leaves it queued.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webrtc/dtls.h"

#define CHECK(c)                                                                    \
  do {                                                                              \
    if (!(c)) {                                                                     \
      fprintf(stderr, "fuzz_dtls: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                             \
    }                                                                               \
  } while (0)

#define REMOTE_FP                                            \
  "sha-256 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:" \
  "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0"

static fb_dtls_ctx *ctx; /* immutable once made */

static void drain(fb_dtls *d, size_t small) {
  uint8_t *buf = malloc(FB_DTLS_MTU);
  CHECK(buf);
  if (small) {
    uint8_t *tiny = malloc(small);
    CHECK(tiny);
    int n = fb_dtls_next_outgoing(d, tiny, small);
    CHECK(n == -1 || (n >= 0 && (size_t)n <= small));
    free(tiny);
  }
  for (int i = 0; i < 64; i++) {
    int n = fb_dtls_next_outgoing(d, buf, FB_DTLS_MTU);
    CHECK(n >= 0 && n <= FB_DTLS_MTU);
    if (n == 0) break;
  }
  CHECK(fb_dtls_next_outgoing(d, buf, FB_DTLS_MTU) == 0); /* the queue holds 16 */
  free(buf);
}

/* Check a result against the state and the terminal rule. */
static void check_state(fb_dtls *d, int rc, int *terminal) {
  CHECK(rc == FB_DTLS_CONTINUE || rc == FB_DTLS_CLOSED || rc == FB_DTLS_FAILED);
  CHECK(rc == fb_dtls_state(d));
  CHECK(fb_dtls_error(d) != NULL);
  if (*terminal) CHECK(rc == *terminal);
  if (rc != FB_DTLS_CONTINUE) *terminal = rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ctx) {
    char err[256];
    ctx = fb_dtls_ctx_new(err, sizeof err);
    if (!ctx) {
      fprintf(stderr, "fuzz_dtls: fb_dtls_ctx_new: %s\n", err);
      abort();
    }
  }
  if (size < 1) return 0;
  fb_dtls *d = fb_dtls_new(ctx, data[0] & 1 ? REMOTE_FP : NULL);
  CHECK(d);
  int terminal = 0;
  size_t off = 1;
  while (off + 2 <= size) {
    size_t len = (size_t)(data[off] << 8 | data[off + 1]);
    off += 2;
    size_t small = len & 0x8000 ? (len & 0xff) : 0;
    len &= 0x7fff;
    int rc;
    if (len == 0) {
      uint64_t t = fb_dtls_next_timeout_ns(d);
      rc = fb_dtls_handle_timeout(d, t == UINT64_MAX ? 0 : t);
    } else {
      if (len > size - off) len = size - off;
      /* exact-size copy: ASan sees a read past the datagram */
      uint8_t *dg = malloc(len ? len : 1);
      CHECK(dg);
      memcpy(dg, data + off, len);
      rc = fb_dtls_feed(d, dg, len);
      free(dg);
      off += len;
    }
    check_state(d, rc, &terminal);
    drain(d, small);
  }
  fb_srtp_keys keys;
  CHECK(fb_dtls_srtp_keys(d, &keys) == -1);
  fb_dtls_close(d);
  CHECK(fb_dtls_state(d) == (terminal ? terminal : FB_DTLS_CLOSED));
  drain(d, 0);
  fb_dtls_free(d);
  return 0;
}
