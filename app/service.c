/*
 * service.c — sd_notify for the systemd unit (see service.h).
 *
 * Design: the notify protocol is written out here (about thirty lines)
 * instead of linking libsystemd. sd_notify(3) documents it as a stable
 * interface that services may implement themselves — one datagram on the
 * AF_UNIX socket named by $NOTIFY_SOCKET — and Debian's libsystemd-dev pins
 * libsystemd0 to its own version, which pulls an upgrade of systemd itself
 * onto a machine that only wanted to build the demo. Without $NOTIFY_SOCKET
 * every call does nothing; the watchdog is on only when $WATCHDOG_USEC is set
 * and $WATCHDOG_PID (when set) is this process, as sd_watchdog_enabled(3)
 * says. Only the main thread calls these (main.c's signal loop), so the
 * little state kept here needs no lock.
 *
 * The ping interval is a third of WatchdogSec=, not the half sd_watchdog_enabled(3)
 * names as the slowest safe rate: the ping is withheld whenever the mixer is
 * unhealthy at the moment of asking (its last tick more than 100 ms ago), and
 * one such sample must not be enough to get the bridge killed mid-meeting.
 * With a third, the mixer has to be found unhealthy at two or three pings in
 * a row, i.e. stuck for most of WatchdogSec=.
 */
#include "app/service.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"

static int withheld; /* the last ping was withheld (logged once per episode) */

/* One datagram to $NOTIFY_SOCKET ("/path" or "@abstract"); silent when unset. */
static void notify(const char *msg) {
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t n = path ? strlen(path) : 0;
  if (n < 2 || n >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@')) return;
  memcpy(sa.sun_path, path, n);
  if (path[0] == '@') sa.sun_path[0] = 0; /* abstract namespace */
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
    fb_log(FB_LOG_WARN, "service", "cannot notify the service manager: %m");
  close(fd);
}

void fb_service_ready(const char *status) {
  char msg[512];
  snprintf(msg, sizeof msg, "READY=1%s%s", status ? "\nSTATUS=" : "", status ? status : "");
  notify(msg);
}

void fb_service_stopping(void) { notify("STOPPING=1\nSTATUS=shutting down"); }

int fb_service_watchdog_period_ms(void) {
  const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
  if (!us || !getenv("NOTIFY_SOCKET")) return 0;
  if (pid && strtol(pid, NULL, 10) != (long)getpid()) return 0; /* meant for another process */
  char *end = NULL;
  unsigned long long usec = strtoull(us, &end, 10);
  if (!end || *end || usec == 0) return 0;
  uint64_t ms = usec / 3000;
  return ms < 1 ? 1 : ms > 3600000 ? 3600000 : (int)ms;
}

void fb_service_watchdog(int healthy) {
  if (!healthy) {
    if (!withheld)
      fb_log(FB_LOG_WARN, "service", "mixer not ticking on time: watchdog ping withheld");
    withheld = 1;
    return;
  }
  if (withheld) fb_log(FB_LOG_INFO, "service", "mixer ticking again: watchdog ping resumed");
  withheld = 0;
  notify("WATCHDOG=1");
}
