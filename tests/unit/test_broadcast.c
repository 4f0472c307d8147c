/*
 * test_broadcast.c — the state messages of signalling/broadcast.c, on a
 * meeting driven in-process (an in-memory bridge that has no participants, a
 * fake clock, every send captured):
 *   - a roster delta to the chairs lists exactly the delegates whose entry
 *     changed: one for one delegate's change, the ones behind it when the
 *     queue moves up;
 *   - over a scripted sequence of every kind of change and a long random
 *     one, the marks-based delta is what the old comparison of every
 *     delegate's snapshot finds (fb_meeting_roster_check counts any
 *     delegate that changed without being marked), in index order;
 *   - the connected count to delegates and observers: at most one change a
 *     second, and a change held back by that limit still arrives once the
 *     second is up, at the next flush, with or without the tick.
 *
 * `test_broadcast --bench [N]` prints what one flush costs with N delegates
 * (default 3000) after one delegate's change: with every delegate connected,
 * and with only a chair connected (the rest known to the floor, e.g. after a
 * restart), where the roster delta is the whole of the work.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "check.h"
#include "signalling/floor.h"
#include "signalling/meeting.h"
#include "signalling/token.h"

#define SECRET "test-broadcast-secret-0123456789"
#define T0 1700000000000LL

typedef struct {
  fb_session *s;
  char id[64];
  int msgs;
  int closed;
  int count, ncounts;    /* roster {count} to a non-chair: the last and how many */
  int deltas;            /* roster deltas ("full": false) to a chair */
  int yous;              /* "you" messages */
  char delta_ids[2048];  /* the last delta's delegates, " a b c " */
  char last_delta[8192]; /* ... and its text */
} conn;

static struct {
  fb_meeting *m;
  int64_t now;
  int capture; /* parse what is sent (off in the benchmark) */
  conn *c;
  int nc;
} G;

static int bad_join(void *ud, const char *name, int live, int uplink, const fb_webrtc_offer *o,
                    fb_webrtc_answer *a, int *pid, char *err, size_t errlen) {
  snprintf(err, errlen, "no media in this test");
  return -1;
}
static int no_leave(void *ud, int pid) { return -1; }
static int no_media(void *ud, int pid, fb_media_state st, int uplink, char *err, size_t len) {
  return -1;
}
static int no_quality(void *ud, int pid, fb_quality *q) { return -1; }
static int port(void *ud) { return 40000; }
static int64_t clock_ms(void *ud) { return G.now; }

static void io_send(void *cp, const char *text) {
  conn *c = cp;
  c->msgs++;
  if (G.capture && strstr(text, "\"type\":\"you\"")) c->yous++;
  if (!G.capture || !strstr(text, "\"roster\"")) return;
  json_t *j = json_loads(text, 0, NULL);
  if (!j) return;
  json_t *parts = json_object_get(j, "participants");
  if (!parts) {
    c->count = (int)json_integer_value(json_object_get(j, "count"));
    c->ncounts++;
  } else if (json_is_false(json_object_get(j, "full"))) {
    c->deltas++;
    size_t i, off = 0;
    json_t *p;
    c->delta_ids[off++] = ' ';
    json_array_foreach(parts, i, p) {
      off += (size_t)snprintf(c->delta_ids + off, sizeof c->delta_ids - off, "%s ",
                              json_string_value(json_object_get(p, "delegate")));
      if (off >= sizeof c->delta_ids) off = sizeof c->delta_ids - 1;
    }
    c->delta_ids[off] = '\0';
    snprintf(c->last_delta, sizeof c->last_delta, "%s", text);
  }
  json_decref(j);
}

static void io_close(void *cp, int code, const char *reason) { ((conn *)cp)->closed = 1; }

static void meeting_new(int nconn) {
  fb_config cfg;
  fb_config_defaults(&cfg);
  snprintf(cfg.meeting_id, sizeof cfg.meeting_id, "m1");
  cfg.floor_max_live = 2;
  snprintf(cfg.floor_sessions, sizeof cfg.floor_sessions,
           "Debate:interactive,Plenary:webcast,Caucus:interactive");
  fb_meeting_bridge br = {NULL, bad_join, no_leave, no_media, no_quality, port, clock_ms};
  fb_session_io io = {io_send, io_close};
  G.now = T0;
  G.m = fb_meeting_new(&cfg, &br, SECRET, &io);
  G.c = calloc((size_t)nconn, sizeof *G.c);
  G.nc = nconn;
  if (!G.m || !G.c) abort();
}

static void meeting_free(void) {
  fb_meeting_free(G.m);
  free(G.c);
  memset(&G, 0, sizeof G);
}

static void drop(int k);

