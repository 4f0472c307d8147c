/*
 * config.h — the bridge configuration: one INI-style file, every key with a
 * default, CLI flags override.
 *
 * Format (see configs/demo.conf for every key, commented):
 *   # comment            ; comment
 *   [section]            [participant NAME]
 *   key = value          (value runs to end of line; surrounding spaces trimmed;
 *                         double quotes optional and stripped)
 *
 * Values: a '#' preceded by a blank and outside double quotes starts a trailing
 * comment. One pair of double quotes enclosing the whole value (and no other
 * quote) is stripped; quotes inside a value are kept, so a GStreamer pipeline
 * with location="a b.wav" can be written as it is. Booleans: true/false,
 * yes/no, on/off, 1/0. A key may be set once per section; an unterminated
 * quote, an over-long value or a value out of range is an error.
 *
 * Errors name the file, line and key: "demo.conf:12: [mixer] bitrate: expected
 * an integer in 6000..510000, got 'fast'". Unknown sections and keys are errors
 * too (a typo must not silently fall back to a default).
 *
 * The parser is hand-written (about 300 lines) because GLib's GKeyFile cannot
 * tell us the line a bad value sits on, and that line is the whole point of
 * --check-config.
 */
#ifndef FB_CONFIG_H
#define FB_CONFIG_H

#include <stddef.h>

#define FB_MAX_STATIC_PARTICIPANTS 64
#define FB_NAME_MAX 64
#define FB_PIPELINE_MAX 1024
#define FB_PATH_MAX 512

typedef struct {
  char name[FB_NAME_MAX]; /* from [participant NAME]; letters, digits, - _ . */
  char host[64];          /* remote = HOST:PORT (IPv4 or IPv6 literal, [v6]:port);
                                stored canonical (inet_ntop), "localhost" as 127.0.0.1 */
  int port;
  int live;         /* live = true: on the floor from the start */
  int payload_type; /* payload_type = 111 */
} fb_participant_config;

typedef struct {
  /* [bridge] */
  char bind[64];                    /* bind = 127.0.0.1 — media UDP address (IPv4/IPv6 literal;
                                "localhost" is stored as 127.0.0.1) */
  int media_port;                   /* media_port = 40000 */
  char control_socket[FB_PATH_MAX]; /* control_socket = "" (disabled); at most 107
                                       characters (a Unix socket path) */
  int log_level;                    /* log_level = info */
  int max_participants;             /* max_participants = 4000 */

  /* [mixer] */
  int bitrate;                 /* bitrate = 32000 */
  int complexity;              /* complexity = 5 */
  int max_live;                /* max_live = 8 */
  int per_participant_encode;  /* per_participant_encode = false (comparison only) */
  int jitter_max_ms;           /* jitter_max_ms = 200 */
  double limiter_threshold_db; /* limiter_threshold_db = -1.0 */
  int tick_cpu;                /* tick_cpu = -1 (no pinning); pin the mixer thread to a core */
  int tick_priority; /* tick_priority = 0 (normal); 1..99: SCHED_FIFO priority of the mixer thread */

  /* [floor] */
  char floor_pipeline[FB_PIPELINE_MAX]; /* pipeline = builtin:speech; not empty;
                                            builtin:speech or builtin:tone:HZ (20..20000)
                                            or a GStreamer source description */
  int floor_restart_ms;                 /* restart_delay_ms = 1000 */
  int floor_stall_ms;                   /* stall_timeout_ms = 1000 */
  /* [floor] — floor control (signalling/floor.h): who may speak, sessions */
  int floor_max_live;         /* max_live = 0 (0: the same as [mixer] max_live; at most that) */
  int open_floor;             /* open_floor = false (true: delegates and the chair are given
                                the floor automatically on join, if there is room;
                                [meeting] open_floor is accepted as an alias) */
  char floor_sessions[1024];  /* sessions = "Meeting:interactive" (NAME:MODE, comma-separated;
                                MODE interactive or webcast; see fb_config_sessions) */
  int floor_start_session;    /* start_session = 0 (index into sessions, from 0) */
  double floor_min_mos;       /* min_mos = 3.0 (1..5) */
  double floor_max_loss_pct;  /* max_loss_pct = 10 (0..100) */
  int floor_flag_after_ms;    /* flag_after_ms = 3000 */
  int floor_recover_after_ms; /* recover_after_ms = 5000 */
  int floor_auto_cut;         /* auto_cut = false */

  /* [pa] */
  char pa_pipeline[FB_PIPELINE_MAX]; /* pipeline = "" (disabled) */

  /* [recording] */
  char rec_pipeline[FB_PIPELINE_MAX]; /* pipeline = "" (disabled) */

  /* [signalling] — the browsers' web server: pages, /healthz, WebSocket /ws */
  int sig_enabled;                /* enabled = true */
  char sig_bind[64];              /* bind = 127.0.0.1 (IPv4/IPv6 literal; localhost -> 127.0.0.1) */
  int sig_port;                   /* port = 8080 (0 = ephemeral, logged at start) */
  char sig_www[FB_PATH_MAX];      /* www = web (directory of the pages, relative to the cwd) */
  char sig_tls_cert[FB_PATH_MAX]; /* tls_cert = "" (PEM; with tls_key: https/wss) */
  char sig_tls_key[FB_PATH_MAX];  /* tls_key = "" (both or neither) */
  int sig_max_message_bytes;      /* max_message_bytes = 65536 (1024..1048576) */
  int sig_max_conns_per_ip;       /* max_connections_per_ip = 50 (1..100000) */

  /* [meeting] */
  char meeting_id[64];                 /* id = demo (the "mtg" claim tokens must carry) */
  char token_secret[256];              /* token_secret = "" (at least 16 characters when set; empty
                                means every join is refused unless token_secret_file) */
  char token_secret_file[FB_PATH_MAX]; /* token_secret_file = "" (wins over token_secret) */
  char
      revoked_file[FB_PATH_MAX]; /* revoked_file = "" (revoked token ids / delegates, one a line) */

  /* [webrtc] */
  char webrtc_public_ip[64];    /* public_ip = "" (ICE candidate address; "" = see
                                fb_config_candidate_ip) */
  int webrtc_consent_timeout_s; /* consent_timeout_s = 30 (5..120) */

  /* [turn] — TURN REST credentials handed to browsers in "joined" */
  char turn_urls[1024];  /* urls = "" (comma-separated turn:/turns:/stun: URLs) */
  char turn_secret[256]; /* secret = "" (coturn static-auth-secret) */
  int turn_ttl_s;        /* ttl_s = 3600 (60..604800) */

  /* [chat] — the meeting chat beside the audio */
  int chat_enabled;          /* enabled = true */
  int chat_delegates_to_all; /* delegates_to_all = true (the chair can change it live) */
  int chat_max_length;       /* max_length = 500 (UTF-8 bytes, 1..10000) */
  int chat_per_minute;       /* per_minute = 20 (messages per connection, 1..600) */

  /* [store] — SQLite: bars, queue, session/mode, audit log, speaking time */
  char store_path[FB_PATH_MAX]; /* path = "" (no persistence) */

  /* [webcast] — the mix as HLS, written here and served at /webcast/ */
  char webcast_dir[FB_PATH_MAX]; /* dir = "" (no webcast) */

  int n_participants;
  fb_participant_config participants[FB_MAX_STATIC_PARTICIPANTS];
} fb_config;

