/*
 * report.c — `floorbridge report`: speaking time per delegate per session and
 * the audit log, read from the store's SQLite file (see store.h).
 *
 *   floorbridge report --db FILE [--meeting ID] [--session N] [--csv OUT] [--audit]
 *
 * Design:
 * - The file is opened read-only (the bridge may be running and writing: WAL
 *   lets us read a consistent snapshot; busy_timeout covers checkpoints).
 * - Without --meeting the file must hold exactly one meeting (or none: an
 *   empty report); with several, the command lists them and exits 2.
 * - Rows: one per (session, delegate): Turns is the number of speaking
 *   intervals (a turn interrupted by a mute counts as two; muted time is not
 *   speaking time), Time their sum. Sorted by session, then time descending,
 *   then delegate id. Session numbers are the floor's (0 = the first
 *   configured session), shown with the session's name. The name shown is
 *   the one of the delegate's latest interval.
 * - Table on stdout (times mm:ss, rounded to the second; minutes may exceed
 *   59); --csv writes the same rows as RFC 4180 CSV (CRLF, fields quoted when
 *   they contain a comma, quote, CR or LF, quotes doubled) with the time both
 *   as mm:ss and as seconds with one decimal. Text fields that a spreadsheet
 *   would take for a formula (leading = + - @) get a leading apostrophe.
 * - --audit prints the audit log after the table: time (ISO-8601 UTC with
 *   milliseconds; the store's times are Unix epoch ms), actor, action,
 *   target, detail. Control characters in text are shown as '?' on the
 *   terminal.
 * - Exit 0; bad arguments, a missing or foreign file, or an unwritable CSV:
 *   a message on stderr and exit 2. --help prints usage on stdout, exit 0.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signalling/store.h"

static const char USAGE[] =
    "usage: floorbridge report --db FILE [--meeting ID] [--session N] [--csv OUT] [--audit]\n"
    "  speaking time per delegate and session (and with --audit the chair's actions)\n";

typedef struct {
  char *delegate, *name, *session_name;
  int session, turns;
  int64_t ms;
} row;

typedef struct {
  sqlite3 *db;
  row *rows;
  int nrows;
} report;

static int fail(report *r, const char *msg, const char *arg) {
  fprintf(stderr, "floorbridge report: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  return 2;
}

static char *dup_col(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return strdup(t ? (const char *)t : "");
}

/* Display width in code points (UTF-8 continuation bytes do not count). */
static int width(const char *s) {
  int w = 0;
  for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
  return w;
}

/* Text for the terminal: control characters shown as '?', padded to w. */
static void put_cell(FILE *out, const char *s, int w, int right) {
  int pad = w - width(s);
  for (; right && pad > 0; pad--) fputc(' ', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
  }
  for (; pad > 0; pad--) fputc(' ', out);
}

static void put_csv(FILE *out, const char *s, int text) {
  int quote = strpbrk(s, ",\"\r\n") != NULL;
  int guard = text && *s && strchr("=+-@", *s);
  if (quote) fputc('"', out);
  if (guard) fputc('\'', out);
  for (; *s; s++) {
    if (*s == '"') fputc('"', out);
    fputc(*s, out);
  }
  if (quote) fputc('"', out);
}

static void mmss(int64_t ms, char *out, size_t n) {
  int64_t s = (ms + 500) / 1000;
  snprintf(out, n, "%02" PRId64 ":%02" PRId64, s / 60, s % 60);
}

static void iso_time(int64_t ms, char *out, size_t n) {
  int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  time_t t = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(out, n, "%" PRId64, ms);
    return;
  }
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, n, "%s.%03dZ", buf, (int)(ms - sec * 1000));
}

/* The meeting to report: the given one, else the only one in the file.
 * Returns 0, 1 (none in the file) or 2 (error, reported). */
static int pick_meeting(report *r, const char **meeting, char *buf, size_t n) {
  if (*meeting) return 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT id FROM meeting UNION SELECT meeting FROM spoken"
                         " UNION SELECT meeting FROM audit ORDER BY 1",
                         -1, &st, NULL) != SQLITE_OK)
    return fail(r, "not a floorbridge database", sqlite3_errmsg(r->db));
  int found = 0;
  char list[512] = "";
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(st, 0);
    if (!id) continue;
    if (!found++) snprintf(buf, n, "%s", id);
    size_t l = strlen(list);
    snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", id);
  }
  sqlite3_finalize(st);
  if (found > 1) return fail(r, "the file holds several meetings, pick one with --meeting", list);
  if (!found) return 1;
  *meeting = buf;
  return 0;
}

