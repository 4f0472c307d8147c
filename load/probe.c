/*
 * probe.c — the bridge probes of probe.h. Each probe is bounded: the HTTP
 * GET and the control-socket exchange have a 1 s timeout and read at most
 * 256 KiB; /proc reads are single files. A probe that fails leaves its
 * have_* flag at 0 and the report says "n/a".
 */
#define _GNU_SOURCE
#include "load/probe.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

#define IO_MS 1000
#define BODY_MAX (256 * 1024)

/* ---- /proc ------------------------------------------------------------------ */

/* utime + stime and comm from a /proc stat file. 0 or -1. */
static int read_stat(const char *path, uint64_t *ticks, char *comm, size_t commlen) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *l = strchr(buf, '('), *r = strrchr(buf, ')');
  if (!l || !r || r < l) return -1;
  if (comm) snprintf(comm, commlen, "%.*s", (int)(r - l - 1), l + 1);
  /* fields after comm: state(3) ... utime(14) stime(15) */
  unsigned long long ut = 0, st = 0;
  if (sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  *ticks = ut + st;
  return 0;
}

static void probe_proc(int pid, ld_probe *p) {
  char path[128];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (read_stat(path, &p->cpu_ticks, NULL, 0) < 0) return;
  p->have_proc = 1;
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "VmRSS: %ld", &p->rss_kb) == 1) break;
    fclose(f);
  }
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) && p->nthreads < LD_PROBE_THREADS) {
    int tid = atoi(e->d_name);
    if (tid <= 0) continue;
    char tp[160];
    snprintf(tp, sizeof tp, "/proc/%d/task/%d/stat", pid, tid);
    ld_thread_cpu *t = &p->th[p->nthreads];
    if (read_stat(tp, &t->ticks, t->comm, sizeof t->comm) == 0) {
      t->tid = tid;
      p->nthreads++;
    }
  }
  closedir(d);
}

/* ---- sockets ------------------------------------------------------------------ */

/* Read until EOF (or the first newline when line != 0), the timeout or
 * BODY_MAX; returns a malloc'd NUL-terminated buffer or NULL. */
static char *read_all(int fd, int line) {
  size_t cap = 16384, n = 0;
  char *buf = malloc(cap);
  uint64_t end = fb_now_ns() + (uint64_t)IO_MS * 1000000ull;
  while (buf) {
    uint64_t now = fb_now_ns();
    if (now >= end) break;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, (int)((end - now) / 1000000ull) + 1) <= 0) break;
    if (n + 4096 > cap) {
      if (cap >= BODY_MAX) break;
      char *v = realloc(buf, cap * 2);
      if (!v) break;
      buf = v;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r <= 0) break;
    n += (size_t)r;
    if (line && memchr(buf, '\n', n)) break;
  }
  if (buf) buf[n] = 0;
  return buf;
}

static int connect_timeout(int fd, const struct sockaddr *a, socklen_t al) {
  if (connect(fd, a, al) == 0) return 0;
  struct pollfd pfd = {fd, POLLOUT, 0};
  if (poll(&pfd, 1, IO_MS) <= 0) return -1;
  int e = 0;
  socklen_t el = sizeof e;
  return getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0 ? 0 : -1;
}

