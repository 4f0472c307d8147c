/*
 * impair.c — fb-impair: a user-space "netem" between two network namespaces.
 *
 * Why: the CI kernel has no sch_netem (CONFIG_NET_SCH_NETEM is not set), so
 * `tc qdisc ... netem` is refused ("Specified qdisc kind is unknown"). This
 * tool does the same job in user space: two persistent TUN devices, one in
 * each namespace (made beforehand with `ip tuntap add dev DEV mode tun` and
 * given the two ends' addresses), and this process forwards every IP packet
 * from one to the other, dropping, delaying and reordering them on the way.
 *
 *   ns A: DEV_A 10.200.0.1/24  <── fb-impair ──>  ns B: DEV_B 10.200.0.2/24
 *
 * Impairment, applied to each direction independently, with netem's meaning:
 *   --loss PCT      drop each packet with this probability (Bernoulli)
 *   --delay MS      base one-way delay
 *   --jitter MS     each packet's delay is uniform in [delay-jitter, delay+jitter]
 *                   (independent per packet, so packets of one flow sent less
 *                   than 2*jitter apart can swap: netem's jitter does the same)
 *   --reorder PCT   send this fraction of packets at once, without the delay,
 *                   so they overtake what is queued (netem "reorder" with gap 1)
 * RTP (UDP, RFC 7983 first byte 128..191, not RTCP) is counted on the side:
 * packets in, dropped, and delivered late (after a later sequence number of
 * the same SSRC had been delivered: what a receiver counts as lost and then
 * late), so a receiver's sequence-gap "loss" can be checked against what the
 * path did.
 * Signals: SIGUSR1 cuts the link (every packet dropped, "blackholed": a
 * network that vanished without a word), SIGUSR2 restores it, SIGINT/SIGTERM
 * stop. On exit (and on SIGHUP) the counters go to --stats FILE as JSON.
 *
 *   fb-impair --a NS:DEV --b NS:DEV [--loss 5] [--delay 40] [--jitter 15]
 *             [--reorder 2] [--seed N] [--stats FILE] [--max-s S]
 *
 * NS is a name under /var/run/netns (ip netns add) or "-" for the namespace
 * the tool runs in. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN (setns): root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MTU_MAX 65536
#define MAX_QUEUED 200000 /* per direction; beyond it packets are dropped (overflow) */

typedef struct {
  uint64_t due;
  uint64_t seq; /* FIFO among equal due times */
  uint32_t len;
  unsigned char *data;
} pkt;

typedef struct {
  const char *name; /* "a->b" */
  int in, out;      /* read from in, write to out */
  pkt *heap;
  size_t n, cap;
  uint64_t seq;
  /* counters */
  uint64_t rx, rx_bytes, lost, blackholed, reordered, forwarded, overflow, write_errors;
  uint64_t max_queued;
  uint64_t rtp_in, rtp_lost, rtp_late;
  struct rtpflow {
    uint32_t ssrc;
    uint16_t seq;
    uint8_t used;
  } * flows;
  size_t nflows, fcap;
} dir;

static volatile sig_atomic_t stop, cut, dump;
static double loss_pct, delay_ms = 0, jitter_ms = 0, reorder_pct;
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double rnd01(void) { /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* RTP in an IPv4/UDP packet: 1 with ssrc and seq, else 0. */
static int rtp_of(const unsigned char *p, size_t len, uint32_t *ssrc, uint16_t *seq) {
  if (len < 20 || (p[0] >> 4) != 4 || p[9] != 17) return 0;
  size_t ihl = (size_t)(p[0] & 15) * 4;
  if (len < ihl + 8 + 12) return 0;
  const unsigned char *r = p + ihl + 8;
  if (r[0] < 128 || r[0] > 191 || (r[1] >= 192 && r[1] <= 223)) return 0;
  *seq = (uint16_t)(r[2] << 8 | r[3]);
  *ssrc = (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | (uint32_t)r[10] << 8 | r[11];
  return 1;
}

/* The highest delivered sequence number of ssrc's stream (open addressing). */
static struct rtpflow *flow_of(dir *d, uint32_t ssrc) {
  if (2 * (d->nflows + 1) > d->fcap) {
    struct rtpflow *old = d->flows;
    size_t oldcap = d->fcap;
    d->fcap = d->fcap ? d->fcap * 2 : 4096;
    d->flows = calloc(d->fcap, sizeof *d->flows);
    d->nflows = 0;
    for (size_t i = 0; i < oldcap; i++)
      if (old[i].used) *flow_of(d, old[i].ssrc) = old[i];
    free(old);
  }
  for (size_t i = (ssrc * 2654435761u) & (d->fcap - 1);; i = (i + 1) & (d->fcap - 1)) {
    if (!d->flows[i].used) {
      d->flows[i].used = 2; /* 2: no packet delivered yet, 1: seq is the highest delivered */
      d->flows[i].ssrc = ssrc;
      d->flows[i].seq = 0;
      d->nflows++;
      return &d->flows[i];
    }
    if (d->flows[i].ssrc == ssrc) return &d->flows[i];
  }
}

static int before(const pkt *x, const pkt *y) {
  return x->due < y->due || (x->due == y->due && x->seq < y->seq);
}

static int heap_push(dir *d, pkt p) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 1024;
    pkt *v = realloc(d->heap, cap * sizeof *v);
    if (!v) return -1;
    d->heap = v;
    d->cap = cap;
  }
  size_t i = d->n++;
  while (i && before(&p, &d->heap[(i - 1) / 2])) {
    d->heap[i] = d->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  d->heap[i] = p;
  if (d->n > d->max_queued) d->max_queued = d->n;
  return 0;
}

static pkt heap_pop(dir *d) {
  pkt top = d->heap[0], last = d->heap[--d->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= d->n) break;
    if (c + 1 < d->n && before(&d->heap[c + 1], &d->heap[c])) c++;
    if (!before(&d->heap[c], &last)) break;
    d->heap[i] = d->heap[c];
    i = c;
  }
  if (d->n) d->heap[i] = last;
  return top;
}

