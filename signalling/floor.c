/*
 * floor.c — the meeting's rules (see floor.h): delegates, the queue, state
 * changes, connections, delegate actions, restore. The chair's actions and
 * the quality rules are in floor_chair.c; what both share is in
 * floor_internal.h.
 *
 * Design:
 * - Delegates live in an array of pointers to separately allocated entries
 *   (so fb_floor_at / fb_floor_find pointers stay valid while the table grows)
 *   with an open-addressing hash of ids for O(1) lookups. Delegates are never
 *   removed: an identity's bar and speaking time outlive its connections.
 * - The queue is an array of entries in order; each entry caches its 1-based
 *   position. requested_ms is kept strictly increasing along the queue (a tie
 *   or a chair's queue_move nudges the key by a millisecond or so), so the
 *   order the chair sees is exactly what the store persists and restores.
 * - Every state change goes through floor_set_state(), which keeps the live
 *   count, queue membership, mute/bar flags and the speaking interval
 *   consistent.
 *   A speaking interval is open while a delegate is LIVE, unmuted and
 *   connected. Muted time does NOT count as speaking: a mute closes the
 *   interval (on_spoken) and the unmute opens a new one, so the report says
 *   who was actually heard. live_since_ms is the start of the turn (kept
 *   across mutes, for the console); spoken_ms sums the intervals of the
 *   current session. Zero-length intervals are not reported.
 * - "roster"/"queue"/"mode" changes are collected during an operation and
 *   announced once each at its end. on_media is emitted for connected
 *   delegates after every state or mode change (observers: LISTEN, uplink 0).
 *   Hooks must not modify the floor (reading it is fine).
 * - Chair actions are audited on success, and on refusal as
 *   "refused:<action>" with the error code as detail. The bridge itself may
 *   act as actor NULL (or "auto" while no delegate has that id), audited as
 *   "auto"; automatic cuts are audited the same way.
 *
 * Decisions where floor.h is silent:
 * - A disconnect ends the turn; the chair mute ends with the turn (there is
 *   nothing left to mute). The mute survives a bridge restart: a delegate
 *   restored LIVE or MUTED from the store resumes that state on reconnecting
 *   (interactive mode only); a restored MUTED without chair_muted is taken
 *   as a self mute. Restored delegates hold their floor/queue place while
 *   disconnected (live_since_ms is -1 until they return); the chair may
 *   end_turn / queue_remove them.
 * - mute(on=1) of a self-muted delegate adds the chair mute; mute(on=0) of a
 *   live delegate is a no-op and leaves a self mute in place. mute_all mutes
 *   self-muted ones too. cut of a barred delegate updates the bar (re-cut).
 * - set_session clears the queue too (requests belong to the session's
 *   discussion); bars carry over.
 * - Observers keep a bar they had as delegates, otherwise they are listening.
 * - Times are non-negative milliseconds (the store expects Unix epoch ms);
 *   bad_since_ms / good_since_ms are -1 when not running.
 * - Quality: "bad" = valid and (mos < min_mos or loss > max_loss_pct);
 *   "good" = valid and not bad; an invalid score restarts the timers but
 *   leaves flagged / recovered as they are. Flag after bad for >= flag_after_ms.
 */
#include "signalling/floor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_id(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

entry *floor_find(const fb_floor *f, const char *id) {
  if (!id || !f->hcap) return NULL;
  for (uint32_t i = hash_id(id) & (f->hcap - 1);; i = (i + 1) & (f->hcap - 1)) {
    int k = f->hash[i];
    if (!k) return NULL;
    if (!strcmp(f->e[k - 1]->d.id, id)) return f->e[k - 1];
  }
}

static void hash_put(fb_floor *f, int idx) {
  uint32_t i = hash_id(f->e[idx]->d.id) & (f->hcap - 1);
  while (f->hash[i]) i = (i + 1) & (f->hcap - 1);
  f->hash[i] = idx + 1;
}

