/*
 * fuzz_meeting.c — libFuzzer target for the meeting state machine: sessions,
 * join/offer/leave, the chair's floor control, the chat, broadcasts, quality
 * rules, bridge events and the store (signalling/meeting.c, chair.c,
 * broadcast.c, floor.c, floor_chair.c, store.c), driven by up to six
 * connections at once through the same calls the transport (server.c) makes.
 *
 * The bridge is an in-memory fake behind fb_meeting_bridge (meeting.h): it
 * hands out participant handles, records each one's media state and uplink,
 * returns quality scores the input sets, and can refuse the next join. The
 * clock is fake too (starts at 2023-11-14, moves only when the input says).
 * The store, when the input turns it on, is a shared-cache in-memory SQLite
 * database that a connection of the harness keeps alive across restarts and
 * inputs (its schema is made once; each input starts with the tables empty).
 * Tokens are minted once (secret "fuzz-seed-secret-0123456789", meeting
 * "m1", exp 2100-01-01) for fixed identities; junk ones fail each check.
 *
 * Input: a script (tests/fuzz/meeting_script.h names its values; gen_seeds.c
 * writes the seeds with them). Byte 0 is the meeting's config:
 *   bits 0-1  [floor] max_live - 1        bit 4  store (restartable)
 *   bit 2     [floor] auto_cut            bit 5  start in session 1 (webcast)
 *   bit 3     [floor] open_floor          bit 6  [chat] delegates_to_all off
 *                                         bit 7  [chat] enabled off
 * (sessions "Debate" interactive, "Plenary" webcast, "Caucus" interactive;
 * chat max_length 40, per_minute 3). Then steps, each an op byte: low nibble
 * the operation, high nibble the connection slot (mod 6), and its arguments:
 *   0, 12-15 message  T F [X]: type T mod 18 from a table (join, offer, leave,
 *            ping, request_floor, withdraw, mute, chat, grant, end_turn,
 *            mute_all, cut, allow, queue_move, queue_remove, set_mode,
 *            set_session, chat_policy), fields chosen by F (token, SDP,
 *            delegate, reason, mode, text...), X for queue_move's position
 *   1        raw message  N then N bytes, sent as they are
 *   2        the connection closes (fb_meeting_close)
 *   3        time  B: the clock advances B*250 ms, then fb_meeting_tick
 *   4        quality  A B: the slot's participant scores MOS 1+(A%41)/10,
 *            loss B%30 %; A == 0: not valid
 *   5        bridge event  E: table[E%6] for the slot's participant (E&0x80:
 *            pid 0, to everyone)
 *   6        a transport error  E: rate_limited, too_large, bad_message
 *   7        hold the broadcast: no fb_meeting_flush after the next step
 *   8        restart: shutdown, free, new meeting, load the store
 *   9        the bridge refuses the next join
 *   10       /metrics
 *   11       the transport closes every connection the meeting asked to close
 * FUZZ_MEETING_TRACE=1 in the environment prints the conversation on stderr.
 * A message to a slot with no connection opens one first. After every step
 * (but after op 7) fb_meeting_flush runs, as server.c does after a round.
 *
 * Invariants (a violation prints which and traps):
 *   floor: at most max_live live or muted; observers only listening or
 *     barred; a barred delegate is not queued and has a reason and who barred;
 *     muted iff chair or self muted; flagged only live, recovered only barred;
 *     the queue is exactly the queued delegates, positions 1..n, keys strictly
 *     increasing; webcast: nobody live, muted or queued; a delegate connected
 *     since the start is off the floor and out of the queue when disconnected;
 *     connected iff exactly one open connection is joined as it, with its role;
 *     fb_floor_connected counts them;
 *   bridge: each participant belongs to a joined connection (no leak after
 *     leave, replace, close, media loss), one per delegate, and has exactly
 *     the media state and uplink the floor asks for (webcast: no uplink at
 *     all; observers: never an uplink, from the join on);
 *   messages: each is a JSON object with "v": 1 and a string "type", sent to
 *     an open connection, and once it was told to close only an "event"
 *     ("replaced": the transport still sends it); state messages only to
 *     joined ones; the full roster, quality and chat to the chair only to
 *     chairs (and a chair-bound chat back to its sender); "you" names the
 *     receiver;
 *   authority: a message from a connection that is not a chair changes no
 *     other delegate's state, mute or bar, not the mode or session, sends no
 *     chat_policy, and touches (join, leave, set_media) no other delegate's
 *     participant;
 *   restart: bars (reason, by whom), chair mutes, live and queued states,
 *     queue order, session and mode are as before;
 *   roster deltas: no delegate's entry changes without the floor marking it
 *     (fb_meeting_roster_check: what comparing every delegate would find);
 *   /metrics: NUL-terminated within its buffer; no leaks (LSan).
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "signalling/floor.h"
#include "signalling/meeting.h"
#include "signalling/token.h"
#include "tests/fuzz/meeting_build.h"
#include "tests/fuzz/meeting_script.h"

#define CHECK(c, why)                                                                           \
  do {                                                                                          \
    if (!(c)) {                                                                                 \
      fprintf(stderr, "fuzz_meeting: invariant failed: %s (%s, line %d)\n", why, #c, __LINE__); \
      __builtin_trap();                                                                         \
    }                                                                                           \
  } while (0)

#define SECRET "fuzz-seed-secret-0123456789"
#define NSLOTS 6
#define MAXPART 64
#define T0_MS 1700000000000LL
#define STORE_URI "file:fuzz_meeting?mode=memory&cache=shared"

/* ---- identities and tokens -------------------------------------------------- */

