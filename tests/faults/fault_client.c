/*
 * fault_client.c — fb-fault-client: a few WebRTC participants that behave
 * like the delegate page when the bridge goes away: each keeps its
 * WebSocket, notices when it ends, and reconnects with the page's backoff
 * (web/common.js: 1, 2, 4 … 30 s, ±25 % jitter; reset after 10 s connected),
 * with the same token, then sends a new offer and waits for audio. What the
 * restart and vanish tests need to measure "back within 5 s" and "the others
 * were not disturbed".
 *
 *   fb-fault-client --port P --secret-file F --meeting M [--host 127.0.0.1]
 *       [-n 3] [--prefix fc] [--speakers K] [--request R] [--duration-s 60]
 *       [--backoff page|fast] [--gap-ms 200] [--out FILE]
 *
 * Client i (1-based) is delegate PREFIX%02d. The first K clients send a
 * 440 Hz tone (they are heard once the chair grants them); clients K+1..K+R
 * ask for the floor (request_floor) after their first join. One JSON line
 * per event (to --out, else stdout), with "t" = CLOCK_MONOTONIC seconds
 * (Python's time.monotonic()) and "wall" = Unix seconds:
 *   connect, ws_open, joined, answer, first_audio (ms after ws_open),
 *   lost (why), retry (in ms), refused (error code), end (counters).
 * Downlink gaps over --gap-ms while connected are counted (gaps, max_gap_ms
 * in "lost" and "end"). Plain ws:// only (the tests run on loopback).
 *
 * One thread per client, blocking sockets with poll(); bounded by
 * --duration-s, or ended early by SIGTERM/SIGINT (each client then writes
 * its "end" line). Exits 0; the tests judge the events.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "client/rtc_client.h"
#include "signalling/token.h"
#include "tests/ws_frame.h"

#define PT 111
#define RXMAX (1 << 20)

static struct {
  char host[64];
  int port;
  char secret[512];
  char meeting[64];
  char prefix[32];
  char bind_ip[64];
  int n, speakers, request;
  double duration_s, gap_ms;
  int fast;
  FILE *out;
  pthread_mutex_t out_lock;
  fb_rtc_client_ctx *ctx;
  uint64_t deadline;
} G;

typedef struct {
  int idx;
  char id[64];
  int speaker, requester, requested;
  unsigned seed;
  /* connection */
  int fd;
  unsigned char *rx;
  size_t rxlen;
  /* counters over the run */
  int connects, joins, audio_ok, losses;
  uint64_t gaps;
  double max_gap_ms;
} client;

static volatile sig_atomic_t stopping; /* SIGTERM/SIGINT: end the run now, cleanly */

static void on_stop(int sig) {
  (void)sig;
  stopping = 1;
}

static int over(void) { return stopping || fb_now_ns() >= G.deadline; }

static double mono_s(void) { return (double)fb_now_ns() / 1e9; }

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void emit(client *c, const char *ev, const char *fmt, ...) {
  char extra[512] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(extra, sizeof extra, fmt, ap);
    va_end(ap);
  }
  pthread_mutex_lock(&G.out_lock);
  fprintf(G.out, "{\"t\": %.4f, \"wall\": %.4f, \"client\": \"%s\", \"ev\": \"%s\"%s%s}\n",
          mono_s(), wall_s(), c->id, ev, extra[0] ? ", " : "", extra);
  fflush(G.out);
  pthread_mutex_unlock(&G.out_lock);
}

/* ---- WebSocket (client side, plain) ------------------------------------- */

static int tcp_connect(int timeout_ms) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)G.port)};
  inet_pton(AF_INET, G.host, &a.sin_addr);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  struct pollfd p = {fd, POLLOUT, 0};
  int e = 0;
  socklen_t el = sizeof e;
  if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int send_all(int fd, const void *buf, size_t len) {
  const unsigned char *b = buf;
  while (len) {
    ssize_t w = send(fd, b, len, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, 2000) != 1) return -1;
      continue;
    }
    if (w <= 0) return -1;
    b += w;
    len -= (size_t)w;
  }
  return 0;
}

