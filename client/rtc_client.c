/*
 * rtc_client.c — one WebRTC audio participant (see rtc_client.h): the socket,
 * ICE (libnice's STUN library), demultiplexing, the DTLS/SRTP state, the
 * timers and the test hooks. Media (RTP/RTCP in and out, the PCM buffer) is
 * in rtc_media.c, the OpenSSL side in dtls_client.c.
 *
 * Demultiplexing of what arrives (RFC 7983) from the bridge's address only:
 * 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP (RTCP by payload type, RFC 5761).
 *
 * Light listeners (fb_rtc_client_set_light, for the load tool): downlink RTP
 * is counted from its clear header without SRTP, one datagram per call.
 *
 * ICE transactions: libnice's StunAgent remembers every request it built so
 * that it can match and authenticate the response (with the password the
 * request was signed with), but only forgets a transaction when its response
 * arrives. We keep our own small table of outstanding requests and make the
 * agent forget the ones that went unanswered, so a client that sends checks
 * for hours (or into a black hole) never fills the agent's 200 slots.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "client/rtc_client_int.h"
#include "codecs/audio.h"

#define UFRAG_LEN FB_RTC_UFRAG_LEN
#define PWD_LEN FB_RTC_PWD_LEN
#define CRED_MAX FB_RTC_CRED_MAX
#define MS FB_RTC_MS
#define FAST_CHECK_NS (50 * MS)      /* checks until one is answered */
#define ICE_TIMEOUT_NS (10000 * MS)  /* no answer at all: FAILED */
#define DTLS_TIMEOUT_NS (10000 * MS) /* ICE ok but no DTLS: FAILED */
#define TXN_TIMEOUT_NS (5000 * MS)   /* forget unanswered checks */
#define MAX_TXN FB_RTC_MAX_TXN
#define DEFAULT_PCM_CAP (10L * FB_RATE)

static const uint16_t stun_known[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_USERNAME,       STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_ERROR_CODE,     STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES,
    STUN_ATTRIBUTE_FINGERPRINT,    0};

static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- small helpers ----------------------------------------------------------- */

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int random_bytes(void *buf, size_t n) { return RAND_bytes(buf, (int)n) == 1 ? 0 : -1; }

static void fail(fb_rtc_client *c, const char *fmt, const char *detail) {
  if (c->state == FB_RTC_FAILED) return;
  c->state = FB_RTC_FAILED;
  snprintf(c->error, sizeof c->error, fmt, detail ? detail : "");
}

