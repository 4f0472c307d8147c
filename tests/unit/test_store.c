/*
 * test_store.c — the SQLite store (signalling/store.c) and `floorbridge
 * report` (signalling/report.c): a meeting is run through a real floor whose
 * hooks write to the store; the store is closed, reopened and loaded into a
 * new floor (bars, chair mutes, queue order, session, mode and this session's
 * speaking time come back); then the report command reads the file: table,
 * CSV rows and totals, session filter, audit log, and its refusals.
 */
#include "check.h"
#include "signalling/store.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int64_t T0 = 1700000000000LL; /* 2023-11-14T22:13:20Z */

static fb_store *S;
static fb_floor *F;

static void on_media(void *ud, const char *id, fb_floor_media m, int uplink) {}
static void on_changed(void *ud, const char *what) {
  for (int i = 0; i < fb_floor_count(F); i++) fb_store_save_delegate(S, fb_floor_at(F, i));
  int s = fb_floor_session_now(F);
  fb_store_save_session(S, s, fb_floor_get_config(F)->sessions[s].name, fb_floor_mode_now(F));
}
static void on_audit(void *ud, int64_t ms, const char *actor, const char *action,
                     const char *target, const char *detail) {
  fb_store_audit(S, ms, actor, action, target, detail);
}
static void on_spoken(void *ud, const char *id, int session, int64_t start, int64_t end) {
  fb_store_spoken(S, id, fb_floor_find(F, id)->name, session,
                  fb_floor_get_config(F)->sessions[session].name, start, end);
}
static const fb_floor_hooks HOOKS = {on_media, on_changed, on_audit, on_spoken, NULL};

static fb_floor_config config(void) {
  fb_floor_config c;
  memset(&c, 0, sizeof c);
  c.max_live = 4;
  c.nsessions = 3;
  snprintf(c.sessions[0].name, sizeof c.sessions[0].name, "Opening plenary");
  snprintf(c.sessions[1].name, sizeof c.sessions[1].name, "Closing plenary");
  c.sessions[1].mode = FB_MODE_WEBCAST;
  snprintf(c.sessions[2].name, sizeof c.sessions[2].name, "WP1");
  c.min_mos = 3;
  c.max_loss_pct = 10;
  c.flag_after_ms = 3000;
  c.recover_after_ms = 5000;
  return c;
}

#define OK(expr) CHECK((err = (expr)) == NULL, "%s -> %s", #expr, err ? err : "ok")

static void run_meeting(void) {
  const char *err;
  fb_floor_connect(F, "C", "Chair", FB_ROLE_CHAIR, T0);
  fb_floor_connect(F, "A", "Alice", FB_ROLE_DELEGATE, T0);
  fb_floor_connect(F, "B", "Bob", FB_ROLE_DELEGATE, T0);
  fb_floor_connect(F, "D", "Dana", FB_ROLE_DELEGATE, T0);
  fb_floor_connect(F, "E", "Emil", FB_ROLE_DELEGATE, T0);
  fb_floor_connect(F, "G", "Doe, Jane \"JD\"", FB_ROLE_DELEGATE, T0);
  fb_floor_connect(F, "H", "=HYPERLINK(1)", FB_ROLE_DELEGATE, T0);
  /* session 0: A speaks 30 s and 45 s, G 20 s, H 1 s */
  OK(fb_floor_grant(F, "C", "A", T0));
  OK(fb_floor_end_turn(F, "C", "A", T0 + 30000));
  OK(fb_floor_grant(F, "C", "A", T0 + 60000));
  OK(fb_floor_end_turn(F, "C", "A", T0 + 105000));
  OK(fb_floor_grant(F, "C", "G", T0 + 110000));
  OK(fb_floor_end_turn(F, "C", "G", T0 + 130000));
  OK(fb_floor_grant(F, "C", "H", T0 + 131000));
  OK(fb_floor_end_turn(F, "C", "H", T0 + 132000));
  /* session 2 (WP1): B 10 s then chair-muted; A 5 s; D cut; queue E, G moved first */
  OK(fb_floor_set_session(F, "C", 2, T0 + 150000));
  OK(fb_floor_grant(F, "C", "B", T0 + 200000));
  OK(fb_floor_mute(F, "C", "B", 1, T0 + 210000));
  OK(fb_floor_grant(F, "C", "A", T0 + 220000));
  OK(fb_floor_end_turn(F, "C", "A", T0 + 225000));
  OK(fb_floor_cut(F, "C", "D", "echo, \"feedback\"", T0 + 226000));
  OK(fb_floor_request(F, "E", T0 + 230000));
  OK(fb_floor_request(F, "G", T0 + 231000));
  OK(fb_floor_queue_move(F, "C", "G", 1, T0 + 232000));
}

