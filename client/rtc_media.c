/*
 * rtc_media.c — the client's media (see rtc_client.h): Opus over SRTP out
 * (with the RFC 6464 audio-level extension when asked), SRTP in (sequence
 * tracking, RFC 3550 receive statistics, Opus decode with PLC for small gaps
 * into the PCM buffer), SRTCP in (sender reports) and out (SR or RR with a
 * report block about the bridge's stream, so the bridge can compute RTT).
 * rtc_client.c owns the socket and calls in here once the keys exist.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/rtc_client_int.h"
#include "codecs/audio.h"

#define PLC_MAX 5 /* conceal gaps of up to this many packets */
#define OPUS_BITRATE 32000

/* ---- RTCP ----------------------------------------------------------------------- */

static uint64_t ntp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t sec = (uint64_t)ts.tv_sec + 2208988800ull;
  uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000ull;
  return sec << 32 | frac;
}

/* SR (once we have sent media) or RR, one report block about the downlink
 * when there is one, SDES CNAME; SRTCP-protected and sent. */
void fb_rtc_send_rtcp(fb_rtc_client *c, uint64_t now) {
  uint8_t *p = (uint8_t *)c->txbuf;
  int rc = c->st.rx_ssrc && c->received ? 1 : 0;
  int sr = c->st.rtp_packets_tx > 0;
  size_t off = sr ? 28 : 8;
  p[0] = (uint8_t)(0x80 | rc);
  p[1] = sr ? 200 : 201;
  fb_rtc_w32(p + 4, c->ssrc);
  if (sr) {
    uint64_t ntp = ntp_now();
    fb_rtc_w32(p + 8, (uint32_t)(ntp >> 32));
    fb_rtc_w32(p + 12, (uint32_t)ntp);
    fb_rtc_w32(p + 16, c->ts);
    fb_rtc_w32(p + 20, (uint32_t)c->st.rtp_packets_tx);
    fb_rtc_w32(p + 24, (uint32_t)c->st.rtp_bytes_tx);
  }
  if (rc) {
    uint8_t *q = p + off;
    uint32_t ext_max = c->cycles + c->last_seq;
    uint32_t expected = ext_max - c->base_ext + 1;
    int64_t lost = (int64_t)expected - (int64_t)c->received;
    if (lost > 0x7fffff) lost = 0x7fffff;
    if (lost < -0x800000) lost = -0x800000;
    uint32_t exp_int = expected - c->expected_prior, rec_int = c->received - c->received_prior;
    c->expected_prior = expected;
    c->received_prior = c->received;
    int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
    fb_rtc_w32(q, c->st.rx_ssrc);
    q[4] = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0;
    uint32_t cl = (uint32_t)lost & 0xffffff;
    q[5] = (uint8_t)(cl >> 16);
    q[6] = (uint8_t)(cl >> 8);
    q[7] = (uint8_t)cl;
    fb_rtc_w32(q + 8, ext_max);
    fb_rtc_w32(q + 12, (uint32_t)c->jitter);
    fb_rtc_w32(q + 16, c->last_sr_mid);
    uint32_t dlsr = 0;
    if (c->last_sr_ns && now > c->last_sr_ns)
      dlsr = (uint32_t)((now - c->last_sr_ns) * 65536ull / 1000000000ull);
    fb_rtc_w32(q + 20, c->last_sr_mid ? dlsr : 0);
    off += 24;
  }
  fb_rtc_w16(p + 2, (uint16_t)(off / 4 - 1));
  /* SDES: header, SSRC, CNAME item, end marker, padded to 4 bytes */
  static const char cname[] = "fbclient";
  uint8_t *s = p + off;
  size_t sl = (8 + 2 + sizeof cname - 1 + 1 + 3) & ~(size_t)3;
  memset(s, 0, sl);
  s[0] = 0x81;
  s[1] = 202;
  fb_rtc_w16(s + 2, (uint16_t)(sl / 4 - 1));
  fb_rtc_w32(s + 4, c->ssrc);
  s[8] = 1;
  s[9] = (uint8_t)(sizeof cname - 1);
  memcpy(s + 10, cname, sizeof cname - 1);
  int len = (int)(off + sl);
  if (fb_srtp_protect_rtcp(c->srtp, p, &len, (int)sizeof c->txbuf) != FB_SRTP_OK) return;
  if (fb_rtc_raw_send(c, p, (size_t)len) == 0) c->st.rtcp_tx++;
}

void fb_rtc_on_rtcp(fb_rtc_client *c, uint8_t *buf, int n, uint64_t now) {
  if (fb_srtp_unprotect_rtcp(c->srtp, buf, &n) != FB_SRTP_OK) {
    c->st.srtp_fail++;
    return;
  }
  c->st.rtcp_rx++;
  size_t off = 0, len = (size_t)n;
  while (off + 4 <= len) {
    const uint8_t *p = buf + off;
    size_t plen = ((size_t)fb_rtc_r16(p + 2) + 1) * 4;
    if ((p[0] >> 6) != 2 || off + plen > len) break;
    if (p[1] == 200 && plen >= 28) {
      c->st.rtcp_sr_rx++;
      c->last_sr_mid = fb_rtc_r32(p + 8) << 16 | fb_rtc_r32(p + 12) >> 16;
      c->last_sr_ns = now;
    }
    off += plen;
  }
}

