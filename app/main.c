/*
 * main.c — the floorbridge command line.
 *
 *   floorbridge --config FILE [--set S.K=V ...] [--log-level L]   run the bridge
 *   floorbridge --check-config FILE [--set S.K=V ...]             validate, exit
 *   floorbridge COMMAND ...                                        subcommands
 *   floorbridge token --meeting M --delegate D --name N --role R  mint a join token
 *   floorbridge invite --meeting M --csv FILE ...                   links from a registration list
 *   floorbridge report --db FILE [--csv OUT] [--audit] ...          speaking time, audit
 *
 * The configuration is built in one order everywhere: defaults, then FILE, then
 * every --set in command-line order, then --log-level, then the cross-key
 * validation. --check-config runs exactly that and stops, so what it accepts
 * is what --config would start with.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked before the bridge creates any
 * thread, so every thread inherits the mask and only main receives them,
 * synchronously, in sigtimedwait. Shutdown therefore runs in ordinary code (not
 * a handler) and can take its time to finalise the recording. SIGHUP is a
 * reload request and never stops the bridge. SIGPIPE is ignored: a control
 * client that hangs up must not kill the bridge.
 *
 * Exit status: 0 ok, 1 the bridge failed to start, 2 usage or config error.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge/bridge.h"
#include "util/clock.h"
#include "config/config.h"
#include "util/log.h"
#include "app/service.h"
#include "signalling/invite.h"
#include "signalling/server.h"
#include "signalling/store.h"
#include "signalling/token.h"

#define EXIT_START_FAILED 1
#define EXIT_USAGE 2

/* Subcommands: "floorbridge NAME args..." (argv[0] is NAME). */
typedef struct {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"token", "mint a join token (floorbridge token --help)", fb_token_cli},
    {"invite", "personal links from the registration list (invite --help)", fb_invite_cli},
    {"report", "speaking time per delegate and session, audit log (report --help)",
     fb_store_report_cli},
    {NULL, NULL, NULL},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: floorbridge --config FILE [--set SECTION.KEY=VALUE ...] [--log-level LEVEL]\n"
          "       floorbridge --check-config FILE [--set SECTION.KEY=VALUE ...]\n"
          "       floorbridge token --meeting M --delegate D --name N --role R [--speak] ...\n"
          "       floorbridge invite --meeting M --csv FILE --url URL --from DATE --to DATE ...\n"
          "       floorbridge report --db FILE [--meeting ID] [--session N] [--csv OUT] [--audit]\n"
          "       floorbridge --help | --version\n"
          "\n"
          "Audio bridge for formal meetings: remote delegates and the room floor.\n"
          "\n"
          "  -c, --config FILE        run the bridge with FILE until SIGINT or SIGTERM\n"
          "      --check-config FILE  validate FILE (and any --set), print \"FILE: ok\"\n"
          "  -s, --set S.K=V          override a key after FILE, e.g. --set mixer.bitrate=24000\n"
          "                           or --set participant.NAME.live=true (repeatable)\n"
          "  -l, --log-level LEVEL    debug, info, warn, alert or error\n"
          "                           (overrides [bridge] log_level)\n"
          "  -h, --help               show this help\n"
          "  -V, --version            show the version\n");
  if (commands[0].name) {
    fprintf(f, "\ncommands:\n");
    for (const command *c = commands; c->name; c++) fprintf(f, "  %-22s %s\n", c->name, c->summary);
  }
  fprintf(f,
          "\n"
          "Every key, its default and when to change it: configs/demo.conf.\n"
          "Exit status: 0 ok, 1 the bridge failed to start, 2 usage or configuration error.\n");
}

/* Defaults, file, overrides, log level, validation. 0, or -1 with err set. */
static int build_config(fb_config *cfg, const char *path, char **sets, int nsets,
                        const char *log_level, char *err, size_t errlen) {
  fb_config_defaults(cfg);
  if (fb_config_load(cfg, path, err, errlen) < 0) return -1;
  for (int i = 0; i < nsets; i++)
    if (fb_config_set(cfg, sets[i], err, errlen) < 0) return -1;
  if (log_level) {
    int level = fb_log_parse_level(log_level);
    if (level < 0) {
      snprintf(err, errlen, "--log-level: expected debug, info, warn, alert or error, got '%s'",
               log_level);
      return -1;
    }
    cfg->log_level = level;
  }
  char msg[768];
  if (fb_config_validate(cfg, msg, sizeof msg) < 0) {
    snprintf(err, errlen, "%s: %s", path, msg); /* no line: name the file at least */
    return -1;
  }
  return 0;
}

/* Start the bridge and run until SIGINT/SIGTERM. SIGHUP asks for a reload and
 * the bridge keeps running. Under systemd (app/service.h) it reports ready
 * once media and signalling listen, pings the watchdog while the mixer is
 * healthy, and reports stopping; elsewhere those calls do nothing. */