/* Connection k (opened if it is not) sends a message. */
static void say(int k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int k, const char *fmt, ...) {
  char text[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (!G.c[k].s) G.c[k].s = fb_meeting_open(G.m, &G.c[k]);
  fb_meeting_message(G.m, G.c[k].s, text, strlen(text));
}

/* Connection k joins as id with role ("chair", "delegate", "observer"). */
static void join(int k, const char *id, const char *role) {
  conn *c = &G.c[k];
  if (c->closed) drop(k); /* the meeting closed it: the transport let it go */
  if (!c->s) c->s = fb_meeting_open(G.m, c);
  snprintf(c->id, sizeof c->id, "%s", id);
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "m1");
  snprintf(t.delegate, sizeof t.delegate, "%s", id);
  snprintf(t.name, sizeof t.name, "Name of %s", id);
  t.role = (fb_role)fb_role_parse(role);
  t.iat = 1600000000;
  t.exp = 4102444800LL;
  char tok[FB_TOKEN_MAX + 1];
  if (fb_token_mint(SECRET, &t, tok, sizeof tok) < 0) abort();
  say(k, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}", tok);
}

static void drop(int k) {
  if (!G.c[k].s) return;
  fb_meeting_close(G.m, G.c[k].s);
  G.c[k].s = NULL;
  G.c[k].closed = 0;
}

static void flush(void) {
  fb_meeting_flush(G.m);
  CHECK(fb_meeting_roster_check(G.m) == 0, "a delegate changed without being marked");
}

/* The chair's next delta after what(), as " id id ". */
static const char *delta_after(int chair, void (*what)(void)) {
  int before = G.c[chair].deltas;
  what();
  flush();
  return G.c[chair].deltas == before ? "(none)" : G.c[chair].delta_ids;
}

/* ---- one delegate's change ----------------------------------------------- */

static void d3_requests(void) { say(3, "{\"v\":1,\"type\":\"request_floor\"}"); }
static void d4_requests(void) { say(4, "{\"v\":1,\"type\":\"request_floor\"}"); }
static void d3_withdraws(void) { say(3, "{\"v\":1,\"type\":\"withdraw\"}"); }
static void grant_d4(void) { say(0, "{\"v\":1,\"type\":\"grant\",\"delegate\":\"d4\"}"); }
static void mute_d4(void) { say(0, "{\"v\":1,\"type\":\"mute\",\"delegate\":\"d4\",\"on\":true}"); }
static void cut_d2(void) {
  say(0, "{\"v\":1,\"type\":\"cut\",\"delegate\":\"d2\",\"reason\":\"noise\"}");
}
static void d5_leaves(void) { drop(5); }
static void nothing(void) { say(2, "{\"v\":1,\"type\":\"ping\",\"id\":1}"); }

static void test_one_change(void) {
  meeting_new(8);
  fb_meeting_roster_check(G.m);
  join(0, "ch", "chair");
  flush();
  for (int k = 1; k <= 5; k++) {
    char id[8];
    snprintf(id, sizeof id, "d%d", k);
    join(k, id, "delegate");
  }
  join(6, "ob", "observer");
  flush();
  CHECK(G.c[0].deltas == 1 && strcmp(G.c[0].delta_ids, " d1 d2 d3 d4 d5 ob ") == 0,
        "the joins after the chair's: %s", G.c[0].delta_ids);
  CHECK(strcmp(delta_after(0, d3_requests), " d3 ") == 0, "request: %s", G.c[0].delta_ids);
  CHECK(strstr(G.c[0].last_delta, "\"state\":\"queued\"") &&
            strstr(G.c[0].last_delta, "\"queue_position\":1"),
        "d3 queued first: %s", G.c[0].last_delta);
  CHECK(strcmp(delta_after(0, d4_requests), " d4 ") == 0, "second request: %s", G.c[0].delta_ids);
  /* d3 leaves the queue: d4 moves up to 1, so it changed too */
  int y3 = G.c[3].yous, y4 = G.c[4].yous, y1 = G.c[1].yous;
  CHECK(strcmp(delta_after(0, d3_withdraws), " d3 d4 ") == 0, "withdraw: %s", G.c[0].delta_ids);
  CHECK(G.c[3].yous == y3 + 1 && G.c[4].yous == y4 + 1 && G.c[1].yous == y1,
        "\"you\" to d3 and d4 (moved up), not to d1");
  CHECK(strcmp(delta_after(0, grant_d4), " d4 ") == 0, "grant: %s", G.c[0].delta_ids);
  CHECK(strcmp(delta_after(0, mute_d4), " d4 ") == 0, "mute: %s", G.c[0].delta_ids);
  CHECK(strcmp(delta_after(0, cut_d2), " d2 ") == 0, "cut: %s", G.c[0].delta_ids);
  CHECK(strcmp(delta_after(0, d5_leaves), " d5 ") == 0, "leave: %s", G.c[0].delta_ids);
  CHECK(strcmp(delta_after(0, nothing), "(none)") == 0, "a ping changes nobody");
  meeting_free();
}

