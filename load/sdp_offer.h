/*
 * sdp_offer.h — the load tool's side of the SDP offer/answer: a minimal
 * browser-like audio offer built from an fb_rtc_client's ICE credentials and
 * the shared certificate's fingerprint, and the few things it needs from the
 * bridge's answer (parsed with GstSDPMessage).
 */
#ifndef FB_LOAD_SDP_OFFER_H
#define FB_LOAD_SDP_OFFER_H

#include <stddef.h>

#define LD_OPUS_PT 111
#define LD_LEVEL_EXT_ID 1

/* Write the offer into out (capacity outlen). direction is "sendrecv" or
 * "recvonly". Returns its length, or -1 when it does not fit. */
int ld_sdp_offer(char *out, size_t outlen, const char *ufrag, const char *pwd,
                 const char *fingerprint, const char *direction, unsigned long long session_id);

typedef struct {
  char ufrag[257];
  char pwd[257];
  char fingerprint[160]; /* "sha-256 AB:CD:..." */
  char ip[64];           /* first host candidate */
  int port;
  int pt; /* the answer's opus payload type */
} ld_answer;

/* Parse the answer. 0, or -1 with a reason in err. */
int ld_sdp_parse_answer(const char *sdp, ld_answer *a, char *err, size_t errlen);

#endif
