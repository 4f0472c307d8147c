/*
 * test_chair_protocol.c — the chair's floor control and the chat over the
 * real WebSocket server (signalling/PROTOCOL.md, "Floor control" and "Chat"):
 * a real bridge (media port 0, a tone floor), the signalling server on an
 * ephemeral port with a SQLite store in a temp dir, and four clients from
 * tests/ws_client.h: a chair, delegates d1 and d2, an observer.
 *
 * Checks, in meeting order: the first snapshot after joined (mode, you,
 * queue, roster); requests in queue order; a delegate's grant refused
 * not_chair with the state unchanged and an audit row in the database;
 * grant -> "you" live and roster live, the bridge decoding the uplink; chair
 * mute, self-unmute refused chair_muted, mute_all; cut with a reason ->
 * barred, request refused barred, /metrics; a reconnect with a new token is
 * still barred, and its new offer gets the mic-check media at once; quality
 * to chairs only; allow; a timed turn; queue_move/queue_remove; webcast mode
 * and sessions; chat to all/chair, every chat refusal, the rate limit and the
 * policy; /webcast/ HLS files; a restart on the same database (bar, queue,
 * session and mode survive); `floorbridge report` speaking time within
 * +-50 ms of the measured turn (the turn is timed to a multiple of 100 ms, as
 * the report's CSV has tenths of a second). FB_TEST_DEBUG=1 logs at debug.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "util/log.h"
#include "check.h"
#include "signalling/server.h"
#include "signalling/store.h"
#include "signalling/token.h"
#include "ws_client.h"
#include "chair_client.h"
#include "test_config.h"

#define SECRET "chair-test-secret-0123456789abcdef"
#define MEETING "sg12-wp1"

static char dir[64], db[128];

static const char *OFFER =
    "v=0\r\no=- 4215775240449105457 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=msid-semantic: WMS s1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Jq3c\r\na=ice-pwd:8mJbJ4Vn0m9ZpQ2k3xYhL1aT\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
    "43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=msid:s1 t1\r\n"
    "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=ssrc:3735928559 cname:kZ3e8yU5sJ4Qf1Lw\r\n";

static int mint_serial;

/* Join as id with a fresh token; speak: the token's "speak" claim (the
 * floor is then given on joining). */
static json_t *join_as_speak(ws *w, const char *id, fb_role role, int speak) {
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", MEETING);
  snprintf(t.delegate, sizeof t.delegate, "%s", id);
  snprintf(t.name, sizeof t.name, "Delegate %s", id);
  snprintf(t.jti, sizeof t.jti, "jti-%d", ++mint_serial); /* every token is a new one */
  t.role = role;
  t.speak = speak;
  t.exp = time(NULL) + 600;
  char tok[FB_TOKEN_MAX + 1];
  if (fb_token_mint(SECRET, &t, tok, sizeof tok) < 0) return NULL;
  sendj(w, json_pack("{s:s, s:s}", "type", "join", "token", tok));
  json_t *j = ws_json_any(w, WAIT_MS);
  if (!j || strcmp(str(j, "type"), "joined") != 0) {
    fprintf(stderr, "join %s: got %s %s\n", id, str(j, "type"), str(j, "code"));
    json_decref(j);
    return NULL;
  }
  return j;
}

static json_t *join_as(ws *w, const char *id, fb_role role) {
  return join_as_speak(w, id, role, 0);
}

/* ---- the bridge, the database, HTTP --------------------------------------- */

static int decoding(fb_bridge *b) {
  static char buf[65536];
  fb_bridge_metrics(b, buf, sizeof buf);
  return (int)metric(buf, "floorbridge_media_participants{media=\"decoding\"}");
}

