/*
 * participant.h — one remote participant as the media path sees it.
 *
 * Ownership: created and freed by the bridge (bridge.c). Fields are grouped by
 * the thread that writes them:
 *   - identity and transport address: set before the participant is published,
 *     then read-only;
 *   - mixer-owned: the downlink RTP state, the floor state the mixer acts on,
 *     the encoder/uplink decoder (only while decoded: the mixer's control
 *     side allocates them before and frees them after, see mixer.c); only the
 *     mixer thread touches them in between;
 *   - net -> mixer: the uplink queue `inq` (SPSC ring; allocated once, the first
 *     time the participant needs its uplink consumed) and `want_uplink`, which
 *     tells the net thread whether to queue uplink packets at all (listeners'
 *     uplinks are counted and dropped in the transport, never decoded).
 */
#ifndef FB_PARTICIPANT_H
#define FB_PARTICIPANT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"
#include "mixer/transport.h"
#include "mixer/pktring.h"
#include "codecs/audio.h"
#include "codecs/limiter.h"
#include "codecs/opus_codec.h"
#include "codecs/quality.h"
#include "codecs/uplink.h"

typedef struct fb_participant {
  /* identity (read-only once published) */
  int id;
  char name[FB_NAME_MAX];
  uint8_t pt;  /* Opus payload type both ways */
  int channel; /* output channel subscribed to (0 = floor) */

  /* transport (read-only once published) */
  fb_transport *tr;
  struct fb_webrtc_peer *rtc; /* WebRTC state; NULL for plain RTP */
  /* remote address: fixed for plain RTP; for WebRTC learned from ICE checks
   * and changed by the net thread (NAT rebinding). A seqlock, not a lock: the
   * mixer copies it without ever waiting (fb_participant_get_addr), since a
   * mixer that spins on a lock held by a preempted net thread on the same
   * core can stall the whole meeting. */
  struct sockaddr_storage addr;
  socklen_t addrlen;
  atomic_uint addr_seq; /* odd while the net thread writes */
  int unrouted;         /* under the net lock: routing ended (net.c);
                                      * a late ICE check cannot bind p again */

  /* after leaving: the reaper's list node (bridge/reaper.c, under its lock),
   * so that a leave never allocates */
  struct fb_participant *reap_next;
  uint64_t reap_net_token, reap_mixer_seq;

  /* net -> mixer */
  _Atomic(fb_pktring *) inq;
  atomic_int want_uplink;
  atomic_uint_fast64_t rx_packets; /* every uplink RTP packet seen */
  atomic_uint_fast64_t rx_dropped; /* uplink dropped in the transport (listening, ring full) */

  /* written by the transport (RTCP), read by the mixer's quality meter */
  atomic_llong rtt_us; /* round-trip time, -1 unknown */

  /* quality snapshot: written by the mixer about once a second, copied out
   * by whoever shows it (fb_participant_quality); a seqlock for the same
   * reason: the mixer never waits for a reader */
  atomic_uint quality_seq; /* odd while the mixer writes */
  fb_quality quality;

  /* mixer-owned */
  int live;                /* on the floor: decoded and mixed */
  int measured;            /* decoded and scored, not mixed (mic check, muted) */
  fb_quality_meter *qm;    /* while decoded */
  int mixer_index;         /* slot in the mixer's table, -1 when not added */
  uint32_t ssrc;           /* downlink SSRC */
  uint16_t seq;            /* next downlink sequence number */
  uint32_t ts;             /* next downlink timestamp */
  int marker_next;         /* set the marker bit on the next packet */
  fb_encoder *enc;         /* own (mix-minus) encoder while decoded */
  fb_uplink *uplink;       /* jitter buffer + decoder while decoded */
  fb_limiter lim;          /* limiter for this participant's own output */
  float *own;              /* decoded frame this tick (FB_FRAME), while live */
  int own_active;          /* own frame carries sender audio this tick */
  uint64_t own_arrival_ns; /* arrival of the packet behind this tick's frame */
  uint8_t *payload;        /* own encode this tick (mix-minus), FB_MAX_OPUS
                                      * bytes, while decoded (or in comparison mode) */
  int payload_len;
  uint64_t tx_packets; /* tick thread writes, others read (relaxed) */
} fb_participant;

/* Allocate a participant with its identity set (name truncated to
 * FB_NAME_MAX-1), sending through transport tr with payload type pt on
 * channel 0. Not yet known to the mixer or the net thread. NULL when out of
 * memory. */
fb_participant *fb_participant_new(const char *name, int pt, fb_transport *tr);

/* Net thread (the only writer): set p's address. */
void fb_participant_set_addr(fb_participant *p, const struct sockaddr_storage *a, socklen_t len);

/* Any thread: copy p's address without waiting. Returns its length, or 0
 * when none is set or a write was in progress (the caller skips this packet;
 * the next tick will see the new address). */
/* Net thread (a transport's receive): hand a parsed uplink RTP payload to
 * p's ring when its uplink is wanted and pt is p's; counted either way. */
void fb_participant_push_uplink(fb_participant *p, uint8_t pt, uint16_t seq, uint32_t ts,
                                const uint8_t *payload, size_t len, uint64_t now);

/* Any thread: make sure p has an uplink ring (allocated once) and set
 * whether its transport queues the uplink. */
void fb_participant_want_uplink(fb_participant *p, int want);

socklen_t fb_participant_get_addr(fb_participant *p, struct sockaddr_storage *out);

/* Mixer: publish a new quality snapshot (never waits). */
void fb_participant_set_quality(fb_participant *p, const fb_quality *q);

/* Copy p's latest quality snapshot (valid == 0 until it has been decoded
 * for about half a second). Any thread. */
void fb_participant_quality(fb_participant *p, fb_quality *out);

/* Free p and its media state (encoder, uplink decoder, uplink ring). Only once
 * neither the mixer nor the net thread can reach it. NULL is allowed. */
void fb_participant_free(fb_participant *p);

#endif