/* Find id or add it as a listening, disconnected delegate. NULL on OOM. */
static entry *find_or_add(fb_floor *f, const char *id) {
  entry *e = floor_find(f, id);
  if (e) return e;
  if (f->n == f->cap) {
    int cap = f->cap ? f->cap * 2 : 64;
    entry **ne = realloc(f->e, (size_t)cap * sizeof *ne);
    if (!ne) return NULL;
    f->e = ne;
    f->cap = cap;
  }
  if ((f->n + 1) * 2 > f->hcap) {
    int hcap = f->hcap ? f->hcap * 2 : 128;
    int *nh = calloc((size_t)hcap, sizeof *nh);
    if (!nh) return NULL;
    free(f->hash);
    f->hash = nh;
    f->hcap = hcap;
    for (int i = 0; i < f->n; i++) hash_put(f, i);
  }
  e = calloc(1, sizeof *e);
  if (!e) return NULL;
  copy_str(e->d.id, sizeof e->d.id, id);
  e->d.role = FB_ROLE_DELEGATE;
  e->d.state = FB_FLOOR_LISTENING;
  e->d.bad_since_ms = e->d.good_since_ms = -1;
  e->idx = f->n;
  f->e[f->n] = e;
  hash_put(f, f->n++);
  floor_touch(f, e);
  return e;
}

/* ---- queue ---- */

static void q_renumber(fb_floor *f, int from) {
  for (int i = from; i < f->qlen; i++) {
    if (f->q[i]->qpos == i + 1) continue;
    f->q[i]->qpos = i + 1;
    floor_touch(f, f->q[i]);
  }
}

/* Keep keys strictly increasing from index i on (the rest already is). */
static void q_fix_keys(fb_floor *f, int i) {
  for (i = i < 1 ? 1 : i; i < f->qlen; i++) {
    if (f->q[i]->d.requested_ms > f->q[i - 1]->d.requested_ms) break;
    f->q[i]->d.requested_ms = f->q[i - 1]->d.requested_ms + 1;
  }
}

static int q_insert_at(fb_floor *f, entry *e, int pos) {
  if (f->qlen == f->qcap) {
    int cap = f->qcap ? f->qcap * 2 : 32;
    entry **nq = realloc(f->q, (size_t)cap * sizeof *nq);
    if (!nq) return -1;
    f->q = nq;
    f->qcap = cap;
  }
  memmove(f->q + pos + 1, f->q + pos, (size_t)(f->qlen - pos) * sizeof *f->q);
  f->q[pos] = e;
  f->qlen++;
  q_renumber(f, pos);
  return 0;
}

/* Insert by key (after every entry with a key <= it: ties by insertion). */
static int q_insert(fb_floor *f, entry *e, int64_t key) {
  int pos = f->qlen;
  while (pos > 0 && f->q[pos - 1]->d.requested_ms > key) pos--;
  e->d.requested_ms = key;
  if (q_insert_at(f, e, pos) < 0) return -1;
  q_fix_keys(f, pos);
  f->changed |= CH_QUEUE;
  return 0;
}

static void q_del(fb_floor *f, entry *e) {
  int i = e->qpos - 1;
  if (i < 0) return;
  memmove(f->q + i, f->q + i + 1, (size_t)(f->qlen - i - 1) * sizeof *f->q);
  f->qlen--;
  e->qpos = 0;
  floor_touch(f, e);
  q_renumber(f, i);
  f->changed |= CH_QUEUE;
}

/* Move a queued entry to 1-based position (checked by the caller). */
void floor_queue_move(fb_floor *f, entry *e, int position) {
  q_del(f, e);
  int i = position - 1;
  q_insert_at(f, e, i); /* cannot fail: the slot was just freed */
  /* a key between the neighbours', else just after the previous one */
  int64_t *k = &e->d.requested_ms;
  int above = i + 1 < f->qlen && *k >= f->q[i + 1]->d.requested_ms;
  if (i > 0 && (above || *k <= f->q[i - 1]->d.requested_ms))
    *k = f->q[i - 1]->d.requested_ms + 1;
  else if (i == 0 && above)
    *k = f->q[1]->d.requested_ms - 1;
  q_fix_keys(f, i + 1);
  f->changed |= CH_QUEUE | CH_ROSTER;
}

/* ---- hooks and the state helper ---- */

