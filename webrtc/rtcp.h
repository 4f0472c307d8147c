/*
 * rtcp.h — the RTCP we speak (RFC 3550): sender reports for the downlink,
 * receiver report blocks for the uplink, parsing of a browser's compound
 * packets for RTT (its report block about our stream), and the RFC 3550
 * receive statistics (A.1, A.3, A.8) behind our report blocks.
 *
 * Hand-written: the formats are tiny, fixed and on a per-second path; a
 * library would bring a session model we do not want. Every read is bounds
 * checked against the packet and each sub-packet's own length.
 */
#ifndef FB_RTCP_H
#define FB_RTCP_H

#include <stddef.h>
#include <stdint.h>

/* One report block (RFC 3550 6.4.1). */
typedef struct {
  uint32_t ssrc;           /* the source this block is about */
  uint8_t fraction_lost;   /* since the previous report, /256 */
  int32_t cumulative_lost; /* 24-bit signed */
  uint32_t ext_highest_seq;
  uint32_t jitter; /* in timestamp units */
  uint32_t lsr;    /* middle 32 bits of the last SR's NTP time */
  uint32_t dlsr;   /* delay since that SR, 1/65536 s */
} fb_rtcp_block;

/* What a received compound packet told us. */
typedef struct {
  int has_sr;
  uint32_t sr_ssrc;    /* sender of the SR */
  uint32_t sr_ntp_mid; /* middle 32 bits of its NTP timestamp */
  int has_block;       /* a report block about `about_ssrc` was found */
  fb_rtcp_block block;
  int packets; /* sub-packets seen */
} fb_rtcp_info;

/* RFC 3550 A.1/A.3/A.8 receive state for one uplink source. */
typedef struct {
  int initialised;
  uint32_t ssrc;
  uint16_t max_seq;
  uint32_t cycles;
  uint32_t base_seq;
  uint32_t bad_seq;
  uint32_t probation;
  uint32_t received;
  uint32_t expected_prior;
  uint32_t received_prior;
  double jitter; /* timestamp units */
  int64_t last_transit;
  int have_transit;
  uint32_t last_sr_mid; /* from the sender's last SR */
  uint64_t last_sr_arrival_ns;
} fb_rtcp_rx;

/* NTP time (64-bit fixed point, seconds since 1900) for CLOCK_REALTIME now. */
uint64_t fb_ntp_now(void);

/* Middle 32 bits of a 64-bit NTP time (units of 1/65536 s). */
static inline uint32_t fb_ntp_mid(uint64_t ntp) { return (uint32_t)(ntp >> 16); }

/* Record a received RTP packet (seq, RTP ts) arriving at arrival_ns, with
 * the stream's clock rate. */
void fb_rtcp_rx_update(fb_rtcp_rx *rx, uint32_t ssrc, uint16_t seq, uint32_t ts,
                       uint64_t arrival_ns, int clock_rate);

/* Fill a report block about the received stream (updates the "prior"
 * counters used for fraction lost). now_ns for DLSR. Returns 0, or -1 when
 * nothing has been received yet. */
int fb_rtcp_rx_block(fb_rtcp_rx *rx, uint64_t now_ns, fb_rtcp_block *out);

/* Build SR (+ one report block when rb != NULL) + SDES CNAME into buf.
 * Returns the length, or 0 when cap is too small. */
size_t fb_rtcp_build_sr(uint8_t *buf, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts,
                        uint32_t packets, uint32_t octets, const fb_rtcp_block *rb,
                        const char *cname);

/* Parse a compound RTCP packet. Looks for an SR and for a report block whose
 * ssrc is about_ssrc. Returns 0, or -1 when malformed (nothing trusted). */
int fb_rtcp_parse(const uint8_t *buf, size_t len, uint32_t about_ssrc, fb_rtcp_info *out);

/* Round-trip time in microseconds from a report block received at
 * arrival_ntp about our SR, or -1 when the block carries no LSR. */
int64_t fb_rtcp_rtt_us(const fb_rtcp_block *b, uint64_t arrival_ntp);

#endif
