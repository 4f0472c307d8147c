/*
 * srtp_oracle.h — a libsrtp session set up like ours, for the tests, the
 * differential fuzz target and the benchmark that hold our SRTP against
 * Debian's libsrtp (webrtc/srtp_fast.c says why ours exists).
 */
#ifndef FB_SRTP_ORACLE_H
#define FB_SRTP_ORACLE_H

#include <srtp2/srtp.h>
#include <stdint.h>
#include <string.h>

/* A libsrtp session for AEAD_AES_128_GCM (gcm) or AES128_CM_SHA1_80 with the
 * 30-byte master key + salt keysalt, for sending (outbound) or receiving.
 * rtcp_auth_only: SRTCP authenticated, not encrypted (E flag clear). NULL
 * when libsrtp refuses. */
static inline srtp_t fb_oracle_session(int gcm, const uint8_t *keysalt, int outbound,
                                       int rtcp_auth_only, unsigned long window_size,
                                       int allow_repeat_tx) {
  srtp_policy_t p;
  memset(&p, 0, sizeof p);
  if (gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default(&p.rtp);
    srtp_crypto_policy_set_rtcp_default(&p.rtcp);
  }
  if (rtcp_auth_only) p.rtcp.sec_serv = sec_serv_auth;
  p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  p.key = (unsigned char *)keysalt;
  p.window_size = window_size;
  p.allow_repeat_tx = allow_repeat_tx;
  srtp_t s = NULL;
  return srtp_create(&s, &p) == srtp_err_status_ok ? s : NULL;
}

#endif
