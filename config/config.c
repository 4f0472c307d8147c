/*
 * config.c — the INI reader behind config.h.
 *
 * Design: every key is one row of the `keys` table (section, name, kind, where
 * it lives in the struct, its range). Reading a file, a --set override and the
 * final validation all go through that table, so a key is added in one place
 * (plus configs/demo.conf, which documents it).
 *
 * The parser works on a private copy of the text, one line at a time, and on a
 * private copy of the config: a file with an error leaves the caller's config
 * untouched. Values: surrounding blanks trimmed; a " #..." tail (a '#' after a
 * blank, outside double quotes) is a comment; one pair of double quotes that
 * encloses the whole value, with no quote in between, is stripped. Quotes
 * inside a value (GStreamer: location="my file.wav") are kept as they are.
 *
 * Problems are built as "<where>: <problem>", where <where> is
 * "FILE:LINE: [section] key" for a file and "--set section.key" for an override.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_values.h"
#include "util/log.h"

#define MAX_FILE_BYTES (1 << 20)
#define UNIX_PATH_CHARS 107 /* sizeof(sockaddr_un.sun_path) - 1 */

/* K_ADDR_OPT is K_ADDR that may also be empty. */
typedef enum {
  K_INT,
  K_DOUBLE,
  K_BOOL,
  K_LEVEL,
  K_STR,
  K_ADDR,
  K_ADDR_OPT,
  K_PIPE,
  K_REMOTE
} key_kind;

typedef const char *(*value_check)(const char *v); /* what is wrong with v, NULL if fine */

typedef struct {
  const char *section; /* "participant" for keys of [participant NAME] */
  const char *name;
  key_kind kind;
  size_t off;        /* in fb_config, or in fb_participant_config */
  size_t size;       /* string buffer size */
  double min, max;   /* numeric range; for K_STR max is the longest length */
  value_check check; /* extra check of a string value (file, --set and validate) */
} key_spec;

#define C(f) offsetof(fb_config, f), sizeof(((fb_config *)0)->f)
#define P(f) offsetof(fb_participant_config, f), sizeof(((fb_participant_config *)0)->f)

