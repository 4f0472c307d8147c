/*
 * limiter.h — soft limiter for float mixes.
 *
 * Gain-riding limiter (instant attack at frame granularity, smooth release)
 * followed by a tanh soft clip above the knee, so the output magnitude is
 * always strictly below 1.0 whatever the input: eight full-scale speakers
 * summed never clip. One limiter per output stream (it carries gain state).
 */
#ifndef FB_LIMITER_H
#define FB_LIMITER_H

typedef struct {
  float gain;      /* current gain, 1.0 when idle */
  float threshold; /* level the limiter aims to hold peaks at, e.g. 0.891 (-1 dBFS) */
  float release;   /* per-frame release coefficient toward 1.0 */
} fb_limiter;

/* Initialise with a threshold in (0, 1); anything else falls back to 0.891
 * (-1 dBFS). Gain starts at 1.0, release is ~100 ms. */
void fb_limiter_init(fb_limiter *lim, float threshold);

/* Process n samples from in to out (in == out allowed). |out[i]| < 1.0. */
void fb_limiter_process(fb_limiter *lim, const float *in, float *out, int n);

#endif
