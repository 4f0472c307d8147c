/*
 * test_floor.c — the meeting's rules (signalling/floor.c): the queue, grants,
 * mutes, cuts and bars, webcast mode, sessions, chair-only actions and their
 * audit, quality flags, auto-cut and recovery, reconnects and restores.
 * Every test checks the state AND the hook calls (media, changed, audit,
 * spoken), recorded below.
 */
#include "check.h"
#include "signalling/floor.h"

#include <stdio.h>
#include <string.h>

/* ---- hook recorder ---- */

typedef struct {
  char id[64];
  fb_floor_media m;
  int uplink;
} media_ev;
typedef struct {
  int64_t ms;
  char actor[64], action[64], target[64], detail[256];
} audit_ev;
typedef struct {
  char id[64];
  int session;
  int64_t start, end;
} spoken_ev;

static struct {
  media_ev media[4096];
  int nmedia;
  audit_ev audit[256];
  int naudit;
  spoken_ev spoken[256];
  int nspoken;
  int roster, queue, mode;
  int touched[64]; /* on_delegate calls per index */
} R;

static void on_media(void *ud, const char *id, fb_floor_media m, int uplink) {
  (void)ud;
  if (R.nmedia >= 4096) return;
  media_ev *e = &R.media[R.nmedia++];
  snprintf(e->id, sizeof e->id, "%s", id);
  e->m = m;
  e->uplink = uplink;
}
static void on_changed(void *ud, const char *what) {
  (void)ud;
  if (!strcmp(what, "roster"))
    R.roster++;
  else if (!strcmp(what, "queue"))
    R.queue++;
  else if (!strcmp(what, "mode"))
    R.mode++;
}
static void on_delegate(void *ud, int index) {
  (void)ud;
  if (index >= 0 && index < 64) R.touched[index]++;
}
static void on_audit(void *ud, int64_t ms, const char *actor, const char *action,
                     const char *target, const char *detail) {
  (void)ud;
  if (R.naudit >= 256) return;
  audit_ev *a = &R.audit[R.naudit++];
  a->ms = ms;
  snprintf(a->actor, sizeof a->actor, "%s", actor);
  snprintf(a->action, sizeof a->action, "%s", action);
  snprintf(a->target, sizeof a->target, "%s", target);
  snprintf(a->detail, sizeof a->detail, "%s", detail);
}
static void on_spoken(void *ud, const char *id, int session, int64_t start, int64_t end) {
  (void)ud;
  if (R.nspoken >= 256) return;
  spoken_ev *s = &R.spoken[R.nspoken++];
  snprintf(s->id, sizeof s->id, "%s", id);
  s->session = session;
  s->start = start;
  s->end = end;
}

static void reset(void) { memset(&R, 0, sizeof R); }

/* The latest media event for id (NULL if none since reset); n = their count. */
static const media_ev *media_of(const char *id, int *n) {
  const media_ev *last = NULL;
  int c = 0;
  for (int i = 0; i < R.nmedia; i++)
    if (!strcmp(R.media[i].id, id)) {
      last = &R.media[i];
      c++;
    }
  if (n) *n = c;
  return last;
}

static const audit_ev *last_audit(void) { return R.naudit ? &R.audit[R.naudit - 1] : NULL; }

static int audit_is(const char *actor, const char *action, const char *target, const char *detail) {
  const audit_ev *a = last_audit();
  return a && !strcmp(a->actor, actor) && !strcmp(a->action, action) &&
         !strcmp(a->target, target) && (!detail || !strcmp(a->detail, detail));
}

static const fb_floor_hooks HOOKS = {on_media, on_changed, on_audit, on_spoken, on_delegate};

static fb_floor_config config(void) {
  fb_floor_config c;
  memset(&c, 0, sizeof c);
  c.max_live = 2;
  c.nsessions = 3;
  snprintf(c.sessions[0].name, sizeof c.sessions[0].name, "Plenary");
  c.sessions[0].mode = FB_MODE_INTERACTIVE;
  snprintf(c.sessions[1].name, sizeof c.sessions[1].name, "Closing plenary");
  c.sessions[1].mode = FB_MODE_WEBCAST;
  snprintf(c.sessions[2].name, sizeof c.sessions[2].name, "WP1");
  c.sessions[2].mode = FB_MODE_INTERACTIVE;
  c.min_mos = 3.0;
  c.max_loss_pct = 10;
  c.flag_after_ms = 3000;
  c.recover_after_ms = 5000;
  return c;
}

/* A meeting: chair "C", delegates "A", "B", "D", observer "O", all connected. */
static fb_floor *meeting(const fb_floor_config *cfg) {
  fb_floor_config c = cfg ? *cfg : config();
  fb_floor *f = fb_floor_new(&c, &HOOKS, NULL);
  fb_floor_connect(f, "C", "Chair", FB_ROLE_CHAIR, 0);
  fb_floor_connect(f, "A", "Alice", FB_ROLE_DELEGATE, 0);
  fb_floor_connect(f, "B", "Bob", FB_ROLE_DELEGATE, 0);
  fb_floor_connect(f, "D", "Dana", FB_ROLE_DELEGATE, 0);
  fb_floor_connect(f, "O", "Observer", FB_ROLE_OBSERVER, 0);
  reset();
  return f;
}

static fb_floor_state st(fb_floor *f, const char *id) { return fb_floor_find(f, id)->state; }

