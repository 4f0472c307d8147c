/*
 * fuzz_rtp.c — libFuzzer target for fb_rtp_parse (mixer/rtp.h).
 *
 * Input: one datagram, parsed as it is (libFuzzer hands it over in a heap
 * buffer of exactly that size, so ASan sees any read past its end).
 *
 * Invariants (a violation traps):
 *   - success exactly when an independent reading of RFC 3550 5.1 says the
 *     packet is well formed (version 2, CSRCs, extension and padding fit);
 *   - on success the header fields are the bytes on the wire, the extension
 *     lies between the CSRCs and the payload, the payload lies within the
 *     input and ends where the padding starts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mixer/rtp.h"

#define CHECK(c)                                                                   \
  do {                                                                             \
    if (!(c)) {                                                                    \
      fprintf(stderr, "fuzz_rtp: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                            \
    }                                                                              \
  } while (0)

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The reference: is buf a valid RTP packet? Written from the RFC, not from rtp.c. */
static int reference_valid(const uint8_t *buf, size_t len) {
  if (len < 12 || buf[0] >> 6 != 2) return 0;
  size_t need = 12 + 4 * (size_t)(buf[0] & 15);
  if (buf[0] & 0x10) {
    if (need + 4 > len) return 0;
    need += 4 + 4 * (size_t)(buf[need + 2] << 8 | buf[need + 3]);
  }
  if (need > len) return 0;
  if (buf[0] & 0x20) {
    size_t pad = buf[len - 1];
    if (pad == 0 || need + pad > len) return 0;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fb_rtp r;
  memset(&r, 0xa5, sizeof r);
  int rc = fb_rtp_parse(data, size, &r);
  CHECK(rc == 0 || rc == -1);
  CHECK((rc == 0) == reference_valid(data, size));
  (void)fb_is_rtp_or_rtcp(data, size);
  (void)fb_is_rtcp(data, size);
  if (rc != 0) return 0;

  const uint8_t *end = data + size;
  CHECK(r.version == 2);
  CHECK(r.marker == data[1] >> 7 && r.pt == (data[1] & 0x7f));
  CHECK(r.seq == (data[2] << 8 | data[3]));
  CHECK(r.ts == be32(data + 4) && r.ssrc == be32(data + 8));
  const uint8_t *after_csrc = data + 12 + 4 * (data[0] & 15);
  if (data[0] & 0x10) {
    CHECK(r.ext == after_csrc + 4);
    CHECK(r.ext_profile == (after_csrc[0] << 8 | after_csrc[1]));
    CHECK(r.ext_len % 4 == 0 && r.ext + r.ext_len == r.payload);
  } else {
    CHECK(r.ext == NULL && r.ext_len == 0 && r.payload == after_csrc);
  }
  CHECK(r.payload >= data + FB_RTP_HDR && r.payload <= end);
  CHECK(r.payload_len <= (size_t)(end - r.payload));
  size_t pad = (data[0] & 0x20) ? data[size - 1] : 0;
  CHECK(r.payload + r.payload_len + pad == end);

  /* fb_rtp_write_header gives back the first 12 bytes (minus P/X/CC). */
  uint8_t hdr[FB_RTP_HDR];
  fb_rtp_write_header(hdr, r.marker, r.pt, r.seq, r.ts, r.ssrc);
  CHECK(hdr[0] == 0x80 && memcmp(hdr + 1, data + 1, FB_RTP_HDR - 1) == 0);
  return 0;
}