static int ws_frame(client *c, int op, const void *data, size_t len) {
  unsigned char *f = malloc(len + 14), mask[4];
  for (int i = 0; i < 4; i++) mask[i] = (unsigned char)rand_r(&c->seed);
  int rc = send_all(c->fd, f, ws_frame_encode(f, op, 1, mask, data, len));
  free(f);
  return rc;
}

static int ws_text(client *c, const char *text) { return ws_frame(c, 1, text, strlen(text)); }

static int ws_open(client *c) {
  c->fd = tcp_connect(2000);
  if (c->fd < 0) return -1;
  char req[512];
  int n =
      snprintf(req, sizeof req,
               "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: ZmF1bHQtY2xpZW50LWtleQ==\r\nSec-WebSocket-Version: 13\r\n"
               "Origin: http://%s:%d\r\n\r\n",
               G.host, G.port, G.host, G.port);
  if (send_all(c->fd, req, (size_t)n) < 0) return -1;
  c->rxlen = 0;
  uint64_t end = fb_now_ns() + 3000000000ull;
  for (;;) {
    unsigned char *e = memmem(c->rx, c->rxlen, "\r\n\r\n", 4);
    if (e) {
      if (c->rxlen < 12 || memcmp(c->rx, "HTTP/1.1 101", 12) != 0) return -1;
      size_t hdr = (size_t)(e + 4 - c->rx);
      memmove(c->rx, c->rx + hdr, c->rxlen - hdr);
      c->rxlen -= hdr;
      return 0;
    }
    uint64_t now = fb_now_ns();
    struct pollfd p = {c->fd, POLLIN, 0};
    if (now >= end || poll(&p, 1, (int)((end - now) / 1000000) + 1) != 1) return -1;
    ssize_t r = recv(c->fd, c->rx + c->rxlen, RXMAX - c->rxlen, 0);
    if (r <= 0) return -1;
    c->rxlen += (size_t)r;
  }
}