static long long db_int(const char *sql) {
  sqlite3 *h;
  long long v = -1;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int64(st, 0);
    else
      fprintf(stderr, "sqlite: %s: %s\n", sql, sqlite3_errmsg(h));
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return v;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* ---- the meeting ----------------------------------------------------------- */

typedef struct {
  fb_config *cfg;
  fb_bridge *b;
  fb_signalling *sg;
} rig;

static int rig_start(rig *r) {
  char err[512];
  r->b = fb_bridge_new(r->cfg, err, sizeof err);
  CHECK(r->b != NULL, "bridge: %s", err);
  if (!r->b) return -1;
  r->sg = fb_signalling_start(r->cfg, r->b, err, sizeof err);
  CHECK(r->sg != NULL, "signalling: %s", err);
  if (!r->sg) return -1;
  port = fb_signalling_port(r->sg);
  return 0;
}

static void rig_stop(rig *r) {
  fb_signalling_stop(r->sg);
  if (r->b) fb_bridge_free(r->b);
  r->sg = NULL;
  r->b = NULL;
}

static ws *chair, *d1, *d2, *obs;
static double measured_turn_ms;

static void test_join_snapshot(void) {
  chair = ws_open(), d1 = ws_open(), d2 = ws_open(), obs = ws_open();
  CHECK(chair && d1 && d2 && obs, "four connections");
  json_t *j = join_as(chair, "ch", FB_ROLE_CHAIR);
  CHECK(j && json_is_true(json_object_get(j, "may_request")) &&
            strcmp(str(j, "state"), "listening") == 0,
        "chair joined");
  json_decref(j);
  /* the first snapshot, right after joined, in this order */
  static const char *order[] = {"mode", "chat_policy", "you", "queue", "roster"};
  for (int i = 0; i < 5; i++) {
    j = ws_json_any(chair, WAIT_MS);
    CHECK(j && strcmp(str(j, "type"), order[i]) == 0, "snapshot %d: want %s, got %s", i, order[i],
          str(j, "type"));
    if (i == 0) {
      json_t *s = json_object_get(j, "session");
      CHECK(strcmp(str(j, "mode"), "interactive") == 0 &&
                json_integer_value(json_object_get(s, "index")) == 1 &&
                strcmp(str(s, "name"), "Working party 1") == 0 &&
                json_array_size(json_object_get(j, "sessions")) == 3 &&
                strcmp(str(json_array_get(json_object_get(j, "sessions"), 0), "mode"), "webcast") ==
                    0,
            "mode: the start session, interactive");
    }
    if (i == 1) CHECK(json_is_true(json_object_get(j, "delegates_to_all")), "chat policy");
    if (i == 4)
      CHECK(roster_entry(j, "ch") && !roster_entry(j, "auto") &&
                json_is_true(json_object_get(j, "full")),
            "chair's roster: the full list");
    json_decref(j);
  }
  j = join_as(d1, "d1", FB_ROLE_DELEGATE);
  CHECK(j && json_is_false(json_object_get(j, "live")), "d1 joined, not live");
  json_decref(j);
  CHECK(wait_you(d1, "listening", NULL), "d1: you listening");
  j = wait_for(d1, "roster", NULL, NULL);
  CHECK(j && !json_object_get(j, "participants") &&
            json_integer_value(json_object_get(j, "count")) == 2,
        "delegates get a count: %lld", (long long)json_integer_value(json_object_get(j, "count")));
  json_decref(j);
  /* after the first, a chair gets deltas: d1's join is d1's entry alone */
  while ((j = wait_for(chair, "roster", NULL, NULL)) && !roster_entry(j, "d1")) json_decref(j);
  CHECK(j && json_is_false(json_object_get(j, "full")) &&
            json_array_size(json_object_get(j, "participants")) == 1 &&
            json_integer_value(json_object_get(j, "count")) == 2,
        "a join: the chair gets a delta with the one entry that changed");
  json_decref(j);
  json_decref(join_as(d2, "d2", FB_ROLE_DELEGATE));
  json_decref(join_as(obs, "ob", FB_ROLE_OBSERVER));
  CHECK(wait_roster(chair, "ob", "listening"), "observer in the chair's roster");
  /* offers: the delegates' participants exist in the bridge, listening */
  sendj(d1, json_pack("{s:s, s:s}", "type", "offer", "sdp", OFFER));
  j = wait_for(d1, "answer", NULL, NULL);
  CHECK(j != NULL, "d1 answered");
  json_decref(j);
  sendj(d2, json_pack("{s:s, s:s}", "type", "offer", "sdp", OFFER));
  j = wait_for(d2, "answer", NULL, NULL);
  CHECK(j != NULL, "d2 answered");
  json_decref(j);
}

static void test_queue_and_grant(fb_bridge *b) {
  json_t *j;
  act(d1, "request_floor", NULL);
  CHECK(wait_you(d1, "queued", &j) && json_integer_value(json_object_get(j, "queue_position")) == 1,
        "d1 queued first");
  json_decref(j);
  act(d2, "request_floor", NULL);
  CHECK(wait_you(d2, "queued", &j) && json_integer_value(json_object_get(j, "queue_position")) == 2,
        "d2 queued second");
  json_decref(j);
  CHECK(wait_queue(chair, "d1,d2", &j), "the chair sees the queue in request order");
  json_t *e0 = json_array_get(json_object_get(j, "entries"), 0),
         *e1 = json_array_get(json_object_get(j, "entries"), 1);
  CHECK(strcmp(str(e0, "name"), "Delegate d1") == 0 &&
            json_integer_value(json_object_get(e0, "since_ms")) <
                json_integer_value(json_object_get(e1, "since_ms")),
        "queue entries carry names and request times");
  json_decref(j);
  CHECK(wait_queue(obs, "d1,d2", NULL), "the observer sees the queue too");
  act(d1, "request_floor", NULL);
  expect_refusal(d1, "already_queued", "request twice");
  act(obs, "request_floor", NULL);
  expect_refusal(obs, "not_delegate", "observer request");

  /* a delegate plays chair */
  act(d1, "grant", "d2");
  expect_refusal(d1, "not_chair", "delegate grants");
  CHECK(count_before_pong(d2, "you") == 0, "d2's state unchanged");
  CHECK(db_int("SELECT count(*) FROM audit WHERE actor = 'd1' AND action = 'refused:grant' AND "
               "target = 'd2' AND detail = 'not_chair'") == 1,
        "the refused grant is in the audit log");

  int before = decoding(b);
  act(chair, "grant", "d1");
  CHECK(wait_you(d1, "live", &j) && json_integer_value(json_object_get(j, "queue_position")) == 0 &&
            json_is_false(json_object_get(j, "chair_muted")),
        "d1: you live");
  json_decref(j);
  CHECK(wait_queue(chair, "d2", NULL), "queue: d2 left"); /* sent before the roster */
  CHECK(wait_roster(chair, "d1", "live"), "roster: d1 live");
  CHECK(decoding(b) == before + 1, "the bridge decodes d1's uplink (%d -> %d)", before,
        decoding(b));
  CHECK(db_int("SELECT count(*) FROM audit WHERE actor = 'ch' AND action = 'grant' AND "
               "target = 'd1'") == 1,
        "the grant is audited");
}

static void test_mute(void) {
  json_t *j;
  sendj(chair, json_pack("{s:s, s:s, s:b}", "type", "mute", "delegate", "d1", "on", 1));
  CHECK(wait_you(d1, "muted", &j) && json_is_true(json_object_get(j, "chair_muted")),
        "chair mute: d1 muted by the chair");
  json_decref(j);
  sendj(d1, json_pack("{s:s, s:b}", "type", "mute", "on", 0));
  expect_refusal(d1, "chair_muted", "self unmute of a chair mute");
  sendj(d1, json_pack("{s:s, s:s, s:b}", "type", "mute", "delegate", "d1", "on", 0));
  expect_refusal(d1, "not_chair", "a delegate unmutes through the chair's message");
  sendj(chair, json_pack("{s:s, s:s, s:b}", "type", "mute", "delegate", "d1", "on", 0));
  CHECK(wait_you(d1, "live", NULL), "chair unmute: live again");
  sendj(d1, json_pack("{s:s, s:b}", "type", "mute", "on", 1));
  CHECK(wait_you(d1, "muted", &j) && json_is_true(json_object_get(j, "self_muted")) &&
            json_is_false(json_object_get(j, "chair_muted")),
        "self mute");
  json_decref(j);
  sendj(d1, json_pack("{s:s, s:b}", "type", "mute", "on", 0));
  CHECK(wait_you(d1, "live", NULL), "self unmute");
  act(chair, "mute_all", NULL);
  CHECK(wait_you(d1, "muted", NULL), "mute_all");
  sendj(chair, json_pack("{s:s, s:s, s:b}", "type", "mute", "delegate", "d1", "on", 0));
  CHECK(wait_you(d1, "live", NULL), "unmuted after mute_all");
  sendj(d1, json_pack("{s:s}", "type", "mute"));
  expect_refusal(d1, "missing_field", "mute without on");
}

static void test_cut_and_reconnect(rig *r) {
  json_t *j;
  sendj(chair, json_pack("{s:s, s:s, s:s}", "type", "cut", "delegate", "d1", "reason", " "));
  expect_refusal(chair, "bad_argument", "cut without a reason");
  sendj(chair, json_pack("{s:s, s:s, s:s}", "type", "cut", "delegate", "d1", "reason",
                         "poor audio: échos"));
  CHECK(wait_you(d1, "barred", &j) && strcmp(str(j, "bar_reason"), "poor audio: échos") == 0,
        "cut: barred with the reason ('%s')", str(j, "bar_reason"));
  json_decref(j);
  act(d1, "request_floor", NULL);
  expect_refusal(d1, "barred", "a barred delegate requests");
  CHECK(decoding(r->b) == 1, "barred: still decoded (mic check)");

  char type[128], body[1 << 16];
  /* The bridge may be only milliseconds old here: wait (bounded) for its
   * first tick rather than assume one has run. */
  int st = 0;
  for (int i = 0; i < 250; i++) {
    st = http_head_body("/metrics", type, sizeof type, body, sizeof body);
    if (st != 200 || metric(body, "floorbridge_mixer_ticks_total") > 0) break;
    usleep(20000);
  }
  CHECK(st == 200 && strstr(type, "text/plain") && strstr(type, "version=0.0.4"), "/metrics: %d %s",
        st, type);
  CHECK(metric(body, "floorbridge_mixer_ticks_total") > 0,
        "/metrics has the mixer's ticks:\n%.600s", body);
  CHECK(metric(body, "floorbridge_participants{role=\"delegate\",state=\"barred\"}") == 1 &&
            metric(body, "floorbridge_participants{role=\"chair\",state=\"listening\"}") == 1 &&
            metric(body, "floorbridge_participants{role=\"observer\",state=\"listening\"}") == 1,
        "/metrics: one barred delegate");
  CHECK(metric(body, "floorbridge_connections") == 4 &&
            metric(body, "floorbridge_protocol_errors_total{code=\"not_chair\"}") >= 2 &&
            metric(body, "floorbridge_protocol_errors_total{code=\"barred\"}") == 1,
        "/metrics: connections and error codes");

  /* reconnect with a new token: still barred */
  ws_close(d1);
  CHECK(wait_roster(chair, "d1", "barred"), "roster after the disconnect");
  d1 = ws_open();
  j = join_as(d1, "d1", FB_ROLE_DELEGATE);
  CHECK(j && strcmp(str(j, "state"), "barred") == 0, "joined says barred");
  json_decref(j);
  CHECK(wait_you(d1, "barred", &j) && strcmp(str(j, "bar_reason"), "poor audio: échos") == 0,
        "you: still barred after the reconnect");
  json_decref(j);
  act(d1, "request_floor", NULL);
  expect_refusal(d1, "barred", "request after the reconnect");
  CHECK(decoding(r->b) == 0, "no participant before the new offer");
  sendj(d1, json_pack("{s:s, s:s}", "type", "offer", "sdp", OFFER));
  j = wait_for(d1, "answer", NULL, NULL);
  json_decref(j);
  CHECK(decoding(r->b) == 1, "the offer's participant gets the mic check at once");

  /* quality scores: to the chair, about once a second, for d1 (mic check) */
  json_t *p = NULL;
  while ((j = wait_for(chair, "quality", NULL, NULL))) {
    p = json_array_get(json_object_get(j, "participants"), 0);
    if (json_array_size(json_object_get(j, "participants")) == 1 &&
        strcmp(str(p, "delegate"), "d1") == 0 && strcmp(str(p, "state"), "barred") == 0)
      break;
    json_decref(j);
  }
  CHECK(j && json_is_boolean(json_object_get(p, "flagged")) &&
            json_is_boolean(json_object_get(p, "recovered")) &&
            json_is_boolean(json_object_get(p, "valid")),
        "quality to the chair about d1 on mic check");
  json_decref(j);
  CHECK(count_before_pong(d2, "quality") == 0, "no quality to delegates");

  act(d2, "allow", "d1");
  expect_refusal(d2, "not_chair", "a delegate allows");
  act(chair, "allow", "d1");
  CHECK(wait_you(d1, "listening", NULL), "allowed: listening");
  act(chair, "allow", "d1");
  expect_refusal(chair, "not_barred", "allow twice");
  act(d1, "request_floor", NULL);
  CHECK(wait_you(d1, "queued", NULL), "allowed: may request again");
}

static void test_turn_and_queue(void) {
  /* queue is d2, d1: a timed turn for d2 */
  CHECK(wait_queue(chair, "d2,d1", NULL), "queue d2,d1");
  double t0 = now_ms();
  act(chair, "grant", "d2");
  CHECK(wait_you(d2, "live", NULL), "d2 live");
  while (now_ms() < t0 + 1200) usleep(1000);
  double t1 = now_ms();
  act(chair, "end_turn", "d2");
  CHECK(wait_you(d2, "listening", NULL), "end_turn: d2 listening");
  measured_turn_ms = t1 - t0;
  act(chair, "end_turn", "d2");
  expect_refusal(chair, "not_live", "end_turn twice");

  act(d2, "request_floor", NULL);
  CHECK(wait_queue(chair, "d1,d2", NULL), "queue d1,d2");
  sendj(d1, json_pack("{s:s, s:s, s:i}", "type", "queue_move", "delegate", "d2", "position", 1));
  expect_refusal(d1, "not_chair", "a delegate reorders");
  sendj(chair, json_pack("{s:s, s:s, s:i}", "type", "queue_move", "delegate", "d2", "position", 3));
  expect_refusal(chair, "bad_argument", "position past the end");
  sendj(chair, json_pack("{s:s, s:s, s:i}", "type", "queue_move", "delegate", "d2", "position", 1));
  CHECK(wait_queue(chair, "d2,d1", NULL), "queue_move: d2 first");
  CHECK(wait_you_at(d2, "queued", 1, NULL), "d2 told its new position");
  act(chair, "queue_remove", "d2");
  CHECK(wait_queue(chair, "d1", NULL), "queue_remove");
  CHECK(wait_you(d2, "listening", NULL), "d2 removed: listening");
  act(d2, "withdraw", NULL);
  expect_refusal(d2, "not_queued", "withdraw when not queued");
}

static void test_modes(fb_bridge *b) {
  json_t *j;
  act(chair, "grant", "d1");
  CHECK(wait_you(d1, "live", NULL), "d1 live before the webcast");
  act(d2, "request_floor", NULL);
  CHECK(wait_you(d2, "queued", NULL), "d2 queued before the webcast");
  sendj(chair, json_pack("{s:s, s:s}", "type", "set_mode", "mode", "loud"));
  expect_refusal(chair, "bad_argument", "unknown mode");
  sendj(d1, json_pack("{s:s, s:s}", "type", "set_mode", "mode", "webcast"));
  expect_refusal(d1, "not_chair", "a delegate sets the mode");
  sendj(chair, json_pack("{s:s, s:s}", "type", "set_mode", "mode", "webcast"));
  CHECK(wait_you(d1, "listening", NULL), "webcast: the live delegate is off the floor");
  CHECK(wait_you(d2, "listening", NULL), "webcast: the queue is emptied");
  CHECK(wait_mode(obs, "webcast", 1), "everyone gets the mode");
  CHECK(decoding(b) == 0, "webcast: no uplink decoded");
  act(d1, "request_floor", NULL);
  expect_refusal(d1, "webcast_only", "request in a webcast");
  act(chair, "grant", "d2");
  expect_refusal(chair, "webcast_only", "grant in a webcast");

  sendj(chair, json_pack("{s:s, s:i}", "type", "set_session", "index", 7));
  expect_refusal(chair, "bad_argument", "unknown session");
  sendj(chair, json_pack("{s:s, s:i}", "type", "set_session", "index", 2));
  j = wait_for(d2, "mode", "mode", "webcast");
  while (j && json_integer_value(json_object_get(json_object_get(j, "session"), "index")) != 2) {
    json_decref(j);
    j = wait_for(d2, "mode", "mode", "webcast");
  }
  CHECK(j && strcmp(str(json_object_get(j, "session"), "name"), "Closing plenary") == 0,
        "set_session 2: the closing plenary");
  json_decref(j);
  sendj(chair, json_pack("{s:s, s:i}", "type", "set_session", "index", 1));
  CHECK(wait_mode(d2, "interactive", 1), "back to the working party");
}

static void test_chat(void) {
  const char *hello = "Hello, 世界 <b>\"x\"</b>\nline two\t&amp;";
  chat(d1, "all", hello);
  ws *all[] = {chair, d1, d2, obs};
  for (int i = 0; i < 4; i++) {
    json_t *j = wait_for(all[i], "chat", NULL, NULL);
    CHECK(j && strcmp(str(j, "from"), "d1") == 0 && strcmp(str(j, "name"), "Delegate d1") == 0 &&
              strcmp(str(j, "to"), "all") == 0 && strcmp(str(j, "text"), hello) == 0 &&
              json_integer_value(json_object_get(j, "ts_ms")) > 1600000000000LL,
          "chat to all reaches client %d as sent", i);
    json_decref(j);
  }
  chat(d1, "chair", "a word in private");
  json_t *j = wait_for(chair, "chat", NULL, NULL);
  CHECK(j && strcmp(str(j, "to"), "chair") == 0 && strcmp(str(j, "text"), "a word in private") == 0,
        "chat to the chair");
  json_decref(j);
  j = wait_for(d1, "chat", NULL, NULL);
  CHECK(j && strcmp(str(j, "text"), "a word in private") == 0, "the sender sees its message");
  json_decref(j);
  CHECK(count_before_pong(d2, "chat") == 0 && count_before_pong(obs, "chat") == 0,
        "others do not see a message to the chair");

  char big[600];
  memset(big, 'x', 501);
  big[501] = '\0';
  chat(d1, "all", big);
  expect_refusal(d1, "chat_too_long", "501 bytes");
  big[500] = '\0';
  chat(d1, "chair", big);
  CHECK((j = wait_chat(chair, big)) != NULL, "500 bytes pass");
  json_decref(j);
  chat(d1, "all", " \n\t ");
  expect_refusal(d1, "chat_empty", "blank");
  chat(d1, "all", "bell \a");
  expect_refusal(d1, "bad_argument", "control character");
  chat(d1, "all", "C1 \xc2\x85");
  expect_refusal(d1, "bad_argument", "C1 control character");
  chat(d1, "everyone", "hi");
  expect_refusal(d1, "bad_argument", "unknown addressee");
  sendj(d1, json_pack("{s:s, s:s}", "type", "chat", "to", "all"));
  expect_refusal(d1, "missing_field", "chat without text");
  ws_send(d1, "{\"v\":1,\"type\":\"chat\",\"to\":\"all\",\"text\":\"bad \xff\"}");
  expect_refusal(d1, "bad_json", "invalid UTF-8");

  /* 25 quick messages: 20 pass, 5 are refused */
  for (int i = 0; i < 25; i++) chat(d2, "chair", "quick");
  int delivered = 0, limited = 0;
  for (int i = 0; i < 25; i++) {
    json_t *m = ws_json_any(d2, WAIT_MS);
    while (m && strcmp(str(m, "type"), "chat") != 0 && strcmp(str(m, "type"), "error") != 0) {
      json_decref(m);
      m = ws_json_any(d2, WAIT_MS);
    }
    delivered += strcmp(str(m, "type"), "chat") == 0;
    limited += strcmp(str(m, "code"), "chat_rate_limited") == 0;
    json_decref(m);
  }
  CHECK(delivered == 20 && limited == 5, "rate limit: %d delivered, %d limited", delivered,
        limited);

  sendj(d1, json_pack("{s:s, s:b}", "type", "chat_policy", "delegates_to_all", 0));
  expect_refusal(d1, "not_chair", "a delegate sets the chat policy");
  sendj(chair, json_pack("{s:s, s:b}", "type", "chat_policy", "delegates_to_all", 0));
  CHECK(wait_policy(obs, 0), "policy announced");
  chat(d1, "all", "may I?");
  expect_refusal(d1, "chat_disabled", "delegate to all, policy off");
  chat(d1, "chair", "may I write to you?");
  CHECK((j = wait_chat(d1, "may I write to you?")) != NULL, "to the chair still works");
  json_decref(j);
  chat(chair, "all", "The chair speaks to all");
  j = wait_chat(d2, "The chair speaks to all");
  CHECK(j && strcmp(str(j, "from"), "ch") == 0, "the chair still writes to all");
  json_decref(j);
  sendj(chair, json_pack("{s:s, s:b}", "type", "chat_policy", "delegates_to_all", 1));
  CHECK(wait_policy(d1, 1), "policy back on");
}

static void test_webcast_files(void) {
  char type[128], body[4096];
  int st = http_head_body("/webcast/live.m3u8", type, sizeof type, body, sizeof body);
  CHECK(st == 200 && strcmp(type, "application/vnd.apple.mpegurl") == 0 &&
            strncmp(body, "#EXTM3U", 7) == 0,
        "playlist: %d '%s'", st, type);
  st = http_head_body("/webcast/seg0.ts", type, sizeof type, body, sizeof body);
  CHECK(st == 200 && strcmp(type, "video/mp2t") == 0, "segment: %d '%s'", st, type);
  static const char *escapes[] = {"/webcast/../secret.txt", "/webcast/%2e%2e/secret.txt",
                                  "/webcast/..%2fsecret.txt", "/webcast//../secret.txt"};
  for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
    body[0] = '\0';
    st = http_head_body(escapes[i], type, sizeof type, body, sizeof body);
    CHECK(!strstr(body, "SECRET-MARKER"), "%s escaped (status %d)", escapes[i], st);
  }
}

