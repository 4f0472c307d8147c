/*
 * rtp_load.c — fb-rtp-load: a plain-RTP load generator for comparing bridges
 * (floorbridge, Janus AudioBridge) under the same load, on loopback only.
 *
 * Design
 * - One thread, epoll, no thread per participant. N participants, each with
 *   its own UDP socket on 127.0.0.1; the first S are speakers, the rest
 *   listeners. Everyone receives; every datagram is counted (rate, sequence
 *   gaps, RFC 3550 interarrival jitter) and the first K listeners' streams
 *   are decoded (--decode K) to show the mix really carries the speakers.
 * - Speech is encoded ONCE at start (8 voices × 5 s from codecs/synth.h,
 *   48 kHz Opus, looped with a per-speaker offset), so sending costs the load
 *   tool a sendto, not an encode. A periodic timerfd with an absolute start
 *   paces the 20 ms ticks; missed expirations are caught up, never drifted.
 * - Listeners send --hello packets at the start and then stay silent: Janus
 *   only starts sending to a plain-RTP participant after it has received a
 *   packet from it; floorbridge counts and drops listener uplinks.
 * - Registration, one of:
 *     --fb-control SOCK --bridge HOST:PORT   floorbridge's control socket:
 *         "add pI 127.0.0.1:PORT live|listen" per participant; every one
 *         sends to the bridge's single media port.
 *     --ports-out FILE --targets-in FILE     an external registrar (the Janus
 *         HTTP API in scripts/bench-janus): we write "I PORT live|listen" lines,
 *         wait for FILE with "I DST_PORT" lines (each Janus participant has
 *         its own bridge-side port).
 * - Measurement: --warmup W seconds after the first send, then a --duration
 *   D window. With --bridge-pid the bridge's CPU over exactly that window is
 *   read from /proc/PID/stat (utime+stime, all threads) and, more precisely,
 *   from the sum of /proc/PID/task/ * /schedstat; RSS and thread count at the
 *   end. The tool reports its own CPU too, so a saturated load generator is
 *   visible rather than blamed on the bridge.
 *
 *   fb-rtp-load --participants N --speakers S (--fb-control SOCK --bridge H:P |
 *               --ports-out F --targets-in F) [--bridge-pid PID] [--warmup W]
 *               [--duration D] [--decode K] [--hello K] [--pt 111] [--json]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/clock.h"
#include "mixer/rtp.h"
#include "codecs/audio.h"
#include "codecs/opus_codec.h"
#include "codecs/synth.h"

#define CLIP_FRAMES 250 /* 5 s per voice */
#define VOICES 8
#define BATCH 16

typedef struct {
  int fd, port, dst_port, live;
  uint16_t seq;
  uint32_t ts, ssrc;
  /* receive side */
  uint64_t rx, rx_win0, gaps, lost, late, bytes;
  int have_seq;
  uint16_t last_seq;
  double jitter, transit; /* RFC 3550, in RTP units (1/48000 s) */
  int have_transit;
  fb_decoder *dec;
} peer;

static uint8_t clip[VOICES][CLIP_FRAMES][FB_MAX_OPUS];
static int clip_len[VOICES][CLIP_FRAMES];

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* ---- bridge process measurements (/proc) ---- */

static int read_file(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, len - 1, f);
  fclose(f);
  buf[n] = 0;
  return (int)n;
}

/* utime+stime of every thread of pid, in ns (clock-tick resolution). */
static double proc_cpu_ns(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (read_file(path, buf, sizeof buf) < 0) return -1;
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  unsigned long ut = 0, st = 0;
  /* after ')': state(3) ... utime is field 14, stime 15 */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return -1;
  return (double)(ut + st) * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

/* Sum of on-CPU ns over the threads alive now (/proc/PID/task/ * /schedstat). */
static double proc_sched_ns(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  double sum = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p2[320], buf[128];
    snprintf(p2, sizeof p2, "/proc/%d/task/%.255s/schedstat", pid, e->d_name);
    if (read_file(p2, buf, sizeof buf) > 0) sum += strtod(buf, NULL);
  }
  closedir(d);
  return sum;
}