/* A socket bound to ip:0; returns the fd (port in *port) or -1 with errno. */
static int open_socket(const char *ip, int *family, int *port) {
  struct sockaddr_storage a;
  socklen_t al;
  memset(&a, 0, sizeof a);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    al = sizeof *a4;
  } else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    al = sizeof *a6;
  } else {
    errno = EINVAL;
    return -1;
  }
  int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&a, al) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  *family = a.ss_family;
  *port = ntohs(a.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
  return fd;
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

int fb_rtc_raw_send(fb_rtc_client *c, const uint8_t *buf, size_t len) {
  if (!c->have_remote || c->fd < 0) return -1;
  if (sendto(c->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&c->remote, c->remote_len) <
      0) {
    c->st.send_errors++;
    return -1;
  }
  return 0;
}

static void dtls_send(void *ud, const uint8_t *buf, size_t len) {
  fb_rtc_client *c = ud;
  if (c->dtls_skip > 0) {
    c->dtls_skip--;
  } else if (c->dtls_drop > 0) {
    c->dtls_drop--;
    c->st.dtls_dropped++;
    return;
  }
  c->st.dtls_tx++;
  fb_rtc_raw_send(c, buf, len);
}

/* Consent interval randomised to +-20 % (RFC 7675 5.1 asks for jitter). */
static uint64_t consent_delay(fb_rtc_client *c) {
  uint32_t r = 0;
  random_bytes(&r, sizeof r);
  uint64_t base = c->consent_interval_ns;
  return base * 8 / 10 + (base * 4 / 10) * (r % 1000) / 1000;
}

/* ---- lifecycle ------------------------------------------------------------------ */

fb_rtc_client *fb_rtc_client_new(fb_rtc_client_ctx *ctx, const char *bind_ip, char *err,
                                 int errlen) {
  if (err && errlen > 0) err[0] = 0;
  if (!ctx || !bind_ip || strlen(bind_ip) >= 64) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "bad argument");
    return NULL;
  }
  fb_rtc_client *c = calloc(1, sizeof *c);
  if (!c) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "out of memory");
    return NULL;
  }
  c->ctx = ctx;
  snprintf(c->bind_ip, sizeof c->bind_ip, "%s", bind_ip);
  c->fd = open_socket(bind_ip, &c->family, &c->local_port);
  if (c->fd < 0) {
    if (err && errlen > 0)
      snprintf(err, (size_t)errlen, "socket on %s: %s", bind_ip, strerror(errno));
    free(c);
    return NULL;
  }
  unsigned char rnd[UFRAG_LEN + PWD_LEN];
  struct {
    uint32_t ssrc, ts;
    uint16_t seq;
    uint64_t tie;
  } r;
  if (random_bytes(rnd, sizeof rnd) < 0 || random_bytes(&r, sizeof r) < 0) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "no randomness");
    close(c->fd);
    free(c);
    return NULL;
  }
  for (int i = 0; i < UFRAG_LEN; i++) c->ufrag[i] = ice_chars[rnd[i] & 63];
  for (int i = 0; i < PWD_LEN; i++) c->pwd[i] = ice_chars[rnd[UFRAG_LEN + i] & 63];
  OPENSSL_cleanse(rnd, sizeof rnd);
  c->ssrc = r.ssrc ? r.ssrc : 1;
  c->ts = r.ts;
  c->seq = r.seq;
  c->tiebreaker = r.tie;
  /* RFC 8445 5.1.2.1 priority of the peer-reflexive candidate the check could
   * create: type preference 110, local preference 65535, component 1. */
  c->priority = (110u << 24) | (65535u << 8) | 255u;
  stun_agent_init(&c->agent, stun_known, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  c->state = FB_RTC_NEW;
  c->created_ns = mono_ns();
  c->consent_interval_ns = 2500 * MS;
  c->consent_expiry_ns = 30000 * MS;
  c->decode = 1;
  c->pcm_cap = DEFAULT_PCM_CAP;
  c->st.ice_ms = c->st.dtls_ms = -1;
  c->st.mapped_port = 0;
  return c;
}

void fb_rtc_client_free(fb_rtc_client *c) {
  if (!c) return;
  if (c->fd >= 0) close(c->fd);
  fb_rtc_dtls_free(c->dtls);
  fb_srtp_free(c->srtp);
  fb_encoder_free(c->enc);
  fb_decoder_free(c->dec);
  free(c->pcm);
  OPENSSL_cleanse(c->pwd, sizeof c->pwd);
  OPENSSL_cleanse(c->rpwd, sizeof c->rpwd);
  free(c);
}

const char *fb_rtc_client_ufrag(const fb_rtc_client *c) { return c->ufrag; }
const char *fb_rtc_client_pwd(const fb_rtc_client *c) { return c->pwd; }
int fb_rtc_client_local_port(const fb_rtc_client *c) { return c->local_port; }
int fb_rtc_client_fd(const fb_rtc_client *c) { return c->fd; }
int fb_rtc_client_state(const fb_rtc_client *c) { return c->state; }
const char *fb_rtc_client_error(const fb_rtc_client *c) { return c->error; }
const char *fb_rtc_client_srtp_profile(const fb_rtc_client *c) {
  return c->profile ? c->profile : "";
}

static int ice_string(const char *s, size_t min) {
  size_t n = s ? strnlen(s, CRED_MAX + 1) : 0;
  return n >= min && n <= CRED_MAX && strspn(s, ice_chars) == n;
}

