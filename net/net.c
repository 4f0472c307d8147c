/*
 * net.c — the single UDP media port: receive thread, 5-tuple demux, and the
 * plain-RTP transport used by the mixer's fan-out (see net.h).
 *
 * Receive: poll + recvmmsg in batches of FB_NET_BATCH. The address map (source
 * address -> participant) is a chained hash under one mutex, taken once per
 * batch for the lookups only; the datagrams are then handled (STUN HMAC,
 * DTLS, SRTP, ring push) with the lock released, so the lock is never held
 * across anything slow. The epoch is odd from the lookups to the end of the
 * batch: a participant unrouted while it was odd may still be in use until
 * it changes (fb_net_quiescent), like an RCU grace period. Uplink rings
 * released by other threads are freed here, between batches.
 *
 * Send (mixer thread only): each packet is two iovecs, a copied 12-byte header
 * and the shared payload, flushed with sendmmsg. The socket is non-blocking:
 * a full send buffer drops and counts, it never stalls the tick.
 */
#define _GNU_SOURCE
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "mixer/rtp.h"

#define FB_NET_BATCH 32
#define FB_SEND_BATCH 128
#define FB_MAP_BUCKETS 8192

typedef struct peer_node {
  struct peer_node *next;
  fb_participant *p;
} peer_node;

typedef struct {
  fb_transport base;
  struct fb_net *net;
  int n;
  struct mmsghdr msgs[FB_SEND_BATCH];
  struct iovec iov[FB_SEND_BATCH][2];
  uint8_t hdrs[FB_SEND_BATCH][16];
} net_transport;

struct fb_net {
  int fd;
  int port;
  pthread_t thread;
  atomic_int running;
  int started;
  pthread_mutex_t lock;
  peer_node *buckets[FB_MAP_BUCKETS];
  net_transport tx;
  fb_net_handler handler; /* the WebRTC transport's hooks; zeroed when none */
  void *handler_ud;
  atomic_uint_fast64_t epoch; /* odd while a batch is handled (see the top) */
  pthread_mutex_t grave_lock; /* released rings waiting for the net thread */
  fb_pktring **grave;
  int ngrave, capgrave;
  atomic_uint_fast64_t rx_datagrams, rx_unknown, rx_malformed, rx_rtcp, rx_not_rtp;
  atomic_uint_fast64_t tx_datagrams, tx_errors;
};

static uint32_t addr_hash(const struct sockaddr_storage *a) {
  uint32_t h = 2166136261u;
  const uint8_t *bytes;
  size_t n;
  uint16_t port;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)a;
    bytes = (const uint8_t *)&s->sin_addr;
    n = 4;
    port = s->sin_port;
  } else {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
    bytes = (const uint8_t *)&s->sin6_addr;
    n = 16;
    port = s->sin6_port;
  }
  for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 16777619u;
  h = (h ^ (port & 0xff)) * 16777619u;
  h = (h ^ (port >> 8)) * 16777619u;
  return h % FB_MAP_BUCKETS;
}

static int addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port &&
         memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* Caller holds n->lock. */
static fb_participant *lookup(fb_net *n, const struct sockaddr_storage *a) {
  for (peer_node *e = n->buckets[addr_hash(a)]; e; e = e->next)
    if (addr_equal(&e->p->addr, a)) return e->p;
  return NULL;
}

static void tx_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hdrlen,
                    const uint8_t *payload, size_t plen);
static void tx_flush(fb_transport *t);
static void rtp_receive(fb_transport *t, fb_participant *p, uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen, uint64_t now);

fb_net *fb_net_new(const char *bind_addr, int port, char *err, int errlen) {
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  int rc = getaddrinfo(bind_addr && *bind_addr ? bind_addr : NULL, portstr, &hints, &ai);
  if (rc != 0) {
    snprintf(err, errlen, "media bind address '%s': %s", bind_addr, gai_strerror(rc));
    return NULL;
  }
  int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    snprintf(err, errlen, "media port %s:%d: %s", bind_addr, port, strerror(errno));
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return NULL;
  }
  freeaddrinfo(ai);
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_storage local;
  socklen_t ll = sizeof local;
  getsockname(fd, (struct sockaddr *)&local, &ll);

  fb_net *n = calloc(1, sizeof *n);
  if (!n) {
    snprintf(err, errlen, "media port: out of memory");
    close(fd);
    return NULL;
  }
  n->fd = fd;
  n->port = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
                                             : ((struct sockaddr_in6 *)&local)->sin6_port);
  pthread_mutex_init(&n->lock, NULL);
  pthread_mutex_init(&n->grave_lock, NULL);
  n->tx.base.receive = rtp_receive;
  n->tx.base.send = tx_send;
  n->tx.base.flush = tx_flush;
  n->tx.net = n;
  return n;
}

