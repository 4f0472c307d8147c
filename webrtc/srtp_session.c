/*
 * srtp_session.c — the SRTP and SRTCP directions of one participant.
 *
 * Everything goes through the hand-written path (srtp_fast.h): libsrtp on
 * Debian's NSS backend costs 14.6-39 us a packet at 1000-3000 sessions
 * (AES-CM; ours 0.5 us), which the per-listener fan-out cannot afford, and a
 * libsrtp session with its stream template, NSS cipher contexts and locks is
 * 18-30 KB a direction (11-15x ours), which thousands of listeners cannot
 * afford either (it was the largest part of a listener's memory while RTCP
 * still used it). bench/results/srtp.md has the measurements. Four directions:
 * outbound RTP (keys->local), inbound RTP (keys->remote), and the same two
 * for SRTCP, whose keys RFC 3711 derives from the same master keys with
 * other labels. Any SSRC is accepted on either side (a direction keeps
 * per-SSRC state for a few SSRCs), as libsrtp's ssrc_any wildcards did.
 * libsrtp stays as the tests' oracle (tests/unit/test_srtp_fast.c,
 * tests/fuzz/fuzz_srtp_diff.c).
 */
#include "webrtc/srtp_session.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "webrtc/srtp_fast.h"

#define FB_RTP_MIN_LEN 12 /* fixed RTP header */
#define FB_RTCP_MIN_LEN 8 /* RTCP header + sender SSRC */

struct fb_srtp {
  fb_srtp_fast *out_rtp;   /* protect: mixer thread */
  fb_srtp_fast *in_rtp;    /* unprotect: net thread */
  fb_srtcp_fast *out_rtcp; /* protect_rtcp: whichever thread sends reports */
  fb_srtcp_fast *in_rtcp;  /* unprotect_rtcp: net thread */
  atomic_uint_fast64_t protect_ok;
  atomic_uint_fast64_t unprotect_ok;
  atomic_uint_fast64_t auth_fail;
  atomic_uint_fast64_t replay_fail;
  atomic_uint_fast64_t other_fail;
};

int fb_srtp_global_init(void) { return fb_srtp_fast_global_init(); }

static void count(atomic_uint_fast64_t *c) {
  atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

fb_srtp *fb_srtp_new(const fb_srtp_keys *keys) {
  if (!keys || fb_srtp_global_init() < 0) return NULL;
  if (keys->key_len <= 0 || keys->salt_len <= 0 ||
      keys->key_len + keys->salt_len > FB_SRTP_MASTER_MAX)
    return NULL;
  fb_srtp *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  const uint8_t *lk = keys->local, *ls = keys->local + keys->key_len;
  const uint8_t *rk = keys->remote, *rs = keys->remote + keys->key_len;
  s->out_rtp = fb_srtp_fast_new(keys->profile, lk, keys->key_len, ls, keys->salt_len);
  s->in_rtp = fb_srtp_fast_new(keys->profile, rk, keys->key_len, rs, keys->salt_len);
  s->out_rtcp = fb_srtcp_fast_new(keys->profile, lk, keys->key_len, ls, keys->salt_len);
  s->in_rtcp = fb_srtcp_fast_new(keys->profile, rk, keys->key_len, rs, keys->salt_len);
  if (!s->out_rtp || !s->in_rtp || !s->out_rtcp || !s->in_rtcp) {
    fb_srtp_free(s);
    return NULL;
  }
  return s;
}

/* Count the result of an unprotect call. */
static int unprotect_result(fb_srtp *s, int rc) {
  count(rc == FB_SRTP_OK           ? &s->unprotect_ok
        : rc == FB_SRTP_ERR_AUTH   ? &s->auth_fail
        : rc == FB_SRTP_ERR_REPLAY ? &s->replay_fail
                                   : &s->other_fail);
  return rc;
}

static int protect_result(fb_srtp *s, int rc) {
  count(rc == FB_SRTP_OK ? &s->protect_ok : &s->other_fail);
  return rc;
}

/* Common argument checks; 0 when the call may go ahead. */
static int check_args(fb_srtp *s, const uint8_t *pkt, const int *len, int min_len, int cap) {
  if (!s || !pkt || !len || *len < min_len) return -1;
  if (cap >= 0 && cap - *len < FB_SRTP_TRAILER_MAX) return -1;
  return 0;
}

int fb_srtp_protect(fb_srtp *s, uint8_t *pkt, int *len, int cap) {
  if (check_args(s, pkt, len, FB_RTP_MIN_LEN, cap) < 0) {
    if (s) count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  return protect_result(s, fb_srtp_fast_protect(s->out_rtp, pkt, len, cap));
}

int fb_srtp_protect_rtcp(fb_srtp *s, uint8_t *pkt, int *len, int cap) {
  if (check_args(s, pkt, len, FB_RTCP_MIN_LEN, cap) < 0) {
    if (s) count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  return protect_result(s, fb_srtcp_fast_protect(s->out_rtcp, pkt, len, cap));
}

int fb_srtp_unprotect(fb_srtp *s, uint8_t *pkt, int *len) {
  if (check_args(s, pkt, len, FB_RTP_MIN_LEN, -1) < 0) {
    if (s) count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  return unprotect_result(s, fb_srtp_fast_unprotect(s->in_rtp, pkt, len));
}

int fb_srtp_unprotect_rtcp(fb_srtp *s, uint8_t *pkt, int *len) {
  if (check_args(s, pkt, len, FB_RTCP_MIN_LEN, -1) < 0) {
    if (s) count(&s->other_fail);
    return FB_SRTP_ERR_ARG;
  }
  return unprotect_result(s, fb_srtcp_fast_unprotect(s->in_rtcp, pkt, len));
}

void fb_srtp_get_stats(const fb_srtp *s, fb_srtp_stats *out) {
  memset(out, 0, sizeof *out);
  if (!s) return;
  /* atomic_load takes a non-const pointer in some libcs; the cast is safe. */
  fb_srtp *m = (fb_srtp *)s;
  out->protect_ok = atomic_load_explicit(&m->protect_ok, memory_order_relaxed);
  out->unprotect_ok = atomic_load_explicit(&m->unprotect_ok, memory_order_relaxed);
  out->auth_fail = atomic_load_explicit(&m->auth_fail, memory_order_relaxed);
  out->replay_fail = atomic_load_explicit(&m->replay_fail, memory_order_relaxed);
  out->other_fail = atomic_load_explicit(&m->other_fail, memory_order_relaxed);
}

void fb_srtp_free(fb_srtp *s) {
  if (!s) return;
  /* the free functions wipe their key material */
  fb_srtp_fast_free(s->out_rtp);
  fb_srtp_fast_free(s->in_rtp);
  fb_srtcp_fast_free(s->out_rtcp);
  fb_srtcp_fast_free(s->in_rtcp);
  free(s);
}
