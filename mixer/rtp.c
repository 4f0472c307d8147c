/*
 * rtp.c — RTP fixed-header parse/build (RFC 3550 §5.1), hand-written because
 * it runs once per packet on the hot path (see rtp.h).
 */
#include "mixer/rtp.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int fb_rtp_parse(const uint8_t *buf, size_t len, fb_rtp *out) {
  if (len < FB_RTP_HDR) return -1;
  uint8_t b0 = buf[0];
  if ((b0 >> 6) != 2) return -1;
  int padding = (b0 >> 5) & 1;
  int ext = (b0 >> 4) & 1;
  size_t cc = b0 & 0x0f;
  size_t off = FB_RTP_HDR + 4 * cc;
  if (off > len) return -1;
  out->version = 2;
  out->marker = buf[1] >> 7;
  out->pt = buf[1] & 0x7f;
  out->seq = rd16(buf + 2);
  out->ts = rd32(buf + 4);
  out->ssrc = rd32(buf + 8);
  out->ext = NULL;
  out->ext_len = 0;
  out->ext_profile = 0;
  if (ext) {
    if (off + 4 > len) return -1;
    size_t words = rd16(buf + off + 2);
    out->ext_profile = rd16(buf + off);
    if (off + 4 + 4 * words > len) return -1;
    out->ext = buf + off + 4;
    out->ext_len = 4 * words;
    off += 4 + 4 * words;
  }
  size_t end = len;
  if (padding) {
    size_t pad = buf[len - 1];
    if (pad == 0 || off + pad > len) return -1;
    end -= pad;
  }
  out->payload = buf + off;
  out->payload_len = end - off;
  return 0;
}

void fb_rtp_write_header(uint8_t *out, int marker, uint8_t pt, uint16_t seq, uint32_t ts,
                         uint32_t ssrc) {
  out[0] = 0x80;
  out[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
  out[2] = (uint8_t)(seq >> 8);
  out[3] = (uint8_t)seq;
  out[4] = (uint8_t)(ts >> 24);
  out[5] = (uint8_t)(ts >> 16);
  out[6] = (uint8_t)(ts >> 8);
  out[7] = (uint8_t)ts;
  out[8] = (uint8_t)(ssrc >> 24);
  out[9] = (uint8_t)(ssrc >> 16);
  out[10] = (uint8_t)(ssrc >> 8);
  out[11] = (uint8_t)ssrc;
}