static const struct {
  const char *sub, *name, *role;
  int speak;
} ids[MS_NIDS] = {
    [MS_TOK_C1] = {"c1", "Chair One", "chair", 0},
    [MS_TOK_C2] = {"c2", "Chair Two", "chair", 0},
    [MS_TOK_D1] = {"d1", "Delegate One", "delegate", 0},
    [MS_TOK_D2_SPEAK] = {"d2", "Delegate Two", "delegate", 1},
    [MS_TOK_D3] = {"d3", "Délégué Trois", "delegate", 0},
    [MS_TOK_O1] = {"o1", "Observer", "observer", 0},
    [MS_TOK_D1_OBSERVER] = {"d1", "Delegate One", "observer", 0}, /* the same id, now observing */
    [MS_TOK_AUTO] = {"auto", "Not The System", "delegate", 0},    /* the floor's system actor */
    [MS_TOK_C1_DELEGATE] = {"c1", "Chair One", "delegate", 1},    /* a chair back as a delegate */
};
#define NIDS MS_NIDS
#define NTOK MS_NTOK
static char tokens[NTOK][FB_TOKEN_MAX + 1];

static void mint(char *out, const char *secret, const char *mtg, const char *sub, const char *name,
                 const char *role, int speak, long long exp) {
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", mtg);
  snprintf(t.delegate, sizeof t.delegate, "%s", sub);
  snprintf(t.name, sizeof t.name, "%s", name);
  t.role = (fb_role)fb_role_parse(role);
  t.exp = exp;
  t.iat = 1600000000;
  t.speak = speak;
  if (fb_token_mint(secret, &t, out, FB_TOKEN_MAX + 1) < 0) abort();
}

/* ---- the fake bridge and the connections ------------------------------------ */

typedef struct {
  int alive, pid, slot, state, uplink;
  char delegate[64];
  fb_quality q;
} part;

typedef struct {
  int open; /* fb_meeting_open'd and not yet fb_meeting_close'd */
  fb_session *s;
  int closing; /* the meeting asked to close it */
  int joined;  /* per the messages it got: joined, not left/replaced/lost */
  int role;    /* while joined */
  char delegate[64];
} conn;

static struct {
  fb_meeting *m;
  fb_config cfg;
  int64_t now;
  part parts[MAXPART];
  int nparts, next_pid, fail_join;
  conn conns[NSLOTS];
  int cur;          /* the slot whose message is being handled, -1 none */
  int cur_chair;    /* ... and whether it may act as a chair */
  char cur_id[64];  /* its delegate id (before or after a join) */
  char touched[64]; /* a participant it touched before it was known */
  int in_message;
  char seen[16][64]; /* delegates connected since the last (re)start */
  int nseen;
} g;