/* Read what is there (wait up to timeout_ms). -1: the connection ended. */
static int ws_fill(client *c, int timeout_ms) {
  struct pollfd p = {c->fd, POLLIN, 0};
  int k = poll(&p, 1, timeout_ms);
  if (k <= 0) return 0;
  if (c->rxlen == RXMAX) c->rxlen = 0; /* a monster message: drop it, keep going */
  ssize_t r = recv(c->fd, c->rx + c->rxlen, RXMAX - c->rxlen, MSG_DONTWAIT);
  if (r == 0) return -1;
  if (r < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  c->rxlen += (size_t)r;
  return 1;
}

/* Next complete text message (malloc'd) or NULL. *closed = close code (or
 * 1006) when the server closed. Pings are answered. */
static char *ws_next(client *c, int *closed) {
  for (;;) {
    if (c->rxlen < 2) return NULL;
    size_t need = 2, plen = c->rx[1] & 0x7f;
    if (plen == 126) need = 4;
    if (plen == 127) need = 10;
    if (c->rxlen < need) return NULL;
    if (plen == 126)
      plen = (size_t)c->rx[2] << 8 | c->rx[3];
    else if (plen == 127) {
      plen = 0;
      for (int i = 0; i < 8; i++) plen = plen << 8 | c->rx[2 + i];
    }
    if (plen > RXMAX - 16) {
      *closed = 1009;
      return NULL;
    }
    if (c->rxlen < need + plen) return NULL;
    int op = c->rx[0] & 15;
    char *msg = malloc(plen + 1);
    memcpy(msg, c->rx + need, plen);
    msg[plen] = 0;
    memmove(c->rx, c->rx + need + plen, c->rxlen - need - plen);
    c->rxlen -= need + plen;
    if (op == 8) {
      *closed = plen >= 2 ? ((unsigned char)msg[0] << 8 | (unsigned char)msg[1]) : 1005;
      free(msg);
      return NULL;
    }
    if (op == 9) {
      ws_frame(c, 10, msg, plen);
      free(msg);
      continue;
    }
    if (op == 1) return msg; /* (servers here do not fragment) */
    free(msg);
  }
}

/* ---- one client ---------------------------------------------------------- */

static void make_offer(fb_rtc_client *rc, char *out, size_t len, unsigned long long sid) {
  snprintf(out, len,
           "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
           "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:actpass\r\na=mid:0\r\n"
           "a=sendrecv\r\na=rtcp-mux\r\na=rtpmap:%d opus/48000/2\r\n"
           "a=fmtp:%d minptime=10;useinbandfec=1\r\n",
           sid, PT, fb_rtc_client_ufrag(rc), fb_rtc_client_pwd(rc),
           fb_rtc_client_ctx_fingerprint(G.ctx), PT, PT);
}

/* From the answer: candidate ip/port, ufrag, pwd, fingerprint. 0 or -1. */
static int parse_answer(const char *sdp, char *ip, int *port, char *ufrag, char *pwd, char *fp) {
  int have = 0;
  for (const char *l = sdp; l && *l;) {
    const char *e = strstr(l, "\r\n");
    size_t n = e ? (size_t)(e - l) : strlen(l);
    char line[512];
    if (n < sizeof line) {
      memcpy(line, l, n);
      line[n] = 0;
      char a[64], typ[16], kind[16], proto[16];
      unsigned comp;
      unsigned long prio;
      int p;
      if (!strncmp(line, "a=candidate:", 12) &&
          sscanf(line + 12, "%*s %u %15s %lu %63s %d %15s %15s", &comp, proto, &prio, a, &p, typ,
                 kind) == 7 &&
          !strcmp(kind, "host")) {
        snprintf(ip, 64, "%s", a);
        *port = p;
        have |= 1;
      } else if (!strncmp(line, "a=ice-ufrag:", 12) && strlen(line + 12) < 64) {
        memcpy(ufrag, line + 12, strlen(line + 12) + 1);
        have |= 2;
      } else if (!strncmp(line, "a=ice-pwd:", 10) && strlen(line + 10) < 128) {
        memcpy(pwd, line + 10, strlen(line + 10) + 1);
        have |= 4;
      } else if (!strncmp(line, "a=fingerprint:", 14) &&
                 strlen(line + 14) < FB_RTC_FINGERPRINT_MAX) {
        memcpy(fp, line + 14, strlen(line + 14) + 1);
        have |= 8;
      }
    }
    l = e ? e + 2 : NULL;
  }
  return have == 15 ? 0 : -1;
}

/* Wait for a message of type want (or an error); returns it (jansson) or NULL. */
static json_t *wait_type(client *c, const char *want, int timeout_ms, char *why, size_t wl) {
  uint64_t end = fb_now_ns() + (uint64_t)timeout_ms * 1000000ull;
  for (;;) {
    int closed = 0;
    char *m;
    while ((m = ws_next(c, &closed))) {
      json_t *j = json_loads(m, 0, NULL);
      free(m);
      const char *t = j ? json_string_value(json_object_get(j, "type")) : NULL;
      if (t && (!strcmp(t, want) || !strcmp(t, "error"))) return j;
      json_decref(j);
    }
    if (closed) return snprintf(why, wl, "closed %d", closed), NULL;
    uint64_t now = fb_now_ns();
    if (now >= end) return snprintf(why, wl, "no %s in %d ms", want, timeout_ms), NULL;
    if (ws_fill(c, (int)((end - now) / 1000000) + 1) < 0) return snprintf(why, wl, "EOF"), NULL;
  }
}

/* One connection: returns the reason it ended (static text), *final when the
 * client must stop (a token error, replaced, the deadline). */
static const char *session(client *c, int *final, uint64_t *connected_ns) {
  static __thread char why[256];
  *connected_ns = 0;
  c->connects++;
  emit(c, "connect", NULL);
  if (ws_open(c) < 0) return "cannot open the WebSocket";
  uint64_t t_open = fb_now_ns();
  emit(c, "ws_open", NULL);
  fb_token t;
  memset(&t, 0, sizeof t);
  snprintf(t.meeting, sizeof t.meeting, "%s", G.meeting);
  snprintf(t.delegate, sizeof t.delegate, "%s", c->id);
  snprintf(t.name, sizeof t.name, "Fault client %s", c->id);
  t.role = FB_ROLE_DELEGATE;
  t.exp = (long long)time(NULL) + 6 * 3600;
  char tok[FB_TOKEN_MAX + 1], msg[FB_TOKEN_MAX + 64];
  if (fb_token_mint(G.secret, &t, tok, sizeof tok) < 0) {
    *final = 1;
    return "cannot mint a token";
  }
  snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"join\",\"token\":\"%s\"}", tok);
  if (ws_text(c, msg) < 0) return "send failed";
  json_t *j = wait_type(c, "joined", 5000, why, sizeof why);
  if (!j) return why;
  const char *type = json_string_value(json_object_get(j, "type"));
  if (!strcmp(type, "error")) {
    const char *code = json_string_value(json_object_get(j, "code"));
    snprintf(why, sizeof why, "refused: %s", code ? code : "?");
    emit(c, "refused", "\"code\": \"%s\"", code ? code : "?");
    if (code && !strncmp(code, "token_", 6)) *final = 1;
    json_decref(j);
    return why;
  }
  emit(c, "joined", "\"pid\": %lld, \"state\": \"%s\"",
       (long long)json_integer_value(json_object_get(j, "pid")),
       json_string_value(json_object_get(j, "state"))
           ? json_string_value(json_object_get(j, "state"))
           : "");
  json_decref(j);
  c->joins++;
  char err[256];
  fb_rtc_client *rc = fb_rtc_client_new(G.ctx, G.bind_ip, err, sizeof err);
  if (!rc) {
    snprintf(why, sizeof why, "client: %.150s", err);
    return why;
  }
  fb_rtc_client_set_decode(rc, 0);
  char sdp[4096];
  make_offer(rc, sdp, sizeof sdp, ((unsigned long long)rand_r(&c->seed) << 20) ^ (unsigned)c->idx);
  json_t *o = json_pack("{s:i, s:s, s:s}", "v", 1, "type", "offer", "sdp", sdp);
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  int sent = ws_text(c, text);
  free(text);
  if (sent < 0) {
    fb_rtc_client_free(rc);
    return "send failed";
  }
  j = wait_type(c, "answer", 5000, why, sizeof why);
  const char *asdp = j ? json_string_value(json_object_get(j, "sdp")) : NULL;
  char ip[64], ufrag[64], pwd[128], fp[FB_RTC_FINGERPRINT_MAX];
  int port = 0;
  if (!asdp || parse_answer(asdp, ip, &port, ufrag, pwd, fp) < 0 ||
      fb_rtc_client_set_remote(rc, ip, port, ufrag, pwd, fp, PT) < 0) {
    if (j && !asdp)
      snprintf(why, sizeof why, "no answer (error)");
    else if (j)
      snprintf(why, sizeof why, "bad answer");
    json_decref(j);
    fb_rtc_client_free(rc);
    return why;
  }
  json_decref(j);
  emit(c, "answer", NULL);
  if (c->requester && !c->requested) {
    ws_text(c, "{\"v\":1,\"type\":\"request_floor\"}");
    c->requested = 1;
  }
  /* media loop */
  float tone[960];
  uint64_t next_audio = fb_now_ns(), last_rx = 0, first = 0;
  long long phase = 0;
  const char *end = NULL;
  while (!end) {
    uint64_t now = fb_now_ns();
    if (over()) {
      *final = 1;
      end = "end of the run";
      break;
    }
    struct pollfd p[2] = {{fb_rtc_client_fd(rc), POLLIN, 0}, {c->fd, POLLIN, 0}};
    poll(p, 2, 5);
    now = fb_now_ns();
    if (p[0].revents & POLLIN) fb_rtc_client_on_readable(rc, now);
    fb_rtc_client_poll(rc, now);
    fb_rtc_client_stats st;
    fb_rtc_client_get_stats(rc, &st);
    if (st.last_rtp_ns && st.last_rtp_ns != last_rx) {
      if (!first) {
        first = st.first_audio_ns;
        *connected_ns = first;
        c->audio_ok++;
        emit(c, "first_audio", "\"ms\": %.1f", (double)(first - t_open) / 1e6);
      } else {
        double g = (double)(st.last_rtp_ns - last_rx) / 1e6;
        if (g > c->max_gap_ms) c->max_gap_ms = g;
        if (g > G.gap_ms) c->gaps++;
      }
      last_rx = st.last_rtp_ns;
    }
    if (fb_rtc_client_state(rc) == FB_RTC_FAILED) {
      snprintf(why, sizeof why, "media failed: %.200s", fb_rtc_client_error(rc));
      end = why;
      break;
    }
    if (c->speaker && fb_rtc_client_state(rc) == FB_RTC_CONNECTED && now >= next_audio) {
      for (int i = 0; i < 960; i++, phase++)
        tone[i] = 0.3f * sinf(2.0f * (float)M_PI * 440.0f * (float)phase / 48000.0f);
      fb_rtc_client_send_audio(rc, tone, now);
      next_audio += 20000000ull;
      if (next_audio < now) next_audio = now + 20000000ull;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (ws_fill(c, 0) < 0) {
        end = "the WebSocket ended (EOF)";
        break;
      }
    }
    int closed = 0;
    char *m;
    while ((m = ws_next(c, &closed))) {
      if (strstr(m, "\"replaced\"")) {
        *final = 1;
        end = "replaced";
      } else if (strstr(m, "\"consent_lost\"") || strstr(m, "\"dtls_failed\"")) {
        end = "media lost (event)";
      }
      free(m);
    }
    if (closed && !end) {
      snprintf(why, sizeof why, "closed by the server (%d)", closed);
      end = why;
    }
  }
  if (last_rx) {
    double g = (double)(fb_now_ns() - last_rx) / 1e6;
    if (*final && g > c->max_gap_ms) c->max_gap_ms = g; /* a silence before the end counts */
  }
  fb_rtc_client_free(rc);
  return end;
}

