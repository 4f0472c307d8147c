/*
 * test_quality_flow — the chair and a delegate with a poor connection, end to
 * end with real media: a WebRTC client (ICE, DTLS, SRTP) speaks a tone; the
 * chair is a WebSocket client. The delegate's uplink loses a quarter of its
 * packets: its score falls, the console is told it is flagged; the chair cuts
 * it (barred, mic check continues: still scored, never mixed); the loss stops:
 * the console is told it has recovered; the chair allows it and it can ask for
 * the floor again. Every chair action is in the SQLite audit log.
 */
#define _GNU_SOURCE /* strcasestr in ws_client.h */
#include <jansson.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "util/clock.h"
#include "util/log.h"
#include "check.h"
#include "client/rtc_build.h"
#include "client/rtc_client.h"
#include "codecs/opus_codec.h"
#include "codecs/synth.h"
#include "signalling/server.h"
#include "signalling/token.h"
#include "ws_client.h"
#include "chair_client.h"
#include "test_config.h"

#define SECRET "quality-flow-secret-0123456789"
#define MEETING "qf"
#define DELEGATE "imp-1"

static ws *join(const char *id, fb_role role) {
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", MEETING);
  snprintf(t.delegate, sizeof t.delegate, "%s", id);
  snprintf(t.name, sizeof t.name, "Delegate %s", id);
  t.role = role;
  t.exp = time(NULL) + 600;
  char tok[FB_TOKEN_MAX + 1];
  if (fb_token_mint(SECRET, &t, tok, sizeof tok) < 0) return NULL;
  ws *w = ws_open();
  if (!w) return NULL;
  sendj(w, json_pack("{s:s, s:s}", "type", "join", "token", tok));
  json_t *j = wait_for(w, "joined", NULL, NULL);
  if (!j) {
    ws_close(w);
    return NULL;
  }
  json_decref(j);
  return w;
}

static void line_value(const char *sdp, const char *prefix, char *out, size_t len) {
  const char *p = strstr(sdp, prefix);
  out[0] = 0;
  if (!p) return;
  p += strlen(prefix);
  size_t n = strcspn(p, "\r\n");
  if (n >= len) n = len - 1;
  memcpy(out, p, n);
  out[n] = 0;
}

/* the media loop state */
typedef struct {
  fb_rtc_client *c;
  fb_encoder *enc;
  fb_tone tone;
  int loss_pct; /* drop this share of the uplink */
  unsigned rng;
} speaker;

/* Run the client and the chair's socket for ms; return the last quality
 * entry of DELEGATE (owned) and whether its flagged/recovered flags were
 * ever seen true. */
static json_t *run(speaker *sp, ws *chair, int ms, int *flagged, int *recovered) {
  uint64_t t = fb_now_ns(), end = t + (uint64_t)ms * 1000000ull;
  json_t *last = NULL;
  while (t < end) {
    float pcm[FB_FRAME];
    uint8_t opus[FB_MAX_OPUS], pkt[FB_RTC_BUILD_MAX];
    fb_tone_fill(&sp->tone, pcm, FB_FRAME);
    int len = fb_encoder_encode(sp->enc, pcm, opus, sizeof opus);
    if (fb_rtc_client_state(sp->c) == FB_RTC_CONNECTED && len > 0) {
      int n = fb_rtc_client_build_opus(sp->c, opus, len, 30, pkt, sizeof pkt);
      sp->rng = sp->rng * 1103515245u + 12345u;
      if (n > 0 && (int)((sp->rng >> 16) % 100) >= sp->loss_pct)
        fb_rtc_client_send_raw(sp->c, pkt, (size_t)n);
    }
    t += FB_TICK_NS;
    for (;;) {
      uint64_t now = fb_now_ns();
      if (now >= t) break;
      struct pollfd pfd = {.fd = fb_rtc_client_fd(sp->c), .events = POLLIN};
      poll(&pfd, 1, (int)((t - now) / 1000000) + 1);
      now = fb_now_ns();
      if (pfd.revents & POLLIN) fb_rtc_client_on_readable(sp->c, now);
      fb_rtc_client_poll(sp->c, now);
      json_t *j;
      while ((j = ws_json_any(chair, 0)) != NULL) {
        const char *type = str(j, "type");
        if (strcmp(type, "quality") == 0) {
          json_t *arr = json_object_get(j, "participants");
          size_t i;
          json_t *e;
          json_array_foreach(arr, i, e) {
            if (strcmp(str(e, "delegate"), DELEGATE) != 0) continue;
            if (json_is_true(json_object_get(e, "flagged"))) *flagged = 1;
            if (json_is_true(json_object_get(e, "recovered"))) *recovered = 1;
            if (last) json_decref(last);
            last = json_incref(e);
          }
        } else if (strcmp(type, "roster") == 0) {
          json_t *e = roster_entry(j, DELEGATE);
          if (e && json_is_true(json_object_get(e, "flagged"))) *flagged = 1;
          if (e && json_is_true(json_object_get(e, "recovered"))) *recovered = 1;
        }
        json_decref(j);
      }
    }
  }
  return last;
}