/* Open the persistent TUN device dev inside namespace ns ("-": ours). */
static int open_tun(const char *ns, const char *dev) {
  int self = -1;
  if (strcmp(ns, "-") != 0) {
    char path[256];
    snprintf(path, sizeof path, "/var/run/netns/%s", ns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || self < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
      fprintf(stderr, "fb-impair: cannot enter namespace %s: %s\n", ns, strerror(errno));
      return -1;
    }
    close(nsfd);
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "fb-impair: cannot attach to TUN %s in %s: %s\n", dev, ns, strerror(errno));
    return -1;
  }
  if (self >= 0) {
    if (setns(self, CLONE_NEWNET) < 0) return -1;
    close(self);
  }
  return fd;
}

static void on_signal(int sig) {
  if (sig == SIGUSR1)
    cut = 1;
  else if (sig == SIGUSR2)
    cut = 0;
  else if (sig == SIGHUP)
    dump = 1;
  else
    stop = 1;
}

static void receive(dir *d, uint64_t now, unsigned char *buf) {
  for (int budget = 4096; budget > 0; budget--) {
    ssize_t r = read(d->in, buf, MTU_MAX);
    if (r <= 0) return;
    d->rx++;
    d->rx_bytes += (uint64_t)r;
    uint32_t ssrc;
    uint16_t seq;
    int rtp = rtp_of(buf, (size_t)r, &ssrc, &seq);
    d->rtp_in += rtp;
    if (cut) {
      d->blackholed++;
      d->rtp_lost += rtp;
      continue;
    }
    if (loss_pct > 0 && rnd01() * 100 < loss_pct) {
      d->lost++;
      d->rtp_lost += rtp;
      continue;
    }
    if (d->n >= MAX_QUEUED) {
      d->overflow++;
      continue;
    }
    double ms = delay_ms;
    if (reorder_pct > 0 && rnd01() * 100 < reorder_pct) {
      ms = 0;
      d->reordered++;
    } else if (jitter_ms > 0) {
      ms += (rnd01() * 2 - 1) * jitter_ms;
      if (ms < 0) ms = 0;
    }
    pkt p = {now + (uint64_t)(ms * 1e6), d->seq++, (uint32_t)r, malloc((size_t)r)};
    if (!p.data) {
      d->overflow++;
      continue;
    }
    memcpy(p.data, buf, (size_t)r);
    if (heap_push(d, p) < 0) {
      free(p.data);
      d->overflow++;
    }
  }
}

static void send_due(dir *d, uint64_t now) {
  while (d->n && d->heap[0].due <= now) {
    pkt p = heap_pop(d);
    uint32_t ssrc;
    uint16_t seq;
    if (rtp_of(p.data, p.len, &ssrc, &seq)) {
      struct rtpflow *f = flow_of(d, ssrc);
      if (f->used == 2 || (int16_t)(uint16_t)(seq - f->seq) > 0) {
        f->seq = seq;
        f->used = 1;
      } else {
        d->rtp_late++;
      }
    }
    if (write(d->out, p.data, p.len) == (ssize_t)p.len)
      d->forwarded++;
    else
      d->write_errors++;
    free(p.data);
  }
}

static void write_stats(const char *path, dir *ds) {
  if (!path) return;
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "{\"loss_pct\": %g, \"delay_ms\": %g, \"jitter_ms\": %g, \"reorder_pct\": %g",
          loss_pct, delay_ms, jitter_ms, reorder_pct);
  for (int i = 0; i < 2; i++) {
    dir *d = &ds[i];
    fprintf(f,
            ",\n \"%s\": {\"rx\": %llu, \"rx_bytes\": %llu, \"lost\": %llu, \"blackholed\": %llu, "
            "\"reordered\": %llu, \"forwarded\": %llu, \"overflow\": %llu, \"write_errors\": %llu, "
            "\"max_queued\": %llu, \"queued\": %zu, \"rtp_in\": %llu, \"rtp_lost\": %llu, "
            "\"rtp_late\": %llu, \"rtp_streams\": %zu}",
            d->name, (unsigned long long)d->rx, (unsigned long long)d->rx_bytes,
            (unsigned long long)d->lost, (unsigned long long)d->blackholed,
            (unsigned long long)d->reordered, (unsigned long long)d->forwarded,
            (unsigned long long)d->overflow, (unsigned long long)d->write_errors,
            (unsigned long long)d->max_queued, d->n, (unsigned long long)d->rtp_in,
            (unsigned long long)d->rtp_lost, (unsigned long long)d->rtp_late, d->nflows);
  }
  fprintf(f, "}\n");
  fclose(f);
  rename(tmp, path);
}

