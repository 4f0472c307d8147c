/*
 * uplink.h — one participant's received audio turned into 20 ms float frames:
 * jitter buffer -> Opus decode / in-band FEC / PLC / DTX silence.
 *
 * Owned by the mixer thread. Packets of any Opus duration are accepted; a small
 * PCM FIFO inside re-frames them into FB_FRAME-sample ticks.
 */
#ifndef FB_UPLINK_H
#define FB_UPLINK_H

#include <stdint.h>
#include "codecs/jitter.h"

typedef struct fb_uplink fb_uplink;

typedef struct {
  fb_jb_kind kind;     /* how (the first part of) this frame was produced */
  uint64_t arrival_ns; /* arrival time of the packet that fed it, 0 if none */
} fb_uplink_info;

/* Create an uplink decoder with a jitter buffer bounded to max_ms. */
fb_uplink *fb_uplink_new(int max_ms);

/* Free; NULL is allowed. */
void fb_uplink_free(fb_uplink *up);

/* Forget buffered packets and decoder state. */
void fb_uplink_reset(fb_uplink *up);

/* Hand a received RTP payload (Opus) to the jitter buffer. Invalid Opus
 * framing is counted as discarded and ignored. */
void fb_uplink_put(fb_uplink *up, uint16_t seq, uint32_t ts, const uint8_t *payload, int len,
                   uint64_t arrival_ns);

/* Produce exactly FB_FRAME samples into out. Returns 1 when the frame carries
 * sender audio (packet, FEC or PLC), 0 when it is silence (not started, idle,
 * DTX). info may be NULL. */
int fb_uplink_frame(fb_uplink *up, uint64_t now_ns, float *out, fb_uplink_info *info);

/* Jitter-buffer counters (the decode errors are counted in `lost`). */
void fb_uplink_get_stats(const fb_uplink *up, fb_jitter_stats *out);

#endif
