/*
 * control.c — the local control socket (see control.h).
 *
 * One thread, poll() over the listening socket and up to FB_CTL_CLIENTS
 * connections; each line is one command, executed through the bridge API and
 * answered with one line. A line longer than FB_CTL_LINE is refused and the
 * connection closed (a local admin tool never needs that much). The socket
 * file is created with mode 0660: whoever can reach it can run the meeting's
 * media, so it belongs to the secretariat's group only.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "bridge/control.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "util/log.h"

#define FB_CTL_CLIENTS 16
#define FB_CTL_LINE 512

typedef struct {
  int fd;
  size_t len;
  char buf[FB_CTL_LINE];
} ctl_client;

struct fb_control {
  struct fb_bridge *bridge;
  int fd;
  char path[108];
  pthread_t thread;
  atomic_int running;
  ctl_client clients[FB_CTL_CLIENTS];
};

static int split(char *line, char **argv, int max) {
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < max;
       tok = strtok_r(NULL, " \t\r\n", &save))
    argv[n++] = tok;
  return n;
}

void fb_control_exec(struct fb_bridge *b, const char *line, char *reply, int replylen) {
  char copy[FB_CTL_LINE];
  snprintf(copy, sizeof copy, "%s", line);
  char *argv[8];
  int argc = split(copy, argv, 8);
  char err[256] = "";
  if (argc == 0) {
    snprintf(reply, replylen, "error bad_command empty line");
  } else if (strcmp(argv[0], "add") == 0 && argc >= 3) {
    char host[64];
    int port = 0, live = 0, pt = 111;
    if (fb_parse_hostport(argv[2], host, sizeof host, &port) < 0) {
      snprintf(reply, replylen, "error bad_argument expected HOST:PORT, got '%s'", argv[2]);
      return;
    }
    for (int i = 3; i < argc; i++) {
      if (strcmp(argv[i], "live") == 0)
        live = 1;
      else if (strcmp(argv[i], "listen") == 0)
        live = 0;
      else if (strncmp(argv[i], "pt=", 3) == 0)
        pt = atoi(argv[i] + 3);
      else {
        snprintf(reply, replylen, "error bad_argument unknown option '%s'", argv[i]);
        return;
      }
    }
    if (fb_bridge_add_rtp(b, argv[1], host, port, live, pt, err, sizeof err) < 0)
      snprintf(reply, replylen, "error %s", err);
    else
      snprintf(reply, replylen, "ok added %s", argv[1]);
  } else if (strcmp(argv[0], "remove") == 0 && argc == 2) {
    if (fb_bridge_remove(b, argv[1]) < 0)
      snprintf(reply, replylen, "error unknown_participant no participant '%s'", argv[1]);
    else
      snprintf(reply, replylen, "ok removed %s", argv[1]);
  } else if (strcmp(argv[0], "live") == 0 && argc == 3 &&
             (strcmp(argv[2], "on") == 0 || strcmp(argv[2], "off") == 0)) {
    int on = strcmp(argv[2], "on") == 0;
    if (fb_bridge_set_live(b, argv[1], on, err, sizeof err) < 0) {
      snprintf(reply, replylen, "error %s", err);
    } else {
      snprintf(reply, replylen, "ok %s %s", argv[1], on ? "live" : "listening");
    }
  } else if (strcmp(argv[0], "list") == 0 && argc == 1) {
    /* "ok N" then, after ": ", one "name live|listening rx=N tx=N" per
     * participant separated by ";" (the protocol is one line a reply) */
    char list[FB_CTL_LINE * 4];
    fb_bridge_list(b, list, sizeof list);
    int n = list[0] ? 1 : 0;
    for (char *c = list; *c; c++)
      if (*c == '\n') *c = ';', n++;
    if (n)
      snprintf(reply, replylen, "ok %d: %s", n, list);
    else
      snprintf(reply, replylen, "ok 0");
  } else if (strcmp(argv[0], "status") == 0 && argc == 1) {
    char json[1024];
    fb_bridge_status_json(b, json, sizeof json);
    snprintf(reply, replylen, "ok %s", json);
  } else {
    snprintf(reply, replylen,
             "error bad_command expected: add NAME HOST:PORT [live|listen] [pt=N] | remove NAME"
             " | live NAME on|off | list | status");
  }
  /* The bridge's messages read "code: message"; the protocol is "error code message". */
  char *colon = strstr(reply, ": ");
  if (strncmp(reply, "error ", 6) == 0 && colon &&
      strcspn(reply + 6, " ") == (size_t)(colon - reply - 6))
    memmove(colon, colon + 1, strlen(colon)); /* drop the ':' keep the space */
}

