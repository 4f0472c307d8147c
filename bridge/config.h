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
 * Errors name the file, line and key: "demo.conf:12: [mixer] bitrate: expected
 * an integer in 6000..510000, got 'fast'". Unknown sections and keys are errors
 * too (a typo must not silently fall back to a default).
 *
 * The parser is hand-written (about 200 lines) because GLib's GKeyFile cannot
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
  char host[64];             /* remote = HOST:PORT (IPv4 or IPv6 literal, [v6]:port) */
  int  port;
  int  live;                 /* live = true: on the floor from the start */
  int  payload_type;         /* payload_type = 111 */
} fb_participant_config;

typedef struct {
  /* [bridge] */
  char bind[64];             /* bind = 127.0.0.1 — media UDP address */
  int  media_port;           /* media_port = 40000 */
  char control_socket[FB_PATH_MAX]; /* control_socket = "" (disabled) */
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
  char floor_pipeline[FB_PIPELINE_MAX];  /* pipeline = builtin:speech */
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
 * "FILE:LINE: [section] key: what is wrong" in err (errlen bytes). */
int fb_config_load(fb_config *cfg, const char *path, char *err, size_t errlen);

/* Parse text (named `name` in messages) over cfg; same contract as load. */
int fb_config_parse(fb_config *cfg, const char *name, const char *text, char *err, size_t errlen);

/* Apply one "section.key=value" override (from --set on the command line).
 * Returns 0 or -1 with a message. */
int fb_config_set(fb_config *cfg, const char *assignment, char *err, size_t errlen);

/* Cross-key validation after all sources are applied (e.g. participant names
 * unique). Returns 0 or -1 with a message. */
int fb_config_validate(const fb_config *cfg, char *err, size_t errlen);

/* Parse "HOST:PORT" or "[V6]:PORT" into host/port. Returns 0 or -1. */
int fb_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
