/*
 * floor.h — the meeting's rules: who may speak, the queue, the chair's
 * actions, bars, the session's mode. A pure state machine owned by the
 * signalling thread: no sockets, no bridge calls, no SQL. It tells its owner
 * (meeting.c) what must happen through hooks — media changes for the bridge,
 * "something changed" for broadcasts, audit records and speaking intervals
 * for the store — so every rule can be unit-tested without a network.
 *
 * Identity: a delegate is a token's "sub" (delegate id), not a connection.
 * Bars, chair mutes and speaking time belong to the identity and survive
 * leaving and rejoining (with the same or a new token).
 *
 * States of a delegate (role delegate or chair; observers are only listed):
 *   listening -> queued (request) -> live (chair grants) -> listening (turn
 *   ends, withdraws, leaves); live <-> muted (chair mute; or the delegate's
 *   own mute, which only the delegate undoes; a chair mute the delegate
 *   cannot undo); any -> barred (chair cut, or auto-cut on poor quality) ->
 *   listening (chair allows). A barred delegate cannot request the floor.
 *
 * Media each state asks of the bridge (the on_media hook):
 *   live (unmuted)            FB_FLOOR_MEDIA_LIVE    (decoded, mixed)
 *   muted, barred (mic check) FB_FLOOR_MEDIA_MEASURE (decoded, scored, not mixed)
 *   listening, queued         FB_FLOOR_MEDIA_LISTEN
 * In a webcast-only session every remote listens: uplink = 0 for all. The
 * floor's media enum is its own: the meeting (meeting.c) maps it to the
 * bridge's when it calls the bridge, so the rules build without the mixer.
 *
 * Every operation returns NULL on success or a stable error code (a static
 * string) from this list:
 *   not_chair          the actor is not a chair
 *   not_delegate       observers cannot do that
 *   unknown_delegate   no such delegate in this meeting
 *   not_connected      the delegate is not connected (cannot be given the floor)
 *   barred             the delegate is barred (cut) until the chair allows
 *   not_barred         allow on someone who is not barred
 *   webcast_only       the session is webcast-only: nobody remote may speak
 *   already_queued     request twice
 *   not_queued         withdraw / queue_move / queue_remove of someone not queued
 *   already_live       request or grant while already live
 *   not_live           end_turn / mute of someone not live
 *   floor_full         grant beyond max_live
 *   chair_muted        the delegate tries to unmute a chair mute
 *   bad_argument       out-of-range position, unknown mode or session, empty reason
 */
#ifndef FB_FLOOR_H
#define FB_FLOOR_H

#include <stdint.h>

#include "codecs/quality.h"   /* fb_quality */
#include "signalling/token.h" /* fb_role */

#define FB_FLOOR_MAX_SESSIONS 32

typedef enum {
  FB_FLOOR_LISTENING = 0,
  FB_FLOOR_QUEUED,
  FB_FLOOR_LIVE,
  FB_FLOOR_MUTED,
  FB_FLOOR_BARRED
} fb_floor_state;

typedef enum { FB_MODE_INTERACTIVE = 0, FB_MODE_WEBCAST } fb_floor_mode;

/* What the floor asks the bridge to do with a delegate's uplink. */
typedef enum {
  FB_FLOOR_MEDIA_LISTEN = 0, /* not decoded */
  FB_FLOOR_MEDIA_LIVE,       /* decoded and mixed */
  FB_FLOOR_MEDIA_MEASURE     /* decoded and scored, not mixed (mic check, muted) */
} fb_floor_media;

typedef struct {
  char name[64]; /* "Opening plenary", "WP1", ... */
  fb_floor_mode mode;
} fb_floor_session;

typedef struct {
  int max_live;  /* most delegates live at once (>= 1) */
  int nsessions; /* >= 1 */
  fb_floor_session sessions[FB_FLOOR_MAX_SESSIONS];
  /* quality thresholds (a live speaker's MOS below min_mos, or loss above
   * max_loss_pct, for flag_after_ms is flagged; recovered when a barred
   * delegate's mic check is above both for recover_after_ms) */
  double min_mos;       /* e.g. 3.0 */
  double max_loss_pct;  /* e.g. 10 */
  int flag_after_ms;    /* e.g. 3000 */
  int recover_after_ms; /* e.g. 5000 */
  int auto_cut;         /* cut flagged live speakers automatically */
} fb_floor_config;

typedef struct {
  char id[64]; /* delegate id (token "sub") */
  char name[128];
  fb_role role;
  fb_floor_state state;
  int connected;
  int chair_muted;       /* state MUTED because of the chair */
  int self_muted;        /* state MUTED because of the delegate */
  int64_t requested_ms;  /* queue order key (time of request, ms) */
  int64_t live_since_ms; /* while live or muted */
  int64_t spoken_ms;     /* speaking time in the current session */
  char bar_reason[256];
  char barred_by[64]; /* chair id or "auto" */
  int64_t barred_ms;
  int flagged;        /* live and below threshold (console warning) */
  int recovered;      /* barred and the mic check is good again */
  fb_quality quality; /* latest score (valid == 0 when none) */
  int64_t bad_since_ms, good_since_ms;
} fb_delegate;

