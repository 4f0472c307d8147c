/*
 * transport.h — the small interface between the mixer (fan-out) and a media
 * transport. The plain-RTP transport (net.c) implements it now; the WebRTC
 * transport (SRTP) plugs in beside it with the same two calls.
 *
 * Both calls happen on the mixer thread only. The payload buffer is shared by
 * many participants and stays valid and unmodified until flush() returns, so a
 * transport that can scatter-gather (plain RTP) need not copy it; one that must
 * transform it (SRTP) copies header+payload into its own batch buffer.
 */
#ifndef FB_TRANSPORT_H
#define FB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct fb_participant;

typedef struct fb_transport fb_transport;
struct fb_transport {
  /* Queue one RTP packet for p (hdr is hdrlen bytes, already filled). */
  void (*send)(fb_transport *t, struct fb_participant *p, const uint8_t *hdr, size_t hdrlen,
               const uint8_t *payload, size_t plen);
  /* Send everything queued this tick. */
  void (*flush)(fb_transport *t);
};

#endif
