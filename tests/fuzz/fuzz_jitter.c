/*
 * fuzz_jitter.c — libFuzzer target for the uplink receive path: the jitter
 * buffer alone (codecs/jitter.h) and the whole uplink (codecs/uplink.h:
 * jitter buffer + real Opus decode / FEC / PLC of whatever bytes arrive),
 * driven by the same sequence of packet arrivals and mixer ticks.
 *
 * Input: [max] then ops, one byte each plus operands:
 *   op&3 == 0,1  put: op&4 ? [seq:2][ts:4] absolute : [dseq:int8][dts:int8 * 120]
 *                relative to the previous put; then [len][len bytes] (short at
 *                the end of the input) and [at]: arrival at*0.1 ms after the
 *                last tick. Duration given to fb_jitter_put: table[op >> 4]
 *                (valid Opus durations, or the packet's own, or invalid ones);
 *                fb_uplink_put works it out itself.
 *   op&3 == 2    one tick: the clock moves 20 ms + ((op >> 2) - 32) * 0.5 ms,
 *                then fb_jitter_get and fb_uplink_frame.
 *   op&3 == 3    a pause of (op >> 2) ticks of 20 ms (long enough to go idle);
 *                0xff resets both instead.
 * max: jitter_max_ms = max * 4 (0..1020). The clock is monotonic and ticks
 * keep coming, as the mixer's do.
 *
 * Invariants (a violation traps):
 *   - fb_jitter_get: a valid kind; 1..FB_MAX_FRAME samples; PACKET/FEC carry
 *     exactly the bytes and (PACKET) the duration of a packet that was put,
 *     PLC/DTX/NONE carry none;
 *   - stats: target depth within 1..max frames, depth >= 0, jitter finite,
 *     played <= received <= accepted puts;
 *   - fb_uplink_frame: exactly FB_FRAME samples into a heap buffer of exactly
 *     that size, all finite; returns 0 or 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/jitter.h"
#include "codecs/opus_codec.h"
#include "codecs/uplink.h"

#define CHECK(c)                                                                      \
  do {                                                                                \
    if (!(c)) {                                                                       \
      fprintf(stderr, "fuzz_jitter: invariant failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();                                                               \
    }                                                                                 \
  } while (0)

#define TICK_NS 20000000ull
#define MAX_PUTS 4096

typedef struct {
  const uint8_t *data;
  int len, samples;
} put_rec;

typedef struct {
  const uint8_t *p;
  size_t n;
} reader;

static int rd(reader *r, size_t k, const uint8_t **out) {
  if (r->n < k) return 0;
  *out = r->p;
  r->p += k;
  r->n -= k;
  return 1;
}

static int u8(reader *r) {
  const uint8_t *b;
  return rd(r, 1, &b) ? b[0] : 0;
}

/* The harness's own loops are not instrumented: tracing 960 comparisons per
 * tick cost half the run time and guides nothing in the code under test. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

/* Was (data, len[, samples]) put? samples < 0: any duration. */
NO_COVERAGE static int was_put(const put_rec *puts, int n, const uint8_t *data, int len,
                               int samples) {
  for (int i = n - 1; i >= 0; i--)
    if (puts[i].len == len && (samples < 0 || puts[i].samples == samples) &&
        memcmp(puts[i].data, data, (size_t)len) == 0)
      return 1;
  return 0;
}

NO_COVERAGE static int all_finite(const float *p, int n) {
  for (int i = 0; i < n; i++)
    if (!isfinite(p[i])) return 0;
  return 1;
}

