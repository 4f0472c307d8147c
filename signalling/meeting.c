/*
 * meeting.c — sessions and what each message does (see meeting.h and
 * PROTOCOL.md).
 *
 * Design: a session is a small state machine: open -> joined (token checked)
 * -> in the bridge (after an offer) and back. Joining gives the session a
 * meeting-wide pid (a counter) that names it in "joined" and in the bridge
 * participant's name "<delegate>#<pid>"; the bridge's own handle
 * (bridge_pid) only routes events. An offer while in the bridge (renegotiation,
 * ICE restart) leaves and joins again, which is simple and always correct.
 * The same delegate joining again replaces the older session: it is told
 * ("replaced"), leaves the bridge and is closed; a cut or floor state will
 * belong to the delegate, not to the socket (DESIGN.md).
 *
 * Client mistakes are answered with an error and counted; at
 * FB_MAX_CLIENT_ERRORS the connection is closed (1008). A join refused by the
 * bridge (join_failed) and our own failures (internal) are not counted.
 */
#include "signalling/meeting.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge/log.h"
#include "signalling/protocol.h"
#include "signalling/sdp.h"
#include "signalling/token.h"
#include "signalling/turn.h"

struct fb_session {
  fb_meeting *m;
  void *conn;
  fb_session *prev, *next;
  int joined;
  fb_token tok;
  int pid;          /* ours, from join */
  int bridge_pid;   /* the bridge's handle, 0 when not in the bridge */
  int can_speak, live, uplink;
  int errors;
  int closing;
};

struct fb_meeting {
  fb_config cfg;
  fb_bridge *b;
  char secret[1024];
  fb_session_io io;
  fb_session *sessions;
  int nsessions;
  int next_pid;
};

fb_meeting *fb_meeting_new(const fb_config *cfg, fb_bridge *b, const char *secret,
                           const fb_session_io *io) {
  fb_meeting *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->cfg = *cfg;
  m->b = b;
  snprintf(m->secret, sizeof m->secret, "%s", secret ? secret : "");
  m->io = *io;
  return m;
}

void fb_meeting_free(fb_meeting *m) {
  if (!m) return;
  while (m->sessions) fb_meeting_close(m, m->sessions);
  memset(m->secret, 0, sizeof m->secret);
  free(m);
}

int fb_meeting_sessions(const fb_meeting *m) { return m->nsessions; }

int fb_session_closing(const fb_session *s) { return s->closing; }

fb_session *fb_meeting_open(fb_meeting *m, void *conn) {
  fb_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->m = m;
  s->conn = conn;
  s->next = m->sessions;
  if (m->sessions) m->sessions->prev = s;
  m->sessions = s;
  m->nsessions++;
  return s;
}

static void send_text(fb_session *s, char *json) {
  if (json) s->m->io.send(s->conn, json);
  else fb_log(FB_LOG_ERROR, "signalling", "out of memory building a message");
  free(json);
}

static void close_session(fb_session *s, int code, const char *reason) {
  if (s->closing) return;
  s->closing = 1;
  s->m->io.close(s->conn, code, reason);
}

/* Send an error; counted ones close the connection at FB_MAX_CLIENT_ERRORS. */
static void reply_error(fb_session *s, const char *code, const char *message, const char *request,
                        int counted) {
  send_text(s, fb_msg_error(code, message, request));
  fb_log(FB_LOG_DEBUG, "signalling", "session %p: error %s: %s", (void *)s, code, message);
  if (counted && ++s->errors >= FB_MAX_CLIENT_ERRORS) {
    send_text(s, fb_msg_error("too_many_errors", "too many errors; closing the connection", NULL));
    close_session(s, 1008, "too many errors");
  }
}

void fb_meeting_error(fb_meeting *m, fb_session *s, const char *code, const char *message) {
  (void)m;
  if (!s->closing) reply_error(s, code, message, NULL, 1);
}

