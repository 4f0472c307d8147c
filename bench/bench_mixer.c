/*
 * bench_mixer — the tick with S live speakers and L listeners, synthetic, no
 * network. Prints per-tick CPU time and the cost per listener, with the shared
 * encode and (with --compare) with a per-participant encode, in one run so the
 * ratio is not at the mercy of a noisy machine.
 *
 * The stand-in transport copies header + payload into a staging buffer, as an
 * SRTP transport must before protecting, so a listener's cost here is the real
 * per-listener work minus the cipher and the syscall. --udp sends for real
 * over loopback with sendmmsg to a sink socket instead.
 *
 *   fb-bench-mixer [--speakers S] [--listeners L] [--ticks N] [--compare] [--udp]
 *                  [--complexity C] [--bitrate B] [--json]
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "mixer/mixer.h"
#include "net/net.h"
#include "codecs/synth.h"
#include "webrtc/srtp_session.h"

#define PRE_FRAMES 250 /* 5 s of pre-encoded speech per speaker, looped */

typedef struct {
  fb_transport base;
  uint8_t stage[64][1500];
  unsigned n;
  uint64_t bytes;
} stage_transport;

static void st_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hl,
                    const uint8_t *pl, size_t plen) {
  (void)p;
  stage_transport *s = (stage_transport *)t;
  uint8_t *dst = s->stage[s->n++ & 63];
  memcpy(dst, hdr, hl);
  memcpy(dst + hl, pl, plen);
  s->bytes += hl + plen;
}
static void st_flush(fb_transport *t) { (void)t; }

/* What webrtc_tx.c does per listener minus the syscall: copy into a slot,
 * SRTP-protect in place (one session per listener, as in the bridge). */
typedef struct {
  fb_transport base;
  fb_srtp **sessions; /* indexed by participant name number */
  int nsessions;
  uint8_t slot[1500 + FB_SRTP_TRAILER_MAX];
  unsigned long errors;
} srtp_transport;

static void srtp_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hl,
                      const uint8_t *pl, size_t plen) {
  srtp_transport *s = (srtp_transport *)t;
  int idx = atoi(p->name + 1) % s->nsessions;
  memcpy(s->slot, hdr, hl);
  memcpy(s->slot + hl, pl, plen);
  int len = (int)(hl + plen);
  if (fb_srtp_protect(s->sessions[idx], s->slot, &len, (int)sizeof s->slot) != FB_SRTP_OK)
    s->errors++;
}

typedef struct {
  uint8_t pkt[PRE_FRAMES][FB_MAX_OPUS];
  int len[PRE_FRAMES];
} speech_clip;

typedef struct {
  double mean_us, p50_us, p99_us, max_us;
  uint64_t encodes;
} result;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int sink_port = 9; /* the discard port unless --udp binds a sink */

static result run(int S, int L, int ticks, int per_participant, int complexity, int bitrate,
                  const speech_clip *clips, fb_transport *tr) {
  fb_mixer_config cfg = {.bitrate = bitrate,
                         .complexity = complexity,
                         .max_live = S > 0 ? S : 1,
                         .max_participants = S + L + 1,
                         .per_participant_encode = per_participant,
                         .jitter_max_ms = 200,
                         .limiter_threshold = 0.891f,
                         .tick_cpu = -1};
  fb_mixer *m = fb_mixer_new(&cfg, NULL, NULL, NULL);
  int n = S + L;
  fb_participant **ps = calloc((size_t)n, sizeof *ps);
  struct sockaddr_in sink = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(0x7f000001),
                             .sin_port = htons((uint16_t)sink_port)};
  for (int i = 0; i < n; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    fb_participant *p = ps[i] = fb_participant_new(name, 111, tr);
    memcpy(&p->addr, &sink, sizeof sink);
    p->addrlen = sizeof sink;
    if (i < S) fb_participant_want_uplink(p, 1);
    fb_mixer_add(m, p, i < S);
  }
  uint64_t now = fb_now_ns();
  uint64_t *cpu = calloc((size_t)ticks, sizeof *cpu);
  int warm = 20;
  fb_mixer_stats st0, st1;
  for (int t = -warm; t < ticks; t++) {
    for (int k = 0; k < S; k++) {
      int f = (t + warm + k * 37) % PRE_FRAMES;
      fb_pktring *q = atomic_load(&ps[k]->inq);
      fb_pktring_push(q, (uint16_t)(t + warm), (uint32_t)((t + warm) * FB_FRAME),
                      clips[k % 8].pkt[f], (unsigned)clips[k % 8].len[f], now);
    }
    if (t == 0) fb_mixer_get_stats(m, &st0);
    uint64_t c0 = fb_thread_cpu_ns();
    fb_mixer_tick(m, now);
    uint64_t c1 = fb_thread_cpu_ns();
    if (t >= 0) cpu[t] = c1 - c0;
    now += FB_TICK_NS;
  }
  fb_mixer_get_stats(m, &st1);
  qsort(cpu, (size_t)ticks, sizeof *cpu, cmp_u64);
  double sum = 0;
  for (int t = 0; t < ticks; t++) sum += (double)cpu[t];
  result r = {.mean_us = sum / ticks / 1e3,
              .p50_us = cpu[ticks / 2] / 1e3,
              .p99_us = cpu[(int)(ticks * 0.99)] / 1e3,
              .max_us = cpu[ticks - 1] / 1e3,
              .encodes = (st1.encodes - st0.encodes) / (uint64_t)ticks};
  fb_mixer_free(m);
  for (int i = 0; i < n; i++) fb_participant_free(ps[i]);
  free(ps);
  free(cpu);
  return r;
}