static const key_spec keys[] = {
    {"bridge", "bind", K_ADDR, C(bind), 0, 0, NULL},
    {"bridge", "media_port", K_INT, C(media_port), 0, 65535, NULL},
    {"bridge", "control_socket", K_STR, C(control_socket), 0, UNIX_PATH_CHARS, NULL},
    {"bridge", "log_level", K_LEVEL, C(log_level), 0, 0, NULL},
    {"bridge", "max_participants", K_INT, C(max_participants), 1, 100000, NULL},
    {"mixer", "bitrate", K_INT, C(bitrate), 6000, 510000, NULL},
    {"mixer", "complexity", K_INT, C(complexity), 0, 10, NULL},
    {"mixer", "max_live", K_INT, C(max_live), 1, 64, NULL},
    {"mixer", "per_participant_encode", K_BOOL, C(per_participant_encode), 0, 1, NULL},
    {"mixer", "jitter_max_ms", K_INT, C(jitter_max_ms), 20, 1000, NULL},
    {"mixer", "limiter_threshold_db", K_DOUBLE, C(limiter_threshold_db), -20, 0, NULL},
    {"mixer", "tick_cpu", K_INT, C(tick_cpu), -1, 1023, NULL},
    {"mixer", "tick_priority", K_INT, C(tick_priority), 0, 99, NULL},
    {"floor", "pipeline", K_PIPE, C(floor_pipeline), 0, 0, NULL},
    {"floor", "restart_delay_ms", K_INT, C(floor_restart_ms), 50, 60000, NULL},
    {"floor", "stall_timeout_ms", K_INT, C(floor_stall_ms), 100, 60000, NULL},
    {"floor", "max_live", K_INT, C(floor_max_live), 0, 64, NULL},
    {"floor", "open_floor", K_BOOL, C(open_floor), 0, 1, NULL},
    {"floor", "sessions", K_STR, C(floor_sessions), 0, 0, fb_cfg_check_sessions},
    {"floor", "start_session", K_INT, C(floor_start_session), 0, FB_MAX_SESSIONS - 1, NULL},
    {"floor", "min_mos", K_DOUBLE, C(floor_min_mos), 1, 5, NULL},
    {"floor", "max_loss_pct", K_DOUBLE, C(floor_max_loss_pct), 0, 100, NULL},
    {"floor", "flag_after_ms", K_INT, C(floor_flag_after_ms), 0, 600000, NULL},
    {"floor", "recover_after_ms", K_INT, C(floor_recover_after_ms), 0, 600000, NULL},
    {"floor", "auto_cut", K_BOOL, C(floor_auto_cut), 0, 1, NULL},
    {"pa", "pipeline", K_PIPE, C(pa_pipeline), 0, 0, NULL},
    {"recording", "pipeline", K_PIPE, C(rec_pipeline), 0, 0, NULL},
    {"signalling", "enabled", K_BOOL, C(sig_enabled), 0, 1, NULL},
    {"signalling", "bind", K_ADDR, C(sig_bind), 0, 0, NULL},
    {"signalling", "port", K_INT, C(sig_port), 0, 65535, NULL},
    {"signalling", "www", K_STR, C(sig_www), 0, 0, NULL},
    {"signalling", "tls_cert", K_STR, C(sig_tls_cert), 0, 0, NULL},
    {"signalling", "tls_key", K_STR, C(sig_tls_key), 0, 0, NULL},
    {"signalling", "max_message_bytes", K_INT, C(sig_max_message_bytes), 1024, 1048576, NULL},
    {"signalling", "max_connections_per_ip", K_INT, C(sig_max_conns_per_ip), 1, 100000, NULL},
    {"meeting", "id", K_STR, C(meeting_id), 0, 0, fb_cfg_check_meeting_id},
    {"meeting", "token_secret", K_STR, C(token_secret), 0, 0, fb_cfg_check_secret},
    {"meeting", "token_secret_file", K_STR, C(token_secret_file), 0, 0, NULL},
    {"meeting", "revoked_file", K_STR, C(revoked_file), 0, 0, NULL},
    {"meeting", "open_floor", K_BOOL, C(open_floor), 0, 1, NULL}, /* alias of [floor] open_floor */
    {"webrtc", "public_ip", K_ADDR_OPT, C(webrtc_public_ip), 0, 0, NULL},
    {"webrtc", "consent_timeout_s", K_INT, C(webrtc_consent_timeout_s), 5, 120, NULL},
    {"turn", "urls", K_STR, C(turn_urls), 0, 0, fb_cfg_check_turn_urls},
    {"turn", "secret", K_STR, C(turn_secret), 0, 0, NULL},
    {"turn", "ttl_s", K_INT, C(turn_ttl_s), 60, 604800, NULL},
    {"chat", "enabled", K_BOOL, C(chat_enabled), 0, 1, NULL},
    {"chat", "delegates_to_all", K_BOOL, C(chat_delegates_to_all), 0, 1, NULL},
    {"chat", "max_length", K_INT, C(chat_max_length), 1, 10000, NULL},
    {"chat", "per_minute", K_INT, C(chat_per_minute), 1, 600, NULL},
    {"store", "path", K_STR, C(store_path), 0, 0, NULL},
    {"webcast", "dir", K_STR, C(webcast_dir), 0, 0, NULL},
    {"participant", "remote", K_REMOTE, P(host), 0, 0, NULL},
    {"participant", "live", K_BOOL, P(live), 0, 1, NULL},
    {"participant", "payload_type", K_INT, P(payload_type), 96, 127, NULL},
};
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