int fb_rtc_client_set_remote(fb_rtc_client *c, const char *ip, int port, const char *remote_ufrag,
                             const char *remote_pwd, const char *remote_fingerprint, int opus_pt) {
  if (c->have_remote || c->state == FB_RTC_FAILED) {
    fail(c, "set_remote called twice%s", "");
    return -1;
  }
  memset(&c->remote, 0, sizeof c->remote);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&c->remote;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&c->remote;
  if (port <= 0 || port > 65535 || !ip) {
    fail(c, "bad remote port%s", "");
    return -1;
  }
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    c->remote_len = sizeof *a4;
  } else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    c->remote_len = sizeof *a6;
  } else {
    fail(c, "remote address '%s' is not an IP literal", ip);
    return -1;
  }
  if (c->remote.ss_family != c->family) {
    fail(c, "remote %s is not of the local socket's address family", ip);
    return -1;
  }
  /* RFC 8839: ufrag 4..256, pwd 22..256 ICE characters */
  if (!ice_string(remote_ufrag, 4) || !ice_string(remote_pwd, 22)) {
    fail(c, "bad remote ICE credentials%s", "");
    return -1;
  }
  if (opus_pt < 0 || opus_pt > 127) {
    fail(c, "bad payload type%s", "");
    return -1;
  }
  c->dtls = fb_rtc_dtls_new(c->ctx, remote_fingerprint, dtls_send, c);
  if (!c->dtls) {
    fail(c, "unusable remote fingerprint '%s'", remote_fingerprint ? remote_fingerprint : "(null)");
    return -1;
  }
  snprintf(c->rufrag, sizeof c->rufrag, "%s", remote_ufrag);
  snprintf(c->rpwd, sizeof c->rpwd, "%s", remote_pwd);
  c->pt = opus_pt;
  c->have_remote = 1;
  c->fast = 1;
  c->next_check_ns = 0; /* at the next poll */
  return 0;
}

/* ---- ICE ---------------------------------------------------------------------- */

static void forget_txn(fb_rtc_client *c, fb_rtc_txn *t) {
  if (!t->used) return;
  stun_agent_forget_transaction(&c->agent, t->id);
  t->used = 0;
}

static void send_check(fb_rtc_client *c, uint64_t now) {
  fb_rtc_txn *slot = NULL;
  for (int i = 0; i < MAX_TXN; i++) {
    fb_rtc_txn *t = &c->txns[i];
    if (!t->used) {
      slot = t;
      break;
    }
    if (!slot || t->sent_ns < slot->sent_ns) slot = t;
  }
  forget_txn(c, slot); /* table full: the oldest is given up */
  char username[2 * CRED_MAX + 2];
  int ul = snprintf(username, sizeof username, "%s:%s", c->rufrag, c->ufrag);
  uint8_t buf[512];
  StunMessage msg;
  size_t n = stun_usage_ice_conncheck_create(
      &c->agent, &msg, buf, sizeof buf, (const uint8_t *)username, (size_t)ul,
      (const uint8_t *)c->rpwd, strlen(c->rpwd), true /* USE-CANDIDATE */, true /* controlling */,
      c->priority, c->tiebreaker, NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  if (n == 0) return;
  stun_message_id(&msg, slot->id);
  slot->sent_ns = now;
  slot->used = 1;
  c->st.stun_tx++;
  fb_rtc_raw_send(c, buf, n);
  if (!c->ice_start_ns) c->ice_start_ns = now;
}

static void start_dtls(fb_rtc_client *c, uint64_t now);

static void on_stun(fb_rtc_client *c, const uint8_t *buf, size_t len, uint64_t now) {
  StunMessage msg;
  StunValidationStatus v = stun_agent_validate(&c->agent, &msg, buf, len, NULL, NULL);
  if (v != STUN_VALIDATION_SUCCESS || stun_message_get_class(&msg) != STUN_RESPONSE ||
      stun_message_get_method(&msg) != STUN_BINDING) {
    c->st.stun_bad++;
    return;
  }
  StunTransactionId id;
  stun_message_id(&msg, id);
  for (int i = 0; i < MAX_TXN; i++)
    if (c->txns[i].used && memcmp(c->txns[i].id, id, sizeof id) == 0)
      c->txns[i].used = 0; /* the agent already forgot it */
  struct sockaddr_storage mapped;
  socklen_t ml = sizeof mapped;
  if (stun_message_find_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &mapped, &ml) ==
      STUN_MESSAGE_RETURN_SUCCESS)
    c->st.mapped_port =
        ntohs(mapped.ss_family == AF_INET ? ((struct sockaddr_in *)&mapped)->sin_port
                                          : ((struct sockaddr_in6 *)&mapped)->sin6_port);
  c->st.stun_ok++;
  c->last_response_ns = now;
  if (c->fast) {
    c->fast = 0;
    c->next_check_ns = now + consent_delay(c);
  }
  if (c->state == FB_RTC_NEW) {
    c->state = FB_RTC_ICE_OK;
    c->ice_ok_ns = now;
    c->st.ice_ms = (int64_t)(now - c->created_ns) / 1000000;
    start_dtls(c, now);
  }
}