/* Take the session's participant out of the bridge (if it is in). */
static void leave_bridge(fb_session *s) {
  if (!s->bridge_pid) return;
  if (fb_bridge_leave(s->m->b, s->bridge_pid) < 0)
    fb_log(FB_LOG_DEBUG, "signalling", "participant %d was already gone", s->bridge_pid);
  s->bridge_pid = 0;
}

void fb_meeting_close(fb_meeting *m, fb_session *s) {
  if (s->joined)
    fb_log(FB_LOG_INFO, "signalling", "%s#%d (%s) disconnected", s->tok.delegate, s->pid,
           fb_role_name(s->tok.role));
  leave_bridge(s);
  if (s->prev) s->prev->next = s->next;
  else m->sessions = s->next;
  if (s->next) s->next->prev = s->prev;
  m->nsessions--;
  memset(s, 0, sizeof *s);
  free(s);
}

/* The older session of a delegate who joined again. */
static void replace(fb_session *old) {
  fb_log(FB_LOG_INFO, "signalling", "%s#%d replaced by a new connection", old->tok.delegate,
         old->pid);
  send_text(old, fb_msg_event("replaced", "the same delegate joined from another connection"));
  leave_bridge(old);
  old->joined = 0;
  close_session(old, 1000, "replaced");
}

static void on_join(fb_meeting *m, fb_session *s, const fb_msg *msg) {
  if (s->joined) {
    reply_error(s, "already_joined", "this connection has joined already (send leave first)",
                "join", 1);
    return;
  }
  fb_token tok;
  fb_token_error e = fb_token_verify(m->secret[0] ? m->secret : NULL, m->cfg.meeting_id,
                                     msg->token, (long long)time(NULL), &tok);
  if (e != FB_TOKEN_OK) {
    fb_log(FB_LOG_INFO, "signalling", "join refused: %s", fb_token_error_code(e));
    reply_error(s, fb_token_error_code(e), fb_token_error_message(e), "join", 1);
    return;
  }
  for (fb_session *o = m->sessions; o; o = o->next)
    if (o != s && o->joined && strcmp(o->tok.delegate, tok.delegate) == 0) replace(o);
  s->tok = tok;
  s->joined = 1;
  s->pid = ++m->next_pid;
  s->uplink = tok.role != FB_ROLE_OBSERVER;
  s->can_speak = s->uplink && (tok.speak || m->cfg.open_floor);
  s->live = s->can_speak; /* until floor control: permission to speak = on the floor */
  json_t *ice = fb_turn_ice_servers(m->cfg.turn_urls, m->cfg.turn_secret, m->cfg.turn_ttl_s,
                                    tok.delegate, (long long)time(NULL));
  fb_msg_joined_info j = {s->pid, tok.meeting, tok.delegate, tok.name, fb_role_name(tok.role),
                          s->can_speak, s->live, ice ? ice : json_array()};
  send_text(s, fb_msg_joined(&j));
  json_decref(j.ice_servers);
  fb_log(FB_LOG_INFO, "signalling", "%s#%d joined as %s%s", tok.delegate, s->pid,
         fb_role_name(tok.role), s->can_speak ? " (may speak)" : "");
}

/* "<delegate>#<pid>" with the delegate limited to [A-Za-z0-9._-] (others
 * become '_') and cut so that the whole fits a participant name. */
static void participant_name(const fb_session *s, char *out, size_t len) {
  char d[40];
  size_t i = 0;
  for (; s->tok.delegate[i] && i < sizeof d - 1; i++) {
    char c = s->tok.delegate[i];
    d[i] = isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' ? c : '_';
  }
  d[i] = '\0';
  snprintf(out, len, "%s#%d", d, s->pid);
}

