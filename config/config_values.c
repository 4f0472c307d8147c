/*
 * config_values.c — value checks for config.c's key table and the public
 * value helpers of config.h: addresses (fb_parse_hostport, the ICE candidate
 * address), participant names, pipelines, TURN URLs, secrets and the
 * [floor] sessions list.
 *
 * Design: pure functions of one value, no state, so that the file reader,
 * --set and fb_config_validate give the same verdict on the same text.
 *
 * [floor] sessions: "NAME:MODE, NAME:MODE, ..." where MODE is interactive or
 * webcast, NAME 1..63 bytes of any printable text except ',' and ':' (blanks
 * around names and modes are trimmed). Example: "Opening plenary:webcast,
 * Working party 1:interactive, Closing plenary:webcast".
 */
#include "config/config_values.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

void fb_config_candidate_ip(const fb_config *cfg, char *out, size_t len) {
  const char *ip = cfg->webrtc_public_ip[0] ? cfg->webrtc_public_ip : cfg->bind;
  unsigned char a[16], zero[16] = {0};
  if (inet_pton(AF_INET, ip, a) == 1 ? memcmp(a, zero, 4) == 0
                                     : inet_pton(AF_INET6, ip, a) == 1 && memcmp(a, zero, 16) == 0)
    ip = "127.0.0.1"; /* a wildcard bind is no address a browser can send to */
  snprintf(out, len, "%s", ip);
}

/* [meeting] id: what tokens carry in "mtg" (fb_token.meeting holds 63 bytes). */
const char *fb_cfg_check_meeting_id(const char *v) {
  if (!*v) return "must not be empty (tokens name the meeting in their \"mtg\" claim)";
  if (strlen(v) > 63) return "at most 63 characters (the token's \"mtg\" claim)";
  for (const char *p = v; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return "contains a control character";
  return NULL;
}

const char *fb_cfg_check_secret(const char *v) {
  if (*v && strlen(v) < 16)
    return "at least 16 characters (use 32 random bytes: openssl rand -base64 32), "
           "or empty to refuse every join";
  return NULL;
}

/* Comma-separated turn:, turns:, stun: or stuns: URLs, no blanks inside one. */
const char *fb_cfg_check_turn_urls(const char *v) {
  static const char *schemes[] = {"turn:", "turns:", "stun:", "stuns:"};
  const char *p = v;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (!*p) break;
    size_t n = strcspn(p, ", ");
    int ok = 0;
    for (int i = 0; i < 4; i++) {
      size_t sl = strlen(schemes[i]);
      if (n > sl && strncasecmp(p, schemes[i], sl) == 0) ok = 1;
    }
    if (!ok)
      return "expected comma-separated turn:HOST[:PORT][?transport=udp|tcp], turns:, "
             "stun: or stuns: URLs";
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)p[i] <= 0x20 || p[i] == '"' || p[i] == '\\' || p[i] == 0x7f)
        return "a URL contains a control character, a quote or a backslash";
    p += n;
  }
  return NULL;
}

/* Does v list a turn: or turns: URL (which need credentials)? */
int fb_cfg_has_turn_url(const char *v) {
  for (const char *p = v; *p; p++)
    if ((p == v || p[-1] == ',' || p[-1] == ' ') && strncasecmp(p, "turn", 4) == 0) return 1;
  return 0;
}

int fb_config_valid_name(const char *name) {
  size_t n = strlen(name);
  if (n < 1 || n >= FB_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i])) return 0;
  return 1;
}

