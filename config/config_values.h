/*
 * config_values.h — checks of single config values, shared by the key table
 * in config.c (file, --set and validation all use them). Private to
 * bridge/config*.c; the public helpers (fb_parse_hostport, ...) stay in
 * config.h.
 *
 * A check returns NULL when the value is fine, else a static English text
 * saying what is wrong (config.c prefixes it with FILE:LINE: [section] key).
 */
#ifndef FB_CONFIG_VALUES_H
#define FB_CONFIG_VALUES_H

/* [meeting] id: 1..63 characters, no control characters. */
const char *fb_cfg_check_meeting_id(const char *v);

/* [meeting] token_secret: empty or at least 16 characters. */
const char *fb_cfg_check_secret(const char *v);

/* [turn] urls: comma-separated turn:, turns:, stun:, stuns: URLs. */
const char *fb_cfg_check_turn_urls(const char *v);

/* Does v list a turn: or turns: URL (which need a secret)? */
int fb_cfg_has_turn_url(const char *v);

/* [floor] sessions: fb_config_sessions must accept it. */
const char *fb_cfg_check_sessions(const char *v);

/* A GStreamer description of [section] pipeline. */
const char *fb_cfg_pipeline_problem(const char *section, const char *desc);

#endif
