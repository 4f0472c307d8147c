/*
 * flowgap.c — fb-flowgap: watches the RTP streams a bridge sends, at its own
 * network interfaces, with the kernel's timestamps, and counts the holes.
 *
 * Why at the bridge: a listener behind a lossy path sees holes the bridge
 * did not make, and a listener process on a busy machine sees holes its own
 * scheduling made. Here every packet the bridge puts on the wire is seen
 * with the time the kernel stamped it (AF_PACKET, SO_TIMESTAMPNS, outgoing
 * packets included), before any impairment: a gap between two packets of
 * one stream is the bridge's.
 *
 *   fb-flowgap --if DEV [--if DEV ...] [--src-port 40000] [--gap-ms 60]
 *              [--out FILE.json] [--max-s S]
 *
 * Run it inside the bridge's network namespace (ip netns exec). A stream is
 * (destination address, destination port, SSRC) of RTP (RFC 7983 first
 * byte 128..191, not RTCP by RFC 5761's payload types) leaving from
 * --src-port. Each stream's inter-packet gaps go into a histogram; a gap over
 * --gap-ms is counted and the first 200 are listed with their time (Unix
 * seconds) and stream. Sequence numbers are in the clear in SRTP: a jump of
 * more than one is a packet the bridge numbered but did not send ("skipped").
 * A stream's start and end (join, leave) are not gaps.
 *
 * Stops on SIGINT/SIGTERM or after --max-s; writes --out (JSON) then, and on
 * SIGHUP. The socket's own drops (PACKET_STATISTICS) are reported: if it
 * dropped, the picture is incomplete.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_IF 8
#define BATCH 128
#define SNAP 128
#define MAX_LISTED 200

typedef struct {
  uint32_t ip, ssrc;
  uint16_t port, used;
  uint16_t last_seq;
  uint64_t last_ns, first_ns, packets, gaps, skipped;
  double max_gap_ms;
} flow;

static flow *tab;
static size_t cap = 1 << 16, nflows;
static volatile sig_atomic_t stop, dump;
static double gap_ms = 60;
static const double bounds[] = {25, 40, 60, 100, 200, 500, 1000};
#define NB (sizeof bounds / sizeof bounds[0])
static uint64_t hist[NB + 1], packets, rtcp, other, gaps_total, skipped_total, backwards;
static double max_gap;
static char max_gap_where[96];
static struct {
  double t, ms;
  char where[64];
} listed[MAX_LISTED];
static int nlisted;

static void on_signal(int s) {
  if (s == SIGHUP)
    dump = 1;
  else
    stop = 1;
}

static uint32_t hash(uint32_t ip, uint16_t port, uint32_t ssrc) {
  uint32_t h = ip * 2654435761u ^ (uint32_t)port * 40503u ^ ssrc * 2246822519u;
  return h ^ (h >> 15);
}

static flow *find(uint32_t ip, uint16_t port, uint32_t ssrc);

static void grow(void) {
  flow *old = tab;
  size_t oldcap = cap;
  cap *= 2;
  tab = calloc(cap, sizeof *tab);
  if (!tab) {
    fprintf(stderr, "fb-flowgap: out of memory\n");
    exit(1);
  }
  nflows = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].used) {
      flow *f = find(old[i].ip, old[i].port, old[i].ssrc);
      *f = old[i];
    }
  free(old);
}

static flow *find(uint32_t ip, uint16_t port, uint32_t ssrc) {
  if (2 * (nflows + 1) > cap) grow();
  for (size_t i = hash(ip, port, ssrc) & (cap - 1);; i = (i + 1) & (cap - 1)) {
    flow *f = &tab[i];
    if (!f->used) {
      memset(f, 0, sizeof *f);
      f->used = 1;
      f->ip = ip;
      f->port = port;
      f->ssrc = ssrc;
      nflows++;
      return f;
    }
    if (f->ip == ip && f->port == port && f->ssrc == ssrc) return f;
  }
}

static void where(char *buf, size_t n, const flow *f) {
  struct in_addr a = {f->ip};
  snprintf(buf, n, "%s:%u ssrc %08x", inet_ntoa(a), f->port, f->ssrc);
}

static void packet(const unsigned char *p, size_t len, uint64_t ts_ns, int src_port) {
  if (len < 20 || (p[0] >> 4) != 4) return;
  size_t ihl = (size_t)(p[0] & 15) * 4;
  if (p[9] != IPPROTO_UDP || len < ihl + 8 + 12) return;
  const unsigned char *u = p + ihl;
  if (((u[0] << 8) | u[1]) != src_port) return;
  const unsigned char *r = u + 8;
  if (r[0] < 128 || r[0] > 191) {
    other++;
    return;
  }
  if (r[1] >= 192 && r[1] <= 223) {
    rtcp++;
    return;
  }
  uint32_t ip;
  memcpy(&ip, p + 16, 4);
  uint16_t port = (uint16_t)((u[2] << 8) | u[3]);
  uint32_t ssrc = (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | (uint32_t)r[10] << 8 | r[11];
  uint16_t seq = (uint16_t)((r[2] << 8) | r[3]);
  packets++;
  flow *f = find(ip, port, ssrc);
  if (f->packets) {
    double g = (double)(int64_t)(ts_ns - f->last_ns) / 1e6;
    size_t b = 0;
    while (b < NB && g > bounds[b]) b++;
    hist[b]++;
    if (g > f->max_gap_ms) f->max_gap_ms = g;
    if (g > max_gap) {
      max_gap = g;
      where(max_gap_where, sizeof max_gap_where, f);
    }
    if (g > gap_ms) {
      f->gaps++;
      gaps_total++;
      if (nlisted < MAX_LISTED) {
        listed[nlisted].t = (double)f->last_ns / 1e9;
        listed[nlisted].ms = g;
        where(listed[nlisted].where, sizeof listed[nlisted].where, f);
        nlisted++;
      }
    }
    int16_t d = (int16_t)(uint16_t)(seq - f->last_seq);
    if (d > 1) {
      f->skipped += (uint64_t)(d - 1);
      skipped_total += (uint64_t)(d - 1);
    } else if (d <= 0) {
      backwards++;
    }
  } else {
    f->first_ns = ts_ns;
  }
  f->packets++;
  f->last_ns = ts_ns;
  f->last_seq = seq;
}

static void write_out(const char *path, int *fds, char ifs[][IFNAMSIZ], int nif, double secs) {
  FILE *o = path ? fopen(path, "w") : stdout;
  if (!o) return;
  uint64_t drops = 0;
  for (int i = 0; i < nif; i++) {
    struct tpacket_stats st;
    socklen_t l = sizeof st;
    if (getsockopt(fds[i], SOL_PACKET, PACKET_STATISTICS, &st, &l) == 0) drops += st.tp_drops;
  }
  static uint64_t drops_total;
  drops_total += drops; /* PACKET_STATISTICS resets on read */
  size_t streams_with_gaps = 0, streams_skipping = 0;
  for (size_t i = 0; i < cap; i++)
    if (tab[i].used) {
      streams_with_gaps += tab[i].gaps > 0;
      streams_skipping += tab[i].skipped > 0;
    }
  fprintf(o, "{\"interfaces\": [");
  for (int i = 0; i < nif; i++) fprintf(o, "%s\"%s\"", i ? ", " : "", ifs[i]);
  fprintf(
      o,
      "], \"seconds\": %.1f, \"gap_ms\": %g, \"rtp_packets\": %llu, \"rtcp_packets\": %llu, "
      "\"other_packets\": %llu, \"streams\": %zu, \"capture_drops\": %llu,\n"
      " \"gaps\": %llu, \"streams_with_gaps\": %zu, \"max_gap_ms\": %.1f, \"max_gap_stream\": \"%s\",\n"
      " \"seq_skipped\": %llu, \"streams_skipping\": %zu, \"seq_backwards\": %llu,\n \"histogram_ms\": {",
      secs, gap_ms, (unsigned long long)packets, (unsigned long long)rtcp,
      (unsigned long long)other, nflows, (unsigned long long)drops_total,
      (unsigned long long)gaps_total, streams_with_gaps, max_gap, max_gap_where,
      (unsigned long long)skipped_total, streams_skipping, (unsigned long long)backwards);
  for (size_t b = 0; b <= NB; b++) {
    if (b < NB)
      fprintf(o, "%s\"<=%g\": %llu", b ? ", " : "", bounds[b], (unsigned long long)hist[b]);
    else
      fprintf(o, ", \">%g\": %llu", bounds[NB - 1], (unsigned long long)hist[b]);
  }
  fprintf(o, "},\n \"gap_list\": [");
  for (int i = 0; i < nlisted; i++)
    fprintf(o, "%s\n  {\"t\": %.3f, \"ms\": %.1f, \"stream\": \"%s\"}", i ? "," : "", listed[i].t,
            listed[i].ms, listed[i].where);
  fprintf(o, "]}\n");
  if (path) fclose(o);
}

