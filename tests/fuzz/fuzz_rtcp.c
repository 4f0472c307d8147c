/*
 * fuzz_rtcp.c — libFuzzer target for webrtc/rtcp.h: fb_rtcp_parse on a
 * compound packet, and the RFC 3550 receive statistics (fb_rtcp_rx_update,
 * fb_rtcp_rx_block) driven by events read from the same bytes, with the
 * report blocks they produce sent through fb_rtcp_build_sr and parsed back.
 *
 * Input: 4 bytes "about" SSRC (big-endian), then the compound RTCP packet.
 * The packet bytes are read a second time as 8-byte events
 *   [op][seq:2][ts:4][dt]  op&3: 0,1 RTP arrival (op&4: a second SSRC),
 *                          2 report block + SR round trip, 3 an SR arrives;
 *                          dt: milliseconds to the event (op&0x80: seconds).
 *
 * Invariants (a violation traps):
 *   - parse succeeds only when the sub-packets (version 2) tile the buffer
 *     exactly; a block it returns is about the SSRC asked for, 24-bit loss;
 *   - rx_block fails exactly when nothing was received; its block is about
 *     the current SSRC, loss fits 24 bits, fraction lost does not wrap, the
 *     jitter stays below the clock rate;
 *   - build_sr never writes past cap (heap buffer of exactly cap bytes), and
 *     parse(build_sr(x)) gives x back;
 *   - fb_rtcp_rtt_us is -1 or within a minute.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webrtc/rtcp.h"

#define CHECK(c)                                                                    \
  do {                                                                              \
    if (!(c)) {                                                                     \
      fprintf(stderr, "fuzz_rtcp: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                             \
    }                                                                               \
  } while (0)

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Do version-2 sub-packets tile buf exactly (at least one)? */
static int tiles(const uint8_t *buf, size_t len) {
  size_t off = 0;
  int n = 0;
  while (off + 4 <= len && buf[off] >> 6 == 2) {
    off += ((size_t)(buf[off + 2] << 8 | buf[off + 3]) + 1) * 4;
    n++;
  }
  return n > 0 && off == len;
}

static void check_block(const fb_rtcp_block *b) {
  CHECK(b->cumulative_lost >= -0x800000 && b->cumulative_lost <= 0x7fffff);
}

/* Report block from rx, then SR + block + CNAME built and parsed back. */
static void block_round_trip(fb_rtcp_rx *rx, uint64_t now, int clock_rate, const uint8_t *ev) {
  uint32_t expected = rx->cycles + rx->max_seq - rx->base_seq + 1;
  uint32_t exp_int = expected - rx->expected_prior;
  uint32_t rec_int = rx->received - rx->received_prior;
  int nothing = !rx->initialised || rx->received == 0;
  fb_rtcp_block b;
  int rc = fb_rtcp_rx_block(rx, now, &b);
  CHECK(rc == (nothing ? -1 : 0));
  if (rc != 0) return;
  check_block(&b);
  CHECK(b.ssrc == rx->ssrc);
  CHECK(b.jitter <= (uint32_t)clock_rate);
  int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
  if (exp_int != 0 && lost_int > 0)
    CHECK(((uint64_t)lost_int << 8) / exp_int <= 255); /* fraction_lost must not wrap */

  /* cap from the event: small caps must fail cleanly, without writing past cap */
  char cname[40];
  snprintf(cname, sizeof cname, "fuzz-%02x", ev[7]);
  size_t cap = ev[1] & 1 ? (size_t)ev[2] % 96 : 256;
  uint8_t *pkt = malloc(cap ? cap : 1);
  if (!pkt) return;
  uint64_t ntp = (uint64_t)be32(ev + 3) << 24 | now % 0xffffff;
  size_t n = fb_rtcp_build_sr(pkt, cap, 0x5eed0000u ^ ev[0], ntp, be32(ev + 3), 7, 700, &b, cname);
  CHECK(n <= cap && n % 4 == 0);
  if (n) {
    fb_rtcp_info info;
    CHECK(fb_rtcp_parse(pkt, n, b.ssrc, &info) == 0);
    CHECK(info.has_sr && info.sr_ssrc == (0x5eed0000u ^ ev[0]) && info.packets == 2);
    CHECK(info.sr_ntp_mid == fb_ntp_mid(ntp));
    const fb_rtcp_block *g = &info.block; /* field by field: padding differs */
    CHECK(info.has_block && g->ssrc == b.ssrc && g->fraction_lost == b.fraction_lost &&
          g->cumulative_lost == b.cumulative_lost && g->ext_highest_seq == b.ext_highest_seq &&
          g->jitter == b.jitter && g->lsr == b.lsr && g->dlsr == b.dlsr);
    int64_t rtt = fb_rtcp_rtt_us(&info.block, ntp + ((uint64_t)ev[5] << 24));
    CHECK(rtt == -1 || (rtt >= 0 && rtt <= 60 * 1000000LL));
  }
  free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  uint32_t about = be32(data);
  const uint8_t *pkt = data + 4;
  size_t len = size - 4;

  fb_rtcp_info info;
  int rc = fb_rtcp_parse(pkt, len, about, &info);
  CHECK(rc == 0 || rc == -1);
  if (rc == 0) {
    CHECK(tiles(pkt, len) && info.packets >= 1);
    if (info.has_block) {
      CHECK(info.block.ssrc == about);
      check_block(&info.block);
    }
    int64_t rtt = fb_rtcp_rtt_us(&info.block, fb_ntp_now());
    CHECK(rtt == -1 || (rtt >= 0 && rtt <= 60 * 1000000LL));
  }

  /* The receive statistics, fed from the same bytes. */
  static const int rates[4] = {48000, 48000, 16000, 90000};
  int clock_rate = rates[data[0] & 3];
  fb_rtcp_rx rx;
  memset(&rx, 0, sizeof rx);
  uint64_t now = 1000000000000ull; /* an arbitrary CLOCK_MONOTONIC-like start */
  for (size_t off = 0; off + 8 <= len; off += 8) {
    const uint8_t *ev = pkt + off;
    now += (uint64_t)ev[7] * (ev[0] & 0x80 ? 1000000000ull : 1000000ull);
    uint16_t seq = (uint16_t)(ev[1] << 8 | ev[2]);
    uint32_t ts = be32(ev + 3);
    switch (ev[0] & 3) {
    case 0:
    case 1:
      fb_rtcp_rx_update(&rx, ev[0] & 4 ? about ^ 1 : about, seq, ts, now, clock_rate);
      CHECK(rx.initialised && rx.jitter >= 0 && rx.jitter < clock_rate);
      break;
    case 2: block_round_trip(&rx, now, clock_rate, ev); break;
    case 3: /* what webrtc/webrtc.c does with a received SR */
      rx.last_sr_mid = ts;
      rx.last_sr_arrival_ns = now;
      break;
    }
  }
  return 0;
}