/* Where browsers send media when the bridge left it open. */
static void fill_candidate(fb_meeting *m, fb_webrtc_answer *ans) {
  if (!ans->candidate_ip[0] || strcmp(ans->candidate_ip, "0.0.0.0") == 0 ||
      strcmp(ans->candidate_ip, "::") == 0)
    fb_config_candidate_ip(&m->cfg, ans->candidate_ip, sizeof ans->candidate_ip);
  if (ans->candidate_port <= 0) ans->candidate_port = fb_bridge_media_port(m->b);
}

static void on_offer(fb_meeting *m, fb_session *s, const fb_msg *msg) {
  if (!s->joined) {
    reply_error(s, "not_joined", "join first", "offer", 1);
    return;
  }
  fb_sdp_offer *offer = malloc(sizeof *offer);
  char why[256], name[FB_NAME_MAX];
  if (!offer) {
    reply_error(s, "internal", "out of memory", "offer", 0);
    return;
  }
  fb_sdp_error e = fb_sdp_parse_offer(msg->sdp, msg->sdp_len, offer, why, sizeof why);
  if (e != FB_SDP_OK) {
    reply_error(s, fb_sdp_error_code(e), why, "offer", 1);
    free(offer);
    return;
  }
  leave_bridge(s); /* renegotiation: start over */
  participant_name(s, name, sizeof name);
  fb_webrtc_offer w;
  fb_webrtc_answer ans;
  memset(&ans, 0, sizeof ans);
  fb_sdp_offer_to_webrtc(offer, &w);
  int bpid = 0;
  char berr[512] = "";
  if (fb_bridge_join_webrtc(m->b, name, s->live, s->uplink, &w, &ans, &bpid, berr, sizeof berr) <
      0) {
    fb_log(FB_LOG_WARN, "signalling", "%s: the bridge refused the join: %s", name, berr);
    reply_error(s, "join_failed", berr[0] ? berr : "the bridge refused the participant", "offer",
                0);
    free(offer);
    return;
  }
  fill_candidate(m, &ans);
  char *sdp = fb_sdp_build_answer(offer, &ans, s->uplink, why, sizeof why);
  free(offer);
  if (!sdp) {
    fb_bridge_leave(m->b, bpid);
    fb_log(FB_LOG_ERROR, "signalling", "%s: cannot build the answer: %s", name, why);
    reply_error(s, "internal", why, "offer", 0);
    return;
  }
  s->bridge_pid = bpid;
  send_text(s, fb_msg_answer(sdp));
  free(sdp);
  fb_log(FB_LOG_INFO, "signalling", "%s: answered (participant %d, %s)", name, bpid,
         s->uplink ? "sendrecv" : "listen-only");
}

static void on_leave(fb_meeting *m, fb_session *s) {
  (void)m;
  if (!s->joined) {
    reply_error(s, "not_joined", "not joined", "leave", 1);
    return;
  }
  fb_log(FB_LOG_INFO, "signalling", "%s#%d left", s->tok.delegate, s->pid);
  leave_bridge(s);
  s->joined = 0;
  send_text(s, fb_msg_left());
}

void fb_meeting_message(fb_meeting *m, fb_session *s, const char *text, size_t len) {
  if (s->closing) return;
  fb_msg msg;
  char why[256];
  const char *code = fb_msg_parse(text, len, &msg, why, sizeof why);
  if (code) {
    reply_error(s, code, why, msg.type_name, 1);
    fb_msg_free(&msg);
    return;
  }
  switch (msg.type) {
  case FB_MSG_JOIN: on_join(m, s, &msg); break;
  case FB_MSG_OFFER: on_offer(m, s, &msg); break;
  case FB_MSG_LEAVE: on_leave(m, s); break;
  case FB_MSG_PING: send_text(s, fb_msg_pong(msg.id)); break;
  }
  fb_msg_free(&msg);
}

void fb_meeting_event(fb_meeting *m, int pid, const char *event, const char *detail) {
  for (fb_session *s = m->sessions; s; s = s->next)
    if (!s->closing && (pid == 0 ? s->joined : s->bridge_pid == pid))
      send_text(s, fb_msg_event(event, detail));
}
