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
  char name[FB_NAME_MAX];    /* from [participant NAME]; letters, digits, - _ . */
  char host[64];             /* remote = HOST:PORT (IPv4 or IPv6 literal, [v6]:port);
                                stored canonical (inet_ntop), "localhost" as 127.0.0.1 */
  int  port;
  int  live;                 /* live = true: on the floor from the start */
  int  payload_type;         /* payload_type = 111 */
} fb_participant_config;

typedef struct {
  /* [bridge] */
  char bind[64];             /* bind = 127.0.0.1 — media UDP address (IPv4/IPv6 literal;
                                "localhost" is stored as 127.0.0.1) */
  int  media_port;           /* media_port = 40000 */
  char control_socket[FB_PATH_MAX]; /* control_socket = "" (disabled); at most 107
                                       characters (a Unix socket path) */
  int  log_level;            /* log_level = info */
  int  max_participants;     /* max_participants = 4000 */

  /* [mixer] */
  int  bitrate;              /* bitrate = 32000 */
  int  complexity;           /* complexity = 5 */
  int  max_live;             /* max_live = 8 */
  int  per_participant_encode; /* per_participant_encode = false (comparison only) */
  int  jitter_max_ms;        /* jitter_max_ms = 200 */
  double limiter_threshold_db; /* limiter_threshold_db = -1.0 */
  int  tick_cpu;             /* tick_cpu = -1 (no pinning); pin the mixer thread to a core */

  /* [floor] */
  char floor_pipeline[FB_PIPELINE_MAX];  /* pipeline = builtin:speech; not empty;
                                            builtin:speech or builtin:tone:HZ (20..20000)
                                            or a GStreamer source description */
  int  floor_restart_ms;     /* restart_delay_ms = 1000 */
  int  floor_stall_ms;       /* stall_timeout_ms = 1000 */

  /* [pa] */
  char pa_pipeline[FB_PIPELINE_MAX];     /* pipeline = "" (disabled) */

  /* [recording] */
  char rec_pipeline[FB_PIPELINE_MAX];    /* pipeline = "" (disabled) */

  int n_participants;
  fb_participant_config participants[FB_MAX_STATIC_PARTICIPANTS];
} fb_config;

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
 * "fbsink"/"fbsrc", every number in range (for configs built in code).
 * Returns 0 or -1 with a message "[section] key: what is wrong". */
int fb_config_validate(const fb_config *cfg, char *err, size_t errlen);

/* Parse "HOST:PORT" or "[V6]:PORT" into host/port. HOST is an IPv4 literal,
 * a bracketed IPv6 literal or "localhost" (stored as 127.0.0.1); host gets the
 * canonical text form, port is 1..65535. Returns 0 or -1. */
int fb_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

/* Is name a valid participant name: 1..FB_NAME_MAX-1 of [A-Za-z0-9._-]? 1/0. */
int fb_config_valid_name(const char *name);

#endif
