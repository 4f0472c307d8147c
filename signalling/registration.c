/*
 * registration.c — the registration list (see registration.h).
 *
 * libcsv does the RFC 4180 tokenising (quotes, doubled quotes, line breaks
 * inside quotes), in strict mode so that a stray quote is an error and not
 * a silently merged row. The text is fed one physical line at a time, so
 * every record knows the line it starts on. The checks then run per row and
 * collect every problem rather than stopping at the first: a secretariat
 * fixes the export once, not once per error.
 */
#include "signalling/registration.h"

#include <csv.h>
#include <ctype.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { COL_ID, COL_NAME, COL_ROLE, COL_EMAIL, COL_PARTICIPATION, COL_REQUESTED, NCOLS };

static const char *const col_names[NCOLS] = {"delegate_id", "name",          "role",
                                             "email",       "participation", "requested_at"};
#define REQUIRED_COLS COL_REQUESTED /* every column before this one is required */

typedef struct {
  char *s;
  size_t len;
} field;

typedef struct {
  fb_reg_list *out;
  int oom;
  int line;     /* the physical line being fed */
  int rec_line; /* where the current record started */
  int in_record;
  field *f; /* the current record's fields */
  int nf, capf;
  int header_done;
  int header_bad; /* a required column is missing: rows are not read */
  int nheader;    /* fields in the header row */
  int col[NCOLS]; /* header position of each column, -1 when absent */
  int nproblem_rows;
} parse_state;

/* ---- problems ------------------------------------------------------------ */

static void problem(parse_state *p, int line, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(parse_state *p, int line, const char *code, const char *fmt, ...) {
  fb_reg_list *l = p->out;
  if ((l->nproblems & (l->nproblems - 1)) == 0) { /* grow at 0, 1, 2, 4, ... */
    size_t cap = l->nproblems ? 2 * (size_t)l->nproblems : 1;
    fb_reg_problem *grown = realloc(l->problems, cap * sizeof *grown);
    if (!grown) {
      p->oom = 1;
      return;
    }
    l->problems = grown;
  }
  fb_reg_problem *pr = &l->problems[l->nproblems++];
  memset(pr, 0, sizeof *pr);
  pr->line = line;
  snprintf(pr->code, sizeof pr->code, "%s", code);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pr->message, sizeof pr->message, fmt, ap);
  va_end(ap);
}

/* ---- times ----------------------------------------------------------------- */

int fb_reg_parse_time(const char *s, long long *out, int *whole_day) {
  int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
  size_t len = strlen(s);
  int day_only = 0;
  if (len == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
    day_only = 1;
  } else if ((len == 17 && sscanf(s, "%4d-%2d-%2dT%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &n) == 5 &&
              n == 17) ||
             (len == 20 &&
              sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
              n == 20)) {
    day_only = 0;
  } else {
    return -1;
  }
  for (size_t i = 0; i < len; i++) /* sscanf takes signs and spaces: refuse them */
    if (!isdigit((unsigned char)s[i]) && !strchr("-T:Z", s[i])) return -1;
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
    return -1;
  struct tm tm = {.tm_year = y - 1900,
                  .tm_mon = mo - 1,
                  .tm_mday = d,
                  .tm_hour = h,
                  .tm_min = mi,
                  .tm_sec = sec};
  time_t t = timegm(&tm);
  struct tm back;
  if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d) return -1; /* 31 April */
  *out = (long long)t;
  if (whole_day) *whole_day = day_only;
  return 0;
}

/* ---- one row --------------------------------------------------------------- */

/* "Listen only", "listen_only", "LISTEN-ONLY" are the same word. */
static int same_word(const char *a, const char *b) {
  for (;; a++, b++) {
    char ca = (char)tolower((unsigned char)*a), cb = (char)tolower((unsigned char)*b);
    if (ca == ' ' || ca == '-') ca = '_';
    if (cb == ' ' || cb == '-') cb = '_';
    if (ca != cb) return 0;
    if (!ca) return 1;
  }
}

static int id_ok(const char *s) {
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("._-@+:", *s)) return 0;
  return 1;
}

