/*
 * test_config.c — the config reader: defaults, the shipped demo config, every
 * class of error with its FILE:LINE and key, value cleaning (quotes, trailing
 * comments, pipelines with '=' and '!'), --set overrides and cross-key checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/log.h"
#include "check.h"

static char err[1024];

/* Parse text over defaults into *cfg; returns parse's result. */
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

static void test_defaults(void) {
  fb_config c;
  fb_config_defaults(&c);
  CHECK(strcmp(c.bind, "127.0.0.1") == 0, "bind %s", c.bind);
  CHECK(c.media_port == 40000, "media_port %d", c.media_port);
  CHECK(c.control_socket[0] == '\0', "control_socket '%s'", c.control_socket);
  CHECK(c.log_level == FB_LOG_INFO, "log_level %d", c.log_level);
  CHECK(c.max_participants == 4000, "max_participants %d", c.max_participants);
  CHECK(c.bitrate == 32000 && c.complexity == 5 && c.max_live == 8, "mixer ints");
  CHECK(c.per_participant_encode == 0, "per_participant_encode");
  CHECK(c.jitter_max_ms == 200, "jitter_max_ms %d", c.jitter_max_ms);
  CHECK(c.limiter_threshold_db == -1.0, "limiter %g", c.limiter_threshold_db);
  CHECK(c.tick_cpu == -1 && c.tick_priority == 0, "tick_cpu %d, tick_priority %d", c.tick_cpu,
        c.tick_priority);
  CHECK(strcmp(c.floor_pipeline, "builtin:speech") == 0, "floor '%s'", c.floor_pipeline);
  CHECK(c.floor_restart_ms == 1000 && c.floor_stall_ms == 1000, "floor timings");
  CHECK(c.pa_pipeline[0] == '\0' && c.rec_pipeline[0] == '\0', "outputs disabled");
  CHECK(c.n_participants == 0, "participants %d", c.n_participants);
  CHECK(c.sig_enabled == 1 && strcmp(c.sig_bind, "127.0.0.1") == 0 && c.sig_port == 8080,
        "signalling %d %s:%d", c.sig_enabled, c.sig_bind, c.sig_port);
  CHECK(strcmp(c.sig_www, "web") == 0 && !c.sig_tls_cert[0] && !c.sig_tls_key[0], "www/tls");
  CHECK(c.sig_max_message_bytes == 65536 && c.sig_max_conns_per_ip == 50, "signalling limits");
  CHECK(strcmp(c.meeting_id, "demo") == 0 && !c.token_secret[0] && !c.token_secret_file[0] &&
            c.open_floor == 0,
        "meeting '%s'", c.meeting_id);
  CHECK(!c.webrtc_public_ip[0] && c.webrtc_consent_timeout_s == 30, "webrtc");
  CHECK(!c.turn_urls[0] && !c.turn_secret[0] && c.turn_ttl_s == 3600, "turn");
  CHECK(c.floor_max_live == 0 && strcmp(c.floor_sessions, "Meeting:interactive") == 0 &&
            c.floor_start_session == 0 && c.floor_min_mos == 3.0 && c.floor_max_loss_pct == 10 &&
            c.floor_flag_after_ms == 3000 && c.floor_recover_after_ms == 5000 &&
            c.floor_auto_cut == 0,
        "floor control defaults ('%s')", c.floor_sessions);
  CHECK(c.chat_enabled == 1 && c.chat_delegates_to_all == 1 && c.chat_max_length == 500 &&
            c.chat_per_minute == 20,
        "chat defaults");
  CHECK(!c.store_path[0] && !c.webcast_dir[0], "store and webcast off by default");
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "defaults validate: %s", err);
  CHECK(parse(&c, "") == 0 && c.bitrate == 32000, "empty file: %s", err);
}

