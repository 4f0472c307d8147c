/*
 * floor_chair.c — the chair's actions (grant, end_turn, mute, mute_all, cut,
 * allow, queue edits, mode and session) and the quality rules (flag, auto-cut,
 * recovery) of the floor state machine. The design and the decisions where
 * floor.h is silent are described at the top of floor.c.
 *
 * Every chair action has the same shape: chair_target() checks the actor
 * (not_chair) and the target (unknown_delegate, not_delegate), the action
 * checks its own rule, and finish() audits the action — or its refusal, as
 * "refused:<action>" with the error code as detail — and announces changes.
 */
#include <string.h>

#include "signalling/floor_internal.h"

/* Webcast: everyone off the floor and out of the queue, uplinks dropped.
 * Interactive: uplinks back, barred ones on mic check. One on_media each. */
static void apply_mode(fb_floor *f, fb_floor_mode mode, int64_t now) {
  f->mode = mode;
  f->changed |= CH_MODE | CH_ROSTER;
  for (int i = 0; i < f->n; i++) {
    entry *e = f->e[i];
    if (mode == FB_MODE_WEBCAST && (on_floor(e->d.state) || e->d.state == FB_FLOOR_QUEUED))
      floor_set_state(f, e, FB_FLOOR_LISTENING, now, 0);
    floor_push_media(f, e);
  }
}

static void do_cut(fb_floor *f, entry *e, const char *by, const char *reason, int64_t now) {
  floor_set_state(f, e, FB_FLOOR_BARRED, now, 1);
  copy_str(e->d.bar_reason, sizeof e->d.bar_reason, reason);
  copy_str(e->d.barred_by, sizeof e->d.barred_by, by);
  e->d.barred_ms = now;
  e->d.recovered = 0;
  e->d.good_since_ms = -1;
  floor_touch(f, e);
}

/* The bridge itself (open floor, "speak" tokens) acts as actor NULL, or as
 * "auto" while no delegate has that id (a client's actor is always a known
 * delegate, so a delegate called "auto" is never taken for the system). */
static int is_system(const fb_floor *f, const char *actor) {
  return !actor || (!strcmp(actor, "auto") && !floor_find(f, "auto"));
}

static const char *who(const char *actor) { return actor ? actor : "auto"; }

/* Chair action prologue: actor is a chair (or the system), target exists and
 * is no observer. */
static entry *chair_target(fb_floor *f, const char *actor, const char *id, const char **err) {
  entry *a = floor_find(f, actor);
  if (!is_system(f, actor) && (!a || a->d.role != FB_ROLE_CHAIR)) {
    *err = "not_chair";
    return NULL;
  }
  if (!id) return NULL;
  entry *e = floor_find(f, id);
  if (!e)
    *err = "unknown_delegate";
  else if (e->d.role == FB_ROLE_OBSERVER)
    *err = "not_delegate";
  return e;
}

/* Chair action epilogue: audit (or audit the refusal) and announce. */
static const char *finish(fb_floor *f, int64_t now, const char *actor, const char *action,
                          const char *id, const char *detail, const char *err) {
  if (err) {
    char a[64];
    snprintf(a, sizeof a, "refused:%s", action);
    floor_audit(f, now, who(actor), a, id, err);
  } else {
    floor_audit(f, now, who(actor), action, id, detail);
  }
  floor_flush(f);
  return err;
}

const char *fb_floor_grant(fb_floor *f, const char *actor, const char *id, int64_t now_ms) {
  const char *err = NULL;
  entry *e = chair_target(f, actor, id, &err);
  if (!err) {
    if (!e->d.connected)
      err = "not_connected";
    else if (e->d.state == FB_FLOOR_BARRED)
      err = "barred";
    else if (f->mode == FB_MODE_WEBCAST)
      err = "webcast_only";
    else if (on_floor(e->d.state))
      err = "already_live";
    else if (f->nlive >= f->cfg.max_live)
      err = "floor_full";
    else
      floor_set_state(f, e, FB_FLOOR_LIVE, now_ms, 1);
  }
  return finish(f, now_ms, actor, "grant", id, "", err);
}

