/*
 * test_security — the refusals that protect a meeting:
 *  - a token revoked by the secretariat (by its id, or every token of a
 *    delegate) cannot join, even before it expires, and the list is re-read
 *    while the bridge runs; other delegates are unaffected;
 *  - a delegate revoked while connected is told why (token_revoked),
 *    disconnected within seconds and audited; the others stay;
 *  - a token whose "nbf" is ahead (an invitation for next week) is refused
 *    with token_not_yet_valid;
 *  - a config that listens beyond loopback is refused without TLS, or with
 *    the demo's published token secret;
 *  - a client that vanishes (never completes ICE, or stops its consent
 *    checks) is taken off the floor within the consent timeout and the chair
 *    is told.
 * (Forged, expired and wrong-meeting tokens, chair commands from delegates,
 * barred delegates under a new token, traversal and chat injection have their
 * own tests: test_signalling, test_chair_protocol, the browser tests.)
 */
#define _GNU_SOURCE /* strcasestr in ws_client.h */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "util/log.h"
#include "check.h"
#include "signalling/server.h"
#include "signalling/token.h"
#include "test_config.h"
#include "ws_client.h"

#define SECRET "security-test-secret-0123456789"
#define MEETING "sec-meeting"

static const char *OFFER =
    "v=0\r\no=- 4215775240449105457 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Jq3c\r\na=ice-pwd:8mJbJ4Vn0m9ZpQ2k3xYhL1aT\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
    "43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n";

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static ws *join_open(const char *delegate, fb_role role) {
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", MEETING);
  snprintf(t.delegate, sizeof t.delegate, "%s", delegate);
  snprintf(t.name, sizeof t.name, "Delegate %s", delegate);
  t.role = role;
  t.exp = time(NULL) + 600;
  char tok[FB_TOKEN_MAX + 1], msg[FB_TOKEN_MAX + 64];
  if (fb_token_mint(SECRET, &t, tok, sizeof tok) < 0) return NULL;
  ws *w = ws_open();
  if (!w) return NULL;
  snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}", tok);
  ws_send(w, msg);
  return w;
}

/* Read messages until one of type (and event, if given) or the deadline. */
static json_t *wait_msg(ws *w, const char *type, const char *event, int ms) {
  for (int waited = 0; waited < ms; waited += 100) {
    json_t *j = ws_json_any(w, 100);
    if (!j) continue;
    if (strcmp(str(j, "type"), type) == 0 && (!event || strcmp(str(j, "event"), event) == 0))
      return j;
    json_decref(j);
  }
  return NULL;
}

static const char *join_nbf(const char *delegate, const char *jti, long long nbf) {
  static char code[64];
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", MEETING);
  snprintf(t.delegate, sizeof t.delegate, "%s", delegate);
  snprintf(t.name, sizeof t.name, "Delegate %s", delegate);
  snprintf(t.jti, sizeof t.jti, "%s", jti);
  t.role = FB_ROLE_DELEGATE;
  t.exp = time(NULL) + 7 * 86400;
  t.nbf = nbf;
  char tok[FB_TOKEN_MAX + 1], msg[FB_TOKEN_MAX + 64];
  if (fb_token_mint(SECRET, &t, tok, sizeof tok) < 0) return "mint failed";
  ws *w = ws_open();
  if (!w) return "no connection";
  snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}", tok);
  ws_send(w, msg);
  json_t *j = ws_json_any(w, 3000);
  const char *type = j ? str(j, "type") : "";
  snprintf(code, sizeof code, "%s",
           strcmp(type, "joined") == 0  ? "joined"
           : strcmp(type, "error") == 0 ? str(j, "code")
                                        : "no answer");
  if (j) json_decref(j);
  ws_close(w);
  return code;
}

static const char *join(const char *delegate, const char *jti) {
  return join_nbf(delegate, jti, 0);
}