static const char *sections[] = {"bridge",  "mixer",  "floor", "pa",   "recording", "signalling",
                                 "meeting", "webrtc", "turn",  "chat", "store",     "webcast"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

void fb_config_defaults(fb_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  strcpy(cfg->bind, "127.0.0.1");
  cfg->media_port = 40000;
  cfg->log_level = FB_LOG_INFO;
  cfg->max_participants = 4000;
  cfg->bitrate = 32000;
  cfg->complexity = 5;
  cfg->max_live = 8;
  cfg->jitter_max_ms = 200;
  cfg->limiter_threshold_db = -1.0;
  cfg->tick_cpu = -1;
  strcpy(cfg->floor_pipeline, "builtin:speech");
  cfg->floor_restart_ms = 1000;
  cfg->floor_stall_ms = 1000;
  strcpy(cfg->floor_sessions, "Meeting:interactive");
  cfg->floor_min_mos = 3.0;
  cfg->floor_max_loss_pct = 10;
  cfg->floor_flag_after_ms = 3000;
  cfg->floor_recover_after_ms = 5000;
  cfg->chat_enabled = 1;
  cfg->chat_delegates_to_all = 1;
  cfg->chat_max_length = 500;
  cfg->chat_per_minute = 20;
  cfg->sig_enabled = 1;
  strcpy(cfg->sig_bind, "127.0.0.1");
  cfg->sig_port = 8080;
  strcpy(cfg->sig_www, "web");
  cfg->sig_max_message_bytes = 65536;
  cfg->sig_max_conns_per_ip = 50;
  strcpy(cfg->meeting_id, "demo");
  cfg->webrtc_consent_timeout_s = 30;
  cfg->turn_ttl_s = 3600;
}

static void participant_defaults(fb_participant_config *p, const char *name) {
  memset(p, 0, sizeof *p);
  size_t n = strlen(name) < sizeof p->name ? strlen(name) : sizeof p->name - 1; /* validated */
  memcpy(p->name, name, n);
  p->payload_type = 111;
}

static int parse_bool(const char *v, int *out) {
  static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
    if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
  }
  return -1;
}

/* Set key k from text v, in cfg or (for participant keys) in part. On error
 * writes the problem (without the "where:" prefix) and returns -1; on error
 * nothing has been changed. */
static int set_value(fb_config *cfg, fb_participant_config *part, const key_spec *k, const char *v,
                     char *prob, size_t plen) {
  void *dst = (part ? (char *)part : (char *)cfg) + k->off;
  char *end;
  switch (k->kind) {
  case K_INT: {
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < k->min || n > k->max)
      return fail(prob, plen, "expected an integer in %.0f..%.0f, got '%s'", k->min, k->max, v);
    *(int *)dst = (int)n;
    return 0;
  }
  case K_DOUBLE: {
    double d = strtod(v, &end);
    if (!*v || *end || !(d >= k->min && d <= k->max))
      return fail(prob, plen, "expected a number in %g..%g, got '%s'", k->min, k->max, v);
    *(double *)dst = d;
    return 0;
  }
  case K_BOOL:
    if (parse_bool(v, (int *)dst) < 0)
      return fail(prob, plen, "expected true/false, yes/no, on/off or 1/0, got '%s'", v);
    return 0;
  case K_LEVEL: {
    int level = fb_log_parse_level(v);
    if (level < 0)
      return fail(prob, plen, "expected debug, info, warn, alert or error, got '%s'", v);
    *(int *)dst = level;
    return 0;
  }
  case K_ADDR_OPT:
  case K_ADDR: {
    unsigned char addr[16];
    if (k->kind == K_ADDR_OPT && !*v) {
      *(char *)dst = '\0';
      return 0;
    }
    const char *a = strcasecmp(v, "localhost") == 0 ? "127.0.0.1" : v;
    if (inet_pton(AF_INET, a, addr) != 1 && inet_pton(AF_INET6, a, addr) != 1)
      return fail(prob, plen, "expected an IPv4 or IPv6 address, got '%s'", v);
    v = a;
  } /* fall through */
  case K_STR:
  case K_PIPE: {
    size_t len = strlen(v), max = k->max > 0 ? (size_t)k->max : k->size - 1;
    if (len > max)
      return fail(prob, plen, "value is %zu characters long, at most %zu allowed", len, max);
    const char *why = k->kind == K_PIPE ? fb_cfg_pipeline_problem(k->section, v)
                      : k->check        ? k->check(v)
                                        : NULL;
    if (why) return fail(prob, plen, "%s", why);
    memcpy(dst, v, len + 1);
    return 0;
  }
  case K_REMOTE: {
    char host[sizeof part->host];
    int port;
    if (fb_parse_hostport(v, host, sizeof host, &port) < 0)
      return fail(prob, plen,
                  "expected HOST:PORT (IPv4, [IPv6] or localhost, port 1..65535), got '%s'", v);
    for (int i = 0; i < cfg->n_participants; i++) {
      const fb_participant_config *o = &cfg->participants[i];
      if (o != part && strcmp(o->name, part->name) != 0 && o->port == port &&
          strcmp(o->host, host) == 0)
        return fail(prob, plen, "%s is already the address of participant '%s'", v, o->name);
    }
    strcpy(part->host, host);
    part->port = port;
    return 0;
  }
  }
  return -1;
}