void floor_flush(fb_floor *f) {
  unsigned c = f->changed;
  f->changed = 0;
  if (!f->h.on_changed) return;
  if (c & CH_ROSTER) f->h.on_changed(f->ud, "roster");
  if (c & CH_QUEUE) f->h.on_changed(f->ud, "queue");
  if (c & CH_MODE) f->h.on_changed(f->ud, "mode");
}

void floor_audit(fb_floor *f, int64_t now, const char *actor, const char *action,
                 const char *target, const char *detail) {
  if (f->h.on_audit)
    f->h.on_audit(f->ud, now, actor ? actor : "", action, target ? target : "",
                  detail ? detail : "");
}

void floor_push_media(fb_floor *f, entry *e) {
  const fb_delegate *d = &e->d;
  if (!d->connected || !f->h.on_media) return;
  fb_floor_media m = FB_FLOOR_MEDIA_LISTEN;
  int uplink = d->role != FB_ROLE_OBSERVER && f->mode == FB_MODE_INTERACTIVE;
  if (uplink && d->state == FB_FLOOR_LIVE)
    m = FB_FLOOR_MEDIA_LIVE;
  else if (uplink && (d->state == FB_FLOOR_MUTED || d->state == FB_FLOOR_BARRED))
    m = FB_FLOOR_MEDIA_MEASURE;
  f->h.on_media(f->ud, d->id, m, uplink);
}

/* Open or close the speaking interval to match the state. */
static void refresh_speaking(fb_floor *f, entry *e, int64_t now) {
  int should = e->d.connected && e->d.state == FB_FLOOR_LIVE;
  if (should && !e->speaking) {
    e->speaking = 1;
    e->speak_since = now;
  } else if (!should && e->speaking) {
    e->speaking = 0;
    if (now > e->speak_since) {
      e->d.spoken_ms += now - e->speak_since;
      floor_touch(f, e);
      if (f->h.on_spoken) f->h.on_spoken(f->ud, e->d.id, f->session, e->speak_since, now);
    }
  }
}

void floor_set_state(fb_floor *f, entry *e, fb_floor_state st, int64_t now, int push) {
  fb_delegate *d = &e->d;
  fb_floor_state old = d->state;
  if (old == FB_FLOOR_QUEUED && st != FB_FLOOR_QUEUED) q_del(f, e);
  if (on_floor(old) && !on_floor(st)) {
    f->nlive--;
    d->chair_muted = d->self_muted = 0;
  }
  if (!on_floor(old) && on_floor(st)) {
    f->nlive++;
    d->live_since_ms = now;
  }
  if (st != FB_FLOOR_LIVE) {
    d->flagged = 0;
    d->bad_since_ms = -1;
  }
  if (old == FB_FLOOR_BARRED && st != FB_FLOOR_BARRED) {
    d->bar_reason[0] = d->barred_by[0] = '\0';
    d->barred_ms = 0;
    d->recovered = 0;
    d->good_since_ms = -1;
  }
  d->state = st;
  refresh_speaking(f, e, now);
  if (push) floor_push_media(f, e);
  floor_touch(f, e);
  f->changed |= CH_ROSTER;
}

/* ---- life cycle ---- */

fb_floor *fb_floor_new(const fb_floor_config *cfg, const fb_floor_hooks *hooks, void *ud) {
  fb_floor *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->cfg = *cfg;
  if (f->cfg.max_live < 1) f->cfg.max_live = 1;
  if (f->cfg.nsessions < 1) {
    f->cfg.nsessions = 1;
    memset(&f->cfg.sessions[0], 0, sizeof f->cfg.sessions[0]);
  }
  if (f->cfg.nsessions > FB_FLOOR_MAX_SESSIONS) f->cfg.nsessions = FB_FLOOR_MAX_SESSIONS;
  if (hooks) f->h = *hooks;
  f->ud = ud;
  f->mode = f->cfg.sessions[0].mode;
  return f;
}

void fb_floor_free(fb_floor *f) {
  if (!f) return;
  for (int i = 0; i < f->n; i++) free(f->e[i]);
  free(f->e);
  free(f->hash);
  free(f->q);
  free(f);
}

