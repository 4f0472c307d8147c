/*
 * test_sdp.c — signalling/sdp.c: a hand-written offer modelled on what
 * Chromium 120+ sends for an audio-only call, and one with video, a second
 * audio and a data channel; the parsed fields; the answer re-parsed with
 * GstSDPMessage, attribute by attribute; directions; refusals with their codes;
 * every truncation and random mutations (no crash, ASan clean).
 */
#include <gst/sdp/gstsdpmessage.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "signalling/sdp.h"

/* Chromium 120 (Linux), getUserMedia({audio: true}), createOffer(). */
static const char *CHROME =
    "v=0\r\n"
    "o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 1c9f5a8c-7a4e-4a55-9b0a-3e5d0f0c6a10\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Jq3c\r\n"
    "a=ice-pwd:8mJbJ4Vn0m9ZpQ2k3xYhL1aT\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
    "43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:1c9f5a8c-7a4e-4a55-9b0a-3e5d0f0c6a10 6a0c2b1e-93a4-4f7e-8d52-0b7f3c1d2e4f\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:3735928559 cname:kZ3e8yU5sJ4Qf1Lw\r\n"
    "a=ssrc:3735928559 msid:1c9f5a8c-7a4e-4a55-9b0a-3e5d0f0c6a10 "
    "6a0c2b1e-93a4-4f7e-8d52-0b7f3c1d2e4f\r\n";

/* Video first, then audio (opus at 109, audio level at id 5), a second
 * audio, a data channel; credentials and fingerprint at session level the
 * way Firefox writes them; LF line ends. */
static const char *MULTI =
    "v=0\n"
    "o=mozilla...THIS_IS_SDPARTA-99.0 6606384123432323211 0 IN IP4 0.0.0.0\n"
    "s=-\n"
    "t=0 0\n"
    "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11"
    ":22:33:44:55:66:77:88:99\n"
    "a=group:BUNDLE v0 a1 a2 d3\n"
    "a=ice-options:trickle\n"
    "a=ice-ufrag:8e3a1f2b\n"
    "a=ice-pwd:0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
    "a=msid-semantic:WMS *\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"
    "c=IN IP4 0.0.0.0\n"
    "a=mid:v0\n"
    "a=sendrecv\n"
    "a=rtcp-mux\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtpmap:97 rtx/90000\n"
    "a=setup:actpass\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\n"
    "c=IN IP4 0.0.0.0\n"
    "a=mid:a1\n"
    "a=sendrecv\n"
    "a=extmap:5/sendrecv urn:ietf:params:rtp-hdrext:ssrc-audio-level vad=on\n"
    "a=rtcp-mux\n"
    "a=rtpmap:109 OPUS/48000/2\n"
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=setup:active\n"
    "a=ssrc:1111 cname:{a}\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 0.0.0.0\n"
    "a=mid:a2\n"
    "a=recvonly\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
    "c=IN IP4 0.0.0.0\n"
    "a=mid:d3\n"
    "a=sctp-port:5000\n"
    "a=max-message-size:262144\n"
    "a=setup:actpass\n";

static const char *OUR_FP =
    "sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:"
    "89:AB:CD:EF";

static char err[256];

/* text with the first occurrence of from replaced by to (malloc'd). */
static char *replace(const char *text, const char *from, const char *to) {
  const char *at = strstr(text, from);
  if (!at) {
    fprintf(stderr, "replace: '%s' not found\n", from);
    abort();
  }
  size_t n = strlen(text) - strlen(from) + strlen(to);
  char *out = malloc(n + 1);
  size_t pre = (size_t)(at - text);
  memcpy(out, text, pre);
  strcpy(out + pre, to);
  strcat(out, at + strlen(from));
  return out;
}

static fb_sdp_error parse(const char *text, fb_sdp_offer *o) {
  err[0] = '\0';
  return fb_sdp_parse_offer(text, strlen(text), o, err, sizeof err);
}

