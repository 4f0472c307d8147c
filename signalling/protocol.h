/*
 * protocol.h — the WebSocket JSON messages (signalling/PROTOCOL.md is the
 * contract): parsing what a browser sends, printing what we send back. No
 * state and no I/O; the meeting logic lives in meeting.h.
 *
 * Every message is a JSON object with "v": 1 and a string "type". Parsing
 * checks shape only (JSON syntax, object, version, type, required fields and
 * their JSON types) and names the problem with a stable error code:
 * bad_json, bad_message, unsupported_version, unknown_type, missing_field.
 * What a value means (a known mode, a chat addressee, text rules) is checked
 * by the meeting (signalling/chair.c), which answers bad_argument.
 *
 * The floor-control and chat messages (request_floor ... chat_policy) and the
 * state messages we send about them (you, queue, roster, quality, mode, chat)
 * are built in signalling/chair_msg.c.
 */
#ifndef FB_PROTOCOL_H
#define FB_PROTOCOL_H

#include <jansson.h>
#include <stddef.h>

#define FB_PROTOCOL_VERSION 1

typedef enum {
  FB_MSG_JOIN,
  FB_MSG_OFFER,
  FB_MSG_LEAVE,
  FB_MSG_PING,
  /* anyone joined (delegate or chair) */
  FB_MSG_REQUEST_FLOOR,
  FB_MSG_WITHDRAW,
  FB_MSG_MUTE,
  FB_MSG_CHAT,
  /* chair only */
  FB_MSG_GRANT,
  FB_MSG_END_TURN,
  FB_MSG_MUTE_ALL,
  FB_MSG_CUT,
  FB_MSG_ALLOW,
  FB_MSG_QUEUE_MOVE,
  FB_MSG_QUEUE_REMOVE,
  FB_MSG_SET_MODE,
  FB_MSG_SET_SESSION,
  FB_MSG_CHAT_POLICY
} fb_msg_type;

/* One parsed client message. Strings point into root (valid until
 * fb_msg_free). */
typedef struct {
  fb_msg_type type;
  const char *type_name; /* "type" as sent when it is a short printable string, else NULL;
                            also set when parsing failed later on (for "request") */
  const char *token;     /* join */
  const char *sdp;       /* offer */
  size_t sdp_len;
  json_t *id;           /* ping: any JSON value, NULL when absent */
  const char *delegate; /* grant, end_turn, cut, allow, queue_*; mute (NULL: own mic) */
  int on;               /* mute */
  const char *to;       /* chat: "all" | "chair" (checked by the meeting) */
  const char *text;     /* chat (may contain NUL-free UTF-8 of any kind) */
  size_t text_len;
  const char *reason;   /* cut */
  long long position;   /* queue_move (1-based) */
  long long index;      /* set_session (0-based) */
  const char *mode;     /* set_mode */
  int delegates_to_all; /* chat_policy */
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
  int may_request;   /* not an observer: may ask for the floor */
  const char *state; /* the floor state now ("listening", "live", "barred", ...) */
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
