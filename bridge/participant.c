/*
 * participant.c — allocation and release of a participant and of the media
 * state the mixer attaches to it while it is live (see participant.h).
 */
#include "bridge/participant.h"

#include <stdio.h>
#include <stdlib.h>

fb_participant *fb_participant_new(const char *name, int pt, fb_transport *tr) {
  fb_participant *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  snprintf(p->name, sizeof p->name, "%s", name);
  p->pt = (uint8_t)pt;
  p->tr = tr;
  p->channel = 0;
  p->mixer_index = -1;
  atomic_store(&p->rtt_us, -1);
  return p;
}

void fb_participant_free(fb_participant *p) {
  if (!p) return;
  fb_encoder_free(p->enc);
  fb_uplink_free(p->uplink);
  free(p->own);
  free(p->qm);
  fb_pktring_free(atomic_load(&p->inq));
  free(p);
}

void fb_participant_quality(fb_participant *p, fb_quality *out) {
  while (atomic_flag_test_and_set_explicit(&p->qlock, memory_order_acquire)) {
  }
  *out = p->quality;
  atomic_flag_clear_explicit(&p->qlock, memory_order_release);
}