static int run(const fb_config *cfg) {
  char err[1024];
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread exists */
  signal(SIGPIPE, SIG_IGN);

  fb_log_set_level((fb_log_level)cfg->log_level);
  fb_bridge *b = fb_bridge_new(cfg, err, sizeof err);
  if (!b) {
    fb_log(FB_LOG_ERROR, "main", "startup failed: %s", err);
    return EXIT_START_FAILED;
  }
  fb_signalling *sg = NULL;
  if (cfg->sig_enabled && !(sg = fb_signalling_start(cfg, b, err, sizeof err))) {
    fb_log(FB_LOG_ERROR, "main", "startup failed: %s", err);
    fb_bridge_free(b);
    return EXIT_START_FAILED;
  }
  int v6 = strchr(cfg->bind, ':') != NULL;
  fb_log(FB_LOG_INFO, "main",
         "floorbridge %s listening: media udp %s%s%s:%d, control %s, "
         "web %s, meeting %s",
         FB_VERSION, v6 ? "[" : "", cfg->bind, v6 ? "]" : "", fb_bridge_media_port(b),
         cfg->control_socket[0] ? cfg->control_socket : "disabled",
         sg ? fb_signalling_url(sg) : "disabled", cfg->meeting_id);
  char status[256];
  snprintf(status, sizeof status, "meeting %s: media udp port %d, web %s", cfg->meeting_id,
           fb_bridge_media_port(b), sg ? fb_signalling_url(sg) : "disabled");
  fb_service_ready(status);

  /* Wait for a signal; with a watchdog, wake up every period to ping it.
   * The next ping is an absolute deadline, so a stream of SIGHUPs cannot
   * postpone it. */
  int period_ms = fb_service_watchdog_period_ms(); /* 0: no watchdog */
  uint64_t period_ns = (uint64_t)period_ms * 1000000u, next_ping = fb_now_ns() + period_ns;
  int sig;
  for (;;) {
    struct timespec wait = {0, 0};
    if (period_ms) {
      uint64_t now = fb_now_ns();
      if (now >= next_ping) {
        fb_service_watchdog(fb_bridge_healthy(b));
        next_ping = now + period_ns;
      }
      uint64_t left = next_ping - now;
      wait.tv_sec = (time_t)(left / 1000000000u);
      wait.tv_nsec = (long)(left % 1000000000u);
    }
    sig = sigtimedwait(&sigs, NULL, period_ms ? &wait : NULL);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGHUP) {
      /* Reload: what can change while the bridge runs is re-read here. */
      fb_log(FB_LOG_INFO, "main", "reload requested (SIGHUP)");
      fb_signalling_reload(sg); /* the TLS certificate, the revoked file */
    }
    /* else -1: the ping is due (EAGAIN) or the wait was interrupted (EINTR) */
  }
  fb_log(FB_LOG_INFO, "main", "shutting down (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
  fb_service_stopping();
  fb_signalling_stop(sg);
  fb_bridge_free(b);
  fb_log(FB_LOG_INFO, "main", "stopped");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (argv[1][0] != '-') {
    for (const command *c = commands; c->name; c++)
      if (strcmp(argv[1], c->name) == 0) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "floorbridge: unknown command '%s' (see floorbridge --help)\n", argv[1]);
    return EXIT_USAGE;
  }

  enum { OPT_CHECK = 256 };
  static const struct option options[] = {
      {"config", required_argument, NULL, 'c'},
      {"check-config", required_argument, NULL, OPT_CHECK},
      {"set", required_argument, NULL, 's'},
      {"log-level", required_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  const char *config = NULL, *check = NULL, *log_level = NULL;
  char **sets = calloc((size_t)argc, sizeof *sets);
  int nsets = 0, opt;
  if (!sets) return EXIT_START_FAILED;
  while ((opt = getopt_long(argc, argv, "c:s:l:hV", options, NULL)) != -1) {
    switch (opt) {
    case 'c': config = optarg; break;
    case OPT_CHECK: check = optarg; break;
    case 's': sets[nsets++] = optarg; break;
    case 'l': log_level = optarg; break;
    case 'h':
      usage(stdout);
      free(sets);
      return 0;
    case 'V':
      printf("floorbridge %s\n", FB_VERSION);
      free(sets);
      return 0;
    default: /* getopt has said what is wrong */
      fprintf(stderr, "see floorbridge --help\n");
      free(sets);
      return EXIT_USAGE;
    }
  }
  if (optind < argc || !config == !check) {
    if (optind < argc)
      fprintf(stderr, "floorbridge: unexpected argument '%s'\n", argv[optind]);
    else if (config)
      fprintf(stderr, "floorbridge: use --config or --check-config, not both\n");
    else
      fprintf(stderr, "floorbridge: --config FILE or --check-config FILE is required\n");
    fprintf(stderr, "see floorbridge --help\n");
    free(sets);
    return EXIT_USAGE;
  }

  fb_config *cfg = malloc(sizeof *cfg);
  char err[1024];
  int rc;
  if (!cfg)
    rc = EXIT_START_FAILED;
  else if (build_config(cfg, check ? check : config, sets, nsets, log_level, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    rc = EXIT_USAGE;
  } else if (check) {
    printf("%s: ok\n", check);
    rc = 0;
  } else {
    rc = run(cfg);
  }
  free(cfg);
  free(sets);
  return rc;
}