static int audit_count(const char *db, const char *action) {
  sqlite3 *h = NULL;
  int n = -1;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM audit WHERE action = ? AND target = ?", -1, &st,
                           NULL) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, DELEGATE, -1, SQLITE_STATIC);
      if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return n;
}

int main(void) {
  char dir[] = "/tmp/fb-quality-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char db[128];
  snprintf(db, sizeof db, "%s/meeting.db", dir);
  fb_log_set_level(FB_LOG_WARN);
  fb_config *cfg = test_config_new(dir, MEETING, SECRET);
  snprintf(cfg->store_path, sizeof cfg->store_path, "%s", db);
  cfg->floor_min_mos = 3.6;
  cfg->floor_max_loss_pct = 8;
  cfg->floor_flag_after_ms = 1500;
  cfg->floor_recover_after_ms = 1500;
  char err[512];
  fb_bridge *b = fb_bridge_new(cfg, err, sizeof err);
  fb_signalling *sg = b ? fb_signalling_start(cfg, b, err, sizeof err) : NULL;
  CHECK(sg != NULL, "bridge and signalling: %s", err);
  if (!sg) return CHECK_DONE();
  port = fb_signalling_port(sg);

  ws *chair = join("chair-1", FB_ROLE_CHAIR);
  ws *del = join(DELEGATE, FB_ROLE_DELEGATE);
  CHECK(chair && del, "chair and delegate joined");
  fb_rtc_client_ctx *ctx = fb_rtc_client_ctx_new(err, sizeof err);
  fb_rtc_client *c = ctx ? fb_rtc_client_new(ctx, "127.0.0.1", err, sizeof err) : NULL;
  CHECK(c != NULL, "client: %s", err);
  if (!chair || !del || !c) return CHECK_DONE();

  char offer[4096];
  snprintf(offer, sizeof offer,
           "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
           "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:actpass\r\n"
           "a=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n",
           fb_rtc_client_ufrag(c), fb_rtc_client_pwd(c), fb_rtc_client_ctx_fingerprint(ctx));
  sendj(del, json_pack("{s:s, s:s}", "type", "offer", "sdp", offer));
  json_t *ans = wait_for(del, "answer", NULL, NULL);
  CHECK(ans != NULL, "answer received");
  if (!ans) return CHECK_DONE();
  const char *sdp = str(ans, "sdp");
  char ufrag[64], pwd[64], fp[160], cand[256], ip[64] = "127.0.0.1";
  int cport = 0;
  line_value(sdp, "a=ice-ufrag:", ufrag, sizeof ufrag);
  line_value(sdp, "a=ice-pwd:", pwd, sizeof pwd);
  line_value(sdp, "a=fingerprint:", fp, sizeof fp);
  line_value(sdp, "a=candidate:", cand, sizeof cand);
  sscanf(cand, "%*s %*s %*s %*s %63s %d", ip, &cport);
  json_decref(ans);
  CHECK(fb_rtc_client_set_remote(c, ip, cport, ufrag, pwd, fp, 111) == 0, "remote set (%s:%d)", ip,
        cport);

  speaker sp = {.c = c, .enc = fb_encoder_new(32000, 5, 1, 0), .rng = 7};
  fb_tone_init(&sp.tone, 1000, 0.3f);
  int flagged = 0, recovered = 0;
  json_t *q = run(&sp, chair, 1000, &flagged, &recovered);
  CHECK(fb_rtc_client_state(c) == FB_RTC_CONNECTED, "media connected");
  if (q) json_decref(q);

  act(del, "request_floor", NULL);
  act(chair, "grant", DELEGATE);
  CHECK(wait_you(del, "live", NULL), "the delegate has the floor");

  /* clean: scored well, not flagged */
  q = run(&sp, chair, 4000, &flagged, &recovered);
  CHECK(q && json_real_value(json_object_get(q, "mos")) > 3.8 && !flagged,
        "clean uplink: MOS %.2f, loss %.1f %%, not flagged",
        q ? json_real_value(json_object_get(q, "mos")) : 0,
        q ? json_real_value(json_object_get(q, "loss_pct")) : -1);
  if (q) json_decref(q);

  /* a quarter of the uplink lost: the console is told */
  sp.loss_pct = 25;
  q = run(&sp, chair, 7000, &flagged, &recovered);
  printf("impaired: MOS %.2f loss %.1f %% flagged %d\n",
         q ? json_real_value(json_object_get(q, "mos")) : 0,
         q ? json_real_value(json_object_get(q, "loss_pct")) : -1, flagged);
  CHECK(q && json_real_value(json_object_get(q, "loss_pct")) > 10, "loss measured");
  CHECK(flagged, "the console is told the speaker is flagged");
  if (q) json_decref(q);

  /* cut: barred, but the mic check keeps scoring it */
  sendj(chair,
        json_pack("{s:s, s:s, s:s}", "type", "cut", "delegate", DELEGATE, "reason", "poor audio"));
  CHECK(wait_you(del, "barred", NULL), "cut: the delegate is barred");
  q = run(&sp, chair, 3000, &flagged, &recovered);
  CHECK(q != NULL && !recovered, "barred on mic check: still scored, not recovered yet");
  if (q) json_decref(q);

  /* the connection improves: the console shows recovered */
  sp.loss_pct = 0;
  q = run(&sp, chair, 10000, &flagged, &recovered);
  printf("after the fix: MOS %.2f loss %.1f %% recovered %d\n",
         q ? json_real_value(json_object_get(q, "mos")) : 0,
         q ? json_real_value(json_object_get(q, "loss_pct")) : -1, recovered);
  CHECK(recovered, "the console is told the barred delegate has recovered");
  if (q) json_decref(q);

  act(chair, "allow", DELEGATE);
  CHECK(wait_you(del, "listening", NULL), "allowed: listening again");
  act(del, "request_floor", NULL);
  CHECK(wait_you(del, "queued", NULL), "and may ask for the floor");

  fb_rtc_client_free(c);
  fb_rtc_client_ctx_free(ctx);
  fb_encoder_free(sp.enc);
  ws_close(chair);
  ws_close(del);
  fb_signalling_stop(sg);
  fb_bridge_free(b);
  CHECK(
      audit_count(db, "grant") >= 1 && audit_count(db, "cut") == 1 && audit_count(db, "allow") == 1,
      "audit log: grant %d, cut %d, allow %d", audit_count(db, "grant"), audit_count(db, "cut"),
      audit_count(db, "allow"));
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "cleaned up");
  free(cfg);
  return CHECK_DONE();
}