static fb_webrtc_answer our_answer(void) {
  fb_webrtc_answer a;
  memset(&a, 0, sizeof a);
  strcpy(a.ice_ufrag, "fbUf");
  strcpy(a.ice_pwd, "abcdefghijklmnopqrstuv+/");
  strcpy(a.fingerprint, OUR_FP);
  strcpy(a.candidate_ip, "192.0.2.10");
  a.candidate_port = 40000;
  a.ssrc = 0xCAFEBABE;
  return a;
}

/* How many media-level attributes key with value val (NULL: any). */
static int count_attr(const GstSDPMedia *m, const char *key, const char *val) {
  int n = 0;
  for (guint i = 0; i < gst_sdp_media_attributes_len(m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
    if (strcmp(a->key, key) == 0 && (!val || (a->value && strcmp(a->value, val) == 0))) n++;
  }
  return n;
}

static void test_chrome(void) {
  fb_sdp_offer o;
  CHECK(parse(CHROME, &o) == FB_SDP_OK, "chrome offer parses: %s", err);
  CHECK(strcmp(o.ice_ufrag, "Jq3c") == 0, "ufrag '%s'", o.ice_ufrag);
  CHECK(strcmp(o.ice_pwd, "8mJbJ4Vn0m9ZpQ2k3xYhL1aT") == 0, "pwd '%s'", o.ice_pwd);
  CHECK(strcmp(o.fingerprint,
               "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:"
               "64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08") == 0,
        "fingerprint '%s'", o.fingerprint);
  CHECK(strcmp(o.setup, "actpass") == 0, "setup '%s'", o.setup);
  CHECK(strcmp(o.mid, "0") == 0, "mid '%s'", o.mid);
  CHECK(o.opus_pt == 111 && o.audio_level_ext == 1 && o.rtcp_mux == 1, "pt %d ext %d mux %d",
        o.opus_pt, o.audio_level_ext, o.rtcp_mux);
  CHECK(strcmp(o.direction, "sendrecv") == 0, "direction '%s'", o.direction);
  CHECK(o.n_media == 1 && o.audio_index == 0, "media %d audio %d", o.n_media, o.audio_index);
  fb_webrtc_offer w;
  fb_sdp_offer_to_webrtc(&o, &w);
  CHECK(w.ice_ufrag == o.ice_ufrag && w.ice_pwd == o.ice_pwd && w.fingerprint == o.fingerprint &&
            w.opus_pt == 111 && w.audio_level_ext == 1,
        "webrtc offer view");

  fb_webrtc_answer a = our_answer();
  char *ans = fb_sdp_build_answer(&o, &a, 1, err, sizeof err);
  CHECK(ans != NULL, "answer: %s", err);
  if (!ans) return;
  CHECK(strstr(ans, "\r\n") != NULL, "CRLF line ends");
  GstSDPMessage *msg = NULL;
  CHECK(gst_sdp_message_new_from_text(ans, &msg) == GST_SDP_OK && msg, "answer re-parses");
  if (!msg) return;
  CHECK(strcmp(gst_sdp_message_get_version(msg), "0") == 0, "v=0");
  const GstSDPOrigin *orig = gst_sdp_message_get_origin(msg);
  CHECK(strcmp(orig->username, "-") == 0 && strcmp(orig->sess_version, "2") == 0 &&
            strcmp(orig->addrtype, "IP4") == 0 && strcmp(orig->addr, "192.0.2.10") == 0 &&
            strtoull(orig->sess_id, NULL, 10) > 0,
        "o= %s %s %s %s", orig->sess_id, orig->sess_version, orig->addrtype, orig->addr);
  CHECK(strcmp(gst_sdp_message_get_session_name(msg), "floorbridge") == 0, "s=");
  CHECK(strstr(ans, "\r\nt=0 0\r\n") != NULL, "t=0 0"); /* GstSDP 1.22 drops t= when parsing */
  CHECK(strstr(ans, "a=ice-lite\r\n") != NULL, "ice-lite");
  CHECK(strcmp(gst_sdp_message_get_attribute_val(msg, "group"), "BUNDLE 0") == 0, "bundle");
  CHECK(strstr(ans, "a=msid-semantic: WMS floorbridge\r\n") != NULL, "msid-semantic");
  CHECK(gst_sdp_message_medias_len(msg) == 1, "one m-line");
  const GstSDPMedia *m = gst_sdp_message_get_media(msg, 0);
  CHECK(strcmp(gst_sdp_media_get_media(m), "audio") == 0 && gst_sdp_media_get_port(m) == 40000 &&
            strcmp(gst_sdp_media_get_proto(m), "UDP/TLS/RTP/SAVPF") == 0 &&
            gst_sdp_media_formats_len(m) == 1 && strcmp(gst_sdp_media_get_format(m, 0), "111") == 0,
        "m=audio 40000 UDP/TLS/RTP/SAVPF 111");
  const GstSDPConnection *c = gst_sdp_media_get_connection(m, 0);
  CHECK(c && strcmp(c->nettype, "IN") == 0 && strcmp(c->addrtype, "IP4") == 0 &&
            strcmp(c->address, "192.0.2.10") == 0,
        "c=IN IP4");
  CHECK(count_attr(m, "mid", "0") == 1, "mid");
  CHECK(count_attr(m, "ice-ufrag", "fbUf") == 1, "ice-ufrag");
  CHECK(count_attr(m, "ice-pwd", "abcdefghijklmnopqrstuv+/") == 1, "ice-pwd");
  CHECK(count_attr(m, "fingerprint", OUR_FP) == 1, "fingerprint");
  CHECK(count_attr(m, "setup", "passive") == 1, "setup:passive");
  CHECK(count_attr(m, "rtcp-mux", NULL) == 1, "rtcp-mux");
  CHECK(count_attr(m, "rtpmap", "111 opus/48000/2") == 1, "rtpmap");
  CHECK(count_attr(m, "fmtp", "111 minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0") == 1,
        "fmtp");
  CHECK(count_attr(m, "extmap", "1 urn:ietf:params:rtp-hdrext:ssrc-audio-level") == 1, "extmap");
  CHECK(count_attr(m, "extmap", NULL) == 1, "only the audio level extension");
  CHECK(count_attr(m, "sendrecv", NULL) == 1 && count_attr(m, "sendonly", NULL) == 0, "sendrecv");
  CHECK(count_attr(m, "ssrc", "3405691582 cname:floorbridge") == 1, "ssrc cname");
  CHECK(count_attr(m, "msid", "floorbridge floorbridge-mix") == 1, "msid");
  CHECK(count_attr(m, "candidate", "1 1 udp 2130706431 192.0.2.10 40000 typ host") == 1,
        "candidate");
  CHECK(count_attr(m, "end-of-candidates", NULL) == 1, "end-of-candidates");
  gst_sdp_message_free(msg);

  /* a second answer has another session id */
  char *ans2 = fb_sdp_build_answer(&o, &a, 1, err, sizeof err);
  CHECK(ans2 && strcmp(ans, ans2) != 0, "fresh o= session id");
  free(ans2);
  free(ans);

  /* listen-only: we only send */
  ans = fb_sdp_build_answer(&o, &a, 0, err, sizeof err);
  CHECK(ans && strstr(ans, "a=sendonly\r\n") && !strstr(ans, "a=sendrecv"), "observer sendonly");
  CHECK(ans && strstr(ans, "a=ssrc:3405691582 cname:floorbridge\r\n"), "observer still sends");
  free(ans);

  /* IPv6 candidate */
  strcpy(a.candidate_ip, "2001:db8::7");
  ans = fb_sdp_build_answer(&o, &a, 1, err, sizeof err);
  CHECK(ans && strstr(ans, "c=IN IP6 2001:db8::7\r\n") &&
            strstr(ans, "a=candidate:1 1 udp 2130706431 2001:db8::7 40000 typ host\r\n"),
        "v6 answer:\n%s", ans ? ans : err);
  free(ans);

  /* unusable transport details are refused */
  fb_webrtc_answer bad = our_answer();
  strcpy(bad.candidate_ip, "example.org");
  CHECK(!fb_sdp_build_answer(&o, &bad, 1, err, sizeof err), "bad ip refused");
  bad = our_answer();
  bad.candidate_port = 0;
  CHECK(!fb_sdp_build_answer(&o, &bad, 1, err, sizeof err), "port 0 refused");
  bad = our_answer();
  strcpy(bad.ice_pwd, "short");
  CHECK(!fb_sdp_build_answer(&o, &bad, 1, err, sizeof err), "short pwd refused");
  bad = our_answer();
  strcpy(bad.fingerprint, "sha-1 00:11");
  CHECK(!fb_sdp_build_answer(&o, &bad, 1, err, sizeof err), "bad fingerprint refused");
  bad = our_answer();
  strcpy(bad.ice_ufrag, "a\r\nb");
  CHECK(!fb_sdp_build_answer(&o, &bad, 1, err, sizeof err), "CRLF in ufrag refused");
}

static void test_directions(void) {
  static const struct {
    const char *offered;
    int uplink;
    const char *want;
  } cases[] = {
      {"sendrecv", 1, "sendrecv"}, {"sendrecv", 0, "sendonly"}, {"recvonly", 1, "sendonly"},
      {"recvonly", 0, "sendonly"}, {"sendonly", 1, "recvonly"}, {"sendonly", 0, "inactive"},
      {"inactive", 1, "inactive"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char from[32];
    snprintf(from, sizeof from, "a=%s\r\n", cases[i].offered);
    char *t = replace(CHROME, "a=sendrecv\r\n", from);
    fb_sdp_offer o;
    CHECK(parse(t, &o) == FB_SDP_OK && strcmp(o.direction, cases[i].offered) == 0,
          "direction %s parsed: %s", cases[i].offered, err);
    fb_webrtc_answer a = our_answer();
    char *ans = fb_sdp_build_answer(&o, &a, cases[i].uplink, err, sizeof err);
    char want[32];
    snprintf(want, sizeof want, "a=%s\r\n", cases[i].want);
    CHECK(ans && strstr(ans, want), "offer %s uplink %d -> %s", cases[i].offered, cases[i].uplink,
          cases[i].want);
    CHECK(ans && !strstr(ans, "a=ssrc:") == !strstr(cases[i].want, "send"),
          "ssrc only when we send (%s)", cases[i].want);
    free(ans);
    free(t);
  }
  /* no direction attribute: sendrecv */
  char *t = replace(CHROME, "a=sendrecv\r\n", "");
  fb_sdp_offer o;
  CHECK(parse(t, &o) == FB_SDP_OK && strcmp(o.direction, "sendrecv") == 0, "default sendrecv");
  free(t);
}

static void test_multi(void) {
  fb_sdp_offer o;
  CHECK(parse(MULTI, &o) == FB_SDP_OK, "multi offer parses: %s", err);
  CHECK(o.n_media == 4 && o.audio_index == 1, "media %d audio %d", o.n_media, o.audio_index);
  CHECK(strcmp(o.mid, "a1") == 0 && o.opus_pt == 109 && o.audio_level_ext == 5,
        "mid %s pt %d ext %d", o.mid, o.opus_pt, o.audio_level_ext);
  CHECK(strcmp(o.ice_ufrag, "8e3a1f2b") == 0 &&
            strcmp(o.ice_pwd, "0f1e2d3c4b5a69788796a5b4c3d2e1f0") == 0,
        "session-level ICE credentials");
  CHECK(strncmp(o.fingerprint, "sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB",
                61) == 0,
        "session-level fingerprint, upper-cased: %s", o.fingerprint);
  CHECK(strcmp(o.setup, "active") == 0, "setup %s", o.setup);

  fb_webrtc_answer a = our_answer();
  char *ans = fb_sdp_build_answer(&o, &a, 1, err, sizeof err);
  CHECK(ans != NULL, "answer: %s", err);
  GstSDPMessage *msg = NULL;
  if (ans) gst_sdp_message_new_from_text(ans, &msg);
  CHECK(msg && gst_sdp_message_medias_len(msg) == 4, "four m-lines echoed");
  if (msg && gst_sdp_message_medias_len(msg) == 4) {
    CHECK(strcmp(gst_sdp_message_get_attribute_val(msg, "group"), "BUNDLE a1") == 0,
          "only the audio in BUNDLE");
    static const char *kinds[] = {"video", "audio", "audio", "application"};
    static const char *mids[] = {"v0", "a1", "a2", "d3"};
    static const char *protos[] = {"UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVPF",
                                   "UDP/DTLS/SCTP"};
    for (guint i = 0; i < 4; i++) {
      const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
      CHECK(strcmp(gst_sdp_media_get_media(m), kinds[i]) == 0 &&
                strcmp(gst_sdp_media_get_proto(m), protos[i]) == 0 &&
                count_attr(m, "mid", mids[i]) == 1 && gst_sdp_media_formats_len(m) >= 1,
            "m-line %u kind/proto/mid", i);
      CHECK((gst_sdp_media_get_port(m) == 0) == (i != 1), "m-line %u port %u", i,
            gst_sdp_media_get_port(m));
      if (i != 1)
        CHECK(count_attr(m, "ice-ufrag", NULL) == 0 && count_attr(m, "candidate", NULL) == 0,
              "rejected m-line %u carries no transport", i);
    }
    const GstSDPMedia *m = gst_sdp_message_get_media(msg, 1);
    CHECK(strcmp(gst_sdp_media_get_format(m, 0), "109") == 0 &&
              count_attr(m, "rtpmap", "109 opus/48000/2") == 1 &&
              count_attr(m, "extmap", "5 urn:ietf:params:rtp-hdrext:ssrc-audio-level") == 1,
          "opus at the offer's PT 109, level at id 5");
    CHECK(strcmp(gst_sdp_media_get_format(gst_sdp_message_get_media(msg, 3), 0),
                 "webrtc-datachannel") == 0,
          "data channel format echoed");
  }
  if (msg) gst_sdp_message_free(msg);
  free(ans);

  /* no extmap: none in the answer */
  char *t = replace(CHROME, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n", "");
  CHECK(parse(t, &o) == FB_SDP_OK && o.audio_level_ext == 0, "no audio level: %s", err);
  ans = fb_sdp_build_answer(&o, &a, 1, err, sizeof err);
  CHECK(ans && !strstr(ans, "extmap"), "no extmap in the answer");
  free(ans);
  free(t);
  /* no mid (legacy): no BUNDLE, no a=mid */
  t = replace(CHROME, "a=mid:0\r\n", "");
  char *t2 = replace(t, "a=group:BUNDLE 0\r\n", "");
  CHECK(parse(t2, &o) == FB_SDP_OK && o.mid[0] == '\0', "no mid: %s", err);
  ans = fb_sdp_build_answer(&o, &a, 1, err, sizeof err);
  CHECK(ans && !strstr(ans, "a=mid") && !strstr(ans, "BUNDLE"), "no mid in the answer");
  free(ans);
  free(t2);
  free(t);
  /* the first audio m-line with a port: one with port 0 is skipped */
  t = replace(MULTI, "m=audio 9 UDP/TLS/RTP/SAVPF 109", "m=audio 0 UDP/TLS/RTP/SAVPF 109");
  CHECK(parse(t, &o) == FB_SDP_OK && o.audio_index == 2 && strcmp(o.mid, "a2") == 0 &&
            o.opus_pt == 111 && strcmp(o.direction, "recvonly") == 0,
        "stopped audio skipped: %s", err);
  free(t);
}

/* text with from replaced must be refused with code (and err mentioning what). */
static void refuse(const char *base, const char *from, const char *to, fb_sdp_error code,
                   const char *what) {
  char *t = replace(base, from, to);
  fb_sdp_offer o;
  fb_sdp_error e = parse(t, &o);
  CHECK(e == code, "'%s' -> '%s': want %s, got %s (%s)", from, to, fb_sdp_error_code(code),
        fb_sdp_error_code(e), err);
  if (what) CHECK(strstr(err, what) != NULL, "'%s' not in '%s'", what, err);
  CHECK(o.ice_ufrag[0] == '\0' && o.opus_pt == 0, "nothing left behind on error");
  free(t);
}

static void test_refusals(void) {
  const char *fp =
      "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:"
      "64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n";
  refuse(CHROME, "a=ice-ufrag:Jq3c\r\n", "", FB_SDP_BAD, "ICE");
  refuse(CHROME, "a=ice-pwd:8mJbJ4Vn0m9ZpQ2k3xYhL1aT\r\n", "", FB_SDP_BAD, "ICE");
  refuse(CHROME, "a=ice-pwd:8mJbJ4Vn0m9ZpQ2k3xYhL1aT", "a=ice-pwd:short", FB_SDP_BAD, "ICE");
  refuse(CHROME, "a=ice-ufrag:Jq3c", "a=ice-ufrag:J q3c", FB_SDP_BAD, "ICE");
  refuse(CHROME, fp, "", FB_SDP_BAD, "fingerprint");
  refuse(CHROME, fp,
         "a=fingerprint:sha-1 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64\r\n",
         FB_SDP_BAD, "sha-256");
  refuse(CHROME, "2C:19:08\r\n", "2C:19\r\n", FB_SDP_BAD, "fingerprint");
  refuse(CHROME, "2C:19:08\r\n", "2C:19:0G\r\n", FB_SDP_BAD, "fingerprint");
  refuse(CHROME, "a=setup:actpass", "a=setup:passive", FB_SDP_BAD, "passive");
  refuse(CHROME, "a=setup:actpass", "a=setup:holdconn", FB_SDP_BAD, "setup");
  refuse(CHROME, "a=rtcp-mux\r\n", "", FB_SDP_BAD, "rtcp-mux");
  refuse(CHROME, "a=rtpmap:111 opus/48000/2\r\n", "", FB_SDP_NO_AUDIO, "opus");
  refuse(CHROME, "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/1", FB_SDP_NO_AUDIO, "opus");
  refuse(CHROME, "SAVPF 111 63", "SAVPF 63", FB_SDP_NO_AUDIO,
         "opus"); /* rtpmap for a PT not offered */
  refuse(CHROME, "m=audio 9 UDP/TLS/RTP/SAVPF", "m=video 9 UDP/TLS/RTP/SAVPF", FB_SDP_NO_AUDIO,
         "no audio");
  refuse(CHROME, "m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 0 UDP/TLS/RTP/SAVPF", FB_SDP_NO_AUDIO,
         NULL);
  refuse(CHROME, "m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 9 RTP/AVP", FB_SDP_BAD, "DTLS-SRTP");
  refuse(CHROME, "v=0\r\n", "v=1\r\n", FB_SDP_BAD, NULL);
  refuse(CHROME, "a=mid:0", "a=mid:a b", FB_SDP_BAD, "mid");
  refuse(MULTI, "a=mid:a2", "a=mid:a1", FB_SDP_BAD, "duplicate");

  fb_sdp_offer o;
  CHECK(parse("", &o) == FB_SDP_BAD, "empty");
  CHECK(parse("hello world", &o) == FB_SDP_BAD, "garbage");
  CHECK(parse("v=0\r\n", &o) == FB_SDP_NO_AUDIO, "no m-line: %s", err);
  CHECK(fb_sdp_parse_offer(CHROME, 200, &o, err, sizeof err) != FB_SDP_OK, "truncated");
  CHECK(fb_sdp_parse_offer(NULL, 0, &o, err, sizeof err) == FB_SDP_BAD, "NULL");
  char *nul = strdup(CHROME);
  nul[100] = '\0';
  CHECK(fb_sdp_parse_offer(nul, strlen(CHROME), &o, err, sizeof err) == FB_SDP_BAD &&
            strstr(err, "NUL"),
        "NUL inside: %s", err);
  free(nul);

  /* 64 KiB is the most accepted: the Chrome offer padded with a=x lines */
  size_t cap = FB_SDP_MAX_BYTES + 4096, n = strlen(CHROME);
  char *big = malloc(cap + 1);
  memcpy(big, CHROME, n);
  while (n + 12 <= FB_SDP_MAX_BYTES) n += (size_t)sprintf(big + n, "a=x-pad:%02d\r\n", 7);
  big[n] = '\0';
  CHECK(fb_sdp_parse_offer(big, n, &o, err, sizeof err) == FB_SDP_OK, "%zu bytes accepted: %s", n,
        err);
  while (n <= FB_SDP_MAX_BYTES) n += (size_t)sprintf(big + n, "a=x-pad:%02d\r\n", 7);
  CHECK(fb_sdp_parse_offer(big, n, &o, err, sizeof err) == FB_SDP_BAD && strstr(err, "bytes"),
        "%zu bytes refused: %s", n, err);
  free(big);

  /* too many m-lines */
  char *many = malloc(64 * 1024);
  n = (size_t)sprintf(many, "%s", CHROME);
  for (int i = 0; i < FB_SDP_MAX_MEDIA; i++)
    n += (size_t)sprintf(many + n, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v%d\r\n", i);
  CHECK(parse(many, &o) == FB_SDP_BAD && strstr(err, "m-lines"), "too many m-lines: %s", err);
  free(many);
}

/* Every prefix, then random byte mutations: never a crash; whatever parses
 * must yield an answer that GstSDP reads back. */
static void test_fuzz(void) {
  fb_sdp_offer o;
  fb_webrtc_answer a = our_answer();
  size_t len = strlen(CHROME);
  int ok = 0;
  for (size_t i = 0; i <= len; i++)
    if (fb_sdp_parse_offer(CHROME, i, &o, err, sizeof err) == FB_SDP_OK) ok++;
  CHECK(ok >= 1, "the whole offer (and perhaps some prefixes) parse: %d", ok);

  srand(12345);
  char *buf = malloc(2 * len + 64);
  int parsed = 0, answered = 0;
  for (int iter = 0; iter < 20000; iter++) {
    const char *src = (iter & 1) ? CHROME : MULTI;
    size_t n = strlen(src);
    memcpy(buf, src, n);
    int edits = 1 + rand() % 8;
    for (int e = 0; e < edits; e++) {
      size_t at = (size_t)rand() % n;
      switch (rand() % 4) {
      case 0: buf[at] = (char)(rand() % 256); break; /* flip */
      case 1:
        memmove(buf + at, buf + at + 1, n - at - 1);
        n--;
        break; /* delete */
      case 2:  /* insert a separator or a random byte */
        if (n < 2 * len + 32) {
          memmove(buf + at + 1, buf + at, n - at);
          buf[at] = "\r\n: /=0"[rand() % 7];
          n++;
        }
        break;
      case 3: n = at + 1; break; /* truncate */
      }
      if (n < 2) n = 2;
    }
    if (fb_sdp_parse_offer(buf, n, &o, err, sizeof err) == FB_SDP_OK) {
      parsed++;
      char *ans = fb_sdp_build_answer(&o, &a, iter & 2, err, sizeof err);
      GstSDPMessage *msg = NULL;
      if (ans && gst_sdp_message_new_from_text(ans, &msg) == GST_SDP_OK && msg &&
          gst_sdp_message_medias_len(msg) == (guint)o.n_media)
        answered++;
      if (msg) gst_sdp_message_free(msg);
      free(ans);
    }
  }
  free(buf);
  printf("fuzz: %d of 20000 mutated offers parsed, %d answered\n", parsed, answered);
  CHECK(parsed == answered, "every accepted offer gets a well-formed answer (%d/%d)", answered,
        parsed);
}

/* Fuzzer finding: a short malformed line at the end of a buffer that is not
 * NUL-terminated was quoted with %.20s, reading past the buffer. */
static void test_short_malformed_tail(void) {
  const char text[] = {'v', '=', '0', '\n', 'a', '}', 'i', 'c', 'i', 't', 'e'};
  char *heap = malloc(sizeof text); /* exact size: ASan sees any over-read */
  memcpy(heap, text, sizeof text);
  fb_sdp_offer o;
  char err[256];
  CHECK(fb_sdp_parse_offer(heap, sizeof text, &o, err, sizeof err) != FB_SDP_OK &&
            strstr(err, "a}icite") != NULL,
        "short malformed tail refused and quoted exactly: %s", err);
  free(heap);
}

int main(void) {
  test_short_malformed_tail();
  test_chrome();
  test_directions();
  test_multi();
  test_refusals();
  test_fuzz();
  return CHECK_DONE();
}
