/*
 * main.c — floorbridge-load: command line, set-up, run, report.
 *
 * A load generator for floorbridge that joins N WebRTC participants the way
 * browsers do (WebSocket join with a minted token, SDP offer/answer, ICE,
 * DTLS-SRTP), keeps S of them speaking a marked signal, and measures what
 * the listeners get (continuity, end-to-end latency) and what the bridge
 * costs (CPU, RSS, mixer ticks). See load.h for the threads, marker.h for
 * what the latency includes, and `floorbridge-load --help` for the options.
 *
 * Targets must be loopback unless --allow-remote: this is a load tool.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "load/load.h"
#include "load/probe.h"

static const char *usage =
    "usage: floorbridge-load --url ws://127.0.0.1:PORT/ws (--secret S | --secret-file F) [options]\n"
    "\n"
    "  -n, --participants N   delegates to join (default 20; the chair is extra)\n"
    "  -s, --speakers S       live speakers at once (default 2)\n"
    "      --pool P           speakers rotated through the floor (default 2*S, at most N)\n"
    "      --rotate-s R       one turn ends and the next starts every R s (default 5; 0: none)\n"
    "      --scenario NAME    steady | storm | churn | impaired | webcast (default steady)\n"
    "      --ramp-per-s X     joins started per second (default 100; storm: all at once)\n"
    "      --duration-s D     measured window after the joins (default 30)\n"
    "      --settle-s T       wait after the last join before measuring (default 2)\n"
    "      --join-timeout-s T a join with no downlink audio after T s failed (default 15)\n"
    "      --churn-per-s X    churn: listeners leaving (and rejoining) per second (default N/20)\n"
    "      --rejoin-ms T      churn: rejoin after T ms (default 1000)\n"
    "      --loss PCT         impaired: drop PCT %% of the speakers' uplink (default 5)\n"
    "      --jitter-ms J      impaired: delay each uplink packet by 0..J ms (default 20)\n"
    "      --reorder PCT      impaired: send PCT %% of packets after the next (default 2)\n"
    "      --decode-pct P     listeners that decode and measure latency (default 5)\n"
    "      --decode-min K     ... at least K of them (default 3)\n"
    "      --decode-max K     ... at most K (default 100)\n"
    "      --no-light         verify SRTP on every listener (default: only decoding ones)\n"
    "      --gap-ms G         a downlink gap longer than G ms is counted (default 60)\n"
    "      --meeting ID       the meeting's id (default demo)\n"
    "      --floor MODE       auto | chair | token (default auto: probe floor control)\n"
    "      --bind-ip IP       local address of the UDP sockets (default 127.0.0.1)\n"
    "      --bridge-pid PID   read the bridge's CPU and RSS from /proc\n"
    "      --metrics URL      Prometheus text (default http://HOST:PORT/metrics from --url)\n"
    "      --control PATH     the bridge's control socket (status JSON; fallback for ticks)\n"
    "      --json FILE        write the summary as JSON\n"
    "      --assert           exit 1 unless: every join succeeded, no listener gap over\n"
    "                         --assert-gap-ms (default 200), every decoded listener heard\n"
    "                         markers (none after a webcast switch)\n"
    "      --seed N           impairment and churn randomness (default 1)\n"
    "      --allow-remote     allow a non-loopback target\n"
    "  -v, --verbose          progress and per-failure messages (twice: lws notices)\n";

static int is_loopback(const char *ip) {
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton(AF_INET, ip, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, ip, &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return 0;
}

static int parse_url(ld_opts *o) {
  const char *u = o->url;
  if (!strncmp(u, "ws://", 5))
    u += 5;
  else if (!strncmp(u, "wss://", 6))
    u += 6, o->tls = 1;
  else
    return -1;
  const char *slash = strchr(u, '/');
  size_t hl = slash ? (size_t)(slash - u) : strlen(u);
  char hostport[128];
  if (hl == 0 || hl >= sizeof hostport) return -1;
  memcpy(hostport, u, hl);
  hostport[hl] = 0;
  snprintf(o->path, sizeof o->path, "%s", slash ? slash : "/ws");
  o->port = o->tls ? 443 : 80;
  char *host = hostport;
  if (hostport[0] == '[') { /* [v6]:port */
    char *end = strchr(hostport, ']');
    if (!end) return -1;
    *end = 0;
    host = hostport + 1;
    if (end[1] == ':') o->port = atoi(end + 2);
  } else {
    char *colon = strrchr(hostport, ':');
    if (colon) {
      *colon = 0;
      o->port = atoi(colon + 1);
    }
  }
  if (!strcmp(host, "localhost")) host = "127.0.0.1";
  snprintf(o->host, sizeof o->host, "%s", host);
  return o->port > 0 && o->port < 65536 ? 0 : -1;
}

