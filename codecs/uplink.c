/*
 * uplink.c — one participant's packets turned into 20 ms float frames.
 *
 * Owns a jitter buffer, an Opus decoder and a small PCM FIFO. Each tick the
 * mixer asks for exactly FB_FRAME samples; the FIFO is topped up from the
 * jitter buffer until it holds that many, one decision at a time:
 *   PACKET -> decode (a corrupt packet is concealed instead and counted lost),
 *   FEC    -> decode the next packet's in-band FEC for the missing duration,
 *   PLC    -> Opus concealment,
 *   DTX    -> zeros (the sender is silent on purpose: no concealment),
 *   NONE   -> zeros for the rest of the frame (not started, or idle).
 * Because Opus packets may last 2.5..120 ms, one decision can produce less or
 * more than a frame; the remainder waits in the FIFO for the next tick. The
 * FIFO also records which decision produced which samples (a short list of
 * chunks), so each frame reports how it began, whether any of it is sender
 * audio, and the arrival time of the packet behind it.
 */
#include "codecs/uplink.h"

#include <stdlib.h>
#include <string.h>

#include "codecs/opus_codec.h"

#define FIFO_CAP (FB_MAX_FRAME + FB_FRAME)
#define MAX_CHUNKS 64    /* chunk records in the FIFO (excess merges into the last) */
#define MAX_PULLS 64     /* jitter-buffer decisions per frame, a loop guard */
#define OPUS_QUANTUM 120 /* FEC/PLC sizes must be multiples of 2.5 ms */

typedef struct {
  int n; /* samples */
  fb_jb_kind kind;
  uint64_t arrival_ns;
} chunk;

struct fb_uplink {
  fb_jitter *jb;
  fb_decoder *dec;
  float fifo[FIFO_CAP];
  int fifo_n;
  chunk chunks[MAX_CHUNKS];
  int nchunks;
  uint64_t decode_errors; /* reported in stats.lost */
  uint64_t discarded;     /* invalid framing, reported in stats.discarded */
};

fb_uplink *fb_uplink_new(int max_ms) {
  fb_uplink *up = calloc(1, sizeof(*up));
  if (!up) return NULL;
  up->jb = fb_jitter_new(max_ms);
  up->dec = fb_decoder_new();
  if (!up->jb || !up->dec) {
    fb_uplink_free(up);
    return NULL;
  }
  return up;
}

void fb_uplink_free(fb_uplink *up) {
  if (!up) return;
  fb_jitter_free(up->jb);
  fb_decoder_free(up->dec);
  free(up);
}

void fb_uplink_reset(fb_uplink *up) {
  if (!up) return;
  fb_jitter_reset(up->jb);
  fb_decoder_reset(up->dec);
  up->fifo_n = 0;
  up->nchunks = 0;
  up->decode_errors = 0;
  up->discarded = 0;
}

void fb_uplink_put(fb_uplink *up, uint16_t seq, uint32_t ts, const uint8_t *payload, int len,
                   uint64_t arrival_ns) {
  if (!up) return;
  int samples =
      (payload && len > 0 && len <= FB_MAX_OPUS) ? fb_opus_packet_samples(payload, len) : -1;
  if (samples <= 0) {
    up->discarded++;
    return;
  }
  fb_jitter_put(up->jb, seq, ts, payload, len, samples, arrival_ns);
}

/* Record that the last n samples appended to the FIFO came from kind. */
static void add_chunk(fb_uplink *up, int n, fb_jb_kind kind, uint64_t arrival_ns) {
  if (n <= 0) return;
  if (up->nchunks == MAX_CHUNKS) {
    up->chunks[MAX_CHUNKS - 1].n += n;
    return;
  }
  up->chunks[up->nchunks++] = (chunk){n, kind, arrival_ns};
}

static void append_zeros(fb_uplink *up, int n, fb_jb_kind kind) {
  if (n > FIFO_CAP - up->fifo_n) n = FIFO_CAP - up->fifo_n;
  memset(up->fifo + up->fifo_n, 0, (size_t)n * sizeof(float));
  up->fifo_n += n;
  add_chunk(up, n, kind, 0);
}

/* Concealment (or FEC when pkt != NULL) for n samples: libopus wants whole
 * 2.5 ms units, anything left over is zero. */
