/*
 * meeting_build.c — fuzz_meeting's message builder: turns the input's bytes
 * into one protocol message (JSON text) of the script's vocabulary
 * (meeting_script.h). Kept apart from the harness, which owns the fake
 * bridge, the connections and the invariants.
 */
#include "tests/fuzz/meeting_build.h"

#include <jansson.h>
#include <string.h>

#include "tests/fuzz/meeting_script.h"
#include "tests/fuzz/seed_offer.h"

uint8_t fb_ms_next(fb_ms_input *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

static const char *const types[MS_NTYPES] = {[MS_JOIN] = "join",
                                             [MS_OFFER] = "offer",
                                             [MS_LEAVE] = "leave",
                                             [MS_PING] = "ping",
                                             [MS_REQUEST_FLOOR] = "request_floor",
                                             [MS_WITHDRAW] = "withdraw",
                                             [MS_MUTE] = "mute",
                                             [MS_CHAT] = "chat",
                                             [MS_GRANT] = "grant",
                                             [MS_END_TURN] = "end_turn",
                                             [MS_MUTE_ALL] = "mute_all",
                                             [MS_CUT] = "cut",
                                             [MS_ALLOW] = "allow",
                                             [MS_QUEUE_MOVE] = "queue_move",
                                             [MS_QUEUE_REMOVE] = "queue_remove",
                                             [MS_SET_MODE] = "set_mode",
                                             [MS_SET_SESSION] = "set_session",
                                             [MS_CHAT_POLICY] = "chat_policy"};
static const char *const who[MS_NWHO] = {
    [MS_WHO_NONE] = NULL,       [MS_WHO_C1] = "c1", [MS_WHO_C2] = "c2", [MS_WHO_D1] = "d1",
    [MS_WHO_D2] = "d2",         [MS_WHO_D3] = "d3", [MS_WHO_O1] = "o1", [MS_WHO_AUTO] = "auto",
    [MS_WHO_NOBODY] = "nobody", [MS_WHO_EMPTY] = ""};
static const char *const reasons[] = {"time", "", "  \n", "disorder \xc3\xa9", NULL};
static const char *const texts[] = {"hello",
                                    "",
                                    " \n\t",
                                    "a\001b",
                                    "caf\xc3\xa9 \xf0\x9f\x8e\xa4",
                                    "this text is well over forty bytes long, so it is refused"};
static const char *const modes[] = {"interactive", "webcast", "loud"};

static void set_who(json_t *o, uint8_t f) {
  const char *w = who[f % MS_NWHO];
  if (w) json_object_set_new(o, "delegate", json_string(w));
}

/* A message of table type t with fields from the input. */
char *fb_ms_build(fb_ms_input *in, char tokens[][FB_TOKEN_MAX + 1], int ntok) {
  uint8_t t = fb_ms_next(in) % MS_NTYPES, f = fb_ms_next(in);
  json_t *o = json_pack("{s:i, s:s}", "v", 1, "type", types[t]);
  switch (t) {
  case MS_JOIN: json_object_set_new(o, "token", json_string(tokens[f % ntok])); break;
  case MS_OFFER: {
    size_t len = strlen(FB_SEED_OFFER);
    if (f % 4 == 3) len = (size_t)(f >> 2) * 4 % len; /* cut short: refused, or not */
    json_object_set_new(o, "sdp", json_stringn(FB_SEED_OFFER, len));
    break;
  }
  case MS_PING: json_object_set_new(o, "id", json_integer(f)); break;
  case MS_MUTE:
    json_object_set_new(o, "on", json_boolean(f & 1));
    set_who(o, f >> 1);
    break;
  case MS_CHAT:
    json_object_set_new(o, "to", json_string(f & 1 ? "all" : f & 2 ? "chair" : "room"));
    json_object_set_new(o, "text", json_string(texts[(f >> 2) % (sizeof texts / sizeof *texts)]));
    break;
  case MS_GRANT:
  case MS_END_TURN:
  case MS_ALLOW:
  case MS_QUEUE_REMOVE: set_who(o, f); break;
  case MS_CUT: {
    set_who(o, f);
    const char *r = reasons[(f >> 4) % (sizeof reasons / sizeof *reasons)];
    if (r) json_object_set_new(o, "reason", json_string(r));
    break;
  }
  case MS_QUEUE_MOVE:
    set_who(o, f);
    json_object_set_new(o, "position", json_integer((int8_t)fb_ms_next(in)));
    break;
  case MS_SET_MODE: json_object_set_new(o, "mode", json_string(modes[f % 3])); break;
  case MS_SET_SESSION: json_object_set_new(o, "index", json_integer((int)(f % 5) - 1)); break;
  case MS_CHAT_POLICY: json_object_set_new(o, "delegates_to_all", json_boolean(f & 1)); break;
  default: break;
  }
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}