static int load_rows(report *r, const char *meeting, int session) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT delegate, name, session, session_name, COUNT(*),"
                         " SUM(end_ms - start_ms) AS total, MAX(end_ms) FROM spoken"
                         " WHERE meeting = ?1 AND (?2 < 0 OR session = ?2)"
                         " GROUP BY session, delegate ORDER BY session, total DESC, delegate",
                         -1, &st, NULL) != SQLITE_OK)
    return fail(r, "not a floorbridge database", sqlite3_errmsg(r->db));
  sqlite3_bind_text(st, 1, meeting, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, session);
  int rc, cap = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (r->nrows == cap) {
      cap = cap ? cap * 2 : 64;
      row *nr = realloc(r->rows, (size_t)cap * sizeof *nr);
      if (!nr) break;
      r->rows = nr;
    }
    row *w = &r->rows[r->nrows++];
    w->delegate = dup_col(st, 0);
    w->name = dup_col(st, 1); /* the bare column comes from the MAX(end_ms) row */
    w->session = sqlite3_column_int(st, 2);
    w->session_name = dup_col(st, 3);
    w->turns = sqlite3_column_int(st, 4);
    w->ms = sqlite3_column_int64(st, 5);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return fail(r, "cannot read the speaking times", sqlite3_errmsg(r->db));
  return 0;
}

static void session_label(const row *w, char *out, size_t n) {
  snprintf(out, n, "%d%s%s", w->session, w->session_name[0] ? " " : "", w->session_name);
}

static void print_table(report *r, const char *meeting, FILE *out) {
  static const char *head[] = {"Delegate", "Name", "Session", "Turns", "Time"};
  int wd[5];
  for (int c = 0; c < 5; c++) wd[c] = width(head[c]);
  char buf[160];
  int64_t total = 0;
  int turns = 0;
  for (int i = 0; i < r->nrows; i++) {
    row *w = &r->rows[i];
    session_label(w, buf, sizeof buf);
    if (width(w->delegate) > wd[0]) wd[0] = width(w->delegate);
    if (width(w->name) > wd[1]) wd[1] = width(w->name);
    if (width(buf) > wd[2]) wd[2] = width(buf);
    mmss(w->ms, buf, sizeof buf);
    if (width(buf) > wd[4]) wd[4] = width(buf);
    total += w->ms;
    turns += w->turns;
  }
  fprintf(out, "Speaking time, meeting ");
  put_cell(out, meeting ? meeting : "(none)", 0, 0);
  fprintf(out, "\n\n");
  for (int c = 0; c < 5; c++) {
    put_cell(out, head[c], wd[c], c >= 3);
    fputs(c < 4 ? "  " : "\n", out);
  }
  for (int i = 0; i < r->nrows; i++) {
    row *w = &r->rows[i];
    put_cell(out, w->delegate, wd[0], 0);
    fputs("  ", out);
    put_cell(out, w->name, wd[1], 0);
    fputs("  ", out);
    session_label(w, buf, sizeof buf);
    put_cell(out, buf, wd[2], 0);
    snprintf(buf, sizeof buf, "%d", w->turns);
    fputs("  ", out);
    put_cell(out, buf, wd[3], 1);
    mmss(w->ms, buf, sizeof buf);
    fputs("  ", out);
    put_cell(out, buf, wd[4], 1);
    fputc('\n', out);
  }
  mmss(total, buf, sizeof buf);
  fprintf(out, "\n%d delegate-session rows, %d turns, %s in total\n", r->nrows, turns, buf);
}