/* ---- DTLS ---------------------------------------------------------------------- */

static void dtls_result(fb_rtc_client *c, int rc, uint64_t now) {
  if (rc == FB_RTC_DTLS_CONNECTED) {
    fb_srtp_keys keys;
    const char *profile = NULL;
    if (fb_rtc_dtls_srtp_keys(c->dtls, &keys, &profile) == 0) c->srtp = fb_srtp_new(&keys);
    OPENSSL_cleanse(&keys, sizeof keys);
    if (!c->srtp) {
      fail(c, "SRTP keys could not be set up%s", "");
      return;
    }
    c->profile = profile;
    c->state = FB_RTC_CONNECTED;
    c->st.dtls_ms = (int64_t)(now - c->created_ns) / 1000000;
    c->next_rtcp_ns = now + FB_RTC_RTCP_INTERVAL_NS / 2;
  } else if (rc == FB_RTC_DTLS_FAILED) {
    fail(c, "DTLS: %s", fb_rtc_dtls_error(c->dtls));
  } else if (rc == FB_RTC_DTLS_CLOSED) {
    fail(c, "DTLS: %s", fb_rtc_dtls_error(c->dtls));
  }
}

static void start_dtls(fb_rtc_client *c, uint64_t now) {
  dtls_result(c, fb_rtc_dtls_start(c->dtls, now), now);
}

/* ---- light listeners (fb_rtc_client_set_light) ------------------------------------- */

/* Downlink RTP counted from its clear header, as fb_rtc_on_rtp (rtc_media.c)
 * counts it, minus the SRTP check, payload length and decode. */
static void light_rtp(fb_rtc_client *c, const uint8_t *buf, uint64_t now) {
  fb_rtc_count_rtp(c, fb_rtc_r16(buf + 2), fb_rtc_r32(buf + 4), fb_rtc_r32(buf + 8), now);
}

/* ---- the event entry points --------------------------------------------------------- */

