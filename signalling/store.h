/*
 * store.h — the meeting's memory in SQLite: what must survive a bridge
 * restart (bars, chair mutes, the queue, the session and its mode), the audit
 * log of every chair action and automatic cut, and the speaking intervals
 * behind the speaking-time report.
 *
 * Owned by the signalling thread (one connection, WAL mode, synchronous=NORMAL:
 * a write is a few hundred microseconds and never touches the media threads).
 * `floorbridge report` opens the same file read-only.
 */
#ifndef FB_STORE_H
#define FB_STORE_H

#include <stdint.h>
#include <stdio.h>

#include "signalling/floor.h"

typedef struct fb_store fb_store;

/* Open (creating the file and schema if needed) for meeting `meeting_id`.
 * NULL with a message in err. */
fb_store *fb_store_open(const char *path, const char *meeting_id, char *err, size_t errlen);

/* Close; NULL is allowed. */
void fb_store_close(fb_store *s);

/* Put everything persisted back into f (call before any connection):
 * delegates with their bars, chair mutes and queue places (restored as
 * disconnected), then the session and mode. Returns the number of delegates
 * restored, or -1 on error. */
int fb_store_load(fb_store *s, fb_floor *f);

/* Upsert a delegate's persistent fields (id, name, role, state, chair_muted,
 * requested_ms, bar_reason, barred_by, barred_ms). */
void fb_store_save_delegate(fb_store *s, const fb_delegate *d);

/* The current session and its mode. */
void fb_store_save_session(fb_store *s, int session, const char *session_name, fb_floor_mode mode);

/* Append an audit record (see fb_floor_hooks.on_audit). */
void fb_store_audit(fb_store *s, int64_t ms, const char *actor, const char *action,
                    const char *target, const char *detail);

/* Append a speaking interval (see fb_floor_hooks.on_spoken). */
void fb_store_spoken(fb_store *s, const char *id, const char *name, int session,
                     const char *session_name, int64_t start_ms, int64_t end_ms);

/* `floorbridge report --db FILE [--meeting ID] [--session N] [--csv OUT]`:
 * speaking time per delegate per session as a table on stdout (name, id,
 * session, turns, total mm:ss) and, with --csv, the same rows as CSV; then
 * the audit log with --audit. Returns the process exit code (0, or 2 with a
 * message on stderr). */
int fb_store_report_cli(int argc, char **argv);

#endif
