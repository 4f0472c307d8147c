/*
 * test_signalling.c — the signalling server against a real bridge (media port
 * 0, a 440 Hz floor, no PA or recording), on an ephemeral port, talked to by
 * a small hand-written HTTP and WebSocket client (handshake, masked frames,
 * fragments, reading frames). Checks: the "listening" log line, /healthz,
 * static files, path traversal in many spellings, upgrade only on /ws, every
 * protocol error code, tokens (forged, expired, wrong meeting, retry on the
 * same connection), roles, TURN credentials, offers (answer, or join_failed
 * while the WebRTC transport is a stub), leave, oversize and fragmented
 * messages, binary frames, the error limit, rate limiting, isolation between
 * clients, reconnects that replace, events from other threads, the per-IP
 * limit, start-up failures and TLS. The client is tests/ws_client.h (shared
 * with test_chair_protocol.c); its ws_json skips the floor-control state
 * messages (you, queue, roster, mode, ...), which test_chair_protocol.c checks.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "util/log.h"
#include "check.h"
#include "test_config.h"
#include "ws_client.h"
#include "signalling/meeting.h"
#include "signalling/server.h"
#include "signalling/token.h"
#include "signalling/turn.h"

#define SECRET "test-secret-0123456789abcdef"
#define MEETING "sg12-plenary"
#define MAX_MSG 8192
#define PER_IP 8
#define SECRET_MARKER "TOP-SECRET-MARKER"

static char dir[64];

/* Send text, expect an error with code (and v == 1, a message). */
static void expect_error(ws *w, const char *text, const char *code, const char *label) {
  if (text) ws_send(w, text);
  json_t *j = ws_json(w);
  CHECK(j && strcmp(str(j, "type"), "error") == 0 && strcmp(str(j, "code"), code) == 0 &&
            json_integer_value(json_object_get(j, "v")) == 1 && str(j, "message")[0],
        "%s: want error %s, got %s %s (%s)", label, code, str(j, "type"), str(j, "code"),
        str(j, "message"));
  json_decref(j);
}

/* Does the connection still answer a ping? */
static int answers_ping(ws *w, int id) {
  char msg[64];
  snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"ping\",\"id\":%d}", id);
  ws_send(w, msg);
  json_t *j = ws_json(w);
  int ok = j && strcmp(str(j, "type"), "pong") == 0 &&
           json_integer_value(json_object_get(j, "id")) == id;
  json_decref(j);
  return ok;
}

static char *token(const char *secret, const char *meeting, const char *delegate, fb_role role,
                   int speak, long long exp) {
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", meeting);
  snprintf(t.delegate, sizeof t.delegate, "%s", delegate);
  snprintf(t.name, sizeof t.name, "Delegate %s", delegate);
  t.role = role;
  t.speak = speak;
  t.exp = exp;
  static char out[FB_TOKEN_MAX + 1];
  if (fb_token_mint(secret, &t, out, sizeof out) < 0) return strcpy(out, "mint-failed");
  return out;
}

/* Join with a valid token; returns the "joined" message (or NULL). */
static json_t *join(ws *w, const char *delegate, fb_role role, int speak) {
  char msg[FB_TOKEN_MAX + 64];
  snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}",
           token(SECRET, MEETING, delegate, role, speak, time(NULL) + 600));
  ws_send(w, msg);
  json_t *j = ws_json(w);
  if (!j || strcmp(str(j, "type"), "joined") != 0) {
    fprintf(stderr, "join %s: got %s %s\n", delegate, str(j, "code"), str(j, "message"));
    json_decref(j);
    return NULL;
  }
  return j;
}

/* ---- the checks ---------------------------------------------------------- */

