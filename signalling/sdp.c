/*
 * sdp.c — the offer/answer behind sdp.h.
 *
 * Design: GstSDPMessage does the line syntax (it is lenient: garbage parses
 * into an almost empty message), so everything that matters is checked here,
 * value by value, against what RFC 8839 (ICE), RFC 8122 (fingerprint),
 * RFC 5763 (setup), RFC 7587 (opus) and RFC 8285 (extmap) allow. Values are
 * copied into fixed arrays after their length is checked, so nothing in an
 * offer can overflow or be handed on unchecked (the ICE credentials end up in
 * STUN messages, the fingerprint in the DTLS check).
 *
 * The answer is built as a GstSDPMessage and printed with
 * gst_sdp_message_as_text, which writes CRLF line ends.
 */
#include "signalling/sdp.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <gst/sdp/gstsdpmessage.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define AUDIO_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

static fb_sdp_error fail(fb_sdp_error e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static fb_sdp_error fail(fb_sdp_error e, char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return e;
}

const char *fb_sdp_error_code(fb_sdp_error e) {
  switch (e) {
  case FB_SDP_OK: return "ok";
  case FB_SDP_BAD: return "bad_sdp";
  case FB_SDP_NO_AUDIO: return "no_audio";
  }
  return "bad_sdp";
}

/* Copy s into dst[size] when it fits; 0 or -1. */
static int copy(char *dst, size_t size, const char *s) {
  size_t n = strlen(s);
  if (n >= size) return -1;
  memcpy(dst, s, n + 1);
  return 0;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839), length in [min, max]. */
static int valid_ice(const char *s, size_t min, size_t max) {
  size_t n = strlen(s);
  if (n < min || n > max) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/') return 0;
  return 1;
}

/* RFC 5888 identification-tag: a token (RFC 4566), 1..63 characters here. */
static int valid_token(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > 63) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`{|}~", s[i])) return 0;
  return 1;
}

/* "sha-256 AB:CD:..." (32 hex pairs) into out as "sha-256 " + upper-case hex.
 * 1 on success, 0 when it is sha-256 but malformed, -1 for another algorithm. */
static int parse_fingerprint(const char *v, char *out, size_t outlen) {
  while (*v == ' ') v++;
  size_t alg = strcspn(v, " ");
  if (alg != 7 || strncasecmp(v, "sha-256", 7) != 0) return -1;
  const char *h = v + 7;
  while (*h == ' ') h++;
  if (strlen(h) != 95 || outlen < 8 + 96) return 0;
  strcpy(out, "sha-256 ");
  for (int i = 0; i < 95; i++) {
    char c = h[i];
    if (i % 3 == 2 ? c != ':' : !isxdigit((unsigned char)c)) return 0;
    out[8 + i] = (char)toupper((unsigned char)c);
  }
  out[8 + 95] = '\0';
  return 1;
}

/* Media-level attribute, else session-level; NULL when neither. */
static const char *attr(const GstSDPMessage *msg, const GstSDPMedia *m, const char *key) {
  const char *v = gst_sdp_media_get_attribute_val(m, key);
  return v ? v : gst_sdp_message_get_attribute_val(msg, key);
}

static int has_attr(const GstSDPMedia *m, const char *key) {
  return gst_sdp_media_get_attribute_val(m, key) != NULL;
}

/* Is pt one of the m-line's formats? */
static int has_format(const GstSDPMedia *m, int pt) {
  char want[16];
  snprintf(want, sizeof want, "%d", pt);
  for (guint i = 0; i < gst_sdp_media_formats_len(m); i++)
    if (strcmp(gst_sdp_media_get_format(m, i), want) == 0) return 1;
  return 0;
}

/* a=rtpmap:PT opus/48000/2 whose PT is on the m-line; -1 when none. */
static int find_opus(const GstSDPMedia *m) {
  for (guint i = 0;; i++) {
    const char *v = gst_sdp_media_get_attribute_val_n(m, "rtpmap", i);
    if (!v) return -1;
    char *end;
    long pt = strtol(v, &end, 10);
    if (end == v || *end != ' ' || pt < 0 || pt > 127) continue;
    while (*end == ' ') end++;
    if (strcasecmp(end, "opus/48000/2") == 0 && has_format(m, (int)pt)) return (int)pt;
  }
}

/* a=extmap:ID[/direction] URI [attributes]: ID of the audio level, 0 if none. */
static int find_audio_level(const GstSDPMessage *msg, const GstSDPMedia *m) {
  for (int level = 0; level < 2; level++)
    for (guint i = 0;; i++) {
      const char *v = level == 0 ? gst_sdp_media_get_attribute_val_n(m, "extmap", i)
                                 : gst_sdp_message_get_attribute_val_n(msg, "extmap", i);
      if (!v) break;
      char *end;
      long id = strtol(v, &end, 10);
      if (end == v || id < 1 || id > 255) continue;
      if (*end == '/') end += strcspn(end, " ");
      if (*end != ' ') continue;
      while (*end == ' ') end++;
      size_t n = strcspn(end, " ");
      if (n == strlen(AUDIO_LEVEL_URI) && strncmp(end, AUDIO_LEVEL_URI, n) == 0) return (int)id;
    }
  return 0;
}

static const char *direction_of(const GstSDPMessage *msg, const GstSDPMedia *m) {
  static const char *dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
  for (int i = 0; i < 4; i++)
    if (has_attr(m, dirs[i])) return dirs[i];
  for (int i = 0; i < 4; i++)
    if (gst_sdp_message_get_attribute_val(msg, dirs[i])) return dirs[i];
  return "sendrecv";
}

/* Everything once the text has parsed; msg is freed by the caller. */
static fb_sdp_error check_offer(const GstSDPMessage *msg, fb_sdp_offer *o, char *err,
                                size_t errlen) {
  const char *version = gst_sdp_message_get_version(msg);
  if (!version || strcmp(version, "0") != 0)
    return fail(FB_SDP_BAD, err, errlen, "not an SDP offer (no v=0 line)");
  guint n = gst_sdp_message_medias_len(msg);
  if (n > FB_SDP_MAX_MEDIA)
    return fail(FB_SDP_BAD, err, errlen, "%u m-lines, at most %d accepted", n, FB_SDP_MAX_MEDIA);
  if (n == 0) return fail(FB_SDP_NO_AUDIO, err, errlen, "the offer has no m-line");
  o->audio_index = -1;
  o->n_media = (int)n;
  for (guint i = 0; i < n; i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
    fb_sdp_media *d = &o->media[i];
    const char *kind = gst_sdp_media_get_media(m), *proto = gst_sdp_media_get_proto(m);
    const char *fmt = gst_sdp_media_formats_len(m) ? gst_sdp_media_get_format(m, 0) : NULL;
    const char *mid = gst_sdp_media_get_attribute_val(m, "mid");
    if (!kind || !proto || !fmt || !valid_token(kind) || copy(d->kind, sizeof d->kind, kind) ||
        copy(d->proto, sizeof d->proto, proto) || copy(d->format, sizeof d->format, fmt) ||
        strspn(proto, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_-.") !=
            strlen(proto) ||
        !valid_token(fmt))
      return fail(FB_SDP_BAD, err, errlen, "m-line %u is malformed", i + 1);
    if (mid && (!valid_token(mid) || copy(d->mid, sizeof d->mid, mid)))
      return fail(FB_SDP_BAD, err, errlen, "m-line %u: bad a=mid", i + 1);
    for (guint j = 0; mid && j < i; j++)
      if (strcmp(o->media[j].mid, mid) == 0)
        return fail(FB_SDP_BAD, err, errlen, "m-line %u: duplicate a=mid:%s", i + 1, mid);
    if (o->audio_index < 0 && strcmp(kind, "audio") == 0 && gst_sdp_media_get_port(m) != 0)
      o->audio_index = (int)i;
  }
  if (o->audio_index < 0) return fail(FB_SDP_NO_AUDIO, err, errlen, "the offer has no audio");
  const GstSDPMedia *m = gst_sdp_message_get_media(msg, (guint)o->audio_index);
  if (!strstr(gst_sdp_media_get_proto(m), "SAVPF"))
    return fail(FB_SDP_BAD, err, errlen, "audio is not DTLS-SRTP (%s)", gst_sdp_media_get_proto(m));

  const char *ufrag = attr(msg, m, "ice-ufrag"), *pwd = attr(msg, m, "ice-pwd");
  if (!ufrag || !pwd) return fail(FB_SDP_BAD, err, errlen, "no ICE credentials (a=ice-ufrag/pwd)");
  if (!valid_ice(ufrag, 4, 256) || !valid_ice(pwd, 22, 256))
    return fail(FB_SDP_BAD, err, errlen, "malformed ICE credentials");
  strcpy(o->ice_ufrag, ufrag); /* lengths checked above */
  strcpy(o->ice_pwd, pwd);

  int fp = -1, any = 0;
  for (int level = 0; level < 2 && fp != 1; level++)
    for (guint i = 0; fp != 1; i++) {
      const char *v = level == 0 ? gst_sdp_media_get_attribute_val_n(m, "fingerprint", i)
                                 : gst_sdp_message_get_attribute_val_n(msg, "fingerprint", i);
      if (!v) break;
      any = 1;
      fp = parse_fingerprint(v, o->fingerprint, sizeof o->fingerprint);
      if (fp == 0) return fail(FB_SDP_BAD, err, errlen, "malformed sha-256 fingerprint");
    }
  if (fp != 1)
    return fail(
        FB_SDP_BAD, err, errlen,
        any ? "only sha-256 fingerprints are accepted" : "no DTLS fingerprint (a=fingerprint)");

  const char *setup = attr(msg, m, "setup");
  if (!setup) setup = "actpass";
  if (strcmp(setup, "passive") == 0)
    return fail(FB_SDP_BAD, err, errlen,
                "a=setup:passive: the bridge is passive (DTLS server), "
                "offer actpass or active");
  if (strcmp(setup, "actpass") != 0 && strcmp(setup, "active") != 0)
    return fail(FB_SDP_BAD, err, errlen, "a=setup must be actpass or active");
  strcpy(o->setup, setup);

  if (!has_attr(m, "rtcp-mux")) return fail(FB_SDP_BAD, err, errlen, "a=rtcp-mux is required");
  o->rtcp_mux = 1;
  strcpy(o->mid, o->media[o->audio_index].mid);
  strcpy(o->direction, direction_of(msg, m));
  o->opus_pt = find_opus(m);
  if (o->opus_pt < 0) return fail(FB_SDP_NO_AUDIO, err, errlen, "the audio offers no opus/48000/2");
  o->audio_level_ext = find_audio_level(msg, m);
  return FB_SDP_OK;
}

fb_sdp_error fb_sdp_parse_offer(const char *text, size_t len, fb_sdp_offer *out, char *err,
                                size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!text || len == 0) return fail(FB_SDP_BAD, err, errlen, "empty SDP");
  if (len > FB_SDP_MAX_BYTES)
    return fail(FB_SDP_BAD, err, errlen, "SDP of %zu bytes, at most %d", len, FB_SDP_MAX_BYTES);
  if (memchr(text, '\0', len)) return fail(FB_SDP_BAD, err, errlen, "SDP contains a NUL byte");
  if (len < 4 || strncmp(text, "v=0", 3) != 0 || (text[3] != '\r' && text[3] != '\n'))
    return fail(FB_SDP_BAD, err, errlen, "not an SDP offer (must start with v=0)");
  for (size_t i = 0; i < len;) { /* every line is "<letter>=..." (RFC 4566 5) */
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - text) : len, n = end - i;
    if (n && text[end - 1] == '\r') n--;
    if (n && (n < 2 || text[i] < 'a' || text[i] > 'z' || text[i + 1] != '='))
      return fail(FB_SDP_BAD, err, errlen, "malformed SDP line %.*s", (int)(n < 20 ? n : 20),
                  text + i);
    i = end + 1;
  }
  char *copy_text = g_strndup(text, len);
  GstSDPMessage *msg = NULL;
  fb_sdp_error rc;
  if (gst_sdp_message_new_from_text(copy_text, &msg) != GST_SDP_OK || !msg)
    rc = fail(FB_SDP_BAD, err, errlen, "unparseable SDP");
  else
    rc = check_offer(msg, out, err, errlen);
  if (msg) gst_sdp_message_free(msg);
  g_free(copy_text);
  if (rc != FB_SDP_OK) memset(out, 0, sizeof *out);
  return rc;
}

void fb_sdp_offer_to_webrtc(const fb_sdp_offer *o, fb_webrtc_offer *w) {
  w->ice_ufrag = o->ice_ufrag;
  w->ice_pwd = o->ice_pwd;
  w->fingerprint = o->fingerprint;
  w->opus_pt = o->opus_pt;
  w->audio_level_ext = o->audio_level_ext;
}

/* ---- the answer ---------------------------------------------------------- */

static void add(GstSDPMedia *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(GstSDPMedia *m, const char *key, const char *fmt, ...) {
  char v[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v, sizeof v, fmt, ap);
  va_end(ap);
  gst_sdp_media_add_attribute(m, key, v);
}

/* Our direction: what we want (always send; receive when uplink) within what
 * the offer allows (RFC 3264 6.1). */
static const char *answer_direction(const char *offered, int uplink) {
  int peer_sends = !strcmp(offered, "sendrecv") || !strcmp(offered, "sendonly");
  int peer_recvs = !strcmp(offered, "sendrecv") || !strcmp(offered, "recvonly");
  int send = peer_recvs, recv = uplink && peer_sends;
  return send && recv ? "sendrecv" : send ? "sendonly" : recv ? "recvonly" : "inactive";
}

static unsigned long long session_id(void) {
  unsigned long long id = 0;
  if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
    id = (unsigned long long)time(NULL) * 2654435761ULL;
  return (id & 0x3fffffffffffffffULL) | 1; /* 62 bits, never 0 (RFC 3264 5) */
}

char *fb_sdp_build_answer(const fb_sdp_offer *offer, const fb_webrtc_answer *ans, int uplink,
                          char *err, size_t errlen) {
  unsigned char addr[16];
  const char *addrtype = inet_pton(AF_INET, ans->candidate_ip, addr) == 1    ? "IP4"
                         : inet_pton(AF_INET6, ans->candidate_ip, addr) == 1 ? "IP6"
                                                                             : NULL;
  char fp[128];
  if (!addrtype) return fail(FB_SDP_BAD, err, errlen, "bad candidate address"), NULL;
  if (ans->candidate_port < 1 || ans->candidate_port > 65535)
    return fail(FB_SDP_BAD, err, errlen, "bad candidate port %d", ans->candidate_port), NULL;
  if (!valid_ice(ans->ice_ufrag, 4, 256) || !valid_ice(ans->ice_pwd, 22, 256))
    return fail(FB_SDP_BAD, err, errlen, "bad ICE credentials"), NULL;
  if (parse_fingerprint(ans->fingerprint, fp, sizeof fp) != 1)
    return fail(FB_SDP_BAD, err, errlen, "bad fingerprint"), NULL;
  if (offer->audio_index < 0 || offer->audio_index >= offer->n_media || offer->opus_pt < 0)
    return fail(FB_SDP_BAD, err, errlen, "no parsed offer"), NULL;

  GstSDPMessage *msg;
  gst_sdp_message_new(&msg);
  char num[32];
  snprintf(num, sizeof num, "%llu", session_id());
  gst_sdp_message_set_version(msg, "0");
  gst_sdp_message_set_origin(msg, "-", num, "2", "IN", addrtype, ans->candidate_ip);
  gst_sdp_message_set_session_name(msg, "floorbridge");
  gst_sdp_message_add_time(msg, "0", "0", NULL);
  gst_sdp_message_add_attribute(msg, "ice-lite", NULL);
  if (offer->mid[0]) {
    char group[80];
    snprintf(group, sizeof group, "BUNDLE %s", offer->mid);
    gst_sdp_message_add_attribute(msg, "group", group);
  }
  gst_sdp_message_add_attribute(msg, "msid-semantic", " WMS floorbridge");

  for (int i = 0; i < offer->n_media; i++) {
    const fb_sdp_media *om = &offer->media[i];
    GstSDPMedia m;
    memset(&m, 0, sizeof m); /* gst_sdp_media_init frees what it finds */
    gst_sdp_media_init(&m);
    gst_sdp_media_set_media(&m, om->kind);
    gst_sdp_media_set_proto(&m, om->proto);
    if (i != offer->audio_index) { /* rejected (RFC 3264 6): port 0, same type and proto */
      gst_sdp_media_set_port_info(&m, 0, 1);
      gst_sdp_media_add_format(&m, om->format);
      gst_sdp_media_add_connection(&m, "IN", "IP4", "0.0.0.0", 0, 0);
      if (om->mid[0]) gst_sdp_media_add_attribute(&m, "mid", om->mid);
      if (strcmp(om->kind, "application") != 0) gst_sdp_media_add_attribute(&m, "inactive", NULL);
      gst_sdp_message_add_media(msg, &m); /* takes the contents */
      continue;
    }
    const char *dir = answer_direction(offer->direction, uplink);
    int pt = offer->opus_pt;
    snprintf(num, sizeof num, "%d", pt);
    gst_sdp_media_set_port_info(&m, (guint)ans->candidate_port, 1);
    gst_sdp_media_add_format(&m, num);
    gst_sdp_media_add_connection(&m, "IN", addrtype, ans->candidate_ip, 0, 0);
    if (offer->mid[0]) gst_sdp_media_add_attribute(&m, "mid", offer->mid);
    gst_sdp_media_add_attribute(&m, "ice-ufrag", ans->ice_ufrag);
    gst_sdp_media_add_attribute(&m, "ice-pwd", ans->ice_pwd);
    gst_sdp_media_add_attribute(&m, "fingerprint", fp);
    gst_sdp_media_add_attribute(&m, "setup", "passive");
    gst_sdp_media_add_attribute(&m, "rtcp-mux", NULL);
    add(&m, "rtpmap", "%d opus/48000/2", pt);
    add(&m, "fmtp", "%d minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0", pt);
    if (offer->audio_level_ext) add(&m, "extmap", "%d " AUDIO_LEVEL_URI, offer->audio_level_ext);
    gst_sdp_media_add_attribute(&m, dir, NULL);
    if (strstr(dir, "send")) {
      gst_sdp_media_add_attribute(&m, "msid", "floorbridge floorbridge-mix");
      add(&m, "ssrc", "%u cname:floorbridge", (unsigned)ans->ssrc);
      add(&m, "ssrc", "%u msid:floorbridge floorbridge-mix", (unsigned)ans->ssrc);
    }
    add(&m, "candidate", "1 1 udp 2130706431 %s %d typ host", ans->candidate_ip,
        ans->candidate_port);
    gst_sdp_media_add_attribute(&m, "end-of-candidates", NULL);
    gst_sdp_message_add_media(msg, &m);
  }
  gchar *text = gst_sdp_message_as_text(msg);
  gst_sdp_message_free(msg);
  char *out = text ? strdup(text) : NULL;
  g_free(text);
  if (!out) fail(FB_SDP_BAD, err, errlen, "out of memory");
  return out;
}
