/*
 * log.h — one-line logging to stderr with level, time and subsystem, safe from
 * any thread. Alerts (things the secretariat must see: floor source lost, ...)
 * are logged at FB_LOG_ALERT and also counted.
 */
#ifndef FB_LOG_H
#define FB_LOG_H

typedef enum {
  FB_LOG_DEBUG = 0,
  FB_LOG_INFO,
  FB_LOG_WARN,
  FB_LOG_ALERT,
  FB_LOG_ERROR
} fb_log_level;

/* Set the minimum level printed (default INFO). */
void fb_log_set_level(fb_log_level level);

/* Parse "debug|info|warn|alert|error"; returns -1 when unknown. */
int fb_log_parse_level(const char *s);

/* printf-style log line: "<time> <LEVEL> [subsys] message". */
void fb_log(fb_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
