/*
 * broadcast.c — the state messages of floor control (PROTOCOL.md: you,
 * queue, roster, mode, quality, chat_policy), when they are sent, the
 * quality timer and the meeting's /metrics lines.
 *
 * Design: the floor says "something changed" (on_changed) and the meeting
 * only marks what (FB_DIRTY_*). fb_meeting_flush, which the transport calls
 * once per service-loop iteration, then builds each message once and sends
 * it to whoever should see it: so a burst of requests, or a mode change that
 * ends three turns, costs one queue and one roster message per connection,
 * not one per change. "you" is built per connection and sent only when its
 * text differs from the last one sent, so a delegate hears about its own
 * state exactly when it changes; it is built only for the connections whose
 * delegate the floor marked (below), so one change is not 3,000 "you"s built
 * and compared. The delegates' roster summary (a count) is sent on change
 * too. A connection that just joined gets the whole picture once (mode,
 * chat_policy, you, queue, roster), after its "joined".
 *
 * Rosters scale: a chair gets the full roster once, at join ("full": true),
 * then only the entries that changed ("full": false). The floor marks each
 * delegate whose entry may have changed (its on_delegate hook); a delta
 * compares the small snapshot of only those with what chairs were last told,
 * so a change costs O(changed), not O(delegates) (3,000 delegates joining at
 * 50 a second used to snapshot all 3,000 on every flush). Entries are listed
 * in floor order, as when every delegate was compared; out of memory for the
 * marks, every delegate is compared. Sending the full roster on every change
 * made a join storm or steady churn O(N) bytes per change per chair: at 300
 * participants churning 15 a second that was 2.3 MB/s to each chair, and the
 * transport dropped chairs as slow readers. The count to delegates and
 * observers changes at most once a second (a held one goes at the first
 * flush after its second), or a storm of N joins would be N^2 messages.
 *
 * Who sees what: the queue (ids and names) goes to everyone (a formal
 * meeting's speakers list is public in the room too); the full roster (every
 * known delegate, state, quality flags, speaking time) and the quality
 * scores only to chairs; delegates and observers get {"type":"roster",
 * "count":N} (connected participants).
 *
 * Strings from the floor (names, bar reasons) are valid UTF-8 as they came
 * from JSON; one truncated mid-character by a fixed-size field is sent with
 * its non-ASCII bytes as '?' rather than dropped.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/textbuf.h"
#include "signalling/meeting_int.h"

/* ---- building ---------------------------------------------------------------- */

static json_t *jstr(const char *s) {
  json_t *j = json_string(s ? s : "");
  if (j) return j;
  char buf[512];
  size_t n = 0;
  for (; s[n] && n < sizeof buf - 1; n++) buf[n] = (unsigned char)s[n] < 0x80 ? s[n] : '?';
  buf[n] = '\0';
  return json_string(buf);
}

static json_t *jnum(double v) { return json_real(round(v * 100.0) / 100.0); }

static json_t *msg_new(const char *type) {
  return json_pack("{s:i, s:s}", "v", FB_PROTOCOL_VERSION, "type", type);
}

static char *msg_done(json_t *o) {
  char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return text;
}

static char *build_you(fb_meeting *m, fb_session *s) {
  const fb_delegate *d = fb_floor_find(m->floor, s->tok.delegate);
  json_t *o = msg_new("you");
  if (!o) return NULL;
  json_object_set_new(o, "delegate", jstr(s->tok.delegate));
  json_object_set_new(o, "state",
                      json_string(fb_floor_state_name(d ? d->state : FB_FLOOR_LISTENING)));
  json_object_set_new(o, "chair_muted", json_boolean(d && d->chair_muted));
  json_object_set_new(o, "self_muted", json_boolean(d && d->self_muted));
  json_object_set_new(o, "queue_position",
                      json_integer(fb_floor_queue_position(m->floor, s->tok.delegate)));
  json_object_set_new(o, "bar_reason", jstr(d && d->state == FB_FLOOR_BARRED ? d->bar_reason : ""));
  return msg_done(o);
}