const char *fb_floor_end_turn(fb_floor *f, const char *actor, const char *id, int64_t now_ms) {
  const char *err = NULL;
  entry *e = chair_target(f, actor, id, &err);
  if (!err) {
    if (!on_floor(e->d.state))
      err = "not_live";
    else
      floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 1);
  }
  return finish(f, now_ms, actor, "end_turn", id, "", err);
}

const char *fb_floor_mute(fb_floor *f, const char *actor, const char *id, int on, int64_t now_ms) {
  const char *err = NULL;
  entry *e = chair_target(f, actor, id, &err);
  if (!err) {
    if (!on_floor(e->d.state)) {
      err = "not_live";
    } else if (on) {
      e->d.chair_muted = 1;
      floor_set_state(f, e, FB_FLOOR_MUTED, now_ms, 1);
    } else if (e->d.state == FB_FLOOR_MUTED) {
      e->d.chair_muted = 0;
      floor_set_state(f, e, e->d.self_muted ? FB_FLOOR_MUTED : FB_FLOOR_LIVE, now_ms, 1);
    }
  }
  return finish(f, now_ms, actor, on ? "mute" : "unmute", id, "", err);
}

const char *fb_floor_mute_all(fb_floor *f, const char *actor, int64_t now_ms) {
  const char *err = NULL;
  int muted = 0;
  chair_target(f, actor, NULL, &err);
  for (int i = 0; !err && i < f->n; i++) {
    entry *e = f->e[i];
    if (!on_floor(e->d.state)) continue;
    e->d.chair_muted = 1;
    floor_set_state(f, e, FB_FLOOR_MUTED, now_ms, 1);
    muted++;
  }
  char detail[32];
  snprintf(detail, sizeof detail, "%d muted", muted);
  return finish(f, now_ms, actor, "mute_all", "", detail, err);
}

const char *fb_floor_cut(fb_floor *f, const char *actor, const char *id, const char *reason,
                         int64_t now_ms) {
  const char *err = NULL;
  entry *e = chair_target(f, actor, id, &err);
  if (!err) {
    if (!reason || !reason[strspn(reason, " \t\r\n")])
      err = "bad_argument";
    else
      do_cut(f, e, who(actor), reason, now_ms);
  }
  return finish(f, now_ms, actor, "cut", id, err ? "" : reason, err);
}

const char *fb_floor_allow(fb_floor *f, const char *actor, const char *id, int64_t now_ms) {
  const char *err = NULL;
  entry *e = chair_target(f, actor, id, &err);
  if (!err) {
    if (e->d.state != FB_FLOOR_BARRED)
      err = "not_barred";
    else
      floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 1);
  }
  return finish(f, now_ms, actor, "allow", id, "", err);
}

const char *fb_floor_queue_move(fb_floor *f, const char *actor, const char *id, int position,
                                int64_t now_ms) {
  const char *err = NULL;
  char detail[32] = "";
  entry *e = chair_target(f, actor, id, &err);
  if (!err) {
    if (e->d.state != FB_FLOOR_QUEUED)
      err = "not_queued";
    else if (position < 1 || position > f->qlen)
      err = "bad_argument";
  }
  if (!err) {
    floor_queue_move(f, e, position);
    snprintf(detail, sizeof detail, "position %d", position);
  }
  return finish(f, now_ms, actor, "queue_move", id, detail, err);
}

const char *fb_floor_queue_remove(fb_floor *f, const char *actor, const char *id, int64_t now_ms) {
  const char *err = NULL;
  entry *e = chair_target(f, actor, id, &err);
  if (!err) {
    if (e->d.state != FB_FLOOR_QUEUED)
      err = "not_queued";
    else
      floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 1);
  }
  return finish(f, now_ms, actor, "queue_remove", id, "", err);
}

