/*
 * transport.h — the small interface between a participant and its media
 * transport: plain RTP (net/net.c) or WebRTC (webrtc/).
 *
 * receive: the net thread's demultiplexer found the participant by the
 * datagram's source address and hands the datagram down to that
 * participant's transport, which unprotects it and pushes the payload into
 * the participant's uplink ring (fb_participant_push_uplink). Nothing goes
 * back up: the demultiplexer does not know what a transport does.
 *
 * send/flush happen on the mixer thread only. The payload buffer is shared by
 * many participants and stays valid and unmodified until flush() returns, so a
 * transport that can scatter-gather (plain RTP) need not copy it; one that must
 * transform it (SRTP) copies header+payload into its own batch buffer.
 */
#ifndef FB_TRANSPORT_H
#define FB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct fb_participant;

typedef struct fb_transport fb_transport;
struct fb_transport {
  /* Net thread: one datagram from p's address (p stays valid for the call;
   * buf may be modified in place). */
  void (*receive)(fb_transport *t, struct fb_participant *p, uint8_t *buf, size_t len,
                  const struct sockaddr_storage *from, socklen_t fromlen, uint64_t now);
  /* Queue one RTP packet for p (hdr is hdrlen bytes, already filled). */
  void (*send)(fb_transport *t, struct fb_participant *p, const uint8_t *hdr, size_t hdrlen,
               const uint8_t *payload, size_t plen);
  /* Send everything queued this tick. */
  void (*flush)(fb_transport *t);
};

#endif