static void test_demo(void) {
  const char *src = getenv("FB_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/demo.conf", src ? src : ".");
  fb_config c;
  fb_config_defaults(&c);
  int rc = fb_config_load(&c, path, err, sizeof err);
  CHECK(rc == 0, "demo.conf loads: %s", err);
  if (rc) return;
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "demo.conf validates: %s", err);
  CHECK(strcmp(c.bind, "127.0.0.1") == 0 && c.media_port == 40000, "demo media address");
  CHECK(strcmp(c.control_socket, "floorbridge.sock") == 0, "demo socket '%s'", c.control_socket);
  CHECK(strcmp(c.floor_pipeline, "builtin:speech") == 0, "demo floor '%s'", c.floor_pipeline);
  CHECK(strcmp(c.pa_pipeline,
               "opusenc bitrate=32000 ! oggmux ! filesink location=floorbridge-pa.ogg") == 0,
        "demo pa '%s'", c.pa_pipeline);
  CHECK(strcmp(c.rec_pipeline,
               "opusenc bitrate=64000 ! oggmux ! filesink location=floorbridge-recording.ogg") == 0,
        "demo recording '%s'", c.rec_pipeline);
  CHECK(c.n_participants == 0, "demo has no static participants");
  CHECK(c.sig_enabled && c.sig_port == 8080 && strcmp(c.sig_www, "web") == 0, "demo signalling");
  CHECK(strcmp(c.meeting_id, "demo") == 0 &&
            strcmp(c.token_secret, "demo-secret-not-for-production-0123456789") == 0,
        "demo meeting '%s' secret '%s'", c.meeting_id, c.token_secret);
  fb_session_spec ss[FB_MAX_SESSIONS];
  int ns = fb_config_sessions(c.floor_sessions, ss, FB_MAX_SESSIONS, NULL);
  CHECK(ns == 3 && c.floor_start_session == 1 && !ss[c.floor_start_session].webcast &&
            ss[0].webcast && ss[2].webcast,
        "demo sessions: webcast plenaries around an interactive session it starts in ('%s')",
        c.floor_sessions);
  CHECK(strcmp(c.store_path, "floorbridge.db") == 0 && c.open_floor == 0, "demo store '%s'",
        c.store_path);

  /* Every key the parser knows appears (uncommented) in demo.conf: setting each
   * key twice through the file must hit "duplicate key", never "unknown key". */
  static const char *all[] = {"bridge bind",
                              "bridge media_port",
                              "bridge control_socket",
                              "bridge log_level",
                              "bridge max_participants",
                              "mixer bitrate",
                              "mixer complexity",
                              "mixer max_live",
                              "mixer per_participant_encode",
                              "mixer jitter_max_ms",
                              "mixer limiter_threshold_db",
                              "mixer tick_cpu",
                              "mixer tick_priority",
                              "floor pipeline",
                              "floor restart_delay_ms",
                              "floor stall_timeout_ms",
                              "pa pipeline",
                              "recording pipeline",
                              "signalling enabled",
                              "signalling bind",
                              "signalling port",
                              "signalling www",
                              "signalling tls_cert",
                              "signalling tls_key",
                              "signalling max_message_bytes",
                              "signalling max_connections_per_ip",
                              "meeting id",
                              "meeting token_secret",
                              "meeting token_secret_file",
                              "floor open_floor",
                              "webrtc public_ip",
                              "webrtc consent_timeout_s",
                              "turn urls",
                              "turn secret",
                              "turn ttl_s",
                              "floor max_live",
                              "floor sessions",
                              "floor start_session",
                              "floor min_mos",
                              "floor max_loss_pct",
                              "floor flag_after_ms",
                              "floor recover_after_ms",
                              "floor auto_cut",
                              "chat enabled",
                              "chat delegates_to_all",
                              "chat max_length",
                              "chat per_minute",
                              "store path",
                              "webcast dir"};
  FILE *f = fopen(path, "r");
  char text[65536];
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  text[n] = '\0';
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
    char sec[32], key[64], want[128];
    sscanf(all[i], "%31s %63s", sec, key);
    snprintf(want, sizeof want, "[%s]", sec);
    char *at = strstr(text, want);
    CHECK(at != NULL, "demo.conf has section %s", want);
    snprintf(want, sizeof want, "\n%s = ", key);
    CHECK(at && strstr(at, want), "demo.conf sets %s in [%s]", key, sec);
  }
  /* the commented-out participant example parses once uncommented */
  char *ex = strstr(text, "# [participant room-gateway]");
  CHECK(ex != NULL, "demo.conf has a [participant room-gateway] example");
  if (ex) {
    char block[4096] = "", line[512];
    for (char *p = ex; *p && strlen(block) < sizeof block - 600;) {
      char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      snprintf(line, sizeof line, "%.*s\n", (int)len, p + (len >= 2 && p[1] == ' ' ? 2 : 1));
      strcat(block, line);
      p = nl ? nl + 1 : p + len;
    }
    CHECK(parse(&c, block) == 0, "uncommented example parses: %s\n%s", err, block);
    CHECK(c.n_participants == 1 && strcmp(c.participants[0].name, "room-gateway") == 0 &&
              c.participants[0].port == 5004 && c.participants[0].payload_type == 111,
          "example participant");
  }
}

