/*
 * rtc_build.c — fb_rtc_client_build_opus (see rtc_build.h): the header and
 * protection steps of fb_rtc_client_send_opus (rtc_media.c) without the send.
 * Kept byte-for-byte compatible with it: RTP version 2, the marker bit on the
 * first packet, the RFC 8285 one-byte audio-level extension when an extmap id
 * was chosen, the timestamp advancing by one 20 ms frame per packet.
 */
#include <string.h>

#include "client/rtc_build.h"
#include "client/rtc_client_int.h"
#include "codecs/audio.h"

int fb_rtc_client_build_opus(fb_rtc_client *c, const uint8_t *opus, int len, int level_dbov,
                             uint8_t *out, size_t cap) {
  if (!c || c->state != FB_RTC_CONNECTED || !c->srtp || !opus || len <= 0 || len > FB_MAX_OPUS ||
      !out)
    return -1;
  uint8_t *p = (uint8_t *)c->txbuf; /* 4-byte aligned for libsrtp */
  int ext = c->level_ext > 0;
  p[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0));
  p[1] = (uint8_t)((c->sent_first ? 0 : 0x80) | c->pt);
  fb_rtc_w16(p + 2, c->seq);
  fb_rtc_w32(p + 4, c->ts);
  fb_rtc_w32(p + 8, c->ssrc);
  size_t hl = 12;
  if (ext) {
    int lvl = level_dbov < 0 || level_dbov > 127 ? 127 : level_dbov;
    p[12] = 0xBE;
    p[13] = 0xDE;
    fb_rtc_w16(p + 14, 1);
    p[16] = (uint8_t)(c->level_ext << 4);
    p[17] = (uint8_t)((lvl < 60 ? 0x80 : 0) | lvl);
    p[18] = p[19] = 0;
    hl = 20;
  }
  memcpy(p + hl, opus, (size_t)len);
  int n = (int)hl + len;
  if (fb_srtp_protect(c->srtp, p, &n, (int)sizeof c->txbuf) != FB_SRTP_OK) return -1;
  if ((size_t)n > cap) return -1;
  c->sent_first = 1;
  c->seq++;
  c->ts += FB_FRAME;
  c->st.rtp_packets_tx++;
  c->st.rtp_bytes_tx += (uint64_t)len;
  memcpy(out, p, (size_t)n);
  memcpy(c->last_pkt, p, (size_t)n);
  c->last_len = (size_t)n;
  return n;
}
