/*
 * server.c — libwebsockets (4.1) glue for server.h: the context and its one
 * vhost, the mounts, /healthz, WebSocket framing and flow, limits, the event
 * hand-over from bridge threads, and the service thread. What messages mean
 * is meeting.c's business.
 *
 * Design:
 * - One protocol, "floorbridge", is protocols[0]: lws binds a WebSocket
 *   upgrade without a Sec-WebSocket-Protocol header (what `new WebSocket(url)`
 *   sends) to protocols[0], so browsers need no subprotocol. Upgrades are only
 *   accepted on /ws (FILTER_PROTOCOL_CONNECTION checks the path).
 * - Mounts (signalling/http.c): "/healthz" and "/metrics" are callback
 *   mounts on that protocol; "/" is an lws file mount on the realpath of
 *   www, "/webcast" one on [webcast] dir (HLS). lws decodes %XX and collapses
 *   "..", "." and "//" before matching, so a request cannot leave the origin
 *   (tests/unit/test_signalling.c tries). Every other HTTP reason goes to
 *   lws_callback_http_dummy, which does the file serving. /metrics is the
 *   bridge's media counters (fb_bridge_metrics) followed by the meeting's
 *   (fb_meeting_metrics), Prometheus text 0.0.4.
 * - The meeting's coalesced broadcasts: fb_meeting_flush after every
 *   lws_service() round, so what one round of messages changed goes out once.
 *   A 1 s lws_sul timer runs fb_meeting_tick (quality scores to chairs).
 * - Start: the meeting loads its store before the port is opened, so no
 *   connection sees the floor before bars and the queue are back.
 * - Input: a message may come in many RECEIVE callbacks (fragments, and lws
 *   splitting frames into rx_buffer_size pieces); it is gathered into one
 *   buffer, refused as soon as it is known to exceed max_message_bytes
 *   (lws_remaining_packet_payload tells the rest of the frame), and handed on
 *   only when final. Then a token bucket (RATE/s, BURST) per connection.
 * - Output: a per-connection queue, one lws_write per SERVER_WRITEABLE, so
 *   writes never block the thread. A client that does not read is dropped
 *   when its queue passes OUTQ_MAX. A close is requested by setting a code;
 *   it happens once the queue is empty (the error is delivered first), with a
 *   5 s deadline.
 * - The meeting reaches the bridge only through the fb_meeting_bridge table
 *   made here (thin calls into bridge/bridge.h), and the wall clock.
 * - Bridge events come on net/gst threads: they are copied into a bounded
 *   list under a mutex and lws_cancel_service wakes the loop, which drains
 *   the list in EVENT_WAIT_CANCELLED (on the signalling thread).
 * - Per-IP limit: WebSocket connections are counted by peer address and
 *   refused at the upgrade beyond max_connections_per_ip.
 * - Idle connections are pinged after 30 s and dropped after 75 s without
 *   any valid traffic (the vhost's retry_and_idle_policy).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "signalling/server.h"

#include <errno.h>
#include <libwebsockets.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "signalling/tls.h"
#include "util/log.h"
#include "signalling/http.h"
#include "signalling/meeting.h"
#include "signalling/token.h"

#define PROTOCOL_NAME "floorbridge"
#define RATE 20.0                /* messages per second, sustained */
#define BURST 40.0               /* messages at once */
#define OUTQ_MAX (1 << 20)       /* queued bytes before a non-reading client is dropped */
#define MAX_EVENTS 4096          /* queued bridge events before new ones are dropped */
#define METRICS_MAX (256 * 1024) /* the /metrics page */

typedef struct ev {
  struct ev *next;
  int pid;
  char event[32];
  char detail[256];
} ev;

typedef struct out {
  struct out *next;
  size_t len;
  unsigned char buf[]; /* LWS_PRE bytes, then the message */
} out;

typedef struct {
  char ip[64];
  int n;
} ip_count;