void fb_floor_connect(fb_floor *f, const char *id, const char *name, fb_role role, int64_t now_ms) {
  if (!id || !*id) return;
  entry *e = find_or_add(f, id);
  if (!e) return;
  fb_delegate *d = &e->d;
  copy_str(d->name, sizeof d->name, name);
  d->role = role;
  f->nconnected += !d->connected;
  d->connected = 1;
  if (role == FB_ROLE_OBSERVER) {
    if (d->state != FB_FLOOR_LISTENING && d->state != FB_FLOOR_BARRED)
      floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 0);
  } else if (f->mode == FB_MODE_WEBCAST && (on_floor(d->state) || d->state == FB_FLOOR_QUEUED)) {
    floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 0);
  } else if (on_floor(d->state) && d->live_since_ms < 0) {
    d->live_since_ms = now_ms; /* a restored turn resumes */
  }
  refresh_speaking(f, e, now_ms);
  floor_push_media(f, e);
  floor_touch(f, e);
  f->changed |= CH_ROSTER;
  floor_flush(f);
}

void fb_floor_disconnect(fb_floor *f, const char *id, int64_t now_ms) {
  entry *e = floor_find(f, id);
  if (!e || !e->d.connected) return;
  e->d.connected = 0;
  f->nconnected--;
  if (on_floor(e->d.state) || e->d.state == FB_FLOOR_QUEUED)
    floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 0);
  e->d.quality.valid = 0;
  e->d.flagged = e->d.recovered = 0;
  e->d.bad_since_ms = e->d.good_since_ms = -1;
  floor_touch(f, e);
  f->changed |= CH_ROSTER;
  floor_flush(f);
}

/* ---- delegate actions ---- */

static entry *delegate(fb_floor *f, const char *id, const char **err) {
  entry *e = floor_find(f, id);
  if (!e)
    *err = "unknown_delegate";
  else if (e->d.role == FB_ROLE_OBSERVER)
    *err = "not_delegate";
  return e;
}

const char *fb_floor_request(fb_floor *f, const char *id, int64_t now_ms) {
  const char *err = NULL;
  entry *e = delegate(f, id, &err);
  if (err) return err;
  if (!e->d.connected) return "not_connected";
  if (e->d.state == FB_FLOOR_BARRED) return "barred";
  if (f->mode == FB_MODE_WEBCAST) return "webcast_only";
  if (e->d.state == FB_FLOOR_QUEUED) return "already_queued";
  if (on_floor(e->d.state)) return "already_live";
  if (q_insert(f, e, now_ms) < 0) return "bad_argument"; /* out of memory */
  floor_set_state(f, e, FB_FLOOR_QUEUED, now_ms, 1);
  floor_flush(f);
  return NULL;
}

const char *fb_floor_withdraw(fb_floor *f, const char *id, int64_t now_ms) {
  const char *err = NULL;
  entry *e = delegate(f, id, &err);
  if (err) return err;
  if (e->d.state != FB_FLOOR_QUEUED && !on_floor(e->d.state)) return "not_queued";
  floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 1); /* from the floor: yields it */
  floor_flush(f);
  return NULL;
}

const char *fb_floor_self_mute(fb_floor *f, const char *id, int on, int64_t now_ms) {
  const char *err = NULL;
  entry *e = delegate(f, id, &err);
  if (err) return err;
  if (!on_floor(e->d.state)) return "not_live";
  if (on) {
    e->d.self_muted = 1;
  } else {
    if (e->d.chair_muted) return "chair_muted";
    e->d.self_muted = 0;
  }
  floor_set_state(f, e, e->d.self_muted ? FB_FLOOR_MUTED : FB_FLOOR_LIVE, now_ms, 1);
  floor_flush(f);
  return NULL;
}

/* ---- reading ---- */

int fb_floor_count(const fb_floor *f) { return f->n; }
int fb_floor_connected(const fb_floor *f) { return f->nconnected; }

const fb_delegate *fb_floor_at(const fb_floor *f, int i) {
  return i >= 0 && i < f->n ? &f->e[i]->d : NULL;
}

const fb_delegate *fb_floor_find(const fb_floor *f, const char *id) {
  entry *e = floor_find(f, id);
  return e ? &e->d : NULL;
}

