/*
 * test_config_floor.c — the config keys of floor control and its neighbours
 * ([floor] max_live ... auto_cut, [chat], [store], [webcast]): ranges and
 * errors with FILE:LINE, the sessions list (NAME:MODE, trimming, limits), the
 * [meeting] open_floor alias (and setting both being a duplicate), --set, and
 * the cross-key checks (floor max_live against the mixer's, start_session
 * inside the list). test_config.c covers the rest and the shipped demo.conf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "check.h"

static char err[1024];

static int parse(fb_config *cfg, const char *text) {
  fb_config_defaults(cfg);
  err[0] = '\0';
  return fb_config_parse(cfg, "t.conf", text, err, sizeof err);
}

/* Parsing text must fail with a message starting with prefix and containing
 * what (when not NULL), and must leave the config as it was. */
static void expect_error(const char *text, const char *prefix, const char *what) {
  fb_config cfg, before;
  fb_config_defaults(&cfg);
  before = cfg;
  err[0] = '\0';
  int rc = fb_config_parse(&cfg, "t.conf", text, err, sizeof err);
  CHECK(rc == -1, "expected failure for: %s", text);
  CHECK(strncmp(err, prefix, strlen(prefix)) == 0, "want prefix '%s', got '%s'", prefix, err);
  if (what) CHECK(strstr(err, what) != NULL, "want '%s' in '%s'", what, err);
  CHECK(memcmp(&cfg, &before, sizeof cfg) == 0, "config changed by failed parse of: %s", text);
}

static void test_floor_errors(void) {
  /* floor control, chat, store, webcast */
  expect_error("[floor]\nmax_live = 65\n", "t.conf:2: [floor] max_live: ", "0..64");
  expect_error("[floor]\nopen_floor = maybe\n", "t.conf:2: [floor] open_floor: ", NULL);
  expect_error("[floor]\nopen_floor = true\n[meeting]\nopen_floor = false\n",
               "t.conf:4: [meeting] open_floor: ",
               "duplicate key (already set on line 2 as "
               "[floor] open_floor)");
  expect_error("[floor]\nsessions = \n", "t.conf:2: [floor] sessions: ", "empty item");
  expect_error("[floor]\nsessions = Plenary\n", "t.conf:2: [floor] sessions: ", "':MODE'");
  expect_error("[floor]\nsessions = Plenary:loud\n",
               "t.conf:2: [floor] sessions: ", "interactive or webcast");
  expect_error("[floor]\nsessions = A:webcast,,B:interactive\n",
               "t.conf:2: [floor] sessions: ", "empty item");
  expect_error("[floor]\nsessions = :webcast\n", "t.conf:2: [floor] sessions: ", "without a name");
  expect_error("[floor]\nsessions = A:b:webcast\n", "t.conf:2: [floor] sessions: ", NULL);
  expect_error("[floor]\nstart_session = 32\n", "t.conf:2: [floor] start_session: ", "0..31");
  expect_error("[floor]\nmin_mos = 5.5\n", "t.conf:2: [floor] min_mos: ", "1..5");
  expect_error("[floor]\nmax_loss_pct = -1\n", "t.conf:2: [floor] max_loss_pct: ", "0..100");
  expect_error("[floor]\nflag_after_ms = soon\n", "t.conf:2: [floor] flag_after_ms: ", NULL);
  expect_error("[floor]\nauto_cut = 2\n", "t.conf:2: [floor] auto_cut: ", NULL);
  expect_error("[chat]\nmax_length = 0\n", "t.conf:2: [chat] max_length: ", "1..10000");
  expect_error("[chat]\nper_minute = 601\n", "t.conf:2: [chat] per_minute: ", "1..600");
  expect_error("[chat]\nenable = true\n", "t.conf:2: [chat] enable: ",
               "unknown key (valid here: enabled, delegates_to_all, max_length, per_minute)");
  expect_error("[store]\nfile = x.db\n", "t.conf:2: [store] file: ", "valid here: path");
  expect_error("[webcast]\npath = /srv/hls\n", "t.conf:2: [webcast] path: ", "valid here: dir");
}

