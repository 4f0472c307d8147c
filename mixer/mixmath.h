/*
 * mixmath.h — the mixer's arithmetic, kept apart so it can be tested exactly.
 *
 * The full mix is accumulated in double; a mix-minus is (full - own) taken
 * from the double accumulator and rounded once to float, so it equals the
 * float sum of the other sources to within one rounding (no trace of `own`
 * survives beyond float precision).
 */
#ifndef FB_MIXMATH_H
#define FB_MIXMATH_H

/* acc[i] = base[i] + sum_k srcs[k][i], for n samples and nsrc sources. */
static inline void fb_mix_accumulate(double *acc, const float *base, const float *const *srcs,
                                     int nsrc, int n) {
  for (int i = 0; i < n; i++) acc[i] = base[i];
  for (int k = 0; k < nsrc; k++) {
    const float *s = srcs[k];
    for (int i = 0; i < n; i++) acc[i] += s[i];
  }
}

/* out[i] = (float)(acc[i] - own[i]): the mix without one source. */
static inline void fb_mix_minus(const double *acc, const float *own, float *out, int n) {
  for (int i = 0; i < n; i++) out[i] = (float)(acc[i] - own[i]);
}

/* out[i] = (float)acc[i]. */
static inline void fb_mix_round(const double *acc, float *out, int n) {
  for (int i = 0; i < n; i++) out[i] = (float)acc[i];
}

#endif