static int trace; /* FUZZ_MEETING_TRACE set: print the conversation on stderr */

static int slot_of(void *c) { return (int)((conn *)c - g.conns); }

static part *part_of(int pid) {
  for (int i = 0; i < g.nparts; i++)
    if (g.parts[i].pid == pid) return &g.parts[i];
  return NULL;
}

/* A bridge call on behalf of delegate id while a message is handled: a
 * message from a non-chair may only touch its own delegate's participant. */
static void touched(const char *id) {
  if (!g.in_message || g.cur_chair) return;
  /* a join replaces before the connection is known as id: checked at the end */
  if (!g.cur_id[0] && strlen(id) < sizeof g.touched)
    snprintf(g.touched, sizeof g.touched, "%s", id);
  else
    CHECK(strcmp(id, g.cur_id) == 0, "a non-chair's message reached another's participant");
}

static int fb_join(void *ud, const char *name, int live, int uplink, const fb_webrtc_offer *offer,
                   fb_webrtc_answer *ans, int *pid, char *err, size_t errlen) {
  (void)ud;
  CHECK(offer && offer->ice_ufrag && offer->ice_pwd && offer->fingerprint, "offer fields");
  CHECK(live == 0, "participants are created listening");
  CHECK(g.cur >= 0 && g.conns[g.cur].joined, "a join from a joined connection");
  conn *c = &g.conns[g.cur];
  CHECK(uplink == (c->role != FB_ROLE_OBSERVER), "an observer's join has no uplink");
  const char *hash = strrchr(name, '#');
  CHECK(hash && hash[1], "participant name <delegate>#<pid>");
  touched(c->delegate);
  if (g.fail_join || g.nparts == MAXPART) {
    g.fail_join = 0;
    snprintf(err, errlen, "full: the fake bridge refuses");
    return -1;
  }
  part *p = &g.parts[g.nparts++];
  memset(p, 0, sizeof *p);
  p->alive = 1;
  p->pid = ++g.next_pid;
  p->slot = g.cur;
  p->state = FB_MEDIA_LISTEN;
  p->uplink = uplink;
  snprintf(p->delegate, sizeof p->delegate, "%s", c->delegate);
  memset(ans, 0, sizeof *ans);
  snprintf(ans->ice_ufrag, sizeof ans->ice_ufrag, "FuzzUfrag%d", p->pid % 100);
  snprintf(ans->ice_pwd, sizeof ans->ice_pwd, "FuzzPassword0123456789abcd");
  snprintf(ans->fingerprint, sizeof ans->fingerprint,
           "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
           "43:F0:A1:58:D0:A1:2C:19:08");
  snprintf(ans->candidate_ip, sizeof ans->candidate_ip, "192.0.2.1");
  ans->candidate_port = p->pid % 2 ? 40000 : 0; /* 0: the meeting asks media_port */
  ans->ssrc = 0x1000u + (uint32_t)p->pid;
  *pid = p->pid;
  return 0;
}

static int fb_leave(void *ud, int pid) {
  (void)ud;
  part *p = part_of(pid);
  if (!p || !p->alive) return -1;
  touched(p->delegate);
  p->alive = 0;
  return 0;
}

static int fb_set_media(void *ud, int pid, fb_media_state st, int uplink, char *err,
                        size_t errlen) {
  (void)ud;
  part *p = part_of(pid);
  if (!p || !p->alive) {
    snprintf(err, errlen, "unknown_participant: %d", pid);
    return -1;
  }
  CHECK(st == FB_MEDIA_LISTEN || st == FB_MEDIA_LIVE || st == FB_MEDIA_MEASURE, "a media state");
  touched(p->delegate);
  p->state = uplink ? (int)st : FB_MEDIA_LISTEN; /* no uplink forces listen */
  p->uplink = uplink;
  return 0;
}

static int fb_quality_of(void *ud, int pid, fb_quality *out) {
  (void)ud;
  part *p = part_of(pid);
  if (!p || !p->alive) return -1;
  *out = p->q;
  return 0;
}

static int fb_media_port(void *ud) {
  (void)ud;
  return 40002;
}

static int64_t fb_now(void *ud) {
  (void)ud;
  return g.now;
}