static int email_ok(const char *s) {
  const char *at = strchr(s, '@');
  if (!at || at == s || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.')) return 0;
  for (; *s; s++)
    if ((unsigned char)*s <= ' ' || strchr(",;<>\"", *s)) return 0;
  return 1;
}

static int has_control(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 1;
  return 0;
}

/* The value of column c in the current record ("" when the column is absent). */
static const char *value(parse_state *p, int c) {
  int i = p->col[c];
  return i >= 0 && i < p->nf ? p->f[i].s : "";
}

/* Check the value of every known column; 0 when the row is usable. */
static int check_values(parse_state *p, int line) {
  int bad = 0;
  for (int c = 0; c < NCOLS; c++) {
    int i = p->col[c];
    if (i < 0) continue;
    const field *f = &p->f[i];
    if (!g_utf8_validate(f->s, (gssize)f->len, NULL)) {
      problem(p, line, "bad_encoding", "%s is not valid UTF-8 (export the list as UTF-8)",
              col_names[c]);
      bad = 1;
    } else if (has_control(f->s, f->len)) {
      problem(p, line, "bad_value", "%s contains a control character or a line break",
              col_names[c]);
      bad = 1;
    } else if (c < REQUIRED_COLS && f->len == 0) {
      problem(p, line, "missing_value", "%s is empty", col_names[c]);
      bad = 1;
    }
  }
  return bad;
}

static void check_row(parse_state *p, int line) {
  fb_reg_list *l = p->out;
  if (p->nf < p->nheader) {
    problem(p, line, "missing_columns", "%d fields, the header has %d (a missing comma?)", p->nf,
            p->nheader);
    return;
  }
  if (p->nf > p->nheader) {
    problem(p, line, "extra_columns",
            "%d fields, the header has %d (an unquoted comma in a "
            "name?)",
            p->nf, p->nheader);
    return;
  }
  if (check_values(p, line)) return;
  fb_reg_row r;
  memset(&r, 0, sizeof r);
  r.line = line;
  int bad = 0;
  const char *id = value(p, COL_ID), *name = value(p, COL_NAME), *email = value(p, COL_EMAIL);
  if (strlen(id) >= sizeof r.id) {
    problem(p, line, "too_long", "delegate_id is longer than %zu bytes", sizeof r.id - 1);
    bad = 1;
  } else if (!id_ok(id)) {
    problem(p, line, "bad_id",
            "delegate_id '%s' may hold only letters, digits and . _ - @ + :", id);
    bad = 1;
  }
  if (strlen(name) >= sizeof r.name) {
    problem(p, line, "too_long", "name is longer than %zu bytes", sizeof r.name - 1);
    bad = 1;
  }
  if (strlen(email) >= sizeof r.email || !email_ok(email)) {
    problem(p, line, "bad_email", "email '%.64s' is not an address", email);
    bad = 1;
  }
  int role = -1;
  for (int k = 0; k <= FB_ROLE_OBSERVER; k++)
    if (same_word(value(p, COL_ROLE), fb_role_name((fb_role)k))) role = k;
  if (role < 0) {
    problem(p, line, "unknown_role", "role '%.32s' is not chair, delegate or observer",
            value(p, COL_ROLE));
    bad = 1;
  }
  const char *part = value(p, COL_PARTICIPATION);
  int interactive = same_word(part, "interactive") ? 1 : same_word(part, "listen-only") ? 0 : -1;
  if (interactive < 0) {
    problem(p, line, "bad_participation",
            "participation '%.32s' is not interactive or "
            "listen-only",
            part);
    bad = 1;
  } else if (interactive && role == FB_ROLE_OBSERVER) {
    problem(p, line, "bad_participation",
            "an observer only listens: participation must be "
            "listen-only");
    bad = 1;
  } else if (!interactive && role == FB_ROLE_CHAIR) {
    problem(p, line, "bad_participation",
            "a chair runs the meeting: participation must be "
            "interactive");
    bad = 1;
  }
  const char *req = value(p, COL_REQUESTED);
  if (req[0] && fb_reg_parse_time(req, &r.requested_at, NULL) < 0) {
    problem(p, line, "bad_date",
            "requested_at '%.32s' is not YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM:SSZ",
            req);
    bad = 1;
  }
  if (!bad) {
    for (int k = 0; k < l->nrows; k++)
      if (strcmp(l->rows[k].id, id) == 0) {
        problem(p, line, "duplicate_id", "delegate_id '%s' is already on line %d", id,
                l->rows[k].line);
        bad = 1;
        break;
      }
  }
  if (bad) {
    p->nproblem_rows++;
    return;
  }
  snprintf(r.id, sizeof r.id, "%s", id);
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.email, sizeof r.email, "%s", email);
  r.role = (fb_role)role;
  r.interactive = interactive;
  if ((l->nrows & (l->nrows - 1)) == 0) {
    size_t cap = l->nrows ? 2 * (size_t)l->nrows : 1;
    fb_reg_row *grown = realloc(l->rows, cap * sizeof *grown);
    if (!grown) {
      p->oom = 1;
      return;
    }
    l->rows = grown;
  }
  l->rows[l->nrows++] = r;
}