/* One session of the meeting from [floor] sessions. */
#define FB_MAX_SESSIONS 32
typedef struct {
  char name[64];
  int webcast; /* 1: webcast-only (nobody remote speaks); 0: interactive */
} fb_session_spec;

/* Parse a [floor] sessions list "NAME:MODE, NAME:MODE, ..." (MODE interactive
 * or webcast, NAME 1..63 bytes without ',' ':' or control characters, blanks
 * around items trimmed) into out (up to max; out may be NULL to only check).
 * Returns the number of sessions (>= 1), or -1 with a static reason in *why. */
int fb_config_sessions(const char *spec, fb_session_spec *out, int max, const char **why);

/* The token secret of the shipped demo config: refused whenever the bridge
 * listens beyond loopback. */
#define FB_DEMO_TOKEN_SECRET "demo-secret-not-for-production-0123456789"

/* Fill cfg with every default. */
void fb_config_defaults(fb_config *cfg);

/* Load path over the defaults already in cfg. Returns 0, or -1 with a message
 * "FILE:LINE: [section] key: what is wrong" in err (errlen bytes); syntax
 * errors read "FILE:LINE: what is wrong". On error cfg is left unchanged.
 * Problems that only exist between keys are left to fb_config_validate, except
 * duplicate participant names and addresses, which are reported with a line. */
int fb_config_load(fb_config *cfg, const char *path, char *err, size_t errlen);

/* Parse text (named `name` in messages) over cfg; same contract as load. */
int fb_config_parse(fb_config *cfg, const char *name, const char *text, char *err, size_t errlen);

/* Apply one "section.key=value" override (from --set on the command line), with
 * the same checks as the file. "participant.NAME.key=value" sets a key of a
 * participant, adding it when new (it then needs a remote). Returns 0, or -1
 * with a message "--set section.key: what is wrong" (cfg unchanged). */
int fb_config_set(fb_config *cfg, const char *assignment, char *err, size_t errlen);

/* Cross-key validation after all sources are applied: participant names and
 * remote addresses unique, every participant has a remote, static live
 * participants <= max_live, pipelines free of the reserved element names
 * "fbsink"/"fbsrc", every number in range (for configs built in code),
 * tls_cert and tls_key both or neither, a token_secret that is set has at
 * least 16 characters, a meeting id, TURN URLs that name turn:, turns:, stun:
 * or stuns: (and a [turn] secret when any is turn:/turns:), [floor] max_live
 * at most [mixer] max_live, [floor] start_session inside [floor] sessions.
 * Returns 0 or -1 with a message "[section] key: what is wrong". */
int fb_config_validate(const fb_config *cfg, char *err, size_t errlen);

/* Parse "HOST:PORT" or "[V6]:PORT" into host/port. HOST is an IPv4 literal,
 * a bracketed IPv6 literal or "localhost" (stored as 127.0.0.1); host gets the
 * canonical text form, port is 1..65535. Returns 0 or -1. */
int fb_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

/* The address to put in our ICE host candidate: [webrtc] public_ip, else
 * [bridge] bind, and when that is a wildcard (0.0.0.0 or ::) 127.0.0.1. */
void fb_config_candidate_ip(const fb_config *cfg, char *out, size_t len);

/* Is name a valid participant name: 1..FB_NAME_MAX-1 of [A-Za-z0-9._-]? 1/0. */
int fb_config_valid_name(const char *name);

#endif
