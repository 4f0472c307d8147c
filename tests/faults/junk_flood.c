/*
 * junk_flood.c — fb-junk-flood: throws junk at a media port, bounded in time
 * and count: what a broken or hostile client, or anyone on the network, can
 * send to the bridge's single UDP port.
 *
 *   fb-junk-flood --target IP:PORT [--seconds 10] [--count N] [--pps 20000]
 *                 [--sockets 16] [--bind IP] [--seed N]
 *
 * Round robin over five kinds, each from one of --sockets source ports:
 *   random   1..1200 random bytes
 *   rtp      a valid RTP v2 header (random SSRC, sequence, PT 111) + random payload
 *   stun     a Binding request with a random USERNAME "xxxx:yyyy", a bogus
 *            MESSAGE-INTEGRITY and FINGERPRINT (the bridge must not answer)
 *   dtls     a DTLS 1.2 handshake record (ClientHello type) with random body
 *   rtcp     an RTCP receiver report header with random contents
 * --pps 0 sends as fast as one core allows. Stops at --seconds or --count,
 * whichever comes first. Every socket also counts what comes back (the
 * bridge must send nothing to an unknown address). Prints one JSON line:
 * {"sent": N, "seconds": S, "pps": R, "by_kind": {...}, "replies": N, "send_errors": N}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXS 256
#define BATCH 64

static uint64_t rng = 88172645463325252ull;
static uint64_t r64(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static void fill(unsigned char *b, size_t n) {
  for (size_t i = 0; i < n; i++) b[i] = (unsigned char)r64();
}
static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *kinds[] = {"random", "rtp", "stun", "dtls", "rtcp"};

static size_t make(int kind, unsigned char *b) {
  size_t n;
  switch (kind) {
  case 0:
    n = 1 + r64() % 1200;
    fill(b, n);
    return n;
  case 1:
    n = 12 + 20 + r64() % 140;
    fill(b, n);
    b[0] = 0x80;
    b[1] = 111 | (r64() & 1 ? 0x80 : 0);
    return n;
  case 2: { /* STUN Binding request */
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char *p = b;
    p[0] = 0x00;
    p[1] = 0x01; /* Binding request */
    p[4] = 0x21;
    p[5] = 0x12;
    p[6] = 0xA4;
    p[7] = 0x42;     /* magic cookie */
    fill(p + 8, 12); /* transaction id */
    size_t off = 20;
    /* USERNAME (0x0006), 9 bytes "xxxx:yyyy", padded to 12 */
    b[off] = 0x00;
    b[off + 1] = 0x06;
    b[off + 2] = 0;
    b[off + 3] = 9;
    for (int i = 0; i < 9; i++) b[off + 4 + i] = (unsigned char)(i == 4 ? ':' : al[r64() % 36]);
    b[off + 13] = b[off + 14] = b[off + 15] = 0;
    off += 16;
    /* ICE-CONTROLLING (0x802A), 8 bytes */
    b[off] = 0x80;
    b[off + 1] = 0x2A;
    b[off + 2] = 0;
    b[off + 3] = 8;
    fill(b + off + 4, 8);
    off += 12;
    /* MESSAGE-INTEGRITY (0x0008), 20 bytes, bogus */
    b[off] = 0x00;
    b[off + 1] = 0x08;
    b[off + 2] = 0;
    b[off + 3] = 20;
    fill(b + off + 4, 20);
    off += 24;
    /* FINGERPRINT (0x8028), 4 bytes, bogus */
    b[off] = 0x80;
    b[off + 1] = 0x28;
    b[off + 2] = 0;
    b[off + 3] = 4;
    fill(b + off + 4, 4);
    off += 8;
    size_t len = off - 20;
    b[2] = (unsigned char)(len >> 8);
    b[3] = (unsigned char)len;
    return off;
  }
  case 3: { /* DTLS 1.2 record: handshake, ClientHello */
    n = 13 + 12 + 40 + r64() % 200;
    fill(b, n);
    b[0] = 22; /* handshake */
    b[1] = 0xFE;
    b[2] = 0xFD; /* DTLS 1.2 */
    b[3] = 0;
    b[4] = 0; /* epoch 0 */
    size_t body = n - 13;
    b[11] = (unsigned char)(body >> 8);
    b[12] = (unsigned char)body;
    b[13] = 1; /* ClientHello */
    return n;
  }
  default: /* RTCP RR */
    n = 8 + 24 * (r64() % 3);
    fill(b, n);
    b[0] = 0x80 | (unsigned char)(n > 8);
    b[1] = 201;
    b[2] = 0;
    b[3] = (unsigned char)(n / 4 - 1);
    return n;
  }
}