static void *run(void *arg) {
  client *c = arg;
  int attempt = 0;
  while (!over()) {
    int final = 0;
    uint64_t connected = 0;
    const char *why = session(c, &final, &connected);
    if (c->fd >= 0) {
      close(c->fd);
      c->fd = -1;
    }
    if (connected) {
      c->losses += !final;
      if ((double)(fb_now_ns() - connected) / 1e9 >= 10)
        attempt = 0; /* stable: reset the backoff */
    }
    emit(c, "lost", "\"why\": \"%s\", \"gaps\": %llu, \"max_gap_ms\": %.1f", why,
         (unsigned long long)c->gaps, c->max_gap_ms);
    if (final) break;
    double base = G.fast ? 0.1 : fmin(30, pow(2, fmin(attempt, 5)));
    double delay = fmin(30, base * (0.75 + 0.5 * rand_r(&c->seed) / (double)RAND_MAX));
    attempt++;
    emit(c, "retry", "\"ms\": %.0f, \"attempt\": %d", delay * 1000, attempt);
    uint64_t until = fb_now_ns() + (uint64_t)(delay * 1e9);
    while (fb_now_ns() < until && !over()) usleep(10000);
  }
  emit(c, "end",
       "\"connects\": %d, \"joins\": %d, \"audio\": %d, \"losses\": %d, \"gaps\": %llu, "
       "\"max_gap_ms\": %.1f",
       c->connects, c->joins, c->audio_ok, c->losses, (unsigned long long)c->gaps, c->max_gap_ms);
  return NULL;
}

