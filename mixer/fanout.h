/*
 * fanout.h — sending one tick's packets: for each recipient, stamp its own RTP
 * header (SSRC, next sequence number, timestamp), hand header + payload to its
 * transport, and flush every transport used at the end of the tick.
 *
 * This is the per-listener cost of the bridge: a 12-byte header and a batch
 * slot; the payload is shared and never copied here.
 */
#ifndef FB_FANOUT_H
#define FB_FANOUT_H

#include <stdint.h>
#include "mixer/participant.h"

#define FB_FANOUT_MAX_TRANSPORTS 8

typedef struct {
  fb_transport *used[FB_FANOUT_MAX_TRANSPORTS];
  int nused;
  uint64_t packets; /* packets queued since begin */
} fb_fanout;

/* Start a tick. */
void fb_fanout_begin(fb_fanout *f);

/* Queue payload (len bytes, valid until fb_fanout_end) to p and advance p's
 * sequence number. The timestamp is p->ts, which the caller advances once per
 * tick whether or not a packet was sent (fb_fanout_advance). */
void fb_fanout_send(fb_fanout *f, fb_participant *p, const uint8_t *payload, int len);

/* Advance p's RTP clock by one frame (call once per tick per participant). */
static inline void fb_fanout_advance(fb_participant *p) { p->ts += 960; }

/* Flush every transport used this tick. */
void fb_fanout_end(fb_fanout *f);

#endif