/* The header row: find each column. */
static void check_header(parse_state *p, int line) {
  p->header_done = 1;
  p->nheader = p->nf;
  for (int c = 0; c < NCOLS; c++) p->col[c] = -1;
  for (int i = 0; i < p->nf; i++) {
    char name[32];
    snprintf(name, sizeof name, "%s", p->f[i].s);
    for (int c = 0; c < NCOLS; c++)
      if (same_word(name, col_names[c]) || (c == COL_EMAIL && same_word(name, "e-mail"))) {
        if (p->col[c] >= 0) {
          problem(p, line, "missing_header", "column '%s' appears twice", col_names[c]);
          p->header_bad = 1;
        }
        p->col[c] = i;
      }
  }
  for (int c = 0; c < REQUIRED_COLS; c++)
    if (p->col[c] < 0) {
      problem(p, line, "missing_header",
              "no '%s' column (the header needs delegate_id, name, "
              "role, email, participation)",
              col_names[c]);
      p->header_bad = 1;
    }
}

/* ---- libcsv callbacks ---------------------------------------------------- */

static void on_field(void *s, size_t len, void *data) {
  parse_state *p = data;
  if (p->oom) return;
  if (p->nf == 1024)
    return; /* a thousand columns is not a registration list: the
                                 row counts as too wide (extra_columns) */
  if (p->nf == p->capf) {
    int cap = p->capf ? 2 * p->capf : 8;
    field *grown = realloc(p->f, (size_t)cap * sizeof *grown);
    if (!grown) {
      p->oom = 1;
      return;
    }
    p->f = grown;
    p->capf = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy) {
    p->oom = 1;
    return;
  }
  if (len) memcpy(copy, s, len);
  copy[len] = 0;
  /* strip a UTF-8 byte order mark from the file's first field */
  if (!p->header_done && p->nf == 0 && len >= 3 && memcmp(copy, "\xEF\xBB\xBF", 3) == 0) {
    memmove(copy, copy + 3, len - 2);
    len -= 3;
  }
  p->f[p->nf].s = copy;
  p->f[p->nf].len = len;
  p->nf++;
}

static void clear_fields(parse_state *p) {
  for (int i = 0; i < p->nf; i++) free(p->f[i].s);
  p->nf = 0;
}

static void on_record(int term, void *data) {
  parse_state *p = data;
  (void)term;
  if (!p->oom) {
    int line = p->in_record ? p->rec_line : p->line;
    if (!p->header_done)
      check_header(p, line);
    else if (!p->header_bad)
      check_row(p, line); /* without the columns, rows mean nothing */
  }
  clear_fields(p);
  p->in_record = 0;
}

/* ---- the list -------------------------------------------------------------- */

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
  return 1;
}

/* Bytes up to and including the next line break: LF, CR LF, or a CR alone
 * (spreadsheets on older Macs end lines with CR, and libcsv takes any of the
 * three as the end of a record, so the line count must too). */
static size_t line_length(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\n') return i + 1;
    if (s[i] == '\r') return i + 1 < len && s[i + 1] == '\n' ? i + 2 : i + 1;
  }
  return len;
}

int fb_reg_parse(const char *text, size_t len, fb_reg_list *out) {
  memset(out, 0, sizeof *out);
  parse_state p;
  memset(&p, 0, sizeof p);
  p.out = out;
  struct csv_parser csv;
  if (csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) return -1;
  size_t pos = 0;
  int failed = 0;
  while (pos < len && !p.oom) {
    size_t n = line_length(text + pos, len - pos);
    p.line++;
    if (!p.in_record && !blank(text + pos, n)) {
      p.in_record = 1;
      p.rec_line = p.line;
    }
    if (csv_parse(&csv, text + pos, n, on_field, on_record, &p) != n) {
      failed = 1;
      break;
    }
    pos += n;
  }
  if (!failed && !p.oom && csv_fini(&csv, on_field, on_record, &p) != 0) failed = 1;
  if (failed && csv_error(&csv) == CSV_ENOMEM)
    p.oom = 1;
  else if (failed)
    problem(&p, p.in_record ? p.rec_line : p.line, "bad_csv",
            "a quote is never closed, or text follows a closing quote (near line %d): the rest "
            "of the file was not read",
            p.line);
  csv_free(&csv);
  clear_fields(&p);
  free(p.f);
  if (p.oom) return -1;
  if (!p.header_done)
    problem(&p, 0, "empty_list", "the file is empty: it needs a header row and one row a person");
  else if (!out->nproblems && !out->nrows)
    problem(&p, 0, "empty_list", "the file has a header row but nobody in it");
  if (p.oom) return -1;
  return out->nproblems ? 1 : 0;
}

void fb_reg_free(fb_reg_list *l) {
  if (!l) return;
  free(l->rows);
  free(l->problems);
  memset(l, 0, sizeof *l);
}
