/*
 * fuzz_config.c — libFuzzer target for the configuration reader
 * (config/config.h): fb_config_parse on arbitrary text, then fb_config_set
 * with one --set assignment, fb_config_validate and fb_parse_hostport.
 *
 * Input: the file text, optionally followed by a NUL byte and the --set
 * assignment ("section.key=value"). Both are copied into heap strings of
 * exactly their length, so ASan sees a read past either.
 *
 * Invariants (a violation traps):
 *   - results are 0 or -1; -1 comes with a message that starts with
 *     "fuzz.conf:" (parse) or "--set" (set), and leaves the config untouched;
 *   - parsing is deterministic: the same text over the same defaults gives
 *     the same result and the same config, byte for byte;
 *   - after any success: n_participants within 0..FB_MAX_STATIC_PARTICIPANTS,
 *     every participant name valid and its strings terminated;
 *   - fb_parse_hostport: on success a terminated host and a port 1..65535.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define CHECK(c)                                                                      \
  do {                                                                                \
    if (!(c)) {                                                                       \
      fprintf(stderr, "fuzz_config: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                               \
    }                                                                                 \
  } while (0)

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void check_config(const fb_config *c) {
  CHECK(c->n_participants >= 0 && c->n_participants <= FB_MAX_STATIC_PARTICIPANTS);
  CHECK(TERMINATED(c->bind) && TERMINATED(c->floor_pipeline) && TERMINATED(c->meeting_id));
  for (int i = 0; i < c->n_participants; i++) {
    const fb_participant_config *p = &c->participants[i];
    CHECK(TERMINATED(p->name) && TERMINATED(p->host));
    CHECK(fb_config_valid_name(p->name));
  }
}

static char *dup_exact(const uint8_t *p, size_t n) {
  char *s = malloc(n + 1);
  CHECK(s);
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, '\0', size);
  size_t tlen = nul ? (size_t)(nul - data) : size;
  char *text = dup_exact(data, tlen);
  char *set = nul ? dup_exact(nul + 1, size - tlen - 1) : NULL;

  fb_config *cfg = malloc(sizeof *cfg), *before = malloc(sizeof *before);
  fb_config *again = malloc(sizeof *again);
  CHECK(cfg && before && again);
  char err[512], err2[512];

  fb_config_defaults(cfg);
  *before = *cfg;
  err[0] = '\0';
  int rc = fb_config_parse(cfg, "fuzz.conf", text, err, sizeof err);
  CHECK(rc == 0 || rc == -1);
  if (rc < 0) {
    CHECK(strncmp(err, "fuzz.conf:", 10) == 0 && memchr(err, '\0', sizeof err));
    CHECK(memcmp(cfg, before, sizeof *cfg) == 0);
  } else {
    check_config(cfg);
  }
  fb_config_defaults(again);
  CHECK(fb_config_parse(again, "fuzz.conf", text, err2, sizeof err2) == rc);
  CHECK(memcmp(again, cfg, sizeof *cfg) == 0);

  if (set) {
    *before = *cfg;
    err[0] = '\0';
    int src = fb_config_set(cfg, set, err, sizeof err);
    CHECK(src == 0 || src == -1);
    if (src < 0) {
      CHECK(strncmp(err, "--set", 5) == 0);
      CHECK(memcmp(cfg, before, sizeof *cfg) == 0);
    } else {
      check_config(cfg);
    }
    char host[64];
    int port = -1;
    if (fb_parse_hostport(set, host, sizeof host, &port) == 0)
      CHECK(memchr(host, '\0', sizeof host) && port >= 1 && port <= 65535);
  }
  int vrc = fb_config_validate(cfg, err, sizeof err);
  CHECK(vrc == 0 || vrc == -1);
  char ip[64];
  fb_config_candidate_ip(cfg, ip, sizeof ip);
  CHECK(memchr(ip, '\0', sizeof ip));

  free(cfg);
  free(before);
  free(again);
  free(text);
  free(set);
  return 0;
}