int main(int argc, char **argv) {
  static const struct option lo[] = {
      {"if", 1, 0, 'i'},    {"src-port", 1, 0, 'p'}, {"gap-ms", 1, 0, 'g'}, {"out", 1, 0, 'o'},
      {"max-s", 1, 0, 'm'}, {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
  char ifs[MAX_IF][IFNAMSIZ];
  int nif = 0, src_port = 40000, c;
  const char *out = NULL;
  double max_s = 0;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
    case 'i':
      if (nif == MAX_IF) goto usage;
      snprintf(ifs[nif++], IFNAMSIZ, "%s", optarg);
      break;
    case 'p': src_port = atoi(optarg); break;
    case 'g': gap_ms = atof(optarg); break;
    case 'o': out = optarg; break;
    case 'm': max_s = atof(optarg); break;
    default:
    usage:
      fprintf(stderr,
              "usage: fb-flowgap --if DEV [--if DEV ...] [--src-port 40000] [--gap-ms 60] "
              "[--out FILE.json] [--max-s S]\n");
      return 2;
    }
  }
  if (!nif || src_port <= 0 || src_port > 65535 || gap_ms <= 0) goto usage;
  tab = calloc(cap, sizeof *tab);
  int fds[MAX_IF];
  struct pollfd pfd[MAX_IF];
  for (int i = 0; i < nif; i++) {
    fds[i] = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC,
                    htons(ETH_P_ALL)); /* outgoing: only ETH_P_ALL taps see them */
    int one = 1, rcv = 16 << 20;
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int)if_nametoindex(ifs[i])};
    if (fds[i] < 0 || !sll.sll_ifindex ||
        setsockopt(fds[i], SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0 ||
        bind(fds[i], (struct sockaddr *)&sll, sizeof sll) < 0) {
      fprintf(stderr, "fb-flowgap: %s: %s\n", ifs[i], strerror(errno));
      return 1;
    }
    if (setsockopt(fds[i], SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
      setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    pfd[i] = (struct pollfd){fds[i], POLLIN, 0};
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  static unsigned char bufs[BATCH][SNAP];
  static char cbufs[BATCH][CMSG_SPACE(sizeof(struct timespec)) + 64];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_ll from[BATCH];
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double el = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
    if (stop || (max_s > 0 && el >= max_s)) break;
    if (dump) {
      dump = 0;
      write_out(out, fds, ifs, nif, el);
    }
    if (poll(pfd, (nfds_t)nif, 200) <= 0) continue;
    for (int i = 0; i < nif; i++) {
      if (!(pfd[i].revents & POLLIN)) continue;
      for (int k = 0; k < BATCH; k++) {
        iov[k] = (struct iovec){bufs[k], SNAP};
        msgs[k].msg_hdr = (struct msghdr){.msg_name = &from[k],
                                          .msg_namelen = sizeof from[k],
                                          .msg_iov = &iov[k],
                                          .msg_iovlen = 1,
                                          .msg_control = cbufs[k],
                                          .msg_controllen = sizeof cbufs[k]};
      }
      int n = recvmmsg(fds[i], msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
      for (int k = 0; k < n; k++) {
        if (from[k].sll_pkttype != PACKET_OUTGOING) continue;
        uint64_t ts = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[k].msg_hdr); cm;
             cm = CMSG_NXTHDR(&msgs[k].msg_hdr, cm))
          if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec t;
            memcpy(&t, CMSG_DATA(cm), sizeof t);
            ts = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
          }
        if (!ts) continue;
        size_t len = msgs[k].msg_len < SNAP ? msgs[k].msg_len : SNAP;
        packet(bufs[k], len, ts, src_port);
      }
    }
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  write_out(out, fds, ifs, nif,
            (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