void fb_rtc_client_on_readable(fb_rtc_client *c, uint64_t now) {
  uint8_t *buf = (uint8_t *)c->rxbuf;
  for (int i = 0; i < 4096 && c->fd >= 0; i++) {
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(c->fd, buf, 1500, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
    if (r < 0) {
      if (errno == EINTR) continue;
      break; /* EAGAIN: drained */
    }
    if (r == 0) continue;
    if (r > 1500) {
      c->st.rx_other++;
      continue;
    }
    if (!c->have_remote || !same_addr(&from, &c->remote)) {
      c->st.rx_foreign++;
      continue;
    }
    if (c->state == FB_RTC_FAILED) continue;
    uint8_t b0 = buf[0];
    if (b0 < 4) {
      on_stun(c, buf, (size_t)r, now);
    } else if (b0 >= 20 && b0 <= 63) {
      c->st.dtls_rx++;
      if (c->state == FB_RTC_ICE_OK || c->state == FB_RTC_CONNECTED)
        dtls_result(c, fb_rtc_dtls_feed(c->dtls, buf, (size_t)r, now), now);
    } else if (b0 >= 128 && b0 <= 191 && c->srtp && r >= 12) {
      if (buf[1] >= 192 && buf[1] <= 223) {
        fb_rtc_on_rtcp(c, buf, (int)r, now);
      } else if (c->light && !c->decode) {
        light_rtp(c, buf, now);
        break; /* one per call: level-triggered readiness brings us back */
      } else {
        fb_rtc_on_rtp(c, buf, (int)r, now);
      }
    } else {
      c->st.rx_other++;
    }
  }
}

void fb_rtc_client_poll(fb_rtc_client *c, uint64_t now) {
  if (c->state == FB_RTC_FAILED || !c->have_remote) return;
  for (int i = 0; i < MAX_TXN; i++)
    if (c->txns[i].used && now - c->txns[i].sent_ns > TXN_TIMEOUT_NS) forget_txn(c, &c->txns[i]);
  if (!c->stop_checks && now >= c->next_check_ns) {
    send_check(c, now);
    c->next_check_ns = now + (c->fast ? FAST_CHECK_NS : consent_delay(c));
  }
  if (c->state == FB_RTC_NEW) {
    if (c->ice_start_ns && now - c->ice_start_ns > ICE_TIMEOUT_NS)
      fail(c, "ICE: no check answered within 10 s%s", "");
    return;
  }
  if (now > c->last_response_ns + c->consent_expiry_ns) {
    fail(c, "ICE: consent expired (no check answered for the expiry time)%s", "");
    return;
  }
  if (c->state == FB_RTC_ICE_OK) {
    if (now >= fb_rtc_dtls_deadline(c->dtls))
      dtls_result(c, fb_rtc_dtls_handle_timeout(c->dtls, now), now);
    if (c->state == FB_RTC_ICE_OK && now - c->ice_ok_ns > DTLS_TIMEOUT_NS)
      fail(c, "DTLS: no handshake within 10 s of ICE%s", "");
    return;
  }
  if (c->state == FB_RTC_CONNECTED && now >= c->next_rtcp_ns) {
    fb_rtc_send_rtcp(c, now);
    c->next_rtcp_ns = now + FB_RTC_RTCP_INTERVAL_NS;
  }
}

uint64_t fb_rtc_client_next_timeout_ns(const fb_rtc_client *c) {
  if (c->state == FB_RTC_FAILED || !c->have_remote) return UINT64_MAX;
  uint64_t t = UINT64_MAX;
#define EARLIER(x)        \
  do {                    \
    if ((x) < t) t = (x); \
  } while (0)
  if (!c->stop_checks) EARLIER(c->next_check_ns);
  for (int i = 0; i < MAX_TXN; i++)
    if (c->txns[i].used) EARLIER(c->txns[i].sent_ns + TXN_TIMEOUT_NS);
  if (c->state == FB_RTC_NEW && c->ice_start_ns) EARLIER(c->ice_start_ns + ICE_TIMEOUT_NS);
  if (c->state != FB_RTC_NEW) EARLIER(c->last_response_ns + c->consent_expiry_ns);
  if (c->state == FB_RTC_ICE_OK) {
    EARLIER(fb_rtc_dtls_deadline(c->dtls));
    EARLIER(c->ice_ok_ns + DTLS_TIMEOUT_NS);
  }
  if (c->state == FB_RTC_CONNECTED) EARLIER(c->next_rtcp_ns);
#undef EARLIER
  return t;
}

/* ---- test hooks -------------------------------------------------------------------------- */

int fb_rtc_client_rebind(fb_rtc_client *c) {
  int family, port;
  int fd = open_socket(c->bind_ip, &family, &port); /* before closing: a new port */
  if (fd < 0) {
    fail(c, "rebind: %s", strerror(errno));
    return -1;
  }
  if (c->fd >= 0) close(c->fd);
  c->fd = fd;
  c->local_port = port;
  c->st.rebinds++;
  for (int i = 0; i < MAX_TXN; i++) forget_txn(c, &c->txns[i]);
  if (c->have_remote && c->state != FB_RTC_FAILED) {
    c->fast = 1;
    c->next_check_ns = 0;
  }
  return 0;
}

void fb_rtc_client_stop_checks(fb_rtc_client *c, int stop) {
  c->stop_checks = stop != 0;
  if (!stop) c->next_check_ns = 0;
}

void fb_rtc_client_set_consent(fb_rtc_client *c, int interval_ms, int expiry_ms) {
  if (interval_ms > 0) c->consent_interval_ns = (uint64_t)interval_ms * MS;
  if (expiry_ms > 0) c->consent_expiry_ns = (uint64_t)expiry_ms * MS;
}

void fb_rtc_client_drop_dtls(fb_rtc_client *c, int skip, int drop) {
  c->dtls_skip = skip > 0 ? skip : 0;
  c->dtls_drop = drop > 0 ? drop : 0;
}

void fb_rtc_client_set_decode(fb_rtc_client *c, int decode) { c->decode = decode != 0; }

void fb_rtc_client_set_light(fb_rtc_client *c, int light) { c->light = light != 0; }
