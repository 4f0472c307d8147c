/*
 * fuzz_registration.c — libFuzzer target for the registration list
 * (signalling/registration.h): fb_reg_parse on arbitrary bytes, as a
 * secretariat's export might be anything (another encoding, a spreadsheet
 * saved wrongly, a truncated download).
 *
 * Input: the CSV text, as it is (not NUL-terminated).
 *
 * Invariants (a violation traps):
 *   - the result is -1, 0 or 1; 0 means rows and no problems, 1 problems;
 *   - every kept row is what floorbridge invite may sign: an id of allowed
 *     characters, a name of valid UTF-8 without control characters, both
 *     NUL-terminated within their arrays, a known role, an observer never
 *     interactive, a chair never listen-only; no id twice;
 *   - rows come in file order, after the header; every problem's line is
 *     within the file and its code is non-empty.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalling/registration.h"

#define CHECK(c)                                                                            \
  do {                                                                                      \
    if (!(c)) {                                                                             \
      fprintf(stderr, "fuzz_registration: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                                     \
    }                                                                                       \
  } while (0)

static int id_chars(const char *s) {
  for (; *s; s++)
    if (!g_ascii_isalnum(*s) && !strchr("._-@+:", *s)) return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fb_reg_list l;
  int rc = fb_reg_parse((const char *)data, size, &l);
  CHECK(rc >= -1 && rc <= 1);
  if (rc == 0) CHECK(l.nrows > 0 && l.nproblems == 0);
  if (rc == 1) CHECK(l.nproblems > 0);
  int lines = 1;
  for (size_t i = 0; i < size; i++) /* LF, CR LF and a lone CR each end a line */
    lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
  int prev = 1;
  for (int i = 0; i < l.nrows; i++) {
    const fb_reg_row *r = &l.rows[i];
    CHECK(memchr(r->id, 0, sizeof r->id) && memchr(r->name, 0, sizeof r->name) &&
          memchr(r->email, 0, sizeof r->email));
    CHECK(r->id[0] && id_chars(r->id));
    CHECK(r->name[0] && g_utf8_validate(r->name, -1, NULL));
    for (const char *c = r->name; *c; c++) CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
    CHECK(r->role >= FB_ROLE_CHAIR && r->role <= FB_ROLE_OBSERVER);
    CHECK(!(r->role == FB_ROLE_OBSERVER && r->interactive));
    CHECK(!(r->role == FB_ROLE_CHAIR && !r->interactive));
    CHECK(r->line > prev && r->line <= lines);
    prev = r->line;
    for (int k = 0; k < i; k++) CHECK(strcmp(l.rows[k].id, r->id) != 0);
  }
  for (int i = 0; i < l.nproblems; i++)
    CHECK(l.problems[i].line >= 0 && l.problems[i].line <= lines && l.problems[i].code[0]);
  fb_reg_free(&l);
  return 0;
}
