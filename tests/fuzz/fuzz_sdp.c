/*
 * fuzz_sdp.c — libFuzzer target for the browser's SDP offer
 * (signalling/sdp.h): fb_sdp_parse_offer on arbitrary bytes, and for every
 * offer it accepts, fb_sdp_build_answer with fixed transport details, the
 * answer parsed back with GstSDPMessage.
 *
 * Input: the offer text, as it is (libFuzzer's heap buffer of exactly that
 * size, not NUL-terminated: ASan sees a read past it). The answer is for a
 * speaker when the offer's length is even, listen-only when odd.
 *
 * Invariants (a violation traps):
 *   - a known result; on failure the offer struct is all zero and a reason
 *     was written;
 *   - an accepted offer is what sdp.h promises: ICE ufrag 4..256 and pwd
 *     22..256 ice-chars, a normalised "sha-256 XX:..:XX" fingerprint, setup
 *     actpass|active, a direction, rtcp-mux, opus pt 0..127, audio-level id
 *     0..255, 1..FB_SDP_MAX_MEDIA m-lines with the audio one among them;
 *   - its answer is valid SDP with exactly as many m-lines, each of the
 *     offer's kind; only the audio one has a port (ours) and carries our
 *     credentials, setup:passive and the offer's opus payload type — so no
 *     offer value can smuggle a line break into the answer.
 */
#include <gst/sdp/gstsdpmessage.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalling/sdp.h"

#define CHECK(c)                                                                   \
  do {                                                                             \
    if (!(c)) {                                                                    \
      fprintf(stderr, "fuzz_sdp: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                            \
    }                                                                              \
  } while (0)

#define OUR_FP                                               \
  "sha-256 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:" \
  "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0"

static int ice_chars(const char *s, size_t min, size_t max) {
  size_t n = strlen(s);
  return n >= min && n <= max &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == n;
}

static int one_of(const char *s, const char *const *set) {
  for (; *set; set++)
    if (strcmp(s, *set) == 0) return 1;
  return 0;
}

static int normalised_fp(const char *fp) {
  if (strncmp(fp, "sha-256 ", 8) != 0 || strlen(fp) != 8 + 95) return 0;
  for (int i = 0; i < 95; i++) {
    char c = fp[8 + i];
    if (i % 3 == 2 ? c != ':' : !strchr("0123456789ABCDEF", c)) return 0;
  }
  return 1;
}

static void check_answer(const fb_sdp_offer *o, const char *text) {
  GstSDPMessage *msg = NULL;
  CHECK(gst_sdp_message_new_from_text(text, &msg) == GST_SDP_OK && msg);
  CHECK(gst_sdp_message_medias_len(msg) == (guint)o->n_media);
  for (int i = 0; i < o->n_media; i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media(msg, (guint)i);
    CHECK(strcmp(gst_sdp_media_get_media(m), o->media[i].kind) == 0);
    CHECK(strcmp(gst_sdp_media_get_proto(m), o->media[i].proto) == 0);
    if (i != o->audio_index) {
      CHECK(gst_sdp_media_get_port(m) == 0);
      CHECK(gst_sdp_media_get_attribute_val(m, "ice-ufrag") == NULL);
      continue;
    }
    CHECK(gst_sdp_media_get_port(m) == 40000);
    const char *v = gst_sdp_media_get_attribute_val(m, "ice-ufrag");
    CHECK(v && strcmp(v, "BrdgUfrg") == 0);
    v = gst_sdp_media_get_attribute_val(m, "setup");
    CHECK(v && strcmp(v, "passive") == 0);
    char pt[8];
    snprintf(pt, sizeof pt, "%d", o->opus_pt);
    CHECK(gst_sdp_media_formats_len(m) == 1 && strcmp(gst_sdp_media_get_format(m, 0), pt) == 0);
  }
  gst_sdp_message_free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const setups[] = {"actpass", "active", NULL};
  static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive", NULL};
  fb_sdp_offer *o = malloc(sizeof *o);
  CHECK(o);
  memset(o, 0x5a, sizeof *o);
  char err[256] = "";
  fb_sdp_error e = fb_sdp_parse_offer((const char *)data, size, o, err, sizeof err);
  CHECK(e == FB_SDP_OK || e == FB_SDP_BAD || e == FB_SDP_NO_AUDIO);
  CHECK(strcmp(fb_sdp_error_code(e), e == FB_SDP_OK    ? "ok"
                                     : e == FB_SDP_BAD ? "bad_sdp"
                                                       : "no_audio") == 0);
  if (e != FB_SDP_OK) {
    CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err));
    const char *z = (const char *)o;
    for (size_t i = 0; i < sizeof *o; i++) CHECK(z[i] == 0);
    free(o);
    return 0;
  }
  CHECK(ice_chars(o->ice_ufrag, 4, 256) && ice_chars(o->ice_pwd, 22, 256));
  CHECK(normalised_fp(o->fingerprint));
  CHECK(one_of(o->setup, setups) && one_of(o->direction, dirs));
  CHECK(o->rtcp_mux == 1 && o->opus_pt >= 0 && o->opus_pt <= 127);
  CHECK(o->audio_level_ext >= 0 && o->audio_level_ext <= 255);
  CHECK(o->n_media >= 1 && o->n_media <= FB_SDP_MAX_MEDIA);
  CHECK(o->audio_index >= 0 && o->audio_index < o->n_media);
  CHECK(strcmp(o->media[o->audio_index].kind, "audio") == 0);
  CHECK(strcmp(o->mid, o->media[o->audio_index].mid) == 0);

  fb_webrtc_offer w;
  fb_sdp_offer_to_webrtc(o, &w);
  CHECK(w.ice_ufrag == o->ice_ufrag && w.opus_pt == o->opus_pt);

  fb_webrtc_answer ans;
  memset(&ans, 0, sizeof ans);
  strcpy(ans.ice_ufrag, "BrdgUfrg");
  strcpy(ans.ice_pwd, "BridgePassword0123456789");
  strcpy(ans.fingerprint, OUR_FP);
  strcpy(ans.candidate_ip, "192.0.2.1");
  ans.candidate_port = 40000;
  ans.ssrc = 0x5eed;
  char *answer = fb_sdp_build_answer(o, &ans, (int)(size % 2 == 0), err, sizeof err);
  CHECK(answer);
  check_answer(o, answer);
  free(answer);
  free(o);
  return 0;
}