static void client_close(ctl_client *c) {
  close(c->fd);
  c->fd = -1;
  c->len = 0;
}

static void client_read(fb_control *ctl, ctl_client *c) {
  ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
  if (n <= 0) {
    client_close(c);
    return;
  }
  c->len += (size_t)n;
  for (;;) {
    char *nl = memchr(c->buf, '\n', c->len);
    if (!nl) break;
    *nl = 0;
    char reply[2048];
    fb_control_exec(ctl->bridge, c->buf, reply, sizeof reply - 1);
    size_t rl = strlen(reply);
    reply[rl++] = '\n';
    if (write(c->fd, reply, rl) < 0) {
      client_close(c);
      return;
    }
    size_t used = (size_t)(nl - c->buf) + 1;
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
  }
  if (c->len == sizeof c->buf) {
    static const char msg[] = "error bad_command line too long\n";
    if (write(c->fd, msg, sizeof msg - 1) < 0) { /* closing anyway */
    }
    client_close(c);
  }
}

static void *control_main(void *arg) {
  fb_control *ctl = arg;
  struct pollfd pfd[FB_CTL_CLIENTS + 1];
  while (atomic_load(&ctl->running)) {
    int n = 0;
    pfd[n++] = (struct pollfd){.fd = ctl->fd, .events = POLLIN};
    for (int i = 0; i < FB_CTL_CLIENTS; i++)
      pfd[n++] = (struct pollfd){.fd = ctl->clients[i].fd, .events = POLLIN};
    if (poll(pfd, (nfds_t)n, 200) <= 0) continue;
    if (pfd[0].revents & POLLIN) {
      int fd = accept(ctl->fd, NULL, NULL);
      if (fd >= 0) {
        int slot = -1;
        for (int i = 0; i < FB_CTL_CLIENTS && slot < 0; i++)
          if (ctl->clients[i].fd < 0) slot = i;
        if (slot < 0) {
          static const char msg[] = "error busy too many control connections\n";
          if (write(fd, msg, sizeof msg - 1) < 0) { /* closing anyway */
          }
          close(fd);
        } else {
          ctl->clients[slot].fd = fd;
          ctl->clients[slot].len = 0;
        }
      }
    }
    for (int i = 0; i < FB_CTL_CLIENTS; i++)
      if (pfd[i + 1].fd >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
        client_read(ctl, &ctl->clients[i]);
  }
  return NULL;
}

fb_control *fb_control_start(struct fb_bridge *b, const char *path, char *err, int errlen) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(err, errlen, "'%s': path too long for a Unix socket", path);
    return NULL;
  }
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
    snprintf(err, errlen, "'%s': %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return NULL;
  }
  chmod(path, 0660);
  fb_control *ctl = calloc(1, sizeof *ctl);
  if (!ctl) {
    snprintf(err, errlen, "out of memory");
    close(fd);
    return NULL;
  }
  ctl->bridge = b;
  ctl->fd = fd;
  snprintf(ctl->path, sizeof ctl->path, "%s", path);
  for (int i = 0; i < FB_CTL_CLIENTS; i++) ctl->clients[i].fd = -1;
  atomic_store(&ctl->running, 1);
  if (pthread_create(&ctl->thread, NULL, control_main, ctl) != 0) {
    snprintf(err, errlen, "cannot start the control thread");
    close(fd);
    free(ctl);
    return NULL;
  }
  pthread_setname_np(ctl->thread, "fb-control");
  return ctl;
}

void fb_control_stop(fb_control *ctl) {
  if (!ctl) return;
  atomic_store(&ctl->running, 0);
  pthread_join(ctl->thread, NULL);
  for (int i = 0; i < FB_CTL_CLIENTS; i++)
    if (ctl->clients[i].fd >= 0) close(ctl->clients[i].fd);
  close(ctl->fd);
  unlink(ctl->path);
  free(ctl);
}