static void test_errors(void) {
  expect_error("[mixer]\nbitrate = fast\n",
               "t.conf:2: [mixer] bitrate: ", "expected an integer in 6000..510000, got 'fast'");
  expect_error("[mixer]\ncomplexity = 5\n\nbitrate = 5999\n",
               "t.conf:4: [mixer] bitrate: ", "6000..510000");
  expect_error("[mixer]\nbitrate = 510001\n", "t.conf:2: [mixer] bitrate: ", "510001");
  expect_error("[bridge]\nmedia_port = 65536\n", "t.conf:2: [bridge] media_port: ", "0..65535");
  expect_error("[bridge]\nmedia_port = 12x\n", "t.conf:2: [bridge] media_port: ", "'12x'");
  expect_error("[bridge]\nmedia_port =\n", "t.conf:2: [bridge] media_port: ", "got ''");
  expect_error("[mixer]\nmax_live = 0\n", "t.conf:2: [mixer] max_live: ", "1..64");
  expect_error("[mixer]\ntick_cpu = -2\n", "t.conf:2: [mixer] tick_cpu: ", "-1..1023");
  expect_error("[mixer]\ntick_priority = 100\n", "t.conf:2: [mixer] tick_priority: ", "0..99");
  expect_error("[mixer]\nlimiter_threshold_db = 0.5\n",
               "t.conf:2: [mixer] limiter_threshold_db: ", "-20..0");
  expect_error("[mixer]\nlimiter_threshold_db = loud\n",
               "t.conf:2: [mixer] limiter_threshold_db: ", "'loud'");
  expect_error("[floor]\nrestart_delay_ms = 10\n",
               "t.conf:2: [floor] restart_delay_ms: ", "50..60000");
  expect_error("[mixer]\nper_participant_encode = maybe\n",
               "t.conf:2: [mixer] per_participant_encode: ", "'maybe'");
  expect_error("[bridge]\nlog_level = verbose\n", "t.conf:2: [bridge] log_level: ", "'verbose'");
  expect_error("[bridge]\nbind = 300.1.1.1\n", "t.conf:2: [bridge] bind: ", "'300.1.1.1'");
  expect_error("[mixer]\nbitrat = 32000\n", "t.conf:2: [mixer] bitrat: ", "unknown key");
  expect_error("[mixer]\nbitrat = 32000\n", "t.conf:2: [mixer] bitrat: ", "bitrate");
  expect_error("[mixr]\nbitrate = 32000\n", "t.conf:1: unknown section [mixr]", NULL);
  expect_error("[mixer]\nbitrate = 24000\nbitrate = 32000\n",
               "t.conf:3: [mixer] bitrate: ", "duplicate key (already set on line 2)");
  expect_error("[mixer]\nbitrate = 24000\n[floor]\n[mixer]\nbitrate = 32000\n",
               "t.conf:5: [mixer] bitrate: ", "duplicate");
  expect_error("[mixer]\nbitrate 24000\n", "t.conf:2: expected 'key = value'", NULL);
  expect_error("[mixer]\n = 24000\n", "t.conf:2: missing key", NULL);
  expect_error("bitrate = 24000\n", "t.conf:1: bitrate: key outside any section", NULL);
  expect_error("# top\n[mixer\nbitrate = 24000\n", "t.conf:2: unterminated section header", NULL);
  expect_error("[mixer] bitrate = 1\n", "t.conf:1: unexpected text after ']'", NULL);
  expect_error("[participant bad/name]\nremote = 127.0.0.1:5000\n",
               "t.conf:1: [participant bad/name]: bad participant name", NULL);
  expect_error("[participant]\n", "t.conf:1: [participant]: ", "needs a name");
  char longname[128] = "[participant ";
  memset(longname + 13, 'a', 64);
  strcpy(longname + 77, "]\nremote = 127.0.0.1:5000\n");
  expect_error(longname, "t.conf:1: [participant aaaa", "bad participant name");
  expect_error("[participant a]\nremote = 127.0.0.1\n",
               "t.conf:2: [participant a] remote: ", "expected HOST:PORT");
  expect_error("[participant a]\nremote = 127.0.0.1:0\n",
               "t.conf:2: [participant a] remote: ", NULL);
  expect_error("[participant a]\nremote = ::1:5000\n", "t.conf:2: [participant a] remote: ", NULL);
  expect_error("[participant a]\nremote = example.org:5000\n",
               "t.conf:2: [participant a] remote: ", "'example.org:5000'");
  expect_error("[participant a]\nlive = true\n\n[mixer]\n",
               "t.conf:1: [participant a]: ", "missing remote");
  expect_error("[participant a]\nlive = true\n", "t.conf:1: [participant a]: ", "missing remote");
  expect_error("[participant a]\nremote = 127.0.0.1:5000\npayload_type = 8\n",
               "t.conf:3: [participant a] payload_type: ", "96..127");
  expect_error(
      "[participant a]\nremote = 127.0.0.1:5000\n\n[participant a]\nremote = 127.0.0.1:5002\n",
      "t.conf:4: [participant a]: duplicate participant name", NULL);
  expect_error(
      "[participant a]\nremote = 127.0.0.1:5000\n[participant b]\nremote = localhost:5000\n",
      "t.conf:4: [participant b] remote: ", "participant 'a'");
  expect_error("[participant a]\nremote = [::1]:5000\n[participant b]\nremote = [0:0::1]:5000\n",
               "t.conf:4: [participant b] remote: ", "participant 'a'");
  expect_error("[pa]\npipeline = \"wavenc ! filesink\n",
               "t.conf:2: [pa] pipeline: ", "unterminated double quote");

  char big[3000];
  int n = snprintf(big, sizeof big, "[floor]\npipeline = ");
  memset(big + n, 'x', 2000);
  strcpy(big + n + 2000, "\n");
  expect_error(big, "t.conf:2: [floor] pipeline: ", "at most 1023");
  char sock[300];
  n = snprintf(sock, sizeof sock, "[bridge]\ncontrol_socket = /");
  memset(sock + n, 's', 120);
  strcpy(sock + n + 120, "\n");
  expect_error(sock, "t.conf:2: [bridge] control_socket: ", "at most 107");

  expect_error("[pa]\npipeline = appsrc name=fbsrc ! fakesink\n",
               "t.conf:2: [pa] pipeline: ", "fbsrc");
  expect_error("[floor]\npipeline =\n", "t.conf:2: [floor] pipeline: ", "empty");
  expect_error("[floor]\npipeline = builtin:noise\n", "t.conf:2: [floor] pipeline: ", "builtin");
  expect_error("[floor]\npipeline = builtin:tone:5\n", "t.conf:2: [floor] pipeline: ", NULL);

  /* signalling, meeting, webrtc, turn */
  expect_error("[signalling]\nport = 65536\n", "t.conf:2: [signalling] port: ", "0..65535");
  expect_error("[signalling]\nbind = example.org\n",
               "t.conf:2: [signalling] bind: ", "'example.org'");
  expect_error("[signalling]\nmax_message_bytes = 1023\n",
               "t.conf:2: [signalling] max_message_bytes: ", "1024..1048576");
  expect_error("[signalling]\nmax_message_bytes = 1048577\n",
               "t.conf:2: [signalling] max_message_bytes: ", "1024..1048576");
  expect_error("[signalling]\nmax_connections_per_ip = 0\n",
               "t.conf:2: [signalling] max_connections_per_ip: ", "1..100000");
  expect_error("[signalling]\nenabled = perhaps\n", "t.conf:2: [signalling] enabled: ", NULL);
  expect_error("[signalling]\nwebroot = web\n", "t.conf:2: [signalling] webroot: ",
               "unknown key (valid here: enabled, bind, port, www");
  expect_error("[meeting]\nid =\n", "t.conf:2: [meeting] id: ", "must not be empty");
  char longid[200];
  n = snprintf(longid, sizeof longid, "[meeting]\nid = ");
  memset(longid + n, 'm', 64);
  strcpy(longid + n + 64, "\n");
  expect_error(longid, "t.conf:2: [meeting] id: ", "at most 63");
  expect_error("[meeting]\ntoken_secret = short\n",
               "t.conf:2: [meeting] token_secret: ", "at least 16 characters");
  expect_error("[meeting]\nopen_floor = sometimes\n", "t.conf:2: [meeting] open_floor: ", NULL);
  expect_error("[webrtc]\npublic_ip = my.host\n", "t.conf:2: [webrtc] public_ip: ", "'my.host'");
  expect_error("[webrtc]\nconsent_timeout_s = 4\n",
               "t.conf:2: [webrtc] consent_timeout_s: ", "5..120");
  expect_error("[webrtc]\nconsent_timeout_s = 121\n",
               "t.conf:2: [webrtc] consent_timeout_s: ", "5..120");
  expect_error("[turn]\nurls = http://turn.example.org\n", "t.conf:2: [turn] urls: ", "turn:HOST");
  expect_error("[turn]\nurls = turn:a.example.org, turn\n", "t.conf:2: [turn] urls: ", NULL);
  expect_error("[turn]\nttl_s = 59\n", "t.conf:2: [turn] ttl_s: ", "60..604800");
  expect_error("[turns]\nurls = \n", "t.conf:1: unknown section [turns]", "signalling, meeting");

  fb_config c;
  CHECK(fb_config_load(&c, "/nonexistent/x.conf", err, sizeof err) == -1 &&
            strstr(err, "/nonexistent/x.conf: ") == err,
        "missing file: '%s'", err);
}