/* Leave a state worth restoring: session 0 switched to interactive, d2
 * queued, d1 barred. */
static void prepare_restart(void) {
  sendj(chair, json_pack("{s:s, s:i}", "type", "set_session", "index", 0));
  CHECK(wait_mode(d1, "webcast", 0), "session 0 is webcast");
  sendj(chair, json_pack("{s:s, s:s}", "type", "set_mode", "mode", "interactive"));
  CHECK(wait_mode(d1, "interactive", 0), "the chair opens session 0");
  act(d2, "request_floor", NULL);
  CHECK(wait_you(d2, "queued", NULL), "d2 queued before the restart");
  sendj(chair, json_pack("{s:s, s:s, s:s}", "type", "cut", "delegate", "d1", "reason", "echo"));
  CHECK(wait_you(d1, "barred", NULL), "d1 barred before the restart");
  CHECK(wait_roster(chair, "d1", "barred"), "the chair saw it");
}

static void test_after_restart(void) {
  chair = ws_open(), d1 = ws_open(), d2 = ws_open();
  json_decref(join_as(chair, "ch", FB_ROLE_CHAIR));
  json_t *j = wait_for(chair, "mode", NULL, NULL);
  CHECK(j && strcmp(str(j, "mode"), "interactive") == 0 &&
            json_integer_value(json_object_get(json_object_get(j, "session"), "index")) == 0,
        "restart: session 0 and its mode survive");
  json_decref(j);
  CHECK(wait_queue(chair, "d2", NULL), "restart: the queue survives");
  json_decref(join_as(d1, "d1", FB_ROLE_DELEGATE));
  CHECK(wait_you(d1, "barred", &j) && strcmp(str(j, "bar_reason"), "echo") == 0,
        "restart: d1 still barred after reconnecting");
  json_decref(j);
  act(d1, "request_floor", NULL);
  expect_refusal(d1, "barred", "restart: request refused");
  json_decref(join_as(d2, "d2", FB_ROLE_DELEGATE));
  CHECK(wait_you(d2, "queued", &j) && json_integer_value(json_object_get(j, "queue_position")) == 1,
        "restart: d2 back in its queue place");
  json_decref(j);
  /* a "speak" token: the bridge gives the floor on joining (audit actor "auto") */
  ws *d3 = ws_open();
  json_t *k = join_as_speak(d3, "d3", FB_ROLE_DELEGATE, 1);
  CHECK(k && json_is_true(json_object_get(k, "can_speak")) &&
            json_is_true(json_object_get(k, "live")),
        "speak token: live on joining");
  json_decref(k);
  CHECK(wait_you(d3, "live", NULL), "speak token: you live");
  CHECK(db_int("SELECT count(*) FROM audit WHERE actor = 'auto' AND action = 'grant' AND "
               "target = 'd3'") == 1,
        "the automatic grant is audited as auto");
  usleep(300000);
  act(chair, "end_turn", "d3");
  CHECK(wait_you(d3, "listening", NULL), "the chair ends an automatic turn");
  json_t *r = NULL;
  while ((k = wait_for(chair, "roster", NULL, NULL))) {
    json_t *p = roster_entry(k, "d3");
    if (p && strcmp(str(p, "state"), "listening") == 0) {
      r = k;
      break;
    }
    json_decref(k);
  }
  json_t *p = roster_entry(r, "d3");
  CHECK(p && json_integer_value(json_object_get(p, "speaking_ms")) >= 250 &&
            json_integer_value(json_object_get(p, "speaking_ms")) < 3000,
        "roster speaking_ms of the ended turn: %lld",
        (long long)json_integer_value(json_object_get(p, "speaking_ms")));
  json_decref(r);
  ws_close(chair), ws_close(d1), ws_close(d2), ws_close(d3);
}

