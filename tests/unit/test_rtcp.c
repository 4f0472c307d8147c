/* test_rtcp — SR build/parse round trip, report blocks, RTT arithmetic, RFC
 * 3550 loss/jitter statistics (loss, reordering, wrap), and that malformed
 * compound packets are refused without reading out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "webrtc/rtcp.h"
#include "check.h"

int main(void) {
  /* SR with a report block, round trip */
  uint8_t buf[256];
  fb_rtcp_block rb = {.ssrc = 0xB0B,
                      .fraction_lost = 25,
                      .cumulative_lost = -3,
                      .ext_highest_seq = 0x10005,
                      .jitter = 77,
                      .lsr = 0x12345678,
                      .dlsr = 6553};
  uint64_t ntp = fb_ntp_now();
  size_t n = fb_rtcp_build_sr(buf, sizeof buf, 0xA11CE, ntp, 4800, 50, 5000, &rb, "floorbridge");
  CHECK(n > 0 && n % 4 == 0, "SR built, %zu bytes, word aligned", n);
  fb_rtcp_info info;
  CHECK(fb_rtcp_parse(buf, n, 0xB0B, &info) == 0, "own SR parses");
  CHECK(info.has_sr && info.sr_ssrc == 0xA11CE && info.sr_ntp_mid == fb_ntp_mid(ntp), "SR fields");
  CHECK(info.has_block && info.block.fraction_lost == 25 && info.block.cumulative_lost == -3 &&
            info.block.ext_highest_seq == 0x10005 && info.block.jitter == 77 &&
            info.block.lsr == 0x12345678 && info.block.dlsr == 6553,
        "report block round-trips");
  CHECK(info.packets == 2, "SR + SDES seen (%d)", info.packets);
  CHECK(fb_rtcp_parse(buf, n, 0xC0C, &info) == 0 && !info.has_block,
        "block about another SSRC ignored");
  CHECK(fb_rtcp_build_sr(buf, 40, 1, ntp, 0, 0, 0, &rb, "x") == 0, "too small a buffer refused");

  /* RTT: browser got our SR (lsr) and held it 0.1 s (dlsr); arrives 0.15 s after we sent */
  uint64_t sent = ntp;
  fb_rtcp_block back = {.lsr = fb_ntp_mid(sent), .dlsr = 6554 /* 0.1 s */};
  uint64_t arrival = sent + ((uint64_t)(0.150 * 65536) << 16);
  int64_t rtt = fb_rtcp_rtt_us(&back, arrival);
  CHECK(rtt > 45000 && rtt < 55000, "RTT %lld us ~ 50 ms", (long long)rtt);
  back.lsr = 0;
  CHECK(fb_rtcp_rtt_us(&back, arrival) < 0, "no LSR, no RTT");

  /* receive stats: 100 packets from seq 65500 (wraps), 5 lost, 2 reordered */
  fb_rtcp_rx rx = {0};
  uint64_t t = 1000000000ull;
  uint16_t seq0 = 65500;
  for (int i = 0; i < 100; i++) {
    if (i == 10 || i == 11 || i == 50 || i == 51 || i == 52) continue; /* lost */
    int k = i;
    if (i == 70)
      k = 71;
    else if (i == 71)
      k = 70; /* swapped */
    fb_rtcp_rx_update(&rx, 42, (uint16_t)(seq0 + k), (uint32_t)(k * 960),
                      t + (uint64_t)i * 20000000, 48000);
  }
  fb_rtcp_block b;
  CHECK(fb_rtcp_rx_block(&rx, t + 2000000000ull, &b) == 0, "block available");
  CHECK(b.cumulative_lost == 5, "5 lost, got %d", b.cumulative_lost);
  CHECK(b.ext_highest_seq == 65536u + (uint16_t)(seq0 + 99), "extended highest seq across wrap %u",
        b.ext_highest_seq);
  CHECK(b.fraction_lost == (5 * 256) / 100, "fraction lost %u", b.fraction_lost);
  CHECK(b.jitter < 48, "clean timing gives < 1 ms jitter (%u)", b.jitter);
  CHECK(fb_rtcp_rx_block(&rx, t, &b) == 0 && b.fraction_lost == 0, "no new loss since last block");

  /* jittery arrivals: +/- 10 ms */
  fb_rtcp_rx jr = {0};
  srand(5);
  for (int i = 0; i < 500; i++) {
    int64_t wobble = (rand() % 21 - 10) * 1000000;
    fb_rtcp_rx_update(&jr, 7, (uint16_t)i, (uint32_t)(i * 960),
                      (uint64_t)((int64_t)t + (int64_t)i * 20000000 + wobble), 48000);
  }
  fb_rtcp_rx_block(&jr, t, &b);
  CHECK(b.jitter > 48 * 3 && b.jitter < 48 * 15, "jitter %u ts units ~ 3..15 ms", b.jitter);

  /* malformed compounds */
  uint8_t bad[8] = {0x80, 201, 0x00, 0x05}; /* length claims 24 bytes */
  CHECK(fb_rtcp_parse(bad, sizeof bad, 0, &info) < 0, "length beyond packet refused");
  uint8_t rrlie[8] = {0x81, 201, 0x00, 0x01}; /* one block claimed, none present */
  CHECK(fb_rtcp_parse(rrlie, sizeof rrlie, 0, &info) < 0, "block count beyond packet refused");
  uint8_t v1[4] = {0x40, 200, 0, 0};
  CHECK(fb_rtcp_parse(v1, 4, 0, &info) < 0, "version 1 refused");
  CHECK(fb_rtcp_parse(buf, 0, 0, &info) < 0, "empty refused");
  for (int it = 0; it < 100000; it++) {
    uint8_t r[64];
    size_t len = (size_t)(rand() % 64);
    for (size_t i = 0; i < len; i++) r[i] = (uint8_t)rand();
    if (len) r[0] = (uint8_t)(0x80 | (r[0] & 0x1f));
    if (len > 3) {
      r[2] = 0;
      r[3] = (uint8_t)(rand() % 20);
    }
    fb_rtcp_parse(r, len, 1, &info); /* must not crash or read out of bounds (ASan) */
  }
  return CHECK_DONE();
}