/* GET http://host:port/path (plain HTTP/1.0). */
static char *http_get(const char *url) {
  char host[128], path[256] = "/";
  int port = 80;
  if (sscanf(url, "http://%127[^:/]:%d%255s", host, &port, path) < 2 &&
      sscanf(url, "http://%127[^:/]%255s", host, path) < 1)
    return NULL;
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  if (getaddrinfo(host, ps, &hints, &ai) || !ai) return NULL;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  char *body = NULL;
  if (fd >= 0 && connect_timeout(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
                     path, host);
    if (write(fd, req, (size_t)n) == n) body = read_all(fd, 0);
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(ai);
  return body;
}

static void probe_metrics(const char *url, ld_probe *p) {
  char *text = http_get(url);
  if (!text) return;
  if (strncmp(text, "HTTP/1.", 7) || strncmp(text + 9, "200", 3)) {
    free(text);
    return;
  }
  int seen = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long long v;
    char le[32];
    if (sscanf(line, "floorbridge_mixer_ticks_total %llu", &v) == 1) {
      p->ticks_total = v;
      seen |= 1;
    } else if (sscanf(line, "floorbridge_mixer_missed_ticks_total %llu", &v) == 1) {
      p->missed_total = v;
      seen |= 2;
    } else if (sscanf(line, "floorbridge_mixer_tick_seconds_bucket{le=\"%31[^\"]\"} %llu", le,
                      &v) == 2 &&
               p->nbuckets < LD_PROBE_BUCKETS) {
      p->le[p->nbuckets] = strcmp(le, "+Inf") ? atof(le) : INFINITY;
      p->cnt[p->nbuckets++] = v;
    }
  }
  free(text);
  p->have_metrics = (seen & 2) && p->nbuckets > 0;
}

static void probe_control(const char *path, ld_probe *p) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a.sun_path) return;
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  char *reply = NULL;
  if (connect_timeout(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "status\n", 7) == 7)
    reply = read_all(fd, 1);
  close(fd);
  if (!reply) return;
  json_t *j = strncmp(reply, "ok ", 3) == 0 ? json_loads(reply + 3, 0, NULL) : NULL;
  free(reply);
  if (!j) return;
  p->have_status = 1;
  p->st_ticks = (uint64_t)json_integer_value(json_object_get(j, "ticks"));
  p->st_missed = (uint64_t)json_integer_value(json_object_get(j, "missed_ticks"));
  p->st_tick_p50_us = json_number_value(json_object_get(j, "tick_p50_us"));
  p->st_tick_p99_us = json_number_value(json_object_get(j, "tick_p99_us"));
  p->st_tick_max_us = json_number_value(json_object_get(j, "tick_max_us"));
  p->st_lat_p50_ms = json_number_value(json_object_get(j, "latency_p50_ms"));
  p->st_lat_p99_ms = json_number_value(json_object_get(j, "latency_p99_ms"));
  json_decref(j);
}

/* Busy ticks of every core: everything but idle and iowait. */
static uint64_t machine_busy(void) {
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long v[8] = {0};
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                 &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  return n >= 5 ? v[0] + v[1] + v[2] + v[5] + v[6] + v[7] : 0;
}

void ld_probe_take(const ld_opts *o, ld_probe *p) {
  memset(p, 0, sizeof *p);
  p->mono_ns = fb_now_ns();
  p->sys_busy_ticks = machine_busy();
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  p->self_cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  if (o->bridge_pid > 0) probe_proc(o->bridge_pid, p);
  if (o->metrics_url[0]) probe_metrics(o->metrics_url, p);
  if (o->control[0]) probe_control(o->control, p);
}

double ld_probe_tick_quantile(const ld_probe *a, const ld_probe *b, double q) {
  if (!a->have_metrics || !b->have_metrics || a->nbuckets != b->nbuckets) return NAN;
  int n = b->nbuckets;
  uint64_t total = b->cnt[n - 1] - a->cnt[n - 1];
  if (!total) return NAN;
  double want = q * (double)total;
  uint64_t prev = 0;
  double lo = 0;
  for (int i = 0; i < n; i++) {
    uint64_t c = b->cnt[i] - a->cnt[i];
    if ((double)c >= want) {
      if (isinf(b->le[i])) return lo; /* beyond the last finite bound */
      double frac = c > prev ? (want - (double)prev) / (double)(c - prev) : 1;
      return lo + frac * (b->le[i] - lo);
    }
    prev = c;
    if (!isinf(b->le[i])) lo = b->le[i];
  }
  return lo;
}