static char *build_queue(fb_meeting *m) {
  int n = fb_floor_count(m->floor);
  const fb_delegate **q = calloc((size_t)(n > 0 ? n : 1), sizeof *q);
  json_t *o = msg_new("queue"), *arr = json_array();
  if (!q || !o || !arr) {
    free(q);
    json_decref(o);
    json_decref(arr);
    return NULL;
  }
  int len = fb_floor_queue(m->floor, q, n);
  for (int i = 0; i < len && i < n; i++)
    json_array_append_new(
        arr, json_pack("{s:o, s:o, s:I, s:i}", "delegate", jstr(q[i]->id), "name", jstr(q[i]->name),
                       "since_ms", (json_int_t)q[i]->requested_ms, "position", i + 1));
  free(q);
  json_object_set_new(o, "entries", arr);
  return msg_done(o);
}

/* One delegate's roster entry. */
static json_t *roster_entry(fb_meeting *m, const fb_delegate *d, int64_t now) {
  json_t *p = json_object();
  if (!p) return NULL;
  json_object_set_new(p, "delegate", jstr(d->id));
  json_object_set_new(p, "name", jstr(d->name));
  json_object_set_new(p, "role", json_string(fb_role_name(d->role)));
  json_object_set_new(p, "state", json_string(fb_floor_state_name(d->state)));
  json_object_set_new(p, "connected", json_boolean(d->connected));
  json_object_set_new(p, "flagged", json_boolean(d->flagged));
  json_object_set_new(p, "recovered", json_boolean(d->recovered));
  json_object_set_new(p, "speaking_ms", json_integer(fb_floor_speaking_ms(m->floor, d->id, now)));
  json_object_set_new(p, "bar_reason", jstr(d->state == FB_FLOOR_BARRED ? d->bar_reason : ""));
  json_object_set_new(p, "barred_by", jstr(d->state == FB_FLOOR_BARRED ? d->barred_by : ""));
  json_object_set_new(p, "chair_muted", json_boolean(d->chair_muted));
  json_object_set_new(p, "self_muted", json_boolean(d->self_muted));
  json_object_set_new(p, "queue_position", json_integer(fb_floor_queue_position(m->floor, d->id)));
  json_object_set_new(
      p, "live_since_ms",
      json_integer(d->state == FB_FLOOR_LIVE || d->state == FB_FLOOR_MUTED ? d->live_since_ms : 0));
  return p;
}

/* Everything a roster entry depends on, as plain values, so that "did this
 * entry change since chairs were told" is a memcmp rather than building and
 * comparing JSON. The running part of speaking_ms is not in it: it follows
 * from state and connected, and the console extrapolates it. */
struct fb_roster_snap {
  int32_t role, state, connected, flagged, recovered, chair_muted, self_muted, qpos;
  int64_t live_since_ms, spoken_ms;
  uint32_t name, bar, by; /* hashes */
};