/* ---- the marks against the full comparison ---------------------------------- */

static const char *const IDS[] = {"ch", "c2", "d1", "d2", "d3", "d4", "d5", "d6", "ob", "auto"};
#define NIDS (int)(sizeof IDS / sizeof *IDS)
static const char *role_of(int i) { return i < 2 ? "chair" : i == 8 ? "observer" : "delegate"; }

/* Step r of a sequence: connection k (IDS[k]) does something. */
static void step(unsigned r) {
  int k = (int)(r % NIDS), t = (int)((r >> 4) % 17), who = (int)((r >> 9) % NIDS);
  int chair = (r >> 13) & 1 ? 0 : 1;
  const char *id = IDS[who];
  if (!G.c[k].s && t != 0) t = 0;
  switch (t) {
  case 0: join(k, IDS[k], role_of(k)); break;
  case 1: say(k, "{\"v\":1,\"type\":\"request_floor\"}"); break;
  case 2: say(k, "{\"v\":1,\"type\":\"withdraw\"}"); break;
  case 3: say(k, "{\"v\":1,\"type\":\"mute\",\"on\":%s}", r & 0x10000 ? "true" : "false"); break;
  case 4: say(chair, "{\"v\":1,\"type\":\"grant\",\"delegate\":\"%s\"}", id); break;
  case 5: say(chair, "{\"v\":1,\"type\":\"end_turn\",\"delegate\":\"%s\"}", id); break;
  case 6:
    say(chair, "{\"v\":1,\"type\":\"mute\",\"delegate\":\"%s\",\"on\":%s}", id,
        r & 0x10000 ? "true" : "false");
    break;
  case 7: say(chair, "{\"v\":1,\"type\":\"mute_all\"}"); break;
  case 8:
    say(chair, "{\"v\":1,\"type\":\"cut\",\"delegate\":\"%s\",\"reason\":\"r%u\"}", id, r);
    break;
  case 9: say(chair, "{\"v\":1,\"type\":\"allow\",\"delegate\":\"%s\"}", id); break;
  case 10:
    say(chair, "{\"v\":1,\"type\":\"queue_move\",\"delegate\":\"%s\",\"position\":%u}", id,
        1 + (r >> 17) % 4);
    break;
  case 11: say(chair, "{\"v\":1,\"type\":\"queue_remove\",\"delegate\":\"%s\"}", id); break;
  case 12:
    say(chair, "{\"v\":1,\"type\":\"set_mode\",\"mode\":\"%s\"}",
        r & 0x10000 ? "webcast" : "interactive");
    break;
  case 13: say(chair, "{\"v\":1,\"type\":\"set_session\",\"index\":%u}", (r >> 17) % 3); break;
  case 14: say(k, "{\"v\":1,\"type\":\"leave\"}"); break;
  case 15: drop(k); break;
  default: G.now += (r >> 17) % 3000; break;
  }
  if (!((r >> 20) & 3)) return; /* a quarter of the steps: held, flushed with the next */
  flush();
  fb_meeting_tick(G.m);
}

static void test_against_full_compare(void) {
  meeting_new(NIDS);
  CHECK(fb_meeting_roster_check(G.m) == 0, "checking");
  /* scripted: every kind of change once, in an order that means something */
#define M(body) "{\"v\":1,\"type\":" body "}"
  static const struct {
    int k;
    const char *msg; /* "join", "close" or a message */
  } script[] = {
      {0, "join"},
      {2, "join"},
      {3, "join"},
      {4, "join"},
      {8, "join"},
      {2, M("\"request_floor\"")},
      {3, M("\"request_floor\"")},
      {4, M("\"request_floor\"")},
      {0, M("\"queue_move\",\"delegate\":\"d3\",\"position\":1")},
      {0, M("\"grant\",\"delegate\":\"d3\"")},
      {4, M("\"mute\",\"on\":true")},
      {0, M("\"mute\",\"delegate\":\"d3\",\"on\":true")},
      {0, M("\"mute_all\"")},
      {0, M("\"cut\",\"delegate\":\"d1\",\"reason\":\"noise\"")},
      {0, M("\"allow\",\"delegate\":\"d1\"")},
      {0, M("\"queue_remove\",\"delegate\":\"d2\"")},
      {0, M("\"set_mode\",\"mode\":\"webcast\"")},
      {0, M("\"set_mode\",\"mode\":\"interactive\"")},
      {0, M("\"set_session\",\"index\":2")},
      {3, M("\"leave\"")},
      {4, "close"},
      {4, "join"},
      {1, "join"},
      {9, "join"},
  };
#undef M
  for (size_t i = 0; i < sizeof script / sizeof *script; i++) {
    int k = script[i].k;
    if (!strcmp(script[i].msg, "join"))
      join(k, IDS[k], role_of(k));
    else if (!strcmp(script[i].msg, "close"))
      drop(k);
    else
      say(k, "%s", script[i].msg);
    G.now += 700;
    flush();
  }
  CHECK(G.c[0].deltas >= 20, "the chair saw the changes: %d deltas", G.c[0].deltas);
  /* random: 20,000 steps of the same vocabulary, some flushes held */
  unsigned x = 12345;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    step(x);
  }
  flush();
  CHECK(fb_meeting_roster_check(G.m) == 0, "no change went unmarked");
  meeting_free();
}