static void test_floor_values(void) {
  fb_config c;
  int rc = parse(&c,
                 "[floor]\n"
                 "max_live = 4\n"
                 "open_floor = yes\n"
                 "sessions = \" Opening plenary : webcast ,Working party 1:interactive, "
                 "Closing plenary:WEBCAST \"\n"
                 "start_session = 2\n"
                 "min_mos = 3.5\n"
                 "max_loss_pct = 5.5\n"
                 "flag_after_ms = 0\n"
                 "recover_after_ms = 600000\n"
                 "auto_cut = on\n"
                 "[chat]\n"
                 "enabled = no\n"
                 "delegates_to_all = off\n"
                 "max_length = 10000\n"
                 "per_minute = 1\n"
                 "[store]\n"
                 "path = /var/lib/floorbridge/sg12.db\n"
                 "[webcast]\n"
                 "dir = /var/lib/floorbridge/hls\n");
  CHECK(rc == 0, "floor values parse: %s", err);
  CHECK(c.floor_max_live == 4 && c.open_floor == 1 && c.floor_start_session == 2 &&
            c.floor_min_mos == 3.5 && c.floor_max_loss_pct == 5.5 && c.floor_flag_after_ms == 0 &&
            c.floor_recover_after_ms == 600000 && c.floor_auto_cut == 1,
        "floor values");
  CHECK(!c.chat_enabled && !c.chat_delegates_to_all && c.chat_max_length == 10000 &&
            c.chat_per_minute == 1,
        "chat values");
  CHECK(strcmp(c.store_path, "/var/lib/floorbridge/sg12.db") == 0 &&
            strcmp(c.webcast_dir, "/var/lib/floorbridge/hls") == 0,
        "store '%s' webcast '%s'", c.store_path, c.webcast_dir);
  fb_session_spec ss[FB_MAX_SESSIONS];
  const char *why = NULL;
  int n = fb_config_sessions(c.floor_sessions, ss, FB_MAX_SESSIONS, &why);
  CHECK(n == 3 && strcmp(ss[0].name, "Opening plenary") == 0 && ss[0].webcast &&
            strcmp(ss[1].name, "Working party 1") == 0 && !ss[1].webcast &&
            strcmp(ss[2].name, "Closing plenary") == 0 && ss[2].webcast,
        "sessions parsed (%d, %s): '%s' '%s' '%s'", n, why ? why : "", ss[0].name, ss[1].name,
        ss[2].name);
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "floor values validate: %s", err);
  /* the old name still works */
  CHECK(parse(&c, "[meeting]\nopen_floor = true\n") == 0 && c.open_floor == 1,
        "[meeting] open_floor alias: %s", err);
  CHECK(fb_config_set(&c, "meeting.open_floor=false", err, sizeof err) == 0 && c.open_floor == 0,
        "--set meeting.open_floor: %s", err);
  CHECK(fb_config_set(&c, "floor.open_floor=true", err, sizeof err) == 0 && c.open_floor == 1,
        "--set floor.open_floor: %s", err);
  CHECK(fb_config_set(&c, "floor.sessions=A:webcast, B:interactive", err, sizeof err) == 0 &&
            fb_config_set(&c, "floor.start_session=1", err, sizeof err) == 0 &&
            fb_config_validate(&c, err, sizeof err) == 0,
        "--set sessions: %s", err);
  CHECK(fb_config_set(&c, "floor.sessions=A:nope", err, sizeof err) == -1 &&
            strstr(err, "--set floor.sessions: "),
        "--set bad sessions: %s", err);
  /* 32 sessions fit, 33 do not */
  char many[2048] = "";
  for (int i = 0; i < 33; i++)
    snprintf(many + strlen(many), sizeof many - strlen(many), "%sS%d:interactive", i ? "," : "", i);
  CHECK(fb_config_sessions(many, NULL, 0, &why) == -1 && strstr(why, "at most 32"), "33: %s", why);
  *strrchr(many, ',') = '\0';
  CHECK(fb_config_sessions(many, ss, FB_MAX_SESSIONS, &why) == 32, "32 sessions");
}

static void test_floor_validate(void) {
  fb_config c;
  fb_config_defaults(&c);
  c.floor_max_live = c.max_live + 1;
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[floor] max_live") &&
            strstr(err, "[mixer] max_live"),
        "floor max_live above the mixer's: '%s'", err);
  c.floor_max_live = c.max_live;
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "equal is fine: %s", err);
  c.floor_start_session = 1;
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[floor] start_session"),
        "start_session past the list: '%s'", err);
  strcpy(c.floor_sessions, "A:webcast,B:interactive");
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "start_session 1 of 2: %s", err);
  strcpy(c.floor_sessions, "A:loud");
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[floor] sessions"),
        "bad sessions built in code: '%s'", err);
}

int main(void) {
  test_floor_errors();
  test_floor_values();
  test_floor_validate();
  return CHECK_DONE();
}