/* ---- RTP in ---------------------------------------------------------------------- */

/* Fixed header, CSRCs, extension, padding; 0 with payload and len, or -1. */
static int rtp_parse(const uint8_t *b, size_t len, uint16_t *seq, uint32_t *ts, uint32_t *ssrc,
                     const uint8_t **payload, size_t *plen) {
  if (len < 12 || (b[0] >> 6) != 2) return -1;
  size_t off = 12 + 4 * (size_t)(b[0] & 0x0f);
  if (off > len) return -1;
  if (b[0] & 0x10) {
    if (off + 4 > len) return -1;
    off += 4 + 4 * (size_t)fb_rtc_r16(b + off + 2);
    if (off > len) return -1;
  }
  size_t end = len;
  if (b[0] & 0x20) {
    uint8_t pad = b[len - 1];
    if (pad == 0 || pad > end - off) return -1;
    end -= pad;
  }
  *seq = fb_rtc_r16(b + 2);
  *ts = fb_rtc_r32(b + 4);
  *ssrc = fb_rtc_r32(b + 8);
  *payload = b + off;
  *plen = end - off;
  return 0;
}

/* Room for `need` more samples, dropping the oldest half when full. */
static float *pcm_room(fb_rtc_client *c, long need) {
  if (!c->pcm) {
    c->pcm = malloc((size_t)c->pcm_cap * sizeof *c->pcm);
    if (!c->pcm) return NULL;
    c->pcm_n = 0;
  }
  if (c->pcm_n + need > c->pcm_cap) {
    long keep = c->pcm_cap / 2 < c->pcm_n ? c->pcm_cap / 2 : c->pcm_n;
    memmove(c->pcm, c->pcm + (c->pcm_n - keep), (size_t)keep * sizeof *c->pcm);
    c->pcm_n = keep;
  }
  return c->pcm + c->pcm_n;
}

static void pcm_commit(fb_rtc_client *c, int got) {
  if (got <= 0) return;
  c->pcm_n += got;
  c->pcm_total += got;
}

int fb_rtc_count_rtp(fb_rtc_client *c, uint16_t seq, uint32_t ts, uint32_t ssrc, uint64_t now) {
  c->st.rtp_packets_rx++;
  c->st.last_rtp_ns = now;
  if (!c->st.first_audio_ns) c->st.first_audio_ns = now;
  int lost = 0;
  if (!c->have_seq || ssrc != c->st.rx_ssrc) {
    c->have_seq = 1;
    c->st.rx_ssrc = ssrc;
    c->last_seq = seq;
    c->cycles = 0;
    c->base_ext = seq;
    c->received = c->expected_prior = c->received_prior = 0;
    c->have_transit = 0;
    c->jitter = 0;
  } else {
    uint16_t d = (uint16_t)(seq - c->last_seq);
    if (d == 0 || d >= 0x8000) {
      c->st.late_packets++;
      return -1;
    }
    if (d > 1) {
      c->st.seq_gaps++;
      c->st.lost_packets += d - 1u;
      lost = d - 1;
    }
    if (seq < c->last_seq) c->cycles += 65536;
    c->last_seq = seq;
  }
  c->received++;
  /* RFC 3550 A.8 interarrival jitter, in timestamp units */
  int64_t transit = (int64_t)(now / 1000 * 48 / 1000) - (int64_t)ts;
  if (c->have_transit) {
    int64_t dd = transit - c->last_transit;
    c->jitter += ((double)(dd < 0 ? -dd : dd) - c->jitter) / 16.0;
  }
  c->last_transit = transit;
  c->have_transit = 1;
  return lost;
}

void fb_rtc_on_rtp(fb_rtc_client *c, uint8_t *buf, int n, uint64_t now) {
  int rc = fb_srtp_unprotect(c->srtp, buf, &n);
  if (rc != FB_SRTP_OK) {
    c->st.srtp_fail++;
    return;
  }
  uint16_t seq;
  uint32_t ts, ssrc;
  const uint8_t *payload;
  size_t plen;
  if (rtp_parse(buf, (size_t)n, &seq, &ts, &ssrc, &payload, &plen) < 0) {
    c->st.rx_other++;
    return;
  }
  c->st.rtp_bytes_rx += plen;
  int lost = fb_rtc_count_rtp(c, seq, ts, ssrc, now);
  if (lost < 0) return; /* duplicate or older than what we played */

  if (!c->decode || plen == 0) return;
  if (!c->dec && !(c->dec = fb_decoder_new())) return;
  for (int i = 0; i < lost && i < PLC_MAX; i++) {
    float *dst = pcm_room(c, FB_FRAME);
    if (!dst) return;
    pcm_commit(c, fb_decoder_conceal(c->dec, dst, FB_FRAME));
  }
  float *dst = pcm_room(c, FB_MAX_FRAME);
  if (!dst) return;
  int got = fb_decoder_decode(c->dec, payload, (int)plen, dst, FB_MAX_FRAME);
  if (got < 0) {
    c->st.decode_errors++;
    got = fb_decoder_conceal(c->dec, dst, FB_FRAME);
  }
  pcm_commit(c, got);
}