static void append_recovered(fb_uplink *up, const uint8_t *pkt, int len, int n, fb_jb_kind kind,
                             uint64_t arrival_ns) {
  if (n > FIFO_CAP - up->fifo_n) n = FIFO_CAP - up->fifo_n;
  int whole = n - n % OPUS_QUANTUM, got = 0;
  if (whole > 0) {
    float *dst = up->fifo + up->fifo_n;
    got = pkt ? fb_decoder_decode_fec(up->dec, pkt, len, dst, whole) : -1;
    if (got <= 0) got = fb_decoder_conceal(up->dec, dst, whole);
    if (got < 0) got = 0;
    if (got > whole) got = whole;
    up->fifo_n += got;
    add_chunk(up, got, kind, arrival_ns);
  }
  if (n - got > 0) append_zeros(up, n - got, kind);
}

static void append_packet(fb_uplink *up, const fb_jb_frame *f) {
  int room = FIFO_CAP - up->fifo_n;
  int got = fb_decoder_decode(up->dec, f->data, f->len, up->fifo + up->fifo_n, room);
  if (got <= 0) {
    up->decode_errors++;
    append_recovered(up, NULL, 0, f->samples, FB_JB_PLC, f->arrival_ns);
    return;
  }
  up->fifo_n += got;
  add_chunk(up, got, FB_JB_PACKET, f->arrival_ns);
}

static int is_audio(fb_jb_kind k) { return k == FB_JB_PACKET || k == FB_JB_FEC || k == FB_JB_PLC; }

int fb_uplink_frame(fb_uplink *up, uint64_t now_ns, float *out, fb_uplink_info *info) {
  if (info) *info = (fb_uplink_info){FB_JB_NONE, 0};
  if (!up || !out) {
    if (out) memset(out, 0, FB_FRAME * sizeof(float));
    return 0;
  }

  for (int pulls = 0; up->fifo_n < FB_FRAME; pulls++) {
    if (pulls == MAX_PULLS) {
      append_zeros(up, FB_FRAME - up->fifo_n, FB_JB_NONE);
      break;
    }
    fb_jb_frame f = fb_jitter_get(up->jb, now_ns);
    int n = f.samples > 0 && f.samples <= FB_MAX_FRAME ? f.samples : FB_FRAME;
    switch (f.kind) {
    case FB_JB_PACKET: append_packet(up, &f); break;
    case FB_JB_FEC: append_recovered(up, f.data, f.len, n, FB_JB_FEC, f.arrival_ns); break;
    case FB_JB_PLC: append_recovered(up, NULL, 0, n, FB_JB_PLC, 0); break;
    case FB_JB_DTX: append_zeros(up, n, FB_JB_DTX); break;
    case FB_JB_NONE:
    default: append_zeros(up, FB_FRAME - up->fifo_n, FB_JB_NONE); break;
    }
  }

  /* Hand out the first FB_FRAME samples and the chunks they span. */
  memcpy(out, up->fifo, FB_FRAME * sizeof(float));
  up->fifo_n -= FB_FRAME;
  memmove(up->fifo, up->fifo + FB_FRAME, (size_t)up->fifo_n * sizeof(float));

  int audio = 0, need = FB_FRAME, used = 0;
  uint64_t arrival = 0;
  for (; used < up->nchunks && need > 0; used++) {
    chunk *c = &up->chunks[used];
    if (used == 0 && info) info->kind = c->kind;
    if (is_audio(c->kind)) audio = 1;
    if (!arrival) arrival = c->arrival_ns;
    int take = c->n < need ? c->n : need;
    c->n -= take;
    need -= take;
    if (c->n > 0) break; /* partly consumed: it stays first */
  }
  memmove(up->chunks, up->chunks + used, (size_t)(up->nchunks - used) * sizeof(chunk));
  up->nchunks -= used;
  if (info) info->arrival_ns = arrival;
  return audio;
}

void fb_uplink_get_stats(const fb_uplink *up, fb_jitter_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof(*out));
  if (!up) return;
  fb_jitter_get_stats(up->jb, out);
  out->lost += up->decode_errors;
  out->discarded += up->discarded;
}