int fb_net_port(const fb_net *n) { return n->port; }

fb_transport *fb_net_transport(fb_net *n) { return &n->tx.base; }

int fb_net_add_peer(fb_net *n, fb_participant *p) {
  pthread_mutex_lock(&n->lock);
  if (lookup(n, &p->addr)) {
    pthread_mutex_unlock(&n->lock);
    return -1;
  }
  peer_node *e = malloc(sizeof *e);
  if (!e) {
    pthread_mutex_unlock(&n->lock);
    return -1;
  }
  e->p = p;
  uint32_t h = addr_hash(&p->addr);
  e->next = n->buckets[h];
  n->buckets[h] = e;
  pthread_mutex_unlock(&n->lock);
  return 0;
}

/* Caller holds n->lock. Unlink p's map entry if it has one. */
static void unmap(fb_net *n, fb_participant *p) {
  if (p->addrlen == 0) return;
  peer_node **pp = &n->buckets[addr_hash(&p->addr)];
  while (*pp) {
    if ((*pp)->p == p) {
      peer_node *dead = *pp;
      *pp = dead->next;
      free(dead);
      return;
    }
    pp = &(*pp)->next;
  }
}

uint64_t fb_net_unroute(fb_net *n, fb_participant *p) {
  pthread_mutex_lock(&n->lock);
  unmap(n, p);
  p->unrouted = 1;
  if (n->handler.on_peer_removed) n->handler.on_peer_removed(n->handler_ud, p);
  uint64_t token = atomic_load(&n->epoch);
  pthread_mutex_unlock(&n->lock);
  return token;
}

int fb_net_quiescent(fb_net *n, uint64_t token) {
  /* Even: no batch was being handled when p was unrouted, and later batches
   * look p up after that (under the lock), so they cannot find it. Odd: the
   * batch in progress then ends with an increment (also when the thread is
   * stopping), after which nothing from it is held. */
  return !(token & 1) || atomic_load(&n->epoch) != token;
}

void fb_net_remove_peer(fb_net *n, fb_participant *p) {
  uint64_t token = fb_net_unroute(n, p);
  while (!fb_net_quiescent(n, token)) fb_sleep_until_ns(fb_now_ns() + 200000);
}

int fb_net_rebind(fb_net *n, fb_participant *p, const struct sockaddr_storage *from,
                  socklen_t fromlen) {
  peer_node *e = malloc(sizeof *e); /* outside the lock; freed if unused */
  if (!e) return -1;
  pthread_mutex_lock(&n->lock);
  fb_participant *owner = lookup(n, from);
  int rc = owner == p ? 0 : -1;
  if (!owner && !p->unrouted) {
    unmap(n, p);
    fb_participant_set_addr(p, from, fromlen);
    e->p = p;
    uint32_t h = addr_hash(&p->addr);
    e->next = n->buckets[h];
    n->buckets[h] = e;
    e = NULL;
    rc = 0;
  }
  pthread_mutex_unlock(&n->lock);
  free(e);
  return rc;
}

void fb_net_set_handler(fb_net *n, const fb_net_handler *h, void *ud) {
  n->handler = *h;
  n->handler_ud = ud;
}

void fb_net_sendto(fb_net *n, const uint8_t *buf, size_t len, const struct sockaddr_storage *to,
                   socklen_t tolen) {
  if (sendto(n->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to, tolen) < 0)
    atomic_fetch_add_explicit(&n->tx_errors, 1, memory_order_relaxed);
  else
    atomic_fetch_add_explicit(&n->tx_datagrams, 1, memory_order_relaxed);
}

int fb_net_fd(const fb_net *n) { return n->fd; }

