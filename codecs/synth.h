/*
 * synth.h — synthetic signals: pure tones for tests and a speech-like source
 * (voiced formant bursts with syllable rhythm and pauses) for the demo floor,
 * so the demo needs no sound desk.
 */
#ifndef FB_SYNTH_H
#define FB_SYNTH_H

#include <stdint.h>

typedef struct {
  double phase;
  double hz;
  float amplitude;
} fb_tone;

/* Initialise a sine generator at hz with the given amplitude (0..1). */
void fb_tone_init(fb_tone *t, double hz, float amplitude);

/* Write n samples at 48 kHz. */
void fb_tone_fill(fb_tone *t, float *out, int n);

typedef struct {
  uint32_t rng;
  double t; /* samples generated so far */
  double pitch_phase;
  double f0;         /* current fundamental */
  int syllable_left; /* samples left in the current syllable or pause */
  int in_pause;
  int vowel;
  float env;
  float bp[3][4]; /* formant resonator state */
  /* added with the implementation: */
  int syllable_len; /* length of the current syllable or pause (samples) */
  int phrase_len;   /* syllables in the current phrase */
  int phrase_left;  /* syllables still to come in the current phrase */
  double phrase_f0; /* pitch at the start of the phrase (declines across it) */
  double f0_start;  /* pitch glide of the current syllable: start ... */
  double f0_end;    /* ... and end, Hz */
  float accent;     /* loudness of the current syllable, 0..1 */
  float tilt;       /* glottal low-pass (spectral tilt) state */
} fb_speech;

/* Initialise the speech-like generator with a seed (same seed, same signal). */
void fb_speech_init(fb_speech *s, uint32_t seed);

/* Write n samples at 48 kHz, peak around -6 dBFS, with natural pauses. */
void fb_speech_fill(fb_speech *s, float *out, int n);

#endif
