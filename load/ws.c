/*
 * ws.c — the signalling thread's sessions: one libwebsockets client context
 * holding every participant's WebSocket (and the chair's).
 *
 * Why libwebsockets' own loop on its own thread: Debian's lws 4.1 is built
 * without LWS_WITH_EXTERNAL_POLL, so its sockets cannot be put in the media
 * thread's epoll. Its poll() loop costs O(connections) per wake-up, which is
 * fine for signalling (a few messages per participant, then idle), while the
 * 50 packets/s per participant of media stay in epoll (media.c).
 *
 * A session: connect -> ESTABLISHED (t_open) -> send join{token} -> joined ->
 * make an fb_rtc_client, send offer{sdp} -> answer -> set_remote, hand the
 * client to the media thread (which records the first downlink packet: the
 * join time is t_open -> first downlink RTP). Messages are gathered from
 * fragments; anything over RX_MAX bytes (a chair's full roster) is skipped
 * without parsing. Writes go through a per-session queue, one lws_write per
 * WRITEABLE callback.
 *
 * The run's phases (ramp, window, churn, leave) are in schedule.c.
 *
 * Sessions are never freed during the run (churn makes new ones), so no
 * callback can meet a freed session; all are freed at the end.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "load/sdp_offer.h"
#include "load/ws_int.h"
#include "signalling/token.h"

#define RX_MAX 65536

ld_ws_state W;

void ld_sess_unref(ld_sess *s) { atomic_fetch_sub(&s->refs, 1); /* freed at the end */ }

uint32_t ld_ws_rnd(void) { /* xorshift32 */
  uint32_t x = W.rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return W.rng = x;
}

/* ---- sending ----------------------------------------------------------------- */

int ld_ws_send(ld_sess *s, const char *text) {
  if (!s || !s->wsi) return -1;
  size_t n = strlen(text);
  ld_out *o = malloc(sizeof *o + LWS_PRE + n);
  if (!o) return -1;
  o->next = NULL;
  o->len = n;
  memcpy(o->buf + LWS_PRE, text, n);
  if (s->outq_tail)
    s->outq_tail->next = o;
  else
    s->outq = o;
  s->outq_tail = o;
  lws_callback_on_writable(s->wsi);
  return 0;
}

static void close_soon(ld_sess *s) {
  if (!s->wsi || s->close_after_send) return;
  s->close_after_send = 1;
  s->state = SS_CLOSING;
  lws_callback_on_writable(s->wsi);
}

void ld_ws_fail(ld_sess *s, const char *why) {
  ld_run *r = W.r;
  if (s->state == SS_MEDIA) ld_media_remove(r, s);
  if (s->c) {
    fb_rtc_client_free(s->c);
    s->c = NULL;
  }
  snprintf(s->fail_why, sizeof s->fail_why, "%s", why);
  if (s->part->role == LD_CHAIR) {
    fprintf(stderr, "floorbridge-load: chair: %s\n", why);
  } else {
    ld_join_done(r, s, 0, why);
  }
  s->state = SS_FAILED;
  close_soon(s);
}

/* ---- a session ----------------------------------------------------------------- */

ld_sess *ld_ws_connect(ld_part *p) {
  ld_run *r = W.r;
  ld_sess *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (W.nall == W.capall) {
    size_t cap = W.capall ? W.capall * 2 : 1024;
    ld_sess **v = realloc(W.all, cap * sizeof *v);
    if (!v) {
      free(s);
      return NULL;
    }
    W.all = v;
    W.capall = cap;
  }
  W.all[W.nall++] = s;
  atomic_init(&s->refs, 1);
  atomic_init(&s->outcome, 0);
  s->part = p;
  s->gen = p->sessions++;
  s->decode = p->decode;
  s->speaker = p->role == LD_SPEAKER;
  p->sess = s;
  s->state = SS_CONNECTING;
  s->t_connect = fb_now_ns();
  if (p->role != LD_CHAIR) atomic_fetch_add(&r->joins_started, 1);
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = W.ctx;
  ci.address = r->o.host;
  ci.port = r->o.port;
  ci.path = r->o.path;
  ci.host = r->o.host;
  ci.origin = r->o.host;
  ci.ssl_connection =
      r->o.tls ? LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
               : 0;
  ci.local_protocol_name = p->role == LD_CHAIR ? "fbload-chair" : "fbload";
  ci.opaque_user_data = s;
  ci.pwsi = &s->wsi;
  if (!lws_client_connect_via_info(&ci)) {
    s->wsi = NULL;
    ld_ws_fail(s, "WebSocket connect failed at once");
  }
  return s;
}

