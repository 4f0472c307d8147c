/*
 * test_levels.c — level meter, Goertzel tone detector and the synthetic
 * sources: known signals must read their known levels, and the speech-like
 * source must look like speech (deterministic, peaks near -6 dBFS, pauses,
 * voiced pitch in the human range).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codecs/audio.h"
#include "codecs/levels.h"
#include "codecs/synth.h"

#define N (FB_RATE / 2)

static void test_basic_levels(void) {
  static float x[N];
  fb_tone t;
  fb_tone_init(&t, 1000.0, 1.0f);
  fb_tone_fill(&t, x, N);
  double db = fb_level_dbfs(x, N);
  CHECK(fabs(db + 3.0103) < 0.05, "full-scale sine reads %.3f dBFS, want -3.01", db);
  CHECK(fb_peak(x, N) > 0.999f && fb_peak(x, N) <= 1.0f, "peak %f", fb_peak(x, N));
  CHECK(fb_count_clipped(x, N, 0.999f) > 0, "full-scale sine touches 0.999");
  for (int i = 0; i < N; i++) x[i] *= 0.5f;
  CHECK(fb_count_clipped(x, N, 0.999f) == 0, "half-scale sine does not clip");
  memset(x, 0, sizeof(x));
  CHECK(fb_level_dbfs(x, N) == -120.0, "silence reads the -120 floor, got %f", fb_level_dbfs(x, N));
  CHECK(fb_tone_dbfs(x, N, 440, FB_RATE) == -120.0, "no tone in silence");
}

static void test_goertzel(void) {
  static float x[4 * FB_FRAME];
  /* amplitude 0.1 -> -20 dB, bin-aligned (1000 Hz at n=960) or not (440 Hz, 123.4 Hz) */
  const double freqs[] = {440.0, 1000.0, 123.4, 3333.3, 7000.0};
  const int sizes[] = {FB_FRAME, 4 * FB_FRAME, 1234};
  for (size_t f = 0; f < sizeof(freqs) / sizeof(freqs[0]); f++) {
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      fb_tone t;
      fb_tone_init(&t, freqs[f], 0.1f);
      t.phase = 0.37; /* not starting at a zero crossing */
      fb_tone_fill(&t, x, sizes[s]);
      double db = fb_tone_dbfs(x, sizes[s], freqs[f], FB_RATE);
      CHECK(fabs(db + 20.0) < 1.0, "%.1f Hz a=0.1 over %d samples reads %.2f dB, want -20 +-1",
            freqs[f], sizes[s], db);
    }
  }
  fb_tone t;
  fb_tone_init(&t, 440.0, 0.1f);
  fb_tone_fill(&t, x, FB_FRAME);
  double absent = fb_tone_dbfs(x, FB_FRAME, 1000.0, FB_RATE);
  CHECK(absent <= -60.0, "1000 Hz absent from a 440 Hz tone: %.1f dB", absent);
  double p = fb_goertzel_power(x, FB_FRAME, 440.0, FB_RATE);
  CHECK(fabs(p - 0.005) < 0.0015, "power of a=0.1 sine is its mean-square 0.005, got %g", p);

  /* Two tones: each is measured without the other leaking in. */
  fb_tone a, b;
  float y[2 * FB_FRAME];
  fb_tone_init(&a, 500.0, 0.5f);
  fb_tone_init(&b, 800.0, 0.05f);
  fb_tone_fill(&a, x, 2 * FB_FRAME);
  fb_tone_fill(&b, y, 2 * FB_FRAME);
  for (int i = 0; i < 2 * FB_FRAME; i++) x[i] += y[i];
  double da = fb_tone_dbfs(x, 2 * FB_FRAME, 500.0, FB_RATE);
  double dbb = fb_tone_dbfs(x, 2 * FB_FRAME, 800.0, FB_RATE);
  CHECK(fabs(da - 20 * log10(0.5)) < 1.0 && fabs(dbb - 20 * log10(0.05)) < 1.0,
        "mixed tones read %.2f / %.2f dB", da, dbb);
}

