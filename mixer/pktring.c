/*
 * pktring.c — lock-free SPSC packet ring (see pktring.h).
 *
 * head is written only by the producer, tail only by the consumer; each side
 * reads the other's index with acquire and publishes its own with release, so
 * a slot's bytes are visible before its index moves. Slots are fixed-size
 * (FB_MAX_OPUS payload) so there is no allocation after creation.
 */
#include "mixer/pktring.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct fb_pktring {
  _Alignas(64) atomic_uint head; /* next slot to write (producer) */
  _Alignas(64) atomic_uint tail; /* next slot to read (consumer) */
  _Alignas(64) atomic_uint_fast64_t dropped;
  unsigned mask;
  fb_pkt slots[];
};

fb_pktring *fb_pktring_new(unsigned slots) {
  unsigned n = 2;
  while (n < slots) n <<= 1;
  fb_pktring *r = calloc(1, sizeof *r + (size_t)n * sizeof(fb_pkt));
  if (!r) return NULL;
  r->mask = n - 1;
  return r;
}

void fb_pktring_free(fb_pktring *r) { free(r); }

int fb_pktring_push(fb_pktring *r, uint16_t seq, uint32_t ts, const uint8_t *data, unsigned len,
                    uint64_t arrival_ns) {
  unsigned head = atomic_load_explicit(&r->head, memory_order_relaxed);
  unsigned tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  if (head - tail > r->mask || len > FB_MAX_OPUS) {
    atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
    return -1;
  }
  fb_pkt *p = &r->slots[head & r->mask];
  p->arrival_ns = arrival_ns;
  p->seq = seq;
  p->ts = ts;
  p->len = (uint16_t)len;
  memcpy(p->data, data, len);
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
  return 0;
}

const fb_pkt *fb_pktring_peek(fb_pktring *r) {
  unsigned tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  unsigned head = atomic_load_explicit(&r->head, memory_order_acquire);
  if (tail == head) return NULL;
  return &r->slots[tail & r->mask];
}

void fb_pktring_pop(fb_pktring *r) {
  unsigned tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

uint64_t fb_pktring_dropped(const fb_pktring *r) {
  return atomic_load_explicit(&((fb_pktring *)r)->dropped, memory_order_relaxed);
}
