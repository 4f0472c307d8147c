/* test_rtp — RTP header build/parse, extensions, padding, CSRCs, and that
 * malformed input is refused without reading out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "mixer/rtp.h"
#include "check.h"

int main(void) {
  uint8_t pkt[64];
  fb_rtp r;
  fb_rtp_write_header(pkt, 1, 111, 65535, 0xFFFFFFF0u, 0xDEADBEEF);
  memcpy(pkt + 12, "opus", 4);
  CHECK(fb_rtp_parse(pkt, 16, &r) == 0, "valid header parses");
  CHECK(
      r.marker == 1 && r.pt == 111 && r.seq == 65535 && r.ts == 0xFFFFFFF0u && r.ssrc == 0xDEADBEEF,
      "fields round-trip");
  CHECK(r.payload_len == 4 && memcmp(r.payload, "opus", 4) == 0, "payload located");
  CHECK(fb_is_rtp_or_rtcp(pkt, 16) && !fb_is_rtcp(pkt, 16), "demux says RTP");

  /* one-byte header extension (RFC 8285) with audio level, then payload */
  uint8_t ext[] = {0x90, 111,  0,    1, 0, 0,    0,    2, 0, 0,   0,
                   3,    0xBE, 0xDE, 0, 1, 0x10, 0x85, 0, 0, 'x', 'y'};
  CHECK(fb_rtp_parse(ext, sizeof ext, &r) == 0, "extension parses");
  CHECK(r.ext_profile == 0xBEDE && r.ext_len == 4 && r.ext[0] == 0x10 && r.ext[1] == 0x85,
        "extension located");
  CHECK(r.payload_len == 2 && r.payload[0] == 'x', "payload after extension");

  /* padding: 3 bytes, last byte = 3 */
  uint8_t pad[] = {0xA0, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 'a', 'b', 0, 0, 3};
  CHECK(fb_rtp_parse(pad, sizeof pad, &r) == 0 && r.payload_len == 2, "padding removed");
  pad[sizeof pad - 1] = 200;
  CHECK(fb_rtp_parse(pad, sizeof pad, &r) < 0, "padding longer than packet refused");
  pad[sizeof pad - 1] = 0;
  CHECK(fb_rtp_parse(pad, sizeof pad, &r) < 0, "zero padding count refused");

  /* CSRC count beyond the packet */
  uint8_t cc[16] = {0x8F, 111};
  CHECK(fb_rtp_parse(cc, sizeof cc, &r) < 0, "15 CSRCs in 16 bytes refused");
  /* extension length beyond the packet */
  uint8_t badext[] = {0x90, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0xFF, 0xFF};
  CHECK(fb_rtp_parse(badext, sizeof badext, &r) < 0, "oversize extension refused");
  /* wrong version, short */
  uint8_t v1[12] = {0x40};
  CHECK(fb_rtp_parse(v1, 12, &r) < 0, "version 1 refused");
  CHECK(fb_rtp_parse(pkt, 11, &r) < 0, "11 bytes refused");

  /* RTCP demux: SR is PT 200 */
  uint8_t sr[8] = {0x80, 200};
  CHECK(fb_is_rtcp(sr, 8), "RTCP SR recognised");
  uint8_t stun[20] = {0x00, 0x01};
  CHECK(!fb_is_rtp_or_rtcp(stun, 20), "STUN is not RTP");

  /* random bytes never crash and every accepted parse stays in bounds */
  srand(7);
  int accepted = 0;
  for (int it = 0; it < 200000; it++) {
    uint8_t buf[48];
    size_t len = (size_t)(rand() % 48);
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rand();
    if (len) buf[0] = (uint8_t)(0x80 | (buf[0] & 0x3f));
    if (fb_rtp_parse(buf, len, &r) == 0) {
      accepted++;
      if (!(r.payload >= buf && r.payload + r.payload_len <= buf + len)) {
        CHECK(0, "payload out of bounds at iteration %d", it);
        break;
      }
    }
  }
  CHECK(accepted > 0, "some random packets are valid RTP (%d)", accepted);
  return CHECK_DONE();
}
