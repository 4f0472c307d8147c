/*
 * rtc_client_int.h — internal to the client library (rtc_client.c,
 * rtc_media.c, dtls_client.c): the DTLS client of one fb_rtc_client, the
 * client struct itself and the calls between the files. Not for callers.
 */
#ifndef FB_RTC_CLIENT_INT_H
#define FB_RTC_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <stun/stunagent.h>

#include "webrtc/srtp_session.h"
#include "client/rtc_client.h"
#include "codecs/opus_codec.h"

/* Results of the fb_rtc_dtls_* calls. */
#define FB_RTC_DTLS_CONTINUE 0  /* handshaking, or connected and nothing new */
#define FB_RTC_DTLS_CONNECTED 1 /* handshake just completed and verified (once) */
#define FB_RTC_DTLS_CLOSED 2    /* the bridge sent close_notify (terminal) */
#define FB_RTC_DTLS_FAILED \
  3 /* alert, bad fingerprint, no SRTP profile,
                                    handshake gave up (terminal) */

/* Datagram ceiling of the client's DTLS (same as the bridge's). */
#define FB_RTC_DTLS_MTU 1200

typedef struct fb_rtc_dtls fb_rtc_dtls;

/* How a DTLS association gets its datagrams onto the wire: called from inside
 * the fb_rtc_dtls_* calls, once per datagram. */
typedef void (*fb_rtc_dtls_send_fn)(void *ud, const uint8_t *buf, size_t len);

/* New DTLS 1.2 client association expecting the server certificate digest
 * expected_fp ("sha-256 AB:..", also sha-1/224/384/512, hex case-insensitive).
 * NULL when expected_fp is unparsable or on allocation failure. */
fb_rtc_dtls *fb_rtc_dtls_new(fb_rtc_client_ctx *ctx, const char *expected_fp,
                             fb_rtc_dtls_send_fn send, void *ud);

/* Free (NULL is fine); sends nothing. */
void fb_rtc_dtls_free(fb_rtc_dtls *d);

/* Send the ClientHello. Returns FB_RTC_DTLS_CONTINUE or FAILED. */
int fb_rtc_dtls_start(fb_rtc_dtls *d, uint64_t now_ns);

/* Process one received DTLS datagram. CONNECTED is returned exactly once. */
int fb_rtc_dtls_feed(fb_rtc_dtls *d, const uint8_t *buf, size_t len, uint64_t now_ns);

/* When fb_rtc_dtls_handle_timeout is due (UINT64_MAX: no timer). */
uint64_t fb_rtc_dtls_deadline(const fb_rtc_dtls *d);

/* Retransmit the last flight if due. Returns the state (FAILED when OpenSSL
 * gave up). */
int fb_rtc_dtls_handle_timeout(fb_rtc_dtls *d, uint64_t now_ns);

/* After CONNECTED: the SRTP keys from the client's point of view (local =
 * client write key+salt) and the profile's name. 0 or -1. */
int fb_rtc_dtls_srtp_keys(fb_rtc_dtls *d, fb_srtp_keys *out, const char **profile);

/* Why it failed or closed ("" otherwise). */
const char *fb_rtc_dtls_error(const fb_rtc_dtls *d);

/* ---- the client struct, shared by rtc_client.c and rtc_media.c ---- */

#define FB_RTC_UFRAG_LEN 8
#define FB_RTC_PWD_LEN 24
#define FB_RTC_CRED_MAX 256 /* RFC 8839 ufrag/pwd limit */
#define FB_RTC_MS 1000000ull
#define FB_RTC_RTCP_INTERVAL_NS (1000 * FB_RTC_MS)
#define FB_RTC_MAX_TXN 8 /* outstanding ICE checks */
#define FB_RTC_PKT_CAP (1500 + FB_SRTP_TRAILER_MAX)

typedef struct {
  StunTransactionId id;
  uint64_t sent_ns;
  int used;
} fb_rtc_txn;