int main(int argc, char **argv) {
  static const struct option lo[] = {
      {"target", 1, 0, 't'}, {"seconds", 1, 0, 's'}, {"count", 1, 0, 'c'},
      {"pps", 1, 0, 'p'},    {"sockets", 1, 0, 'k'}, {"bind", 1, 0, 'b'},
      {"seed", 1, 0, 'r'},   {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
  char target[128] = "", bind_ip[64] = "";
  double seconds = 10, pps = 20000;
  long long count = 0;
  int nsock = 16, c;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
    case 't': snprintf(target, sizeof target, "%s", optarg); break;
    case 's': seconds = atof(optarg); break;
    case 'c': count = atoll(optarg); break;
    case 'p': pps = atof(optarg); break;
    case 'k': nsock = atoi(optarg); break;
    case 'b': snprintf(bind_ip, sizeof bind_ip, "%s", optarg); break;
    case 'r': rng = strtoull(optarg, NULL, 10) * 2654435761u + 1; break;
    default:
    usage:
      fprintf(stderr,
              "usage: fb-junk-flood --target IP:PORT [--seconds S] [--count N] [--pps R] "
              "[--sockets K] [--bind IP] [--seed N]\n");
      return 2;
    }
  }
  char *colon = strrchr(target, ':');
  struct sockaddr_in to = {.sin_family = AF_INET};
  if (!colon) goto usage;
  *colon = 0;
  to.sin_port = htons((uint16_t)atoi(colon + 1));
  if (inet_pton(AF_INET, target, &to.sin_addr) != 1 || !to.sin_port || nsock < 1 || nsock > MAXS ||
      seconds <= 0 || seconds > 3600)
    goto usage;
  int fds[MAXS];
  for (int i = 0; i < nsock; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    if (bind_ip[0]) inet_pton(AF_INET, bind_ip, &me.sin_addr);
    int big = 4 << 20;
    setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&me, sizeof me) < 0 ||
        connect(fds[i], (struct sockaddr *)&to, sizeof to) < 0) {
      perror("fb-junk-flood: socket");
      return 1;
    }
  }
  static unsigned char bufs[BATCH][1500];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  uint64_t by_kind[5] = {0}, sent = 0, errors = 0, replies = 0;
  uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
  int sock = 0, kind = 0;
  unsigned char rx[2048];
  for (;;) {
    uint64_t now = now_ns();
    if (now >= end || (count && (long long)sent >= count)) break;
    int n = BATCH;
    if (pps > 0) { /* pace: what is due by now */
      double due = (double)(now - t0) / 1e9 * pps - (double)sent;
      if (due < 1) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        continue;
      }
      if (due < n) n = (int)due;
    }
    if (count && (long long)(sent + (uint64_t)n) > count) n = (int)(count - (long long)sent);
    int k0 = kind;
    for (int i = 0; i < n; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = make((k0 + i) % 5, bufs[i]);
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int s = sendmmsg(fds[sock], msgs, (unsigned)n, 0);
    if (s < 0) {
      errors++;
      s = 0;
      if (errno == EAGAIN) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
      }
    }
    for (int i = 0; i < s; i++) by_kind[(k0 + i) % 5]++;
    sent += (uint64_t)s;
    kind = (k0 + s) % 5;
    sock = (sock + 1) % nsock;
    while (recv(fds[sock], rx, sizeof rx, MSG_DONTWAIT) > 0) replies++;
  }
  double secs = (double)(now_ns() - t0) / 1e9;
  usleep(200000); /* late replies, if any */
  for (int i = 0; i < nsock; i++)
    while (recv(fds[i], rx, sizeof rx, MSG_DONTWAIT) > 0) replies++;
  printf("{\"sent\": %llu, \"seconds\": %.2f, \"pps\": %.0f, \"by_kind\": {",
         (unsigned long long)sent, secs, (double)sent / secs);
  for (int i = 0; i < 5; i++)
    printf("%s\"%s\": %llu", i ? ", " : "", kinds[i], (unsigned long long)by_kind[i]);
  printf("}, \"replies\": %llu, \"send_errors\": %llu}\n", (unsigned long long)replies,
         (unsigned long long)errors);
  return 0;
}