static int split(const char *arg, char *ns, size_t nslen, char *dev, size_t devlen) {
  const char *c = strchr(arg, ':');
  if (!c || c == arg || !c[1] || (size_t)(c - arg) >= nslen || strlen(c + 1) >= devlen) return -1;
  memcpy(ns, arg, (size_t)(c - arg));
  ns[c - arg] = 0;
  snprintf(dev, devlen, "%s", c + 1);
  return 0;
}

int main(int argc, char **argv) {
  static const struct option lo[] = {
      {"a", 1, 0, 'a'},      {"b", 1, 0, 'b'},       {"loss", 1, 0, 'l'}, {"delay", 1, 0, 'd'},
      {"jitter", 1, 0, 'j'}, {"reorder", 1, 0, 'r'}, {"seed", 1, 0, 's'}, {"stats", 1, 0, 'S'},
      {"max-s", 1, 0, 'm'},  {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
  char nsa[128] = "", deva[IFNAMSIZ] = "", nsb[128] = "", devb[IFNAMSIZ] = "";
  const char *stats = NULL;
  double max_s = 0;
  int c;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
    case 'a':
      if (split(optarg, nsa, sizeof nsa, deva, sizeof deva)) goto usage;
      break;
    case 'b':
      if (split(optarg, nsb, sizeof nsb, devb, sizeof devb)) goto usage;
      break;
    case 'l': loss_pct = atof(optarg); break;
    case 'd': delay_ms = atof(optarg); break;
    case 'j': jitter_ms = atof(optarg); break;
    case 'r': reorder_pct = atof(optarg); break;
    case 's': rng = strtoull(optarg, NULL, 10) * 0x9E3779B97F4A7C15ull + 1; break;
    case 'S': stats = optarg; break;
    case 'm': max_s = atof(optarg); break;
    default:
    usage:
      fprintf(stderr,
              "usage: fb-impair --a NS:DEV --b NS:DEV [--loss PCT] [--delay MS] "
              "[--jitter MS] [--reorder PCT] [--seed N] [--stats FILE] [--max-s S]\n");
      return 2;
    }
  }
  if (!deva[0] || !devb[0] || loss_pct < 0 || loss_pct > 100 || delay_ms < 0 || jitter_ms < 0 ||
      reorder_pct < 0 || reorder_pct > 100)
    goto usage;
  dir ds[2];
  memset(ds, 0, sizeof ds);
  int fa = open_tun(nsa, deva), fb = open_tun(nsb, devb);
  if (fa < 0 || fb < 0) return 1;
  ds[0] = (dir){.name = "a_to_b", .in = fa, .out = fb};
  ds[1] = (dir){.name = "b_to_a", .in = fb, .out = fa};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
  epoll_ctl(ep, EPOLL_CTL_ADD, fa, &ev);
  ev.data.u32 = 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, fb, &ev);
  unsigned char *buf = malloc(MTU_MAX);
  uint64_t t0 = now_ns(), deadline = max_s > 0 ? t0 + (uint64_t)(max_s * 1e9) : UINT64_MAX;
  fprintf(stderr, "fb-impair: %s:%s <-> %s:%s, loss %g %%, delay %g ms +- %g ms, reorder %g %%\n",
          nsa, deva, nsb, devb, loss_pct, delay_ms, jitter_ms, reorder_pct);
  while (!stop) {
    uint64_t now = now_ns(), due = deadline;
    if (now >= deadline) break;
    for (int i = 0; i < 2; i++)
      if (ds[i].n && ds[i].heap[0].due < due) due = ds[i].heap[0].due;
    struct timespec ts = {0, 0};
    if (due > now) {
      uint64_t w = due - now;
      if (w > 500000000ull) w = 500000000ull; /* wake up for signals and the deadline */
      ts.tv_sec = (time_t)(w / 1000000000ull);
      ts.tv_nsec = (long)(w % 1000000000ull);
    }
    struct epoll_event evs[2];
    int n = epoll_pwait2(ep, evs, 2, &ts, NULL);
    if (n < 0 && errno != EINTR) {
      perror("fb-impair: epoll_pwait2");
      break;
    }
    now = now_ns();
    for (int i = 0; i < n; i++) receive(&ds[evs[i].data.u32], now, buf);
    now = now_ns();
    send_due(&ds[0], now);
    send_due(&ds[1], now);
    if (dump) {
      dump = 0;
      write_stats(stats, ds);
    }
  }
  write_stats(stats, ds);
  for (int i = 0; i < 2; i++) {
    while (ds[i].n) free(heap_pop(&ds[i]).data);
    free(ds[i].heap);
    free(ds[i].flows);
  }
  free(buf);
  return 0;
}