static void send_join(ld_sess *s) {
  ld_run *r = W.r;
  ld_part *p = s->part;
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", r->o.meeting);
  snprintf(t.delegate, sizeof t.delegate, "%s", p->delegate);
  snprintf(t.name, sizeof t.name, "Load %s", p->delegate);
  t.role = p->role == LD_CHAIR ? FB_ROLE_CHAIR : FB_ROLE_DELEGATE;
  t.exp = (long long)time(NULL) + 6 * 3600;
  /* until the bridge speaks floor control, speakers are put on the floor by
   * their token ("speak": auto-granted) */
  t.speak = p->role == LD_SPEAKER && !r->chair_protocol && p->index < r->o.speakers;
  char tok[FB_TOKEN_MAX + 1], msg[FB_TOKEN_MAX + 64];
  if (fb_token_mint(r->o.secret, &t, tok, sizeof tok) < 0) {
    ld_ws_fail(s, "cannot mint a token (is the secret at least 16 bytes?)");
    return;
  }
  snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}", tok);
  ld_ws_send(s, msg);
}

static void send_offer(ld_sess *s) {
  ld_run *r = W.r;
  char err[256];
  s->c = fb_rtc_client_new(r->ctx, r->o.bind_ip, err, sizeof err);
  if (!s->c) {
    char why[300];
    snprintf(why, sizeof why, "client: %s", err);
    ld_ws_fail(s, why);
    return;
  }
  char sdp[4096], msg[8192];
  unsigned long long sid = ((unsigned long long)ld_ws_rnd() << 20) ^ ld_ws_rnd();
  if (ld_sdp_offer(sdp, sizeof sdp, fb_rtc_client_ufrag(s->c), fb_rtc_client_pwd(s->c),
                   fb_rtc_client_ctx_fingerprint(r->ctx), "sendrecv", sid) < 0) {
    ld_ws_fail(s, "offer too long");
    return;
  }
  json_t *o = json_pack("{s:i, s:s, s:s}", "v", 1, "type", "offer", "sdp", sdp);
  char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  if (!text) {
    ld_ws_fail(s, "out of memory");
    return;
  }
  snprintf(msg, sizeof msg, "%s", text);
  free(text);
  ld_ws_send(s, msg);
}

static void on_answer(ld_sess *s, const char *sdp) {
  ld_run *r = W.r;
  ld_answer a;
  char err[200];
  if (!s->c) return;
  if (ld_sdp_parse_answer(sdp, &a, err, sizeof err) < 0) {
    ld_ws_fail(s, err);
    return;
  }
  if (fb_rtc_client_set_remote(s->c, a.ip, a.port, a.ufrag, a.pwd, a.fingerprint, LD_OPUS_PT) < 0) {
    char why[300];
    snprintf(why, sizeof why, "set_remote: %s", fb_rtc_client_error(s->c));
    ld_ws_fail(s, why);
    return;
  }
  s->t_answer = fb_now_ns();
  ld_samples_add(&r->answer_ms, (double)(s->t_answer - s->t_open) / 1e6);
  s->state = SS_MEDIA;
  s->mc = s->c; /* the client belongs to the media thread from here */
  s->c = NULL;
  ld_media_add(r, s);
}