static int read_secret(const char *path, char *out, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(out, 1, len - 1, f);
  fclose(f);
  out[n] = 0;
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
  return 0;
}

static int parse_args(int argc, char **argv, ld_opts *o) {
  enum {
    O_POOL = 256,
    O_ROT,
    O_SCEN,
    O_RAMP,
    O_DUR,
    O_SETTLE,
    O_JTO,
    O_CHURN,
    O_REJOIN,
    O_LOSS,
    O_JIT,
    O_REORD,
    O_DPCT,
    O_DMIN,
    O_DMAX,
    O_GAP,
    O_MEET,
    O_FLOOR,
    O_BIND,
    O_PID,
    O_METRICS,
    O_CTL,
    O_JSON,
    O_ASSERT,
    O_AGAP,
    O_SEED,
    O_REMOTE,
    O_URL,
    O_SECRET,
    O_SECRETF,
    O_NOLIGHT
  };
  static const struct option lo[] = {{"url", 1, 0, O_URL},
                                     {"secret", 1, 0, O_SECRET},
                                     {"secret-file", 1, 0, O_SECRETF},
                                     {"participants", 1, 0, 'n'},
                                     {"speakers", 1, 0, 's'},
                                     {"pool", 1, 0, O_POOL},
                                     {"rotate-s", 1, 0, O_ROT},
                                     {"scenario", 1, 0, O_SCEN},
                                     {"ramp-per-s", 1, 0, O_RAMP},
                                     {"duration-s", 1, 0, O_DUR},
                                     {"settle-s", 1, 0, O_SETTLE},
                                     {"join-timeout-s", 1, 0, O_JTO},
                                     {"churn-per-s", 1, 0, O_CHURN},
                                     {"rejoin-ms", 1, 0, O_REJOIN},
                                     {"loss", 1, 0, O_LOSS},
                                     {"jitter-ms", 1, 0, O_JIT},
                                     {"reorder", 1, 0, O_REORD},
                                     {"decode-pct", 1, 0, O_DPCT},
                                     {"decode-min", 1, 0, O_DMIN},
                                     {"decode-max", 1, 0, O_DMAX},
                                     {"gap-ms", 1, 0, O_GAP},
                                     {"meeting", 1, 0, O_MEET},
                                     {"floor", 1, 0, O_FLOOR},
                                     {"bind-ip", 1, 0, O_BIND},
                                     {"bridge-pid", 1, 0, O_PID},
                                     {"metrics", 1, 0, O_METRICS},
                                     {"control", 1, 0, O_CTL},
                                     {"json", 1, 0, O_JSON},
                                     {"assert", 0, 0, O_ASSERT},
                                     {"assert-gap-ms", 1, 0, O_AGAP},
                                     {"seed", 1, 0, O_SEED},
                                     {"allow-remote", 0, 0, O_REMOTE},
                                     {"no-light", 0, 0, O_NOLIGHT},
                                     {"verbose", 0, 0, 'v'},
                                     {"help", 0, 0, 'h'},
                                     {0, 0, 0, 0}};
  double churn = -1, loss = -1, jitter = -1, reorder = -1, ramp = -1;
  int pool = -1, c;
  char secret_file[512] = "";
  while ((c = getopt_long(argc, argv, "n:s:vh", lo, NULL)) != -1) {
    switch (c) {
    case O_URL: snprintf(o->url, sizeof o->url, "%s", optarg); break;
    case O_SECRET: snprintf(o->secret, sizeof o->secret, "%s", optarg); break;
    case O_SECRETF: snprintf(secret_file, sizeof secret_file, "%s", optarg); break;
    case 'n': o->n = atoi(optarg); break;
    case 's': o->speakers = atoi(optarg); break;
    case O_POOL: pool = atoi(optarg); break;
    case O_ROT: o->rotate_s = atof(optarg); break;
    case O_SCEN:
      if (!strcmp(optarg, "steady"))
        o->scenario = LD_STEADY;
      else if (!strcmp(optarg, "storm"))
        o->scenario = LD_STORM;
      else if (!strcmp(optarg, "churn"))
        o->scenario = LD_CHURN;
      else if (!strcmp(optarg, "impaired"))
        o->scenario = LD_IMPAIRED;
      else if (!strcmp(optarg, "webcast"))
        o->scenario = LD_WEBCAST;
      else
        return fprintf(stderr, "floorbridge-load: unknown scenario '%s'\n", optarg), -1;
      break;
    case O_RAMP: ramp = atof(optarg); break;
    case O_DUR: o->duration_s = atof(optarg); break;
    case O_SETTLE: o->settle_s = atof(optarg); break;
    case O_JTO: o->join_timeout_s = atof(optarg); break;
    case O_CHURN: churn = atof(optarg); break;
    case O_REJOIN: o->rejoin_ms = atof(optarg); break;
    case O_LOSS: loss = atof(optarg); break;
    case O_JIT: jitter = atof(optarg); break;
    case O_REORD: reorder = atof(optarg); break;
    case O_DPCT: o->decode_pct = atof(optarg); break;
    case O_DMIN: o->decode_min = atoi(optarg); break;
    case O_DMAX: o->decode_max = atoi(optarg); break;
    case O_GAP: o->gap_ms = atof(optarg); break;
    case O_MEET: snprintf(o->meeting, sizeof o->meeting, "%s", optarg); break;
    case O_FLOOR:
      if (!strcmp(optarg, "auto"))
        o->floor = LD_FLOOR_AUTO;
      else if (!strcmp(optarg, "chair"))
        o->floor = LD_FLOOR_CHAIR;
      else if (!strcmp(optarg, "token"))
        o->floor = LD_FLOOR_TOKEN;
      else
        return fprintf(stderr, "floorbridge-load: --floor auto|chair|token\n"), -1;
      break;
    case O_BIND: snprintf(o->bind_ip, sizeof o->bind_ip, "%s", optarg); break;
    case O_PID: o->bridge_pid = atoi(optarg); break;
    case O_METRICS: snprintf(o->metrics_url, sizeof o->metrics_url, "%s", optarg); break;
    case O_CTL: snprintf(o->control, sizeof o->control, "%s", optarg); break;
    case O_JSON: snprintf(o->json_path, sizeof o->json_path, "%s", optarg); break;
    case O_ASSERT: o->assert_ok = 1; break;
    case O_AGAP: o->assert_gap_ms = atof(optarg); break;
    case O_SEED: o->seed = (uint32_t)strtoul(optarg, NULL, 10); break;
    case O_REMOTE: o->allow_remote = 1; break;
    case O_NOLIGHT: o->light = 0; break;
    case 'v': o->verbose++; break;
    case 'h': fputs(usage, stdout); exit(0);
    default: fputs(usage, stderr); return -1;
    }
  }
  if (optind < argc)
    return fprintf(stderr, "floorbridge-load: stray argument '%s'\n", argv[optind]), -1;
  if (!o->url[0] || parse_url(o) < 0)
    return fprintf(stderr, "floorbridge-load: --url ws://HOST:PORT/PATH is required\n"), -1;
  if (secret_file[0] && read_secret(secret_file, o->secret, sizeof o->secret) < 0)
    return fprintf(stderr, "floorbridge-load: cannot read %s\n", secret_file), -1;
  if (!o->secret[0] && getenv("FLOORBRIDGE_TOKEN_SECRET"))
    snprintf(o->secret, sizeof o->secret, "%s", getenv("FLOORBRIDGE_TOKEN_SECRET"));
  if (strlen(o->secret) < 16)
    return fprintf(stderr,
                   "floorbridge-load: a token secret of 16+ bytes is needed "
                   "(--secret, --secret-file or FLOORBRIDGE_TOKEN_SECRET)\n"),
           -1;
  if (!o->allow_remote && (!is_loopback(o->host) || !is_loopback(o->bind_ip)))
    return fprintf(stderr,
                   "floorbridge-load: %s is not a loopback address; this is a load "
                   "tool (use --allow-remote for a bridge you run elsewhere)\n",
                   is_loopback(o->host) ? o->bind_ip : o->host),
           -1;
  if (o->n < 1 || o->n > 100000 || o->speakers < 0 || o->speakers > 64 || o->speakers > o->n)
    return fprintf(stderr, "floorbridge-load: need 1 <= N <= 100000 and 0 <= S <= min(64, N)\n"),
           -1;
  if (o->duration_s < 0 || o->settle_s < 0 || o->join_timeout_s <= 0 || o->gap_ms <= 0)
    return fprintf(stderr, "floorbridge-load: bad duration, settle, timeout or gap\n"), -1;
  o->pool = pool >= 0 ? pool : 2 * o->speakers;
  if (o->pool < o->speakers) o->pool = o->speakers;
  if (o->pool > o->n) o->pool = o->n;
  o->ramp_per_s = ramp >= 0 ? ramp : o->scenario == LD_STORM ? 0 : 100;
  o->churn_per_s = churn >= 0 ? churn : o->scenario == LD_CHURN ? fmax(1, o->n / 20.0) : 0;
  int imp = o->scenario == LD_IMPAIRED;
  o->loss_pct = loss >= 0 ? loss : imp ? 5 : 0;
  o->jitter_ms = jitter >= 0 ? jitter : imp ? 20 : 0;
  o->reorder_pct = reorder >= 0 ? reorder : imp ? 2 : 0;
  if (!o->metrics_url[0] && !o->tls)
    snprintf(o->metrics_url, sizeof o->metrics_url, "http://%s:%d/metrics", o->host, o->port);
  return 0;
}

