/*
 * rtp_peer.h — a plain-RTP test participant: a UDP socket on loopback that can
 * send an Opus tone to the bridge and collects and decodes what the bridge
 * sends back. Header-only; used by the integration tests.
 */
#ifndef FB_TEST_RTP_PEER_H
#define FB_TEST_RTP_PEER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mixer/rtp.h"
#include "codecs/opus_codec.h"
#include "codecs/synth.h"

typedef struct {
  int fd;
  int port;
  fb_encoder *enc;
  fb_decoder *dec;
  fb_tone tone;
  int sending;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  /* received */
  float *pcm;
  long n, cap;
  long packets;
  long seq_gaps;
  int have_last;
  uint16_t last_seq;
} rtp_peer;

static inline void peer_init(rtp_peer *p, double tone_hz, float amp) {
  memset(p, 0, sizeof *p);
  p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(p->fd, (struct sockaddr *)&a, sizeof a);
  socklen_t al = sizeof a;
  getsockname(p->fd, (struct sockaddr *)&a, &al);
  p->port = ntohs(a.sin_port);
  p->enc = fb_encoder_new(32000, 5, 1, 0);
  p->dec = fb_decoder_new();
  if (tone_hz > 0) {
    fb_tone_init(&p->tone, tone_hz, amp);
    p->sending = 1;
  }
  p->seq = (uint16_t)(65400 + p->port % 100); /* crosses the 16-bit wrap during the test */
  p->ts = 0xFFFFF000u - (uint32_t)p->port;
  p->ssrc = 0x1000u + (uint32_t)p->port;
  p->cap = 48000 * 20;
  p->pcm = calloc((size_t)p->cap, sizeof(float));
}

static inline void peer_free(rtp_peer *p) {
  close(p->fd);
  fb_encoder_free(p->enc);
  fb_decoder_free(p->dec);
  free(p->pcm);
}

/* Send one 20 ms frame of the peer's tone to the bridge. */
static inline void peer_send(rtp_peer *p, int bridge_port) {
  if (!p->sending) return;
  float pcm[FB_FRAME];
  uint8_t pkt[FB_RTP_HDR + FB_MAX_OPUS];
  fb_tone_fill(&p->tone, pcm, FB_FRAME);
  int len = fb_encoder_encode(p->enc, pcm, pkt + FB_RTP_HDR, FB_MAX_OPUS);
  if (len <= 0) return;
  fb_rtp_write_header(pkt, 0, 111, p->seq++, p->ts, p->ssrc);
  p->ts += FB_FRAME;
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)bridge_port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  sendto(p->fd, pkt, (size_t)(FB_RTP_HDR + len), 0, (struct sockaddr *)&to, sizeof to);
}

/* Drain and decode everything the bridge sent. */
static inline void peer_receive(rtp_peer *p) {
  uint8_t buf[1500];
  for (;;) {
    ssize_t r = recv(p->fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    fb_rtp rtp;
    if (fb_rtp_parse(buf, (size_t)r, &rtp) < 0) continue;
    p->packets++;
    if (p->have_last && rtp.seq != (uint16_t)(p->last_seq + 1)) p->seq_gaps++;
    p->have_last = 1;
    p->last_seq = rtp.seq;
    if (p->n + FB_MAX_FRAME > p->cap) continue;
    int got =
        fb_decoder_decode(p->dec, rtp.payload, (int)rtp.payload_len, p->pcm + p->n, FB_MAX_FRAME);
    if (got > 0) p->n += got;
  }
}

#endif
