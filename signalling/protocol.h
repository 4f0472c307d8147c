/*
 * protocol.h — the WebSocket JSON messages (signalling/PROTOCOL.md is the
 * contract): parsing what a browser sends, printing what we send back. No
 * state and no I/O; the meeting logic lives in meeting.h.
 *
 * Every message is a JSON object with "v": 1 and a string "type". Parsing
 * checks shape only (JSON syntax, object, version, type, required fields and
 * their JSON types) and names the problem with a stable error code:
 * bad_json, bad_message, unsupported_version, unknown_type, missing_field.
 */
#ifndef FB_PROTOCOL_H
#define FB_PROTOCOL_H

#include <jansson.h>
#include <stddef.h>

#define FB_PROTOCOL_VERSION 1

typedef enum { FB_MSG_JOIN, FB_MSG_OFFER, FB_MSG_LEAVE, FB_MSG_PING } fb_msg_type;

/* One parsed client message. Strings point into root (valid until
 * fb_msg_free). */
typedef struct {
  fb_msg_type type;
  const char *type_name; /* "type" as sent when it is a short printable string, else NULL;
                            also set when parsing failed later on (for "request") */
  const char *token;     /* join */
  const char *sdp;       /* offer */
  size_t sdp_len;
  json_t *id;            /* ping: any JSON value, NULL when absent */
  json_t *root;
} fb_msg;

/* Parse one complete message of len bytes. Returns NULL and fills *m, or an
 * error code with a human reason in why; fb_msg_free(m) in both cases. */
const char *fb_msg_parse(const char *text, size_t len, fb_msg *m, char *why, size_t whylen);
void fb_msg_free(fb_msg *m);

/* What "joined" says. ice_servers is borrowed (a JSON array). */
typedef struct {
  int pid;
  const char *meeting, *delegate, *name, *role;
  int can_speak, live;
  json_t *ice_servers;
} fb_msg_joined_info;

/* Server messages as compact JSON text: malloc'd (free()), NULL when out of
 * memory. request (may be NULL) names the client message an error answers. */
char *fb_msg_error(const char *code, const char *message, const char *request);
char *fb_msg_joined(const fb_msg_joined_info *j);
char *fb_msg_answer(const char *sdp);
char *fb_msg_pong(json_t *id);
char *fb_msg_event(const char *event, const char *detail);
char *fb_msg_left(void);

#endif
