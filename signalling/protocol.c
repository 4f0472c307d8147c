/*
 * protocol.c — JSON in and out for protocol.h, with jansson.
 *
 * Design: the checks run in a fixed order (syntax, object, "v", "type",
 * fields) so a message gets one well-defined error code. Each client message
 * type is one row of `kinds` with the fields it requires; a new message is a
 * row (plus its member in fb_msg). Duplicate keys are
 * refused (JSON_REJECT_DUPLICATES) so that what we act on is what any other
 * parser would see; strings with NUL are refused by jansson by default.
 * Output is built as json_t and printed compact, so escaping is never done
 * by hand.
 */
#include "signalling/protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *problem(char *why, size_t whylen, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *problem(char *why, size_t whylen, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (whylen) vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
  return code;
}

/* Each client message type and the fields it requires (space-separated). */
static const struct msg_kind {
  const char *name;
  fb_msg_type type;
  const char *fields;
} kinds[] = {
    {"join", FB_MSG_JOIN, "token"},
    {"offer", FB_MSG_OFFER, "sdp"},
    {"leave", FB_MSG_LEAVE, ""},
    {"ping", FB_MSG_PING, ""},
    {"request_floor", FB_MSG_REQUEST_FLOOR, ""},
    {"withdraw", FB_MSG_WITHDRAW, ""},
    {"mute", FB_MSG_MUTE, "on"},
    {"chat", FB_MSG_CHAT, "to text"},
    {"grant", FB_MSG_GRANT, "delegate"},
    {"end_turn", FB_MSG_END_TURN, "delegate"},
    {"mute_all", FB_MSG_MUTE_ALL, ""},
    {"cut", FB_MSG_CUT, "delegate reason"},
    {"allow", FB_MSG_ALLOW, "delegate"},
    {"queue_move", FB_MSG_QUEUE_MOVE, "delegate position"},
    {"queue_remove", FB_MSG_QUEUE_REMOVE, "delegate"},
    {"set_mode", FB_MSG_SET_MODE, "mode"},
    {"set_session", FB_MSG_SET_SESSION, "index"},
    {"chat_policy", FB_MSG_CHAT_POLICY, "delegates_to_all"},
};

/* What JSON type a field must have, for the error message. */
static const char *field_kind(const char *key) {
  if (!strcmp(key, "on") || !strcmp(key, "delegates_to_all")) return "true or false";
  if (!strcmp(key, "position") || !strcmp(key, "index")) return "an integer";
  return "a string";
}

/* Fill the fb_msg member for key from root; 0 when absent or of the wrong
 * JSON type. */
static int set_field(fb_msg *m, const char *key) {
  json_t *v = json_object_get(m->root, key);
  if (!strcmp(key, "on") || !strcmp(key, "delegates_to_all")) {
    if (!json_is_boolean(v)) return 0;
    *(key[0] == 'o' ? &m->on : &m->delegates_to_all) = json_is_true(v);
    return 1;
  }
  if (!strcmp(key, "position") || !strcmp(key, "index")) {
    if (!json_is_integer(v)) return 0;
    *(key[0] == 'p' ? &m->position : &m->index) = (long long)json_integer_value(v);
    return 1;
  }
  const char *s = json_string_value(v);
  if (!s) return 0;
  if (!strcmp(key, "token"))
    m->token = s;
  else if (!strcmp(key, "sdp"))
    m->sdp = s, m->sdp_len = json_string_length(v);
  else if (!strcmp(key, "delegate"))
    m->delegate = s;
  else if (!strcmp(key, "to"))
    m->to = s;
  else if (!strcmp(key, "text"))
    m->text = s, m->text_len = json_string_length(v);
  else if (!strcmp(key, "reason"))
    m->reason = s;
  else if (!strcmp(key, "mode"))
    m->mode = s;
  return 1;
}