/* Real UDP: a sendmmsg transport on loopback to a sink socket nobody reads
 * (the kernel drops once its buffer is full; the send cost is still paid). */
static unsigned long udp_errors;

typedef struct {
  fb_transport base;
  int fd;
  int n;
  struct mmsghdr msgs[128];
  struct iovec iov[128][2];
  uint8_t hdr[128][16];
} udp_transport;

static void udp_flush(fb_transport *t) {
  udp_transport *u = (udp_transport *)t;
  int off = 0;
  while (off < u->n) {
    int s = sendmmsg(u->fd, u->msgs + off, (unsigned)(u->n - off), MSG_DONTWAIT);
    if (s <= 0) udp_errors++;
    off += s > 0 ? s : 1;
  }
  u->n = 0;
}
static void udp_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hl,
                     const uint8_t *pl, size_t plen) {
  udp_transport *u = (udp_transport *)t;
  if (u->n == 128) udp_flush(t);
  int i = u->n++;
  memcpy(u->hdr[i], hdr, hl);
  u->iov[i][0] = (struct iovec){u->hdr[i], hl};
  u->iov[i][1] = (struct iovec){(void *)pl, plen};
  u->msgs[i].msg_hdr = (struct msghdr){
      .msg_name = &p->addr, .msg_namelen = p->addrlen, .msg_iov = u->iov[i], .msg_iovlen = 2};
}