/* Count of audit rows matching action and target in the store at db. */
static int audit_count(const char *db, const char *action, const char *target) {
  sqlite3 *h;
  int n = -1;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return -1;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h, "SELECT count(*) FROM audit WHERE action = ?1 AND target = ?2", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return n;
}

/* Replace path's content the way floorbridge invite does: beside, then rename. */
static void replace_file(const char *path, const char *text) {
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  FILE *f = fopen(tmp, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
    rename(tmp, path);
  }
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

int main(void) {
  char dir[] = "/tmp/fb-security-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char revoked[128], db[128];
  snprintf(revoked, sizeof revoked, "%s/revoked.txt", dir);
  snprintf(db, sizeof db, "%s/store.db", dir);
  fb_log_set_level(FB_LOG_WARN);

  /* production refusals */
  fb_config c;
  fb_config_defaults(&c);
  char err[512];
  snprintf(c.token_secret, sizeof c.token_secret, "%s", SECRET);
  snprintf(c.sig_bind, sizeof c.sig_bind, "0.0.0.0");
  CHECK(fb_config_validate(&c, err, sizeof err) < 0 && strstr(err, "tls_cert"),
        "public bind without TLS refused: %s", err);
  snprintf(c.sig_tls_cert, sizeof c.sig_tls_cert, "/etc/ssl/x.pem");
  snprintf(c.sig_tls_key, sizeof c.sig_tls_key, "/etc/ssl/x.key");
  snprintf(c.token_secret, sizeof c.token_secret, "%s", FB_DEMO_TOKEN_SECRET);
  CHECK(fb_config_validate(&c, err, sizeof err) < 0 && strstr(err, "token_secret"),
        "public bind with the demo secret refused: %s", err);
  snprintf(c.token_secret, sizeof c.token_secret, "%s", SECRET);
  CHECK(fb_config_validate(&c, err, sizeof err) == 0,
        "public bind with TLS and a real secret ok: %s", err);
  fb_config_defaults(&c);
  snprintf(c.token_secret, sizeof c.token_secret, "%s", FB_DEMO_TOKEN_SECRET);
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "the demo on loopback stays allowed: %s",
        err);

  /* revocation, live */
  fb_config *cfg = test_config_new(dir, MEETING, SECRET);
  snprintf(cfg->revoked_file, sizeof cfg->revoked_file, "%s", revoked);
  snprintf(cfg->store_path, sizeof cfg->store_path, "%s", db);
  cfg->webrtc_consent_timeout_s = 5;
  fb_bridge *b = fb_bridge_new(cfg, err, sizeof err);
  fb_signalling *sg = b ? fb_signalling_start(cfg, b, err, sizeof err) : NULL;
  CHECK(b && sg, "bridge and signalling start: %s", err);
  if (sg) {
    port = fb_signalling_port(sg);
    CHECK(strcmp(join("alice", "tok-a1"), "joined") == 0, "no list yet: alice joins");
    write_file(revoked, "# leaked in a mail\njti:tok-a1\n");
    CHECK(strcmp(join("alice", "tok-a1"), "token_revoked") == 0, "the leaked token is refused");
    CHECK(strcmp(join("alice", "tok-a2"), "joined") == 0, "alice's new token works");
    CHECK(strcmp(join("bob", "tok-b1"), "joined") == 0, "bob unaffected");
    sleep(1); /* a new mtime second, so the change is seen */
    write_file(revoked, "jti:tok-a1\ndelegate:bob   # no longer registered\n");
    CHECK(strcmp(join("bob", "tok-b2"), "token_revoked") == 0, "every token of bob refused");
    CHECK(strcmp(join("alice", "tok-a3"), "joined") == 0, "alice still fine");
    unlink(revoked);
    CHECK(strcmp(join("bob", "tok-b3"), "joined") == 0, "list removed: nothing revoked");

    /* not before: an invitation for next week */
    CHECK(strcmp(join_nbf("erin", "tok-e1", time(NULL) + 86400), "token_not_yet_valid") == 0,
          "a token that opens tomorrow is refused today");
    CHECK(strcmp(join_nbf("erin", "tok-e2", time(NULL) - 60), "joined") == 0,
          "a token that opened a minute ago joins");

    /* revoked while connected: carol is told and disconnected, dave stays */
    ws *carol = join_open("carol", FB_ROLE_DELEGATE);
    ws *dave = join_open("dave", FB_ROLE_DELEGATE);
    json_t *jc = carol ? wait_msg(carol, "joined", NULL, 3000) : NULL;
    json_t *jd = dave ? wait_msg(dave, "joined", NULL, 3000) : NULL;
    CHECK(jc && jd, "carol and dave are in");
    if (jc) json_decref(jc);
    if (jd) json_decref(jd);
    double t_rev = now_s();
    replace_file(revoked, "delegate:carol  # dropped from the registration list\n");
    json_t *e = carol ? wait_msg(carol, "error", NULL, 5000) : NULL;
    double took = now_s() - t_rev;
    CHECK(e && strcmp(str(e, "code"), "token_revoked") == 0, "carol is told: %s",
          e ? str(e, "code") : "(nothing)");
    CHECK(took < 3.0, "within seconds (%.1f s; the meeting looks once a second)", took);
    if (e) json_decref(e);
    json_t *after = carol ? ws_json_any(carol, 3000) : NULL;
    CHECK(!after && carol && carol->close_code == 1008, "then her connection is closed (code %d)",
          carol ? carol->close_code : -1);
    if (after) json_decref(after);
    CHECK(audit_count(db, "revoke", "carol") == 1, "the revocation is audited");
    /* dave is undisturbed: his connection still answers */
    json_t *o = json_pack("{s:i, s:s}", "v", 1, "type", "ping");
    char *ping = json_dumps(o, 0);
    if (dave) ws_send(dave, ping);
    free(ping);
    json_decref(o);
    json_t *pong = dave ? wait_msg(dave, "pong", NULL, 3000) : NULL;
    CHECK(pong != NULL, "dave's connection still answers");
    if (pong) json_decref(pong);
    if (carol) ws_close(carol);
    if (dave) ws_close(dave);
    unlink(revoked);

    /* a delegate whose browser vanishes after the offer (no ICE ever) */
    ws *chair = join_open("chair-1", FB_ROLE_CHAIR);
    ws *ghost = join_open("ghost", FB_ROLE_DELEGATE);
    json_t *j = chair ? wait_msg(chair, "joined", NULL, 3000) : NULL;
    CHECK(j != NULL, "chair joined");
    if (j) json_decref(j);
    j = ghost ? wait_msg(ghost, "joined", NULL, 3000) : NULL;
    CHECK(j != NULL, "ghost joined");
    if (j) json_decref(j);
    if (ghost) {
      json_t *offer = json_pack("{s:i, s:s, s:s}", "v", 1, "type", "offer", "sdp", OFFER);
      char *text = json_dumps(offer, 0);
      ws_send(ghost, text);
      free(text);
      json_decref(offer);
      j = wait_msg(ghost, "answer", NULL, 3000);
      CHECK(j != NULL, "ghost got an answer, then goes silent");
      if (j) json_decref(j);
    }
    double t0 = (double)time(NULL);
    j = chair ? wait_msg(chair, "event", "participant_lost", 12000) : NULL;
    CHECK(j != NULL && strstr(str(j, "detail"), "ghost") != NULL,
          "the chair is told the ghost is lost: %s", j ? str(j, "detail") : "(nothing)");
    CHECK((double)time(NULL) - t0 <= 10, "within the consent timeout (5 s) and a margin");
    if (j) json_decref(j);
    if (chair) ws_close(chair);
    if (ghost) ws_close(ghost);
    fb_signalling_stop(sg);
  }
  fb_bridge_free(b);
  free(cfg);
  unlink(db);
  rmdir(dir);
  return CHECK_DONE();
}
