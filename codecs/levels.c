/*
 * levels.c — signal measurements used by metrics and tests.
 *
 * Owns nothing: pure functions over float buffers. The tone detector is a
 * generalised Goertzel filter (it evaluates the DTFT at exactly `hz`, so the
 * frequency need not fall on an FFT bin) applied to a Hann-windowed copy of the
 * input. The window keeps a strong neighbouring tone (and the sine's own image
 * at -hz) from leaking into the bin being measured; the result is divided by
 * the window's coherent gain so a sine of amplitude a reads a^2/2, its
 * mean-square, whether or not it is bin-aligned.
 */
#include "codecs/levels.h"

#include <math.h>

#define FLOOR_DB (-120.0)

double fb_level_dbfs(const float *x, int n) {
  if (!x || n <= 0) return FLOOR_DB;
  double sum = 0.0;
  for (int i = 0; i < n; i++) sum += (double)x[i] * x[i];
  double ms = sum / n;
  if (ms <= 1e-12) return FLOOR_DB;
  double db = 10.0 * log10(ms);
  return db < FLOOR_DB ? FLOOR_DB : db;
}

float fb_peak(const float *x, int n) {
  float peak = 0.f;
  if (!x) return peak;
  for (int i = 0; i < n; i++) {
    float a = fabsf(x[i]);
    if (a > peak) peak = a;
  }
  return peak;
}

int fb_count_clipped(const float *x, int n, float threshold) {
  int count = 0;
  if (!x) return 0;
  for (int i = 0; i < n; i++)
    if (fabsf(x[i]) >= threshold) count++;
  return count;
}

/* Power = 2 |X(w)|^2 / (sum w[i])^2 with w the Hann window: a sine of
 * amplitude a has |X| = a/2 * sum w, hence power a^2/2. */
double fb_goertzel_power(const float *x, int n, double hz, double rate) {
  if (!x || n <= 1 || rate <= 0.0) return 0.0;
  const double w = 2.0 * M_PI * hz / rate;
  const double coeff = 2.0 * cos(w);
  const double wstep = 2.0 * M_PI / (n - 1);
  double s1 = 0.0, s2 = 0.0, wsum = 0.0;
  for (int i = 0; i < n; i++) {
    double win = 0.5 - 0.5 * cos(wstep * i);
    wsum += win;
    double s0 = win * x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  double mag2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  if (mag2 < 0.0 || wsum <= 0.0) return 0.0;
  return 2.0 * mag2 / (wsum * wsum);
}

double fb_tone_dbfs(const float *x, int n, double hz, double rate) {
  double p = fb_goertzel_power(x, n, hz, rate);
  if (p <= 1e-12) return FLOOR_DB;
  double db = 10.0 * log10(2.0 * p);
  return db < FLOOR_DB ? FLOOR_DB : db;
}