void fb_net_release_uplink(fb_net *n, fb_participant *p) {
  fb_pktring *q = atomic_exchange(&p->inq, NULL);
  if (!q) return;
  pthread_mutex_lock(&n->grave_lock);
  if (n->ngrave == n->capgrave) {
    int cap = n->capgrave ? 2 * n->capgrave : 16;
    fb_pktring **g = realloc(n->grave, (size_t)cap * sizeof *g);
    if (g) n->grave = g, n->capgrave = cap;
  }
  if (n->ngrave < n->capgrave) {
    n->grave[n->ngrave++] = q;
    q = NULL;
  }
  pthread_mutex_unlock(&n->grave_lock);
  if (q) {
    /* out of memory for the list: wait for the batch in progress instead */
    uint64_t token = atomic_load(&n->epoch);
    while (!fb_net_quiescent(n, token)) fb_sleep_until_ns(fb_now_ns() + 200000);
    fb_pktring_free(q);
  }
}

/* Net thread, between batches (or after it stopped): no push is in progress,
 * and a ring detached from its participant is never loaded again. */
static void free_released_rings(fb_net *n) {
  pthread_mutex_lock(&n->grave_lock);
  for (int i = 0; i < n->ngrave; i++) fb_pktring_free(n->grave[i]);
  n->ngrave = 0;
  pthread_mutex_unlock(&n->grave_lock);
}

/* The plain-RTP transport's receive (net thread): RTP straight into the
 * participant's ring; RTCP and anything else counted and dropped. */
static void rtp_receive(fb_transport *t, fb_participant *p, uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen, uint64_t now) {
  fb_net *n = ((net_transport *)t)->net;
  if (!fb_is_rtp_or_rtcp(buf, len)) {
    atomic_fetch_add_explicit(&n->rx_not_rtp, 1, memory_order_relaxed);
    return;
  }
  if (fb_is_rtcp(buf, len)) {
    atomic_fetch_add_explicit(&n->rx_rtcp, 1, memory_order_relaxed);
    return;
  }
  fb_rtp rtp;
  if (fb_rtp_parse(buf, len, &rtp) < 0 || rtp.payload_len == 0) {
    atomic_fetch_add_explicit(&n->rx_malformed, 1, memory_order_relaxed);
    return;
  }
  fb_participant_push_uplink(p, rtp.pt, rtp.seq, rtp.ts, rtp.payload, rtp.payload_len, now);
}

/* Demultiplex one received datagram (the net lock is not held): a known
 * source goes down to its participant's transport; from an unknown source
 * only a STUN check (RFC 7983: first byte 0..3) goes on, to the stranger
 * hook, which answers it only for a registered ufrag with valid integrity. */
static void route(fb_net *n, fb_participant *p, uint8_t *buf, size_t len,
                  const struct sockaddr_storage *from, socklen_t fromlen, uint64_t now) {
  if (len == 0) return;
  if (p) {
    if (p->tr->receive) p->tr->receive(p->tr, p, buf, len, from, fromlen, now);
  } else if (buf[0] < 4 && n->handler.on_stranger) {
    n->handler.on_stranger(n->handler_ud, buf, len, from, fromlen, now);
  } else {
    atomic_fetch_add_explicit(&n->rx_unknown, 1, memory_order_relaxed);
  }
}

static void *net_main(void *arg) {
  fb_net *n = arg;
  pthread_setname_np(pthread_self(), "fb-net");
  static __thread uint8_t bufs[FB_NET_BATCH][1500];
  struct mmsghdr msgs[FB_NET_BATCH];
  struct iovec iov[FB_NET_BATCH];
  struct sockaddr_storage from[FB_NET_BATCH];
  fb_participant *who[FB_NET_BATCH];
  uint64_t last_timer = fb_now_ns();
  while (atomic_load(&n->running)) {
    struct pollfd pfd = {.fd = n->fd, .events = POLLIN};
    int ready = poll(&pfd, 1, n->handler.on_timer ? 20 : 100);
    if (n->handler.on_timer) {
      uint64_t t = fb_now_ns();
      if (t - last_timer >= 20000000ull) {
        n->handler.on_timer(n->handler_ud, t);
        last_timer = t;
      }
    }
    if (ready <= 0) continue;
    for (int i = 0; i < FB_NET_BATCH; i++) {
      iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
      msgs[i].msg_hdr = (struct msghdr){
          .msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    int got = recvmmsg(n->fd, msgs, FB_NET_BATCH, MSG_DONTWAIT, NULL);
    if (got <= 0) continue;
    uint64_t now = fb_now_ns();
    atomic_fetch_add_explicit(&n->rx_datagrams, (uint64_t)got, memory_order_relaxed);
    pthread_mutex_lock(&n->lock);
    atomic_fetch_add(&n->epoch, 1); /* odd: the batch's participants are in use */
    for (int i = 0; i < got; i++) who[i] = lookup(n, &from[i]);
    pthread_mutex_unlock(&n->lock);
    for (int i = 0; i < got; i++) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        atomic_fetch_add_explicit(&n->rx_malformed, 1, memory_order_relaxed);
        continue;
      }
      route(n, who[i], bufs[i], msgs[i].msg_len, &from[i], msgs[i].msg_hdr.msg_namelen, now);
    }
    atomic_fetch_add(&n->epoch, 1); /* even: none of them is held any more */
    free_released_rings(n);
  }
  free_released_rings(n);
  return NULL;
}