static int capture_begin(const char *path) {
  fflush(stdout);
  int saved = dup(1);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 1);
  close(fd);
  return saved;
}

static void capture_end(int saved) {
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
}

static char *slurp(const char *path) {
  static char buf[65536];
  FILE *fp = fopen(path, "rb");
  size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
  if (fp) fclose(fp);
  buf[n] = '\0';
  return buf;
}

/* Run the report command with args (NULL-terminated), stdout into out_path. */
static int report(const char *out_path, ...) {
  char *argv[16] = {"report"};
  int argc = 1;
  va_list ap;
  va_start(ap, out_path);
  for (char *a; argc < 15 && (a = va_arg(ap, char *)) != NULL;) argv[argc++] = a;
  va_end(ap);
  int saved = capture_begin(out_path);
  int rc = fb_store_report_cli(argc, argv);
  capture_end(saved);
  return rc;
}

int main(void) {
  char dir[] = "/tmp/fb_store_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char db[128], csv[128], out[128], missing[128];
  snprintf(db, sizeof db, "%s/meeting.db", dir);
  snprintf(csv, sizeof csv, "%s/report.csv", dir);
  snprintf(out, sizeof out, "%s/stdout.txt", dir);
  snprintf(missing, sizeof missing, "%s/nope.db", dir);
  fb_floor_config cfg = config();
  char err[256];

  /* ---- run a meeting, everything persisted through the hooks ---- */
  S = fb_store_open(db, "SG12", err, sizeof err);
  CHECK(S != NULL, "open: %s", err);
  if (!S) return CHECK_DONE();
  F = fb_floor_new(&cfg, &HOOKS, NULL);
  run_meeting();
  fb_floor_free(F);
  fb_store_close(S);
  CHECK(fb_store_open("", "SG12", err, sizeof err) == NULL && err[0], "empty path refused");
  CHECK(fb_store_open("/nonexistent/dir/x.db", "SG12", err, sizeof err) == NULL &&
            strstr(err, "cannot"),
        "bad path: %s", err);

  /* ---- reopen and restore into a new floor ---- */
  S = fb_store_open(db, "SG12", err, sizeof err);
  CHECK(S != NULL, "reopen: %s", err);
  F = fb_floor_new(&cfg, &HOOKS, NULL);
  int n = fb_store_load(S, F);
  CHECK(n == 7, "restored %d delegates", n);
  CHECK(fb_floor_session_now(F) == 2 && fb_floor_mode_now(F) == FB_MODE_INTERACTIVE, "session");
  const fb_delegate *d = fb_floor_find(F, "D");
  CHECK(d && d->state == FB_FLOOR_BARRED && !strcmp(d->bar_reason, "echo, \"feedback\"") &&
            !strcmp(d->barred_by, "C") && d->barred_ms == T0 + 226000 && !d->connected,
        "bar restored");
  const fb_delegate *b = fb_floor_find(F, "B");
  CHECK(b && b->state == FB_FLOOR_MUTED && b->chair_muted && !strcmp(b->name, "Bob"), "mute");
  CHECK(b && b->spoken_ms == 10000, "B's WP1 time %lld", b ? (long long)b->spoken_ms : -1LL);
  CHECK(fb_floor_find(F, "A")->spoken_ms == 5000, "A's WP1 time (not the plenary's)");
  CHECK(fb_floor_find(F, "C")->role == FB_ROLE_CHAIR, "chair role");
  const fb_delegate *q[4];
  CHECK(fb_floor_queue(F, q, 4) == 2 && !strcmp(q[0]->id, "G") && !strcmp(q[1]->id, "E"),
        "queue order restored");
  fb_floor_connect(F, "C", "Chair", FB_ROLE_CHAIR, T0 + 300000);
  fb_floor_connect(F, "B", "Bob", FB_ROLE_DELEGATE, T0 + 300000);
  CHECK(!strcmp(fb_floor_self_mute(F, "B", 0, T0 + 300000), "chair_muted"), "still muted");
  fb_floor_connect(F, "D", "Dana", FB_ROLE_DELEGATE, T0 + 300000);
  CHECK(!strcmp(fb_floor_request(F, "D", T0 + 300000), "barred"), "still barred");
  fb_floor_free(F);
  fb_store_close(S);

  /* a second meeting in the same file: its own session and mode */
  S = fb_store_open(db, "M2", err, sizeof err);
  fb_store_save_session(S, 1, "Closing plenary", FB_MODE_WEBCAST);
  fb_store_audit(S, T0, "C2", "set_mode", "", "webcast");
  F = fb_floor_new(&cfg, &HOOKS, NULL);
  CHECK(fb_store_load(S, F) == 0, "no delegates in M2");
  CHECK(fb_floor_session_now(F) == 1 && fb_floor_mode_now(F) == FB_MODE_WEBCAST, "M2 mode");
  fb_floor_free(F);
  fb_store_close(S);

  /* ---- the report ---- */
  int rc = report(out, "--db", db, "--meeting", "SG12", "--csv", csv, NULL);
  CHECK(rc == 0, "report rc %d", rc);
  const char *table = slurp(out);
  CHECK(strstr(table, "Delegate") && strstr(table, "Turns") && strstr(table, "Alice") &&
            strstr(table, "01:15") && strstr(table, "0 Opening plenary") && strstr(table, "2 WP1"),
        "table:\n%s", table);
  const char *want_csv =
      "delegate,name,session,session_name,turns,time,seconds\r\n"
      "A,Alice,0,Opening plenary,2,01:15,75.0\r\n"
      "G,\"Doe, Jane \"\"JD\"\"\",0,Opening plenary,1,00:20,20.0\r\n"
      "H,'=HYPERLINK(1),0,Opening plenary,1,00:01,1.0\r\n"
      "B,Bob,2,WP1,1,00:10,10.0\r\n"
      "A,Alice,2,WP1,1,00:05,5.0\r\n";
  const char *got = slurp(csv);
  CHECK(!strcmp(got, want_csv), "csv:\n%s", got);

  rc = report(out, "--db", db, "--meeting", "SG12", "--session", "2", "--csv", csv, NULL);
  got = slurp(csv);
  CHECK(rc == 0 && !strcmp(got,
                           "delegate,name,session,session_name,turns,time,seconds\r\n"
                           "B,Bob,2,WP1,1,00:10,10.0\r\n"
                           "A,Alice,2,WP1,1,00:05,5.0\r\n"),
        "session filter:\n%s", got);

  rc = report(out, "--db", db, "--meeting", "SG12", "--audit", NULL);
  const char *log = slurp(out);
  CHECK(rc == 0 && strstr(log, "Audit log") && strstr(log, "2023-11-14T22:13:20.000Z") &&
            strstr(log, "grant") && strstr(log, "queue_move") && strstr(log, "set_session") &&
            strstr(log, "echo, \"feedback\"") && !strstr(log, "webcast"),
        "audit:\n%s", log);

  rc = report(out, "--db", db, "--meeting", "M2", "--audit", NULL);
  log = slurp(out);
  CHECK(rc == 0 && strstr(log, "C2") && strstr(log, "webcast") && !strstr(log, "Alice"), "M2");

  /* refusals: exit 2 */
  CHECK(report(out, "--db", missing, NULL) == 2, "missing db");
  CHECK(access(missing, F_OK) != 0, "the report does not create a file");
  CHECK(report(out, NULL) == 2, "no --db");
  CHECK(report(out, "--db", db, NULL) == 2, "several meetings and no --meeting");
  CHECK(report(out, "--db", db, "--meeting", "SG12", "--session", "x", NULL) == 2, "session");
  CHECK(report(out, "--db", db, "--bogus", NULL) == 2, "unknown argument");
  CHECK(report(out, "--db", NULL) == 2, "missing value");
  CHECK(report(out, "--db", db, "--meeting", "SG12", "--csv", "/nonexistent/x.csv", NULL) == 2,
        "unwritable csv");
  CHECK(report(out, "--db", csv, NULL) == 2, "not a database");
  CHECK(report(out, "--help", NULL) == 0 && strstr(slurp(out), "usage"), "help");

  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return CHECK_DONE();
}