int fb_floor_index(const fb_floor *f, const char *id) {
  entry *e = floor_find(f, id);
  return e ? e->idx : -1;
}

int fb_floor_queue(const fb_floor *f, const fb_delegate **out, int max) {
  for (int i = 0; out && i < f->qlen && i < max; i++) out[i] = &f->q[i]->d;
  return f->qlen;
}

int fb_floor_queue_position(const fb_floor *f, const char *id) {
  entry *e = floor_find(f, id);
  return e ? e->qpos : 0;
}

int64_t fb_floor_speaking_ms(const fb_floor *f, const char *id, int64_t now_ms) {
  entry *e = floor_find(f, id);
  if (!e) return 0;
  return e->d.spoken_ms + (e->speaking && now_ms > e->speak_since ? now_ms - e->speak_since : 0);
}

fb_floor_mode fb_floor_mode_now(const fb_floor *f) { return f->mode; }
int fb_floor_session_now(const fb_floor *f) { return f->session; }
const fb_floor_config *fb_floor_get_config(const fb_floor *f) { return &f->cfg; }

/* ---- restore ---- */

void fb_floor_restore_delegate(fb_floor *f, const fb_delegate *src) {
  if (!src || !src->id[0]) return;
  entry *e = find_or_add(f, src->id);
  if (!e) return;
  fb_delegate *d = &e->d;
  if (d->state == FB_FLOOR_QUEUED) q_del(f, e);
  if (on_floor(d->state)) f->nlive--;
  e->speaking = 0;
  copy_str(d->name, sizeof d->name, src->name);
  d->role = src->role;
  d->state = src->state;
  if ((unsigned)d->state > FB_FLOOR_BARRED ||
      (d->role == FB_ROLE_OBSERVER && d->state != FB_FLOOR_BARRED))
    d->state = FB_FLOOR_LISTENING;
  f->nconnected -= d->connected;
  d->connected = 0;
  d->chair_muted = d->state == FB_FLOOR_MUTED && src->chair_muted;
  d->self_muted = d->state == FB_FLOOR_MUTED && !d->chair_muted;
  d->requested_ms = src->requested_ms;
  d->live_since_ms = -1; /* set when the delegate reconnects */
  d->spoken_ms = src->spoken_ms;
  copy_str(d->bar_reason, sizeof d->bar_reason, d->state == FB_FLOOR_BARRED ? src->bar_reason : "");
  copy_str(d->barred_by, sizeof d->barred_by, d->state == FB_FLOOR_BARRED ? src->barred_by : "");
  d->barred_ms = d->state == FB_FLOOR_BARRED ? src->barred_ms : 0;
  d->flagged = d->recovered = 0;
  memset(&d->quality, 0, sizeof d->quality);
  d->bad_since_ms = d->good_since_ms = -1;
  if (on_floor(d->state)) f->nlive++;
  if (d->state == FB_FLOOR_QUEUED && q_insert(f, e, src->requested_ms) < 0)
    d->state = FB_FLOOR_LISTENING;
  floor_touch(f, e);
  f->changed = 0;
}

void fb_floor_restore_session(fb_floor *f, int session, fb_floor_mode mode) {
  if (session < 0 || session >= f->cfg.nsessions) return;
  if (mode != FB_MODE_INTERACTIVE && mode != FB_MODE_WEBCAST) return;
  f->session = session;
  f->mode = mode;
}

/* ---- names ---- */

const char *fb_floor_state_name(fb_floor_state s) {
  static const char *names[] = {"listening", "queued", "live", "muted", "barred"};
  return (unsigned)s < 5 ? names[s] : "unknown";
}

const char *fb_floor_mode_name(fb_floor_mode m) {
  return m == FB_MODE_WEBCAST ? "webcast" : m == FB_MODE_INTERACTIVE ? "interactive" : "unknown";
}

int fb_floor_mode_parse(const char *s) {
  if (!s) return -1;
  if (!strcmp(s, "interactive")) return FB_MODE_INTERACTIVE;
  if (!strcmp(s, "webcast")) return FB_MODE_WEBCAST;
  return -1;
}
