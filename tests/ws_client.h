/*
 * ws_client.h — a tiny HTTP and WebSocket client for the signalling tests
 * (test_signalling.c, test_chair_protocol.c): raw GET, the upgrade, masked
 * frames (fragments, any opcode), reading frames and JSON messages.
 *
 * Header-only (static inline) so each test links it without a library. The
 * server's port is the global `port`, which the test sets once the server
 * is up. Blocking sockets with poll() timeouts; one buffer per connection.
 * Define _GNU_SOURCE before the first #include (strcasestr).
 */
#ifndef FB_TEST_WS_CLIENT_H
#define FB_TEST_WS_CLIENT_H

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/ws_frame.h"

/* The server's TCP port. */
static int port __attribute__((unused));

static inline int tcp_connect(int p) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Read what arrives within timeout_ms (until EOF or the buffer is full). */
static inline ssize_t read_some(int fd, char *buf, size_t len, int timeout_ms) {
  struct pollfd pfd = {fd, POLLIN, 0};
  if (poll(&pfd, 1, timeout_ms) <= 0) return -2; /* timeout */
  return read(fd, buf, len);
}

/* A raw HTTP GET (the path is sent as given); returns the status, body in body. */
static inline int http_get(const char *path, char *body, size_t len) {
  int fd = tcp_connect(port);
  if (fd < 0) return -1;
  char req[1024], resp[65536];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  if (write(fd, req, (size_t)n) != n) return close(fd), -1;
  size_t got = 0;
  for (;;) {
    ssize_t r = read_some(fd, resp + got, sizeof resp - 1 - got, 2000);
    if (r <= 0) break;
    got += (size_t)r;
    resp[got] = '\0';
    char *hdr_end = strstr(resp, "\r\n\r\n"), *cl = strcasestr(resp, "content-length:");
    if (hdr_end && cl && cl < hdr_end &&
        got >= (size_t)(hdr_end + 4 - resp) + (size_t)atol(cl + 15))
      break;
  }
  close(fd);
  resp[got] = '\0';
  int status = 0;
  sscanf(resp, "HTTP/1.%*d %d", &status);
  char *b = strstr(resp, "\r\n\r\n");
  snprintf(body, len, "%s", b ? b + 4 : "");
  return status;
}

typedef struct {
  int fd;
  char buf[1 << 17];
  size_t len;
  int close_code; /* from the server's close frame, 0 until then */
} ws;

/* Upgrade to WebSocket on path; NULL when refused. */
static inline ws *ws_open_path(const char *path) {
  int fd = tcp_connect(port);
  if (fd < 0) return NULL;
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:%d\r\n\r\n",
                   path, port, port);
  if (write(fd, req, (size_t)n) != n) return close(fd), NULL;
  ws *w = calloc(1, sizeof *w);
  w->fd = fd;
  char *end = NULL;
  while (!end) {
    ssize_t r = read_some(fd, w->buf + w->len, sizeof w->buf - 1 - w->len, 2000);
    if (r <= 0) break;
    w->len += (size_t)r;
    w->buf[w->len] = '\0';
    end = strstr(w->buf, "\r\n\r\n");
  }
  if (!end || strncmp(w->buf, "HTTP/1.1 101", 12) != 0) {
    close(fd);
    free(w);
    return NULL;
  }
  size_t hdr = (size_t)(end + 4 - w->buf);
  memmove(w->buf, w->buf + hdr, w->len - hdr);
  w->len -= hdr;
  return w;
}

static inline ws *ws_open(void) { return ws_open_path("/ws"); }

static inline void ws_close(ws *w) {
  if (!w) return;
  close(w->fd);
  free(w);
}

/* One masked frame. */
static inline int ws_frame(ws *w, int opcode, int fin, const void *data, size_t len) {
  static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  unsigned char *f = malloc(len + 14);
  size_t n = ws_frame_encode(f, opcode, fin, mask, data, len);
  size_t off = 0;
  while (off < n) {
    ssize_t r = write(w->fd, f + off, n - off);
    if (r <= 0) break;
    off += (size_t)r;
  }
  free(f);
  return off == n ? 0 : -1;
}

static inline int ws_send(ws *w, const char *text) { return ws_frame(w, 1, 1, text, strlen(text)); }

/* Next data frame's payload (malloc'd, NUL-terminated) or NULL on timeout, EOF
 * or a close frame (whose code lands in w->close_code). */
static inline char *ws_recv(ws *w, int timeout_ms) {
  for (;;) {
    if (w->len >= 2) {
      size_t need = 2, plen = w->buf[1] & 0x7f;
      if (plen == 126) need = 4;
      if (plen == 127) need = 10;
      if (w->len >= need) {
        if (plen == 126) { /* a 16-bit length of 127 is just a length */
          plen = ((size_t)(unsigned char)w->buf[2] << 8) | (unsigned char)w->buf[3];
        } else if (plen == 127) {
          plen = 0;
          for (int i = 0; i < 8; i++) plen = (plen << 8) | (unsigned char)w->buf[2 + i];
        }
        if (w->len >= need + plen) {
          int opcode = w->buf[0] & 0x0f;
          char *out = malloc(plen + 1);
          memcpy(out, w->buf + need, plen);
          out[plen] = '\0';
          memmove(w->buf, w->buf + need + plen, w->len - need - plen);
          w->len -= need + plen;
          if (opcode == 8) {
            w->close_code = plen >= 2 ? ((unsigned char)out[0] << 8) | (unsigned char)out[1] : 1005;
            free(out);
            return NULL;
          }
          if (opcode == 9 || opcode == 10) { /* ping/pong: ignore */
            free(out);
            continue;
          }
          return out;
        }
      }
    }
    ssize_t r = read_some(w->fd, w->buf + w->len, sizeof w->buf - w->len, timeout_ms);
    if (r <= 0) return NULL;
    w->len += (size_t)r;
  }
}

/* Next message as JSON within timeout_ms, whatever it is (NULL on timeout,
 * EOF or a close frame). */
static inline json_t *ws_json_any(ws *w, int timeout_ms) {
  char *t = ws_recv(w, timeout_ms);
  if (!t) return NULL;
  json_t *j = json_loads(t, 0, NULL);
  if (!j) fprintf(stderr, "not JSON from the server: %s\n", t);
  free(t);
  return j;
}

/* A message the older tests do not look at: a meeting-wide floor event, or
 * one of the floor-control state messages every joined connection gets. */
static inline int ws_background(json_t *j) {
  static const char *types[] = {"you", "queue", "roster", "mode", "quality", "chat_policy"};
  const char *ev = json_string_value(json_object_get(j, "event"));
  if (ev && strncmp(ev, "floor_", 6) == 0) return 1;
  const char *type = json_string_value(json_object_get(j, "type"));
  for (size_t i = 0; type && i < sizeof types / sizeof *types; i++)
    if (strcmp(type, types[i]) == 0) return 1;
  return 0;
}

/* Next message as JSON (3 s), skipping ws_background ones. */
static inline json_t *ws_json(ws *w) {
  for (;;) {
    json_t *j = ws_json_any(w, 3000);
    if (!j || !ws_background(j)) return j;
    json_decref(j);
  }
}

static inline const char *str(json_t *j, const char *key) {
  const char *s = json_string_value(json_object_get(j, key));
  return s ? s : "";
}

#endif