static void test_http(void) {
  char body[65536];
  CHECK(http_get("/healthz", body, sizeof body) == 200 && strcmp(body, "ok") == 0, "/healthz: '%s'",
        body);
  CHECK(http_get("/", body, sizeof body) == 200 && strstr(body, "floorbridge test page"),
        "index: '%s'", body);
  CHECK(http_get("/index.html", body, sizeof body) == 200 && strstr(body, "test page"),
        "index.html");
  CHECK(http_get("/sub/page.html", body, sizeof body) == 200 && strstr(body, "sub page"), "sub");
  CHECK(http_get("/app.json", body, sizeof body) == 200 && strstr(body, "\"ok\""), "json");
  CHECK(http_get("/missing.html", body, sizeof body) == 404, "missing file is 404");
  static const char *escapes[] = {
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E/secret.txt",
      "/sub/../../secret.txt",
      "/sub/%2e%2e/%2e%2e/secret.txt",
      "/%2e%2e%2fsecret.txt",
      "/..%2fsecret.txt",
      "/..%2Fsecret.txt",
      "//../secret.txt",
      "/./../secret.txt",
      "/..\\secret.txt",
      "/%252e%252e/secret.txt",
      "/.%2e/secret.txt",
      "/%2e./secret.txt",
      "/../www2/other.txt",
      "/..%00/secret.txt",
      "/sub/..%2f..%2fsecret.txt",
      "/../../../../../../etc/passwd",
      "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/....//secret.txt",
      "../secret.txt",
      "/secret.txt",
      "/www/../secret.txt",
      "/%c0%ae%c0%ae/secret.txt",
  };
  for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
    body[0] = '\0';
    int st = http_get(escapes[i], body, sizeof body);
    CHECK(!strstr(body, SECRET_MARKER) && !strstr(body, "root:") && st != 200,
          "%s escaped www (status %d): %.80s", escapes[i], st, body);
  }
  /* WebSocket only on /ws */
  ws *w = ws_open_path("/");
  CHECK(w == NULL, "no upgrade on /");
  ws_close(w);
  w = ws_open_path("/healthz");
  CHECK(w == NULL, "no upgrade on /healthz");
  ws_close(w);
}

static void test_protocol_errors(void) {
  ws *w = ws_open();
  CHECK(w != NULL, "WebSocket on /ws without a subprotocol");
  if (!w) return;
  expect_error(w, "{not json", "bad_json", "bad json");
  CHECK(answers_ping(w, 7), "still answers after bad JSON");
  expect_error(w, "[1,2]", "bad_message", "array");
  expect_error(w, "{\"type\":\"ping\"}", "bad_message", "no v");
  expect_error(w, "{\"v\":\"1\",\"type\":\"ping\"}", "bad_message", "v string");
  expect_error(w, "{\"v\":1,\"type\":5}", "bad_message", "type number");
  expect_error(w, "{\"v\":2,\"type\":\"ping\"}", "unsupported_version", "v 2");
  expect_error(w, "{\"v\":1,\"type\":\"dance\"}", "unknown_type", "unknown type");
  CHECK(answers_ping(w, 8), "still answers");
  ws_close(w);

  w = ws_open();
  expect_error(w, "{\"v\":1,\"type\":\"join\"}", "missing_field", "join without token");
  expect_error(w, "{\"v\":1,\"type\":\"join\",\"token\":42}", "missing_field",
               "token not a string");
  expect_error(w, "{\"v\":1,\"type\":\"offer\"}", "missing_field", "offer without sdp");
  expect_error(w, "{\"v\":1,\"type\":\"offer\",\"sdp\":\"v=0\"}", "not_joined", "offer first");
  expect_error(w, "{\"v\":1,\"type\":\"leave\"}", "not_joined", "leave first");
  expect_error(w, "{\"v\":1,\"type\":\"ping\",\"v\":1}", "bad_json", "duplicate key");
  /* ping: any id comes back, and none gives null */
  ws_send(w, "{\"v\":1,\"type\":\"ping\",\"id\":{\"a\":[1,\"x\"]}}");
  json_t *j = ws_json(w);
  json_t *want = json_loads("{\"a\":[1,\"x\"]}", 0, NULL);
  CHECK(j && strcmp(str(j, "type"), "pong") == 0 && json_equal(json_object_get(j, "id"), want),
        "pong echoes an object id");
  json_decref(want);
  json_decref(j);
  ws_send(w, "{\"v\":1,\"type\":\"ping\"}");
  j = ws_json(w);
  CHECK(j && strcmp(str(j, "type"), "pong") == 0 && json_is_null(json_object_get(j, "id")),
        "pong without id");
  json_decref(j);
  /* a message in three fragments */
  const char *ping = "{\"v\":1,\"type\":\"ping\",\"id\":\"frag\"}";
  ws_frame(w, 1, 0, ping, 10);
  ws_frame(w, 0, 0, ping + 10, 10);
  ws_frame(w, 0, 1, ping + 20, strlen(ping) - 20);
  j = ws_json(w);
  CHECK(j && strcmp(str(j, "id"), "frag") == 0, "fragmented message reassembled");
  json_decref(j);
  /* binary frames are refused, the connection stays */
  ws_frame(w, 2, 1, "\x01\x02", 2);
  expect_error(w, NULL, "bad_message", "binary frame");
  CHECK(answers_ping(w, 9), "answers after a binary frame");
  ws_close(w);

  /* ten errors close the connection with 1008 */
  w = ws_open();
  for (int i = 0; i < FB_MAX_CLIENT_ERRORS; i++) ws_send(w, "garbage");
  int errors = 0;
  json_t *m;
  while ((m = ws_json(w))) {
    errors += strcmp(str(m, "type"), "error") == 0;
    json_decref(m);
  }
  CHECK(errors >= 10 && w->close_code == 1008, "closed 1008 after %d errors (close %d)", errors,
        w->close_code);
  ws_close(w);
}

