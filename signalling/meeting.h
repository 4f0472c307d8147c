/*
 * meeting.h — the meeting as the signalling thread sees it: one session per
 * WebSocket connection, what each message does (join, offer, leave, ping, and
 * the chair's floor control and the chat), reconnects that replace an old
 * connection, and bridge events routed to the session that owns the
 * participant. PROTOCOL.md is the contract.
 *
 * The meeting owns the floor (signalling/floor.h: the rules) and the store
 * (signalling/store.h: what survives a restart). Floor changes are broadcast
 * coalesced: the transport calls fb_meeting_flush once per service-loop
 * iteration, and fb_meeting_tick once a second (quality scores to chairs;
 * the revoked file, re-read when it changed, disconnects whom it names).
 *
 * Not thread-safe: every call happens on the signalling (lws) thread. The
 * transport (server.c) gives each session an opaque conn and two hooks; the
 * meeting never touches sockets. The media bridge is reached the same way,
 * through a table of hooks (fb_meeting_bridge): server.c passes one that
 * calls bridge/bridge.h, the fuzz harness (tests/fuzz/fuzz_meeting.c) a
 * deterministic in-memory fake with its own clock, so the whole meeting runs
 * without threads or sockets.
 */
#ifndef FB_MEETING_H
#define FB_MEETING_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/bridge.h" /* fb_webrtc_offer, fb_webrtc_answer, fb_media_state */
#include "config/config.h"
#include "codecs/quality.h" /* fb_quality */

#define FB_MAX_CLIENT_ERRORS 10 /* the connection is closed (1008) at this many */

typedef struct fb_meeting fb_meeting;
typedef struct fb_session fb_session;

typedef struct {
  /* Queue one text message (a complete JSON document) to conn. */
  void (*send)(void *conn, const char *json);
  /* Close conn with a WebSocket close code once what is queued is sent. */
  void (*close)(void *conn, int code, const char *reason);
} fb_session_io;

/* What the meeting asks of the media bridge (bridge/bridge.h has the
 * contract of each call; these have the same arguments and results, with the
 * bridge replaced by ud) and the clock it reads. All hooks but now_ms are
 * required. */
typedef struct {
  void *ud;
  /* fb_bridge_join_webrtc: a browser participant; fills *ans and *pid. */
  int (*join_webrtc)(void *ud, const char *name, int live, int uplink, const fb_webrtc_offer *offer,
                     fb_webrtc_answer *ans, int *pid, char *err, size_t errlen);
  /* fb_bridge_leave: 0, or -1 when pid is unknown. */
  int (*leave)(void *ud, int pid);
  /* fb_bridge_set_media: 0, or -1 with a message in err. */
  int (*set_media)(void *ud, int pid, fb_media_state state, int uplink, char *err, size_t errlen);
  /* fb_bridge_quality: 0, or -1 when pid is unknown. */
  int (*quality)(void *ud, int pid, fb_quality *out);
  /* fb_bridge_media_port: where browsers send media when the answer has no port. */
  int (*media_port)(void *ud);
  /* Milliseconds since 1970: floor times, chat rate limits, token expiry,
   * TURN credentials. NULL: the wall clock (CLOCK_REALTIME). */
  int64_t (*now_ms)(void *ud);
} fb_meeting_bridge;

/* A meeting for cfg (copied) on the bridge behind br (copied; br->ud must
 * outlive the meeting). secret may be NULL or "" (every join is refused with
 * token_bad_signature). NULL when out of memory. */
fb_meeting *fb_meeting_new(const fb_config *cfg, const fb_meeting_bridge *br, const char *secret,
                           const fb_session_io *io);

/* Open [store] path (when set) and put what it holds back into the floor:
 * bars, chair mutes, queue places, the session and its mode. Call once,
 * before any connection. 0, or -1 with a message in err. Without this call
 * nothing is persisted. */
int fb_meeting_load_store(fb_meeting *m, char *err, size_t errlen);

/* The meeting is about to close every connection (the server stops): save
 * what changed, then stop writing delegate and session rows, so that the
 * disconnects that follow do not empty the stored queue. Speaking intervals
 * that end with the disconnects are still recorded. */
void fb_meeting_shutdown(fb_meeting *m);

/* Closes every session still open (their delegates leave the floor, but the
 * store keeps what it had: a restart finds the queue and bars as they were),
 * then frees. */
void fb_meeting_free(fb_meeting *m);

/* A new connection; NULL when out of memory. */
fb_session *fb_meeting_open(fb_meeting *m, void *conn);

/* The connection is gone: its participant leaves the bridge; s is freed. */
void fb_meeting_close(fb_meeting *m, fb_session *s);

/* One complete text message from the client. */
void fb_meeting_message(fb_meeting *m, fb_session *s, const char *text, size_t len);

/* Reply with an error for something the transport refused (too_large,
 * rate_limited, bad_message for binary frames). Counts towards
 * FB_MAX_CLIENT_ERRORS. */
void fb_meeting_error(fb_meeting *m, fb_session *s, const char *code, const char *message);

/* Has the session been told to close (replaced, too many errors)? Further
 * input is ignored. */
int fb_session_closing(const fb_session *s);

/* A bridge event, already moved to the signalling thread: to the session whose
 * participant is pid, or to every joined session when pid is 0. */
void fb_meeting_event(fb_meeting *m, int pid, const char *event, const char *detail);

/* Number of open sessions (tests, status). */
int fb_meeting_sessions(const fb_meeting *m);

/* The meeting's floor, to read (tests and the fuzz harness check its
 * invariants); never NULL. Changing it behind the meeting's back skips the
 * broadcasts and the store. */
const struct fb_floor *fb_meeting_floor(const fb_meeting *m);

/* Tests and the fuzz harness: from this call on, every roster delta is
 * also checked the way it used to be found, by comparing every delegate's
 * snapshot (O(all)), and every connection's "you" is rebuilt; a delegate
 * whose entry or "you" changed without the floor marking it (so the
 * message would be missed) is counted. Returns the count. */
int fb_meeting_roster_check(fb_meeting *m);

/* Send what changed since the last call (queue, roster, mode, each
 * delegate's own state) and save changed delegates and the session to the
 * store. Cheap when nothing changed. */
void fb_meeting_flush(fb_meeting *m);

/* Re-read the revoked file now (reload): whoever it newly names is
 * disconnected as fb_meeting_tick would a second later. */
void fb_meeting_reload(fb_meeting *m);

/* Once a second: fresh quality scores of the decoded delegates (live, muted,
 * barred on mic check) to the floor (flags, auto-cut) and to the chairs. */
void fb_meeting_tick(fb_meeting *m);

/* Prometheus text (0.0.4) of the meeting's gauges and counters, appended to
 * buf (len bytes, NUL-terminated); returns the bytes written. */
size_t fb_meeting_metrics(fb_meeting *m, char *buf, size_t len);

#endif