static long proc_status_kb(int pid, const char *key) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (read_file(path, buf, sizeof buf) < 0) return -1;
  char *p = strstr(buf, key);
  return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static double self_cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

/* ---- registration ---- */

static void register_floorbridge(peer *ps, int n, const char *sock, int bridge_port) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("control socket");
  FILE *in = fdopen(fd, "r");
  for (int i = 0; i < n; i++) {
    char line[128], reply[512];
    int l = snprintf(line, sizeof line, "add p%d 127.0.0.1:%d %s\n", i, ps[i].port,
                     ps[i].live ? "live" : "listen");
    if (write(fd, line, (size_t)l) != l) die("control write");
    if (!fgets(reply, sizeof reply, in)) die("control read");
    if (strncmp(reply, "ok", 2) != 0) {
      fprintf(stderr, "fb-rtp-load: %s -> %s", line, reply);
      exit(1);
    }
    ps[i].dst_port = bridge_port;
  }
  fclose(in);
}

static void register_external(peer *ps, int n, const char *ports_out, const char *targets_in,
                              int timeout_s) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", ports_out);
  FILE *f = fopen(tmp, "w");
  if (!f) die(tmp);
  for (int i = 0; i < n; i++)
    fprintf(f, "%d %d %s\n", i, ps[i].port, ps[i].live ? "live" : "listen");
  if (fclose(f) != 0 || rename(tmp, ports_out) < 0) die(ports_out);
  uint64_t deadline = fb_now_ns() + (uint64_t)timeout_s * 1000000000ull;
  while (access(targets_in, R_OK) != 0) {
    if (fb_now_ns() > deadline) {
      fprintf(stderr, "fb-rtp-load: no %s after %d s\n", targets_in, timeout_s);
      exit(1);
    }
    usleep(20000);
  }
  f = fopen(targets_in, "r");
  if (!f) die(targets_in);
  int i, port, got = 0;
  while (fscanf(f, "%d %d", &i, &port) == 2)
    if (i >= 0 && i < n && port > 0 && port < 65536) ps[i].dst_port = port, got++;
  fclose(f);
  for (i = 0; i < n; i++)
    if (!ps[i].dst_port) {
      fprintf(stderr, "fb-rtp-load: %s has no port for participant %d (%d lines)\n", targets_in, i,
              got);
      exit(1);
    }
}

/* ---- media ---- */

static void send_frame(peer *p, int idx, long tick, int pt) {
  int v = idx % VOICES, f = (int)((tick + idx * 37) % CLIP_FRAMES);
  uint8_t pkt[FB_RTP_HDR + FB_MAX_OPUS];
  fb_rtp_write_header(pkt, tick == 0, (uint8_t)pt, p->seq++, p->ts, p->ssrc);
  p->ts += FB_FRAME;
  memcpy(pkt + FB_RTP_HDR, clip[v][f], (size_t)clip_len[v][f]);
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)p->dst_port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  sendto(p->fd, pkt, (size_t)(FB_RTP_HDR + clip_len[v][f]), MSG_DONTWAIT, (struct sockaddr *)&to,
         sizeof to);
}

static double dec_sumsq, dec_samples;
static uint64_t dec_errors;

static void on_packet(peer *p, const uint8_t *buf, size_t len, uint64_t now, int measuring) {
  fb_rtp r;
  if (fb_rtp_parse(buf, len, &r) < 0) return;
  p->rx++;
  p->bytes += len;
  if (p->have_seq) {
    uint16_t d = (uint16_t)(r.seq - p->last_seq);
    if (d == 0 || d > 32768) {
      p->late++; /* duplicate or reordered: keep last_seq */
      return;
    }
    if (d != 1) p->gaps++, p->lost += d - 1u;
  }
  p->have_seq = 1;
  p->last_seq = r.seq;
  double arrival = (double)now * 48e-6; /* ns -> 48 kHz units */
  double transit = arrival - (double)r.ts;
  if (p->have_transit) {
    double dd = fabs(transit - p->transit);
    if (dd < 48000) p->jitter += (dd - p->jitter) / 16.0;
  }
  p->transit = transit;
  p->have_transit = 1;
  if (p->dec && measuring) {
    float pcm[FB_MAX_FRAME];
    int got = fb_decoder_decode(p->dec, r.payload, (int)r.payload_len, pcm, FB_MAX_FRAME);
    if (got <= 0) {
      dec_errors++;
      return;
    }
    for (int i = 0; i < got; i++) dec_sumsq += (double)pcm[i] * pcm[i];
    dec_samples += got;
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: fb-rtp-load --participants N --speakers S\n"
          "         (--fb-control SOCK --bridge HOST:PORT | --ports-out FILE --targets-in FILE)\n"
          "         [--bridge-pid PID] [--warmup S] [--duration S] [--decode K] [--hello K]\n"
          "         [--pt PT] [--bitrate B] [--complexity C] [--register-timeout S] [--label L]"
          " [--json]\n");
}