static void test_tokens(void) {
  ws *w = ws_open();
  char msg[FB_TOKEN_MAX + 64];
  long long now = time(NULL);
#define JOIN_WITH(tok) \
  (snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}", tok), msg)
  expect_error(
      w,
      JOIN_WITH(token("another-secret-0123456789", MEETING, "d1", FB_ROLE_DELEGATE, 1, now + 600)),
      "token_bad_signature", "forged");
  expect_error(w, JOIN_WITH(token(SECRET, MEETING, "d1", FB_ROLE_DELEGATE, 1, now - 3600)),
               "token_expired", "expired");
  expect_error(w, JOIN_WITH(token(SECRET, "other-meeting", "d1", FB_ROLE_DELEGATE, 1, now + 600)),
               "token_wrong_meeting", "wrong meeting");
  expect_error(w, JOIN_WITH("not.a.jwt"), "token_malformed", "garbage token");
  expect_error(w, JOIN_WITH(""), "token_malformed", "empty token");
  /* a failed join can be retried on the same connection */
  json_t *j = join(w, "d1", FB_ROLE_DELEGATE, 1);
  CHECK(j != NULL, "join after failures");
  if (j) {
    CHECK(json_integer_value(json_object_get(j, "pid")) > 0 &&
              strcmp(str(j, "meeting"), MEETING) == 0 && strcmp(str(j, "delegate"), "d1") == 0 &&
              strcmp(str(j, "name"), "Delegate d1") == 0 &&
              strcmp(str(j, "role"), "delegate") == 0 &&
              json_is_true(json_object_get(j, "can_speak")) &&
              json_is_true(json_object_get(j, "live")),
          "joined fields");
    json_t *ice = json_object_get(j, "ice_servers");
    json_t *srv = json_array_get(ice, 0);
    const char *user = str(srv, "username");
    char expect[64];
    fb_turn_credential("turnsecret", user, expect, sizeof expect);
    long long exp = atoll(user);
    CHECK(json_array_size(ice) == 1 &&
              strcmp(json_string_value(json_array_get(json_object_get(srv, "urls"), 0)),
                     "turn:127.0.0.1:3478?transport=udp") == 0 &&
              exp >= now + 3600 && exp <= now + 3605 && strcmp(strchr(user, ':') + 1, "d1") == 0 &&
              strcmp(str(srv, "credential"), expect) == 0,
          "TURN credentials: %s %s", user, str(srv, "credential"));
  }
  json_decref(j);
  expect_error(w, JOIN_WITH(token(SECRET, MEETING, "d1", FB_ROLE_DELEGATE, 1, now + 600)),
               "already_joined", "second join");
  ws_close(w);

  /* roles */
  w = ws_open();
  j = join(w, "d2", FB_ROLE_DELEGATE, 0);
  CHECK(j && json_is_false(json_object_get(j, "can_speak")) &&
            json_is_false(json_object_get(j, "live")),
        "delegate without speak");
  json_decref(j);
  ws_close(w);
  w = ws_open();
  j = join(w, "obs1", FB_ROLE_OBSERVER, 1);
  CHECK(j && strcmp(str(j, "role"), "observer") == 0 &&
            json_is_false(json_object_get(j, "can_speak")) &&
            json_is_false(json_object_get(j, "live")),
        "observer never speaks, even with speak");
  json_decref(j);
  ws_close(w);
  w = ws_open();
  j = join(w, "chair", FB_ROLE_CHAIR, 1);
  CHECK(j && strcmp(str(j, "role"), "chair") == 0 && json_is_true(json_object_get(j, "can_speak")),
        "chair");
  json_decref(j);
  ws_close(w);
#undef JOIN_WITH
}

