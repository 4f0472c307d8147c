/*
 * log.c — one-line logging to stderr. A single fprintf per line (stdio locks
 * the stream), so lines from different threads never interleave.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static atomic_int min_level = FB_LOG_INFO;
static const char *names[] = {"DEBUG", "INFO", "WARN", "ALERT", "ERROR"};

void fb_log_set_level(fb_log_level level) { atomic_store(&min_level, (int)level); }

int fb_log_parse_level(const char *s) {
  static const char *lower[] = {"debug", "info", "warn", "alert", "error"};
  for (int i = 0; i < 5; i++)
    if (strcasecmp(s, lower[i]) == 0) return i;
  return -1;
}

void fb_log(fb_log_level level, const char *subsys, const char *fmt, ...) {
  if ((int)level < atomic_load(&min_level)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s\n", tm.tm_year + 1900,
          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
          names[level], subsys, msg);
}