int main(int argc, char **argv) {
  int S = 8, L = 1000, ticks = 500, compare = 0, use_udp = 0, complexity = 5, bitrate = 32000,
      json = 0, use_srtp = 0;
  static const struct option opts[] = {{"speakers", required_argument, 0, 's'},
                                       {"listeners", required_argument, 0, 'l'},
                                       {"ticks", required_argument, 0, 't'},
                                       {"compare", no_argument, 0, 'c'},
                                       {"udp", no_argument, 0, 'u'},
                                       {"complexity", required_argument, 0, 'x'},
                                       {"srtp", required_argument, 0, 'r'},
                                       {"bitrate", required_argument, 0, 'b'},
                                       {"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 's': S = atoi(optarg); break;
    case 'l': L = atoi(optarg); break;
    case 't': ticks = atoi(optarg); break;
    case 'c': compare = 1; break;
    case 'u': use_udp = 1; break;
    case 'r': use_srtp = strcmp(optarg, "gcm") == 0 ? 2 : 1; break;
    case 'x': complexity = atoi(optarg); break;
    case 'b': bitrate = atoi(optarg); break;
    case 'j': json = 1; break;
    default:
      printf(
          "usage: fb-bench-mixer [--speakers S] [--listeners L] [--ticks N] [--compare]"
          " [--udp | --srtp cm|gcm] [--complexity C] [--bitrate B] [--json]\n");
      return o == 'h' ? 0 : 2;
    }
  }
  if (S < 0 || S > 64 || L < 0 || ticks < 10) {
    fprintf(stderr, "speakers 0..64, listeners >= 0, ticks >= 10\n");
    return 2;
  }

  /* pre-encode 8 different speech clips once */
  static speech_clip clips[8];
  for (int k = 0; k < 8; k++) {
    fb_speech sp;
    fb_speech_init(&sp, 100 + (uint32_t)k);
    fb_encoder *enc = fb_encoder_new(bitrate, complexity, 1, 0);
    for (int f = 0; f < PRE_FRAMES; f++) {
      float pcm[FB_FRAME];
      fb_speech_fill(&sp, pcm, FB_FRAME);
      clips[k].len[f] = fb_encoder_encode(enc, pcm, clips[k].pkt[f], FB_MAX_OPUS);
    }
    fb_encoder_free(enc);
  }

  stage_transport stage = {.base = {.send = st_send, .flush = st_flush}};
  udp_transport udp = {.base = {.send = udp_send, .flush = udp_flush}};
  fb_transport *tr = &stage.base;
  if (use_udp) {
    udp.fd = socket(AF_INET, SOCK_DGRAM, 0);
    int sink = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t al = sizeof a;
    int rcv = 1 << 20;
    setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    if (bind(sink, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(sink, (struct sockaddr *)&a, &al) < 0) {
      perror("sink socket");
      return 1;
    }
    sink_port = ntohs(a.sin_port);
    tr = &udp.base;
  }

  srtp_transport srtp = {.base = {.send = srtp_send, .flush = st_flush}};
  if (use_srtp) {
    srtp.nsessions = S + L > 0 ? S + L : 1;
    srtp.sessions = calloc((size_t)srtp.nsessions, sizeof *srtp.sessions);
    for (int i = 0; i < srtp.nsessions; i++) {
      fb_srtp_keys k = {.profile = use_srtp == 2 ? FB_SRTP_PROFILE_AEAD_AES_128_GCM
                                                 : FB_SRTP_PROFILE_AES128_CM_SHA1_80,
                        .key_len = 16,
                        .salt_len = use_srtp == 2 ? 12 : 14};
      for (int b = 0; b < 30; b++) k.local[b] = k.remote[b] = (uint8_t)(i * 7 + b);
      srtp.sessions[i] = fb_srtp_new(&k);
    }
    tr = &srtp.base;
  }

  result base = run(S, 0, ticks, 0, complexity, bitrate, clips, tr);
  result shared = run(S, L, ticks, 0, complexity, bitrate, clips, tr);
  result per = {0};
  if (compare) per = run(S, L, ticks, 1, complexity, bitrate, clips, tr);
  double per_listener_ns = L ? (shared.mean_us - base.mean_us) * 1e3 / L : 0;

  if (json) {
    printf(
        "{\"speakers\":%d,\"listeners\":%d,\"ticks\":%d,\"transport\":\"%s\","
        "\"shared\":{\"mean_us\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
        "\"encodes_per_tick\":%llu},\"speakers_only_mean_us\":%.1f,"
        "\"per_listener_ns\":%.1f",
        S, L, ticks,
        use_udp         ? "udp"
        : use_srtp == 2 ? "srtp-gcm"
        : use_srtp      ? "srtp-cm"
                        : "staging",
        shared.mean_us, shared.p50_us, shared.p99_us, shared.max_us,
        (unsigned long long)shared.encodes, base.mean_us, per_listener_ns);
    if (compare)
      printf(
          ",\"per_participant\":{\"mean_us\":%.1f,\"p99_us\":%.1f,\"encodes_per_tick\":%llu},"
          "\"ratio\":%.1f",
          per.mean_us, per.p99_us, (unsigned long long)per.encodes, per.mean_us / shared.mean_us);
    printf("}\n");
    return 0;
  }
  printf(
      "floorbridge mixer benchmark: S=%d live speakers, L=%d listeners, %d ticks, transport=%s\n",
      S, L, ticks,
      use_udp    ? "loopback UDP (sendmmsg)"
      : use_srtp ? (use_srtp == 2 ? "copy + SRTP protect (AEAD_AES_128_GCM)"
                                  : "copy + SRTP protect (AES_CM_128_HMAC_SHA1_80)")
                 : "staging copy (no network)");
  printf("  %-28s %10s %10s %10s %10s %9s\n", "mode", "mean us", "p50 us", "p99 us", "max us",
         "enc/tick");
  printf("  %-28s %10.1f %10.1f %10.1f %10.1f %9llu\n", "speakers only (L=0)", base.mean_us,
         base.p50_us, base.p99_us, base.max_us, (unsigned long long)base.encodes);
  printf("  %-28s %10.1f %10.1f %10.1f %10.1f %9llu\n", "shared encode", shared.mean_us,
         shared.p50_us, shared.p99_us, shared.max_us, (unsigned long long)shared.encodes);
  if (compare)
    printf("  %-28s %10.1f %10.1f %10.1f %10.1f %9llu\n", "per-participant encode", per.mean_us,
           per.p50_us, per.p99_us, per.max_us, (unsigned long long)per.encodes);
  printf("  cost per listener (shared): %.0f ns per tick\n", per_listener_ns);
  if (use_udp) printf("  send errors: %lu\n", udp_errors);
  printf("  tick budget used (shared, mean): %.1f %% of 20 ms\n", shared.mean_us / 200.0);
  if (compare) printf("  per-participant / shared: %.1fx\n", per.mean_us / shared.mean_us);
  return 0;
}