static const char *OFFER =
    "v=0\r\no=- 4215775240449105457 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\na=msid-semantic: WMS s1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Jq3c\r\na=ice-pwd:8mJbJ4Vn0m9ZpQ2k3xYhL1aT\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
    "43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\na=msid:s1 t1\r\n"
    "a=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\na=ssrc:3735928559 cname:kZ3e8yU5sJ4Qf1Lw\r\n";

static void send_offer(ws *w, const char *sdp) {
  json_t *o = json_pack("{s:i, s:s, s:s}", "v", 1, "type", "offer", "sdp", sdp);
  char *t = json_dumps(o, JSON_COMPACT);
  ws_send(w, t);
  free(t);
  json_decref(o);
}

/* The answer (transport landed) or join_failed (stub); both must be
 * well-formed. Returns 1 for an answer. */
static int check_offer_reply(ws *w, const char *label, int listen_only) {
  json_t *j = ws_json(w);
  const char *type = str(j, "type");
  int answered = strcmp(type, "answer") == 0;
  if (answered) {
    const char *sdp = str(j, "sdp");
    CHECK(strncmp(sdp, "v=0\r\n", 5) == 0 && strstr(sdp, "\r\na=ice-lite\r\n") &&
              strstr(sdp, "a=fingerprint:sha-256 ") && !strstr(sdp, "7B:8B:F0:65") &&
              strstr(sdp, "a=setup:passive") && strstr(sdp, "a=candidate:") &&
              strstr(sdp, listen_only ? "a=sendonly" : "a=sendrecv"),
          "%s: answer:\n%s", label, sdp);
  } else {
    CHECK(strcmp(type, "error") == 0 && strcmp(str(j, "code"), "join_failed") == 0 &&
              str(j, "message")[0],
          "%s: want answer or join_failed, got %s %s %s", label, type, str(j, "code"),
          str(j, "message"));
  }
  json_decref(j);
  return answered;
}

static void test_offer(void) {
  ws *w = ws_open();
  json_t *j = join(w, "speaker", FB_ROLE_DELEGATE, 1);
  json_decref(j);
  send_offer(w, "v=0\r\nhello");
  expect_error(w, NULL, "bad_sdp", "garbage SDP");
  send_offer(w, "v=0\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n");
  expect_error(w, NULL, "no_audio", "video only");
  int answered = check_offer_reply((send_offer(w, OFFER), w), "speaker offer", 0);
  printf("offer: %s\n", answered ? "answered (WebRTC transport present)" : "join_failed (stub)");
  check_offer_reply((send_offer(w, OFFER), w), "renegotiation", 0);
  ws_send(w, "{\"v\":1,\"type\":\"leave\"}");
  j = ws_json(w);
  CHECK(j && strcmp(str(j, "type"), "left") == 0, "leave -> left");
  json_decref(j);
  expect_error(w, "{\"v\":1,\"type\":\"offer\",\"sdp\":\"v=0\"}", "not_joined",
               "offer after leave");
  j = join(w, "speaker", FB_ROLE_DELEGATE, 1);
  CHECK(j != NULL, "join again after leave");
  json_decref(j);
  ws_close(w);

  w = ws_open();
  json_decref(join(w, "listener", FB_ROLE_OBSERVER, 0));
  check_offer_reply((send_offer(w, OFFER), w), "observer offer", 1);
  ws_close(w);
}

