/*
 * srtp_session.c — libsrtp2 sessions for one participant.
 *
 * RTP goes through the hand-written fast path (srtp_fast.h: libsrtp on
 * Debian's NSS backend costs tens of microseconds a packet across many
 * sessions, which the per-listener fan-out cannot afford), one instance per
 * direction. RTCP, at about one packet a second, stays on libsrtp: two srtp_t,
 * outbound RTCP keyed with keys->local and the SSRC wildcard
 * ssrc_any_outbound, and inbound keyed with keys->remote and ssrc_any_inbound. Wildcards mean any SSRC we send or the browser sends is
 * accepted without configuration; libsrtp clones a per-SSRC stream from the
 * template on first use. The outbound RTCP session uses the same master key
 * as outbound RTP: RFC 3711 derives separate SRTCP keys from it, and since
 * only RTCP ever goes through that session the result is byte-identical to a
 * combined session.
 */
#include "bridge/srtp_session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "bridge/srtp_fast.h"

_Static_assert(FB_SRTP_TRAILER_MAX >= SRTP_MAX_TRAILER_LEN + 4,
               "FB_SRTP_TRAILER_MAX must cover libsrtp's SRTCP trailer");

#define FB_SRTP_REPLAY_WINDOW 1024
#define FB_RTP_MIN_LEN  12   /* fixed RTP header */
#define FB_RTCP_MIN_LEN 8    /* RTCP header + sender SSRC */

struct fb_srtp {
  fb_srtp_fast *out_rtp; /* protect: mixer thread */
  fb_srtp_fast *in_rtp;  /* unprotect: net thread */
  srtp_t out_rtcp;  /* protect_rtcp: whichever thread sends reports */
  srtp_t in;        /* unprotect_rtcp: net thread */
  atomic_uint_fast64_t protect_ok;
  atomic_uint_fast64_t unprotect_ok;
  atomic_uint_fast64_t auth_fail;
  atomic_uint_fast64_t replay_fail;
  atomic_uint_fast64_t other_fail;
};

static pthread_once_t g_init_once = PTHREAD_ONCE_INIT;
static int g_init_status = -1;

static void global_init_once(void) {
  g_init_status = srtp_init() == srtp_err_status_ok ? 0 : -1;
}

int fb_srtp_global_init(void) {
  pthread_once(&g_init_once, global_init_once);
  return g_init_status;
}