static void on_signal(int sig) {
  (void)sig;
  ld_ws_interrupt();
}

/* Roles: the pool speakers first, then listeners; a sample of listeners,
 * spread evenly, decodes. */
static int setup_parts(ld_run *r) {
  ld_opts *o = &r->o;
  r->parts = calloc((size_t)o->n, sizeof *r->parts);
  if (!r->parts) return -1;
  int listeners = o->n - o->pool;
  int dec = (int)lround(o->decode_pct / 100.0 * listeners);
  if (dec < o->decode_min) dec = o->decode_min;
  if (dec > o->decode_max) dec = o->decode_max;
  if (dec > listeners) dec = listeners;
  for (int i = 0; i < o->n; i++) {
    ld_part *p = &r->parts[i];
    p->index = i;
    p->role = i < o->pool ? LD_SPEAKER : LD_LISTENER;
    snprintf(p->delegate, sizeof p->delegate, "%s%05d", p->role == LD_SPEAKER ? "s" : "d", i);
  }
  for (int k = 0; k < dec; k++)
    r->parts[o->pool + (int)((long long)k * listeners / dec)].decode = 1;
  r->chair.index = -1;
  r->chair.role = LD_CHAIR;
  snprintf(r->chair.delegate, sizeof r->chair.delegate, "chair");
  return 0;
}