int fb_net_start(fb_net *n) {
  atomic_store(&n->running, 1);
  if (pthread_create(&n->thread, NULL, net_main, n) != 0) return -1;
  n->started = 1;
  return 0;
}

void fb_net_stop(fb_net *n) {
  if (!n->started) return;
  atomic_store(&n->running, 0);
  pthread_join(n->thread, NULL);
  n->started = 0;
}

void fb_net_free(fb_net *n) {
  if (!n) return;
  fb_net_stop(n);
  for (int i = 0; i < FB_MAP_BUCKETS; i++) {
    peer_node *e = n->buckets[i];
    while (e) {
      peer_node *next = e->next;
      free(e);
      e = next;
    }
  }
  free_released_rings(n);
  free(n->grave);
  close(n->fd);
  pthread_mutex_destroy(&n->lock);
  pthread_mutex_destroy(&n->grave_lock);
  free(n);
}

static void tx_send(fb_transport *t, fb_participant *p, const uint8_t *hdr, size_t hdrlen,
                    const uint8_t *payload, size_t plen) {
  net_transport *tx = (net_transport *)t;
  if (tx->n == FB_SEND_BATCH) tx_flush(t);
  int i = tx->n++;
  size_t hl = hdrlen < sizeof tx->hdrs[i] ? hdrlen : sizeof tx->hdrs[i];
  memcpy(tx->hdrs[i], hdr, hl);
  tx->iov[i][0] = (struct iovec){.iov_base = tx->hdrs[i], .iov_len = hl};
  tx->iov[i][1] = (struct iovec){.iov_base = (void *)payload, .iov_len = plen};
  tx->msgs[i].msg_hdr = (struct msghdr){
      .msg_name = &p->addr, .msg_namelen = p->addrlen, .msg_iov = tx->iov[i], .msg_iovlen = 2};
}

int fb_net_send_batch(int fd, struct mmsghdr *msgs, int count, int *errors) {
  int off = 0, ok = 0;
  *errors = 0;
  while (off < count) {
    int sent = sendmmsg(fd, msgs + off, (unsigned)(count - off), MSG_DONTWAIT);
    if (sent <= 0) {
      /* Full socket buffer or an unreachable peer: drop this one, go on. */
      (*errors)++;
      off++;
      continue;
    }
    ok += sent;
    off += sent;
  }
  return ok;
}

static void tx_flush(fb_transport *t) {
  net_transport *tx = (net_transport *)t;
  int errors;
  int sent = fb_net_send_batch(tx->net->fd, tx->msgs, tx->n, &errors);
  atomic_fetch_add_explicit(&tx->net->tx_datagrams, (uint64_t)sent, memory_order_relaxed);
  atomic_fetch_add_explicit(&tx->net->tx_errors, (uint64_t)errors, memory_order_relaxed);
  tx->n = 0;
}

void fb_net_get_stats(const fb_net *n, fb_net_stats *o) {
  fb_net *m = (fb_net *)n;
  o->rx_datagrams = atomic_load(&m->rx_datagrams);
  o->rx_unknown_source = atomic_load(&m->rx_unknown);
  o->rx_malformed = atomic_load(&m->rx_malformed);
  o->rx_rtcp = atomic_load(&m->rx_rtcp);
  o->rx_not_rtp = atomic_load(&m->rx_not_rtp);
  o->tx_datagrams = atomic_load(&m->tx_datagrams);
  o->tx_errors = atomic_load(&m->tx_errors);
}