int main(int argc, char **argv) {
  static const struct option lo[] = {{"host", 1, 0, 'H'},        {"port", 1, 0, 'p'},
                                     {"secret-file", 1, 0, 'S'}, {"meeting", 1, 0, 'm'},
                                     {"prefix", 1, 0, 'x'},      {"speakers", 1, 0, 'k'},
                                     {"request", 1, 0, 'r'},     {"duration-s", 1, 0, 'd'},
                                     {"backoff", 1, 0, 'b'},     {"gap-ms", 1, 0, 'g'},
                                     {"out", 1, 0, 'o'},         {"bind-ip", 1, 0, 'B'},
                                     {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
  snprintf(G.host, sizeof G.host, "127.0.0.1");
  snprintf(G.bind_ip, sizeof G.bind_ip, "127.0.0.1");
  snprintf(G.prefix, sizeof G.prefix, "fc");
  snprintf(G.meeting, sizeof G.meeting, "faults");
  G.n = 3;
  G.duration_s = 60;
  G.gap_ms = 200;
  G.out = stdout;
  char secret_file[512] = "";
  int c;
  while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
    switch (c) {
    case 'H': snprintf(G.host, sizeof G.host, "%s", optarg); break;
    case 'p': G.port = atoi(optarg); break;
    case 'S': snprintf(secret_file, sizeof secret_file, "%s", optarg); break;
    case 'm': snprintf(G.meeting, sizeof G.meeting, "%s", optarg); break;
    case 'x': snprintf(G.prefix, sizeof G.prefix, "%s", optarg); break;
    case 'k': G.speakers = atoi(optarg); break;
    case 'r': G.request = atoi(optarg); break;
    case 'n': G.n = atoi(optarg); break;
    case 'd': G.duration_s = atof(optarg); break;
    case 'b': G.fast = !strcmp(optarg, "fast"); break;
    case 'g': G.gap_ms = atof(optarg); break;
    case 'B': snprintf(G.bind_ip, sizeof G.bind_ip, "%s", optarg); break;
    case 'o':
      G.out = fopen(optarg, "a");
      if (!G.out) return perror(optarg), 2;
      break;
    default:
      fprintf(stderr,
              "usage: fb-fault-client --port P --secret-file F [--meeting M] [--host IP] "
              "[-n N] [--prefix P] [--speakers K] [--request R] [--duration-s S] "
              "[--backoff page|fast] [--gap-ms G] [--bind-ip IP] [--out FILE]\n");
      return 2;
    }
  }
  FILE *f = secret_file[0] ? fopen(secret_file, "r") : NULL;
  if (!f || !fgets(G.secret, sizeof G.secret, f) || G.port <= 0 || G.n < 1 || G.n > 300) {
    fprintf(stderr,
            "fb-fault-client: --port and a readable --secret-file are needed (1 <= n <= 300)\n");
    return 2;
  }
  fclose(f);
  G.secret[strcspn(G.secret, "\r\n")] = 0;
  char err[256];
  G.ctx = fb_rtc_client_ctx_new(err, sizeof err);
  if (!G.ctx) return fprintf(stderr, "fb-fault-client: %s\n", err), 1;
  pthread_mutex_init(&G.out_lock, NULL);
  G.deadline = fb_now_ns() + (uint64_t)(G.duration_s * 1e9);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  client *cs = calloc((size_t)G.n, sizeof *cs);
  pthread_t *th = calloc((size_t)G.n, sizeof *th);
  for (int i = 0; i < G.n; i++) {
    client *x = &cs[i];
    x->idx = i + 1;
    snprintf(x->id, sizeof x->id, "%s%02d", G.prefix, i + 1);
    x->speaker = i < G.speakers;
    x->requester = i >= G.speakers && i < G.speakers + G.request;
    x->seed = (unsigned)(i * 7919 + 17);
    x->fd = -1;
    x->rx = malloc(RXMAX);
    pthread_create(&th[i], NULL, run, x);
  }
  for (int i = 0; i < G.n; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < G.n; i++) free(cs[i].rx);
  free(cs);
  free(th);
  fb_rtc_client_ctx_free(G.ctx);
  if (G.out != stdout) fclose(G.out);
  return 0;
}