static void test_limits(void) {
  /* oversize: error too_large, then close 1009 */
  ws *w = ws_open();
  char *big = malloc(12000); /* the first MAX_MSG + 99 bytes are one message */
  memset(big, ' ', 12000);
  memcpy(big, "{\"v\":1,\"type\":\"ping\",\"id\":\"", 27);
  big[MAX_MSG + 99] = '\0';
  ws_send(w, big);
  expect_error(w, NULL, "too_large", "oversize");
  CHECK(ws_json(w) == NULL && w->close_code == 1009, "closed 1009 (%d)", w->close_code);
  ws_close(w);
  /* the same in small fragments */
  w = ws_open();
  ws_frame(w, 1, 0, big, 1000);
  for (int i = 1; i < 10; i++) ws_frame(w, 0, 0, big + 1000 * i, 1000);
  ws_frame(w, 0, 1, "\"}", 2);
  expect_error(w, NULL, "too_large", "fragmented oversize");
  CHECK(ws_json(w) == NULL && w->close_code == 1009, "closed 1009 (%d)", w->close_code);
  ws_close(w);
  /* just under the limit is fine */
  w = ws_open();
  snprintf(big + MAX_MSG - 3, 4, "\"}");
  ws_send(w, big);
  json_t *j = ws_json(w);
  CHECK(j && strcmp(str(j, "type"), "pong") == 0, "a message of %d bytes is accepted", MAX_MSG - 1);
  json_decref(j);
  ws_close(w);
  free(big);

  /* a flood gets rate_limited (and, sustained, closed) */
  w = ws_open();
  for (int i = 0; i < 100; i++) ws_send(w, "{\"v\":1,\"type\":\"ping\",\"id\":1}");
  int pongs = 0, limited = 0;
  while ((j = ws_json(w))) {
    pongs += strcmp(str(j, "type"), "pong") == 0;
    limited += strcmp(str(j, "code"), "rate_limited") == 0;
    json_decref(j);
  }
  CHECK(pongs >= 40 && pongs < 100 && limited >= 1, "flood: %d pongs, %d rate_limited", pongs,
        limited);
  ws_close(w);
}

static void test_isolation_and_replace(fb_signalling *sg) {
  ws *a = ws_open(), *b = ws_open();
  json_decref(join(b, "calm", FB_ROLE_DELEGATE, 0));
  for (int i = 0; i < 12; i++) {
    ws_send(a, i % 2 ? "\xff\xfe garbage" : "{\"v\":1,\"type\":");
    CHECK(answers_ping(b, 100 + i), "b answered while a misbehaves (%d)", i);
  }
  ws_close(a);
  CHECK(answers_ping(b, 200), "b answered after a is gone");

  /* an event for everyone, posted from this (another) thread */
  fb_signalling_post_event(sg, 0, "consent_lost", "test event");
  json_t *j = ws_json(b);
  CHECK(j && strcmp(str(j, "type"), "event") == 0 && strcmp(str(j, "event"), "consent_lost") == 0 &&
            strcmp(str(j, "detail"), "test event") == 0,
        "event delivered: %s %s", str(j, "type"), str(j, "event"));
  json_decref(j);
  ws *c = ws_open(); /* not joined: gets no events */
  fb_signalling_post_event(sg, 0, "consent_lost", "second");
  fb_signalling_post_event(sg, 4242, "dtls_failed", "nobody has this participant");
  CHECK(answers_ping(c, 5), "unjoined client gets no event, only its pong");
  j = ws_json(b);
  CHECK(j && strcmp(str(j, "detail"), "second") == 0, "second event");
  json_decref(j);
  CHECK(answers_ping(b, 6), "no event for an unknown participant");
  ws_close(c);

  /* the same delegate again: the first connection is replaced */
  ws *again = ws_open();
  j = join(again, "calm", FB_ROLE_DELEGATE, 0);
  CHECK(j != NULL, "reconnect joins");
  json_decref(j);
  j = ws_json(b);
  CHECK(j && strcmp(str(j, "type"), "event") == 0 && strcmp(str(j, "event"), "replaced") == 0,
        "old connection told 'replaced': %s %s", str(j, "type"), str(j, "event"));
  json_decref(j);
  CHECK(ws_json(b) == NULL && b->close_code == 1000, "old connection closed (%d)", b->close_code);
  CHECK(answers_ping(again, 7), "new connection works");
  ws_close(b);
  ws_close(again);
}

static void test_per_ip(void) {
  usleep(300000); /* let the server see the earlier closes */
  ws *w[PER_IP + 1];
  int open = 0;
  for (int i = 0; i < PER_IP; i++) open += (w[i] = ws_open()) != NULL;
  CHECK(open == PER_IP, "%d of %d connections open", open, PER_IP);
  w[PER_IP] = ws_open();
  CHECK(w[PER_IP] == NULL, "connection %d from one address refused", PER_IP + 1);
  ws_close(w[PER_IP]);
  char body[256];
  CHECK(http_get("/healthz", body, sizeof body) == 200, "plain HTTP still served");
  ws_close(w[0]);
  usleep(300000);
  w[0] = ws_open();
  CHECK(w[0] != NULL, "a slot frees when a connection closes");
  for (int i = 0; i < PER_IP; i++) ws_close(w[i]);
}