static void tick(fb_jitter *jb, fb_uplink *up, uint64_t now, const put_rec *puts, int nputs,
                 int max_frames, float *pcm) {
  fb_jb_frame f = fb_jitter_get(jb, now);
  CHECK(f.kind >= FB_JB_NONE && f.kind <= FB_JB_DTX);
  CHECK(f.samples >= 1 && f.samples <= FB_MAX_FRAME);
  if (f.kind == FB_JB_PACKET || f.kind == FB_JB_FEC) {
    CHECK(f.data && f.len >= 1 && f.len <= FB_MAX_OPUS);
    CHECK(was_put(puts, nputs, f.data, f.len, f.kind == FB_JB_PACKET ? f.samples : -1));
  } else {
    CHECK(f.data == NULL);
  }
  fb_jitter_stats st;
  fb_jitter_get_stats(jb, &st);
  CHECK(st.target_frames >= 1 && st.target_frames <= max_frames);
  CHECK(st.depth_frames >= 0 && isfinite(st.jitter_ms) && st.jitter_ms >= 0);
  CHECK(st.played <= st.received && st.received <= (uint64_t)nputs);

  fb_uplink_info info;
  int audio = fb_uplink_frame(up, now, pcm, &info);
  CHECK(audio == 0 || audio == 1);
  CHECK(info.kind >= FB_JB_NONE && info.kind <= FB_JB_DTX);
  CHECK(all_finite(pcm, FB_FRAME));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int durations[16] = {120,  240,         480,  960,  960,
                                    960,  1920,        2880, 3840, 4800,
                                    5760, 0 /* own */, 0,    0,    -1 /* invalid */,
                                    6000};
  reader r = {data, size};
  int max_ms = u8(&r) * 4;
  int max_frames = (int)(max_ms / 20.0);
  if (max_frames < 1) max_frames = 1;
  if (max_frames > 32) max_frames = 32; /* jitter.c: SLOTS / 2 */

  fb_jitter *jb = fb_jitter_new(max_ms);
  fb_uplink *up = fb_uplink_new(max_ms);
  float *pcm = malloc(FB_FRAME * sizeof *pcm);
  put_rec *puts = malloc(MAX_PUTS * sizeof *puts);
  CHECK(jb && up && pcm && puts);

  int nputs = 0;
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint64_t now = 5000000000ull;
  while (r.n > 0) {
    int op = u8(&r);
    const uint8_t *b;
    switch (op & 3) {
    case 0:
    case 1: {
      if (op & 4) {
        if (!rd(&r, 6, &b)) break;
        seq = (uint16_t)(b[0] << 8 | b[1]);
        ts = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5];
      } else {
        if (!rd(&r, 2, &b)) break;
        seq = (uint16_t)(seq + (int8_t)b[0]);
        ts = ts + (uint32_t)((int8_t)b[1] * 120);
      }
      size_t len = (size_t)u8(&r);
      if (len > r.n) len = r.n;
      const uint8_t *pkt = NULL;
      rd(&r, len, &pkt);
      uint64_t at = now + (uint64_t)u8(&r) * 100000ull;
      /* exact-size copy: ASan sees a read past the packet */
      uint8_t *copy = malloc(len ? len : 1);
      CHECK(copy);
      if (len) memcpy(copy, pkt, len);
      int samples = durations[op >> 4];
      if (samples == 0) samples = len ? fb_opus_packet_samples(copy, (int)len) : 0;
      fb_jitter_put(jb, seq, ts, len ? copy : NULL, (int)len, samples, at);
      fb_uplink_put(up, seq, ts, len ? copy : NULL, (int)len, at);
      free(copy);
      if (len >= 1 && len <= FB_MAX_OPUS && samples > 0 && samples <= FB_MAX_FRAME &&
          nputs < MAX_PUTS)
        puts[nputs++] = (put_rec){pkt, (int)len, samples};
      break;
    }
    case 2:
      now += TICK_NS + (uint64_t)((op >> 2) * 500000) - 16000000ull;
      tick(jb, up, now, puts, nputs, max_frames, pcm);
      break;
    case 3:
      if (op == 0xff) {
        fb_jitter_reset(jb);
        fb_uplink_reset(up);
        break;
      }
      for (int i = 0; i < (op >> 2); i++) {
        now += TICK_NS;
        tick(jb, up, now, puts, nputs, max_frames, pcm);
      }
      break;
    }
    if (nputs == MAX_PUTS) break; /* keeps the was_put search bounded */
  }
  fb_jitter_free(jb);
  fb_uplink_free(up);
  free(pcm);
  free(puts);
  return 0;
}
