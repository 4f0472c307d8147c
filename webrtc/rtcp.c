/*
 * rtcp.c — RTCP formats and receive statistics (see rtcp.h).
 */
#include "webrtc/rtcp.h"

#include <string.h>
#include <time.h>

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define MIN_SEQUENTIAL 2

static void w16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void w32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static uint16_t r16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t r32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint64_t fb_ntp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t sec = (uint64_t)ts.tv_sec + 2208988800ull;
  uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000ull;
  return (sec << 32) | frac;
}

static void init_seq(fb_rtcp_rx *s, uint16_t seq) {
  s->base_seq = seq;
  s->max_seq = seq;
  s->bad_seq = RTP_SEQ_MOD + 1;
  s->cycles = 0;
  s->received = 0;
  s->received_prior = 0;
  s->expected_prior = 0;
}

/* RFC 3550 A.1 */
static int update_seq(fb_rtcp_rx *s, uint16_t seq) {
  uint16_t udelta = (uint16_t)(seq - s->max_seq);
  if (s->probation) {
    if (seq == (uint16_t)(s->max_seq + 1)) {
      s->probation--;
      s->max_seq = seq;
      if (s->probation == 0) {
        init_seq(s, seq);
        s->received++;
        return 1;
      }
    } else {
      s->probation = MIN_SEQUENTIAL - 1;
      s->max_seq = seq;
    }
    return 0;
  } else if (udelta < MAX_DROPOUT) {
    if (seq < s->max_seq) s->cycles += RTP_SEQ_MOD;
    s->max_seq = seq;
  } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
    if (seq == s->bad_seq) {
      init_seq(s, seq);
    } else {
      s->bad_seq = (uint32_t)(seq + 1) & (RTP_SEQ_MOD - 1);
      return 0;
    }
  }
  s->received++;
  return 1;
}

void fb_rtcp_rx_update(fb_rtcp_rx *rx, uint32_t ssrc, uint16_t seq, uint32_t ts,
                       uint64_t arrival_ns, int clock_rate) {
  if (!rx->initialised || rx->ssrc != ssrc) {
    memset(rx, 0, sizeof *rx);
    rx->initialised = 1;
    rx->ssrc = ssrc;
    init_seq(rx, seq);
    rx->max_seq = (uint16_t)(seq - 1);
    rx->probation = MIN_SEQUENTIAL;
  }
  if (!update_seq(rx, seq)) return;
  /* A.8 interarrival jitter, in timestamp units */
  int64_t arrival_ts = (int64_t)(arrival_ns * (uint64_t)clock_rate / 1000000000ull);
  int64_t transit = arrival_ts - (int64_t)ts;
  if (rx->have_transit) {
    int64_t d = transit - rx->last_transit;
    if (d < 0) d = -d;
    /* ignore absurd steps (timestamp jumps across DTX or a new talkspurt) */
    if (d < (int64_t)clock_rate) rx->jitter += ((double)d - rx->jitter) / 16.0;
  }
  rx->last_transit = transit;
  rx->have_transit = 1;
}

int fb_rtcp_rx_block(fb_rtcp_rx *s, uint64_t now_ns, fb_rtcp_block *b) {
  if (!s->initialised || s->received == 0) return -1;
  uint32_t extended_max = s->cycles + s->max_seq;
  uint32_t expected = extended_max - s->base_seq + 1;
  int64_t lost = (int64_t)expected - (int64_t)s->received;
  if (lost > 0x7fffff) lost = 0x7fffff;
  if (lost < -0x800000) lost = -0x800000;
  uint32_t expected_interval = expected - s->expected_prior;
  s->expected_prior = expected;
  uint32_t received_interval = s->received - s->received_prior;
  s->received_prior = s->received;
  int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;
  uint8_t fraction = 0;
  if (expected_interval != 0 && lost_interval > 0)
    fraction = (uint8_t)((lost_interval << 8) / expected_interval);
  b->ssrc = s->ssrc;
  b->fraction_lost = fraction;
  b->cumulative_lost = (int32_t)lost;
  b->ext_highest_seq = extended_max;
  b->jitter = (uint32_t)s->jitter;
  b->lsr = s->last_sr_mid;
  b->dlsr = 0;
  if (s->last_sr_arrival_ns && now_ns > s->last_sr_arrival_ns)
    b->dlsr = (uint32_t)((now_ns - s->last_sr_arrival_ns) * 65536ull / 1000000000ull);
  return 0;
}

