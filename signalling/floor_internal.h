/*
 * floor_internal.h — what floor.c (tables, queue, state changes, delegate
 * actions) and floor_chair.c (chair actions, quality, auto-cut) share. Not a
 * contract: nothing outside signalling/floor*.c includes it. See floor.c for
 * the design.
 */
#ifndef FB_FLOOR_INTERNAL_H
#define FB_FLOOR_INTERNAL_H

#include <stdio.h>

#include "signalling/floor.h"

enum { CH_ROSTER = 1, CH_QUEUE = 2, CH_MODE = 4 };

typedef struct {
  fb_delegate d;
  int speaking; /* an interval is open */
  int64_t speak_since;
  int qpos; /* 1-based queue position, 0 = not queued */
  int idx;  /* in f->e (fb_floor_at), for on_delegate */
} entry;

struct fb_floor {
  fb_floor_config cfg;
  fb_floor_hooks h;
  void *ud;
  entry **e;
  int n, cap;
  int *hash; /* index + 1, 0 = empty; hcap is a power of two */
  int hcap;
  entry **q;
  int qlen, qcap;
  int nlive;      /* LIVE + MUTED */
  int nconnected; /* d.connected set */
  fb_floor_mode mode;
  int session;
  unsigned changed;
};

static inline void copy_str(char *dst, size_t n, const char *s) {
  snprintf(dst, n, "%s", s ? s : "");
}

/* Holds the floor: live or muted (both count against max_live). */
static inline int on_floor(fb_floor_state s) { return s == FB_FLOOR_LIVE || s == FB_FLOOR_MUTED; }

entry *floor_find(const fb_floor *f, const char *id);

/* Something e's roster entry shows changed (state, mutes, flags, queue
 * position, name, role, connection, speaking time, bar): on_delegate. Every
 * such change calls this, next to the CH_ROSTER (or CH_QUEUE) it also sets. */
static inline void floor_touch(fb_floor *f, const entry *e) {
  if (f->h.on_delegate) f->h.on_delegate(f->ud, e->idx);
}

/* The one way a state changes: keeps the live count, queue membership,
 * mute/bar/quality flags and the speaking interval consistent, marks the
 * roster changed and (push) tells the bridge the new media state. */
void floor_set_state(fb_floor *f, entry *e, fb_floor_state st, int64_t now, int push);

/* on_media for e's current state and the mode (connected delegates only). */
void floor_push_media(fb_floor *f, entry *e);

/* Move a queued entry to a 1-based position (1..qlen, checked by the caller);
 * requested_ms is adjusted so the keys still follow the queue order. */
void floor_queue_move(fb_floor *f, entry *e, int position);

void floor_audit(fb_floor *f, int64_t now, const char *actor, const char *action,
                 const char *target, const char *detail);

/* Announce the changes collected since the last flush (one call each). */
void floor_flush(fb_floor *f);

#endif