int main(int argc, char **argv) {
  int n = 100, S = 2, pid = 0, hello = 3, pt = 111, bitrate = 32000, complexity = 5, json = 0;
  int ndecode = 2, reg_timeout = 180, bridge_port = 0;
  double warmup = 3, duration = 10;
  const char *ctl = NULL, *ports_out = NULL, *targets_in = NULL, *label = "bridge";
  static const struct option opts[] = {{"participants", 1, 0, 'n'},
                                       {"speakers", 1, 0, 's'},
                                       {"fb-control", 1, 0, 'c'},
                                       {"bridge", 1, 0, 'b'},
                                       {"ports-out", 1, 0, 'o'},
                                       {"targets-in", 1, 0, 'i'},
                                       {"bridge-pid", 1, 0, 'p'},
                                       {"warmup", 1, 0, 'w'},
                                       {"duration", 1, 0, 'd'},
                                       {"decode", 1, 0, 'k'},
                                       {"hello", 1, 0, 'H'},
                                       {"pt", 1, 0, 't'},
                                       {"bitrate", 1, 0, 'B'},
                                       {"complexity", 1, 0, 'C'},
                                       {"register-timeout", 1, 0, 'T'},
                                       {"label", 1, 0, 'l'},
                                       {"json", 0, 0, 'j'},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'n': n = atoi(optarg); break;
    case 's': S = atoi(optarg); break;
    case 'c': ctl = optarg; break;
    case 'b': {
      const char *colon = strrchr(optarg, ':');
      bridge_port = colon ? atoi(colon + 1) : 0;
      break;
    }
    case 'o': ports_out = optarg; break;
    case 'i': targets_in = optarg; break;
    case 'p': pid = atoi(optarg); break;
    case 'w': warmup = atof(optarg); break;
    case 'd': duration = atof(optarg); break;
    case 'k': ndecode = atoi(optarg); break;
    case 'H': hello = atoi(optarg); break;
    case 't': pt = atoi(optarg); break;
    case 'B': bitrate = atoi(optarg); break;
    case 'C': complexity = atoi(optarg); break;
    case 'T': reg_timeout = atoi(optarg); break;
    case 'l': label = optarg; break;
    case 'j': json = 1; break;
    default: usage(); return o == 'h' ? 0 : 2;
    }
  }
  if (n < 1 || S < 0 || S > n || duration <= 0 || warmup < 0 || duration + warmup > 3600 ||
      !((ctl && bridge_port > 0) || (ports_out && targets_in))) {
    usage();
    return 2;
  }
  /* Bounded: registration plus the run plus slack, whatever happens. */
  alarm((unsigned)(reg_timeout + warmup + duration + 30));

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  for (int v = 0; v < VOICES; v++) { /* encode once */
    fb_speech sp;
    fb_speech_init(&sp, 100 + (uint32_t)v);
    fb_encoder *enc = fb_encoder_new(bitrate, complexity, 1, 0);
    for (int f = 0; f < CLIP_FRAMES; f++) {
      float pcm[FB_FRAME];
      fb_speech_fill(&sp, pcm, FB_FRAME);
      clip_len[v][f] = fb_encoder_encode(enc, pcm, clip[v][f], FB_MAX_OPUS);
      if (clip_len[v][f] <= 0) die("opus encode");
    }
    fb_encoder_free(enc);
  }

  int ep = epoll_create1(0);
  peer *ps = calloc((size_t)n, sizeof *ps);
  for (int i = 0; i < n; i++) {
    peer *p = &ps[i];
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(p->fd, (struct sockaddr *)&a, &al) < 0)
      die("participant socket (raise ulimit -n?)");
    p->port = ntohs(a.sin_port);
    p->live = i < S;
    p->ssrc = 0x10000000u + (uint32_t)i * 7919u;
    p->seq = (uint16_t)(i * 101);
    p->ts = (uint32_t)i * 48000u;
    if (!p->live && i - S < ndecode) p->dec = fb_decoder_new();
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev) < 0) die("epoll_ctl");
  }

  uint64_t r0 = fb_now_ns();
  if (ctl)
    register_floorbridge(ps, n, ctl, bridge_port);
  else
    register_external(ps, n, ports_out, targets_in, reg_timeout);
  double register_s = (double)(fb_now_ns() - r0) / 1e9;

  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  uint64_t t0 = fb_now_ns() + FB_TICK_NS;
  struct itimerspec its = {.it_value = {(time_t)(t0 / 1000000000ull), (long)(t0 % 1000000000ull)},
                           .it_interval = {0, FB_TICK_NS}};
  if (tfd < 0 || timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die("timerfd");
  struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  long warm_ticks = lround(warmup * 50), end_tick = warm_ticks + lround(duration * 50);
  long tick = 0; /* ticks sent so far */
  int measuring = 0, done = 0;
  uint64_t tx = 0, tx_win = 0, late_ticks = 0, w0_ns = 0, w1_ns = 0;
  double b_cpu0 = 0, b_cpu1 = 0, b_sch0 = 0, b_sch1 = 0, s_cpu0 = 0, s_cpu1 = 0;

  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  static uint8_t bufs[BATCH][1600];
  for (int k = 0; k < BATCH; k++) {
    iov[k] = (struct iovec){bufs[k], sizeof bufs[k]};
    msgs[k].msg_hdr = (struct msghdr){.msg_iov = &iov[k], .msg_iovlen = 1};
  }
  struct epoll_event evs[256];
  while (!done) {
    int ne = epoll_wait(ep, evs, 256, 100);
    if (ne < 0 && errno != EINTR) die("epoll_wait");
    uint64_t now = fb_now_ns();
    for (int e = 0; e < ne; e++) {
      uint32_t id = evs[e].data.u32;
      if (id == UINT32_MAX) {
        uint64_t exp = 0;
        if (read(tfd, &exp, sizeof exp) != sizeof exp) continue;
        if (exp > 1) late_ticks += exp - 1;
        for (uint64_t x = 0; x < exp && !done; x++, tick++) {
          if (tick == warm_ticks) { /* window starts */
            measuring = 1;
            w0_ns = fb_now_ns();
            for (int i = 0; i < n; i++) ps[i].rx_win0 = ps[i].rx;
            for (int i = 0; i < n; i++) ps[i].gaps = ps[i].lost = ps[i].late = 0;
            if (pid) b_cpu0 = proc_cpu_ns(pid), b_sch0 = proc_sched_ns(pid);
            s_cpu0 = self_cpu_ns();
            tx_win = tx;
          }
          if (tick == end_tick) { /* window ends; this tick is not sent */
            w1_ns = fb_now_ns();
            if (pid) b_cpu1 = proc_cpu_ns(pid), b_sch1 = proc_sched_ns(pid);
            s_cpu1 = self_cpu_ns();
            measuring = 0;
            done = 1;
            break;
          }
          for (int i = 0; i < n; i++)
            if (ps[i].live || tick < hello) send_frame(&ps[i], i, tick, pt), tx++;
        }
        continue;
      }
      peer *p = &ps[id];
      int got = recvmmsg(p->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      for (int k = 0; k < got; k++) on_packet(p, bufs[k], msgs[k].msg_len, now, measuring);
    }
  }

  /* ---- summary ---- */
  double win_s = (double)(w1_ns - w0_ns) / 1e9;
  uint64_t rx = 0, gaps = 0, lost = 0, late = 0;
  double lmin = 1e9, lsum = 0, smin = 1e9, ssum = 0, jsum = 0, jmax = 0;
  int L = n - S, silent = 0;
  for (int i = 0; i < n; i++) {
    peer *p = &ps[i];
    uint64_t w = p->rx - p->rx_win0;
    double pps = (double)w / win_s, jms = p->jitter / 48.0;
    rx += w, gaps += p->gaps, lost += p->lost, late += p->late;
    if (w == 0) silent++;
    jsum += jms;
    if (jms > jmax) jmax = jms;
    if (p->live)
      ssum += pps, smin = pps < smin ? pps : smin;
    else
      lsum += pps, lmin = pps < lmin ? pps : lmin;
  }
  double lmean = L ? lsum / L : 0, smean = S ? ssum / S : 0;
  if (!L) lmin = 0;
  if (!S) smin = 0;
  double loss = rx + lost ? 100.0 * (double)lost / (double)(rx + lost) : 0;
  double bcpu = pid ? 100.0 * (b_cpu1 - b_cpu0) / (win_s * 1e9) : -1;
  double bsch = pid ? 100.0 * (b_sch1 - b_sch0) / (win_s * 1e9) : -1;
  double scpu = 100.0 * (s_cpu1 - s_cpu0) / (win_s * 1e9);
  long rss = pid ? proc_status_kb(pid, "VmRSS:") : -1;
  long threads = pid ? proc_status_kb(pid, "Threads:") : -1;
  double dbfs = dec_samples > 0 ? 10 * log10(dec_sumsq / dec_samples + 1e-12) : -120;

  if (json) {
    printf(
        "{\"label\":\"%s\",\"participants\":%d,\"speakers\":%d,\"listeners\":%d,"
        "\"window_s\":%.3f,\"register_s\":%.3f,\"tx_packets\":%llu,\"rx_packets\":%llu,"
        "\"listener_pps_mean\":%.2f,\"listener_pps_min\":%.2f,\"speaker_pps_mean\":%.2f,"
        "\"speaker_pps_min\":%.2f,\"silent_participants\":%d,\"gaps\":%llu,\"lost\":%llu,"
        "\"late\":%llu,\"loss_pct\":%.4f,\"jitter_ms_mean\":%.3f,\"jitter_ms_max\":%.3f,"
        "\"decoded_dbfs\":%.1f,\"decode_errors\":%llu,\"bridge_cpu_pct\":%.2f,"
        "\"bridge_cpu_sched_pct\":%.2f,\"bridge_rss_kb\":%ld,\"bridge_threads\":%ld,"
        "\"load_cpu_pct\":%.1f,\"load_late_ticks\":%llu}\n",
        label, n, S, L, win_s, register_s, (unsigned long long)(tx - tx_win),
        (unsigned long long)rx, lmean, lmin, smean, smin, silent, (unsigned long long)gaps,
        (unsigned long long)lost, (unsigned long long)late, loss, n ? jsum / n : 0, jmax, dbfs,
        (unsigned long long)dec_errors, bcpu, bsch, rss, threads, scpu,
        (unsigned long long)late_ticks);
  } else {
    printf("%s: %d participants (%d speakers, %d listeners), window %.1f s, registration %.2f s\n",
           label, n, S, L, win_s, register_s);
    printf(
        "  tx %llu packets, rx %llu packets; per listener %.2f pkt/s (min %.2f), per speaker"
        " %.2f pkt/s (min %.2f); silent %d\n",
        (unsigned long long)(tx - tx_win), (unsigned long long)rx, lmean, lmin, smean, smin,
        silent);
    printf(
        "  loss %.3f %% (%llu gaps, %llu lost, %llu late), jitter %.2f ms mean, %.2f max;"
        " decoded %.1f dBFS (%llu errors)\n",
        loss, (unsigned long long)gaps, (unsigned long long)lost, (unsigned long long)late,
        n ? jsum / n : 0, jmax, dbfs, (unsigned long long)dec_errors);
    if (pid)
      printf("  bridge pid %d: CPU %.2f %% (stat), %.2f %% (schedstat), RSS %ld kB, %ld threads\n",
             pid, bcpu, bsch, rss, threads);
    printf("  load tool CPU %.1f %%, late ticks %llu\n", scpu, (unsigned long long)late_ticks);
  }
  return 0;
}
