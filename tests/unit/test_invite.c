/*
 * test_invite — from the registration list to personal links:
 *  - the CSV reader: names in Arabic, Chinese, Cyrillic and with accents come
 *    through byte for byte (BOM, CRLF, quoted commas, extra columns);
 *  - every kind of bad row is reported with its line number and code, all
 *    of them at once, and a quoted line break does not shift later lines;
 *  - `floorbridge invite` (called in-process) writes one link a person whose
 *    token carries the name, the listen-only rule (observer role), "nbf" and
 *    "exp" around the meeting; a bad list writes nothing, not even over an
 *    earlier import; importing again keeps unchanged links, revokes changed
 *    and dropped people in the revoked file, and refuses to run without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "signalling/invite.h"
#include "signalling/registration.h"
#include "signalling/token.h"

#define SECRET "invite-test-secret-0123456789abc"
#define MEETING "SG5-2026"

static const char *const NAMES[] = {
    "فاطمة الزهراء",      /* Arabic */
    "李明",               /* Chinese */
    "Ольга Кузнецова",    /* Cyrillic */
    "Zoë Ní Bhriain, Dr", /* accents and a comma */
};

static int has_problem(const fb_reg_list *l, int line, const char *code) {
  for (int i = 0; i < l->nproblems; i++)
    if (l->problems[i].line == line && strcmp(l->problems[i].code, code) == 0) return 1;
  return 0;
}

static void test_good_list(void) {
  char csv[2048];
  snprintf(csv, sizeof csv,
           "\xEF\xBB\xBF"
           "Delegate ID,Name,Role,E-mail,Participation,Organisation\r\n"
           "c1,Chair One,chair,c1@example.org,interactive,Sec\r\n"
           "d1,%s,delegate,d1@example.org,interactive,A\r\n"
           "\r\n"
           "d2,%s,Delegate,d2@example.org,Listen only,B\r\n"
           "d3,%s,delegate,d3@example.org,listen-only,C\r\n"
           "d4,\"%s\",delegate,d4@example.org,INTERACTIVE,\"D, with \"\"quotes\"\"\"\r\n"
           "o1,Obs,observer,o1@example.org,listen_only,E", /* no final line break */
           NAMES[0], NAMES[1], NAMES[2], NAMES[3]);
  fb_reg_list l;
  int rc = fb_reg_parse(csv, strlen(csv), &l);
  CHECK(rc == 0 && l.nproblems == 0, "a good list parses (rc %d, %d problems: %s)", rc, l.nproblems,
        l.nproblems ? l.problems[0].message : "");
  CHECK(l.nrows == 6, "six people (%d)", l.nrows);
  if (l.nrows == 6) {
    for (int i = 0; i < 4; i++)
      CHECK(strcmp(l.rows[1 + i].name, NAMES[i]) == 0, "name %d intact: %s", i, l.rows[1 + i].name);
    CHECK(l.rows[0].role == FB_ROLE_CHAIR && l.rows[0].interactive, "chair, interactive");
    CHECK(l.rows[2].role == FB_ROLE_DELEGATE && !l.rows[2].interactive, "'Listen only' accepted");
    CHECK(l.rows[5].role == FB_ROLE_OBSERVER && !l.rows[5].interactive, "observer");
    CHECK(l.rows[2].line == 5 && l.rows[5].line == 8, "lines count the blank line (%d, %d)",
          l.rows[2].line, l.rows[5].line);
    CHECK(strcmp(l.rows[0].email, "c1@example.org") == 0, "email");
  }
  fb_reg_free(&l);
}

/* Older Mac spreadsheets end lines with a lone CR: rows keep their lines. */
static void test_cr_lines(void) {
  const char *csv =
      "delegate_id,name,role,email,participation\r"
      "d1,Ann,delegate,a@x.org,interactive\r"
      "d2,Bob,delegate,b@x.org,listen-only\r";
  fb_reg_list l;
  int rc = fb_reg_parse(csv, strlen(csv), &l);
  CHECK(rc == 0 && l.nrows == 2, "CR line ends parse (rc %d, %d rows)", rc, l.nrows);
  CHECK(l.nrows == 2 && l.rows[0].line == 2 && l.rows[1].line == 3, "and count as lines");
  fb_reg_free(&l);
}

