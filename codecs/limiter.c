/*
 * limiter.c — keeps a float mix strictly inside (-1, 1).
 *
 * Owns only the gain state of one output stream. Two stages:
 *   1. Gain riding at frame granularity: when the block's peak times the
 *      current gain would pass the threshold, the gain drops to threshold/peak
 *      (a short ramp at the block start avoids a step); otherwise it recovers
 *      toward 1.0 with a ~100 ms time constant, ramped across the block, never
 *      so far that this block's peak would pass the threshold.
 *   2. A soft clip above a knee at 0.9 * threshold: below the knee samples pass
 *      untouched, above it tanh bends them asymptotically toward 1.0. The
 *      result is finally capped at the largest float below 1.0, because tanhf
 *      rounds to exactly 1.0 for large arguments.
 * With gain 1.0 and |x| below the knee the output is bit-exact. Non-finite
 * input is sanitised: NaN becomes 0, +-inf a full-scale overload.
 */
#include "codecs/limiter.h"

#include <math.h>

#include "codecs/audio.h"

#define RELEASE_MS 100.0 /* gain recovery time constant */
#define ATTACK_RAMP 48   /* samples (1 ms) over which a gain drop is ramped */
#define KNEE 0.9f        /* soft-clip knee, as a fraction of the threshold */

static const float almost_one = 0x1.fffffep-1f; /* nextafterf(1, 0) */

void fb_limiter_init(fb_limiter *lim, float threshold) {
  if (!(threshold > 0.f && threshold < 1.f)) threshold = 0.891f;
  lim->gain = 1.f;
  lim->threshold = threshold;
  lim->release = (float)exp(-(1000.0 * FB_FRAME / FB_RATE) / RELEASE_MS);
}

static float soft_clip(float y, float knee) {
  float a = fabsf(y);
  if (a <= knee) return y;
  float room = 1.f - knee;
  float c = knee + room * tanhf((a - knee) / room);
  if (c > almost_one) c = almost_one;
  return y < 0.f ? -c : c;
}

void fb_limiter_process(fb_limiter *lim, const float *in, float *out, int n) {
  if (!lim || !in || !out || n <= 0) return;

  float peak = 0.f;
  for (int i = 0; i < n; i++) {
    float a = fabsf(in[i]);
    if (isfinite(a) && a > peak) peak = a;
  }

  float g0 = lim->gain, g1;
  int ramp;
  if (peak * g0 > lim->threshold) {
    g1 = lim->threshold / peak; /* attack */
    ramp = n < ATTACK_RAMP ? n : ATTACK_RAMP;
  } else {
    /* release toward 1.0; coefficient scaled to the block length */
    float r = (n == FB_FRAME) ? lim->release : powf(lim->release, (float)n / FB_FRAME);
    g1 = 1.f - (1.f - g0) * r;
    if (g1 > 0.99999f) g1 = 1.f;
    if (peak > 0.f && peak * g1 > lim->threshold) g1 = lim->threshold / peak;
    ramp = n;
  }
  lim->gain = g1;

  const float knee = KNEE * lim->threshold;
  for (int i = 0; i < n; i++) {
    float x = in[i];
    if (!isfinite(x)) x = isnan(x) ? 0.f : (x > 0.f ? 2.f : -2.f);
    float g = (i < ramp) ? g0 + (g1 - g0) * (float)(i + 1) / (float)ramp : g1;
    float y = (g == 1.f) ? x : x * g;
    out[i] = soft_clip(y, knee);
  }
}