static void test_report(void) {
  long long ms = db_int(
      "SELECT sum(end_ms - start_ms) FROM spoken WHERE delegate = 'd2' AND "
      "session = 1");
  CHECK(ms > 0 && llabs(ms - (long long)measured_turn_ms) <= 50,
        "stored turn %lld ms, measured %.1f ms", ms, measured_turn_ms);
  char csv[128];
  snprintf(csv, sizeof csv, "%s/report.csv", dir);
  char *argv[] = {"report", "--db", db, "--csv", csv, "--audit", NULL};
  fflush(stdout);
  CHECK(fb_store_report_cli(6, argv) == 0, "floorbridge report");
  FILE *f = fopen(csv, "r");
  char line[512];
  double secs = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "d2,", 3) == 0 && strstr(line, ",1,")) {
      char *last = strrchr(line, ',');
      secs = atof(last + 1);
    }
  if (f) fclose(f);
  CHECK(secs > 0 && fabs(secs * 1000 - measured_turn_ms) <= 50,
        "report: d2 spoke %.1f s in session 1, measured %.1f ms", secs, measured_turn_ms);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/fb-chair-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  char path[256];
  snprintf(db, sizeof db, "%s/meeting.db", dir);
  snprintf(path, sizeof path, "%s/hls", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/hls/live.m3u8", dir);
  write_file(path, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg0.ts\n");
  snprintf(path, sizeof path, "%s/hls/seg0.ts", dir);
  write_file(path, "G@\x11\x10");
  snprintf(path, sizeof path, "%s/secret.txt", dir);
  write_file(path, "SECRET-MARKER\n");

  fb_log_set_level(getenv("FB_TEST_DEBUG") ? FB_LOG_DEBUG : FB_LOG_WARN);
  snprintf(path, sizeof path, "%s/no-www", dir);
  fb_config *cfg = test_config_new(path, MEETING, SECRET);
  snprintf(cfg->floor_sessions, sizeof cfg->floor_sessions,
           "Opening plenary:webcast, Working party 1:interactive, Closing plenary:webcast");
  cfg->floor_start_session = 1;
  snprintf(cfg->store_path, sizeof cfg->store_path, "%s", db);
  snprintf(cfg->webcast_dir, sizeof cfg->webcast_dir, "%s/hls", dir);
  char err[512];
  CHECK(fb_config_validate(cfg, err, sizeof err) == 0, "config: %s", err);

  rig r = {cfg, NULL, NULL};
  if (rig_start(&r) == 0) {
    test_join_snapshot();
    test_queue_and_grant(r.b);
    test_mute();
    test_cut_and_reconnect(&r);
    test_turn_and_queue();
    test_modes(r.b);
    test_chat();
    test_webcast_files();
    prepare_restart();
    char body[1 << 16], type[128];
    http_head_body("/metrics", type, sizeof type, body, sizeof body);
    CHECK(metric(body, "floorbridge_chat_messages_total") >= 24, "/metrics counts the chat");
    rig_stop(&r);
    ws_close(chair), ws_close(d1), ws_close(d2), ws_close(obs);
    /* the same database, a new bridge and server */
    if (rig_start(&r) == 0) test_after_restart();
    rig_stop(&r);
    test_report();
  } else {
    rig_stop(&r);
  }
  free(cfg);
  snprintf(path, sizeof path, "rm -rf %s", dir);
  if (system(path) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return CHECK_DONE();
}
