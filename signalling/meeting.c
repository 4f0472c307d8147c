/*
 * meeting.c — sessions and what each message does (see meeting.h and
 * PROTOCOL.md); the floor's hooks; what is persisted.
 *
 * Design: a session is a small state machine: open -> joined (token checked)
 * -> in the bridge (after an offer) and back. Joining gives the session a
 * meeting-wide pid (a counter) that names it in "joined" and in the bridge
 * participant's name "<delegate>#<pid>"; the bridge's own handle
 * (bridge_pid) only routes events. An offer while in the bridge (renegotiation,
 * ICE restart) leaves and joins again, which is simple and always correct.
 * The same delegate joining again replaces the older session: it is told
 * ("replaced"), leaves the bridge and is closed.
 *
 * Floor control: the floor (floor.h) knows delegates by id, not by socket,
 * so a bar or a chair mute survives a reconnect. A joined session "is" its
 * delegate's connection in the floor (in_floor): join connects, leave and
 * close disconnect; a replaced session hands over without a disconnect, so a
 * delegate on the floor who reconnects keeps it. The floor asks for media
 * through on_media; the wish is kept on the session and applied to the
 * bridge participant, or right after an offer creates one. Bridge
 * participants are created listening and then set to the wish, one path for
 * both cases. The old "speak" claim and [floor] open_floor are an automatic
 * grant on join by the bridge itself (actor NULL, audited as "auto").
 *
 * Persistence: the store gets a delegate's row when its persistent fields
 * differ from what was last written (compared at each flush, so a burst of
 * changes is one write), the session row when session or mode change, and
 * every audit record and speaking interval as they happen. While the meeting
 * shuts down, the disconnects it causes are not written: a restart finds the
 * queue as it was.
 *
 * The bridge: every media call (join_webrtc, leave, set_media, quality,
 * media_port) and the clock go through the fb_meeting_bridge table given to
 * fb_meeting_new, never to bridge/bridge.h directly, so the meeting can be
 * driven without a live bridge (tests/fuzz/fuzz_meeting.c).
 *
 * Client mistakes are answered with an error and counted; at
 * FB_MAX_CLIENT_ERRORS the connection is closed (1008). A join refused by the
 * bridge (join_failed), our own failures (internal) and refusals by the floor
 * or the chat rules (chair.c) are not counted.
 */
#include "signalling/meeting.h"
#include "signalling/revoke.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "signalling/meeting_int.h"
#include "signalling/sdp.h"
#include "signalling/turn.h"