/* ---- what the meeting sends ------------------------------------------------- */

static const char *str(json_t *j, const char *key) {
  const char *v = json_string_value(json_object_get(j, key));
  return v ? v : "";
}

static int is_state_msg(const char *t) {
  static const char *const state[] = {"you",         "queue",   "roster", "mode",
                                      "chat_policy", "quality", "chat"};
  for (size_t i = 0; i < sizeof state / sizeof *state; i++)
    if (strcmp(t, state[i]) == 0) return 1;
  return 0;
}

/* The last message parsed, and its text: a broadcast goes to every
 * connection with the same text, which is then parsed once, not once per
 * connection (the parsing was a seventh of the time). */
static struct {
  char *text;
  json_t *j;
} parsed;

static void parsed_clear(void) {
  json_decref(parsed.j);
  free(parsed.text);
  memset(&parsed, 0, sizeof parsed);
}

static json_t *parse(const char *json) {
  if (!parsed.text || strcmp(parsed.text, json) != 0) {
    parsed_clear();
    parsed.j = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    parsed.text = strdup(json);
    CHECK(parsed.text, "out of memory");
  }
  return json_incref(parsed.j);
}

static void io_send(void *cp, const char *json) {
  conn *c = cp;
  CHECK(c->open, "a message to a closed connection");
  json_t *j = parse(json);
  CHECK(json_is_object(j), "a message is a JSON object");
  CHECK(
      json_integer_value(json_object_get(j, "v")) == 1 && json_is_integer(json_object_get(j, "v")),
      "\"v\": 1");
  const char *t = json_string_value(json_object_get(j, "type"));
  CHECK(t, "a string \"type\"");
  /* the transport still delivers what is queued after a close request (a
   * connection closed for its errors is told it was replaced), but the
   * meeting's own traffic stops */
  if (c->closing) CHECK(strcmp(t, "event") == 0, "only an event after the close");
  int slot = slot_of(c);
  if (trace) fprintf(stderr, "  %d <- %.300s\n", slot, json);
  if (strcmp(t, "joined") == 0) {
    CHECK(!c->joined, "joined twice");
    const char *d = json_string_value(json_object_get(j, "delegate"));
    int role = fb_role_parse(json_string_value(json_object_get(j, "role")));
    CHECK(d && role >= 0, "joined names the delegate and role");
    c->joined = 1;
    c->role = role;
    snprintf(c->delegate, sizeof c->delegate, "%s", d);
    if (g.cur == slot) snprintf(g.cur_id, sizeof g.cur_id, "%s", d);
    int k = 0;
    while (k < g.nseen && strcmp(g.seen[k], d)) k++;
    if (k == g.nseen && k < 16) snprintf(g.seen[g.nseen++], sizeof g.seen[0], "%s", d);
  } else if (strcmp(t, "left") == 0) {
    c->joined = 0;
  } else if (strcmp(t, "event") == 0) {
    const char *e = json_string_value(json_object_get(j, "event"));
    if (e && strcmp(e, "replaced") == 0) c->joined = 0;
  } else if (is_state_msg(t)) {
    CHECK(c->joined, "state messages only to joined connections");
    int chair = c->role == FB_ROLE_CHAIR;
    if (strcmp(t, "quality") == 0) CHECK(chair, "quality scores only to chairs");
    if (strcmp(t, "roster") == 0 && json_object_get(j, "participants"))
      CHECK(chair, "the full roster only to chairs");
    if (strcmp(t, "chat") == 0 && strcmp(str(j, "to"), "chair") == 0)
      CHECK(chair || strcmp(str(j, "from"), c->delegate) == 0,
            "a chat to the chair only to chairs and its sender");
    if (strcmp(t, "you") == 0)
      CHECK(strcmp(str(j, "delegate"), c->delegate) == 0, "\"you\" names the receiver");
    if (strcmp(t, "chat_policy") == 0 && g.in_message)
      CHECK(g.cur_chair, "only a chair changes the chat policy");
  }
  json_decref(j);
}

static void io_close(void *cp, int code, const char *reason) {
  conn *c = cp;
  CHECK(c->open && !c->closing, "closed once");
  CHECK(reason && code >= 1000 && code < 5000, "a close code and reason");
  c->closing = 1;
  if (code == 1011) c->joined = 0; /* media lost: off the floor at once */
}