/* ---- TLS ----------------------------------------------------------------- */

static void test_tls(fb_config *cfg, fb_bridge *b) {
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem -out "
           "%s/cert.pem -days 1 -subj /CN=localhost >/dev/null 2>&1",
           dir, dir);
  if (system(cmd) != 0) {
    printf("openssl not available: TLS not tested\n");
    return;
  }
  snprintf(cfg->sig_tls_cert, sizeof cfg->sig_tls_cert, "%s/cert.pem", dir);
  snprintf(cfg->sig_tls_key, sizeof cfg->sig_tls_key, "%s/key.pem", dir);
  char err[512];
  fb_signalling *sg = fb_signalling_start(cfg, b, err, sizeof err);
  CHECK(sg != NULL, "TLS server starts: %s", err);
  if (!sg) return;
  CHECK(strncmp(fb_signalling_url(sg), "https://127.0.0.1:", 18) == 0, "url %s",
        fb_signalling_url(sg));
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = SSL_new(ctx);
  int fd = tcp_connect(fb_signalling_port(sg));
  SSL_set_fd(ssl, fd);
  char resp[4096] = "";
  if (SSL_connect(ssl) == 1) {
    const char *req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    SSL_write(ssl, req, (int)strlen(req));
    int n, got = 0;
    while ((n = SSL_read(ssl, resp + got, (int)sizeof resp - 1 - got)) > 0) {
      got += n;
      resp[got] = '\0';
      if (strstr(resp, "\r\n\r\nok")) break;
    }
  }
  CHECK(strncmp(resp, "HTTP/1.1 200", 12) == 0 && strstr(resp, "\r\n\r\nok"), "https /healthz: %s",
        resp);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  /* plain HTTP on the TLS port gets nothing useful */
  port = fb_signalling_port(sg);
  char body[256] = "";
  CHECK(http_get("/healthz", body, sizeof body) != 200, "no plain HTTP on the TLS port");
  fb_signalling_stop(sg);
  cfg->sig_tls_cert[0] = cfg->sig_tls_key[0] = '\0';
}

/* ---- start-up failures ---------------------------------------------------- */