const char *fb_floor_set_mode(fb_floor *f, const char *actor, fb_floor_mode mode, int64_t now_ms) {
  const char *err = NULL;
  chair_target(f, actor, NULL, &err);
  if (!err && mode != FB_MODE_INTERACTIVE && mode != FB_MODE_WEBCAST) err = "bad_argument";
  if (!err && mode != f->mode) apply_mode(f, mode, now_ms);
  return finish(f, now_ms, actor, "set_mode", "", err ? "" : fb_floor_mode_name(mode), err);
}

const char *fb_floor_set_session(fb_floor *f, const char *actor, int session, int64_t now_ms) {
  const char *err = NULL;
  char detail[96] = "";
  chair_target(f, actor, NULL, &err);
  if (!err && (session < 0 || session >= f->cfg.nsessions)) err = "bad_argument";
  if (!err) {
    for (int i = 0; i < f->n; i++) { /* intervals close in the old session */
      entry *e = f->e[i];
      if (on_floor(e->d.state) || e->d.state == FB_FLOOR_QUEUED)
        floor_set_state(f, e, FB_FLOOR_LISTENING, now_ms, 0);
    }
    f->session = session;
    for (int i = 0; i < f->n; i++) {
      if (!f->e[i]->d.spoken_ms) continue;
      f->e[i]->d.spoken_ms = 0;
      floor_touch(f, f->e[i]);
    }
    apply_mode(f, f->cfg.sessions[session].mode, now_ms); /* media for everyone */
    snprintf(detail, sizeof detail, "%d %s", session, f->cfg.sessions[session].name);
  }
  return finish(f, now_ms, actor, "set_session", "", detail, err);
}

/* ---- quality ---- */

void fb_floor_quality(fb_floor *f, const char *id, const fb_quality *q, int64_t now_ms) {
  entry *e = floor_find(f, id);
  if (!e || !q) return;
  fb_delegate *d = &e->d;
  d->quality = *q;
  int bad = q->valid && (q->mos < f->cfg.min_mos || q->loss_pct > f->cfg.max_loss_pct);
  int good = q->valid && !bad;
  if (d->state == FB_FLOOR_LIVE && d->connected) {
    d->good_since_ms = -1;
    if (!bad) {
      d->bad_since_ms = -1;
      if (good && d->flagged) {
        d->flagged = 0;
        floor_touch(f, e);
        f->changed |= CH_ROSTER;
      }
    } else {
      if (d->bad_since_ms < 0) d->bad_since_ms = now_ms;
      if (!d->flagged && now_ms - d->bad_since_ms >= f->cfg.flag_after_ms) {
        d->flagged = 1;
        floor_touch(f, e);
        f->changed |= CH_ROSTER;
      }
    }
    if (d->flagged && f->cfg.auto_cut) {
      char reason[96];
      snprintf(reason, sizeof reason, "automatic: MOS %.1f, loss %.1f%%", q->mos, q->loss_pct);
      do_cut(f, e, "auto", reason, now_ms);
      floor_audit(f, now_ms, "auto", "cut", d->id, reason);
    }
  } else if (d->state == FB_FLOOR_BARRED && d->connected) {
    d->bad_since_ms = -1;
    if (!good) {
      d->good_since_ms = -1;
      if (bad && d->recovered) {
        d->recovered = 0;
        floor_touch(f, e);
        f->changed |= CH_ROSTER;
      }
    } else {
      if (d->good_since_ms < 0) d->good_since_ms = now_ms;
      if (!d->recovered && now_ms - d->good_since_ms >= f->cfg.recover_after_ms) {
        d->recovered = 1;
        floor_touch(f, e);
        f->changed |= CH_ROSTER;
      }
    }
  } else {
    d->bad_since_ms = d->good_since_ms = -1;
  }
  floor_flush(f);
}
