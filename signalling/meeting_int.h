/*
 * meeting_int.h — the inside of a meeting, shared by the three files that
 * implement meeting.h:
 *
 *   meeting.c    sessions, join/offer/leave/ping, the floor's hooks (media to
 *                the bridge, audit and speaking time to the store), what is
 *                persisted and when
 *   chair.c      the floor-control and chat messages (request_floor ...
 *                chat_policy): checks, the floor call, the refusal
 *   broadcast.c  the state messages (you, queue, roster, mode, quality,
 *                chat_policy), their coalescing (fb_meeting_flush), the
 *                quality timer and the /metrics gauges
 *
 * Everything here runs on the signalling thread. Not for use outside
 * signalling/meeting.c, chair.c and broadcast.c.
 */
#ifndef FB_MEETING_INT_H
#define FB_MEETING_INT_H

#include <stdint.h>

#include "signalling/floor.h"
#include "signalling/meeting.h"
#include "signalling/protocol.h"
#include "signalling/store.h"
#include "signalling/token.h"

/* What changed since the last flush (fb_floor_hooks.on_changed). */
enum {
  FB_DIRTY_ROSTER = 1 << 0, /* states, connections, flags: roster to chairs, count to others */
  FB_DIRTY_QUEUE = 1 << 1,  /* the queue: to everyone */
  FB_DIRTY_MODE = 1 << 2,   /* session or mode: to everyone, and saved */
  FB_DIRTY_YOU = 1 << 3,    /* someone's own state may have changed */
  FB_DIRTY_NEW = 1 << 4,    /* a session joined and owes its first snapshot */
};
#define FB_DIRTY_STATE (FB_DIRTY_ROSTER | FB_DIRTY_QUEUE | FB_DIRTY_MODE | FB_DIRTY_YOU)

#define FB_ERROR_CODES 48 /* distinct error codes counted for /metrics */

struct fb_session {
  fb_meeting *m;
  void *conn;
  fb_session *prev, *next;
  int joined;
  fb_token tok;
  int pid;        /* ours, from join */
  int bridge_pid; /* the bridge's handle, 0 when not in the bridge */
  int can_speak;  /* joined with the floor given automatically (speak claim, open_floor) */
  int uplink;     /* 0 for observers: never heard, whatever the floor says */
  int errors;
  int closing;
  /* floor control */
  int in_floor;                 /* this connection is the delegate's one in the floor */
  int didx;                     /* its delegate's fb_floor_at index (join), -1 unknown */
  fb_media_state media;         /* what the floor wants for the uplink (kept until an offer
                            creates the bridge participant) */
  int media_uplink;             /* 0: drop the uplink in the transport (webcast-only) */
  fb_media_state applied_media; /* what the bridge participant has */
  int applied_uplink;
  int initial;    /* owes the full state snapshot at the next flush */
  char *last_you; /* the last "you" sent (only changes are sent) */
  int last_count; /* the last roster count sent to a non-chair, -1 none */
  /* chat rate limit: times of the last per_minute delivered messages */
  int64_t *chat_times;
  int chat_n, chat_pos;
};

/* The persistent fields of a delegate as last written to the store. */
typedef struct {
  char id[64];
  char name[128];
  int role, state, chair_muted;
  int64_t requested_ms, barred_ms;
  char bar_reason[256];
  char barred_by[64];
} fb_saved_row;

struct fb_meeting {
  fb_config cfg;
  fb_meeting_bridge br; /* the media bridge and the clock (meeting.h) */
  char secret[1024];
  fb_session_io io;
  fb_session *sessions;
  int nsessions;
  int next_pid;
  fb_floor *floor;
  fb_store *store;            /* NULL: nothing persisted ([store] path empty) */
  struct fb_revoked *revoked; /* [meeting] revoked_file, NULL when not set */
  unsigned dirty;             /* FB_DIRTY_* since the last flush */
  int shutting_down;          /* closing every session: leave the store as it was */
  int chat_to_all;            /* delegates may write to everyone (chat_policy) */
  /* what the store holds (to write only changes) */
  fb_saved_row *saved;
  int nsaved, capsaved;
  int saved_session, saved_mode;
  /* counters for /metrics */
  uint64_t chat_messages;
  struct {
    char code[32];
    uint64_t n;
  } errs[FB_ERROR_CODES];
  int nerrs;
  int quality_sent; /* the last quality message listed someone */
  /* roster deltas (broadcast.c): what each delegate's roster entry said
   * when chairs were last told (snap, indexed like fb_floor_at), and the
   * delegates the floor said may have changed since (its on_delegate hook):
   * a delta, and the "you" messages, look at only those */
  struct fb_roster_snap *snap;
  int nsnap;
  struct fb_roster_marks {
    unsigned char *on; /* on[i]: delegate i is in list */
    int *list;         /* the marked indices */
    int n, cap;        /* cap: of both arrays */
    int all;           /* out of memory: look at every delegate */
  } marks;
  int roster_check;  /* fb_meeting_roster_check: compare every delegate too */
  int roster_missed; /* ... and count those that changed unmarked */
  int64_t count_at;  /* when a changed count last went to non-chairs */
  int count_told;    /* the connected count every joined non-chair was last given */
  int count_mixed;   /* ... but some joined since with another one */
};

/* meeting.c */
int64_t fb_meeting_now_ms(const fb_meeting *m); /* br.now_ms, else the wall clock (ms since 1970) */
void fb_meeting_send(fb_session *s, char *json); /* sends and frees; NULL = out of memory */
void fb_meeting_reply_error(fb_session *s, const char *code, const char *message,
                            const char *request, int counted);
void fb_meeting_audit(fb_meeting *m, int64_t ms, const char *actor, const char *action,
                      const char *target, const char *detail);
void fb_meeting_persist(fb_meeting *m, int write); /* write=0: only remember */
void fb_meeting_revocations(fb_meeting *m); /* the revoked file changed: disconnect whom it names */

/* chair.c: a floor-control or chat message from s (type >= FB_MSG_REQUEST_FLOOR). */
void fb_chair_message(fb_meeting *m, fb_session *s, const fb_msg *msg);

/* broadcast.c */
char *fb_bc_chat_policy(const fb_meeting *m);
void fb_bc_roster_mark(fb_meeting *m, int index);      /* the floor's on_delegate */
void fb_bc_to_all(fb_meeting *m, const char *json);    /* every joined session */
void fb_bc_to_chairs(fb_meeting *m, const char *json); /* joined chairs */
void fb_bc_count_error(fb_meeting *m, const char *code);

#endif