int main(int argc, char **argv) {
  static ld_run run;
  ld_run *r = &run;
  ld_opts *o = &r->o;
  o->n = 20;
  o->speakers = 2;
  o->rotate_s = 5;
  o->duration_s = 30;
  o->settle_s = 2;
  o->join_timeout_s = 15;
  o->rejoin_ms = 1000;
  o->decode_pct = 5;
  o->decode_min = 3;
  o->decode_max = 100;
  o->light = 1;
  o->gap_ms = 60;
  o->assert_gap_ms = 200;
  o->seed = 1;
  snprintf(o->bind_ip, sizeof o->bind_ip, "127.0.0.1");
  snprintf(o->meeting, sizeof o->meeting, "demo");
  if (parse_args(argc, argv, o) < 0) return 2;

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(2 * o->n + 64))
    fprintf(stderr,
            "floorbridge-load: warning: %llu file descriptors for %d participants "
            "(2 each); raise ulimit -n\n",
            (unsigned long long)rl.rlim_cur, o->n);

  char err[256];
  pthread_mutex_init(&r->res_lock, NULL);
  if (ld_signal_build(&r->sig, o->seed, 32000, 5, err, sizeof err) < 0) {
    fprintf(stderr, "floorbridge-load: %s\n", err);
    return 1;
  }
  r->ctx = fb_rtc_client_ctx_new(err, sizeof err);
  if (!r->ctx || setup_parts(r) < 0) {
    fprintf(stderr, "floorbridge-load: %s\n", r->ctx ? "out of memory" : err);
    return 1;
  }
  static ld_probe_window pw;
  ld_probe_take(o, &pw.zero);
  if (o->verbose)
    fprintf(stderr,
            "floorbridge-load: %d participants (%d speakers, pool %d) -> %s; "
            "codec delay calibrated %.2f ms; bridge probes: proc %s, metrics %s, control %s\n",
            o->n, o->speakers, o->pool, o->url, r->sig.cal_ns / 1e6,
            pw.zero.have_proc ? "yes" : "no", pw.zero.have_metrics ? "yes" : "no",
            pw.zero.have_status ? "yes" : "no");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  r->t_start = fb_now_ns();
  int rc = 1;
  if (ld_media_start(r, err, sizeof err) < 0 || ld_ws_run(r, &pw, err, sizeof err) < 0) {
    fprintf(stderr, "floorbridge-load: %s\n", err);
  } else {
    rc = 0;
  }
  ld_media_stop(r);
  if (rc == 0) rc = ld_report(r, &pw);
  ld_ws_free_sessions();
  fb_rtc_client_ctx_free(r->ctx);
  free(r->parts);
  free(r->res);
  ld_samples_free(&r->join_ms);
  ld_samples_free(&r->lat_ms);
  ld_samples_free(&r->lag_ms);
  ld_samples_free(&r->connect_ms);
  ld_samples_free(&r->joined_ms);
  ld_samples_free(&r->answer_ms);
  return rc;
}