/* The key that owns k's value: k itself, or the first row for the same field
 * when k is an alias ([meeting] open_floor for [floor] open_floor). Setting a
 * key and its alias in one file is a duplicate. */
static const key_spec *canonical(const key_spec *k) {
  if (strcmp(k->section, "participant") == 0) return k;
  for (int i = 0; i < NKEYS; i++)
    if (keys[i].off == k->off && strcmp(keys[i].section, "participant") != 0) return &keys[i];
  return k;
}

static const key_spec *find_key(const char *section, const char *name) {
  for (int i = 0; i < NKEYS; i++)
    if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) return &keys[i];
  return NULL;
}

static int known_section(const char *name) {
  for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
    if (strcmp(name, sections[i]) == 0) return 1;
  return 0;
}

/* "unknown key (valid here: a, b, c)" */
static void unknown_key(const char *section, char *prob, size_t plen) {
  size_t n = (size_t)snprintf(prob, plen, "unknown key (valid here:");
  const char *sep = " ";
  for (int i = 0; i < NKEYS && n < plen; i++)
    if (strcmp(keys[i].section, section) == 0) {
      n += (size_t)snprintf(prob + n, plen - n, "%s%s", sep, keys[i].name);
      sep = ", ";
    }
  if (n < plen) snprintf(prob + n, plen - n, ")");
}

static fb_participant_config *find_participant(fb_config *cfg, const char *name) {
  for (int i = 0; i < cfg->n_participants; i++)
    if (strcmp(cfg->participants[i].name, name) == 0) return &cfg->participants[i];
  return NULL;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* Strip one pair of double quotes enclosing all of v, with none in between. */
static char *unquote(char *v) {
  size_t n = strlen(v);
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"' && !memchr(v + 1, '"', n - 2)) {
    v[n - 1] = '\0';
    v++;
  }
  return v;
}

/* Cut a trailing " # comment", trim, strip enclosing quotes. NULL when a
 * double quote is left open. */
static char *clean_value(char *v) {
  int quoted = 0;
  for (char *p = v; *p; p++) {
    if (*p == '"')
      quoted = !quoted;
    else if (*p == '#' && !quoted && p > v && isspace((unsigned char)p[-1])) {
      *p = '\0';
      break;
    }
  }
  return quoted ? NULL : unquote(trim(v));
}

/* The parser's position: the section we are in and which keys it has set. */
typedef struct {
  const char *file;
  int line;
  char section[16];            /* "" before the first header */
  fb_participant_config *part; /* in [participant NAME] */
  int part_line;               /* its header line */
  int seen[NKEYS];             /* line each key was set on, 0 = not yet */
} parser;

/* Close the current section: a participant must have said where it is. */
static int end_section(parser *ps, char *err, size_t errlen) {
  if (ps->part && !ps->part->host[0])
    return fail(err, errlen, "%s:%d: [participant %s]: missing remote = HOST:PORT", ps->file,
                ps->part_line, ps->part->name);
  return 0;
}