#define OK(expr) CHECK((err = (expr)) == NULL, "%s -> %s", #expr, err ? err : "ok")
#define ERR(expr, code) \
  CHECK((err = (expr)) && !strcmp(err, code), "%s -> %s, want %s", #expr, err ? err : "ok", code)

static void test_request_queue(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  const fb_delegate *q[8];
  OK(fb_floor_request(f, "A", 200));
  CHECK(R.queue == 1 && R.roster == 1, "queue %d roster %d", R.queue, R.roster);
  OK(fb_floor_request(f, "B", 100)); /* earlier request goes first */
  OK(fb_floor_request(f, "D", 200)); /* tie with A: after A */
  OK(fb_floor_request(f, "C", 300)); /* chairs are delegates too */
  CHECK(fb_floor_queue(f, q, 8) == 4, "queue length");
  CHECK(!strcmp(q[0]->id, "B") && !strcmp(q[1]->id, "A") && !strcmp(q[2]->id, "D") &&
            !strcmp(q[3]->id, "C"),
        "order %s %s %s %s", q[0]->id, q[1]->id, q[2]->id, q[3]->id);
  CHECK(q[1]->requested_ms == 200 && q[2]->requested_ms == 201, "tie nudged: %lld",
        (long long)q[2]->requested_ms);
  CHECK(fb_floor_queue_position(f, "D") == 3 && fb_floor_queue_position(f, "O") == 0, "pos");
  CHECK(st(f, "A") == FB_FLOOR_QUEUED, "queued");
  const media_ev *m = media_of("A", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_LISTEN && m->uplink == 1, "queued listens");
  ERR(fb_floor_request(f, "A", 400), "already_queued");
  ERR(fb_floor_request(f, "O", 400), "not_delegate");
  ERR(fb_floor_request(f, "nobody", 400), "unknown_delegate");
  ERR(fb_floor_withdraw(f, "O", 400), "not_delegate");
  reset();
  OK(fb_floor_withdraw(f, "A", 500));
  CHECK(st(f, "A") == FB_FLOOR_LISTENING && fb_floor_queue(f, q, 8) == 3, "withdrawn");
  CHECK(!strcmp(q[0]->id, "B") && !strcmp(q[1]->id, "D"), "order kept");
  CHECK(fb_floor_queue_position(f, "D") == 2 && R.queue == 1, "positions renumbered");
  ERR(fb_floor_withdraw(f, "A", 500), "not_queued");
  CHECK(R.naudit == 0, "delegate actions are not audited");
  fb_floor_disconnect(f, "D", 600);
  CHECK(st(f, "D") == FB_FLOOR_LISTENING && fb_floor_queue_position(f, "D") == 0, "left");
  ERR(fb_floor_request(f, "D", 700), "not_connected");
  fb_floor_free(f);
}

static void test_grant_end(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  OK(fb_floor_request(f, "B", 100));
  OK(fb_floor_request(f, "A", 200));
  reset();
  OK(fb_floor_grant(f, "C", "B", 1000));
  CHECK(st(f, "B") == FB_FLOOR_LIVE && fb_floor_queue_position(f, "B") == 0, "B live");
  CHECK(fb_floor_queue_position(f, "A") == 1, "A moved up");
  const media_ev *m = media_of("B", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_LIVE && m->uplink == 1, "B media live");
  CHECK(audit_is("C", "grant", "B", NULL) && last_audit()->ms == 1000, "grant audited");
  CHECK(R.queue == 1 && R.roster == 1, "changed");
  OK(fb_floor_grant(f, "C", "D", 1500)); /* directly, not queued */
  CHECK(st(f, "D") == FB_FLOOR_LIVE && fb_floor_find(f, "D")->live_since_ms == 1500, "D live");
  ERR(fb_floor_grant(f, "C", "A", 1600), "floor_full");
  CHECK(audit_is("C", "refused:grant", "A", "floor_full"), "refusal audited");
  CHECK(st(f, "A") == FB_FLOOR_QUEUED, "A still queued");
  ERR(fb_floor_grant(f, "C", "D", 1600), "already_live");
  ERR(fb_floor_request(f, "D", 1600), "already_live");
  ERR(fb_floor_grant(f, "C", "O", 1600), "not_delegate");
  ERR(fb_floor_grant(f, "C", "zz", 1600), "unknown_delegate");
  reset();
  OK(fb_floor_end_turn(f, "C", "B", 31000));
  CHECK(st(f, "B") == FB_FLOOR_LISTENING, "B listening");
  CHECK(R.nspoken == 1 && !strcmp(R.spoken[0].id, "B") && R.spoken[0].session == 0 &&
            R.spoken[0].start == 1000 && R.spoken[0].end == 31000,
        "interval recorded");
  CHECK(fb_floor_find(f, "B")->spoken_ms == 30000, "spoken_ms");
  m = media_of("B", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_LISTEN, "B listens");
  CHECK(audit_is("C", "end_turn", "B", NULL), "end_turn audited");
  ERR(fb_floor_end_turn(f, "C", "B", 31000), "not_live");
  OK(fb_floor_grant(f, "C", "A", 32000)); /* room again */
  OK(fb_floor_withdraw(f, "A", 40000));   /* a live delegate yields the floor */
  CHECK(st(f, "A") == FB_FLOOR_LISTENING && fb_floor_find(f, "A")->spoken_ms == 8000, "yield");
  OK(fb_floor_grant(f, "C", "C", 41000)); /* a chair may take the floor */
  fb_floor_free(f);
}

static void test_mutes(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  OK(fb_floor_grant(f, "C", "A", 1000));
  reset();
  OK(fb_floor_mute(f, "C", "A", 1, 3000));
  const fb_delegate *a = fb_floor_find(f, "A");
  CHECK(a->state == FB_FLOOR_MUTED && a->chair_muted && !a->self_muted, "chair muted");
  const media_ev *m = media_of("A", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_MEASURE && m->uplink == 1, "muted -> MEASURE");
  CHECK(R.nspoken == 1 && R.spoken[0].start == 1000 && R.spoken[0].end == 3000, "interval");
  CHECK(audit_is("C", "mute", "A", NULL), "mute audited");
  ERR(fb_floor_self_mute(f, "A", 0, 3500), "chair_muted");
  CHECK(a->state == FB_FLOOR_MUTED, "still muted");
  OK(fb_floor_mute(f, "C", "A", 0, 5000));
  m = media_of("A", NULL);
  CHECK(a->state == FB_FLOOR_LIVE && !a->chair_muted && m->m == FB_FLOOR_MEDIA_LIVE, "unmuted");
  CHECK(audit_is("C", "unmute", "A", NULL), "unmute audited");
  CHECK(fb_floor_speaking_ms(f, "A", 5500) == 2500, "running: %lld",
        (long long)fb_floor_speaking_ms(f, "A", 5500));
  OK(fb_floor_self_mute(f, "A", 1, 6000));
  CHECK(fb_floor_speaking_ms(f, "A", 7000) == 3000, "muted time not counted");
  CHECK(fb_floor_speaking_ms(f, "nobody", 7000) == 0, "unknown");
  m = media_of("A", NULL);
  CHECK(a->state == FB_FLOOR_MUTED && a->self_muted && m->m == FB_FLOOR_MEDIA_MEASURE, "self");
  OK(fb_floor_self_mute(f, "A", 0, 8000));
  CHECK(a->state == FB_FLOOR_LIVE && !a->self_muted, "self unmute");
  OK(fb_floor_end_turn(f, "C", "A", 9000));
  /* spoken: 1000-3000, 5000-6000, 8000-9000; muted time does not count */
  CHECK(a->spoken_ms == 4000 && R.nspoken == 3, "spoken %lld in %d intervals",
        (long long)a->spoken_ms, R.nspoken);
  ERR(fb_floor_self_mute(f, "A", 1, 9000), "not_live");
  ERR(fb_floor_mute(f, "C", "A", 1, 9000), "not_live");

  /* a chair mute over a self mute: the delegate cannot lift it, and the
   * chair's unmute leaves the delegate's own mute in place */
  OK(fb_floor_grant(f, "C", "A", 10000));
  OK(fb_floor_self_mute(f, "A", 1, 11000));
  OK(fb_floor_mute(f, "C", "A", 1, 12000));
  ERR(fb_floor_self_mute(f, "A", 0, 13000), "chair_muted");
  OK(fb_floor_mute(f, "C", "A", 0, 14000));
  CHECK(a->state == FB_FLOOR_MUTED && a->self_muted && !a->chair_muted, "self mute stays");
  OK(fb_floor_self_mute(f, "A", 0, 15000));
  CHECK(a->state == FB_FLOOR_LIVE, "live again");

  /* mute_all: every live (and self-muted) speaker, one audit record */
  OK(fb_floor_grant(f, "C", "B", 16000));
  OK(fb_floor_self_mute(f, "B", 1, 16500));
  reset();
  OK(fb_floor_mute_all(f, "C", 17000));
  const fb_delegate *b = fb_floor_find(f, "B");
  CHECK(
      a->state == FB_FLOOR_MUTED && a->chair_muted && b->state == FB_FLOOR_MUTED && b->chair_muted,
      "all muted");
  CHECK(R.naudit == 1 && audit_is("C", "mute_all", "", "2 muted"), "one audit");
  m = media_of("A", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_MEASURE, "A measured");
  ERR(fb_floor_self_mute(f, "A", 0, 18000), "chair_muted");
  fb_floor_free(f);
}

static void test_cut_allow(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  OK(fb_floor_request(f, "A", 100));
  OK(fb_floor_request(f, "B", 200));
  OK(fb_floor_grant(f, "C", "D", 1000));
  reset();
  ERR(fb_floor_cut(f, "C", "A", "", 2000), "bad_argument");
  CHECK(audit_is("C", "refused:cut", "A", "bad_argument"), "refusal audited");
  ERR(fb_floor_cut(f, "C", "A", NULL, 2000), "bad_argument");
  ERR(fb_floor_cut(f, "C", "A", "  ", 2000), "bad_argument");
  CHECK(st(f, "A") == FB_FLOOR_QUEUED, "not cut");
  OK(fb_floor_cut(f, "C", "A", "echo and feedback", 2000));
  const fb_delegate *a = fb_floor_find(f, "A");
  CHECK(a->state == FB_FLOOR_BARRED && fb_floor_queue_position(f, "A") == 0, "A barred");
  CHECK(fb_floor_queue_position(f, "B") == 1, "B first");
  CHECK(!strcmp(a->bar_reason, "echo and feedback") && !strcmp(a->barred_by, "C") &&
            a->barred_ms == 2000,
        "bar fields");
  const media_ev *m = media_of("A", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_MEASURE && m->uplink == 1, "mic check");
  CHECK(audit_is("C", "cut", "A", "echo and feedback"), "cut audited");
  ERR(fb_floor_request(f, "A", 2100), "barred");
  ERR(fb_floor_grant(f, "C", "A", 2100), "barred");
  OK(fb_floor_cut(f, "C", "D", "noise", 5000)); /* a live speaker */
  CHECK(R.nspoken == 1 && R.spoken[0].start == 1000 && R.spoken[0].end == 5000, "interval");
  CHECK(st(f, "D") == FB_FLOOR_BARRED, "D barred");
  OK(fb_floor_grant(f, "C", "B", 5100)); /* D no longer holds the floor */

  /* the bar belongs to the delegate, not the connection */
  fb_floor_disconnect(f, "A", 6000);
  CHECK(st(f, "A") == FB_FLOOR_BARRED, "barred while away");
  reset();
  fb_floor_connect(f, "A", "Alice", FB_ROLE_DELEGATE, 7000);
  CHECK(st(f, "A") == FB_FLOOR_BARRED && !strcmp(a->bar_reason, "echo and feedback"), "kept");
  m = media_of("A", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_MEASURE, "mic check after rejoin");
  ERR(fb_floor_request(f, "A", 7100), "barred");

  reset();
  OK(fb_floor_allow(f, "C", "A", 8000));
  CHECK(
      a->state == FB_FLOOR_LISTENING && !a->bar_reason[0] && !a->barred_by[0] && a->barred_ms == 0,
      "allowed");
  m = media_of("A", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_LISTEN, "listens");
  CHECK(audit_is("C", "allow", "A", NULL) && R.roster >= 1, "allow audited");
  ERR(fb_floor_allow(f, "C", "A", 8000), "not_barred");
  OK(fb_floor_request(f, "A", 9000));
  ERR(fb_floor_cut(f, "C", "O", "x", 9000), "not_delegate");
  fb_floor_free(f);
}

static void test_queue_edit(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  const fb_delegate *q[8];
  OK(fb_floor_request(f, "A", 100));
  OK(fb_floor_request(f, "B", 200));
  OK(fb_floor_request(f, "D", 300));
  reset();
  OK(fb_floor_queue_move(f, "C", "D", 1, 400));
  fb_floor_queue(f, q, 8);
  CHECK(!strcmp(q[0]->id, "D") && !strcmp(q[1]->id, "A") && !strcmp(q[2]->id, "B"), "D first");
  CHECK(R.queue == 1 && audit_is("C", "queue_move", "D", "position 1"), "announced");
  OK(fb_floor_queue_move(f, "C", "A", 3, 400));
  fb_floor_queue(f, q, 8);
  CHECK(!strcmp(q[0]->id, "D") && !strcmp(q[1]->id, "B") && !strcmp(q[2]->id, "A"), "A last");
  OK(fb_floor_queue_move(f, "C", "A", 2, 400));
  fb_floor_queue(f, q, 8);
  CHECK(!strcmp(q[0]->id, "D") && !strcmp(q[1]->id, "A") && !strcmp(q[2]->id, "B"), "A 2nd");
  /* the keys follow the order, so the store restores the same queue */
  CHECK(q[0]->requested_ms < q[1]->requested_ms && q[1]->requested_ms < q[2]->requested_ms,
        "keys %lld %lld %lld", (long long)q[0]->requested_ms, (long long)q[1]->requested_ms,
        (long long)q[2]->requested_ms);
  CHECK(fb_floor_queue_position(f, "B") == 3, "B position");
  ERR(fb_floor_queue_move(f, "C", "A", 0, 400), "bad_argument");
  ERR(fb_floor_queue_move(f, "C", "A", 4, 400), "bad_argument");
  ERR(fb_floor_queue_move(f, "C", "O", 1, 400), "not_delegate");
  ERR(fb_floor_queue_move(f, "C", "C", 1, 400), "not_queued");
  OK(fb_floor_queue_remove(f, "C", "A", 500));
  CHECK(st(f, "A") == FB_FLOOR_LISTENING && fb_floor_queue(f, q, 8) == 2, "removed");
  CHECK(audit_is("C", "queue_remove", "A", NULL), "audited");
  ERR(fb_floor_queue_remove(f, "C", "A", 500), "not_queued");
  /* neighbours one millisecond apart: the keys after the move are nudged */
  OK(fb_floor_queue_remove(f, "C", "D", 600));
  OK(fb_floor_queue_remove(f, "C", "B", 600));
  OK(fb_floor_request(f, "A", 1000));
  OK(fb_floor_request(f, "B", 1001));
  OK(fb_floor_request(f, "D", 1002));
  OK(fb_floor_queue_move(f, "C", "D", 2, 1100));
  int nq = fb_floor_queue(f, q, 8);
  CHECK(nq == 3 && !strcmp(q[0]->id, "A") && !strcmp(q[1]->id, "D") && !strcmp(q[2]->id, "B"),
        "A D B");
  CHECK(q[0]->requested_ms < q[1]->requested_ms && q[1]->requested_ms < q[2]->requested_ms,
        "keys %lld %lld %lld", (long long)q[0]->requested_ms, (long long)q[1]->requested_ms,
        (long long)q[2]->requested_ms);
  fb_floor_free(f);
}

static void test_webcast(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  OK(fb_floor_grant(f, "C", "A", 1000));
  OK(fb_floor_request(f, "B", 1100));
  OK(fb_floor_cut(f, "C", "D", "hum", 1200));
  reset();
  OK(fb_floor_set_mode(f, "C", FB_MODE_WEBCAST, 5000));
  CHECK(fb_floor_mode_now(f) == FB_MODE_WEBCAST, "webcast");
  CHECK(st(f, "A") == FB_FLOOR_LISTENING && st(f, "B") == FB_FLOOR_LISTENING, "off the floor");
  CHECK(st(f, "D") == FB_FLOOR_BARRED, "bar stays");
  CHECK(fb_floor_queue(f, NULL, 0) == 0 && R.queue >= 1 && R.mode == 1, "queue cleared");
  CHECK(R.nspoken == 1 && R.spoken[0].end == 5000, "interval closed");
  const char *ids[] = {"C", "A", "B", "D", "O"};
  for (int i = 0; i < 5; i++) {
    int n;
    const media_ev *m = media_of(ids[i], &n);
    CHECK(n == 1 && m->m == FB_FLOOR_MEDIA_LISTEN && m->uplink == 0, "%s: %d calls, uplink 0",
          ids[i], n);
  }
  CHECK(audit_is("C", "set_mode", "", "webcast"), "audited");
  ERR(fb_floor_request(f, "A", 6000), "webcast_only");
  ERR(fb_floor_grant(f, "C", "A", 6000), "webcast_only");
  OK(fb_floor_cut(f, "C", "B", "test", 6500));
  const media_ev *m = media_of("B", NULL);
  CHECK(m->m == FB_FLOOR_MEDIA_LISTEN && m->uplink == 0, "no mic check in webcast");
  fb_floor_connect(f, "E", "Eve", FB_ROLE_DELEGATE, 6600);
  m = media_of("E", NULL);
  CHECK(m && m->uplink == 0, "newcomer listens only");
  reset();
  OK(fb_floor_set_mode(f, "C", FB_MODE_INTERACTIVE, 7000));
  CHECK(media_of("D", NULL)->m == FB_FLOOR_MEDIA_MEASURE && media_of("D", NULL)->uplink == 1, "D");
  CHECK(media_of("B", NULL)->m == FB_FLOOR_MEDIA_MEASURE, "B mic check");
  CHECK(media_of("A", NULL)->m == FB_FLOOR_MEDIA_LISTEN && media_of("A", NULL)->uplink == 1, "A");
  CHECK(media_of("O", NULL)->uplink == 0, "observers never send");
  OK(fb_floor_request(f, "A", 7100));
  ERR(fb_floor_set_mode(f, "C", (fb_floor_mode)7, 7200), "bad_argument");
  fb_floor_free(f);
}

static void test_sessions(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  OK(fb_floor_grant(f, "C", "A", 1000));
  OK(fb_floor_end_turn(f, "C", "A", 2000));
  OK(fb_floor_grant(f, "C", "A", 3000));
  OK(fb_floor_request(f, "B", 3100));
  reset();
  OK(fb_floor_set_session(f, "C", 1, 4000)); /* the closing plenary: webcast */
  CHECK(R.nspoken == 1 && R.spoken[0].session == 0 && R.spoken[0].start == 3000 &&
            R.spoken[0].end == 4000,
        "interval in the old session");
  CHECK(fb_floor_session_now(f) == 1 && fb_floor_mode_now(f) == FB_MODE_WEBCAST, "session 1");
  CHECK(fb_floor_find(f, "A")->spoken_ms == 0 && st(f, "A") == FB_FLOOR_LISTENING, "reset");
  CHECK(fb_floor_queue(f, NULL, 0) == 0, "queue cleared");
  CHECK(media_of("A", NULL)->uplink == 0, "webcast media");
  CHECK(audit_is("C", "set_session", "", "1 Closing plenary") && R.mode >= 1, "audited");
  OK(fb_floor_set_session(f, "C", 2, 5000));
  CHECK(fb_floor_mode_now(f) == FB_MODE_INTERACTIVE && media_of("A", NULL)->uplink == 1, "WP1");
  ERR(fb_floor_set_session(f, "C", 3, 5000), "bad_argument");
  ERR(fb_floor_set_session(f, "C", -1, 5000), "bad_argument");
  reset();
  OK(fb_floor_grant(f, "C", "B", 6000));
  OK(fb_floor_end_turn(f, "C", "B", 8500));
  CHECK(R.nspoken == 1 && R.spoken[0].session == 2, "new session's interval");
  CHECK(fb_floor_find(f, "B")->spoken_ms == 2500, "B spoke 2.5 s");
  fb_floor_free(f);
}

static void test_not_chair(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  OK(fb_floor_request(f, "B", 100));
  OK(fb_floor_grant(f, "C", "D", 200));
  OK(fb_floor_cut(f, "C", "B", "x", 300));
  reset();
  const char *actors[] = {"A", "O", "stranger"};
  for (int i = 0; i < 3; i++) {
    const char *x = actors[i];
    int n0 = R.naudit;
    ERR(fb_floor_grant(f, x, "A", 1000), "not_chair");
    ERR(fb_floor_end_turn(f, x, "D", 1000), "not_chair");
    ERR(fb_floor_mute(f, x, "D", 1, 1000), "not_chair");
    ERR(fb_floor_mute(f, x, "D", 0, 1000), "not_chair");
    ERR(fb_floor_mute_all(f, x, 1000), "not_chair");
    ERR(fb_floor_cut(f, x, "D", "because", 1000), "not_chair");
    ERR(fb_floor_allow(f, x, "B", 1000), "not_chair");
    ERR(fb_floor_queue_move(f, x, "D", 1, 1000), "not_chair");
    ERR(fb_floor_queue_remove(f, x, "D", 1000), "not_chair");
    ERR(fb_floor_set_mode(f, x, FB_MODE_WEBCAST, 1000), "not_chair");
    ERR(fb_floor_set_session(f, x, 1, 1000), "not_chair");
    CHECK(R.naudit - n0 == 11, "%s: %d refusals audited", x, R.naudit - n0);
    static const char *actions[] = {"grant",        "end_turn", "mute",       "unmute",
                                    "mute_all",     "cut",      "allow",      "queue_move",
                                    "queue_remove", "set_mode", "set_session"};
    for (int k = 0; k < 11 && n0 + k < R.naudit; k++) {
      char want[64];
      snprintf(want, sizeof want, "refused:%s", actions[k]);
      const audit_ev *a = &R.audit[n0 + k];
      CHECK(!strcmp(a->actor, x) && !strcmp(a->action, want) && !strcmp(a->detail, "not_chair"),
            "audit %s %s %s", a->actor, a->action, a->detail);
    }
  }
  CHECK(st(f, "D") == FB_FLOOR_LIVE && st(f, "B") == FB_FLOOR_BARRED, "nothing changed");
  CHECK(R.nmedia == 0 && R.nspoken == 0 && R.roster == 0 && R.mode == 0, "no effects");
  ERR(fb_floor_grant(f, "O", "O", 1000), "not_chair");
  ERR(fb_floor_grant(f, "C", "O", 1000), "not_delegate");
  CHECK(audit_is("C", "refused:grant", "O", "not_delegate"), "audited");

  /* the bridge itself (open floor): actor NULL or "auto", same rules */
  OK(fb_floor_grant(f, NULL, "A", 2000));
  CHECK(st(f, "A") == FB_FLOOR_LIVE && audit_is("auto", "grant", "A", NULL), "system grant");
  ERR(fb_floor_grant(f, "auto", "B", 2000), "barred");
  OK(fb_floor_end_turn(f, "auto", "A", 2500));
  OK(fb_floor_cut(f, NULL, "A", "test", 2600));
  CHECK(!strcmp(fb_floor_find(f, "A")->barred_by, "auto"), "barred by auto");
  /* ...but a delegate whose id is "auto" is just a delegate */
  fb_floor_connect(f, "auto", "Auto Mobile", FB_ROLE_DELEGATE, 3000);
  ERR(fb_floor_allow(f, "auto", "A", 3000), "not_chair");
  CHECK(audit_is("auto", "refused:allow", "A", "not_chair"), "refused");
  fb_floor_free(f);
}

static fb_quality qual(double mos, double loss) {
  fb_quality q;
  memset(&q, 0, sizeof q);
  q.valid = 1;
  q.mos = mos;
  q.loss_pct = loss;
  return q;
}

static void test_quality(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  fb_quality bad = qual(2.1, 12.0), good = qual(4.2, 0.5), lossy = qual(4.0, 15.0);
  OK(fb_floor_grant(f, "C", "A", 0));
  reset();
  const fb_delegate *a = fb_floor_find(f, "A");
  fb_floor_quality(f, "A", &good, 500);
  CHECK(a->quality.mos == 4.2 && !a->flagged && R.roster == 0, "good");
  fb_floor_quality(f, "A", &bad, 1000);
  fb_floor_quality(f, "A", &bad, 2000);
  fb_floor_quality(f, "A", &bad, 3999);
  CHECK(!a->flagged && R.roster == 0, "not before flag_after_ms");
  fb_floor_quality(f, "A", &bad, 4000);
  CHECK(a->flagged && R.roster == 1, "flagged after 3 s");
  CHECK(a->state == FB_FLOOR_LIVE && R.naudit == 0, "no auto-cut without auto_cut");
  fb_floor_quality(f, "A", &good, 5000);
  CHECK(!a->flagged && R.roster == 2, "unflagged");
  fb_floor_quality(f, "A", &lossy, 6000);
  fb_floor_quality(f, "A", &lossy, 9000);
  CHECK(a->flagged, "loss flags too");
  /* an interruption of the bad run restarts the clock */
  fb_floor_quality(f, "A", &good, 9500);
  fb_floor_quality(f, "A", &bad, 10000);
  fb_floor_quality(f, "A", &good, 12000);
  fb_floor_quality(f, "A", &bad, 12500);
  fb_floor_quality(f, "A", &bad, 14000);
  CHECK(!a->flagged, "not continuous");
  /* muted speakers are not flagged */
  OK(fb_floor_mute(f, "C", "A", 1, 14500));
  fb_floor_quality(f, "A", &bad, 15000);
  fb_floor_quality(f, "A", &bad, 19000);
  CHECK(!a->flagged, "muted");

  /* barred: a good mic check for recover_after_ms -> recovered */
  OK(fb_floor_cut(f, "C", "A", "poor audio", 20000));
  reset();
  fb_floor_quality(f, "A", &good, 21000);
  fb_floor_quality(f, "A", &good, 25999);
  CHECK(!a->recovered && R.roster == 0, "not yet");
  fb_floor_quality(f, "A", &good, 26000);
  CHECK(a->recovered && R.roster == 1, "recovered");
  CHECK(a->state == FB_FLOOR_BARRED, "still barred until the chair allows");
  fb_floor_quality(f, "A", &bad, 27000);
  CHECK(!a->recovered && R.roster == 2, "bad again");
  fb_floor_free(f);

  /* auto-cut */
  fb_floor_config c = config();
  c.auto_cut = 1;
  f = meeting(&c);
  OK(fb_floor_request(f, "B", 10));
  OK(fb_floor_grant(f, "C", "B", 100));
  reset();
  const fb_delegate *b = fb_floor_find(f, "B");
  fb_floor_quality(f, "B", &bad, 1000);
  fb_floor_quality(f, "B", &bad, 3000);
  CHECK(b->state == FB_FLOOR_LIVE && R.naudit == 0, "not yet");
  fb_floor_quality(f, "B", &bad, 4000);
  CHECK(b->state == FB_FLOOR_BARRED && !strcmp(b->barred_by, "auto"), "auto-cut");
  CHECK(!strcmp(b->bar_reason, "automatic: MOS 2.1, loss 12.0%"), "reason '%s'", b->bar_reason);
  CHECK(audit_is("auto", "cut", "B", "automatic: MOS 2.1, loss 12.0%"), "audited");
  CHECK(R.nspoken == 1 && R.spoken[0].start == 100 && R.spoken[0].end == 4000, "interval");
  const media_ev *m = media_of("B", NULL);
  CHECK(m && m->m == FB_FLOOR_MEDIA_MEASURE, "mic check");
  ERR(fb_floor_request(f, "B", 5000), "barred");
  fb_floor_free(f);
}

static void test_reconnect_restore(void) {
  fb_floor *f = meeting(NULL);
  const char *err;
  OK(fb_floor_grant(f, "C", "A", 1000));
  OK(fb_floor_mute(f, "C", "A", 1, 2000));
  reset();
  fb_floor_disconnect(f, "A", 3000);
  const fb_delegate *a = fb_floor_find(f, "A");
  CHECK(a->state == FB_FLOOR_LISTENING && !a->chair_muted && !a->connected, "off the floor");
  CHECK(R.nmedia == 0 && R.nspoken == 0, "muted time is not an interval; no media when gone");
  OK(fb_floor_grant(f, "C", "B", 3500));
  fb_floor_disconnect(f, "B", 4500);
  CHECK(R.nspoken == 1 && R.spoken[0].end == 4500 && fb_floor_find(f, "B")->spoken_ms == 1000,
        "leaving closes the interval");
  ERR(fb_floor_grant(f, "C", "B", 5000), "not_connected");
  reset();
  OK(fb_floor_cut(f, "C", "B", "left mid-sentence", 5000)); /* no media for the absent */
  CHECK(R.nmedia == 0 && st(f, "B") == FB_FLOOR_BARRED, "%d media calls", R.nmedia);
  fb_floor_connect(f, "A", "Alice B.", FB_ROLE_DELEGATE, 6000);
  CHECK(a->spoken_ms == 1000 && !strcmp(a->name, "Alice B."), "identity kept, name updated");
  fb_floor_free(f);

  /* restored from the store: live, muted and queued places come back */
  fb_floor_config c = config();
  f = fb_floor_new(&c, &HOOKS, NULL);
  fb_delegate d;
  memset(&d, 0, sizeof d);
  snprintf(d.id, sizeof d.id, "L");
  d.role = FB_ROLE_DELEGATE;
  d.state = FB_FLOOR_LIVE;
  fb_floor_restore_delegate(f, &d);
  snprintf(d.id, sizeof d.id, "M");
  d.state = FB_FLOOR_MUTED;
  d.chair_muted = 1;
  fb_floor_restore_delegate(f, &d);
  d.chair_muted = 0;
  d.state = FB_FLOOR_QUEUED;
  const char *qids[] = {"Q2", "Q1", "Q3"};
  int64_t keys[] = {500, 400, 600};
  for (int i = 0; i < 3; i++) {
    snprintf(d.id, sizeof d.id, "%s", qids[i]);
    d.requested_ms = keys[i];
    fb_floor_restore_delegate(f, &d);
  }
  fb_floor_restore_session(f, 2, FB_MODE_INTERACTIVE);
  CHECK(fb_floor_session_now(f) == 2 && fb_floor_count(f) == 5, "restored");
  CHECK(fb_floor_queue_position(f, "Q1") == 1 && fb_floor_queue_position(f, "Q3") == 3, "q");
  reset();
  fb_floor_connect(f, "C", "Chair", FB_ROLE_CHAIR, 10000);
  fb_floor_connect(f, "X", "Xavier", FB_ROLE_DELEGATE, 10000);
  ERR(fb_floor_grant(f, "C", "X", 10000), "floor_full"); /* L and M hold the floor */
  fb_floor_connect(f, "L", "Lea", FB_ROLE_DELEGATE, 11000);
  const media_ev *m = media_of("L", NULL);
  CHECK(st(f, "L") == FB_FLOOR_LIVE && m && m->m == FB_FLOOR_MEDIA_LIVE, "live again");
  fb_floor_connect(f, "M", "Max", FB_ROLE_DELEGATE, 11000);
  m = media_of("M", NULL);
  CHECK(st(f, "M") == FB_FLOOR_MUTED && m && m->m == FB_FLOOR_MEDIA_MEASURE, "still muted");
  ERR(fb_floor_self_mute(f, "M", 0, 11500), "chair_muted");
  fb_floor_connect(f, "Q1", "Quinn", FB_ROLE_DELEGATE, 11000);
  CHECK(st(f, "Q1") == FB_FLOOR_QUEUED && fb_floor_queue_position(f, "Q1") == 1, "queued");
  OK(fb_floor_end_turn(f, "C", "L", 14000));
  CHECK(R.nspoken == 1 && R.spoken[0].start == 11000 && R.spoken[0].session == 2, "from join");
  fb_floor_free(f);

  /* restored live in a webcast session: listening on return */
  f = fb_floor_new(&c, &HOOKS, NULL);
  snprintf(d.id, sizeof d.id, "L");
  d.state = FB_FLOOR_LIVE;
  fb_floor_restore_delegate(f, &d);
  fb_floor_restore_session(f, 1, FB_MODE_WEBCAST);
  reset();
  fb_floor_connect(f, "L", "Lea", FB_ROLE_DELEGATE, 1000);
  m = media_of("L", NULL);
  CHECK(st(f, "L") == FB_FLOOR_LISTENING && m && m->uplink == 0, "webcast");
  fb_floor_free(f);
}

static void test_many(void) {
  fb_floor_config c = config();
  c.max_live = 8;
  fb_floor *f = fb_floor_new(&c, &HOOKS, NULL);
  char id[32];
  fb_floor_connect(f, "C", "Chair", FB_ROLE_CHAIR, 0);
  for (int i = 0; i < 3000; i++) {
    snprintf(id, sizeof id, "d%04d", i);
    fb_floor_connect(f, id, id, FB_ROLE_DELEGATE, i);
    if (i % 3 == 0) fb_floor_request(f, id, 3000 - i);
  }
  const fb_delegate *first = fb_floor_at(f, 1);
  CHECK(fb_floor_count(f) == 3001 && fb_floor_find(f, "d2999") != NULL, "table");
  CHECK(first == fb_floor_find(f, "d0000"), "stable pointers");
  CHECK(fb_floor_queue(f, NULL, 0) == 1000 && fb_floor_queue_position(f, "d2997") == 1, "queue");
  CHECK(fb_floor_find(f, "d3000") == NULL && fb_floor_at(f, 3001) == NULL, "bounds");
  fb_floor_free(f);
}

/* The delegates on_delegate reported since reset, as their ids in floor
 * order ("A B"). */
static const char *touched(const fb_floor *f) {
  static char out[256];
  size_t off = 0;
  out[0] = '\0';
  for (int i = 0; i < fb_floor_count(f) && i < 64 && off < sizeof out - 70; i++)
    if (R.touched[i])
      off += (size_t)snprintf(out + off, sizeof out - off, "%s%s", off ? " " : "",
                              fb_floor_at(f, i)->id);
  return out;
}

/* on_delegate names exactly the delegates whose roster entry changed, and
 * fb_floor_connected follows the connections. */
static void test_delegate_changes(void) {
  fb_floor *f = meeting(NULL); /* C A B D O: indices 0..4 */
  const char *err;
  CHECK(fb_floor_connected(f) == 5, "5 connected");
  OK(fb_floor_request(f, "A", 100));
  CHECK(!strcmp(touched(f), "A"), "request: %s", touched(f));
  OK(fb_floor_request(f, "B", 200));
  OK(fb_floor_request(f, "D", 300));
  reset();
  OK(fb_floor_withdraw(f, "A", 400)); /* B and D move up */
  CHECK(!strcmp(touched(f), "A B D"), "withdraw: %s", touched(f));
  reset();
  OK(fb_floor_queue_move(f, "C", "D", 1, 500));
  CHECK(!strcmp(touched(f), "B D"), "queue_move: %s", touched(f));
  reset();
  OK(fb_floor_grant(f, "C", "D", 600)); /* B moves up again */
  CHECK(!strcmp(touched(f), "B D"), "grant: %s", touched(f));
  reset();
  OK(fb_floor_mute(f, "C", "D", 1, 700));
  CHECK(!strcmp(touched(f), "D"), "mute: %s", touched(f));
  reset();
  OK(fb_floor_cut(f, "C", "A", "noise", 800));
  CHECK(!strcmp(touched(f), "A"), "cut: %s", touched(f));
  reset();
  ERR(fb_floor_allow(f, "A", "A", 900), "not_chair");
  ERR(fb_floor_grant(f, "C", "A", 900), "barred");
  CHECK(!strcmp(touched(f), ""), "refusals change nobody: %s", touched(f));
  fb_floor_disconnect(f, "D", 1000);
  CHECK(!strcmp(touched(f), "D") && fb_floor_connected(f) == 4, "disconnect: %s", touched(f));
  fb_floor_connect(f, "E", "Eve", FB_ROLE_DELEGATE, 1100);
  fb_floor_connect(f, "B", "Bob", FB_ROLE_DELEGATE, 1100); /* again: no second count */
  CHECK(fb_floor_count(f) == 6 && R.touched[5] && fb_floor_connected(f) == 5, "a new one");
  reset();
  OK(fb_floor_grant(f, "C", "E", 1200));
  OK(fb_floor_end_turn(f, "C", "E", 1300));
  reset();
  OK(fb_floor_set_session(f, "C", 2, 1400)); /* B was queued; D's and E's speaking time resets */
  CHECK(!strcmp(touched(f), "B D E"), "set_session: %s", touched(f));
  fb_floor_free(f);
}

static void test_names(void) {
  CHECK(!strcmp(fb_floor_state_name(FB_FLOOR_BARRED), "barred"), "state name");
  CHECK(!strcmp(fb_floor_mode_name(FB_MODE_WEBCAST), "webcast"), "mode name");
  CHECK(fb_floor_mode_parse("interactive") == FB_MODE_INTERACTIVE &&
            fb_floor_mode_parse("Webcast") == -1 && fb_floor_mode_parse(NULL) == -1,
        "parse");
}

int main(void) {
  test_request_queue();
  test_grant_end();
  test_mutes();
  test_cut_allow();
  test_queue_edit();
  test_webcast();
  test_sessions();
  test_not_chair();
  test_quality();
  test_reconnect_restore();
  test_many();
  test_delegate_changes();
  test_names();
  return CHECK_DONE();
}