size_t fb_rtcp_build_sr(uint8_t *buf, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts,
                        uint32_t packets, uint32_t octets, const fb_rtcp_block *rb,
                        const char *cname) {
  size_t cnl = strlen(cname);
  if (cnl > 255) cnl = 255;
  size_t sr_len = 28 + (rb ? 24 : 0);
  /* SDES: header 4 + SSRC 4 + item (2 + cnl) + end (1), padded to 4 */
  size_t sdes_len = (8 + 2 + cnl + 1 + 3) & ~(size_t)3;
  if (cap < sr_len + sdes_len) return 0;
  uint8_t *p = buf;
  p[0] = (uint8_t)(0x80 | (rb ? 1 : 0));
  p[1] = 200;
  w16(p + 2, (uint16_t)(sr_len / 4 - 1));
  w32(p + 4, ssrc);
  w32(p + 8, (uint32_t)(ntp >> 32));
  w32(p + 12, (uint32_t)ntp);
  w32(p + 16, rtp_ts);
  w32(p + 20, packets);
  w32(p + 24, octets);
  if (rb) {
    uint8_t *q = p + 28;
    w32(q, rb->ssrc);
    q[4] = rb->fraction_lost;
    uint32_t cl = (uint32_t)rb->cumulative_lost & 0xffffff;
    q[5] = (uint8_t)(cl >> 16);
    q[6] = (uint8_t)(cl >> 8);
    q[7] = (uint8_t)cl;
    w32(q + 8, rb->ext_highest_seq);
    w32(q + 12, rb->jitter);
    w32(q + 16, rb->lsr);
    w32(q + 20, rb->dlsr);
  }
  p += sr_len;
  memset(p, 0, sdes_len);
  p[0] = 0x81;
  p[1] = 202;
  w16(p + 2, (uint16_t)(sdes_len / 4 - 1));
  w32(p + 4, ssrc);
  p[8] = 1; /* CNAME */
  p[9] = (uint8_t)cnl;
  memcpy(p + 10, cname, cnl);
  return sr_len + sdes_len;
}

static void read_block(const uint8_t *q, fb_rtcp_block *b) {
  b->ssrc = r32(q);
  b->fraction_lost = q[4];
  int32_t cl = (int32_t)(((uint32_t)q[5] << 16) | ((uint32_t)q[6] << 8) | q[7]);
  if (cl & 0x800000) cl -= 0x1000000;
  b->cumulative_lost = cl;
  b->ext_highest_seq = r32(q + 8);
  b->jitter = r32(q + 12);
  b->lsr = r32(q + 16);
  b->dlsr = r32(q + 20);
}

int fb_rtcp_parse(const uint8_t *buf, size_t len, uint32_t about_ssrc, fb_rtcp_info *out) {
  memset(out, 0, sizeof *out);
  size_t off = 0;
  while (off + 4 <= len) {
    const uint8_t *p = buf + off;
    if ((p[0] >> 6) != 2) return -1;
    size_t plen = ((size_t)r16(p + 2) + 1) * 4;
    if (off + plen > len) return -1;
    int count = p[0] & 0x1f;
    uint8_t pt = p[1];
    size_t blocks_at = 0;
    if (pt == 200) { /* SR */
      if (plen < 28) return -1;
      out->has_sr = 1;
      out->sr_ssrc = r32(p + 4);
      out->sr_ntp_mid = (r32(p + 8) << 16) | (r32(p + 12) >> 16);
      blocks_at = 28;
    } else if (pt == 201) { /* RR */
      if (plen < 8) return -1;
      blocks_at = 8;
    }
    if (blocks_at) {
      if (blocks_at + (size_t)count * 24 > plen) return -1;
      for (int i = 0; i < count; i++) {
        const uint8_t *q = p + blocks_at + (size_t)i * 24;
        if (r32(q) == about_ssrc) {
          read_block(q, &out->block);
          out->has_block = 1;
        }
      }
    }
    out->packets++;
    off += plen;
  }
  return off == len && out->packets > 0 ? 0 : -1;
}

int64_t fb_rtcp_rtt_us(const fb_rtcp_block *b, uint64_t arrival_ntp) {
  if (b->lsr == 0) return -1;
  uint32_t a = fb_ntp_mid(arrival_ntp);
  uint32_t rtt = a - b->lsr - b->dlsr; /* 1/65536 s, modulo 2^32 */
  if (rtt > 65536u * 60) return -1;    /* more than a minute: nonsense */
  return (int64_t)rtt * 1000000 / 65536;
}