static int section_header(fb_config *cfg, parser *ps, char *s, char *err, size_t errlen) {
  char *close = strchr(s, ']');
  if (!close)
    return fail(err, errlen, "%s:%d: unterminated section header (missing ']')", ps->file,
                ps->line);
  char *rest = trim(close + 1);
  if (*rest && *rest != '#' && *rest != ';')
    return fail(err, errlen, "%s:%d: unexpected text after ']': '%s'", ps->file, ps->line, rest);
  *close = '\0';
  char *inner = trim(s + 1);
  if (end_section(ps, err, errlen) < 0) return -1;
  ps->part = NULL;
  if (strncmp(inner, "participant", 11) == 0 && (!inner[11] || isspace((unsigned char)inner[11]))) {
    char *name = trim(inner + 11);
    if (!*name)
      return fail(err, errlen,
                  "%s:%d: [participant]: the section needs a name: "
                  "[participant NAME]",
                  ps->file, ps->line);
    if (!fb_config_valid_name(name))
      return fail(err, errlen,
                  "%s:%d: [participant %s]: bad participant name: use 1..%d letters, "
                  "digits, '.', '_' or '-'",
                  ps->file, ps->line, name, FB_NAME_MAX - 1);
    if (find_participant(cfg, name))
      return fail(err, errlen, "%s:%d: [participant %s]: duplicate participant name", ps->file,
                  ps->line, name);
    if (cfg->n_participants >= FB_MAX_STATIC_PARTICIPANTS)
      return fail(err, errlen,
                  "%s:%d: [participant %s]: too many participants (at most %d in "
                  "the config; add more at run time)",
                  ps->file, ps->line, name, FB_MAX_STATIC_PARTICIPANTS);
    ps->part = &cfg->participants[cfg->n_participants++];
    participant_defaults(ps->part, name);
    ps->part_line = ps->line;
    strcpy(ps->section, "participant");
    for (int i = 0; i < NKEYS; i++)
      if (strcmp(keys[i].section, "participant") == 0) ps->seen[i] = 0;
    return 0;
  }
  if (known_section(inner)) {
    strcpy(ps->section, inner);
    return 0;
  }
  return fail(err, errlen,
              "%s:%d: unknown section [%s] (expected bridge, mixer, floor, pa, "
              "recording, signalling, meeting, webrtc, turn, chat, store, webcast or "
              "participant NAME)",
              ps->file, ps->line, inner);
}

static int key_line(fb_config *cfg, parser *ps, char *s, char *err, size_t errlen) {
  char *eq = strchr(s, '=');
  if (!eq)
    return fail(err, errlen, "%s:%d: expected 'key = value', '[section]' or a comment", ps->file,
                ps->line);
  *eq = '\0';
  char *name = trim(s), *value = clean_value(eq + 1), prob[512];
  if (!*name) return fail(err, errlen, "%s:%d: missing key before '='", ps->file, ps->line);
  if (!ps->section[0])
    return fail(err, errlen, "%s:%d: %s: key outside any section (add a [section] line above)",
                ps->file, ps->line, name);
  char where[FB_NAME_MAX + 32];
  snprintf(where, sizeof where, "%s%s%s", ps->section, ps->part ? " " : "",
           ps->part ? ps->part->name : "");
  const key_spec *k = find_key(ps->section, name);
  if (!k) {
    unknown_key(ps->section, prob, sizeof prob);
    return fail(err, errlen, "%s:%d: [%s] %s: %s", ps->file, ps->line, where, name, prob);
  }
  const key_spec *owner = canonical(k);
  int *seen = &ps->seen[owner - keys];
  if (*seen)
    return fail(err, errlen, "%s:%d: [%s] %s: duplicate key (already set on line %d%s%s%s%s)",
                ps->file, ps->line, where, name, *seen, owner != k ? " as [" : "",
                owner != k ? owner->section : "", owner != k ? "] " : "",
                owner != k ? owner->name : "");
  if (!value)
    return fail(err, errlen, "%s:%d: [%s] %s: unterminated double quote", ps->file, ps->line, where,
                name);
  if (set_value(cfg, ps->part, k, value, prob, sizeof prob) < 0)
    return fail(err, errlen, "%s:%d: [%s] %s: %s", ps->file, ps->line, where, name, prob);
  *seen = ps->line;
  return 0;
}

int fb_config_parse(fb_config *cfg, const char *name, const char *text, char *err, size_t errlen) {
  fb_config *work = malloc(sizeof *work);
  char *copy = strdup(text);
  if (!work || !copy) {
    free(work), free(copy);
    return fail(err, errlen, "%s: out of memory", name);
  }
  *work = *cfg;
  parser ps = {.file = name};
  int rc = 0;
  char *line = copy;
  if (strncmp(line, "\xEF\xBB\xBF", 3) == 0) line += 3; /* UTF-8 byte order mark */
  while (line && rc == 0) {
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    ps.line++;
    char *s = trim(line);
    if (*s == '[')
      rc = section_header(work, &ps, s, err, errlen);
    else if (*s && *s != '#' && *s != ';')
      rc = key_line(work, &ps, s, err, errlen);
    line = next;
  }
  if (rc == 0) rc = end_section(&ps, err, errlen);
  if (rc == 0) *cfg = *work;
  free(work);
  free(copy);
  return rc;
}

