/*
 * protocol.c — JSON in and out for protocol.h, with jansson.
 *
 * Design: the checks run in a fixed order (syntax, object, "v", "type",
 * fields) so a message gets one well-defined error code. Duplicate keys are
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

/* A string field that must be present; NULL when absent or not a string. */
static const char *field(json_t *root, const char *key, size_t *len) {
  json_t *v = json_object_get(root, key);
  if (!json_is_string(v)) return NULL;
  if (len) *len = json_string_length(v);
  return json_string_value(v);
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
    return problem(why, whylen, "unsupported_version", "protocol version %lld is not supported "
                   "(this server speaks %d)", (long long)json_integer_value(v), FB_PROTOCOL_VERSION);
  if (!type) return problem(why, whylen, "bad_message", "\"type\" is missing");
  if (!t) return problem(why, whylen, "bad_message", "\"type\" must be a string");

  if (strcmp(t, "join") == 0) {
    m->type = FB_MSG_JOIN;
    m->token = field(m->root, "token", NULL);
    if (!m->token) return problem(why, whylen, "missing_field", "join needs \"token\" (a string)");
  } else if (strcmp(t, "offer") == 0) {
    m->type = FB_MSG_OFFER;
    m->sdp = field(m->root, "sdp", &m->sdp_len);
    if (!m->sdp) return problem(why, whylen, "missing_field", "offer needs \"sdp\" (a string)");
  } else if (strcmp(t, "leave") == 0) {
    m->type = FB_MSG_LEAVE;
  } else if (strcmp(t, "ping") == 0) {
    m->type = FB_MSG_PING;
    m->id = json_object_get(m->root, "id");
  } else {
    return problem(why, whylen, "unknown_type", "unknown message type (expected join, offer, "
                   "leave or ping)");
  }
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
  for (; s && s[n] && n < sizeof buf - 1; n++)
    buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
  buf[n] = '\0';
  return json_string(buf);
}

char *fb_msg_error(const char *code, const char *message, const char *request) {
  json_t *o = json_pack("{s:o, s:o}", "code", text(code), "message", text(message));
  if (o && request) json_object_set_new(o, "request", json_string(request));
  return finish("error", o);
}

char *fb_msg_joined(const fb_msg_joined_info *j) {
  return finish("joined", json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:b, s:O}", "pid", j->pid,
                                    "meeting", j->meeting, "delegate", j->delegate, "name",
                                    j->name, "role", j->role, "can_speak", j->can_speak, "live",
                                    j->live, "ice_servers", j->ice_servers));
}

char *fb_msg_answer(const char *sdp) { return finish("answer", json_pack("{s:s}", "sdp", sdp)); }

char *fb_msg_pong(json_t *id) {
  return finish("pong", json_pack("{s:O}", "id", id ? id : json_null()));
}

char *fb_msg_event(const char *event, const char *detail) {
  return finish("event", json_pack("{s:o, s:o}", "event", text(event), "detail", text(detail)));
}

char *fb_msg_left(void) { return finish("left", json_object()); }