struct fb_rtc_client {
  fb_rtc_client_ctx *ctx;
  int fd;
  int family;
  char bind_ip[64];
  int local_port;

  /* remote (from the answer) */
  int have_remote;
  struct sockaddr_storage remote;
  socklen_t remote_len;
  char ufrag[FB_RTC_UFRAG_LEN + 1], pwd[FB_RTC_PWD_LEN + 1];
  char rufrag[FB_RTC_CRED_MAX + 1], rpwd[FB_RTC_CRED_MAX + 1];
  int pt;

  /* state */
  int state;
  char error[200];
  const char *profile;
  uint64_t created_ns, ice_start_ns, ice_ok_ns;

  /* ICE */
  StunAgent agent;
  fb_rtc_txn txns[FB_RTC_MAX_TXN];
  uint64_t tiebreaker;
  uint32_t priority;
  uint64_t next_check_ns, last_response_ns;
  int fast; /* checking at FAST_CHECK_NS (start, after a rebind) */
  int stop_checks;
  uint64_t consent_interval_ns, consent_expiry_ns;

  /* DTLS / SRTP */
  fb_rtc_dtls *dtls;
  fb_srtp *srtp;
  int dtls_skip, dtls_drop; /* simulated loss (fb_rtc_client_drop_dtls) */

  /* uplink */
  uint32_t ssrc;
  uint16_t seq;
  uint32_t ts;
  int sent_first;
  int level_ext;
  fb_encoder *enc;
  uint8_t last_pkt[FB_RTC_PKT_CAP];
  size_t last_len;
  uint64_t next_rtcp_ns;

  /* downlink */
  int decode;
  int light; /* fb_rtc_client_set_light: no SRTP check, one datagram per call */
  fb_decoder *dec;
  float *pcm;
  long pcm_n, pcm_cap;
  long long pcm_total;
  int have_seq;
  uint16_t last_seq;
  uint32_t cycles, base_ext, received, expected_prior, received_prior;
  double jitter;
  int64_t last_transit;
  int have_transit;
  uint32_t last_sr_mid;
  uint64_t last_sr_ns;

  fb_rtc_client_stats st;

  /* packet buffers: 4-byte aligned for libsrtp */
  uint32_t txbuf[(FB_RTC_PKT_CAP + 3) / 4];
  uint32_t rxbuf[(FB_RTC_PKT_CAP + 3) / 4];
};

static inline void fb_rtc_w16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void fb_rtc_w32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static inline uint16_t fb_rtc_r16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline uint32_t fb_rtc_r32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* rtc_client.c: send one datagram to the bridge from the current socket;
 * 0, or -1 (counted in send_errors). */
int fb_rtc_raw_send(fb_rtc_client *c, const uint8_t *buf, size_t len);

/* rtc_media.c: an SRTP datagram (RTP) / SRTCP datagram from the bridge, in
 * c->rxbuf (n bytes), arriving at now. */
void fb_rtc_on_rtp(fb_rtc_client *c, uint8_t *buf, int n, uint64_t now);
void fb_rtc_on_rtcp(fb_rtc_client *c, uint8_t *buf, int n, uint64_t now);

/* rtc_media.c: count one downlink RTP packet (receive stats, RFC 3550
 * sequence extension and interarrival jitter). Returns how many packets
 * before it were lost (0 or more), or -1 for a duplicate or late one. */
int fb_rtc_count_rtp(fb_rtc_client *c, uint16_t seq, uint32_t ts, uint32_t ssrc, uint64_t now);

/* rtc_media.c: one Opus frame as a protected RTP packet in c->txbuf (marker
 * on the first, the audio-level extension when negotiated). The stream
 * advances (seq, ts, counters, last_pkt) only when the packet fits cap.
 * Its length, or -1. */
int fb_rtc_protect_opus(fb_rtc_client *c, const uint8_t *opus, int len, int level_dbov, size_t cap);

/* rtc_media.c: send an SRTCP SR/RR + SDES now. */
void fb_rtc_send_rtcp(fb_rtc_client *c, uint64_t now);

#endif
