/*
 * pktring.h — bounded single-producer/single-consumer packet queue.
 *
 * Carries uplink RTP payloads from the net thread (producer) to the mixer
 * thread (consumer) without locks: C11 atomics on head/tail, fixed slots, no
 * allocation after creation. When full, the producer's packet is dropped and
 * counted (the mixer never waits on the network, and the network never waits on
 * the mixer).
 */
#ifndef FB_PKTRING_H
#define FB_PKTRING_H

#include <stdint.h>
#include "codecs/audio.h"

typedef struct {
  uint64_t arrival_ns;
  uint32_t ts;
  uint16_t seq;
  uint16_t len;
  uint8_t data[FB_MAX_OPUS];
} fb_pkt;

typedef struct fb_pktring fb_pktring;

/* Create a ring with `slots` entries (rounded up to a power of two). */
fb_pktring *fb_pktring_new(unsigned slots);

/* Free; NULL is allowed. Only when neither side uses it any more. */
void fb_pktring_free(fb_pktring *r);

/* Producer: copy one packet in. Returns 0, or -1 when full or len too big
 * (the packet is dropped and counted). */
int fb_pktring_push(fb_pktring *r, uint16_t seq, uint32_t ts, const uint8_t *data, unsigned len,
                    uint64_t arrival_ns);

/* Consumer: peek the oldest packet, or NULL when empty. Valid until pop. */
const fb_pkt *fb_pktring_peek(fb_pktring *r);

/* Consumer: release the packet returned by peek. */
void fb_pktring_pop(fb_pktring *r);

/* Packets dropped because the ring was full. */
uint64_t fb_pktring_dropped(const fb_pktring *r);

#endif