static int write_csv(report *r, const char *path) {
  FILE *out = fopen(path, "w");
  if (!out) return fail(r, "cannot write the CSV file", path);
  fputs("delegate,name,session,session_name,turns,time,seconds\r\n", out);
  for (int i = 0; i < r->nrows; i++) {
    row *w = &r->rows[i];
    char t[32];
    put_csv(out, w->delegate, 1);
    fputc(',', out);
    put_csv(out, w->name, 1);
    fprintf(out, ",%d,", w->session);
    put_csv(out, w->session_name, 1);
    mmss(w->ms, t, sizeof t);
    int64_t tenths = (w->ms + 50) / 100;
    fprintf(out, ",%d,%s,%" PRId64 ".%" PRId64 "\r\n", w->turns, t, tenths / 10, tenths % 10);
  }
  int bad = ferror(out);
  if (fclose(out) != 0 || bad) return fail(r, "cannot write the CSV file", path);
  return 0;
}

static int print_audit(report *r, const char *meeting, FILE *out) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT ms, actor, action, target, detail FROM audit"
                         " WHERE meeting = ?1 ORDER BY ms, rowid",
                         -1, &st, NULL) != SQLITE_OK)
    return fail(r, "not a floorbridge database", sqlite3_errmsg(r->db));
  sqlite3_bind_text(st, 1, meeting ? meeting : "", -1, SQLITE_TRANSIENT);
  fprintf(out, "\nAudit log\n\n%-24s  %-16s  %-20s  %-16s  %s\n", "Time (UTC)", "Actor", "Action",
          "Target", "Detail");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    char t[48];
    iso_time(sqlite3_column_int64(st, 0), t, sizeof t);
    put_cell(out, t, 24, 0);
    for (int c = 1; c <= 4; c++) {
      const unsigned char *s = sqlite3_column_text(st, c);
      fputs("  ", out);
      const unsigned char *detail = sqlite3_column_text(st, 4);
      int last = c == 4 || (c == 3 && (!detail || !*detail)); /* no trailing blanks */
      put_cell(out, s ? (const char *)s : "", last ? 0 : c == 2 ? 20 : 16, 0);
    }
    fputc('\n', out);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return fail(r, "cannot read the audit log", sqlite3_errmsg(r->db));
  return 0;
}

static int run_report(report *r, int argc, char **argv) {
  const char *db = NULL, *meeting = NULL, *csv = NULL;
  int session = -1, want_audit = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(USAGE, stdout);
      return 0;
    } else if (!strcmp(a, "--audit")) {
      want_audit = 1;
    } else if (!strcmp(a, "--db") && has_value) {
      db = argv[++i];
    } else if (!strcmp(a, "--meeting") && has_value) {
      meeting = argv[++i];
    } else if (!strcmp(a, "--csv") && has_value) {
      csv = argv[++i];
    } else if (!strcmp(a, "--session") && has_value) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (!*argv[i] || *end || v < 0 || v >= FB_FLOOR_MAX_SESSIONS)
        return fail(r, "--session wants a session number", argv[i]);
      session = (int)v;
    } else {
      int known = !strcmp(a, "--db") || !strcmp(a, "--meeting") || !strcmp(a, "--csv") ||
                  !strcmp(a, "--session");
      fputs(USAGE, stderr);
      return fail(r, known ? "missing value for" : "unknown argument", a);
    }
  }
  if (!db) {
    fputs(USAGE, stderr);
    return fail(r, "--db FILE is required", NULL);
  }
  if (sqlite3_open_v2(db, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return fail(r, "cannot open the database", db);
  sqlite3_busy_timeout(r->db, 5000);
  char buf[128];
  int rc = pick_meeting(r, &meeting, buf, sizeof buf);
  if (rc == 2) return 2;
  if (rc == 0 && (rc = load_rows(r, meeting, session)) != 0) return rc;
  print_table(r, meeting, stdout);
  if (csv && (rc = write_csv(r, csv)) != 0) return rc;
  if (want_audit && (rc = print_audit(r, meeting, stdout)) != 0) return rc;
  fflush(stdout);
  return 0;
}

int fb_store_report_cli(int argc, char **argv) {
  report r = {0};
  int rc = run_report(&r, argc, argv);
  for (int i = 0; i < r.nrows; i++) {
    free(r.rows[i].delegate);
    free(r.rows[i].name);
    free(r.rows[i].session_name);
  }
  free(r.rows);
  sqlite3_close(r.db);
  return rc;
}