const char *fb_msg_parse(const char *text, size_t len, fb_msg *m, char *why, size_t whylen) {
  memset(m, 0, sizeof *m);
  json_error_t jerr;
  m->root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!m->root)
    return problem(why, whylen, "bad_json", "not JSON: %s (at byte %d)", jerr.text, jerr.position);
  if (!json_is_object(m->root))
    return problem(why, whylen, "bad_message", "a message is a JSON object");
  json_t *type = json_object_get(m->root, "type");
  const char *t = json_string_value(type);
  if (t && json_string_length(type) <= 32 && strlen(t) == json_string_length(type)) {
    int printable = 1;
    for (const char *p = t; *p; p++) printable &= *p > 0x20 && *p < 0x7f;
    if (printable) m->type_name = t;
  }
  json_t *v = json_object_get(m->root, "v");
  if (!v) return problem(why, whylen, "bad_message", "\"v\" is missing (use \"v\": 1)");
  if (!json_is_integer(v)) return problem(why, whylen, "bad_message", "\"v\" must be an integer");
  if (json_integer_value(v) != FB_PROTOCOL_VERSION)
    return problem(why, whylen, "unsupported_version",
                   "protocol version %lld is not supported "
                   "(this server speaks %d)",
                   (long long)json_integer_value(v), FB_PROTOCOL_VERSION);
  if (!type) return problem(why, whylen, "bad_message", "\"type\" is missing");
  if (!t) return problem(why, whylen, "bad_message", "\"type\" must be a string");

  const struct msg_kind *k = NULL;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (strcmp(t, kinds[i].name) == 0) k = &kinds[i];
  if (!k)
    return problem(why, whylen, "unknown_type",
                   "unknown message type (expected join, offer, "
                   "leave, ping, request_floor, withdraw, mute, chat, grant, end_turn, "
                   "mute_all, cut, allow, queue_move, queue_remove, set_mode, set_session "
                   "or chat_policy)");
  m->type = k->type;
  /* every field the type requires, in the order of its list */
  for (const char *f = k->fields; *f;) {
    size_t n = strcspn(f, " ");
    char key[32];
    snprintf(key, sizeof key, "%.*s", (int)n, f);
    f += n + (f[n] == ' ');
    if (!set_field(m, key))
      return problem(why, whylen, "missing_field", "%s needs \"%s\" (%s)", t, key, field_kind(key));
  }
  /* optional fields: present means well-typed */
  if (m->type == FB_MSG_PING) m->id = json_object_get(m->root, "id");
  if (m->type == FB_MSG_MUTE && json_object_get(m->root, "delegate") && !set_field(m, "delegate"))
    return problem(why, whylen, "missing_field",
                   "mute: \"delegate\" must be a string (or absent "
                   "for your own microphone)");
  return NULL;
}

void fb_msg_free(fb_msg *m) {
  json_decref(m->root);
  memset(m, 0, sizeof *m);
}

/* Add "v" and "type" to obj (stolen), print, free. */
static char *finish(const char *type, json_t *obj) {
  if (!obj) return NULL;
  json_t *out = json_pack("{s:i, s:s}", "v", FB_PROTOCOL_VERSION, "type", type);
  char *text = NULL;
  if (out && json_object_update(out, obj) == 0)
    text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(out);
  json_decref(obj);
  return text;
}

/* Texts from elsewhere (the bridge's messages, event details) as printable
 * ASCII, so that they are valid JSON strings whatever they contain. */
static json_t *text(const char *s) {
  char buf[512];
  size_t n = 0;
  for (; s && s[n] && n < sizeof buf - 1; n++) buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
  buf[n] = '\0';
  return json_string(buf);
}

char *fb_msg_error(const char *code, const char *message, const char *request) {
  json_t *o = json_pack("{s:o, s:o}", "code", text(code), "message", text(message));
  if (o && request) json_object_set_new(o, "request", json_string(request));
  return finish("error", o);
}

char *fb_msg_joined(const fb_msg_joined_info *j) {
  return finish("joined", json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:b, s:O, s:b, s:s}", "pid",
                                    j->pid, "meeting", j->meeting, "delegate", j->delegate, "name",
                                    j->name, "role", j->role, "can_speak", j->can_speak, "live",
                                    j->live, "ice_servers", j->ice_servers, "may_request",
                                    j->may_request, "state", j->state ? j->state : "listening"));
}

char *fb_msg_answer(const char *sdp) { return finish("answer", json_pack("{s:s}", "sdp", sdp)); }

char *fb_msg_pong(json_t *id) {
  return finish("pong", json_pack("{s:O}", "id", id ? id : json_null()));
}

char *fb_msg_event(const char *event, const char *detail) {
  return finish("event", json_pack("{s:o, s:o}", "event", text(event), "detail", text(detail)));
}

char *fb_msg_left(void) { return finish("left", json_object()); }