/* ---- invariants --------------------------------------------------------------- */

static int seen(const char *id) {
  for (int k = 0; k < g.nseen; k++)
    if (strcmp(g.seen[k], id) == 0) return 1;
  return 0;
}

static void check_all(void) {
  const fb_floor *f = fb_meeting_floor(g.m);
  const fb_floor_config *fc = fb_floor_get_config(f);
  int n = fb_floor_count(f), live = 0, queued = 0, connected = 0;
  fb_floor_mode mode = fb_floor_mode_now(f);
  for (int i = 0; i < n; i++) {
    const fb_delegate *d = fb_floor_at(f, i);
    int on = d->state == FB_FLOOR_LIVE || d->state == FB_FLOOR_MUTED;
    live += on;
    queued += d->state == FB_FLOOR_QUEUED;
    connected += d->connected != 0;
    if (d->role == FB_ROLE_OBSERVER)
      CHECK(d->state == FB_FLOOR_LISTENING || d->state == FB_FLOOR_BARRED,
            "an observer is never live or queued");
    if (d->state == FB_FLOOR_BARRED) {
      CHECK(fb_floor_queue_position(f, d->id) == 0, "a barred delegate is not queued");
      CHECK(d->bar_reason[0] && d->barred_by[0], "a bar has a reason and who barred");
    }
    CHECK((d->state == FB_FLOOR_QUEUED) == (fb_floor_queue_position(f, d->id) > 0),
          "queued iff in the queue");
    CHECK((d->state == FB_FLOOR_MUTED) == (d->chair_muted || d->self_muted),
          "muted iff chair or self muted");
    CHECK(!d->flagged || d->state == FB_FLOOR_LIVE, "flagged only while live");
    CHECK(!d->recovered || d->state == FB_FLOOR_BARRED, "recovered only while barred");
    if (mode == FB_MODE_WEBCAST)
      CHECK(!on && d->state != FB_FLOOR_QUEUED, "webcast: nobody live, muted or queued");
    if (!d->connected && seen(d->id))
      CHECK(!on && d->state != FB_FLOOR_QUEUED, "a disconnected delegate holds no place");
    int joined = 0;
    for (int k = 0; k < NSLOTS; k++) {
      conn *c = &g.conns[k];
      if (!c->open || !c->joined || strcmp(c->delegate, d->id)) continue;
      joined++;
      CHECK((int)d->role == c->role, "the floor has the role the connection joined with");
    }
    CHECK(joined <= 1, "one joined connection per delegate");
    CHECK(d->connected == joined, "connected iff a connection is joined as it");
  }
  CHECK(live <= fc->max_live, "at most max_live on the floor");
  CHECK(connected == fb_floor_connected(f), "the connected count is the connected delegates");
  CHECK(fb_meeting_roster_check(g.m) == 0, "a roster delta missed a change (broadcast.c marks)");
  const fb_delegate *q[64];
  int qlen = fb_floor_queue(f, q, 64);
  CHECK(qlen == queued, "the queue is the queued delegates");
  for (int i = 0; i < qlen && i < 64; i++) {
    CHECK(q[i]->state == FB_FLOOR_QUEUED, "queue entries are queued");
    CHECK(fb_floor_queue_position(f, q[i]->id) == i + 1, "queue positions 1..n");
    if (i) CHECK(q[i]->requested_ms > q[i - 1]->requested_ms, "queue keys increase");
  }
  for (int i = 0; i < g.nparts; i++) {
    part *p = &g.parts[i];
    if (!p->alive) continue;
    conn *c = &g.conns[p->slot];
    CHECK(c->open && c->joined && strcmp(c->delegate, p->delegate) == 0,
          "a participant belongs to a joined connection");
    for (int k = i + 1; k < g.nparts; k++)
      CHECK(!g.parts[k].alive || strcmp(g.parts[k].delegate, p->delegate),
            "one participant per delegate");
    const fb_delegate *d = fb_floor_find(f, p->delegate);
    CHECK(d && d->connected, "a participant's delegate is connected");
    int uplink = d->role != FB_ROLE_OBSERVER && mode == FB_MODE_INTERACTIVE;
    int want = !uplink                                                     ? FB_MEDIA_LISTEN
               : d->state == FB_FLOOR_LIVE                                 ? FB_MEDIA_LIVE
               : d->state == FB_FLOOR_MUTED || d->state == FB_FLOOR_BARRED ? FB_MEDIA_MEASURE
                                                                           : FB_MEDIA_LISTEN;
    CHECK(p->uplink == uplink, "the bridge's uplink is what the floor says");
    CHECK(p->state == want, "the bridge's media state is what the floor says");
  }
}