static void count(atomic_uint_fast64_t *c) {
  atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Set both crypto policies for profile; 0, or -1 when key sizes do not fit. */
static int set_policy(srtp_policy_t *p, const fb_srtp_keys *k) {
  switch (k->profile) {
  case FB_SRTP_PROFILE_AES128_CM_SHA1_80:
    if (k->key_len != 16 || k->salt_len != 14)
      return -1;
    srtp_crypto_policy_set_rtp_default(&p->rtp);
    srtp_crypto_policy_set_rtcp_default(&p->rtcp);
    return 0;
  case FB_SRTP_PROFILE_AEAD_AES_128_GCM:
    if (k->key_len != 16 || k->salt_len != 12)
      return -1;
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    return 0;
  default:
    return -1;
  }
}

/* Create one session; 0 or -1. key is key || salt (libsrtp's layout). */
static int make_session(srtp_t *out, const fb_srtp_keys *k, const uint8_t *key,
                        srtp_ssrc_type_t type) {
  uint8_t keybuf[FB_SRTP_MASTER_MAX];
  srtp_policy_t p;
  memset(&p, 0, sizeof p);
  if (set_policy(&p, k) < 0)
    return -1;
  memcpy(keybuf, key, (size_t)(k->key_len + k->salt_len));
  p.ssrc.type = type;
  p.key = keybuf;
  p.window_size = FB_SRTP_REPLAY_WINDOW;
  p.allow_repeat_tx = type == ssrc_any_outbound;
  p.next = NULL;
  srtp_err_status_t st = srtp_create(out, &p);
  memset(keybuf, 0, sizeof keybuf);
  if (st != srtp_err_status_ok) {
    *out = NULL;
    return -1;
  }
  return 0;
}

fb_srtp *fb_srtp_new(const fb_srtp_keys *keys) {
  if (!keys || fb_srtp_global_init() < 0)
    return NULL;
  if (keys->key_len <= 0 || keys->salt_len <= 0 ||
      keys->key_len + keys->salt_len > FB_SRTP_MASTER_MAX)
    return NULL;
  fb_srtp *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->out_rtp = fb_srtp_fast_new(keys->profile, keys->local, keys->key_len,
                                keys->local + keys->key_len, keys->salt_len);
  s->in_rtp = fb_srtp_fast_new(keys->profile, keys->remote, keys->key_len,
                               keys->remote + keys->key_len, keys->salt_len);
  if (!s->out_rtp || !s->in_rtp ||
      make_session(&s->out_rtcp, keys, keys->local, ssrc_any_outbound) < 0 ||
      make_session(&s->in, keys, keys->remote, ssrc_any_inbound) < 0) {
    fb_srtp_free(s);
    return NULL;
  }
  return s;
}

/* Map a libsrtp status of an unprotect call to our code, counting it. */
static int unprotect_result(fb_srtp *s, srtp_err_status_t st) {
  switch (st) {
  case srtp_err_status_ok:
    count(&s->unprotect_ok);
    return FB_SRTP_OK;
  case srtp_err_status_auth_fail:
    count(&s->auth_fail);
    return FB_SRTP_ERR_AUTH;
  case srtp_err_status_replay_fail:
  case srtp_err_status_replay_old:
    count(&s->replay_fail);
    return FB_SRTP_ERR_REPLAY;
  default:
    count(&s->other_fail);
    return FB_SRTP_ERR_OTHER;
  }
}

static int protect_result(fb_srtp *s, srtp_err_status_t st) {
  if (st == srtp_err_status_ok) {
    count(&s->protect_ok);
    return FB_SRTP_OK;
  }
  count(&s->other_fail);
  return FB_SRTP_ERR_OTHER;
}

/* Common argument checks; 0 when the call may go ahead. */
static int check_args(fb_srtp *s, const uint8_t *pkt, const int *len, int min_len,
                      int cap) {
  if (!s || !pkt || !len || *len < min_len)
    return -1;
  if (cap >= 0 && cap - *len < FB_SRTP_TRAILER_MAX)
    return -1;
  return 0;
}

int fb_srtp_protect(fb_srtp *s, uint8_t *pkt, int *len, int cap) {
  if (check_args(s, pkt, len, FB_RTP_MIN_LEN, cap) < 0) {
    if (s)
      count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  int rc = fb_srtp_fast_protect(s->out_rtp, pkt, len, cap);
  count(rc == FB_SRTP_OK ? &s->protect_ok : &s->other_fail);
  return rc;
}

int fb_srtp_protect_rtcp(fb_srtp *s, uint8_t *pkt, int *len, int cap) {
  if (check_args(s, pkt, len, FB_RTCP_MIN_LEN, cap) < 0) {
    if (s)
      count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  return protect_result(s, srtp_protect_rtcp(s->out_rtcp, pkt, len));
}

int fb_srtp_unprotect(fb_srtp *s, uint8_t *pkt, int *len) {
  if (check_args(s, pkt, len, FB_RTP_MIN_LEN, -1) < 0) {
    if (s)
      count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  int rc = fb_srtp_fast_unprotect(s->in_rtp, pkt, len);
  count(rc == FB_SRTP_OK            ? &s->unprotect_ok
        : rc == FB_SRTP_ERR_AUTH    ? &s->auth_fail
        : rc == FB_SRTP_ERR_REPLAY  ? &s->replay_fail
                                    : &s->other_fail);
  return rc;
}

int fb_srtp_unprotect_rtcp(fb_srtp *s, uint8_t *pkt, int *len) {
  if (check_args(s, pkt, len, FB_RTCP_MIN_LEN, -1) < 0) {
    if (s)
      count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  return unprotect_result(s, srtp_unprotect_rtcp(s->in, pkt, len));
}

void fb_srtp_get_stats(const fb_srtp *s, fb_srtp_stats *out) {
  memset(out, 0, sizeof *out);
  if (!s)
    return;
  /* atomic_load takes a non-const pointer in some libcs; the cast is safe. */
  fb_srtp *m = (fb_srtp *)s;
  out->protect_ok = atomic_load_explicit(&m->protect_ok, memory_order_relaxed);
  out->unprotect_ok = atomic_load_explicit(&m->unprotect_ok, memory_order_relaxed);
  out->auth_fail = atomic_load_explicit(&m->auth_fail, memory_order_relaxed);
  out->replay_fail = atomic_load_explicit(&m->replay_fail, memory_order_relaxed);
  out->other_fail = atomic_load_explicit(&m->other_fail, memory_order_relaxed);
}

void fb_srtp_free(fb_srtp *s) {
  if (!s)
    return;
  /* both free functions wipe their key material */
  fb_srtp_fast_free(s->out_rtp);
  fb_srtp_fast_free(s->in_rtp);
  if (s->out_rtcp)
    srtp_dealloc(s->out_rtcp);
  if (s->in)
    srtp_dealloc(s->in);
  free(s);
}
