/*
 * sdp_offer.c — offer generator and answer reader (see sdp_offer.h).
 *
 * The offer is what a browser's audio-only offer carries and the bridge
 * checks (signalling/sdp.c): one m=audio with UDP/TLS/RTP/SAVPF, opus/48000/2
 * at PT 111, ICE credentials, a sha-256 fingerprint, a=setup:actpass,
 * a=rtcp-mux, a=mid:0 in a BUNDLE group, a direction and the
 * ssrc-audio-level extension. The client is ICE-controlling and
 * offers no candidates (the bridge is ICE-lite and learns our address from
 * our checks).
 *
 * The answer is parsed with GstSDPMessage: the first m=audio with a non-zero
 * port, its (or the session's) a=ice-ufrag, a=ice-pwd and a=fingerprint, the
 * first UDP host a=candidate, and the opus payload type.
 */
#include "load/sdp_offer.h"

#include <gst/sdp/gstsdpmessage.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ld_sdp_offer(char *out, size_t outlen, const char *ufrag, const char *pwd,
                 const char *fingerprint, const char *direction, unsigned long long session_id) {
  int n = snprintf(out, outlen,
                   "v=0\r\n"
                   "o=- %llu 2 IN IP4 127.0.0.1\r\n"
                   "s=-\r\n"
                   "t=0 0\r\n"
                   "a=group:BUNDLE 0\r\n"
                   "a=extmap-allow-mixed\r\n"
                   "a=msid-semantic: WMS fbload\r\n"
                   "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n"
                   "c=IN IP4 0.0.0.0\r\n"
                   "a=rtcp:9 IN IP4 0.0.0.0\r\n"
                   "a=ice-ufrag:%s\r\n"
                   "a=ice-pwd:%s\r\n"
                   "a=ice-options:trickle\r\n"
                   "a=fingerprint:%s\r\n"
                   "a=setup:actpass\r\n"
                   "a=mid:0\r\n"
                   "a=extmap:%d urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
                   "a=%s\r\n"
                   "a=msid:fbload fbload-audio\r\n"
                   "a=rtcp-mux\r\n"
                   "a=rtpmap:%d opus/48000/2\r\n"
                   "a=fmtp:%d minptime=10;useinbandfec=1\r\n",
                   session_id, LD_OPUS_PT, ufrag, pwd, fingerprint, LD_LEVEL_EXT_ID, direction,
                   LD_OPUS_PT, LD_OPUS_PT);
  return n < 0 || (size_t)n >= outlen ? -1 : n;
}

static int copy(char *dst, size_t size, const char *s) {
  if (!s || strlen(s) >= size) return -1;
  memcpy(dst, s, strlen(s) + 1);
  return 0;
}

/* "1 1 udp 2130706431 127.0.0.1 40000 typ host" -> ip, port. */
static int parse_candidate(const char *c, char *ip, size_t iplen, int *port) {
  char foundation[64], proto[16], addr[64], typ[8], kind[16];
  unsigned comp;
  unsigned long prio;
  int p;
  if (sscanf(c, "%63s %u %15s %lu %63s %d %7s %15s", foundation, &comp, proto, &prio, addr, &p, typ,
             kind) != 8)
    return -1;
  if (comp != 1 || strcasecmp(proto, "udp") || strcmp(typ, "typ") || strcmp(kind, "host") ||
      p <= 0 || p > 65535)
    return -1;
  if (copy(ip, iplen, addr)) return -1;
  *port = p;
  return 0;
}

int ld_sdp_parse_answer(const char *sdp, ld_answer *a, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  GstSDPMessage *msg = NULL;
  if (gst_sdp_message_new(&msg) != GST_SDP_OK) return snprintf(err, errlen, "no memory"), -1;
  int rc = -1;
  if (gst_sdp_message_parse_buffer((const guint8 *)sdp, (guint)strlen(sdp), msg) != GST_SDP_OK) {
    snprintf(err, errlen, "answer does not parse");
    goto done;
  }
  const GstSDPMedia *m = NULL;
  for (guint i = 0; i < gst_sdp_message_medias_len(msg); i++) {
    const GstSDPMedia *x = gst_sdp_message_get_media(msg, i);
    if (x && !g_strcmp0(gst_sdp_media_get_media(x), "audio") && gst_sdp_media_get_port(x)) {
      m = x;
      break;
    }
  }
  if (!m) {
    snprintf(err, errlen, "answer has no accepted m=audio");
    goto done;
  }
  const char *uf = gst_sdp_media_get_attribute_val(m, "ice-ufrag");
  const char *pw = gst_sdp_media_get_attribute_val(m, "ice-pwd");
  const char *fp = gst_sdp_media_get_attribute_val(m, "fingerprint");
  if (!uf) uf = gst_sdp_message_get_attribute_val(msg, "ice-ufrag");
  if (!pw) pw = gst_sdp_message_get_attribute_val(msg, "ice-pwd");
  if (!fp) fp = gst_sdp_message_get_attribute_val(msg, "fingerprint");
  if (copy(a->ufrag, sizeof a->ufrag, uf) || copy(a->pwd, sizeof a->pwd, pw) ||
      copy(a->fingerprint, sizeof a->fingerprint, fp)) {
    snprintf(err, errlen, "answer lacks ICE credentials or a fingerprint");
    goto done;
  }
  for (guint i = 0;; i++) {
    const char *c = gst_sdp_media_get_attribute_val_n(m, "candidate", i);
    if (!c) break;
    if (parse_candidate(c, a->ip, sizeof a->ip, &a->port) == 0) break;
  }
  if (!a->port) {
    snprintf(err, errlen, "answer has no UDP host candidate");
    goto done;
  }
  a->pt = -1;
  for (guint i = 0;; i++) {
    const char *r = gst_sdp_media_get_attribute_val_n(m, "rtpmap", i);
    if (!r) break;
    int pt;
    char enc[64];
    if (sscanf(r, "%d %63s", &pt, enc) == 2 && strncasecmp(enc, "opus/48000", 10) == 0) {
      a->pt = pt;
      break;
    }
  }
  if (a->pt < 0) {
    snprintf(err, errlen, "answer has no opus/48000");
    goto done;
  }
  rc = 0;
done:
  gst_sdp_message_free(msg);
  return rc;
}
