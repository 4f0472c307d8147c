/*
 * test_config.h — the bridge config the signalling tests start from: the
 * defaults, ephemeral media and signalling ports, a 440 Hz floor, and the
 * given web root, meeting id and token secret (NULL: left at the default).
 * Each test then sets what it is about.
 */
#ifndef FB_TEST_CONFIG_H
#define FB_TEST_CONFIG_H

#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"

/* A heap config (free it); aborts when out of memory. */
static inline fb_config *test_config_new(const char *www, const char *meeting, const char *secret) {
  fb_config *cfg = malloc(sizeof *cfg);
  if (!cfg) abort();
  fb_config_defaults(cfg);
  cfg->media_port = 0;
  cfg->sig_port = 0;
  snprintf(cfg->floor_pipeline, sizeof cfg->floor_pipeline, "builtin:tone:440");
  snprintf(cfg->sig_www, sizeof cfg->sig_www, "%s", www);
  snprintf(cfg->meeting_id, sizeof cfg->meeting_id, "%s", meeting);
  if (secret) snprintf(cfg->token_secret, sizeof cfg->token_secret, "%s", secret);
  return cfg;
}

#endif