static void test_values(void) {
  fb_config c;
  int rc = parse(&c,
                 "# comment\n"
                 "; also a comment\n"
                 "  [bridge]   # trailing comment on a header\n"
                 "bind=0.0.0.0\n"
                 "control_socket = \"/run/fb/control.sock\"   # quoted, then a comment\n"
                 "log_level = DEBUG\n"
                 "\t media_port\t=\t0\t\r\n"
                 "[mixer]\n"
                 "bitrate = 24000 # comment\n"
                 "per_participant_encode = yes\n"
                 "limiter_threshold_db = -3.5\n"
                 "tick_cpu = +2\n"
                 "[floor]\n"
                 "pipeline = alsasrc device=hw:1,0 slave-method=resample ! queue max-size-time=0\n"
                 "[pa]\n"
                 "pipeline = \"wavenc ! filesink location=a#b.wav\"\n"
                 "[recording]\n"
                 "pipeline = \"opusenc ! oggmux\" ! filesink location=\"my rec #1.ogg\" # c\n"
                 "[participant room-gateway.1]\n"
                 "remote = localhost:5004\n"
                 "live = on\n"
                 "[participant v6_user]\n"
                 "remote = [::1]:6000 ; not a comment marker after a value\n");
  CHECK(rc == -1 && strstr(err, "t.conf:23: [participant v6_user] remote: "), "'; ' tail: %s", err);
  rc = parse(&c,
             "# comment\n"
             "; also a comment\n"
             "  [bridge]   # trailing comment on a header\n"
             "bind=0.0.0.0\n"
             "control_socket = \"/run/fb/control.sock\"   # quoted, then a comment\n"
             "log_level = DEBUG\n"
             "\t media_port\t=\t0\t\r\n"
             "[mixer]\n"
             "bitrate = 24000 # comment\n"
             "per_participant_encode = yes\n"
             "limiter_threshold_db = -3.5\n"
             "tick_cpu = +2\n"
             "[floor]\n"
             "pipeline = alsasrc device=hw:1,0 slave-method=resample ! queue max-size-time=0\n"
             "[pa]\n"
             "pipeline = \"wavenc ! filesink location=a#b.wav\"\n"
             "[recording]\n"
             "pipeline = \"opusenc ! oggmux\" ! filesink location=\"my rec #1.ogg\" # c\n"
             "[participant room-gateway.1]\n"
             "remote = localhost:5004\n"
             "live = on\n"
             "[participant v6_user]\n"
             "remote = [0:0::1]:6000\n"
             "payload_type = 96");
  CHECK(rc == 0, "values parse: %s", err);
  CHECK(strcmp(c.bind, "0.0.0.0") == 0, "bind '%s'", c.bind);
  CHECK(strcmp(c.control_socket, "/run/fb/control.sock") == 0, "socket '%s'", c.control_socket);
  CHECK(c.log_level == FB_LOG_DEBUG, "log_level %d", c.log_level);
  CHECK(c.media_port == 0, "media_port %d", c.media_port);
  CHECK(c.bitrate == 24000 && c.per_participant_encode == 1, "mixer");
  CHECK(c.limiter_threshold_db == -3.5 && c.tick_cpu == 2, "limiter/tick_cpu");
  CHECK(strcmp(c.floor_pipeline,
               "alsasrc device=hw:1,0 slave-method=resample ! queue max-size-time=0") == 0,
        "floor '%s'", c.floor_pipeline);
  CHECK(strcmp(c.pa_pipeline, "wavenc ! filesink location=a#b.wav") == 0, "pa '%s'", c.pa_pipeline);
  CHECK(strcmp(c.rec_pipeline, "\"opusenc ! oggmux\" ! filesink location=\"my rec #1.ogg\"") == 0,
        "inner quotes kept: '%s'", c.rec_pipeline);
  CHECK(c.n_participants == 2, "participants %d", c.n_participants);
  CHECK(strcmp(c.participants[0].name, "room-gateway.1") == 0, "name0");
  CHECK(strcmp(c.participants[0].host, "127.0.0.1") == 0 && c.participants[0].port == 5004,
        "localhost remote %s:%d", c.participants[0].host, c.participants[0].port);
  CHECK(c.participants[0].live == 1 && c.participants[0].payload_type == 111, "p0 live/pt");
  CHECK(strcmp(c.participants[1].host, "::1") == 0 && c.participants[1].port == 6000,
        "v6 remote %s:%d", c.participants[1].host, c.participants[1].port);
  CHECK(c.participants[1].live == 0 && c.participants[1].payload_type == 96, "p1 live/pt");
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "validates: %s", err);

  static const char *bools[][2] = {{"true", "1"}, {"false", "0"}, {"YES", "1"}, {"no", "0"},
                                   {"On", "1"},   {"off", "0"},   {"1", "1"},   {"0", "0"}};
  for (size_t i = 0; i < sizeof bools / sizeof *bools; i++) {
    char t[128];
    snprintf(t, sizeof t, "[mixer]\nper_participant_encode = %s\n", bools[i][0]);
    CHECK(parse(&c, t) == 0 && c.per_participant_encode == atoi(bools[i][1]), "bool %s: %s",
          bools[i][0], err);
  }
  CHECK(parse(&c, "[pa]\npipeline = \"\"\n") == 0 && c.pa_pipeline[0] == '\0', "empty quoted");
  CHECK(parse(&c, "[pa]\npipeline = \"a\" ! \"b\"\n") == 0 &&
            strcmp(c.pa_pipeline, "\"a\" ! \"b\"") == 0,
        "two quoted parts kept: '%s'", c.pa_pipeline);
  CHECK(parse(&c, "[floor]\npipeline = builtin:tone:440\n") == 0, "tone: %s", err);
  CHECK(parse(&c, "[bridge]\nbind = localhost\n") == 0 && strcmp(c.bind, "127.0.0.1") == 0,
        "bind localhost: %s", err);
  CHECK(parse(&c, "[bridge]\nbind = ::\n") == 0 && strcmp(c.bind, "::") == 0, "bind v6: %s", err);
  CHECK(parse(&c, "\xEF\xBB\xBF[mixer]\nbitrate = 6000") == 0 && c.bitrate == 6000, "BOM, no \\n");

  rc = parse(&c,
             "[signalling]\n"
             "enabled = off\n"
             "bind = ::\n"
             "port = 0\n"
             "www = /srv/floorbridge/web\n"
             "tls_cert = /etc/fb/cert.pem\n"
             "tls_key = \"/etc/fb/key.pem\"\n"
             "max_message_bytes = 1024\n"
             "max_connections_per_ip = 100000\n"
             "[meeting]\n"
             "id = SG12-2025-03 plenary\n"
             "token_secret = 0123456789abcdef\n"
             "token_secret_file = /etc/fb/secret\n"
             "open_floor = yes\n"
             "[webrtc]\n"
             "public_ip = 192.0.2.7\n"
             "consent_timeout_s = 5\n"
             "[turn]\n"
             "urls = \"turn:127.0.0.1:3478?transport=udp, turns:turn.example.org:5349\"\n"
             "secret = coturn-secret\n"
             "ttl_s = 60\n");
  CHECK(rc == 0, "signalling values parse: %s", err);
  CHECK(c.sig_enabled == 0 && strcmp(c.sig_bind, "::") == 0 && c.sig_port == 0, "sig bind");
  CHECK(strcmp(c.sig_www, "/srv/floorbridge/web") == 0, "www '%s'", c.sig_www);
  CHECK(strcmp(c.sig_tls_cert, "/etc/fb/cert.pem") == 0 &&
            strcmp(c.sig_tls_key, "/etc/fb/key.pem") == 0,
        "tls");
  CHECK(c.sig_max_message_bytes == 1024 && c.sig_max_conns_per_ip == 100000, "limits");
  CHECK(strcmp(c.meeting_id, "SG12-2025-03 plenary") == 0, "id '%s'", c.meeting_id);
  CHECK(strcmp(c.token_secret, "0123456789abcdef") == 0 &&
            strcmp(c.token_secret_file, "/etc/fb/secret") == 0 && c.open_floor == 1,
        "secret");
  CHECK(strcmp(c.webrtc_public_ip, "192.0.2.7") == 0 && c.webrtc_consent_timeout_s == 5, "webrtc");
  CHECK(
      strcmp(c.turn_urls, "turn:127.0.0.1:3478?transport=udp, turns:turn.example.org:5349") == 0 &&
          strcmp(c.turn_secret, "coturn-secret") == 0 && c.turn_ttl_s == 60,
      "turn '%s'", c.turn_urls);
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "validates: %s", err);
  CHECK(parse(&c, "[webrtc]\npublic_ip = \"\"\n[turn]\nurls = stun:stun.example.org\n") == 0 &&
            !c.webrtc_public_ip[0],
        "empty public_ip: %s", err);
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "stun: needs no secret: %s", err);

  char ip[64];
  fb_config_defaults(&c);
  fb_config_candidate_ip(&c, ip, sizeof ip);
  CHECK(strcmp(ip, "127.0.0.1") == 0, "candidate from bind: %s", ip);
  strcpy(c.bind, "0.0.0.0");
  fb_config_candidate_ip(&c, ip, sizeof ip);
  CHECK(strcmp(ip, "127.0.0.1") == 0, "wildcard v4 bind: %s", ip);
  strcpy(c.bind, "::");
  fb_config_candidate_ip(&c, ip, sizeof ip);
  CHECK(strcmp(ip, "127.0.0.1") == 0, "wildcard v6 bind: %s", ip);
  strcpy(c.bind, "10.1.2.3");
  fb_config_candidate_ip(&c, ip, sizeof ip);
  CHECK(strcmp(ip, "10.1.2.3") == 0, "bind: %s", ip);
  strcpy(c.webrtc_public_ip, "203.0.113.9");
  fb_config_candidate_ip(&c, ip, sizeof ip);
  CHECK(strcmp(ip, "203.0.113.9") == 0, "public_ip wins: %s", ip);
}