typedef struct {
  /* The bridge must put this delegate's connection in `media`; uplink 0 =
   * drop its uplink in the transport (webcast-only, observers). Called only
   * for connected delegates, after every change of state or mode. */
  void (*on_media)(void *ud, const char *id, fb_floor_media media, int uplink);
  /* Roster, queue, floor or mode changed: broadcast. what is "roster",
   * "queue", "mode" (several calls per operation are fine). */
  void (*on_changed)(void *ud, const char *what);
  /* Audit record of a chair action or automatic cut. actor is a chair id or
   * "auto"; action e.g. "grant", "cut"; target a delegate id or ""; detail
   * free text (the cut reason, the new mode). */
  void (*on_audit)(void *ud, int64_t ms, const char *actor, const char *action, const char *target,
                   const char *detail);
  /* A speaking interval ended (turn ended, muted, cut, left, session change). */
  void (*on_spoken)(void *ud, const char *id, int session, int64_t start_ms, int64_t end_ms);
  /* Optional. Something delegate number index (fb_floor_at) holds may have
   * changed: state, mutes, flags, queue position, name, role, connection,
   * speaking time, bar. The per-delegate half of on_changed("roster"), so
   * the owner can look at only those (roster deltas). Called where the change
   * happens, before that operation's on_changed, possibly more than once per
   * delegate and operation; new delegates are reported too. Take note only:
   * the floor may be half-way through the operation. */
  void (*on_delegate)(void *ud, int index);
} fb_floor_hooks;

typedef struct fb_floor fb_floor;

/* Create with cfg (copied) and hooks (ud passed back). NULL on OOM. */
fb_floor *fb_floor_new(const fb_floor_config *cfg, const fb_floor_hooks *hooks, void *ud);
void fb_floor_free(fb_floor *f);

/* A delegate's connection joined (first time or again). Keeps bars, mutes
 * and speaking time of a known id; updates name and role. Emits on_media. */
void fb_floor_connect(fb_floor *f, const char *id, const char *name, fb_role role, int64_t now_ms);

/* The connection is gone: off the floor and out of the queue (the meeting is
 * never held up for someone who left); bars and chair mutes stay. */
void fb_floor_disconnect(fb_floor *f, const char *id, int64_t now_ms);

/* Delegate actions. */
const char *fb_floor_request(fb_floor *f, const char *id, int64_t now_ms);
const char *fb_floor_withdraw(fb_floor *f, const char *id, int64_t now_ms);
const char *fb_floor_self_mute(fb_floor *f, const char *id, int on, int64_t now_ms);

/* Chair actions (actor must be a connected or known chair). Added: the
 * bridge itself may act with actor NULL (or "auto" while no delegate has that
 * id), e.g. to give the floor on joining with an open floor; such actions
 * are audited with actor "auto" and follow the same rules. */
const char *fb_floor_grant(fb_floor *f, const char *actor, const char *id, int64_t now_ms);
const char *fb_floor_end_turn(fb_floor *f, const char *actor, const char *id, int64_t now_ms);
const char *fb_floor_mute(fb_floor *f, const char *actor, const char *id, int on, int64_t now_ms);
const char *fb_floor_mute_all(fb_floor *f, const char *actor, int64_t now_ms);
const char *fb_floor_cut(fb_floor *f, const char *actor, const char *id, const char *reason,
                         int64_t now_ms);
const char *fb_floor_allow(fb_floor *f, const char *actor, const char *id, int64_t now_ms);
const char *fb_floor_queue_move(fb_floor *f, const char *actor, const char *id, int position,
                                int64_t now_ms);
const char *fb_floor_queue_remove(fb_floor *f, const char *actor, const char *id, int64_t now_ms);
const char *fb_floor_set_mode(fb_floor *f, const char *actor, fb_floor_mode mode, int64_t now_ms);
const char *fb_floor_set_session(fb_floor *f, const char *actor, int session, int64_t now_ms);

/* A fresh quality score for a delegate (about once a second for those the
 * bridge decodes). Updates flagged / recovered; with auto_cut, cuts a
 * flagged live speaker (audit actor "auto"). */
void fb_floor_quality(fb_floor *f, const char *id, const fb_quality *q, int64_t now_ms);

/* Reading. */
int fb_floor_count(const fb_floor *f);
int fb_floor_connected(const fb_floor *f); /* delegates with connected set (O(1)) */
const fb_delegate *fb_floor_at(const fb_floor *f, int i);
const fb_delegate *fb_floor_find(const fb_floor *f, const char *id);
int fb_floor_index(const fb_floor *f, const char *id); /* id's fb_floor_at index, -1 unknown */
/* Queue in order: fills ids (up to max) and returns the queue length. */
int fb_floor_queue(const fb_floor *f, const fb_delegate **out, int max);
/* 1-based position in the queue, 0 when not queued. */
int fb_floor_queue_position(const fb_floor *f, const char *id);
/* Added: speaking time of id in the current session up to now_ms: spoken_ms
 * plus the interval still running (live, unmuted and connected; muted time
 * does not count). 0 for an unknown id. */
int64_t fb_floor_speaking_ms(const fb_floor *f, const char *id, int64_t now_ms);
fb_floor_mode fb_floor_mode_now(const fb_floor *f);
int fb_floor_session_now(const fb_floor *f);
const fb_floor_config *fb_floor_get_config(const fb_floor *f);

/* Restore persisted state (store.c on start-up, before any connection):
 * a delegate with its bar/mute/queue fields, the mode and the session. */
void fb_floor_restore_delegate(fb_floor *f, const fb_delegate *d);
void fb_floor_restore_session(fb_floor *f, int session, fb_floor_mode mode);

/* Stable names for states and modes ("listening", "queued", "live", "muted",
 * "barred"; "interactive", "webcast"). */
const char *fb_floor_state_name(fb_floor_state s);
const char *fb_floor_mode_name(fb_floor_mode m);
int fb_floor_mode_parse(const char *s); /* -1 when unknown */

#endif