static uint32_t fnv(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static void snap_of(fb_meeting *m, const fb_delegate *d, struct fb_roster_snap *out) {
  memset(out, 0, sizeof *out);
  out->role = (int32_t)d->role;
  out->state = (int32_t)d->state;
  out->connected = d->connected;
  out->flagged = d->flagged;
  out->recovered = d->recovered;
  out->chair_muted = d->chair_muted;
  out->self_muted = d->self_muted;
  out->qpos = fb_floor_queue_position(m->floor, d->id);
  out->live_since_ms = d->live_since_ms;
  out->spoken_ms = d->spoken_ms;
  out->name = fnv(d->name);
  out->bar = fnv(d->bar_reason);
  out->by = fnv(d->barred_by);
}

static char *roster_msg(fb_meeting *m, json_t *arr, int full) {
  json_t *o = msg_new("roster");
  if (!o || !arr) {
    json_decref(o);
    json_decref(arr);
    return NULL;
  }
  json_object_set_new(o, "full", json_boolean(full));
  json_object_set_new(o, "participants", arr);
  json_object_set_new(o, "count", json_integer(fb_floor_connected(m->floor)));
  return msg_done(o);
}

/* The whole roster: for a chair that just joined. */
static char *build_roster(fb_meeting *m, int64_t now) {
  json_t *arr = json_array();
  int n = fb_floor_count(m->floor);
  for (int i = 0; arr && i < n; i++) {
    json_t *p = roster_entry(m, fb_floor_at(m->floor, i), now);
    if (p) json_array_append_new(arr, p);
  }
  return roster_msg(m, arr, 1);
}

/* Delegates are never removed from the floor and keep their index, so the
 * snapshot and the marks are arrays beside it. */

void fb_bc_roster_mark(fb_meeting *m, int i) {
  struct fb_roster_marks *k = &m->marks;
  if (k->all) return;
  if (i >= k->cap) {
    int cap = k->cap ? k->cap : 64;
    while (cap <= i) cap *= 2;
    unsigned char *on = realloc(k->on, (size_t)cap);
    if (on) {
      memset(on + k->cap, 0, (size_t)(cap - k->cap));
      k->on = on;
    }
    int *list = on ? realloc(k->list, (size_t)cap * sizeof *list) : NULL;
    if (!list)
      i = -1; /* out of memory */
    else {
      k->list = list;
      k->cap = cap;
    }
  }
  if (i < 0) {
    k->all = 1;
  } else if (!k->on[i]) {
    k->on[i] = 1;
    k->list[k->n++] = i;
  }
}

static int marked(const fb_meeting *m, int i) {
  return m->marks.all || (i < m->marks.cap && m->marks.on[i]);
}

static void marks_clear(fb_meeting *m) {
  struct fb_roster_marks *k = &m->marks;
  if (k->all && k->on) memset(k->on, 0, (size_t)k->cap);
  for (int j = 0; !k->all && j < k->n; j++) k->on[k->list[j]] = 0;
  k->n = 0;
  k->all = 0;
}

int fb_meeting_roster_check(fb_meeting *m) {
  m->roster_check = 1;
  return m->roster_missed;
}

static int by_index(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Delegate i's entry, if it changed since chairs were told, to arr (and
 * the snapshot brought up to date). */
static void delta_entry(fb_meeting *m, json_t *arr, int i, int64_t now) {
  const fb_delegate *d = fb_floor_at(m->floor, i);
  struct fb_roster_snap now_snap;
  snap_of(m, d, &now_snap);
  if (memcmp(&now_snap, &m->snap[i], sizeof now_snap) == 0) return;
  m->snap[i] = now_snap;
  json_t *p = roster_entry(m, d, now);
  if (p) json_array_append_new(arr, p);
}

/* The entries that changed since the last call (NULL when none did), in
 * floor order: of the marked delegates, and of those the snapshot has not
 * seen yet (none but new ones, unless it was lost). The caller clears the
 * marks. */
static char *build_roster_delta(fb_meeting *m, int64_t now) {
  int n = fb_floor_count(m->floor), from = m->nsnap;
  if (n > m->nsnap) {
    struct fb_roster_snap *g = realloc(m->snap, (size_t)n * sizeof *g);
    if (!g) {
      /* out of memory: forget the snapshot, everyone is told everything */
      free(m->snap);
      m->snap = NULL;
      m->nsnap = 0;
      return build_roster(m, now);
    }
    memset(g + m->nsnap, 0xff, (size_t)(n - m->nsnap) * sizeof *g); /* differs from any */
    m->snap = g;
    m->nsnap = n;
  }
  for (int i = 0; m->roster_check && i < from; i++) { /* what comparing everyone finds */
    struct fb_roster_snap s;
    if (marked(m, i)) continue;
    snap_of(m, fb_floor_at(m->floor, i), &s);
    if (memcmp(&s, &m->snap[i], sizeof s) != 0) {
      fb_log(FB_LOG_ERROR, "signalling", "roster: %s changed unmarked",
             fb_floor_at(m->floor, i)->id);
      m->roster_missed++;
    }
  }
  json_t *arr = json_array();
  if (m->marks.all) {
    for (int i = 0; arr && i < n; i++) delta_entry(m, arr, i, now);
  } else {
    qsort(m->marks.list, (size_t)m->marks.n, sizeof *m->marks.list, by_index);
    for (int j = 0; arr && j < m->marks.n; j++)
      if (m->marks.list[j] < from) delta_entry(m, arr, m->marks.list[j], now);
    for (int i = from; arr && i < n; i++) delta_entry(m, arr, i, now);
  }
  if (arr && json_array_size(arr) == 0) {
    json_decref(arr);
    return NULL;
  }
  return roster_msg(m, arr, 0);
}

static char *build_count(int count) {
  json_t *o = msg_new("roster");
  if (o) json_object_set_new(o, "count", json_integer(count));
  return msg_done(o);
}

static char *build_mode(fb_meeting *m) {
  const fb_floor_config *fc = fb_floor_get_config(m->floor);
  int cur = fb_floor_session_now(m->floor);
  json_t *o = msg_new("mode"), *arr = json_array();
  if (!o || !arr) {
    json_decref(o);
    json_decref(arr);
    return NULL;
  }
  json_object_set_new(o, "mode", json_string(fb_floor_mode_name(fb_floor_mode_now(m->floor))));
  json_object_set_new(
      o, "session",
      json_pack("{s:i, s:o}", "index", cur, "name",
                jstr(cur >= 0 && cur < fc->nsessions ? fc->sessions[cur].name : "")));
  for (int i = 0; i < fc->nsessions; i++)
    json_array_append_new(
        arr, json_pack("{s:i, s:o, s:s}", "index", i, "name", jstr(fc->sessions[i].name), "mode",
                       fb_floor_mode_name(fc->sessions[i].mode)));
  json_object_set_new(o, "sessions", arr);
  return msg_done(o);
}

char *fb_bc_chat_policy(const fb_meeting *m) {
  json_t *o = msg_new("chat_policy");
  if (o) {
    json_object_set_new(o, "delegates_to_all", json_boolean(m->chat_to_all));
    json_object_set_new(o, "enabled", json_boolean(m->cfg.chat_enabled));
  }
  return msg_done(o);
}

/* ---- sending ------------------------------------------------------------------ */

static int open_joined(const fb_session *s) { return s->joined && !s->closing; }

void fb_bc_to_all(fb_meeting *m, const char *json) {
  for (fb_session *s = m->sessions; s; s = s->next)
    if (open_joined(s)) m->io.send(s->conn, json);
}

void fb_bc_to_chairs(fb_meeting *m, const char *json) {
  for (fb_session *s = m->sessions; s; s = s->next)
    if (open_joined(s) && s->tok.role == FB_ROLE_CHAIR) m->io.send(s->conn, json);
}

/* Can s's "you" differ from the last one sent? Only when its delegate was
 * marked: everything "you" shows is in the roster entry too. Under
 * fb_meeting_roster_check, an unmarked one is built anyway and compared. */
static int you_stale(fb_meeting *m, fb_session *s) {
  if (!s->last_you || s->didx < 0 || marked(m, s->didx)) return 1;
  if (m->roster_check) {
    char *you = build_you(m, s);
    if (you && strcmp(you, s->last_you) != 0) {
      fb_log(FB_LOG_ERROR, "signalling", "you: %s changed unmarked", s->tok.delegate);
      m->roster_missed++;
    }
    free(you);
  }
  return 0;
}

/* Send *cache to s, building it on first use. */
static void send_cached(fb_session *s, char **cache, int *built, char *text) {
  if (!*built) {
    *cache = text;
    *built = 1;
  } else {
    free(text);
  }
  if (*cache) s->m->io.send(s->conn, *cache);
}

void fb_meeting_flush(fb_meeting *m) {
  unsigned d = m->dirty;
  /* The count to delegates and observers is informative: at most one
   * change a second, so a join storm is not N messages to each of N. One is
   * owed when some of them may have another count than the current one (all
   * were told count_told, except joiners since, count_mixed); it goes at the
   * first flush a second after the last, whether anything else changed or
   * not (the transport flushes at least once a second: the tick wakes it). */
  int count = fb_floor_connected(m->floor);
  int count_owed = count != m->count_told || m->count_mixed;
  if (!d && !count_owed) return;
  int64_t now = fb_meeting_now_ms(m);
  int count_due = count_owed && now - m->count_at >= 1000, count_sent = 0;
  if (!d && !count_due) return;
  m->dirty = 0;
  if (d & FB_DIRTY_STATE) fb_meeting_persist(m, 1);
  char *mode = NULL, *queue = NULL, *roster = NULL, *policy = NULL, *counted = NULL;
  int have_mode = 0, have_queue = 0, have_roster = 0, have_policy = 0, have_count = 0;
  /* Chairs already in the meeting get only the entries that changed. */
  char *delta = (d & FB_DIRTY_ROSTER) ? build_roster_delta(m, now) : NULL;
  /* no walk over the sessions when none is owed anything */
  int each =
      (d & (FB_DIRTY_NEW | FB_DIRTY_MODE | FB_DIRTY_YOU | FB_DIRTY_QUEUE)) || delta || count_due;
  for (fb_session *s = each ? m->sessions : NULL; s; s = s->next) {
    if (!open_joined(s)) continue;
    int all = s->initial;
    s->initial = 0;
    if (all || (d & FB_DIRTY_MODE))
      send_cached(s, &mode, &have_mode, have_mode ? NULL : build_mode(m));
    if (all) send_cached(s, &policy, &have_policy, have_policy ? NULL : fb_bc_chat_policy(m));
    if (all || ((d & FB_DIRTY_YOU) && you_stale(m, s))) {
      char *you = build_you(m, s);
      if (you && (!s->last_you || strcmp(you, s->last_you) != 0)) {
        m->io.send(s->conn, you);
        free(s->last_you);
        s->last_you = you;
      } else {
        free(you);
      }
    }
    if (all || (d & FB_DIRTY_QUEUE))
      send_cached(s, &queue, &have_queue, have_queue ? NULL : build_queue(m));
    if (s->tok.role == FB_ROLE_CHAIR) {
      if (all)
        send_cached(s, &roster, &have_roster, have_roster ? NULL : build_roster(m, now));
      else if (delta)
        m->io.send(s->conn, delta);
    } else if (all || (count_due && count != s->last_count)) {
      send_cached(s, &counted, &have_count, have_count ? NULL : build_count(count));
      count_sent |= !all;
      m->count_mixed |= count != m->count_told;
      s->last_count = count;
    }
  }
  /* both users of the marks are done with them (a flush with only one of
   * the two keeps them: looking at a delegate again finds nothing new) */
  if ((d & FB_DIRTY_ROSTER) && (d & FB_DIRTY_YOU)) marks_clear(m);
  if (count_due) { /* every joined non-chair has count now */
    m->count_told = count;
    m->count_mixed = 0;
    if (count_sent) m->count_at = now;
  }
  free(counted);
  free(delta);
  free(mode);
  free(queue);
  free(roster);
  free(policy);
}

/* ---- quality ---------------------------------------------------------------- */

static json_t *quality_entry(const fb_delegate *d, const fb_quality *q) {
  json_t *p = json_object();
  if (!p) return NULL;
  json_object_set_new(p, "delegate", jstr(d->id));
  json_object_set_new(p, "name", jstr(d->name));
  json_object_set_new(p, "state", json_string(fb_floor_state_name(d->state)));
  json_object_set_new(p, "valid", json_boolean(q->valid));
  if (q->valid) {
    json_object_set_new(p, "mos", jnum(q->mos));
    json_object_set_new(p, "r", jnum(q->r_factor));
    json_object_set_new(p, "loss_pct", jnum(q->loss_pct));
    json_object_set_new(p, "burst_ratio", jnum(q->burst_ratio));
    json_object_set_new(p, "jitter_ms", jnum(q->jitter_ms));
    json_object_set_new(p, "late_pct", jnum(q->late_pct));
    json_object_set_new(p, "concealed_pct", jnum(q->concealed_pct));
    json_object_set_new(p, "rtt_ms", q->rtt_ms < 0 ? json_null() : jnum(q->rtt_ms));
    json_object_set_new(p, "level_dbfs", jnum(q->level_dbfs));
    json_object_set_new(p, "clip_pct", jnum(q->clip_pct));
    json_object_set_new(p, "noise_dbfs", jnum(q->noise_dbfs));
    json_object_set_new(p, "snr_db", jnum(q->snr_db));
  }
  json_object_set_new(p, "flagged", json_boolean(d->flagged));
  json_object_set_new(p, "recovered", json_boolean(d->recovered));
  return p;
}

void fb_meeting_tick(fb_meeting *m) {
  fb_meeting_revocations(m);
  int64_t now = fb_meeting_now_ms(m);
  json_t *arr = json_array();
  int chairs = 0;
  for (fb_session *s = m->sessions; s && arr; s = s->next) {
    if (!open_joined(s)) continue;
    chairs += s->tok.role == FB_ROLE_CHAIR;
    const fb_delegate *d = fb_floor_find(m->floor, s->tok.delegate);
    if (!s->bridge_pid || !d ||
        (d->state != FB_FLOOR_LIVE && d->state != FB_FLOOR_MUTED && d->state != FB_FLOOR_BARRED))
      continue;
    fb_quality q;
    if (m->br.quality(m->br.ud, s->bridge_pid, &q) < 0) continue;
    if (q.valid) fb_floor_quality(m->floor, s->tok.delegate, &q, now); /* may flag or cut */
    d = fb_floor_find(m->floor, s->tok.delegate);
    if (d) json_array_append_new(arr, quality_entry(d, &q));
  }
  size_t n = json_array_size(arr);
  if (chairs && (n || m->quality_sent)) {
    json_t *o = msg_new("quality");
    if (o) json_object_set(o, "participants", arr);
    char *text = msg_done(o);
    if (text) fb_bc_to_chairs(m, text);
    free(text);
  }
  m->quality_sent = n > 0;
  json_decref(arr);
}

/* ---- /metrics -------------------------------------------------------------- */

void fb_bc_count_error(fb_meeting *m, const char *code) {
  int ok = code && *code && strlen(code) < sizeof m->errs[0].code;
  for (const char *p = code; ok && *p; p++) ok = islower((unsigned char)*p) || *p == '_';
  if (!ok) code = "other"; /* label values stay plain */
  for (int i = 0; i < m->nerrs; i++)
    if (strcmp(m->errs[i].code, code) == 0) {
      m->errs[i].n++;
      return;
    }
  if (m->nerrs == FB_ERROR_CODES) return;
  snprintf(m->errs[m->nerrs].code, sizeof m->errs[0].code, "%s", code);
  m->errs[m->nerrs++].n = 1;
}

size_t fb_meeting_metrics(fb_meeting *m, char *buf, size_t len) {
  size_t off = 0;
#define OUT(...) fb_appendf(buf, len, &off, __VA_ARGS__)
  if (!len) return 0;
  int counts[3][5] = {{0}};
  int n = fb_floor_count(m->floor);
  for (int i = 0; i < n; i++) {
    const fb_delegate *d = fb_floor_at(m->floor, i);
    if (d->connected && (int)d->role >= 0 && (int)d->role < 3 && (int)d->state >= 0 &&
        (int)d->state < 5)
      counts[d->role][d->state]++;
  }
  OUT("# HELP floorbridge_participants Connected participants by role and floor state.\n"
      "# TYPE floorbridge_participants gauge\n");
  for (int r = 0; r < 3; r++)
    for (int st = 0; st < 5; st++)
      OUT("floorbridge_participants{role=\"%s\",state=\"%s\"} %d\n", fb_role_name((fb_role)r),
          fb_floor_state_name((fb_floor_state)st), counts[r][st]);
  OUT("# HELP floorbridge_connections Open WebSocket connections.\n"
      "# TYPE floorbridge_connections gauge\nfloorbridge_connections %d\n",
      m->nsessions);
  OUT("# HELP floorbridge_queue_length Delegates waiting for the floor.\n"
      "# TYPE floorbridge_queue_length gauge\nfloorbridge_queue_length %d\n",
      fb_floor_queue(m->floor, NULL, 0));
  OUT("# HELP floorbridge_webcast_only 1 while the session is webcast-only.\n"
      "# TYPE floorbridge_webcast_only gauge\nfloorbridge_webcast_only %d\n",
      fb_floor_mode_now(m->floor) == FB_MODE_WEBCAST);
  OUT("# HELP floorbridge_chat_messages_total Chat messages delivered.\n"
      "# TYPE floorbridge_chat_messages_total counter\nfloorbridge_chat_messages_total %llu\n",
      (unsigned long long)m->chat_messages);
  OUT("# HELP floorbridge_protocol_errors_total Errors sent to clients, by code.\n"
      "# TYPE floorbridge_protocol_errors_total counter\n");
  static const char *always[] = {"bad_json", "not_chair", "barred", "rate_limited"};
  for (size_t i = 0; i < sizeof always / sizeof *always; i++) {
    int seen = 0;
    for (int k = 0; k < m->nerrs; k++) seen |= strcmp(m->errs[k].code, always[i]) == 0;
    if (!seen) OUT("floorbridge_protocol_errors_total{code=\"%s\"} 0\n", always[i]);
  }
  for (int k = 0; k < m->nerrs; k++)
    OUT("floorbridge_protocol_errors_total{code=\"%s\"} %llu\n", m->errs[k].code,
        (unsigned long long)m->errs[k].n);
#undef OUT
  return off < len ? off : len - 1;
}
