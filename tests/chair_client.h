/*
 * chair_client.h — helpers for tests that drive floor control over the
 * WebSocket protocol (test_chair_protocol.c): sending messages, waiting for a
 * state message with given content while skipping the rest, reading
 * Prometheus text and HTTP headers. Built on tests/ws_client.h; include
 * check.h and ws_client.h first. Header-only (static inline).
 *
 * Waiting is by content, not by position: the server sends state messages
 * whenever something changes, so a test asks "the next 'you' saying queued"
 * and every message before it is skipped (and gone: wait for things in the
 * order the server sends them).
 */
#ifndef FB_TEST_CHAIR_CLIENT_H
#define FB_TEST_CHAIR_CLIENT_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef WAIT_MS
#define WAIT_MS 3000 /* how long a wait_* looks for its message */
#endif

static inline double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ---- sending ----------------------------------------------------------- */

static inline void sendj(ws *w, json_t *o) {
  json_object_set_new(o, "v", json_integer(1));
  char *t = json_dumps(o, JSON_COMPACT);
  ws_send(w, t);
  free(t);
  json_decref(o);
}

/* {"type":type} plus "delegate" when given. */
static inline void act(ws *w, const char *type, const char *delegate) {
  json_t *o = json_pack("{s:s}", "type", type);
  if (delegate) json_object_set_new(o, "delegate", json_string(delegate));
  sendj(w, o);
}

static inline void chat(ws *w, const char *to, const char *text) {
  sendj(w, json_pack("{s:s, s:s, s:s}", "type", "chat", "to", to, "text", text));
}

/* ---- waiting ------------------------------------------------------------ */

/* The next message of type (key == val when key is given) within WAIT_MS;
 * others are skipped. */
static inline json_t *wait_for(ws *w, const char *type, const char *key, const char *val) {
  double end = now_ms() + WAIT_MS;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left <= 0) return NULL;
    json_t *j = ws_json_any(w, left);
    if (!j) return NULL;
    if (strcmp(str(j, "type"), type) == 0 && (!key || strcmp(str(j, key), val) == 0)) return j;
    json_decref(j);
  }
}

/* Wait for "you" with state (and queue_position pos unless -1); returns 1
 * and leaves it in *out (may be NULL). */
static inline int wait_you_at(ws *w, const char *state, int pos, json_t **out) {
  json_t *j;
  while ((j = wait_for(w, "you", "state", state)) && pos >= 0 &&
         json_integer_value(json_object_get(j, "queue_position")) != pos)
    json_decref(j);
  if (out)
    *out = j;
  else
    json_decref(j);
  return j != NULL;
}

static inline int wait_you(ws *w, const char *state, json_t **out) {
  return wait_you_at(w, state, -1, out);
}

/* Wait for "mode" with mode and session index. */
static inline int wait_mode(ws *w, const char *mode, int index) {
  json_t *j;
  while ((j = wait_for(w, "mode", "mode", mode))) {
    int ok = json_integer_value(json_object_get(json_object_get(j, "session"), "index")) == index;
    json_decref(j);
    if (ok) return 1;
  }
  return 0;
}

static inline int wait_policy(ws *w, int to_all) {
  json_t *j;
  while ((j = wait_for(w, "chat_policy", NULL, NULL))) {
    int ok = json_is_true(json_object_get(j, "delegates_to_all")) == to_all;
    json_decref(j);
    if (ok) return 1;
  }
  return 0;
}

/* Wait for a chat message with text; returns it. */
static inline json_t *wait_chat(ws *w, const char *text) {
  json_t *j;
  while ((j = wait_for(w, "chat", NULL, NULL)) && strcmp(str(j, "text"), text) != 0) json_decref(j);
  return j;
}

/* The delegates of a queue message, "d1,d2". */
static inline void queue_ids(json_t *q, char *out, size_t len) {
  out[0] = '\0';
  json_t *e;
  size_t i;
  json_array_foreach(json_object_get(q, "entries"), i, e)
      snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", str(e, "delegate"));
}

/* Wait for a queue message listing exactly ids (in order). */
static inline int wait_queue(ws *w, const char *ids, json_t **out) {
  char got[256] = "(none)";
  json_t *j;
  while ((j = wait_for(w, "queue", NULL, NULL))) {
    queue_ids(j, got, sizeof got);
    if (strcmp(got, ids) == 0) {
      if (out)
        *out = j;
      else
        json_decref(j);
      return 1;
    }
    json_decref(j);
  }
  fprintf(stderr, "queue: want '%s', last '%s'\n", ids, got);
  return 0;
}

static inline json_t *roster_entry(json_t *roster, const char *id) {
  json_t *p;
  size_t i;
  json_array_foreach(json_object_get(roster, "participants"), i,
                     p) if (strcmp(str(p, "delegate"), id) == 0) return p;
  return NULL;
}

/* Wait for a roster (chairs) in which id has state. */
static inline int wait_roster(ws *w, const char *id, const char *state) {
  json_t *j;
  while ((j = wait_for(w, "roster", NULL, NULL))) {
    json_t *p = roster_entry(j, id);
    int ok = p && strcmp(str(p, "state"), state) == 0;
    json_decref(j);
    if (ok) return 1;
  }
  return 0;
}

/* Send text; the next error must have code. */
static inline void expect_refusal(ws *w, const char *code, const char *label) {
  json_t *j = wait_for(w, "error", NULL, NULL);
  CHECK(j && strcmp(str(j, "code"), code) == 0 && str(j, "message")[0],
        "%s: want error %s, got %s (%s)", label, code, str(j, "code"), str(j, "message"));
  json_decref(j);
}

/* Ping and count messages of type before the pong (what is pending now). */
static inline int count_before_pong(ws *w, const char *type) {
  static int id = 1000;
  sendj(w, json_pack("{s:s, s:i}", "type", "ping", "id", ++id));
  int n = 0;
  json_t *j;
  while ((j = ws_json_any(w, WAIT_MS))) {
    int pong =
        strcmp(str(j, "type"), "pong") == 0 && json_integer_value(json_object_get(j, "id")) == id;
    n += strcmp(str(j, "type"), type) == 0;
    json_decref(j);
    if (pong) return n;
  }
  return -1;
}

/* A number from Prometheus text: the line "name{labels} N". -1 when absent. */
static inline double metric(const char *text, const char *series) {
  size_t n = strlen(series);
  for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, series, n) == 0 && p[n] == ' ') return atof(p + n + 1);
  return -1;
}

/* GET path; status, the Content-Type in type, the body in body. */
static inline int http_head_body(const char *path, char *type, size_t tlen, char *body,
                                 size_t blen) {
  int fd = tcp_connect(port);
  if (fd < 0) return -1;
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  if (write(fd, req, (size_t)n) != n) return close(fd), -1;
  static char resp[1 << 18];
  size_t got = 0;
  ssize_t r;
  while (got < sizeof resp - 1 && (r = read_some(fd, resp + got, sizeof resp - 1 - got, 2000)) > 0)
    got += (size_t)r;
  close(fd);
  resp[got] = '\0';
  int status = 0;
  sscanf(resp, "HTTP/1.%*d %d", &status);
  char *ct = strcasestr(resp, "\r\ncontent-type:"), *b = strstr(resp, "\r\n\r\n");
  type[0] = '\0';
  if (ct && (!b || ct < b)) {
    ct += 15;
    while (*ct == ' ') ct++;
    snprintf(type, tlen, "%.*s", (int)strcspn(ct, "\r\n"), ct);
  }
  snprintf(body, blen, "%s", b ? b + 4 : "");
  return status;
}

#endif