/* ---- sending ------------------------------------------------------------------------- */

int fb_rtc_protect_opus(fb_rtc_client *c, const uint8_t *opus, int len, int level_dbov,
                        size_t cap) {
  if (c->state != FB_RTC_CONNECTED || !c->srtp || !opus || len <= 0 || len > FB_MAX_OPUS) return -1;
  uint8_t *p = (uint8_t *)c->txbuf; /* 4-byte aligned */
  int ext = c->level_ext > 0;
  p[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0));
  p[1] = (uint8_t)((c->sent_first ? 0 : 0x80) | c->pt);
  fb_rtc_w16(p + 2, c->seq);
  fb_rtc_w32(p + 4, c->ts);
  fb_rtc_w32(p + 8, c->ssrc);
  size_t hl = 12;
  if (ext) {
    /* RFC 8285 one-byte header block: 0xBEDE, one word: id/len, level, pad */
    int lvl = level_dbov < 0 || level_dbov > 127 ? 127 : level_dbov;
    p[12] = 0xBE;
    p[13] = 0xDE;
    fb_rtc_w16(p + 14, 1);
    p[16] = (uint8_t)(c->level_ext << 4);           /* L = 0: one byte */
    p[17] = (uint8_t)((lvl < 60 ? 0x80 : 0) | lvl); /* V: voice activity */
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
  memcpy(c->last_pkt, p, (size_t)n);
  c->last_len = (size_t)n;
  return n;
}

int fb_rtc_client_send_opus(fb_rtc_client *c, const uint8_t *opus, int len, int level_dbov,
                            uint64_t now) {
  (void)now;
  int n = fb_rtc_protect_opus(c, opus, len, level_dbov, SIZE_MAX);
  if (n < 0) return -1;
  return fb_rtc_raw_send(c, (const uint8_t *)c->txbuf, (size_t)n) == 0 ? n : -1;
}

int fb_rtc_client_send_audio(fb_rtc_client *c, const float *pcm960, uint64_t now) {
  if (c->state != FB_RTC_CONNECTED || !pcm960) return -1;
  if (!c->enc && !(c->enc = fb_encoder_new(OPUS_BITRATE, 5, 1, 0))) return -1;
  uint8_t out[FB_MAX_OPUS];
  int len = fb_encoder_encode(c->enc, pcm960, out, sizeof out);
  if (len <= 0) return -1;
  int level = 127;
  if (c->level_ext > 0) {
    double e = 0;
    for (int i = 0; i < FB_FRAME; i++) e += (double)pcm960[i] * pcm960[i];
    double rms = sqrt(e / FB_FRAME);
    double dbov = rms > 0 ? 20.0 * log10(rms) : -127.0; /* full scale = 0 dBov */
    level = dbov >= 0 ? 0 : dbov <= -127 ? 127 : (int)lround(-dbov);
  }
  return fb_rtc_client_send_opus(c, out, len, level, now);
}

void fb_rtc_client_set_audio_level_ext(fb_rtc_client *c, int id) {
  c->level_ext = id >= 1 && id <= 14 ? id : 0;
}

int fb_rtc_client_send_raw(fb_rtc_client *c, const uint8_t *buf, size_t len) {
  return buf && len ? fb_rtc_raw_send(c, buf, len) : -1;
}

const uint8_t *fb_rtc_client_last_packet(const fb_rtc_client *c, size_t *len) {
  *len = c->last_len;
  return c->last_len ? c->last_pkt : NULL;
}

void fb_rtc_client_set_pcm_capacity(fb_rtc_client *c, long samples) {
  if (samples < 2L * FB_MAX_FRAME) samples = 2L * FB_MAX_FRAME;
  free(c->pcm);
  c->pcm = NULL;
  c->pcm_n = 0;
  c->pcm_cap = samples;
}

const float *fb_rtc_client_pcm(const fb_rtc_client *c, long *n) {
  *n = c->pcm ? c->pcm_n : 0;
  return c->pcm;
}

long long fb_rtc_client_pcm_total(const fb_rtc_client *c) { return c->pcm_total; }

void fb_rtc_client_pcm_clear(fb_rtc_client *c) { c->pcm_n = 0; }

void fb_rtc_client_get_stats(const fb_rtc_client *c, fb_rtc_client_stats *out) { *out = c->st; }
