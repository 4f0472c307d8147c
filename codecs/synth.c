/*
 * synth.c — test tones and a speech-like synthetic talker.
 *
 * Owns no global state: each generator is a small struct the caller keeps.
 *
 * The talker is a classic source-filter model, cheap enough to run every tick
 * for the demo floor:
 *   - source: a glottal pulse train at f0 (100..220 Hz) through a one-pole
 *     low-pass for the natural spectral tilt, plus a little aspiration noise;
 *   - filter: three parallel band-pass resonators at the formants of one of
 *     five vowels, a new vowel per syllable;
 *   - prosody: syllables of 160..280 ms (~4.5 per second) shaped by a
 *     raised-sine envelope with a random accent, 3..9 syllables per phrase,
 *     the pitch declining across the phrase with per-syllable glides, and
 *     phrases separated by pauses of 300..900 ms of true silence.
 * Everything random comes from a xorshift32 seeded by the caller, so the same
 * seed gives the same signal sample for sample. The output gain is set so the
 * loudest syllables peak near -6 dBFS; a gentle tanh guards the rare outlier.
 */
#include "codecs/synth.h"

#include <math.h>
#include <string.h>

#include "codecs/audio.h"

#define OUT_GAIN 3.8 /* empirical: puts the loud syllable peaks near 0.5 */
#define OUT_KNEE 0.5 /* the tanh guard leaves |x| below this untouched ... */
#define OUT_CEIL 0.6 /* ... and bends the rest toward this ceiling */

void fb_tone_init(fb_tone *t, double hz, float amplitude) {
  t->phase = 0.0;
  t->hz = hz;
  t->amplitude = amplitude;
}

void fb_tone_fill(fb_tone *t, float *out, int n) {
  const double step = t->hz / FB_RATE;
  for (int i = 0; i < n; i++) {
    out[i] = t->amplitude * (float)sin(2.0 * M_PI * t->phase);
    t->phase += step;
    if (t->phase >= 1.0) t->phase -= floor(t->phase);
  }
}

/* ---- speech ---------------------------------------------------------- */

static const float vowels[5][3] = {
    {730, 1090, 2440}, /* a */
    {530, 1840, 2480}, /* e */
    {270, 2290, 3010}, /* i */
    {570, 840, 2410},  /* o */
    {300, 870, 2240},  /* u */
};
static const float bandwidth[3] = {90, 110, 170};
static const float formant_gain[3] = {1.0f, 0.55f, 0.3f};

static uint32_t next_rand(fb_speech *s) {
  uint32_t x = s->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  s->rng = x;
  return x;
}

/* Uniform in [0, 1). */
static double urand(fb_speech *s) { return (next_rand(s) >> 8) * (1.0 / 16777216.0); }

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

void fb_speech_init(fb_speech *s, uint32_t seed) {
  memset(s, 0, sizeof(*s));
  s->rng = seed ? seed : 0x9e3779b9u;
  for (int i = 0; i < 4; i++) next_rand(s); /* spread nearby seeds apart */
  s->in_pause = 1;                          /* open with a short breath */
  s->syllable_len = s->syllable_left = (int)(FB_RATE * (0.1 + 0.2 * urand(s)));
  s->f0 = 150.0;
}

/* Start the next syllable or pause. */
static void next_segment(fb_speech *s) {
  if (!s->in_pause && s->phrase_left == 0) {
    s->in_pause = 1;
    s->syllable_len = (int)(FB_RATE * (0.3 + 0.6 * urand(s)));
  } else {
    if (s->in_pause) { /* new phrase */
      s->phrase_len = s->phrase_left = 3 + (int)(urand(s) * 7);
      s->phrase_f0 = 160.0 + 50.0 * urand(s);
    }
    s->in_pause = 0;
    double pos = 1.0 - (double)s->phrase_left / s->phrase_len; /* 0 .. <1 */
    s->phrase_left--;
    double base = s->phrase_f0 * (1.0 - 0.35 * pos); /* declination */
    double accent = urand(s);
    s->f0_start = clamp(base * (0.95 + 0.1 * urand(s)), 100.0, 220.0);
    s->f0_end = clamp(base * (accent > 0.7 ? 1.08 : 0.92), 100.0, 220.0);
    s->accent = (float)(0.55 + 0.45 * accent);
    int v = (int)(urand(s) * 4);
    s->vowel = v >= s->vowel ? v + 1 : v; /* always change */
    s->syllable_len = (int)(FB_RATE * (0.16 + 0.12 * urand(s)));
  }
  s->syllable_left = s->syllable_len;
}

static float guard(double v) {
  double a = fabs(v);
  if (a <= OUT_KNEE) return (float)v;
  a = OUT_KNEE + (OUT_CEIL - OUT_KNEE) * tanh((a - OUT_KNEE) / (OUT_CEIL - OUT_KNEE));
  return (float)(v < 0 ? -a : a);
}

typedef struct {
  float b0, a1, a2; /* band-pass: y = b0 (x - x2) - a1 y1 - a2 y2 */
} resonator;

static void design(const fb_speech *s, resonator r[3]) {
  for (int k = 0; k < 3; k++) {
    double w0 = 2.0 * M_PI * vowels[s->vowel][k] / FB_RATE;
    double alpha = sin(w0) * bandwidth[k] / (2.0 * vowels[s->vowel][k]); /* sin(w0) / 2Q */
    double a0 = 1.0 + alpha;
    r[k].b0 = (float)(alpha / a0);
    r[k].a1 = (float)(-2.0 * cos(w0) / a0);
    r[k].a2 = (float)((1.0 - alpha) / a0);
  }
}

void fb_speech_fill(fb_speech *s, float *out, int n) {
  while (n > 0) {
    if (s->syllable_left <= 0) next_segment(s);
    resonator r[3];
    design(s, r);
    int run = n < s->syllable_left ? n : s->syllable_left;
    for (int i = 0; i < run; i++) {
      double x = 0.0;
      if (!s->in_pause) {
        double p = 1.0 - (double)(s->syllable_left - i) / s->syllable_len;
        s->f0 = s->f0_start + (s->f0_end - s->f0_start) * p;
        s->env = s->accent * (float)sin(M_PI * p);
        s->pitch_phase += s->f0 / FB_RATE;
        double pulse = 0.0;
        if (s->pitch_phase >= 1.0) {
          s->pitch_phase -= 1.0;
          pulse = 1.0;
        }
        double noise = urand(s) - 0.5;
        x = s->env * (pulse + 0.02 * noise);
      } else {
        s->env = 0.f;
      }
      s->tilt = (float)(0.1 * x + 0.9 * s->tilt);
      double src = s->tilt * 10.0;
      double y = 0.0;
      for (int k = 0; k < 3; k++) {
        float *z = s->bp[k]; /* x1, x2, y1, y2 */
        double v = r[k].b0 * (src - z[1]) - r[k].a1 * z[2] - r[k].a2 * z[3];
        if (fabs(v) < 1e-20) v = 0.0; /* no denormals in the pauses */
        z[1] = z[0];
        z[0] = (float)src;
        z[3] = z[2];
        z[2] = (float)v;
        y += formant_gain[k] * v;
      }
      out[i] = guard(OUT_GAIN * y);
    }
    s->syllable_left -= run;
    s->t += run;
    out += run;
    n -= run;
  }
}