/* Per connection (lws allocates and zeroes it; HTTP requests get one too). */
typedef struct {
  struct lws *wsi;
  fb_session *sess;
  char ip[64];
  int counted;
  /* input */
  char *rx;
  size_t rxlen, rxcap;
  int in_msg, binary, discard;
  double tokens;
  struct timespec last;
  /* output */
  out *head, *tail;
  size_t queued;
  int close_code;
  char close_reason[64];
  /* /healthz, /metrics */
  fb_http_reply reply;
} pss;

struct fb_signalling {
  struct lws_context *ctx;
  struct lws_vhost *vh;
  fb_bridge *b;
  fb_meeting *meeting;
  pthread_t thread;
  int started;
  atomic_int stop;
  atomic_int reload; /* fb_signalling_reload asked; done on the signalling thread */
  void *ssl_ctx;     /* the vhost's OpenSSL SSL_CTX (TLS only), for tls.c */
  int port;
  size_t max_msg;
  int max_per_ip;
  char url[128];
  char cert[FB_PATH_MAX], key[FB_PATH_MAX];
  lws_sorted_usec_list_t tick; /* fb_meeting_tick, once a second */
  /* events from bridge threads */
  pthread_mutex_t evlock;
  ev *evhead, *evtail;
  int nev, evdropped;
  /* per-IP WebSocket counts (signalling thread only) */
  ip_count *ips;
  int nips, capips;
  /* refused upgrades: at most one log line a second (signalling thread) */
  time_t refused_logged_at;
  int refused_suppressed;
  /* what lws keeps pointers to */
  struct lws_protocols protocols[2];
  fb_http_mounts mounts;
  lws_retry_bo_t retry;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static void lws_log(int level, const char *line) {
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
  if (strstr(line, "User code denied connection")) return; /* we refused it ourselves */
  fb_log(level == LLL_ERR ? FB_LOG_ERROR : FB_LOG_WARN, "lws", "%.*s", (int)n, line);
}

/* ---- per-IP counts ------------------------------------------------------- */

static ip_count *ip_find(fb_signalling *s, const char *ip) {
  for (int i = 0; i < s->nips; i++)
    if (strcmp(s->ips[i].ip, ip) == 0) return &s->ips[i];
  return NULL;
}

static int ip_add(fb_signalling *s, const char *ip) {
  ip_count *c = ip_find(s, ip);
  if (!c) {
    if (s->nips == s->capips) {
      int cap = s->capips ? 2 * s->capips : 16;
      ip_count *n = realloc(s->ips, (size_t)cap * sizeof *n);
      if (!n) return -1;
      s->ips = n;
      s->capips = cap;
    }
    c = &s->ips[s->nips++];
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    c->n = 0;
  }
  c->n++;
  return 0;
}

static void ip_remove(fb_signalling *s, const char *ip) {
  ip_count *c = ip_find(s, ip);
  if (c && --c->n == 0) *c = s->ips[--s->nips];
}

/* ---- output -------------------------------------------------------------- */

static void conn_send(void *conn, const char *json) {
  pss *p = conn;
  size_t len = strlen(json);
  if (p->close_code < 0) return; /* being dropped */
  if (p->queued + len > OUTQ_MAX) {
    fb_log(FB_LOG_WARN, "signalling", "%s: client does not read its messages; dropping it", p->ip);
    p->close_code = -1;
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return;
  }
  out *o = malloc(sizeof *o + LWS_PRE + len);
  if (!o) return;
  o->next = NULL;
  o->len = len;
  memcpy(o->buf + LWS_PRE, json, len);
  if (p->tail)
    p->tail->next = o;
  else
    p->head = o;
  p->tail = o;
  p->queued += len;
  lws_callback_on_writable(p->wsi);
}

static void conn_close(void *conn, int code, const char *reason) {
  pss *p = conn;
  if (p->close_code) return;
  p->close_code = code;
  snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
  lws_set_timeout(p->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
  lws_callback_on_writable(p->wsi);
}

static int conn_writeable(pss *p) {
  if (p->close_code < 0) return -1;
  out *o = p->head;
  if (o) {
    p->head = o->next;
    if (!p->head) p->tail = NULL;
    p->queued -= o->len;
    int n = lws_write(p->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
    size_t len = o->len;
    free(o);
    if (n < (int)len) return -1;
    if (p->head || p->close_code) lws_callback_on_writable(p->wsi);
    return 0;
  }
  if (p->close_code) {
    lws_close_reason(p->wsi, (enum lws_close_status)p->close_code, (unsigned char *)p->close_reason,
                     strlen(p->close_reason));
    return -1;
  }
  return 0;
}

static void conn_free(fb_signalling *s, pss *p) {
  if (p->sess) fb_meeting_close(s->meeting, p->sess);
  p->sess = NULL;
  while (p->head) {
    out *o = p->head;
    p->head = o->next;
    free(o);
  }
  p->tail = NULL;
  free(p->rx);
  p->rx = NULL;
  if (p->counted) ip_remove(s, p->ip);
  p->counted = 0;
}

/* ---- input --------------------------------------------------------------- */

/* A token for one message? (token bucket, RATE per second up to BURST) */
static int take_token(pss *p) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double dt = (double)(now.tv_sec - p->last.tv_sec) + (now.tv_nsec - p->last.tv_nsec) / 1e9;
  p->last = now;
  p->tokens += dt * RATE;
  if (p->tokens > BURST) p->tokens = BURST;
  if (p->tokens < 1.0) return 0;
  p->tokens -= 1.0;
  return 1;
}

static void message_done(fb_signalling *s, pss *p) {
  if (!take_token(p))
    fb_meeting_error(s->meeting, p->sess, "rate_limited",
                     "more than 20 messages per second; slow down");
  else if (p->binary)
    fb_meeting_error(s->meeting, p->sess, "bad_message", "binary frames are not supported");
  else
    fb_meeting_message(s->meeting, p->sess, p->rx, p->rxlen);
  if (p->rxcap > 65536) { /* do not keep a big buffer for an idle connection */
    free(p->rx);
    p->rx = NULL;
    p->rxcap = 0;
  }
  p->rxlen = 0;
}

static int on_receive(fb_signalling *s, struct lws *wsi, pss *p, const char *in, size_t len) {
  if (!p->sess) return -1;
  if (p->discard || fb_session_closing(p->sess)) return 0;
  if (!p->in_msg) {
    p->in_msg = 1;
    p->rxlen = 0;
    p->binary = lws_frame_is_binary(wsi);
  }
  size_t rest = lws_remaining_packet_payload(wsi);
  if (p->rxlen + len + rest > s->max_msg) {
    char why[96];
    snprintf(why, sizeof why, "a message may have at most %zu bytes", s->max_msg);
    fb_meeting_error(s->meeting, p->sess, "too_large", why);
    conn_close(p, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    p->discard = 1;
    return 0;
  }
  if (p->rxlen + len + 1 > p->rxcap) {
    size_t cap = p->rxlen + len + rest + 1;
    char *n = realloc(p->rx, cap);
    if (!n) return -1;
    p->rx = n;
    p->rxcap = cap;
  }
  memcpy(p->rx + p->rxlen, in, len);
  p->rxlen += len;
  p->rx[p->rxlen] = '\0';
  if (lws_is_final_fragment(wsi) && rest == 0) {
    p->in_msg = 0;
    message_done(s, p);
  }
  return 0;
}

/* ---- bridge events ------------------------------------------------------- */

static void on_bridge_event(void *ud, int pid, const char *event, const char *detail) {
  fb_signalling *s = ud;
  ev *e = calloc(1, sizeof *e);
  if (!e) return;
  e->pid = pid;
  snprintf(e->event, sizeof e->event, "%s", event ? event : "");
  snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
  pthread_mutex_lock(&s->evlock);
  if (s->nev >= MAX_EVENTS) {
    s->evdropped++;
    free(e);
    e = NULL;
  } else {
    if (s->evtail)
      s->evtail->next = e;
    else
      s->evhead = e;
    s->evtail = e;
    s->nev++;
  }
  pthread_mutex_unlock(&s->evlock);
  lws_cancel_service(s->ctx);
}

static void deliver_events(fb_signalling *s) {
  pthread_mutex_lock(&s->evlock);
  ev *e = s->evhead;
  int dropped = s->evdropped;
  s->evhead = s->evtail = NULL;
  s->nev = s->evdropped = 0;
  pthread_mutex_unlock(&s->evlock);
  if (dropped) fb_log(FB_LOG_WARN, "signalling", "%d bridge events dropped (queue full)", dropped);
  while (e) {
    ev *next = e->next;
    fb_meeting_event(s->meeting, e->pid, e->event, e->detail);
    free(e);
    e = next;
  }
}

/* ---- the meeting's bridge ------------------------------------------------ */

/* The fb_meeting_bridge hooks on the real bridge (ud is the fb_bridge). */
static int br_join_webrtc(void *ud, const char *name, int live, int uplink,
                          const fb_webrtc_offer *offer, fb_webrtc_answer *ans, int *pid, char *err,
                          size_t errlen) {
  return fb_bridge_join_webrtc(ud, name, live, uplink, offer, ans, pid, err, errlen);
}

static int br_leave(void *ud, int pid) { return fb_bridge_leave(ud, pid); }

static int br_set_media(void *ud, int pid, fb_media_state state, int uplink, char *err,
                        size_t errlen) {
  return fb_bridge_set_media(ud, pid, state, uplink, err, errlen);
}

static int br_quality(void *ud, int pid, fb_quality *out) {
  return fb_bridge_quality(ud, pid, out);
}

static int br_media_port(void *ud) { return fb_bridge_media_port(ud); }

/* ---- HTTP ---------------------------------------------------------------- */

/* /healthz and /metrics (lws 4.1 passes the whole URI; with no www mount
 * every other path arrives here too). */
static int http_request(fb_signalling *s, struct lws *wsi, pss *p, const char *uri) {
  int health = uri && (strcmp(uri, "/healthz") == 0 || strcmp(uri, "/healthz/") == 0);
  int metrics = uri && (strcmp(uri, "/metrics") == 0 || strcmp(uri, "/metrics/") == 0);
  if (!health && !metrics) {
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  if (health) {
    int ok = fb_bridge_healthy(s->b);
    char *body = strdup(ok ? "ok" : "unhealthy");
    if (!body) return -1;
    return fb_http_reply_start(wsi, &p->reply,
                               ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain",
                               body, strlen(body));
  }
  char *body = malloc(METRICS_MAX);
  if (!body) return -1;
  size_t n = fb_bridge_metrics(s->b, body, METRICS_MAX);
  n += fb_meeting_metrics(s->meeting, body + n, METRICS_MAX - n);
  return fb_http_reply_start(wsi, &p->reply, HTTP_STATUS_OK,
                             "text/plain; version=0.0.4; charset=utf-8", body, n);
}

/* ---- reload (SIGHUP, systemctl reload) -------------------------------------- */

/* What can change without dropping anyone: the TLS certificate (a renewal)
 * and the revoked file (re-read now rather than at the next second). */
static void reload(fb_signalling *s) {
  fb_log(FB_LOG_INFO, "signalling", "reload: re-reading the TLS certificate and the revoked file");
  if (s->cert[0]) {
    char err[256], fp[128];
    if (fb_tls_reload(s->ssl_ctx, s->cert, s->key, err, sizeof err) == 0) {
      fb_tls_fingerprint(s->ssl_ctx, fp, sizeof fp);
      fb_log(FB_LOG_INFO, "signalling",
             "TLS certificate reloaded from %s (SHA-256 %s): new "
             "connections get it, open ones keep theirs",
             s->cert, fp);
    } else {
      fb_log(FB_LOG_ALERT, "signalling", "TLS certificate NOT reloaded, the old one stays: %s",
             err);
    }
  }
  fb_meeting_reload(s->meeting);
}

void fb_signalling_reload(fb_signalling *s) {
  if (!s) return;
  atomic_store(&s->reload, 1);
  lws_cancel_service(s->ctx);
}

/* ---- the protocol callback ----------------------------------------------- */

/* A refused WebSocket upgrade leaves a line in the log with its reason, but
 * at most one a second: a scanner or a looping client must not flood it. */
static void log_refused(fb_signalling *s, const char *ip, const char *why) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (s->refused_logged_at == now.tv_sec) {
    s->refused_suppressed++;
    return;
  }
  if (s->refused_suppressed)
    fb_log(FB_LOG_WARN, "signalling",
           "WebSocket upgrade refused: %s: %s (and %d more refused "
           "since the last line)",
           ip, why, s->refused_suppressed);
  else
    fb_log(FB_LOG_WARN, "signalling", "WebSocket upgrade refused: %s: %s", ip, why);
  s->refused_logged_at = now.tv_sec;
  s->refused_suppressed = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  fb_signalling *s = lws_context_user(lws_get_context(wsi));
  pss *p = user;
  switch (reason) {
  case LWS_CALLBACK_HTTP: return http_request(s, wsi, p, in);
  case LWS_CALLBACK_HTTP_WRITEABLE:
    if (p && p->reply.body) return fb_http_reply_write(wsi, &p->reply);
    break;
  case LWS_CALLBACK_CLOSED_HTTP:
    if (p) fb_http_reply_free(&p->reply);
    break;
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    char uri[64] = "", ip[64] = "";
    lws_get_peer_simple(wsi, ip, sizeof ip);
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws") != 0) {
      log_refused(s, ip, "not on /ws (the only WebSocket path)");
      return 1;
    }
    ip_count *c = ip_find(s, ip);
    if (c && c->n >= s->max_per_ip) {
      char why[96];
      snprintf(why, sizeof why, "%d open from this address ([signalling] max_connections_per_ip)",
               c->n);
      log_refused(s, ip, why);
      return 1;
    }
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED:
    p->wsi = wsi;
    lws_get_peer_simple(wsi, p->ip, sizeof p->ip);
    if (ip_add(s, p->ip) < 0) return -1;
    p->counted = 1;
    p->tokens = BURST;
    clock_gettime(CLOCK_MONOTONIC, &p->last);
    p->sess = fb_meeting_open(s->meeting, p);
    return p->sess ? 0 : -1;
  case LWS_CALLBACK_RECEIVE: return on_receive(s, wsi, p, in, len);
  case LWS_CALLBACK_SERVER_WRITEABLE: return p->sess ? conn_writeable(p) : 0;
  case LWS_CALLBACK_CLOSED: conn_free(s, p); return 0;
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
    if (s && atomic_exchange(&s->reload, 0)) reload(s);
    if (s) deliver_events(s);
    return 0;
  case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
    if (s) s->ssl_ctx = user; /* lws's server SSL_CTX: reload() swaps its certificate */
    return 0;
  default: break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- start / stop -------------------------------------------------------- */

static void on_tick(lws_sorted_usec_list_t *sul) {
  fb_signalling *s = lws_container_of(sul, fb_signalling, tick);
  fb_meeting_tick(s->meeting);
  lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, LWS_US_PER_SEC);
}

static void *service(void *arg) {
  fb_signalling *s = arg;
  lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, LWS_US_PER_SEC);
  while (!atomic_load(&s->stop)) {
    if (lws_service(s->ctx, 0) < 0) break;
    fb_meeting_flush(s->meeting); /* what this round changed, once */
  }
  return NULL;
}

/* The token secret: token_secret_file wins over token_secret. */
static int load_secret(const fb_config *cfg, char *secret, size_t len, char *err, size_t errlen) {
  if (!cfg->token_secret_file[0]) {
    snprintf(secret, len, "%s", cfg->token_secret);
    return 0;
  }
  FILE *f = fopen(cfg->token_secret_file, "rb");
  if (!f)
    return fail(err, errlen, "[meeting] token_secret_file: %s: %s", cfg->token_secret_file,
                strerror(errno));
  size_t n = fread(secret, 1, len, f);
  fclose(f);
  if (n >= len)
    return fail(err, errlen, "[meeting] token_secret_file: %s: longer than %zu bytes",
                cfg->token_secret_file, len - 1);
  secret[n] = '\0';
  while (n && (secret[n - 1] == '\n' || secret[n - 1] == '\r')) secret[--n] = '\0';
  if (strlen(secret) != n || n < FB_TOKEN_MIN_SECRET)
    return fail(err, errlen,
                "[meeting] token_secret_file: %s: the secret must have at least %d "
                "characters (and no NUL)",
                cfg->token_secret_file, FB_TOKEN_MIN_SECRET);
  return 0;
}

fb_signalling *fb_signalling_start(const fb_config *cfg, struct fb_bridge *b, char *err,
                                   size_t errlen) {
  char secret[1024];
  if (load_secret(cfg, secret, sizeof secret, err, errlen) < 0) return NULL;
  if (cfg->sig_tls_cert[0] && (access(cfg->sig_tls_cert, R_OK) || access(cfg->sig_tls_key, R_OK))) {
    fail(err, errlen, "[signalling] tls_cert/tls_key: cannot read %s",
         access(cfg->sig_tls_cert, R_OK) ? cfg->sig_tls_cert : cfg->sig_tls_key);
    return NULL;
  }
  fb_signalling *s = calloc(1, sizeof *s);
  if (!s) return fail(err, errlen, "out of memory"), NULL;
  pthread_mutex_init(&s->evlock, NULL);
  s->b = b;
  s->max_msg = (size_t)cfg->sig_max_message_bytes;
  s->max_per_ip = cfg->sig_max_conns_per_ip;
  snprintf(s->cert, sizeof s->cert, "%s", cfg->sig_tls_cert);
  snprintf(s->key, sizeof s->key, "%s", cfg->sig_tls_key);
  fb_session_io io = {conn_send, conn_close};
  fb_meeting_bridge br = {b,          br_join_webrtc, br_leave, br_set_media,
                          br_quality, br_media_port,  NULL /* the wall clock */};
  s->meeting = fb_meeting_new(cfg, &br, secret, &io);
  memset(secret, 0, sizeof secret);
  if (!s->meeting) {
    fb_signalling_stop(s);
    return fail(err, errlen, "out of memory"), NULL;
  }
  if (fb_meeting_load_store(s->meeting, err, errlen) < 0) {
    fb_signalling_stop(s);
    return NULL;
  }
  if (!cfg->token_secret[0] && !cfg->token_secret_file[0])
    fb_log(FB_LOG_WARN, "signalling", "no [meeting] token_secret: every join will be refused");

  /* rx_buffer_size is allocated per connection (it was most of a
   * listener's signalling memory): 1 KiB holds the usual client message
   * whole (floor requests, media changes) and larger ones (SDP offers)
   * arrive in pieces that on_receive gathers anyway. tx_packet_size is a
   * limit, not a buffer: how much lws hands the socket per write, which
   * would otherwise follow rx_buffer_size; 4 KiB as before. */
  s->protocols[0] =
      (struct lws_protocols){PROTOCOL_NAME, callback, sizeof(pss), 1024, 0, NULL, 4096};
  s->retry.secs_since_valid_ping = 30;
  s->retry.secs_since_valid_hangup = 75;
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);

  int v6 = strchr(cfg->sig_bind, ':') != NULL, tls = cfg->sig_tls_cert[0] != 0;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                 (tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0) |
                 (v6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
  info.user = s;
  info.port = cfg->sig_port;
  info.iface = cfg->sig_bind;
  info.protocols = s->protocols;
  info.mounts = fb_http_mounts_init(&s->mounts, PROTOCOL_NAME, cfg->sig_www, cfg->webcast_dir);
  info.vhost_name = "floorbridge";
  info.max_http_header_data = 4096;
  info.retry_and_idle_policy = &s->retry;
  if (tls) {
    info.ssl_cert_filepath = s->cert;
    info.ssl_private_key_filepath = s->key;
    /* ALPN offers only http/1.1, never h2. With h2 on offer Chromium sends
     * each page's WebSocket over the origin's existing HTTP/2 connection
     * (RFC 8441 extended CONNECT), and libwebsockets 4.2 (Debian 12) fails
     * that stream: net::ERR_HTTP2_PROTOCOL_ERROR, pages stuck reconnecting.
     * Its h2 server also truncates dynamic bodies (/metrics stopped at
     * 4,107 of 4,253 bytes, then a 10 s hang and a reset). HTTP/2 buys a
     * meeting nothing here: a page loads a handful of files once and then
     * lives on one WebSocket, so one TLS connection per WebSocket is the
     * cost, and every browser and scraper speaks HTTP/1.1 over TLS. */
    info.alpn = "http/1.1";
  }
  s->ctx = lws_create_context(&info);
  if (!s->ctx) {
    fb_signalling_stop(s);
    return fail(err, errlen, "signalling: cannot create the libwebsockets context"), NULL;
  }
  s->vh = lws_create_vhost(s->ctx, &info);
  if (!s->vh) {
    fb_signalling_stop(s);
    return fail(err, errlen,
                "signalling: cannot listen on %s%s%s:%d%s (in use, or a bad "
                "address%s)",
                v6 ? "[" : "", cfg->sig_bind, v6 ? "]" : "", cfg->sig_port, tls ? " with TLS" : "",
                tls ? ", or the TLS certificate/key do not load" : ""),
           NULL;
  }
  s->port = lws_get_vhost_listen_port(s->vh);
  snprintf(s->url, sizeof s->url, "%s://%s%s%s:%d", tls ? "https" : "http", v6 ? "[" : "",
           cfg->sig_bind, v6 ? "]" : "", s->port);
  fb_bridge_set_event_cb(b, on_bridge_event, s);
  int rc = pthread_create(&s->thread, NULL, service, s);
  if (rc) {
    fb_bridge_set_event_cb(b, NULL, NULL);
    fb_signalling_stop(s);
    return fail(err, errlen, "signalling: cannot start the thread: %s", strerror(rc)), NULL;
  }
  s->started = 1;
  pthread_setname_np(s->thread, "signalling");
  fb_log(FB_LOG_INFO, "signalling", "signalling listening on %s", s->url);
  return s;
}

void fb_signalling_stop(fb_signalling *s) {
  if (!s) return;
  if (s->started) {
    atomic_store(&s->stop, 1);
    lws_cancel_service(s->ctx);
    pthread_join(s->thread, NULL);
    fb_bridge_set_event_cb(s->b, NULL, NULL);
  }
  if (s->meeting) fb_meeting_shutdown(s->meeting); /* the store keeps the queue as it is */
  if (s->ctx) lws_context_destroy(s->ctx);         /* closes every connection (CLOSED: leave) */
  fb_meeting_free(s->meeting);
  while (s->evhead) {
    ev *e = s->evhead;
    s->evhead = e->next;
    free(e);
  }
  free(s->ips);
  pthread_mutex_destroy(&s->evlock);
  free(s);
}

void fb_signalling_post_event(fb_signalling *s, int pid, const char *event, const char *detail) {
  on_bridge_event(s, pid, event, detail);
}

int fb_signalling_port(fb_signalling *s) { return s->port; }

const char *fb_signalling_url(fb_signalling *s) { return s->url; }