int fb_parse_hostport(const char *s, char *host, size_t hostlen, int *port) {
  char h[64];
  const char *colon;
  int family = AF_INET;
  if (s[0] == '[') { /* [V6]:PORT */
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof h) return -1;
    memcpy(h, s + 1, (size_t)(close - s - 1));
    h[close - s - 1] = '\0';
    colon = close + 1;
    family = AF_INET6;
  } else { /* V4:PORT or localhost:PORT; a bare v6 literal is ambiguous */
    colon = strchr(s, ':');
    if (!colon || strchr(colon + 1, ':') || (size_t)(colon - s) >= sizeof h) return -1;
    memcpy(h, s, (size_t)(colon - s));
    h[colon - s] = '\0';
    if (strcasecmp(h, "localhost") == 0) strcpy(h, "127.0.0.1");
  }
  char *end;
  errno = 0;
  long p = strtol(colon + 1, &end, 10);
  if (!isdigit((unsigned char)colon[1]) || *end || errno || p < 1 || p > 65535) return -1;
  unsigned char addr[16];
  char canon[INET6_ADDRSTRLEN];
  if (inet_pton(family, h, addr) != 1 || !inet_ntop(family, addr, canon, sizeof canon)) return -1;
  if (strlen(canon) >= hostlen) return -1;
  strcpy(host, canon);
  *port = (int)p;
  return 0;
}

/* What is wrong with a pipeline description (NULL when nothing). */
const char *fb_cfg_pipeline_problem(const char *section, const char *desc) {
  if (strstr(desc, "fbsink") || strstr(desc, "fbsrc"))
    return "contains 'fbsink' or 'fbsrc', element names the bridge reserves for its own use";
  if (strcmp(section, "floor") != 0) return NULL;
  if (!desc[0]) return "must not be empty (builtin:speech is a synthetic source)";
  if (strncmp(desc, "builtin:", 8) != 0 || strcmp(desc, "builtin:speech") == 0) return NULL;
  if (strncmp(desc, "builtin:tone:", 13) == 0 && isdigit((unsigned char)desc[13])) {
    char *end;
    long hz = strtol(desc + 13, &end, 10);
    if (!*end && hz >= 20 && hz <= 20000) return NULL;
  }
  return "unknown builtin source (expected builtin:speech or builtin:tone:HZ, HZ 20..20000)";
}

/* One "NAME:MODE" item of n bytes at p into out (may be NULL). */
static const char *session_item(const char *p, size_t n, fb_session_spec *out) {
  while (n && isspace((unsigned char)*p)) p++, n--;
  while (n && isspace((unsigned char)p[n - 1])) n--;
  const char *colon = memchr(p, ':', n);
  if (!n) return "an empty item (expected NAME:MODE, e.g. \"Working party 1:interactive\")";
  if (!colon) return "an item without ':MODE' (expected NAME:interactive or NAME:webcast)";
  size_t nl = (size_t)(colon - p), ml = n - nl - 1;
  const char *mode = colon + 1;
  while (nl && isspace((unsigned char)p[nl - 1])) nl--;
  while (ml && isspace((unsigned char)*mode)) mode++, ml--;
  if (!nl) return "a session without a name";
  if (nl >= sizeof out->name) return "a session name longer than 63 bytes";
  for (size_t i = 0; i < nl; i++)
    if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) return "a control character in a name";
  int webcast;
  if (ml == 11 && strncasecmp(mode, "interactive", 11) == 0)
    webcast = 0;
  else if (ml == 7 && strncasecmp(mode, "webcast", 7) == 0)
    webcast = 1;
  else
    return "a mode that is not interactive or webcast (or a ':' in a name)";
  if (out) {
    memcpy(out->name, p, nl);
    out->name[nl] = '\0';
    out->webcast = webcast;
  }
  return NULL;
}

int fb_config_sessions(const char *spec, fb_session_spec *out, int max, const char **why) {
  const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  int n = 0;
  const char *p = spec;
  for (;;) {
    size_t len = strcspn(p, ",");
    if (n >= FB_MAX_SESSIONS || (out && n >= max)) {
      *why = "too many sessions (at most 32)";
      return -1;
    }
    if ((*why = session_item(p, len, out ? &out[n] : NULL))) return -1;
    n++;
    if (!p[len]) break;
    p += len + 1;
  }
  return n;
}

const char *fb_cfg_check_sessions(const char *v) {
  const char *why;
  return fb_config_sessions(v, NULL, 0, &why) < 0 ? why : NULL;
}