static void test_start_failures(fb_config *cfg, fb_bridge *b, int busy_port) {
  char err[512];
  fb_config c = *cfg;
  c.sig_port = busy_port;
  fb_signalling *sg = fb_signalling_start(&c, b, err, sizeof err);
  CHECK(sg == NULL && strstr(err, "cannot listen"), "port in use: %s", err);
  fb_signalling_stop(sg);
  c = *cfg;
  snprintf(c.token_secret_file, sizeof c.token_secret_file, "%s/no-such-secret", dir);
  sg = fb_signalling_start(&c, b, err, sizeof err);
  CHECK(sg == NULL && strstr(err, "token_secret_file"), "missing secret file: %s", err);
  c = *cfg;
  snprintf(c.sig_tls_cert, sizeof c.sig_tls_cert, "%s/none.pem", dir);
  snprintf(c.sig_tls_key, sizeof c.sig_tls_key, "%s/none.pem", dir);
  sg = fb_signalling_start(&c, b, err, sizeof err);
  CHECK(sg == NULL && strstr(err, "tls"), "missing cert: %s", err);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/fb-sig-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  char path[256];
  snprintf(path, sizeof path, "%s/www", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/www/sub", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/www2", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/www/index.html", dir);
  write_file(path, "<!doctype html><title>floorbridge test page</title>\n");
  snprintf(path, sizeof path, "%s/www/sub/page.html", dir);
  write_file(path, "<p>sub page</p>\n");
  snprintf(path, sizeof path, "%s/www/app.json", dir);
  write_file(path, "{\"ok\": true}\n");
  snprintf(path, sizeof path, "%s/secret.txt", dir);
  write_file(path, SECRET_MARKER "\n");
  snprintf(path, sizeof path, "%s/www2/other.txt", dir);
  write_file(path, SECRET_MARKER " in a sibling\n");
  snprintf(path, sizeof path, "%s/secret-file", dir);
  write_file(path, SECRET "\n");

  snprintf(path, sizeof path, "%s/www", dir);
  fb_config *cfg = test_config_new(path, MEETING, NULL);
  snprintf(cfg->token_secret_file, sizeof cfg->token_secret_file, "%s/secret-file", dir);
  cfg->sig_max_message_bytes = MAX_MSG;
  cfg->sig_max_conns_per_ip = PER_IP;
  strcpy(cfg->turn_urls, "turn:127.0.0.1:3478?transport=udp");
  strcpy(cfg->turn_secret, "turnsecret");
  char err[512];
  CHECK(fb_config_validate(cfg, err, sizeof err) == 0, "config: %s", err);

  char cred[64];
  CHECK(fb_turn_credential("turnsecret", "1700000000:d1", cred, sizeof cred) == 0 &&
            strcmp(cred, "g+CAl2oHe4FKnmWxlGMKCEJzaCw=") == 0,
        "TURN REST credential (openssl dgst -sha1 -hmac): %s", cred);

  fb_bridge *b = fb_bridge_new(cfg, err, sizeof err);
  CHECK(b != NULL, "bridge: %s", err);
  if (!b) return CHECK_DONE();

  /* the listening line, read from our own stderr */
  char logpath[256];
  snprintf(logpath, sizeof logpath, "%s/log.txt", dir);
  fflush(stderr);
  int saved = dup(2), logfd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  dup2(logfd, 2);
  fb_signalling *sg = fb_signalling_start(cfg, b, err, sizeof err);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(logfd);
  CHECK(sg != NULL, "signalling starts: %s", err);
  if (!sg) return fb_bridge_free(b), CHECK_DONE();
  port = fb_signalling_port(sg);
  char log[4096] = "", want[128];
  FILE *f = fopen(logpath, "r");
  size_t n = f ? fread(log, 1, sizeof log - 1, f) : 0;
  if (f) fclose(f);
  log[n] = '\0';
  fputs(log, stderr);
  snprintf(want, sizeof want, "INFO  [signalling] signalling listening on http://127.0.0.1:%d\n",
           port);
  CHECK(port > 0 && strstr(log, want), "log line '%s' in:\n%s", want, log);

  for (int i = 0; i < 100 && !fb_bridge_healthy(b); i++) usleep(20000);
  test_http();
  test_protocol_errors();
  test_tokens();
  test_offer();
  test_limits();
  test_isolation_and_replace(sg);
  test_per_ip();
  test_start_failures(cfg, b, port);

  /* stopping with connections open: their participants leave the bridge */
  ws *open1 = ws_open(), *open2 = ws_open();
  json_decref(join(open1, "stay1", FB_ROLE_DELEGATE, 1));
  check_offer_reply((send_offer(open1, OFFER), open1), "offer before stop", 0);
  char list[4096];
  fb_bridge_list(b, list, sizeof list);
  printf("bridge before stop: %s\n", list);
  fb_signalling_stop(sg);
  fb_bridge_list(b, list, sizeof list);
  CHECK(!strstr(list, "stay1"), "participant left when the server stopped: '%s'", list);
  CHECK(ws_json(open1) == NULL && ws_json(open2) == NULL, "connections closed by stop");
  ws_close(open1);
  ws_close(open2);
  char body[64];
  CHECK(http_get("/healthz", body, sizeof body) < 0, "port closed after stop");

  /* open_floor: every delegate speaks, observers still do not */
  cfg->open_floor = 1;
  sg = fb_signalling_start(cfg, b, err, sizeof err);
  CHECK(sg != NULL, "restart with open_floor: %s", err);
  if (sg) {
    port = fb_signalling_port(sg);
    ws *w = ws_open();
    json_t *j = join(w, "quiet", FB_ROLE_DELEGATE, 0);
    CHECK(j && json_is_true(json_object_get(j, "can_speak")) &&
              json_is_true(json_object_get(j, "live")),
          "open floor: a delegate without speak may speak");
    json_decref(j);
    ws_close(w);
    w = ws_open();
    j = join(w, "watcher", FB_ROLE_OBSERVER, 0);
    CHECK(j && json_is_false(json_object_get(j, "can_speak")), "open floor: observer listens");
    json_decref(j);
    ws_close(w);
    fb_signalling_stop(sg);
  }
  cfg->open_floor = 0;
  test_tls(cfg, b);
  fb_bridge_free(b);
  free(cfg);
  snprintf(path, sizeof path, "rm -rf %s", dir);
  if (system(path) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return CHECK_DONE();
}