/* What a non-chair's message must not change, and what a restart must keep. */
typedef struct {
  int n, mode, session, qlen;
  struct {
    char id[64], bar[256], by[64];
    int state, chair_muted;
  } d[64];
  char q[64][64];
} snap;

static void take(snap *s) {
  const fb_floor *f = fb_meeting_floor(g.m);
  memset(s, 0, sizeof *s);
  s->n = fb_floor_count(f);
  if (s->n > 64) s->n = 64;
  s->mode = (int)fb_floor_mode_now(f);
  s->session = fb_floor_session_now(f);
  for (int i = 0; i < s->n; i++) {
    const fb_delegate *d = fb_floor_at(f, i);
    snprintf(s->d[i].id, sizeof s->d[i].id, "%s", d->id);
    snprintf(s->d[i].bar, sizeof s->d[i].bar, "%s", d->bar_reason);
    snprintf(s->d[i].by, sizeof s->d[i].by, "%s", d->barred_by);
    s->d[i].state = (int)d->state;
    s->d[i].chair_muted = d->chair_muted;
  }
  const fb_delegate *q[64];
  s->qlen = fb_floor_queue(f, q, 64);
  for (int i = 0; i < s->qlen && i < 64; i++) snprintf(s->q[i], sizeof s->q[i], "%s", q[i]->id);
}

/* Everyone but `except` (NULL: everyone) is as in a. */
static void same(const snap *a, const snap *b, const char *except, const char *what) {
  CHECK(a->mode == b->mode && a->session == b->session, what);
  for (int i = 0; i < a->n; i++) {
    if (except && strcmp(a->d[i].id, except) == 0) continue;
    int k = 0;
    while (k < b->n && strcmp(a->d[i].id, b->d[k].id)) k++;
    CHECK(k < b->n, what);
    CHECK(a->d[i].state == b->d[k].state && a->d[i].chair_muted == b->d[k].chair_muted &&
              strcmp(a->d[i].bar, b->d[k].bar) == 0 && strcmp(a->d[i].by, b->d[k].by) == 0,
          what);
  }
}

static void open_slot(int k) {
  conn *c = &g.conns[k];
  if (c->open) return;
  memset(c, 0, sizeof *c);
  c->s = fb_meeting_open(g.m, c);
  CHECK(c->s, "open");
  c->open = 1;
}

static void close_slot(int k) {
  conn *c = &g.conns[k];
  if (!c->open) return;
  fb_meeting_close(g.m, c->s);
  memset(c, 0, sizeof *c);
}

static void message(int k, const char *text, size_t len) {
  open_slot(k);
  conn *c = &g.conns[k];
  snap before, after;
  take(&before);
  g.cur = k;
  g.cur_chair = c->joined && c->role == FB_ROLE_CHAIR;
  snprintf(g.cur_id, sizeof g.cur_id, "%s", c->joined ? c->delegate : "");
  g.touched[0] = '\0';
  if (trace) fprintf(stderr, "%d -> %.*s\n", k, (int)(len < 200 ? len : 200), text);
  g.in_message = 1;
  fb_meeting_message(g.m, c->s, text, len);
  g.in_message = 0;
  g.cur = -1;
  if (g.touched[0])
    CHECK(strcmp(g.touched, g.cur_id) == 0, "a non-chair's join reached another's participant");
  if (!g.cur_chair) {
    take(&after);
    same(&before, &after, g.cur_id[0] ? g.cur_id : NULL, "a non-chair's message acted on others");
  }
}