static void test_set(void) {
  fb_config c;
  fb_config_defaults(&c);
  CHECK(fb_config_set(&c, "mixer.bitrate=24000", err, sizeof err) == 0 && c.bitrate == 24000,
        "set bitrate: %s", err);
  CHECK(fb_config_set(&c, " bridge.log_level = warn ", err, sizeof err) == 0 &&
            c.log_level == FB_LOG_WARN,
        "set spaced: %s", err);
  CHECK(fb_config_set(&c, "pa.pipeline=wavenc ! filesink location=x.wav", err, sizeof err) == 0 &&
            strcmp(c.pa_pipeline, "wavenc ! filesink location=x.wav") == 0,
        "set pipeline keeps '=' and '!': '%s'", c.pa_pipeline);
  CHECK(
      fb_config_set(&c, "mixer.bitrate=fast", err, sizeof err) == -1 &&
          strcmp(err, "--set mixer.bitrate: expected an integer in 6000..510000, got 'fast'") == 0,
      "bad set: '%s'", err);
  CHECK(c.bitrate == 24000, "failed set leaves the value");
  CHECK(fb_config_set(&c, "mixer.nope=1", err, sizeof err) == -1 &&
            strstr(err, "--set mixer.nope: unknown key") == err,
        "unknown key: '%s'", err);
  CHECK(fb_config_set(&c, "signalling.port=0", err, sizeof err) == 0 && c.sig_port == 0,
        "set signalling port: %s", err);
  CHECK(fb_config_set(&c, "meeting.id=SG 12", err, sizeof err) == 0 &&
            strcmp(c.meeting_id, "SG 12") == 0,
        "set meeting id: %s", err);
  CHECK(fb_config_set(&c, "meeting.token_secret=short", err, sizeof err) == -1 &&
            strstr(err, "--set meeting.token_secret: at least 16"),
        "set short secret: '%s'", err);
  CHECK(fb_config_set(&c, "mixr.bitrate=1", err, sizeof err) == -1 &&
            strstr(err, "--set mixr.bitrate: unknown section") == err,
        "unknown section: '%s'", err);
  CHECK(fb_config_set(&c, "bitrate=1", err, sizeof err) == -1 && strstr(err, "SECTION.KEY=VALUE"),
        "no section: '%s'", err);
  CHECK(fb_config_set(&c, "mixer.bitrate", err, sizeof err) == -1 && strstr(err, "SECTION.KEY"),
        "no '=': '%s'", err);

  /* participants: add one via --set, then it needs a remote */
  CHECK(fb_config_set(&c, "participant.desk.live=true", err, sizeof err) == 0 &&
            c.n_participants == 1 && c.participants[0].live == 1,
        "set adds participant: %s", err);
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[participant desk]") &&
            strstr(err, "remote"),
        "validate wants remote: '%s'", err);
  CHECK(fb_config_set(&c, "participant.desk.remote=192.0.2.1:5004", err, sizeof err) == 0 &&
            c.n_participants == 1 && c.participants[0].port == 5004,
        "set remote: %s", err);
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "now valid: %s", err);
  CHECK(fb_config_set(&c, "participant.other.remote=192.0.2.1:5004", err, sizeof err) == -1 &&
            strstr(err, "participant 'desk'") && c.n_participants == 1,
        "set duplicate address: '%s'", err);

  /* --set overrides what the file said, then validation sees the result */
  CHECK(parse(&c,
              "[participant a]\nremote = 127.0.0.1:5000\nlive = true\n"
              "[participant b]\nremote = 127.0.0.1:5002\nlive = true\n") == 0,
        "two live: %s", err);
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "two live valid: %s", err);
  CHECK(fb_config_set(&c, "mixer.max_live=1", err, sizeof err) == 0, "set max_live");
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[mixer] max_live"),
        "too many live: '%s'", err);
}

