/*
 * registration.h — the meeting system's registration list, read and checked.
 *
 * A secretariat exports who registered for a meeting as a UTF-8 CSV file
 * (RFC 4180: commas, double quotes around fields that hold commas, quotes or
 * line breaks; a header row first). This module turns that text into rows
 * and a list of problems, each with the line it is on, and does nothing
 * else: no files, no clock, no tokens (floorbridge invite, signalling/invite.c,
 * does those). So it can be tested and fuzzed on strings.
 *
 * The header names the columns, in any order, case and spacing ignored:
 *   delegate_id    the meeting system's id for the person (ASCII letters,
 *                  digits and . _ - @ + : only; at most 63 bytes)
 *   name           the name as it is to appear in the console (any script;
 *                  at most 127 bytes of UTF-8)
 *   role           chair, delegate or observer
 *   email          where the invitation goes
 *   participation  interactive (may ask for the floor) or listen-only
 *   requested_at   optional: when interactive participation was asked for
 *                  (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, UTC)
 * Other columns (a meeting system exports many) are ignored. A UTF-8 byte
 * order mark at the start is skipped; blank lines are skipped; lines may end
 * in LF, CR LF or a lone CR.
 *
 * Problems, each with a stable code: missing_header, missing_columns,
 * extra_columns, missing_value, bad_encoding, bad_value, bad_id, too_long,
 * unknown_role, bad_participation, bad_email, bad_date, duplicate_id,
 * bad_csv, empty_list.
 */
#ifndef FB_REGISTRATION_H
#define FB_REGISTRATION_H

#include <stddef.h>

#include "signalling/token.h"

/* One registered person. Strings are NUL-terminated UTF-8. */
typedef struct {
  int line; /* where the row starts in the file (1 = header) */
  char id[64];
  char name[128];
  fb_role role;
  char email[256];
  int interactive;        /* 1: may ask for the floor, 0: listen-only */
  long long requested_at; /* seconds since the epoch, 0 when not given */
} fb_reg_row;

typedef struct {
  int line;          /* 0: the file as a whole */
  char code[24];     /* one of the codes above */
  char message[256]; /* for a person: what is wrong and what to do */
} fb_reg_problem;

typedef struct {
  fb_reg_row *rows;
  int nrows;
  fb_reg_problem *problems;
  int nproblems;
} fb_reg_list;

/* Parse and check len bytes of CSV text. Fills *out (free it with
 * fb_reg_free, whatever the result). Returns 0 when the list has rows and no
 * problems, 1 when it has problems (rows with problems are not in out->rows;
 * every problem is listed, not only the first), -1 when out of memory. */
int fb_reg_parse(const char *text, size_t len, fb_reg_list *out);

/* Free what fb_reg_parse allocated; *l is zeroed. NULL is allowed. */
void fb_reg_free(fb_reg_list *l);

/* Parse "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM[:SS]Z" into seconds
 * since the epoch. *whole_day is set to 1 for the date-only form. Returns 0,
 * or -1 when s is not one of those forms or not a real date. */
int fb_reg_parse_time(const char *s, long long *out, int *whole_day);

#endif