static void meeting_new(void) {
  fb_meeting_bridge br = {NULL,          fb_join,       fb_leave, fb_set_media,
                          fb_quality_of, fb_media_port, fb_now};
  fb_session_io io = {io_send, io_close};
  g.m = fb_meeting_new(&g.cfg, &br, SECRET, &io);
  CHECK(g.m, "fb_meeting_new");
  fb_meeting_roster_check(g.m); /* from the first delta on */
  char err[512];
  CHECK(fb_meeting_load_store(g.m, err, sizeof err) == 0, "the store opens");
  g.nseen = 0;
}

static void meeting_free(void) {
  fb_meeting_free(g.m); /* closes every session: no io calls */
  g.m = NULL;
  for (int k = 0; k < NSLOTS; k++) memset(&g.conns[k], 0, sizeof g.conns[k]);
  for (int i = 0; i < g.nparts; i++)
    CHECK(!g.parts[i].alive, "every participant leaves the bridge when the meeting ends");
}

static void restart(void) {
  snap before, after;
  take(&before);
  fb_meeting_shutdown(g.m);
  meeting_free();
  meeting_new();
  take(&after);
  same(&before, &after, NULL, "a restart keeps bars, mutes, the floor, session and mode");
  CHECK(before.qlen == after.qlen, "a restart keeps the queue");
  for (int i = 0; i < before.qlen && i < 64; i++)
    CHECK(strcmp(before.q[i], after.q[i]) == 0, "a restart keeps the queue order");
}

/* The shared in-memory store lives as long as this connection: the whole
 * run, so that its schema is created once rather than per input (which was
 * a fifth of the time). Each input that uses it starts with it empty. */
static sqlite3 *store_keep;

static void store_empty(void) {
  if (!store_keep)
    CHECK(sqlite3_open_v2(STORE_URI, &store_keep,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                          NULL) == SQLITE_OK,
          "the in-memory store");
  /* before the first fb_store_open there are no tables: nothing to empty */
  sqlite3_exec(store_keep,
               "DELETE FROM meeting; DELETE FROM delegates; DELETE FROM audit;"
               " DELETE FROM spoken;",
               NULL, NULL, NULL);
}