int fb_config_load(fb_config *cfg, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, errlen, "%s: %s", path, strerror(errno));
  char *buf = malloc(MAX_FILE_BYTES + 1);
  size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
  int rc, bad = ferror(f);
  fclose(f);
  if (!buf)
    rc = fail(err, errlen, "%s: out of memory", path);
  else if (bad)
    rc = fail(err, errlen, "%s: read error", path);
  else if (n > MAX_FILE_BYTES)
    rc = fail(err, errlen, "%s: larger than 1 MiB; not a config", path);
  else if (memchr(buf, '\0', n))
    rc = fail(err, errlen, "%s: contains a NUL byte; not a config", path);
  else {
    buf[n] = '\0';
    rc = fb_config_parse(cfg, path, buf, err, errlen);
  }
  free(buf);
  return rc;
}

/* --set with the value already copied (so it may be trimmed in place). */
static int set_one(fb_config *cfg, const char *assignment, const char *lhs, char *v, char *err,
                   size_t errlen) {
  char where[128], section[128], prob[512];
  size_t n = strlen(lhs);
  const char *dot = memchr(lhs, '.', n);
  if (!dot || n >= sizeof where)
    return fail(err, errlen, "--set '%s': expected SECTION.KEY=VALUE, e.g. mixer.bitrate=24000",
                assignment);
  memcpy(where, lhs, n + 1);
  memcpy(section, lhs, n + 1);
  char *key = strrchr(section, '.'), *pname = NULL;
  *key++ = '\0';
  v = unquote(trim(v));
  fb_participant_config tmp, *part = NULL;
  if (strncmp(section, "participant.", 12) == 0) { /* participant.NAME.key */
    pname = section + 12;
    section[11] = '\0';
    if (!fb_config_valid_name(pname))
      return fail(err, errlen, "--set %s: bad participant name '%s'", where, pname);
    part = find_participant(cfg, pname);
    if (!part && cfg->n_participants >= FB_MAX_STATIC_PARTICIPANTS)
      return fail(err, errlen, "--set %s: too many participants", where);
    if (part)
      tmp = *part;
    else
      participant_defaults(&tmp, pname);
  } else if (!known_section(section)) {
    return fail(err, errlen, "--set %s: unknown section [%s]", where, section);
  }
  const key_spec *k = find_key(section, key);
  if (!k) {
    unknown_key(section, prob, sizeof prob);
    return fail(err, errlen, "--set %s: %s", where, prob);
  }
  if (set_value(cfg, pname ? &tmp : NULL, k, v, prob, sizeof prob) < 0)
    return fail(err, errlen, "--set %s: %s", where, prob);
  if (pname) *(part ? part : &cfg->participants[cfg->n_participants++]) = tmp;
  return 0;
}

int fb_config_set(fb_config *cfg, const char *assignment, char *err, size_t errlen) {
  const char *eq = strchr(assignment, '=');
  if (!eq)
    return fail(err, errlen,
                "--set '%s': expected SECTION.KEY=VALUE, e.g. "
                "mixer.bitrate=24000",
                assignment);
  char *lhs = strndup(assignment, (size_t)(eq - assignment)), *value = strdup(eq + 1);
  int rc = lhs && value ? set_one(cfg, assignment, trim(lhs), value, err, errlen)
                        : fail(err, errlen, "--set: out of memory");
  free(lhs);
  free(value);
  return rc;
}

