/*
 * fuzz_ws_message.c — libFuzzer target for one WebSocket text message, along
 * the stateless part of what the signalling thread does with it:
 * fb_msg_parse (signalling/protocol.h), the error reply it would send
 * (fb_msg_error with the parsed "type" as "request"), and for the messages
 * whose payload is checked by a pure function, that check — join: the token
 * (fb_token_verify, secret "fuzz-seed-secret-0123456789", meeting "m1");
 * offer: the SDP (fb_sdp_parse_offer); ping: the pong (fb_msg_pong).
 *
 * The meeting itself (signalling/meeting.h: sessions, floor, bridge) is not
 * fuzzed here: fb_meeting_new needs a live fb_bridge (threads, sockets). See
 * README.md for the hook table that would make it fuzzable.
 *
 * Input: the message text, as it is (not NUL-terminated).
 *
 * Invariants (a violation traps):
 *   - a failure has one of the five documented codes and a reason; success
 *     means a JSON object with "v": 1 and a string "type", and the fields the
 *     type needs (token, sdp with sdp_len its length) point into it;
 *   - type_name, when set, is at most 32 printable characters;
 *   - every reply (error, pong, answer echo) is a compact JSON object with
 *     "v": 1 and its "type", and carries back what it was given (code,
 *     request, id, sdp) unchanged.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalling/protocol.h"
#include "signalling/sdp.h"
#include "signalling/token.h"

#define CHECK(c)                                                                          \
  do {                                                                                    \
    if (!(c)) {                                                                           \
      fprintf(stderr, "fuzz_ws_message: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                                   \
    }                                                                                     \
  } while (0)

/* Parse a reply we built: an object with "v": 1 and "type": type. */
static json_t *reply(char *text, const char *type) {
  CHECK(text);
  json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
  CHECK(json_is_object(j));
  CHECK(json_integer_value(json_object_get(j, "v")) == FB_PROTOCOL_VERSION);
  const char *t = json_string_value(json_object_get(j, "type"));
  CHECK(t && strcmp(t, type) == 0);
  free(text);
  return j;
}

static int printable(const char *s) {
  size_t n = strlen(s);
  if (n > 32) return 0; /* "" counts: {"type": ""} is answered with "request": "" */
  for (; *s; s++)
    if (*s <= 0x20 || *s >= 0x7f) return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const codes[] = {"bad_json", "bad_message", "unsupported_version",
                                      "unknown_type", "missing_field"};
  fb_msg m;
  char why[256] = "";
  const char *code = fb_msg_parse((const char *)data, size, &m, why, sizeof why);
  if (m.type_name) CHECK(printable(m.type_name));

  if (code) {
    int known = 0;
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) known |= strcmp(code, codes[i]) == 0;
    CHECK(known && why[0] && memchr(why, '\0', sizeof why));
    json_t *e = reply(fb_msg_error(code, why, m.type_name), "error");
    CHECK(strcmp(json_string_value(json_object_get(e, "code")), code) == 0);
    const char *req = json_string_value(json_object_get(e, "request"));
    CHECK(m.type_name ? req && strcmp(req, m.type_name) == 0 : req == NULL);
    json_decref(e);
    fb_msg_free(&m);
    return 0;
  }

  json_t *root = m.root;
  CHECK(json_is_object(root));
  CHECK(json_integer_value(json_object_get(root, "v")) == FB_PROTOCOL_VERSION);
  const char *type = json_string_value(json_object_get(root, "type"));
  CHECK(type && m.type_name && strcmp(type, m.type_name) == 0);

  switch (m.type) {
  case FB_MSG_JOIN: {
    CHECK(m.token && m.token == json_string_value(json_object_get(root, "token")));
    fb_token t;
    fb_token_error e =
        fb_token_verify("fuzz-seed-secret-0123456789", "m1", m.token, 1700000000LL, &t);
    CHECK(e >= FB_TOKEN_OK && e <= FB_TOKEN_ERROR_LAST);
    if (e != FB_TOKEN_OK)
      json_decref(
          reply(fb_msg_error(fb_token_error_code(e), fb_token_error_message(e), "join"), "error"));
    break;
  }
  case FB_MSG_OFFER: {
    CHECK(m.sdp && m.sdp == json_string_value(json_object_get(root, "sdp")));
    CHECK(m.sdp_len == json_string_length(json_object_get(root, "sdp")));
    fb_sdp_offer *o = malloc(sizeof *o);
    CHECK(o);
    char err[256];
    fb_sdp_error e = fb_sdp_parse_offer(m.sdp, m.sdp_len, o, err, sizeof err);
    CHECK(e == FB_SDP_OK || e == FB_SDP_BAD || e == FB_SDP_NO_AUDIO);
    free(o);
    /* the answer carries an SDP back byte for byte */
    json_t *a = reply(fb_msg_answer(m.sdp), "answer");
    if (strlen(m.sdp) == m.sdp_len)
      CHECK(strcmp(json_string_value(json_object_get(a, "sdp")), m.sdp) == 0);
    json_decref(a);
    break;
  }
  case FB_MSG_PING: {
    json_t *p = reply(fb_msg_pong(m.id), "pong");
    json_t *id = json_object_get(p, "id");
    CHECK(id && (m.id ? json_equal(id, m.id) : json_is_null(id)));
    json_decref(p);
    break;
  }
  default: break;
  }
  json_decref(reply(fb_msg_event(m.type_name, why), "event"));
  fb_msg_free(&m);
  return 0;
}
