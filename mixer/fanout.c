/*
 * fanout.c — per-recipient RTP stamping and batched hand-off to transports
 * (see fanout.h). Runs on the mixer thread only.
 */
#include "mixer/fanout.h"

#include "mixer/rtp.h"

void fb_fanout_begin(fb_fanout *f) {
  f->nused = 0;
  f->packets = 0;
}

void fb_fanout_send(fb_fanout *f, fb_participant *p, const uint8_t *payload, int len) {
  fb_transport *t = p->tr;
  if (!t || len <= 0) return;
  int known = 0;
  for (int i = 0; i < f->nused; i++)
    if (f->used[i] == t) known = 1;
  if (!known) {
    if (f->nused == FB_FANOUT_MAX_TRANSPORTS) {
      /* More transport kinds than slots cannot happen with today's two
       * transports; flush early rather than lose packets. */
      fb_fanout_end(f);
    }
    f->used[f->nused++] = t;
  }
  uint8_t hdr[FB_RTP_HDR];
  fb_rtp_write_header(hdr, p->marker_next, p->pt, p->seq, p->ts, p->ssrc);
  p->marker_next = 0;
  p->seq++;
  /* relaxed: the control thread reads it for `list` (a plain store on x86) */
  __atomic_store_n(&p->tx_packets, p->tx_packets + 1, __ATOMIC_RELAXED);
  t->send(t, p, hdr, sizeof hdr, payload, (size_t)len);
  f->packets++;
}

void fb_fanout_end(fb_fanout *f) {
  for (int i = 0; i < f->nused; i++) f->used[i]->flush(f->used[i]);
  f->nused = 0;
}