static void test_validate(void) {
  fb_config c;
  fb_config_defaults(&c);
  c.n_participants = 2;
  strcpy(c.participants[0].name, "x");
  strcpy(c.participants[0].host, "127.0.0.1");
  c.participants[0].port = 5000;
  c.participants[0].payload_type = 111;
  c.participants[1] = c.participants[0];
  c.participants[1].port = 5002;
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "duplicate participant name"),
        "dup name: '%s'", err);
  strcpy(c.participants[1].name, "y");
  c.participants[1].port = 5000;
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[participant y] remote"),
        "dup address: '%s'", err);
  c.participants[1].port = 5002;
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "ok: %s", err);
  strcpy(c.rec_pipeline, "appsink name=fbsink");
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[recording] pipeline"),
        "reserved name: '%s'", err);
  c.rec_pipeline[0] = '\0';
  c.bitrate = 1;
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[mixer] bitrate"),
        "range: '%s'", err);
  c.bitrate = 32000;
  strcpy(c.sig_tls_cert, "cert.pem");
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[signalling] tls_key") &&
            strstr(err, "both or neither"),
        "cert without key: '%s'", err);
  c.sig_tls_cert[0] = '\0';
  strcpy(c.sig_tls_key, "key.pem");
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[signalling] tls_cert"),
        "key without cert: '%s'", err);
  c.sig_tls_key[0] = '\0';
  strcpy(c.turn_urls, "turn:127.0.0.1:3478");
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[turn] secret"),
        "turn without secret: '%s'", err);
  strcpy(c.turn_secret, "s");
  CHECK(fb_config_validate(&c, err, sizeof err) == 0, "turn with secret: %s", err);
  strcpy(c.token_secret, "too-short");
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[meeting] token_secret"),
        "short secret: '%s'", err);
  c.token_secret[0] = '\0';
  c.meeting_id[0] = '\0';
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 && strstr(err, "[meeting] id"),
        "empty meeting: '%s'", err);
  strcpy(c.meeting_id, "demo");
  c.sig_max_message_bytes = 100;
  CHECK(fb_config_validate(&c, err, sizeof err) == -1 &&
            strstr(err, "[signalling] max_message_bytes"),
        "message size range: '%s'", err);
  c.sig_max_message_bytes = 65536;

  char host[64];
  int port;
  CHECK(fb_parse_hostport("10.0.0.1:1", host, sizeof host, &port) == 0 && port == 1, "v4");
  CHECK(fb_parse_hostport("[2001:db8::1]:65535", host, sizeof host, &port) == 0 &&
            strcmp(host, "2001:db8::1") == 0 && port == 65535,
        "v6 %s", host);
  CHECK(fb_parse_hostport("10.0.0.1:65536", host, sizeof host, &port) == -1, "port range");
  CHECK(fb_parse_hostport("10.0.0.1:", host, sizeof host, &port) == -1, "no port");
  CHECK(fb_parse_hostport("10.0.0.1:-5", host, sizeof host, &port) == -1, "negative port");
  CHECK(fb_parse_hostport("[::1:5000", host, sizeof host, &port) == -1, "open bracket");
  CHECK(fb_parse_hostport(":5000", host, sizeof host, &port) == -1, "no host");
  CHECK(fb_config_valid_name("a.b_c-D9") && !fb_config_valid_name("") &&
            !fb_config_valid_name("a b") && !fb_config_valid_name("ä"),
        "names");
}

int main(void) {
  test_defaults();
  test_demo();
  test_errors();
  test_values();
  test_set();
  test_validate();
  return CHECK_DONE();
}