/* ASan's defaults for this target (ASAN_OPTIONS still wins). An input
 * mallocs about 0.6 MB (JSON per message, a meeting per input: print_stats
 * over the corpus), so the default 256 MB quarantine held hundreds of
 * inputs' frees and the process ran at ~450 MB RSS, paying page faults and
 * cache misses on every recycle; 32 MB still keeps every block freed in the
 * last ~50 inputs poisoned, so a use after free within an input is caught as
 * before. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=32"; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fb_log_set_level(FB_LOG_ERROR);
  trace = getenv("FUZZ_MEETING_TRACE") != NULL;
  sqlite3_config(SQLITE_CONFIG_URI, 1); /* the shared in-memory store */
  for (size_t i = 0; i < NIDS; i++)
    mint(tokens[i], SECRET, "m1", ids[i].sub, ids[i].name, ids[i].role, ids[i].speak, 4102444800LL);
  mint(tokens[NIDS], "another-secret-0123456789", "m1", "d1", "Forged", "chair", 0, 4102444800LL);
  mint(tokens[NIDS + 1], SECRET, "m1", "d2", "Late", "delegate", 0, 1600000000LL);
  mint(tokens[NIDS + 2], SECRET, "m2", "d3", "Elsewhere", "chair", 0, 4102444800LL);
  snprintf(tokens[NIDS + 3], sizeof tokens[0], "not.a.token");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fb_ms_input in = {data, size};
  uint8_t c0 = fb_ms_next(&in);
  memset(&g, 0, sizeof g);
  g.cur = -1;
  g.now = T0_MS;
  g.next_pid = 100;
  fb_config_defaults(&g.cfg);
  snprintf(g.cfg.meeting_id, sizeof g.cfg.meeting_id, "m1");
  g.cfg.floor_max_live = 1 + (c0 & MS_CFG_MAX_LIVE);
  g.cfg.floor_auto_cut = !!(c0 & MS_CFG_AUTO_CUT);
  g.cfg.open_floor = !!(c0 & MS_CFG_OPEN_FLOOR);
  snprintf(g.cfg.floor_sessions, sizeof g.cfg.floor_sessions,
           "Debate:interactive,Plenary:webcast,Caucus:interactive");
  g.cfg.floor_start_session = c0 & MS_CFG_WEBCAST_START ? 1 : 0;
  g.cfg.chat_delegates_to_all = !(c0 & MS_CFG_NO_CHAT_TO_ALL);
  g.cfg.chat_enabled = !(c0 & MS_CFG_NO_CHAT);
  g.cfg.chat_max_length = 40;
  g.cfg.chat_per_minute = 3;
  if (c0 & MS_CFG_STORE) {
    snprintf(g.cfg.store_path, sizeof g.cfg.store_path, "%s", STORE_URI);
    store_empty();
  }
  meeting_new();
  int hold = 0;
  while (in.n) {
    uint8_t op = fb_ms_next(&in);
    int k = (op >> 4) % NSLOTS, flush = !hold;
    hold = 0;
    switch (op & 15) {
    case MS_OP_RAW: {
      size_t len = fb_ms_next(&in);
      if (len > in.n) len = in.n;
      message(k, (const char *)in.p, len);
      in.p += len;
      in.n -= len;
      break;
    }
    case MS_OP_CLOSE: close_slot(k); break;
    case MS_OP_TIME:
      g.now += 250 * (int64_t)fb_ms_next(&in);
      fb_meeting_tick(g.m);
      break;
    case MS_OP_QUALITY: {
      uint8_t a = fb_ms_next(&in), b = fb_ms_next(&in);
      for (int i = 0; i < g.nparts; i++) {
        part *p = &g.parts[i];
        if (!p->alive || p->slot != k) continue;
        memset(&p->q, 0, sizeof p->q);
        p->q.valid = a != 0;
        p->q.mos = 1.0 + (a % 41) / 10.0;
        p->q.loss_pct = b % 30;
        p->q.rtt_ms = b & 1 ? -1 : 40;
      }
      break;
    }
    case MS_OP_EVENT: {
      static const char *const ev[] = {"consent_lost",    "dtls_failed", "ice_connected",
                                       "media_connected", "floor_lost",  "dtls_closed"};
      uint8_t e = fb_ms_next(&in);
      int pid = 0;
      for (int i = 0; !(e & 0x80) && i < g.nparts; i++)
        if (g.parts[i].alive && g.parts[i].slot == k) pid = g.parts[i].pid;
      if (!(e & 0x80) && !pid) pid = 9999; /* gone, or never there */
      fb_meeting_event(g.m, pid, ev[e % 6], "fuzz");
      break;
    }
    case MS_OP_TRANSPORT_ERROR: {
      static const char *const codes[] = {"rate_limited", "too_large", "bad_message"};
      open_slot(k);
      if (!fb_session_closing(g.conns[k].s)) /* server.c drops input once closing */
        fb_meeting_error(g.m, g.conns[k].s, codes[fb_ms_next(&in) % 3], "from the transport");
      break;
    }
    case MS_OP_HOLD:
      hold = 1;
      flush = 0;
      break;
    case MS_OP_RESTART:
      if (g.cfg.store_path[0]) restart();
      break;
    case MS_OP_FAIL_JOIN: g.fail_join = 1; break;
    case MS_OP_METRICS: {
      char buf[8192];
      memset(buf, 'x', sizeof buf);
      size_t len = fb_meeting_metrics(g.m, buf, sizeof buf);
      CHECK(len < sizeof buf && buf[len] == '\0' && strlen(buf) == len, "/metrics fits");
      break;
    }
    case MS_OP_DRAIN:
      for (int s = 0; s < NSLOTS; s++)
        if (g.conns[s].open && g.conns[s].closing) close_slot(s);
      break;
    default: { /* MS_OP_MESSAGE, 12..15 */
      char *text = fb_ms_build(&in, tokens, NTOK);
      CHECK(text, "a message");
      message(k, text, strlen(text));
      free(text);
      break;
    }
    }
    if (flush) fb_meeting_flush(g.m);
    check_all();
  }
  fb_meeting_flush(g.m);
  check_all();
  meeting_free();
  parsed_clear();
  return 0;
}
