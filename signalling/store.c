/*
 * store.c — the meeting's memory in SQLite (see store.h); the report command
 * is in report.c.
 *
 * Design:
 * - One connection owned by the signalling thread: WAL, synchronous=NORMAL,
 *   busy_timeout 5 s (the report command may be reading at the same time).
 * - The schema is created with CREATE TABLE IF NOT EXISTS; one file may
 *   hold several meetings, every row carries its meeting id.
 * - The four writes are statements prepared once at open and kept; every
 *   value is bound as a parameter, no SQL is built from strings.
 * - Roles, states and modes are stored by name ("chair", "barred",
 *   "webcast"), so the file reads well in the sqlite3 shell.
 * - Times are stored as given: Unix epoch milliseconds (the report prints
 *   them as ISO-8601 UTC).
 * - Writes return nothing (store.h); a failure is logged on stderr and the
 *   meeting goes on: losing a row is better than stopping the floor.
 * - fb_store_load also gives each restored delegate its speaking time in
 *   the stored session (the sum of its intervals), so spoken_ms survives a
 *   restart.
 */
#include "signalling/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "signalling/token.h"

struct fb_store {
  sqlite3 *db;
  char meeting[64];
  sqlite3_stmt *put_delegate, *put_session, *put_audit, *put_spoken;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meeting(id TEXT PRIMARY KEY, session INTEGER,"
    " session_name TEXT, mode TEXT);"
    "CREATE TABLE IF NOT EXISTS delegates(meeting TEXT NOT NULL, id TEXT NOT NULL, name TEXT,"
    " role TEXT, state TEXT, chair_muted INTEGER, requested_ms INTEGER, bar_reason TEXT,"
    " barred_by TEXT, barred_ms INTEGER, PRIMARY KEY(meeting, id));"
    "CREATE TABLE IF NOT EXISTS audit(meeting TEXT NOT NULL, ms INTEGER, actor TEXT,"
    " action TEXT, target TEXT, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS audit_by_meeting ON audit(meeting, ms);"
    "CREATE TABLE IF NOT EXISTS spoken(meeting TEXT NOT NULL, delegate TEXT, name TEXT,"
    " session INTEGER, session_name TEXT, start_ms INTEGER, end_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS spoken_by_meeting ON spoken(meeting, session, delegate);";

static const char SQL_PUT_DELEGATE[] =
    "INSERT INTO delegates(meeting, id, name, role, state, chair_muted, requested_ms,"
    " bar_reason, barred_by, barred_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT(meeting, id) DO UPDATE SET name = excluded.name, role = excluded.role,"
    " state = excluded.state, chair_muted = excluded.chair_muted,"
    " requested_ms = excluded.requested_ms, bar_reason = excluded.bar_reason,"
    " barred_by = excluded.barred_by, barred_ms = excluded.barred_ms";
static const char SQL_PUT_SESSION[] =
    "INSERT INTO meeting(id, session, session_name, mode) VALUES(?1, ?2, ?3, ?4)"
    " ON CONFLICT(id) DO UPDATE SET session = excluded.session,"
    " session_name = excluded.session_name, mode = excluded.mode";
static const char SQL_PUT_AUDIT[] =
    "INSERT INTO audit(meeting, ms, actor, action, target, detail)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_PUT_SPOKEN[] =
    "INSERT INTO spoken(meeting, delegate, name, session, session_name, start_ms, end_ms)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static void put_text(sqlite3_stmt *st, int i, const char *s) {
  sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* Step a bound write statement once and reset it; log a failure. */
static void run(fb_store *s, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) fprintf(stderr, "store: %s failed: %s\n", what, sqlite3_errmsg(s->db));
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

fb_store *fb_store_open(const char *path, const char *meeting_id, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!path || !*path || !meeting_id || !*meeting_id ||
      strlen(meeting_id) >= sizeof((fb_store *)0)->meeting) {
    if (err) snprintf(err, errlen, "store: a database path and a meeting id are needed");
    return NULL;
  }
  fb_store *s = calloc(1, sizeof *s);
  if (!s) {
    if (err) snprintf(err, errlen, "store: out of memory");
    return NULL;
  }
  snprintf(s->meeting, sizeof s->meeting, "%s", meeting_id);
  int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  const char *stage = "open";
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(s->db, 5000);
    stage = "configure";
    rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                      NULL);
  }
  if (rc == SQLITE_OK) {
    stage = "create the schema in";
    rc = sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL);
  }
  if (rc == SQLITE_OK) {
    stage = "prepare statements for";
    rc = sqlite3_prepare_v2(s->db, SQL_PUT_DELEGATE, -1, &s->put_delegate, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(s->db, SQL_PUT_SESSION, -1, &s->put_session, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(s->db, SQL_PUT_AUDIT, -1, &s->put_audit, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(s->db, SQL_PUT_SPOKEN, -1, &s->put_spoken, NULL);
  }
  if (rc != SQLITE_OK) {
    if (err)
      snprintf(err, errlen, "store: cannot %s %s: %s", stage, path,
               s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    fb_store_close(s);
    return NULL;
  }
  return s;
}

void fb_store_close(fb_store *s) {
  if (!s) return;
  sqlite3_finalize(s->put_delegate);
  sqlite3_finalize(s->put_session);
  sqlite3_finalize(s->put_audit);
  sqlite3_finalize(s->put_spoken);
  sqlite3_close(s->db);
  free(s);
}

static int state_parse(const char *name) {
  for (int st = FB_FLOOR_LISTENING; st <= FB_FLOOR_BARRED; st++)
    if (name && !strcmp(name, fb_floor_state_name((fb_floor_state)st))) return st;
  return -1;
}

static const char *col_text(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : "";
}

int fb_store_load(fb_store *s, fb_floor *f) {
  if (!s || !f) return -1;
  sqlite3_stmt *mt = NULL, *dl = NULL, *sp = NULL;
  int session = -1, mode = -1, count = 0;
  int rc =
      sqlite3_prepare_v2(s->db, "SELECT session, mode FROM meeting WHERE id = ?1", -1, &mt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(s->db,
                            "SELECT id, name, role, state, chair_muted, requested_ms, bar_reason,"
                            " barred_by, barred_ms FROM delegates WHERE meeting = ?1"
                            " ORDER BY requested_ms, rowid",
                            -1, &dl, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(s->db,
                            "SELECT COALESCE(SUM(end_ms - start_ms), 0) FROM spoken"
                            " WHERE meeting = ?1 AND session = ?2 AND delegate = ?3",
                            -1, &sp, NULL);
  if (rc == SQLITE_OK) {
    put_text(mt, 1, s->meeting);
    if ((rc = sqlite3_step(mt)) == SQLITE_ROW) {
      session = sqlite3_column_int(mt, 0);
      mode = fb_floor_mode_parse(col_text(mt, 1));
      rc = SQLITE_DONE;
    }
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  if (rc == SQLITE_OK) {
    put_text(dl, 1, s->meeting);
    while ((rc = sqlite3_step(dl)) == SQLITE_ROW) {
      fb_delegate d;
      memset(&d, 0, sizeof d);
      snprintf(d.id, sizeof d.id, "%s", col_text(dl, 0));
      snprintf(d.name, sizeof d.name, "%s", col_text(dl, 1));
      int role = fb_role_parse(col_text(dl, 2));
      int state = state_parse(col_text(dl, 3));
      d.role = role < 0 ? FB_ROLE_DELEGATE : (fb_role)role;
      d.state = state < 0 ? FB_FLOOR_LISTENING : (fb_floor_state)state;
      d.chair_muted = sqlite3_column_int(dl, 4) != 0;
      d.requested_ms = sqlite3_column_int64(dl, 5);
      snprintf(d.bar_reason, sizeof d.bar_reason, "%s", col_text(dl, 6));
      snprintf(d.barred_by, sizeof d.barred_by, "%s", col_text(dl, 7));
      d.barred_ms = sqlite3_column_int64(dl, 8);
      if (session >= 0) {
        put_text(sp, 1, s->meeting);
        sqlite3_bind_int(sp, 2, session);
        put_text(sp, 3, d.id);
        if (sqlite3_step(sp) == SQLITE_ROW) d.spoken_ms = sqlite3_column_int64(sp, 0);
        sqlite3_reset(sp);
      }
      fb_floor_restore_delegate(f, &d);
      count++;
    }
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  if (rc != SQLITE_OK) fprintf(stderr, "store: load failed: %s\n", sqlite3_errmsg(s->db));
  sqlite3_finalize(mt);
  sqlite3_finalize(dl);
  sqlite3_finalize(sp);
  if (rc != SQLITE_OK) return -1;
  if (session >= 0 && mode >= 0) fb_floor_restore_session(f, session, (fb_floor_mode)mode);
  return count;
}

void fb_store_save_delegate(fb_store *s, const fb_delegate *d) {
  if (!s || !d) return;
  sqlite3_stmt *st = s->put_delegate;
  put_text(st, 1, s->meeting);
  put_text(st, 2, d->id);
  put_text(st, 3, d->name);
  put_text(st, 4, fb_role_name(d->role));
  put_text(st, 5, fb_floor_state_name(d->state));
  sqlite3_bind_int(st, 6, d->chair_muted != 0);
  sqlite3_bind_int64(st, 7, d->requested_ms);
  put_text(st, 8, d->bar_reason);
  put_text(st, 9, d->barred_by);
  sqlite3_bind_int64(st, 10, d->barred_ms);
  run(s, st, "save delegate");
}

void fb_store_save_session(fb_store *s, int session, const char *session_name, fb_floor_mode mode) {
  if (!s) return;
  sqlite3_stmt *st = s->put_session;
  put_text(st, 1, s->meeting);
  sqlite3_bind_int(st, 2, session);
  put_text(st, 3, session_name);
  put_text(st, 4, fb_floor_mode_name(mode));
  run(s, st, "save session");
}

void fb_store_audit(fb_store *s, int64_t ms, const char *actor, const char *action,
                    const char *target, const char *detail) {
  if (!s) return;
  sqlite3_stmt *st = s->put_audit;
  put_text(st, 1, s->meeting);
  sqlite3_bind_int64(st, 2, ms);
  put_text(st, 3, actor);
  put_text(st, 4, action);
  put_text(st, 5, target);
  put_text(st, 6, detail);
  run(s, st, "audit");
}

void fb_store_spoken(fb_store *s, const char *id, const char *name, int session,
                     const char *session_name, int64_t start_ms, int64_t end_ms) {
  if (!s) return;
  sqlite3_stmt *st = s->put_spoken;
  put_text(st, 1, s->meeting);
  put_text(st, 2, id);
  put_text(st, 3, name);
  sqlite3_bind_int(st, 4, session);
  put_text(st, 5, session_name);
  sqlite3_bind_int64(st, 6, start_ms);
  sqlite3_bind_int64(st, 7, end_ms);
  run(s, st, "save speaking interval");
}
