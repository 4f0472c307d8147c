/*
 * participant.c — allocation and release of a participant and of the media
 * state the mixer attaches to it while it is live (see participant.h).
 */
#include "mixer/participant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FB_UPLINK_SLOTS 32 /* 640 ms of 20 ms packets */

fb_participant *fb_participant_new(const char *name, int pt, fb_transport *tr) {
  fb_participant *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  snprintf(p->name, sizeof p->name, "%s", name);
  p->pt = (uint8_t)pt;
  p->tr = tr;
  p->channel = 0;
  p->mixer_index = -1;
  atomic_store(&p->rtt_us, -1);
  return p;
}

void fb_participant_free(fb_participant *p) {
  if (!p) return;
  fb_encoder_free(p->enc);
  fb_uplink_free(p->uplink);
  free(p->own);
  free(p->qm);
  free(p->payload);
  fb_pktring_free(atomic_load(&p->inq));
  free(p);
}

/* Seqlocks: the writer makes the sequence odd, writes, makes it even again;
 * a reader copies between two reads of an even, unchanged sequence. Writers
 * never wait; readers retry a bounded number of times. */
static void seq_write_begin(atomic_uint *seq) {
  unsigned s = atomic_load_explicit(seq, memory_order_relaxed);
  atomic_store_explicit(seq, s + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
}

static void seq_write_end(atomic_uint *seq) {
  unsigned s = atomic_load_explicit(seq, memory_order_relaxed);
  atomic_store_explicit(seq, s + 1, memory_order_release);
}

static int seq_read(atomic_uint *seq, void *dst, const void *src, size_t n, int tries) {
  for (int i = 0; i < tries; i++) {
    unsigned s1 = atomic_load_explicit(seq, memory_order_acquire);
    if (s1 & 1) continue;
    memcpy(dst, src, n);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(seq, memory_order_relaxed) == s1) return 0;
  }
  return -1;
}

void fb_participant_set_addr(fb_participant *p, const struct sockaddr_storage *a, socklen_t len) {
  seq_write_begin(&p->addr_seq);
  memcpy(&p->addr, a, sizeof *a);
  p->addrlen = len;
  seq_write_end(&p->addr_seq);
}

socklen_t fb_participant_get_addr(fb_participant *p, struct sockaddr_storage *out) {
  struct {
    struct sockaddr_storage a;
    socklen_t len;
  } copy;
  /* addr and addrlen are adjacent but copied separately into one snapshot */
  for (int i = 0; i < 4; i++) {
    unsigned s1 = atomic_load_explicit(&p->addr_seq, memory_order_acquire);
    if (s1 & 1) continue;
    memcpy(&copy.a, &p->addr, sizeof copy.a);
    copy.len = p->addrlen;
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&p->addr_seq, memory_order_relaxed) == s1) {
      memcpy(out, &copy.a, sizeof copy.a);
      return copy.len;
    }
  }
  return 0;
}

void fb_participant_set_quality(fb_participant *p, const fb_quality *q) {
  seq_write_begin(&p->quality_seq);
  memcpy(&p->quality, q, sizeof *q);
  seq_write_end(&p->quality_seq);
}

void fb_participant_quality(fb_participant *p, fb_quality *out) {
  if (seq_read(&p->quality_seq, out, &p->quality, sizeof *out, 100) < 0)
    memset(out, 0, sizeof *out); /* the mixer kept writing: report "no score" once */
}

void fb_participant_push_uplink(fb_participant *p, uint8_t pt, uint16_t seq, uint32_t ts,
                                const uint8_t *payload, size_t len, uint64_t now) {
  atomic_fetch_add_explicit(&p->rx_packets, 1, memory_order_relaxed);
  fb_pktring *q = atomic_load_explicit(&p->inq, memory_order_acquire);
  if (pt != p->pt || !q || !atomic_load_explicit(&p->want_uplink, memory_order_relaxed) ||
      fb_pktring_push(q, seq, ts, payload, (unsigned)len, now) < 0)
    atomic_fetch_add_explicit(&p->rx_dropped, 1, memory_order_relaxed);
}

void fb_participant_want_uplink(fb_participant *p, int want) {
  if (want && atomic_load(&p->inq) == NULL) {
    fb_pktring *r = fb_pktring_new(FB_UPLINK_SLOTS);
    fb_pktring *expected = NULL;
    if (!atomic_compare_exchange_strong(&p->inq, &expected, r)) fb_pktring_free(r);
  }
  atomic_store(&p->want_uplink, want);
}