int64_t fb_meeting_now_ms(const fb_meeting *m) {
  if (m->br.now_ms) return m->br.now_ms(m->br.ud);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The joined session of delegate id (at most one: a new one replaces). */
static fb_session *session_of(fb_meeting *m, const char *id) {
  for (fb_session *s = m->sessions; s; s = s->next)
    if (s->joined && s->in_floor && strcmp(s->tok.delegate, id) == 0) return s;
  return NULL;
}

/* ---- the floor's hooks --------------------------------------------------- */

/* Give the bridge participant (if any) what the floor wants. */
static void apply_media(fb_session *s) {
  if (!s->bridge_pid) return;
  int uplink = s->uplink && s->media_uplink;
  fb_media_state want = uplink ? s->media : FB_MEDIA_LISTEN;
  if (want == s->applied_media && uplink == s->applied_uplink) return;
  char err[256] = "";
  if (s->m->br.set_media(s->m->br.ud, s->bridge_pid, want, uplink, err, sizeof err) < 0) {
    fb_log(FB_LOG_WARN, "signalling", "%s#%d: the bridge refused media state %d: %s",
           s->tok.delegate, s->pid, (int)want, err);
    return;
  }
  s->applied_media = want;
  s->applied_uplink = uplink;
}

/* The floor's wish in the bridge's terms (floor.h has its own enum so that
 * the rules do not depend on the mixer). */
static fb_media_state bridge_media(fb_floor_media media) {
  switch (media) {
  case FB_FLOOR_MEDIA_LIVE: return FB_MEDIA_LIVE;
  case FB_FLOOR_MEDIA_MEASURE: return FB_MEDIA_MEASURE;
  default: return FB_MEDIA_LISTEN;
  }
}

static void hook_media(void *ud, const char *id, fb_floor_media media, int uplink) {
  fb_session *s = session_of(ud, id);
  if (!s) return;
  s->media = bridge_media(media);
  s->media_uplink = uplink;
  apply_media(s);
}

static void hook_changed(void *ud, const char *what) {
  fb_meeting *m = ud;
  if (strcmp(what, "roster") == 0)
    m->dirty |= FB_DIRTY_ROSTER | FB_DIRTY_YOU;
  else if (strcmp(what, "queue") == 0)
    m->dirty |= FB_DIRTY_QUEUE | FB_DIRTY_YOU;
  else
    m->dirty |= FB_DIRTY_STATE;
}

static void hook_delegate(void *ud, int index) { fb_bc_roster_mark(ud, index); }

void fb_meeting_audit(fb_meeting *m, int64_t ms, const char *actor, const char *action,
                      const char *target, const char *detail) {
  fb_log(FB_LOG_INFO, "audit", "%s %s%s%s%s%s", actor, action, target && *target ? " " : "",
         target ? target : "", detail && *detail ? ": " : "", detail ? detail : "");
  if (m->store)
    fb_store_audit(m->store, ms, actor, action, target ? target : "", detail ? detail : "");
}

static void hook_audit(void *ud, int64_t ms, const char *actor, const char *action,
                       const char *target, const char *detail) {
  fb_meeting_audit(ud, ms, actor, action, target, detail);
}

static const char *session_name(fb_meeting *m, int session) {
  const fb_floor_config *fc = fb_floor_get_config(m->floor);
  return session >= 0 && session < fc->nsessions ? fc->sessions[session].name : "";
}

static void hook_spoken(void *ud, const char *id, int session, int64_t start_ms, int64_t end_ms) {
  fb_meeting *m = ud;
  const fb_delegate *d = fb_floor_find(m->floor, id);
  fb_log(FB_LOG_DEBUG, "signalling", "%s spoke %lld ms", id, (long long)(end_ms - start_ms));
  if (m->store)
    fb_store_spoken(m->store, id, d ? d->name : id, session, session_name(m, session), start_ms,
                    end_ms);
}

/* ---- persistence ----------------------------------------------------------- */

static void row_of(const fb_delegate *d, fb_saved_row *r) {
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", d->id);
  snprintf(r->name, sizeof r->name, "%s", d->name);
  r->role = (int)d->role;
  r->state = (int)d->state;
  r->chair_muted = d->chair_muted;
  r->requested_ms = d->requested_ms;
  r->barred_ms = d->barred_ms;
  snprintf(r->bar_reason, sizeof r->bar_reason, "%s", d->bar_reason);
  snprintf(r->barred_by, sizeof r->barred_by, "%s", d->barred_by);
}

/* The saved row of delegate number i (same index first: the floor appends). */
static fb_saved_row *saved_row(fb_meeting *m, int i, const char *id) {
  if (i < m->nsaved && strcmp(m->saved[i].id, id) == 0) return &m->saved[i];
  for (int k = 0; k < m->nsaved; k++)
    if (strcmp(m->saved[k].id, id) == 0) return &m->saved[k];
  if (m->nsaved == m->capsaved) {
    int cap = m->capsaved ? 2 * m->capsaved : 64;
    fb_saved_row *n = realloc(m->saved, (size_t)cap * sizeof *n);
    if (!n) return NULL;
    m->saved = n;
    m->capsaved = cap;
  }
  fb_saved_row *r = &m->saved[m->nsaved++];
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", id);
  r->state = -1; /* never written */
  return r;
}

void fb_meeting_persist(fb_meeting *m, int write) {
  if (!m->store || m->shutting_down) return;
  int n = fb_floor_count(m->floor);
  for (int i = 0; i < n; i++) {
    const fb_delegate *d = fb_floor_at(m->floor, i);
    fb_saved_row now, *was = saved_row(m, i, d->id);
    row_of(d, &now);
    if (!was || memcmp(&now, was, sizeof now) == 0) continue;
    if (write) fb_store_save_delegate(m->store, d);
    *was = now;
  }
  int session = fb_floor_session_now(m->floor), mode = (int)fb_floor_mode_now(m->floor);
  if (session != m->saved_session || mode != m->saved_mode) {
    if (write)
      fb_store_save_session(m->store, session, session_name(m, session), (fb_floor_mode)mode);
    m->saved_session = session;
    m->saved_mode = mode;
  }
}

/* ---- life cycle ---------------------------------------------------------------- */

/* The floor's rules from the config. */
static void floor_config(const fb_config *cfg, fb_floor_config *fc) {
  memset(fc, 0, sizeof *fc);
  fc->max_live = cfg->floor_max_live > 0 ? cfg->floor_max_live : cfg->max_live;
  fb_session_spec spec[FB_MAX_SESSIONS];
  int n = fb_config_sessions(cfg->floor_sessions, spec, FB_MAX_SESSIONS, NULL);
  if (n < 1) { /* validated before; a config built in code may skip that */
    n = 1;
    snprintf(spec[0].name, sizeof spec[0].name, "Meeting");
    spec[0].webcast = 0;
  }
  for (int i = 0; i < n && i < FB_FLOOR_MAX_SESSIONS; i++) {
    _Static_assert(sizeof fc->sessions[i].name == sizeof spec[i].name, "session name sizes");
    memcpy(fc->sessions[i].name, spec[i].name, sizeof spec[i].name);
    fc->sessions[i].mode = spec[i].webcast ? FB_MODE_WEBCAST : FB_MODE_INTERACTIVE;
  }
  fc->nsessions = n < FB_FLOOR_MAX_SESSIONS ? n : FB_FLOOR_MAX_SESSIONS;
  fc->min_mos = cfg->floor_min_mos;
  fc->max_loss_pct = cfg->floor_max_loss_pct;
  fc->flag_after_ms = cfg->floor_flag_after_ms;
  fc->recover_after_ms = cfg->floor_recover_after_ms;
  fc->auto_cut = cfg->floor_auto_cut;
}

fb_meeting *fb_meeting_new(const fb_config *cfg, const fb_meeting_bridge *br, const char *secret,
                           const fb_session_io *io) {
  fb_meeting *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->cfg = *cfg;
  m->br = *br;
  snprintf(m->secret, sizeof m->secret, "%s", secret ? secret : "");
  m->io = *io;
  m->chat_to_all = cfg->chat_delegates_to_all;
  m->saved_session = m->saved_mode = -1;
  fb_floor_config fc;
  floor_config(cfg, &fc);
  fb_floor_hooks hooks = {hook_media, hook_changed, hook_audit, hook_spoken, hook_delegate};
  m->floor = fb_floor_new(&fc, &hooks, m);
  if (!m->floor) {
    free(m);
    return NULL;
  }
  if (cfg->floor_start_session > 0 && cfg->floor_start_session < fc.nsessions)
    fb_floor_restore_session(m->floor, cfg->floor_start_session,
                             fc.sessions[cfg->floor_start_session].mode);
  if (cfg->revoked_file[0]) m->revoked = fb_revoked_new(cfg->revoked_file);
  return m;
}

int fb_meeting_load_store(fb_meeting *m, char *err, size_t errlen) {
  if (!m->cfg.store_path[0]) {
    fb_log(FB_LOG_INFO, "signalling",
           "no [store] path: bars, the queue and the audit log are "
           "kept in memory only");
    return 0;
  }
  char why[512] = "";
  m->store = fb_store_open(m->cfg.store_path, m->cfg.meeting_id, why, sizeof why);
  if (!m->store) {
    snprintf(err, errlen, "[store] path: %s: %s", m->cfg.store_path, why);
    return -1;
  }
  int n = fb_store_load(m->store, m->floor);
  if (n < 0) {
    snprintf(err, errlen, "[store] path: %s: cannot read the saved state", m->cfg.store_path);
    fb_store_close(m->store);
    m->store = NULL;
    return -1;
  }
  fb_meeting_persist(m, 0); /* what the store holds now */
  fb_log(FB_LOG_INFO, "signalling", "store %s: %d delegates restored; session %d (%s, %s)",
         m->cfg.store_path, n, fb_floor_session_now(m->floor),
         session_name(m, fb_floor_session_now(m->floor)),
         fb_floor_mode_name(fb_floor_mode_now(m->floor)));
  return 0;
}

void fb_meeting_shutdown(fb_meeting *m) {
  if (m->shutting_down) return;
  fb_meeting_persist(m, 1);
  m->shutting_down = 1;
}

void fb_meeting_free(fb_meeting *m) {
  if (!m) return;
  fb_meeting_shutdown(m);
  while (m->sessions) fb_meeting_close(m, m->sessions);
  fb_floor_free(m->floor);
  fb_store_close(m->store);
  fb_revoked_free(m->revoked);
  free(m->saved);
  free(m->snap);
  free(m->marks.on);
  free(m->marks.list);
  memset(m->secret, 0, sizeof m->secret);
  free(m);
}

int fb_meeting_sessions(const fb_meeting *m) { return m->nsessions; }

const fb_floor *fb_meeting_floor(const fb_meeting *m) { return m->floor; }

int fb_session_closing(const fb_session *s) { return s->closing; }

fb_session *fb_meeting_open(fb_meeting *m, void *conn) {
  fb_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->m = m;
  s->conn = conn;
  s->last_count = -1;
  s->didx = -1;
  s->next = m->sessions;
  if (m->sessions) m->sessions->prev = s;
  m->sessions = s;
  m->nsessions++;
  return s;
}

void fb_meeting_send(fb_session *s, char *json) {
  if (json)
    s->m->io.send(s->conn, json);
  else
    fb_log(FB_LOG_ERROR, "signalling", "out of memory building a message");
  free(json);
}

static void close_session(fb_session *s, int code, const char *reason) {
  if (s->closing) return;
  s->closing = 1;
  s->m->io.close(s->conn, code, reason);
}

/* Send an error; counted ones close the connection at FB_MAX_CLIENT_ERRORS. */
void fb_meeting_reply_error(fb_session *s, const char *code, const char *message,
                            const char *request, int counted) {
  fb_meeting_send(s, fb_msg_error(code, message, request));
  fb_bc_count_error(s->m, code);
  fb_log(FB_LOG_DEBUG, "signalling", "session %p: error %s: %s", (void *)s, code, message);
  if (counted && ++s->errors >= FB_MAX_CLIENT_ERRORS) {
    fb_meeting_send(
        s, fb_msg_error("too_many_errors", "too many errors; closing the connection", NULL));
    fb_bc_count_error(s->m, "too_many_errors");
    close_session(s, 1008, "too many errors");
  }
}

void fb_meeting_error(fb_meeting *m, fb_session *s, const char *code, const char *message) {
  (void)m;
  if (!s->closing) fb_meeting_reply_error(s, code, message, NULL, 1);
}

/* Take the session's participant out of the bridge (if it is in). */
static void leave_bridge(fb_session *s) {
  if (!s->bridge_pid) return;
  if (s->m->br.leave(s->m->br.ud, s->bridge_pid) < 0)
    fb_log(FB_LOG_DEBUG, "signalling", "participant %d was already gone", s->bridge_pid);
  s->bridge_pid = 0;
}

/* The session stops being its delegate's connection: off the floor and out
 * of the queue (the floor keeps bars and chair mutes). */
static void leave_floor(fb_session *s) {
  if (!s->in_floor) return;
  s->in_floor = 0;
  fb_floor_disconnect(s->m->floor, s->tok.delegate, fb_meeting_now_ms(s->m));
}

void fb_meeting_close(fb_meeting *m, fb_session *s) {
  if (s->joined)
    fb_log(FB_LOG_INFO, "signalling", "%s#%d (%s) disconnected", s->tok.delegate, s->pid,
           fb_role_name(s->tok.role));
  leave_bridge(s);
  leave_floor(s);
  if (s->prev)
    s->prev->next = s->next;
  else
    m->sessions = s->next;
  if (s->next) s->next->prev = s->prev;
  m->nsessions--;
  free(s->last_you);
  free(s->chat_times);
  memset(s, 0, sizeof *s);
  free(s);
}

/* The older session of a delegate who joined again: the floor connection
 * passes to the new session without a disconnect. */
static void replace(fb_session *old) {
  fb_log(FB_LOG_INFO, "signalling", "%s#%d replaced by a new connection", old->tok.delegate,
         old->pid);
  fb_meeting_send(old,
                  fb_msg_event("replaced", "the same delegate joined from another connection"));
  leave_bridge(old);
  old->in_floor = 0;
  old->joined = 0;
  close_session(old, 1000, "replaced");
}

/* The revoked file changed: everyone it now names is told why, taken out of
 * the mix and the floor at once (not when the socket finally closes), audited
 * and disconnected. */
void fb_meeting_revocations(fb_meeting *m) {
  if (!fb_revoked_refresh(m->revoked)) return;
  int64_t now = fb_meeting_now_ms(m);
  for (fb_session *s = m->sessions; s; s = s->next) {
    if (!s->joined || s->closing || !fb_revoked_check(m->revoked, &s->tok)) continue;
    fb_log(FB_LOG_WARN, "signalling", "%s#%d revoked while connected: disconnecting",
           s->tok.delegate, s->pid);
    fb_meeting_send(s, fb_msg_error("token_revoked",
                                    "the secretariat has withdrawn this "
                                    "invitation: you have been disconnected",
                                    NULL));
    fb_bc_count_error(m, "token_revoked");
    fb_meeting_audit(m, now, "secretariat", "revoke", s->tok.delegate,
                     s->tok.jti[0] ? s->tok.jti : "revoked_file");
    leave_bridge(s);
    leave_floor(s);
    s->joined = 0;
    m->dirty |= FB_DIRTY_ROSTER;
    close_session(s, 1008, "token revoked");
  }
}

void fb_meeting_reload(fb_meeting *m) { fb_meeting_revocations(m); }

static void on_join(fb_meeting *m, fb_session *s, const fb_msg *msg) {
  if (s->joined) {
    fb_meeting_reply_error(s, "already_joined",
                           "this connection has joined already (send leave "
                           "first)",
                           "join", 1);
    return;
  }
  fb_token tok;
  int64_t now = fb_meeting_now_ms(m);
  fb_token_error e = fb_token_verify(m->secret[0] ? m->secret : NULL, m->cfg.meeting_id, msg->token,
                                     (long long)(now / 1000), &tok);
  if (e != FB_TOKEN_OK) {
    fb_log(FB_LOG_INFO, "signalling", "join refused: %s", fb_token_error_code(e));
    fb_meeting_reply_error(s, fb_token_error_code(e), fb_token_error_message(e), "join", 1);
    return;
  }
  if (fb_revoked_check(m->revoked, &tok)) {
    fb_log(FB_LOG_WARN, "signalling", "join refused: token of %s revoked", tok.delegate);
    fb_meeting_reply_error(s, "token_revoked", "this token has been revoked by the secretariat",
                           "join", 1);
    return;
  }
  int reconnect = 0;
  for (fb_session *o = m->sessions; o; o = o->next)
    if (o != s && o->joined && strcmp(o->tok.delegate, tok.delegate) == 0) {
      reconnect |= o->in_floor;
      replace(o);
    }
  s->tok = tok;
  s->joined = 1;
  s->in_floor = 1;
  s->pid = ++m->next_pid;
  s->uplink = tok.role != FB_ROLE_OBSERVER;
  s->media = FB_MEDIA_LISTEN;
  s->media_uplink = s->uplink;
  s->can_speak = s->uplink && (tok.speak || m->cfg.open_floor);
  fb_floor_connect(m->floor, tok.delegate, tok.name, tok.role, now);
  s->didx = fb_floor_index(m->floor, tok.delegate);
  const fb_delegate *d = fb_floor_find(m->floor, tok.delegate);
  if (s->can_speak && d && (d->state == FB_FLOOR_LISTENING || d->state == FB_FLOOR_QUEUED) &&
      fb_floor_mode_now(m->floor) == FB_MODE_INTERACTIVE) {
    /* actor NULL: the bridge itself (audited as "auto"), same rules as a chair */
    const char *why = fb_floor_grant(m->floor, NULL, tok.delegate, now);
    if (why) fb_log(FB_LOG_INFO, "signalling", "%s: no automatic floor: %s", tok.delegate, why);
    d = fb_floor_find(m->floor, tok.delegate);
  }
  s->initial = 1;
  m->dirty |= FB_DIRTY_NEW;
  json_t *ice = fb_turn_ice_servers(m->cfg.turn_urls, m->cfg.turn_secret, m->cfg.turn_ttl_s,
                                    tok.delegate, (long long)(now / 1000));
  fb_msg_joined_info j = {s->pid,
                          tok.meeting,
                          tok.delegate,
                          tok.name,
                          fb_role_name(tok.role),
                          s->can_speak,
                          d && d->state == FB_FLOOR_LIVE,
                          ice ? ice : json_array(),
                          s->uplink,
                          d ? fb_floor_state_name(d->state) : "listening"};
  fb_meeting_send(s, fb_msg_joined(&j));
  json_decref(j.ice_servers);
  fb_log(FB_LOG_INFO, "signalling", "%s#%d %s as %s (%s)", tok.delegate, s->pid,
         reconnect ? "reconnected" : "joined", fb_role_name(tok.role), j.state);
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
  if (ans->candidate_port <= 0) ans->candidate_port = m->br.media_port(m->br.ud);
}

static void on_offer(fb_meeting *m, fb_session *s, const fb_msg *msg) {
  if (!s->joined) {
    fb_meeting_reply_error(s, "not_joined", "join first", "offer", 1);
    return;
  }
  fb_sdp_offer *offer = malloc(sizeof *offer);
  char why[256], name[FB_NAME_MAX];
  if (!offer) {
    fb_meeting_reply_error(s, "internal", "out of memory", "offer", 0);
    return;
  }
  fb_sdp_error e = fb_sdp_parse_offer(msg->sdp, msg->sdp_len, offer, why, sizeof why);
  if (e != FB_SDP_OK) {
    fb_meeting_reply_error(s, fb_sdp_error_code(e), why, "offer", 1);
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
  /* created listening; apply_media then gives it what the floor wants */
  if (m->br.join_webrtc(m->br.ud, name, 0, s->uplink, &w, &ans, &bpid, berr, sizeof berr) < 0) {
    fb_log(FB_LOG_WARN, "signalling", "%s: the bridge refused the join: %s", name, berr);
    fb_meeting_reply_error(s, "join_failed", berr[0] ? berr : "the bridge refused the participant",
                           "offer", 0);
    free(offer);
    return;
  }
  fill_candidate(m, &ans);
  char *sdp = fb_sdp_build_answer(offer, &ans, s->uplink, why, sizeof why);
  free(offer);
  if (!sdp) {
    m->br.leave(m->br.ud, bpid);
    fb_log(FB_LOG_ERROR, "signalling", "%s: cannot build the answer: %s", name, why);
    fb_meeting_reply_error(s, "internal", why, "offer", 0);
    return;
  }
  s->bridge_pid = bpid;
  s->applied_media = FB_MEDIA_LISTEN;
  s->applied_uplink = s->uplink;
  apply_media(s);
  fb_meeting_send(s, fb_msg_answer(sdp));
  free(sdp);
  fb_log(FB_LOG_INFO, "signalling", "%s: answered (participant %d, %s)", name, bpid,
         s->uplink ? "sendrecv" : "listen-only");
}

static void on_leave(fb_meeting *m, fb_session *s) {
  (void)m;
  if (!s->joined) {
    fb_meeting_reply_error(s, "not_joined", "not joined", "leave", 1);
    return;
  }
  fb_log(FB_LOG_INFO, "signalling", "%s#%d left", s->tok.delegate, s->pid);
  leave_bridge(s);
  leave_floor(s);
  s->joined = 0;
  free(s->last_you);
  s->last_you = NULL;
  s->last_count = -1;
  fb_meeting_send(s, fb_msg_left());
}

void fb_meeting_message(fb_meeting *m, fb_session *s, const char *text, size_t len) {
  if (s->closing) return;
  fb_msg msg;
  char why[256];
  const char *code = fb_msg_parse(text, len, &msg, why, sizeof why);
  if (code) {
    fb_meeting_reply_error(s, code, why, msg.type_name, 1);
    fb_msg_free(&msg);
    return;
  }
  switch (msg.type) {
  case FB_MSG_JOIN: on_join(m, s, &msg); break;
  case FB_MSG_OFFER: on_offer(m, s, &msg); break;
  case FB_MSG_LEAVE: on_leave(m, s); break;
  case FB_MSG_PING: fb_meeting_send(s, fb_msg_pong(msg.id)); break;
  default: fb_chair_message(m, s, &msg); break;
  }
  fb_msg_free(&msg);
}

/* A participant's media is gone (consent expired: the browser stopped its
 * connectivity checks, or DTLS failed): the meeting is not held up for it.
 * Off the floor and out of the bridge now, audited, the chairs told; the
 * socket is closed so a page that is still alive reconnects on its own. */
static void media_lost(fb_meeting *m, fb_session *s, const char *event, const char *detail) {
  char what[512];
  snprintf(what, sizeof what, "%s (%s): %s%s%s", s->tok.name, s->tok.delegate, event,
           detail[0] ? " — " : "", detail);
  fb_log(FB_LOG_WARN, "signalling", "media lost: %s", what);
  if (m->store)
    fb_store_audit(m->store, fb_meeting_now_ms(m), "auto", event, s->tok.delegate, detail);
  leave_bridge(s);
  leave_floor(s);
  char *msg = fb_msg_event("participant_lost", what);
  if (msg) {
    fb_bc_to_chairs(m, msg);
    free(msg);
  }
  close_session(s, 1011, "media connection lost");
}

void fb_meeting_event(fb_meeting *m, int pid, const char *event, const char *detail) {
  /* The bridge has freed a participant that left (fb_bridge_leave returns
   * at once; this is its completion). The session let go of the pid when it
   * left, so there is nobody to tell. */
  if (strcmp(event, "media_released") == 0) return;
  for (fb_session *s = m->sessions; s; s = s->next) {
    if (s->closing || !(pid == 0 ? s->joined : s->bridge_pid == pid)) continue;
    fb_meeting_send(s, fb_msg_event(event, detail));
    if (pid && (strcmp(event, "consent_lost") == 0 || strcmp(event, "dtls_failed") == 0))
      media_lost(m, s, event, detail);
  }
}
