/*
 * levels.h — signal measurements: RMS level in dBFS, peak, clipping, and a
 * Goertzel tone detector. Used by the quality metrics and by the tests that
 * check which source is present in which mix.
 */
#ifndef FB_LEVELS_H
#define FB_LEVELS_H

/* RMS level of n samples in dBFS (full scale = 1.0); -120 for silence. */
double fb_level_dbfs(const float *x, int n);

/* Largest |x[i]|. */
float fb_peak(const float *x, int n);

/* Number of samples with |x| >= threshold (e.g. 0.999 for clipping). */
int fb_count_clipped(const float *x, int n, float threshold);

/* Goertzel power of frequency hz in x (rate Hz sample rate), normalised so a
 * full-scale sine gives ~0.5 (i.e. its mean-square). */
double fb_goertzel_power(const float *x, int n, double hz, double rate);

/* Level of a tone in dBFS-equivalent: 10*log10(2*power), -120 floor.
 * A sine of amplitude a reads 20*log10(a). */
double fb_tone_dbfs(const float *x, int n, double hz, double rate);

#endif
