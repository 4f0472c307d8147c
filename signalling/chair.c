/*
 * chair.c — the floor-control and chat messages (PROTOCOL.md, "Floor
 * control" and "Chat"): request_floor, withdraw, mute, chat from anyone
 * joined; grant, end_turn, mute (of someone), mute_all, cut, allow,
 * queue_move, queue_remove, set_mode, set_session, chat_policy from chairs.
 *
 * Design: this file only translates. The rules (who may do what, to whom,
 * when) are the floor's (floor.h): each message becomes one fb_floor_* call
 * with the sender's delegate id as the actor, and the floor's error code goes
 * back to the sender as an "error" with a human message. Nothing is sent on
 * success: the effect arrives as state messages ("you", "queue", "roster",
 * "mode"), coalesced by broadcast.c, to everyone concerned, the sender
 * included. Refusals are not counted towards FB_MAX_CLIENT_ERRORS: a chair
 * who double-clicks "grant" must not be disconnected. The floor audits chair
 * actions, refused ones too ("refused:grant", detail "not_chair"); this file
 * does the same for chat_policy, which the floor does not know.
 *
 * Chat rules live here (the floor knows nothing of chat): [chat] enabled,
 * the chair's delegates_to_all policy, max_length in UTF-8 bytes, per_minute
 * per connection (only delivered messages count), no control characters but
 * \n and \t, valid UTF-8. Text is delivered exactly as sent (JSON-escaped by
 * jansson); pages must put it into the DOM as text, never as HTML.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "signalling/meeting_int.h"

/* Human text for each refusal code. */
static const struct {
  const char *code, *message;
} messages[] = {
    {"not_chair", "only the chair can do that"},
    {"not_delegate", "observers cannot do that"},
    {"unknown_delegate", "no such delegate in this meeting"},
    {"not_connected", "that delegate is not connected"},
    {"barred", "barred from the floor until the chair allows"},
    {"not_barred", "that delegate is not barred"},
    {"webcast_only", "this session is webcast-only: nobody remote can speak or ask for the floor"},
    {"already_queued", "already in the queue"},
    {"not_queued", "not in the queue"},
    {"already_live", "already on the floor"},
    {"not_live", "not on the floor"},
    {"floor_full", "the floor is full: end a turn first"},
    {"chair_muted", "muted by the chair: only the chair can unmute"},
    {"bad_argument", "a value is out of range or unknown"},
    {"chat_disabled", "chat to everyone is turned off; write to the chair"},
    {"chat_too_long", "the message is too long"},
    {"chat_rate_limited", "too many chat messages; wait a moment"},
    {"chat_empty", "the message is empty"},
};

static void refuse(fb_session *s, const char *code, const char *message, const char *request) {
  if (!message) {
    message = code;
    for (size_t i = 0; i < sizeof messages / sizeof *messages; i++)
      if (strcmp(messages[i].code, code) == 0) message = messages[i].message;
  }
  fb_meeting_reply_error(s, code, message, request, 0);
}

/* ---- chat ------------------------------------------------------------------ */

/* 0 unless text is valid UTF-8 without control characters other than \n and
 * \t (C0, DEL and C1 are refused). */
static int text_ok(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return 0;
      i++;
      continue;
    }
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (c < 0xc2 || c > 0xf4 || i + len > n) return 0;
    unsigned cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
      return 0;
    i += len;
  }
  return 1;
}

static int blank(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != ' ' && p[i] != '\n' && p[i] != '\t' && p[i] != '\r') return 0;
  return 1;
}

/* May s send one more chat message now? Counts it when yes. */
static int chat_take(fb_meeting *m, fb_session *s, int64_t now) {
  int cap = m->cfg.chat_per_minute;
  if (!s->chat_times && !(s->chat_times = calloc((size_t)cap, sizeof *s->chat_times))) return 0;
  if (s->chat_n == cap && now - s->chat_times[s->chat_pos] < 60000) return 0;
  s->chat_times[s->chat_pos] = now;
  s->chat_pos = (s->chat_pos + 1) % cap;
  if (s->chat_n < cap) s->chat_n++;
  return 1;
}