int fb_config_validate(const fb_config *cfg, char *err, size_t errlen) {
  for (int i = 0; i < NKEYS; i++) { /* ranges, for configs built in code */
    const key_spec *k = &keys[i];
    if (strcmp(k->section, "participant") == 0) continue;
    const char *at = (const char *)cfg + k->off;
    double v = k->kind == K_INT ? *(const int *)at : k->kind == K_DOUBLE ? *(const double *)at : 0;
    if ((k->kind == K_INT || k->kind == K_DOUBLE) && !(v >= k->min && v <= k->max))
      return fail(err, errlen, "[%s] %s: %g is outside %g..%g", k->section, k->name, v, k->min,
                  k->max);
    const char *why = k->kind == K_PIPE ? fb_cfg_pipeline_problem(k->section, at)
                      : k->check        ? k->check(at)
                                        : NULL;
    if (why) return fail(err, errlen, "[%s] %s: %s", k->section, k->name, why);
  }
  if (!cfg->sig_tls_cert[0] != !cfg->sig_tls_key[0])
    return fail(err, errlen,
                "[signalling] %s: tls_cert and tls_key go together (both or "
                "neither)",
                cfg->sig_tls_cert[0] ? "tls_key" : "tls_cert");
  if (cfg->floor_max_live > cfg->max_live)
    return fail(err, errlen,
                "[floor] max_live: %d is more than [mixer] max_live (%d), which "
                "the mixer cannot take",
                cfg->floor_max_live, cfg->max_live);
  int nsessions = fb_config_sessions(cfg->floor_sessions, NULL, 0, NULL);
  if (cfg->floor_start_session >= nsessions)
    return fail(err, errlen, "[floor] start_session: %d, but sessions lists %d (the first is 0)",
                cfg->floor_start_session, nsessions);
  /* Beyond loopback the pages and tokens cross a network: TLS is required and
   * the demo's published secret is refused. */
  int sig_loopback = strncmp(cfg->sig_bind, "127.", 4) == 0 || strcmp(cfg->sig_bind, "::1") == 0;
  if (cfg->sig_enabled && !sig_loopback && !cfg->sig_tls_cert[0])
    return fail(err, errlen,
                "[signalling] tls_cert: required when bind (%s) is not a loopback "
                "address: browsers only allow microphones on https pages, and tokens must not "
                "cross a network in clear",
                cfg->sig_bind);
  if (cfg->sig_enabled && !sig_loopback && strcmp(cfg->token_secret, FB_DEMO_TOKEN_SECRET) == 0)
    return fail(err, errlen,
                "[meeting] token_secret: the demo's published secret cannot be used "
                "when bind (%s) is not a loopback address; make one with: openssl rand -base64 32",
                cfg->sig_bind);
  if (fb_cfg_has_turn_url(cfg->turn_urls) && !cfg->turn_secret[0])
    return fail(err, errlen,
                "[turn] secret: required when urls lists a turn: or turns: server "
                "(the TURN server's static-auth-secret)");
  if (cfg->n_participants < 0 || cfg->n_participants > FB_MAX_STATIC_PARTICIPANTS ||
      cfg->n_participants > cfg->max_participants)
    return fail(err, errlen, "[bridge] max_participants: %d static participants, at most %d",
                cfg->n_participants,
                cfg->max_participants < FB_MAX_STATIC_PARTICIPANTS ? cfg->max_participants
                                                                   : FB_MAX_STATIC_PARTICIPANTS);
  int live = 0;
  for (int i = 0; i < cfg->n_participants; i++) {
    const fb_participant_config *p = &cfg->participants[i];
    if (!fb_config_valid_name(p->name))
      return fail(err, errlen, "[participant %s]: bad participant name", p->name);
    if (!p->host[0] || p->port < 1 || p->port > 65535)
      return fail(err, errlen, "[participant %s]: missing remote = HOST:PORT", p->name);
    if (p->payload_type < 96 || p->payload_type > 127)
      return fail(err, errlen, "[participant %s] payload_type: %d is outside 96..127", p->name,
                  p->payload_type);
    for (int j = 0; j < i; j++) {
      const fb_participant_config *o = &cfg->participants[j];
      if (strcmp(o->name, p->name) == 0)
        return fail(err, errlen, "[participant %s]: duplicate participant name", p->name);
      if (o->port == p->port && strcmp(o->host, p->host) == 0)
        return fail(err, errlen, "[participant %s] remote: same address as participant '%s'",
                    p->name, o->name);
    }
    live += p->live != 0;
  }
  if (live > cfg->max_live)
    return fail(err, errlen,
                "[mixer] max_live: %d participants are live from the start, but "
                "max_live is %d",
                live, cfg->max_live);
  return 0;
}