static void on_message(ld_sess *s, const char *text, size_t len) {
  ld_run *r = W.r;
  json_error_t je;
  json_t *m = json_loadb(text, len, 0, &je);
  const char *type = m ? json_string_value(json_object_get(m, "type")) : NULL;
  if (!type) {
    json_decref(m);
    return;
  }
  int chair = s->part->role == LD_CHAIR;
  if (!strcmp(type, "joined")) {
    s->t_joined = fb_now_ns();
    s->pid = (int)json_integer_value(json_object_get(m, "pid"));
    if (chair) {
      s->state = SS_JOINED;
      ld_chair_on_joined(r);
    } else if (s->state == SS_OPEN) {
      s->state = SS_JOINED;
      ld_samples_add(&r->joined_ms, (double)(s->t_joined - s->t_open) / 1e6);
      send_offer(s);
      if (s->speaker && r->chair_protocol) ld_chair_speaker_joined(r, s->part);
    }
  } else if (!strcmp(type, "answer") && !chair && s->state == SS_JOINED) {
    const char *sdp = json_string_value(json_object_get(m, "sdp"));
    if (sdp)
      on_answer(s, sdp);
    else
      ld_ws_fail(s, "answer without sdp");
  } else if (!strcmp(type, "error")) {
    const char *code = json_string_value(json_object_get(m, "code"));
    const char *req = json_string_value(json_object_get(m, "request"));
    const char *msg = json_string_value(json_object_get(m, "message"));
    if (chair) {
      ld_chair_on_reply(r, type, code, req);
    } else if (req && (!strcmp(req, "join") || !strcmp(req, "offer")) && s->state >= SS_OPEN &&
               s->state <= SS_JOINED) {
      char why[300];
      snprintf(why, sizeof why, "%s: %s (%s)", req, code ? code : "?", msg ? msg : "");
      ld_ws_fail(s, why);
    } else if (r->o.verbose) {
      fprintf(stderr, "floorbridge-load: %s: error %s for %s\n", s->part->delegate,
              code ? code : "?", req ? req : "?");
    }
  } else if (!strcmp(type, "left")) {
    s->left = 1;
  } else if (!strcmp(type, "event") && r->o.verbose) {
    const char *ev = json_string_value(json_object_get(m, "event"));
    fprintf(stderr, "floorbridge-load: %s: event %s\n", s->part->delegate, ev ? ev : "?");
  }
  json_decref(m);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  (void)user;
  ld_sess *s = wsi ? lws_get_opaque_user_data(wsi) : NULL;
  switch (reason) {
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    if (s) {
      char why[200];
      snprintf(why, sizeof why, "WebSocket: %s", in ? (const char *)in : "connection error");
      s->wsi = NULL;
      if (s->state != SS_FAILED) ld_ws_fail(s, why);
    }
    break;
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    if (!s) break;
    s->state = SS_OPEN;
    s->t_open = fb_now_ns();
    if (s->part->role != LD_CHAIR)
      ld_samples_add(&W.r->connect_ms, (double)(s->t_open - s->t_connect) / 1e6);
    send_join(s);
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    if (!s) break;
    if (s->part->role == LD_CHAIR) {
      W.r->chair_rx_bytes += len;
      W.r->chair_rx_msgs += lws_is_final_fragment(wsi) != 0;
    }
    if (lws_is_first_fragment(wsi)) s->rxlen = 0, s->rx_skip = 0;
    if (!s->rx_skip) {
      if (s->rxlen + len >= RX_MAX) {
        s->rx_skip = 1;
      } else {
        if (s->rxcap < s->rxlen + len + 1) {
          size_t cap = s->rxcap ? s->rxcap : 4096;
          while (cap < s->rxlen + len + 1) cap *= 2;
          char *v = realloc(s->rx, cap);
          if (!v) return -1;
          s->rx = v;
          s->rxcap = cap;
        }
        memcpy(s->rx + s->rxlen, in, len);
        s->rxlen += len;
      }
    }
    if (lws_is_final_fragment(wsi)) {
      if (!s->rx_skip && s->rxlen) on_message(s, s->rx, s->rxlen);
      s->rxlen = 0;
      s->rx_skip = 0;
    }
    break;
  case LWS_CALLBACK_CLIENT_WRITEABLE: {
    if (!s) break;
    ld_out *o = s->outq;
    if (o) {
      s->outq = o->next;
      if (!s->outq) s->outq_tail = NULL;
      int n = lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
      free(o);
      if (n < 0) return -1;
      if (s->outq) {
        lws_callback_on_writable(wsi);
        break;
      }
    }
    if (s->close_after_send) {
      lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
      return -1;
    }
    break;
  }
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (s && (s->part->role == LD_CHAIR || W.r->o.verbose) && len >= 2) {
      const unsigned char *b = in;
      fprintf(stderr, "floorbridge-load: %s: the bridge closed the WebSocket (%d%s%.*s)\n",
              s->part->delegate, b[0] << 8 | b[1], len > 2 ? ": " : "", (int)(len - 2),
              (const char *)b + 2);
    }
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (s && s->state != SS_CLOSING && s->state != SS_FAILED) {
      if (s->part->role == LD_CHAIR) { /* a console reconnects: so does the chair */
        W.r->chair_dropped++;
        W.chair_rejoin_at = fb_now_ns() + LD_S;
        fprintf(stderr,
                "floorbridge-load: chair: the bridge closed its WebSocket; "
                "reconnecting in 1 s\n");
      } else if (W.phase < PH_LEAVE)
        ld_ws_fail(s, "WebSocket closed by the bridge");
    }
    break;
  case LWS_CALLBACK_WSI_DESTROY:
    if (s) {
      s->wsi = NULL;
      /* however it went (timeouts inside lws end here without an error
       * callback), a join that had not ended has failed */
      if (s->part->role != LD_CHAIR && W.phase < PH_LEAVE && !atomic_load(&s->outcome)) {
        if (s->state == SS_MEDIA) ld_media_remove(W.r, s);
        ld_join_done(W.r, s, 0, "WebSocket gone before the join completed");
      } else if (s->part->role != LD_CHAIR && W.phase < PH_LEAVE && s->state == SS_MEDIA) {
        ld_media_remove(W.r, s); /* the bridge ends the media with the socket */
        W.r->dropped++;
      }
      if (s->state != SS_FAILED) s->state = SS_CLOSED;
      while (s->outq) {
        ld_out *o = s->outq;
        s->outq = o->next;
        free(o);
      }
      s->outq_tail = NULL;
      free(s->rx);
      s->rx = NULL;
      s->rxcap = s->rxlen = 0;
    }
    break;
  default: break;
  }
  return 0;
}

/* Delegates get small messages (joined, answer, counts): a small frame
 * buffer each. The chair gets the full roster on every change: a big one. */
const struct lws_protocols ld_protocols[] = {{"fbload", callback, 0, 4096, 0, NULL, 0},
                                             {"fbload-chair", callback, 0, 65536, 0, NULL, 0},
                                             {NULL, NULL, 0, 0, 0, NULL, 0}};

/* ---- leaving and the end -------------------------------------------------------- */

void ld_ws_leave(ld_sess *s) {
  if (!s || !s->wsi || s->state == SS_CLOSING || s->state == SS_FAILED) return;
  if (s->state == SS_MEDIA) ld_media_remove(W.r, s);
  if (s->state >= SS_OPEN) ld_ws_send(s, "{\"v\":1,\"type\":\"leave\"}");
  close_soon(s);
}

void ld_ws_free_sessions(void) {
  for (size_t i = 0; i < W.nall; i++) {
    ld_sess *s = W.all[i];
    fb_rtc_client_free(s->c); /* only clients never handed to the media thread */
    free(s->rx);
    free(s);
  }
  free(W.all);
  W.all = NULL;
  W.nall = W.capall = 0;
}