static void chat(fb_meeting *m, fb_session *s, const fb_msg *msg) {
  int to_all = strcmp(msg->to, "all") == 0, to_chair = strcmp(msg->to, "chair") == 0;
  int chair = s->tok.role == FB_ROLE_CHAIR;
  int64_t now = fb_meeting_now_ms(m);
  char why[96];
  if (!m->cfg.chat_enabled) {
    refuse(s, "chat_disabled", "the chat is turned off for this meeting", "chat");
  } else if (!to_all && !to_chair) {
    refuse(s, "bad_argument", "\"to\" must be \"all\" or \"chair\"", "chat");
  } else if (blank(msg->text, msg->text_len)) {
    refuse(s, "chat_empty", NULL, "chat");
  } else if (msg->text_len > (size_t)m->cfg.chat_max_length) {
    snprintf(why, sizeof why, "a chat message may have at most %d bytes (UTF-8)",
             m->cfg.chat_max_length);
    refuse(s, "chat_too_long", why, "chat");
  } else if (!text_ok((const unsigned char *)msg->text, msg->text_len)) {
    refuse(s, "bad_argument",
           "the text has a control character (only newline and tab are "
           "allowed) or is not valid UTF-8",
           "chat");
  } else if (to_all && !chair && !m->chat_to_all) {
    refuse(s, "chat_disabled", NULL, "chat");
  } else if (!chat_take(m, s, now)) {
    snprintf(why, sizeof why, "at most %d chat messages a minute", m->cfg.chat_per_minute);
    refuse(s, "chat_rate_limited", why, "chat");
  } else {
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s%, s:I}", "v", FB_PROTOCOL_VERSION,
                          "type", "chat", "from", s->tok.delegate, "name", s->tok.name, "role",
                          fb_role_name(s->tok.role), "to", to_all ? "all" : "chair", "text",
                          msg->text, msg->text_len, "ts_ms", (json_int_t)now);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text) {
      refuse(s, "internal", "out of memory", "chat");
      return;
    }
    m->chat_messages++;
    if (to_all) {
      fb_bc_to_all(m, text);
    } else {
      fb_bc_to_chairs(m, text);
      if (!chair) m->io.send(s->conn, text); /* the sender sees what it sent */
    }
    free(text);
    fb_log(FB_LOG_DEBUG, "signalling", "chat from %s to %s (%zu bytes)", s->tok.delegate,
           to_all ? "all" : "chair", msg->text_len);
  }
}

static void chat_policy(fb_meeting *m, fb_session *s, const fb_msg *msg) {
  int64_t now = fb_meeting_now_ms(m);
  if (s->tok.role != FB_ROLE_CHAIR) {
    fb_meeting_audit(m, now, s->tok.delegate, "refused:chat_policy", "", "not_chair");
    refuse(s, "not_chair", NULL, "chat_policy");
    return;
  }
  m->chat_to_all = msg->delegates_to_all;
  fb_meeting_audit(m, now, s->tok.delegate, "chat_policy", "",
                   msg->delegates_to_all ? "delegates_to_all=true" : "delegates_to_all=false");
  char *text = fb_bc_chat_policy(m);
  if (text) fb_bc_to_all(m, text);
  free(text);
}

/* ---- floor control ------------------------------------------------------- */

static long long clamp(long long v, long long lo, long long hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

void fb_chair_message(fb_meeting *m, fb_session *s, const fb_msg *msg) {
  const char *req = msg->type_name;
  if (!s->joined) {
    fb_meeting_reply_error(s, "not_joined", "join first", req, 1);
    return;
  }
  fb_floor *f = m->floor;
  const char *me = s->tok.delegate, *who = msg->delegate, *e = NULL, *why = NULL;
  int64_t now = fb_meeting_now_ms(m);
  switch (msg->type) {
  case FB_MSG_CHAT: chat(m, s, msg); return;
  case FB_MSG_CHAT_POLICY: chat_policy(m, s, msg); return;
  case FB_MSG_REQUEST_FLOOR: e = fb_floor_request(f, me, now); break;
  case FB_MSG_WITHDRAW: e = fb_floor_withdraw(f, me, now); break;
  case FB_MSG_MUTE:
    e = who ? fb_floor_mute(f, me, who, msg->on, now) : fb_floor_self_mute(f, me, msg->on, now);
    break;
  case FB_MSG_GRANT: e = fb_floor_grant(f, me, who, now); break;
  case FB_MSG_END_TURN: e = fb_floor_end_turn(f, me, who, now); break;
  case FB_MSG_MUTE_ALL: e = fb_floor_mute_all(f, me, now); break;
  case FB_MSG_CUT:
    e = fb_floor_cut(f, me, who, msg->reason, now);
    why = "a cut needs a \"reason\" (the delegate is shown it)";
    break;
  case FB_MSG_ALLOW: e = fb_floor_allow(f, me, who, now); break;
  case FB_MSG_QUEUE_REMOVE: e = fb_floor_queue_remove(f, me, who, now); break;
  case FB_MSG_QUEUE_MOVE: /* out of int range: still refused by the floor, in its order */
    e = fb_floor_queue_move(f, me, who, (int)clamp(msg->position, 0, INT_MAX), now);
    why = "\"position\" counts from 1 (the head of the queue) to the queue's length";
    break;
  case FB_MSG_SET_MODE: /* an unknown mode is refused by the floor, after the chair check */
    e = fb_floor_set_mode(f, me, (fb_floor_mode)fb_floor_mode_parse(msg->mode), now);
    why = "\"mode\" must be \"interactive\" or \"webcast\"";
    break;
  case FB_MSG_SET_SESSION:
    e = fb_floor_set_session(f, me, (int)clamp(msg->index, -1, INT_MAX), now);
    why = "no session with that \"index\" (the first is 0)";
    break;
  default: e = "bad_argument"; break; /* join/offer/leave/ping never come here */
  }
  if (!e) return;
  if (strcmp(e, "bad_argument") != 0) why = NULL; /* the table's text */
  fb_log(FB_LOG_DEBUG, "signalling", "%s: %s refused: %s", me, req ? req : "?", e);
  refuse(s, e, why, req);
}