/* Normalised autocorrelation peak over pitch lags 100..220 Hz. */
static double voicing(const float *x, int n) {
  double best = 0.0;
  double e0 = 0.0;
  for (int i = 0; i < n; i++) e0 += (double)x[i] * x[i];
  if (e0 <= 0.0) return 0.0;
  for (int lag = FB_RATE / 220; lag <= FB_RATE / 100; lag++) {
    double c = 0.0, e1 = 0.0;
    for (int i = 0; i + lag < n; i++) {
      c += (double)x[i] * x[i + lag];
      e1 += (double)x[i + lag] * x[i + lag];
    }
    double r = c / sqrt(e0 * e1 + 1e-30);
    if (r > best) best = r;
  }
  return best;
}

static void test_speech(void) {
  const int n = 20 * FB_RATE;
  float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
  fb_speech s1, s2, s3;
  fb_speech_init(&s1, 42);
  fb_speech_init(&s2, 42);
  fb_speech_init(&s3, 43);
  fb_speech_fill(&s1, a, n);
  for (int off = 0; off < n; off += 333) /* odd chunk sizes: same signal */
    fb_speech_fill(&s2, b + off, off + 333 <= n ? 333 : n - off);
  CHECK(memcmp(a, b, sizeof(float) * (size_t)n) == 0, "same seed gives the same signal");
  fb_speech_fill(&s3, b, n);
  CHECK(memcmp(a, b, sizeof(float) * (size_t)n) != 0, "another seed gives another signal");

  double peak_db = 20.0 * log10(fb_peak(a, n));
  CHECK(peak_db >= -12.0 && peak_db <= -3.0, "speech peak %.2f dBFS in [-12, -3]", peak_db);

  int windows = n / (FB_RATE / 10), pauses = 0, loud = 0, voiced = 0;
  for (int w = 0; w < windows; w++) {
    const float *x = a + w * (FB_RATE / 10);
    double db = fb_level_dbfs(x, FB_RATE / 10);
    if (db < -50.0) pauses++;
    if (db > -30.0) {
      loud++;
      if (voicing(x, FB_RATE / 10) > 0.6) voiced++;
    }
  }
  CHECK(pauses >= windows / 10, "pauses: %d of %d 100 ms windows below -50 dBFS", pauses, windows);
  CHECK(loud >= windows / 3, "speech: %d of %d windows above -30 dBFS", loud, windows);
  CHECK(voiced >= loud / 2, "voiced: %d of %d loud windows periodic at 100..220 Hz", voiced, loud);

  /* Syllable rhythm: the 20 ms envelope has its strongest modulation in 3..7 Hz. */
  int frames = n / FB_FRAME;
  double *env = calloc((size_t)frames, sizeof(double)), mean = 0.0;
  for (int i = 0; i < frames; i++) {
    env[i] = sqrt(pow(10.0, fb_level_dbfs(a + i * FB_FRAME, FB_FRAME) / 10.0));
    mean += env[i] / frames;
  }
  double best_hz = 0.0, best_p = 0.0;
  for (double hz = 1.0; hz <= 12.0; hz += 0.25) {
    double re = 0.0, im = 0.0;
    for (int i = 0; i < frames; i++) {
      re += (env[i] - mean) * cos(2 * M_PI * hz * i * 0.02);
      im += (env[i] - mean) * sin(2 * M_PI * hz * i * 0.02);
    }
    if (re * re + im * im > best_p) {
      best_p = re * re + im * im;
      best_hz = hz;
    }
  }
  CHECK(best_hz >= 3.0 && best_hz <= 7.0, "syllable rate %.2f Hz in 3..7", best_hz);
  free(env);
  free(a);
  free(b);
}

int main(void) {
  test_basic_levels();
  test_goertzel();
  test_speech();
  return CHECK_DONE();
}