/* ---- the count -------------------------------------------------------------- */

static void test_count(void) {
  meeting_new(6);
  join(0, "ch", "chair");
  join(1, "d1", "delegate");
  flush();
  CHECK(G.c[1].ncounts == 1 && G.c[1].count == 2, "d1 joins: count %d", G.c[1].count);
  G.now += 100;
  join(2, "d2", "delegate");
  flush();
  CHECK(G.c[1].count == 3, "the first change in a second goes at once: %d", G.c[1].count);
  G.now += 200; /* +300 ms */
  join(3, "d3", "delegate");
  flush();
  CHECK(G.c[1].count == 3 && G.c[3].count == 4, "held back (d1 %d), the joiner has it (%d)",
        G.c[1].count, G.c[3].count);
  G.now += 799; /* 999 ms after the last count */
  flush();
  CHECK(G.c[1].count == 3, "not yet: %d", G.c[1].count);
  G.now += 1;
  int n1 = G.c[1].ncounts, n3 = G.c[3].ncounts;
  flush(); /* nothing changed since: the held count still goes */
  CHECK(G.c[1].count == 4 && G.c[2].count == 4, "after the second: %d %d", G.c[1].count,
        G.c[2].count);
  CHECK(G.c[1].ncounts == n1 + 1 && G.c[3].ncounts == n3, "once, and not to who had it");
  flush();
  CHECK(G.c[1].ncounts == n1 + 1, "not again");
  /* the same through the tick: a change and a change back inside the window */
  G.now += 1000;
  join(4, "d4", "delegate");
  flush();
  CHECK(G.c[1].count == 5, "a new second: at once (%d)", G.c[1].count);
  G.now += 100;
  drop(4);
  join(5, "ob", "observer");
  drop(3);
  flush();
  CHECK(G.c[5].count == 4 && G.c[1].count == 5, "the observer has 4, d1 still 5 (%d)",
        G.c[1].count);
  G.now += 900;
  fb_meeting_tick(G.m);
  flush();
  CHECK(G.c[1].count == 4 && G.c[2].count == 4, "after the tick: %d %d", G.c[1].count,
        G.c[2].count);
  /* back to the count everyone was told, but a joiner in between has another */
  G.now += 100;
  join(3, "d3", "delegate");
  flush();
  drop(5);
  flush();
  CHECK(G.c[3].count == 5 && G.c[1].count == 4, "d3 joined with 5 (%d)", G.c[3].count);
  G.now += 900;
  flush();
  CHECK(G.c[3].count == 4, "d3 is told 4 after the second (%d)", G.c[3].count);
  CHECK(G.c[0].ncounts == 0, "chairs get the roster, not the count");
  meeting_free();
}

/* ---- benchmark ---------------------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(int n, int keep) {
  G.capture = 0;
  meeting_new(n + 1);
  join(0, "ch", "chair");
  for (int k = 1; k <= n; k++) {
    char id[16];
    snprintf(id, sizeof id, "d%d", k);
    join(k, id, "delegate");
    if (k % 50 == 0) fb_meeting_flush(G.m);
  }
  fb_meeting_flush(G.m);
  if (!keep)
    for (int k = 2; k <= n; k++) drop(k);
  G.now += 5000;
  fb_meeting_flush(G.m);
  const int rounds = 400;
  double t0 = now_s();
  for (int i = 0; i < rounds; i++) {
    say(1, i % 2 ? "{\"v\":1,\"type\":\"withdraw\"}" : "{\"v\":1,\"type\":\"request_floor\"}");
    fb_meeting_flush(G.m);
  }
  double t = now_s() - t0;
  printf("%d delegates, %s: %.1f us per change + flush (request/withdraw, %d rounds)\n", n,
         keep ? "all connected" : "one connected besides the chair", t / rounds * 1e6, rounds);
  meeting_free();
}

int main(int argc, char **argv) {
  fb_log_set_level(FB_LOG_ERROR);
  if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
    int n = argc > 2 ? atoi(argv[2]) : 3000;
    bench(n, 0);
    bench(n, 1);
    return 0;
  }
  G.capture = 1;
  test_one_change();
  G.capture = 1;
  test_against_full_compare();
  G.capture = 1;
  test_count();
  return CHECK_DONE();
}
