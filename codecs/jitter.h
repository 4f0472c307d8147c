/*
 * jitter.h — adaptive jitter buffer for one uplink (packet level, no audio).
 *
 * Owned by the mixer thread. Packets go in as they arrive (any order, any
 * duplicates); once per 20 ms tick the mixer asks what to play for the next
 * frame. The answer is one of: a packet to decode, "recover this frame from the
 * next packet's FEC", "conceal (PLC)", "silence: the sender is in DTX" or
 * "nothing yet" (buffer not started, or idle).
 *
 * Playout is timestamp-driven. Loss versus DTX: a hole in RTP timestamps with
 * contiguous sequence numbers is DTX (the sender stopped sending on purpose);
 * a hole in sequence numbers is loss. 16-bit sequence numbers and 32-bit
 * timestamps are extended internally so wrap-around is invisible.
 *
 * Depth adapts to measured interarrival jitter (RFC 3550 estimator): the target
 * is the smallest whole number of frames that covers ~3x the jitter plus the
 * recent late arrivals, with a floor of one frame on a clean path and a ceiling
 * of max_ms.
 */
#ifndef FB_JITTER_H
#define FB_JITTER_H

#include <stdint.h>
#include "codecs/audio.h"

typedef struct fb_jitter fb_jitter;

typedef enum {
  FB_JB_NONE = 0, /* nothing to play: not started or idle (no packets for a long time) */
  FB_JB_PACKET,   /* decode `data` (the packet whose timestamp is due) */
  FB_JB_FEC,      /* the due packet is lost; `data` is the NEXT packet: decode its FEC */
  FB_JB_PLC,      /* the due packet is lost and no FEC source: conceal. Also
                       returned while the due packet has simply not arrived yet
                       (underrun): it may be late, lost, or the start of DTX */
  FB_JB_DTX       /* sender is in DTX: play silence, this is not loss. Also
                       returned once an underrun has lasted ~100 ms (a sender in
                       DTX sends nothing; the next packet tells DTX from loss) */
} fb_jb_kind;

typedef struct {
  fb_jb_kind kind;
  const uint8_t *data; /* valid until the next fb_jitter_* call; NULL for PLC/DTX/NONE */
  int len;
  int samples;         /* duration of the frame to produce (normally FB_FRAME) */
  uint64_t arrival_ns; /* arrival time of the packet that is played (PACKET/FEC) */
} fb_jb_frame;

typedef struct {
  uint64_t received;   /* packets accepted into the buffer */
  uint64_t duplicates; /* dropped: same sequence number already held or played */
  uint64_t late;       /* dropped: arrived after its playout time */
  uint64_t lost;       /* frames due whose packet never arrived in time (FEC + PLC) */
  uint64_t fec;        /* frames recovered from FEC */
  uint64_t plc;        /* frames concealed */
  uint64_t dtx;        /* frames of DTX silence */
  uint64_t played;     /* frames played from a real packet */
  uint64_t overflow;   /* packets dropped because the buffer was full or too deep */
  double jitter_ms;    /* RFC 3550 interarrival jitter estimate */
  int target_frames;   /* current target depth in frames */
  int depth_frames;    /* frames currently buffered ahead of playout */
  uint64_t discarded;  /* ignored on input: zero-length, oversize or (uplink) invalid
                            Opus framing; added after the original contract */
} fb_jitter_stats;

/* Create a jitter buffer. max_ms bounds the target depth (e.g. 200; values
 * above 640 ms are treated as 640). Returns NULL when out of memory. */
fb_jitter *fb_jitter_new(int max_ms);

/* Free a jitter buffer; NULL is allowed. */
void fb_jitter_free(fb_jitter *jb);

/* Forget everything (new stream, e.g. SSRC change or re-join). */
void fb_jitter_reset(fb_jitter *jb);

/* Insert a packet. samples is its duration (fb_opus_packet_samples), arrival_ns
 * its receive time on CLOCK_MONOTONIC. len must be 1..FB_MAX_OPUS; a zero-length
 * or oversize packet is counted and ignored. */
void fb_jitter_put(fb_jitter *jb, uint16_t seq, uint32_t ts, const uint8_t *data, int len,
                   int samples, uint64_t arrival_ns);

/* Decide what to play for the next frame. Called once per tick (or once per
 * frame_size samples the caller needs). now_ns is the tick time. */
fb_jb_frame fb_jitter_get(fb_jitter *jb, uint64_t now_ns);

/* Counters and current depth. */
void fb_jitter_get_stats(const fb_jitter *jb, fb_jitter_stats *out);

#endif
