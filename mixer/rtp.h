/*
 * rtp.h — RTP fixed header (RFC 3550) parse and build.
 *
 * Hand-written on purpose: this is the hot path (one build per listener per
 * tick, one parse per received packet) and a general library would cost a
 * heap allocation or a copy per packet. Header extensions and CSRCs are
 * skipped on parse (their bounds checked); padding is removed.
 */
#ifndef FB_RTP_H
#define FB_RTP_H

#include <stddef.h>
#include <stdint.h>

#define FB_RTP_HDR 12

typedef struct {
  uint8_t version;
  uint8_t marker;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  const uint8_t *payload; /* points into the parsed buffer */
  size_t payload_len;
  const uint8_t *ext;   /* header extension data (after the 4-byte ext header), or NULL */
  size_t ext_len;       /* bytes of extension data */
  uint16_t ext_profile; /* 0xBEDE for RFC 8285 one-byte headers */
} fb_rtp;

/* Parse buf[0..len) as RTP. Returns 0 on success, -1 when it is not a valid
 * RTP version-2 packet (too short, bad CSRC/extension/padding lengths). */
int fb_rtp_parse(const uint8_t *buf, size_t len, fb_rtp *out);

/* Write a 12-byte header (no CSRC, no extension) into out. */
void fb_rtp_write_header(uint8_t *out, int marker, uint8_t pt, uint16_t seq, uint32_t ts,
                         uint32_t ssrc);

/* True when the first byte looks like RTP/RTCP (RFC 7983: 128..191). */
static inline int fb_is_rtp_or_rtcp(const uint8_t *buf, size_t len) {
  return len >= 2 && buf[0] >= 128 && buf[0] <= 191;
}

/* True for RTCP packet types 192..223 in the second byte (RFC 5761 demux). */
static inline int fb_is_rtcp(const uint8_t *buf, size_t len) {
  return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

#endif