static void test_bad_list(void) {
  const char *csv =
      "delegate_id,name,role,email,participation,requested_at\n" /* 1 */
      "d1,Ann,delegate,a@x.org,interactive,\n"                   /* 2 ok */
      "d1,Bob,delegate,b@x.org,interactive,\n"                   /* 3 duplicate */
      "d3,Cy,president,c@x.org,interactive,\n"                   /* 4 role */
      "d4,Dee,delegate,d@x.org\n"                                /* 5 columns */
      "d5,\xff\xfe"
      "Eve,delegate,e@x.org,interactive,\n"              /* 6 encoding */
      "d6,\"Fay\nLine\",delegate,f@x.org,interactive,\n" /* 7-8 line break */
      "d7 x,Gus,delegate,gus,maybe,\n"                   /* 9 id, email, participation */
      "d8,Hal,observer,h@x.org,interactive,\n"           /* 10 observer speaking */
      "d9,Ida,delegate,i@x.org,interactive,yesterday\n"  /* 11 date */
      "d10,Jo,delegate,j@x.org,interactive,,extra\n"     /* 12 columns */
      "d11,,delegate,k@x.org,interactive,\n"             /* 13 empty name */
      "d12,Kim,chair,k@x.org,listen-only,\n";            /* 14 chair listening */
  fb_reg_list l;
  int rc = fb_reg_parse(csv, strlen(csv), &l);
  CHECK(rc == 1, "problems reported (rc %d)", rc);
  static const struct {
    int line;
    const char *code;
  } want[] = {
      {3, "duplicate_id"},       {4, "unknown_role"},      {5, "missing_columns"},
      {6, "bad_encoding"},       {7, "bad_value"},         {9, "bad_id"},
      {9, "bad_email"},          {9, "bad_participation"}, {10, "bad_participation"},
      {11, "bad_date"},          {12, "extra_columns"},    {13, "missing_value"},
      {14, "bad_participation"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    CHECK(has_problem(&l, want[i].line, want[i].code), "line %d: %s", want[i].line, want[i].code);
  CHECK(l.nproblems == (int)(sizeof want / sizeof want[0]), "nothing else (%d problems)",
        l.nproblems);
  CHECK(l.nrows == 1 && strcmp(l.rows[0].id, "d1") == 0, "only the good row is kept");
  fb_reg_free(&l);

  const char *unclosed =
      "delegate_id,name,role,email,participation\nd1,\"Ann,delegate,a@x.org,"
      "interactive\nd2,Bob,delegate,b@x.org,interactive\n";
  rc = fb_reg_parse(unclosed, strlen(unclosed), &l);
  CHECK(rc == 1 && has_problem(&l, 2, "bad_csv"), "an unclosed quote is reported at its line");
  fb_reg_free(&l);
  const char *nohdr = "id,name,role,email\nd1,Ann,delegate,a@x.org\n";
  rc = fb_reg_parse(nohdr, strlen(nohdr), &l);
  CHECK(rc == 1 && has_problem(&l, 1, "missing_header"), "a missing column is named");
  fb_reg_free(&l);
  rc = fb_reg_parse("", 0, &l);
  CHECK(rc == 1 && has_problem(&l, 0, "empty_list"), "an empty file");
  fb_reg_free(&l);
}

static void test_times(void) {
  long long t;
  int day;
  CHECK(fb_reg_parse_time("2026-12-15", &t, &day) == 0 && t == 1797292800LL && day,
        "a date is midnight UTC (%lld)", t);
  CHECK(
      fb_reg_parse_time("2026-12-15T09:30:00Z", &t, &day) == 0 && t == 1797292800LL + 34200 && !day,
      "a time");
  CHECK(fb_reg_parse_time("2026-02-30", &t, &day) < 0, "30 February refused");
  CHECK(fb_reg_parse_time("2026-1-15", &t, &day) < 0, "short month refused");
  CHECK(fb_reg_parse_time("+026-12-15", &t, &day) < 0, "signs refused");
  CHECK(fb_reg_parse_time("2026-12-15T09:30:00+01:00", &t, &day) < 0, "offsets refused: UTC only");
}

/* ---- the command ------------------------------------------------------------ */

static char dir[] = "/tmp/fb-invite-XXXXXX";

static void put(const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static char *get(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 16);
  if (buf) fread(buf, 1, (1 << 16) - 1, f);
  fclose(f);
  return buf;
}

static int invite(const char *csv, int with_revoked) {
  char c[256], out[256], rev[256];
  snprintf(c, sizeof c, "%s/%s", dir, csv);
  snprintf(out, sizeof out, "%s/out", dir);
  snprintf(rev, sizeof rev, "%s/revoked.txt", dir);
  char *argv[] = {"invite",
                  "--meeting",
                  MEETING,
                  "--csv",
                  c,
                  "--url",
                  "https://bridge.example.org:8443/",
                  "--from",
                  "2026-12-15",
                  "--to",
                  "2026-12-18",
                  "--out",
                  out,
                  with_revoked ? "--revoked-file" : NULL,
                  rev,
                  NULL};
  int argc = with_revoked ? 15 : 13;
  return fb_invite_cli(argc, argv);
}

/* The token in the link of delegate id in out/invitations.csv ("" if none). */
static const char *token_of(const char *csv, const char *id, char *buf, size_t cap) {
  char key[80];
  snprintf(key, sizeof key, "\n\"%s\",", id);
  const char *row = csv ? strstr(csv, key) : NULL;
  const char *eol = row ? strchr(row + 1, '\n') : NULL;
  const char *t = row ? strstr(row, "#token=") : NULL;
  buf[0] = 0;
  if (!t || (eol && t > eol)) return buf;
  t += 7;
  size_t n = strcspn(t, "\"\n");
  if (n < cap) {
    memcpy(buf, t, n);
    buf[n] = 0;
  }
  return buf;
}

static void test_command(void) {
  setenv("FLOORBRIDGE_TOKEN_SECRET", SECRET, 1);
  char list[2048];
  snprintf(list, sizeof list,
           "delegate_id,name,role,email,participation,requested_at\n"
           "c1,Chair,chair,c@example.org,interactive,2026-12-01\n"
           "d1,%s,delegate,d1@example.org,interactive,2026-12-01\n"
           "d2,%s,delegate,d2@example.org,listen-only,\n"
           "d3,%s,delegate,d3@example.org,interactive,2026-12-14T20:00:00Z\n"
           "d4,\"%s\",delegate,d4@example.org,interactive,\n",
           NAMES[0], NAMES[1], NAMES[2], NAMES[3]);
  put("list.csv", list);
  put("bad.csv",
      "delegate_id,name,role,email,participation\nd1,A,delegate,a@x.org,interactive\n"
      "d1,B,delegate,b@x.org,interactive\n");

  CHECK(invite("bad.csv", 0) == 2, "a bad list: exit 2");
  char out[256];
  snprintf(out, sizeof out, "%s/out", dir);
  struct stat st;
  CHECK(stat(out, &st) < 0, "and nothing written, not even the folder");

  CHECK(invite("list.csv", 0) == 0, "the list: exit 0");
  char *mails = get("out/invitations.csv");
  CHECK(mails && strncmp(mails,
                         "delegate_id,name,email,role,participation,valid_from,"
                         "valid_until,link\n",
                         70) == 0,
        "a mail-merge CSV with a header");
  CHECK(mails && strstr(mails, "\"https://bridge.example.org:8443/chair.html#token="),
        "the chair's link opens the console");
  long long opens = 1797292800LL; /* 2026-12-15T00:00Z */
  char jwt[FB_TOKEN_MAX + 1];
  fb_token t;
  for (int i = 0; i < 4; i++) {
    char id[8];
    snprintf(id, sizeof id, "d%d", i + 1);
    token_of(mails, id, jwt, sizeof jwt);
    fb_token_error e = fb_token_verify(SECRET, MEETING, jwt, opens + 3600, &t);
    CHECK(e == FB_TOKEN_OK && strcmp(t.name, NAMES[i]) == 0, "%s: the name survives: %s (%s)", id,
          t.name, fb_token_error_code(e));
    CHECK(mails && strstr(mails, NAMES[i]), "%s: the name is in the mail merge", id);
    CHECK(t.nbf == opens - 14 * 3600 && t.exp == opens + 4 * 86400 + 12 * 3600,
          "%s: valid from the first day anywhere to the last day anywhere", id);
  }
  token_of(mails, "d1", jwt, sizeof jwt);
  CHECK(fb_token_verify(SECRET, MEETING, jwt, opens - 86400, &t) == FB_TOKEN_NOT_YET_VALID,
        "the day before: not yet valid");
  CHECK(fb_token_verify(SECRET, MEETING, jwt, opens + 5 * 86400, &t) == FB_TOKEN_EXPIRED,
        "after the meeting: expired");
  fb_token_verify(SECRET, MEETING, jwt, opens, &t);
  CHECK(t.role == FB_ROLE_DELEGATE, "interactive: a delegate");
  token_of(mails, "d2", jwt, sizeof jwt);
  fb_token_verify(SECRET, MEETING, jwt, opens, &t);
  CHECK(t.role == FB_ROLE_OBSERVER, "listen-only: the observer role, kept out of the mix");
  token_of(mails, "d3", jwt, sizeof jwt);
  fb_token_verify(SECRET, MEETING, jwt, opens, &t);
  CHECK(t.role == FB_ROLE_OBSERVER && strstr(mails, "\"d3\",") &&
            strstr(strstr(mails, "\"d3\","), "\"listen-only\""),
        "asked for the floor 4 h before the meeting: invited listen-only");
  char d1_before[FB_TOKEN_MAX + 1], d2_before[FB_TOKEN_MAX + 1];
  token_of(mails, "d1", d1_before, sizeof d1_before);
  token_of(mails, "d2", d2_before, sizeof d2_before);

  /* a bad list over an earlier import changes nothing */
  char *state = get("out/issued.tsv");
  CHECK(invite("bad.csv", 1) == 2, "a bad re-import: exit 2");
  char *mails2 = get("out/invitations.csv"), *state2 = get("out/issued.tsv");
  CHECK(mails2 && state2 && strcmp(mails, mails2) == 0 && strcmp(state, state2) == 0,
        "the earlier import is untouched");
  char *none = get("revoked.txt");
  CHECK(none == NULL, "no revoked file made");
  free(none);
  free(mails2);
  free(state2);

  /* d2 dropped, d4 renamed: the revoked file is required, then written */
  char list2[2048];
  snprintf(list2, sizeof list2,
           "delegate_id,name,role,email,participation\n"
           "c1,Chair,chair,c@example.org,interactive\n"
           "d1,%s,delegate,d1@example.org,interactive\n"
           "d3,%s,delegate,d3@example.org,listen-only\n"
           "d4,Zoë Ní Bhriain,delegate,d4@example.org,interactive\n",
           NAMES[0], NAMES[2]);
  put("list2.csv", list2);
  CHECK(invite("list2.csv", 0) == 2, "revocations needed and no --revoked-file: exit 2");
  mails2 = get("out/invitations.csv");
  CHECK(mails2 && strcmp(mails, mails2) == 0, "and nothing written");
  free(mails2);
  put("revoked.txt", "# by hand\njti:leaked-1\n");
  CHECK(invite("list2.csv", 1) == 0, "with the revoked file: exit 0");
  char *rev = get("revoked.txt");
  CHECK(rev && strstr(rev, "# by hand\njti:leaked-1\n"), "lines written by hand are kept");
  CHECK(rev && strstr(rev, "\ndelegate:d2 "), "the dropped delegate is revoked: %s",
        rev ? rev : "");
  CHECK(rev && !strstr(rev, "delegate:d4") && strstr(rev, "\njti:"), "the renamed one by token");
  mails2 = get("out/invitations.csv");
  token_of(mails2, "d1", jwt, sizeof jwt);
  CHECK(strcmp(jwt, d1_before) == 0, "d1, unchanged, keeps the link already mailed");
  token_of(mails2, "d2", jwt, sizeof jwt);
  CHECK(!jwt[0], "d2 is no longer in the mail merge");
  free(mails2);
  free(rev);

  /* d2 back: the ban written by invite is lifted, the old link stays revoked */
  CHECK(invite("list.csv", 1) == 0, "d2 back on the list");
  rev = get("revoked.txt");
  CHECK(rev && !strstr(rev, "delegate:d2 "), "the delegate ban is lifted");
  fb_token old;
  fb_token_verify(SECRET, MEETING, d2_before, opens, &old);
  char jline[80];
  snprintf(jline, sizeof jline, "jti:%s ", old.jti);
  CHECK(rev && strstr(rev, jline), "d2's first link stays revoked (%s)", jline);
  mails2 = get("out/invitations.csv");
  token_of(mails2, "d2", jwt, sizeof jwt);
  CHECK(jwt[0] && strcmp(jwt, d2_before) != 0, "d2 gets a new link");
  free(mails2);
  free(rev);
  free(mails);
  free(state);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "clean up");
}

int main(void) {
  test_good_list();
  test_cr_lines();
  test_bad_list();
  test_times();
  if (!mkdtemp(dir)) return 1;
  test_command();
  return CHECK_DONE();
}
