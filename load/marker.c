/*
 * marker.c — the speakers' pre-encoded signal, its calibration and the
 * listeners' marker detector (see marker.h for what is measured).
 *
 * Marker frequencies sit between 3.3 and 6.1 kHz, above the synthetic
 * speech's formants and inside what Opus keeps at 32 kbit/s. A frame counts
 * as a marker when the weaker tone of the best pair is above an absolute
 * floor and 10 dB above every tone of the other pairs. The onset search runs
 * only on such frames (about two per second), so a decoded listener costs an
 * Opus decode plus eight 960-sample Goertzel filters per packet (own
 * implementation with precomputed Hann windows).
 */
#include "load/marker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/audio.h"
#include "codecs/levels.h"
#include "codecs/opus_codec.h"
#include "codecs/synth.h"

static const double FREQ[LD_MARK_IDS][2] = {{3300, 4900}, {3700, 5300}, {4100, 5700}, {4500, 6100}};

#define TONE_AMP 0.3f
#define WIN 192               /* onset search: 4 ms window ... */
#define HOP 16                /* ... moved by 1/3 ms */
#define THR_ABS 1e-4          /* Goertzel power (-37 dB re full-scale sine) */
#define THR_REL 10.0          /* best pair's weaker tone over any other id's tones */
#define QUIET (10 * FB_FRAME) /* one detection per marker: 200 ms refractory */

int ld_marker_id(long long k) {
  if (k < 0 || k % LD_MARK_PERIOD) return -1;
  return (int)((k / LD_MARK_PERIOD) % LD_MARK_IDS);
}

/* Goertzel power of hz over n samples with a Hann window (the same
 * normalisation as codecs/levels.h, a full-scale sine reads ~0.5), with the
 * windows for the two lengths used here computed once: levels.h computes a
 * cosine per sample, which is most of a decoded listener's cost. */
static float hann_frame[FB_FRAME], hann_win[WIN];
static double hann_frame_sum, hann_win_sum;

static void hann_init(void) {
  if (hann_frame_sum > 0) return;
  for (int i = 0; i < FB_FRAME; i++)
    hann_frame_sum += hann_frame[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / (FB_FRAME - 1)));
  for (int i = 0; i < WIN; i++)
    hann_win_sum += hann_win[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / (WIN - 1)));
}

static double gpow(const float *x, int n, double hz) {
  const float *win = n == FB_FRAME ? hann_frame : hann_win;
  double wsum = n == FB_FRAME ? hann_frame_sum : hann_win_sum;
  float coeff = (float)(2.0 * cos(2.0 * M_PI * hz / FB_RATE)), s1 = 0, s2 = 0;
  for (int i = 0; i < n; i++) {
    float s0 = win[i] * x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  double mag2 = (double)s1 * s1 + (double)s2 * s2 - (double)coeff * s1 * s2;
  return mag2 > 0 ? 2.0 * mag2 / (wsum * wsum) : 0.0;
}

/* Marker id present in one frame, or -1. */
static int classify(const ld_signal *s, const float *x) {
  double p[LD_MARK_IDS][2], low = 0;
  int best = 0;
  double bestv = -1;
  for (int i = 0; i < LD_MARK_IDS; i++) { /* most frames end here: no lower tone */
    p[i][0] = gpow(x, FB_FRAME, s->freq[i][0]);
    if (p[i][0] > low) low = p[i][0];
  }
  if (low < THR_ABS) return -1;
  for (int i = 0; i < LD_MARK_IDS; i++) {
    p[i][1] = gpow(x, FB_FRAME, s->freq[i][1]);
    double m = p[i][0] < p[i][1] ? p[i][0] : p[i][1];
    if (m > bestv) {
      bestv = m;
      best = i;
    }
  }
  double other = 0;
  for (int i = 0; i < LD_MARK_IDS; i++)
    if (i != best) {
      if (p[i][0] > other) other = p[i][0];
      if (p[i][1] > other) other = p[i][1];
    }
  return bestv >= THR_ABS && bestv >= THR_REL * other ? best : -1;
}

/* Onset of marker id near frame f_start: the centre of the first window whose
 * tone power reaches a quarter of the strongest window's (the window is then
 * about half filled with tone). Absolute index, or -1. */
static long long onset(const ld_signal *s, int id, const float *pcm, long n, long long total,
                       long long f_start) {
  long long first = total - n, lo = f_start - FB_FRAME, hi = f_start + FB_FRAME;
  if (lo < first) lo = first;
  if (hi > total) hi = total;
  if (hi - lo < WIN) return -1;
  double e[(2 * FB_FRAME) / HOP + 1];
  int ne = 0;
  double max = 0;
  for (long long x = lo; x + WIN <= hi && ne < (int)(sizeof e / sizeof e[0]); x += HOP) {
    const float *w = pcm + (x - first);
    double v = gpow(w, WIN, s->freq[id][0]) + gpow(w, WIN, s->freq[id][1]);
    e[ne++] = v;
    if (v > max) max = v;
  }
  if (max <= 0) return -1;
  for (int i = 0; i < ne; i++)
    if (e[i] >= 0.25 * max) return lo + (long long)i * HOP + WIN / 2;
  return -1;
}

int ld_detect(ld_detector *d, const ld_signal *s, const float *pcm, long n, long long total,
              uint64_t at, int *ids, uint64_t *heard, int max) {
  if (!pcm || n <= 0) return 0;
  long long first = total - n;
  long long bstart = d->nb ? d->batch[(d->nb - 1) % LD_DET_BATCHES].end : first;
  if (bstart < first) bstart = first;
  if (total > bstart) {
    int i = d->nb++ % LD_DET_BATCHES;
    d->batch[i].start = bstart;
    d->batch[i].end = total;
    d->batch[i].at = at;
  }
  if (d->next < first) /* trimmed away unseen: skip whole frames */
    d->next += (first - d->next + FB_FRAME - 1) / FB_FRAME * FB_FRAME;
  int found = 0;
  for (; d->next + FB_FRAME <= total; d->next += FB_FRAME) {
    if (d->next < d->quiet_until) continue;
    int id = classify(s, pcm + (d->next - first));
    if (id < 0) continue;
    long long on = onset(s, id, pcm, n, total, d->next);
    if (on < 0) continue;
    d->quiet_until = d->next + QUIET;
    /* the batch (and so the packet) that carried the onset */
    for (int k = 0; k < LD_DET_BATCHES && k < d->nb; k++) {
      int i = (d->nb - 1 - k) % LD_DET_BATCHES;
      if (on >= d->batch[i].start && on < d->batch[i].end) {
        long long pkt = d->batch[i].start + (on - d->batch[i].start) / FB_FRAME * FB_FRAME;
        if (found < max) {
          ids[found] = id;
          heard[found] = d->batch[i].at + (uint64_t)((on - pkt) * 1000000000LL / FB_RATE);
          found++;
        }
        break;
      }
    }
  }
  d->found += found;
  return found;
}

/* ---- the signal ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Two hops with no network: decode, re-encode with the bridge's settings,
 * decode, detect. Each 20 ms frame "arrives" at k * 20 ms. */
static int calibrate(ld_signal *s, int bitrate, int complexity, char *err, int errlen) {
  const int loops = 2, total_frames = loops * LD_SIG_FRAMES;
  fb_decoder *d1 = fb_decoder_new(), *d2 = fb_decoder_new();
  fb_encoder *e2 = fb_encoder_new(bitrate, complexity, 1, 0);
  float *pcm = malloc((size_t)total_frames * FB_FRAME * sizeof *pcm);
  double *cal = malloc((size_t)total_frames * sizeof *cal);
  int ok = d1 && d2 && e2 && pcm && cal, ncal = 0;
  ld_detector det;
  memset(&det, 0, sizeof det);
  s->cal_expected = s->cal_detected = 0;
  for (int k = 0; ok && k < total_frames; k++) {
    float a[FB_MAX_FRAME], *out = pcm + (size_t)k * FB_FRAME;
    uint8_t pkt[LD_PKT_MAX];
    int f = k % LD_SIG_FRAMES;
    if (fb_decoder_decode(d1, s->pkt[f], s->len[f], a, FB_MAX_FRAME) != FB_FRAME) ok = 0;
    int l = ok ? fb_encoder_encode(e2, a, pkt, sizeof pkt) : -1;
    if (l <= 0 || fb_decoder_decode(d2, pkt, l, a, FB_MAX_FRAME) != FB_FRAME) ok = 0;
    if (!ok) break;
    memcpy(out, a, FB_FRAME * sizeof *out);
    long long total = (long long)(k + 1) * FB_FRAME;
    long n = (long)(total < 4 * FB_FRAME ? total : 4 * FB_FRAME);
    int ids[4];
    uint64_t heard[4];
    uint64_t at = (uint64_t)k * FB_TICK_NS;
    int m = ld_detect(&det, s, pcm + (total - n), n, total, at, ids, heard, 4);
    if (k >= LD_SIG_FRAMES && ld_marker_id(k) >= 0) s->cal_expected++;
    for (int i = 0; i < m; i++) {
      /* the latest frame with this id sent at or before the heard time */
      long long km = (long long)(heard[i] / FB_TICK_NS);
      while (km >= 0 && ld_marker_id(km) != ids[i]) km--;
      if (km < LD_SIG_FRAMES) continue; /* first loop: warm-up */
      s->cal_detected++;
      cal[ncal++] = (double)heard[i] - (double)km * FB_TICK_NS;
    }
  }
  if (ok && ncal) {
    qsort(cal, (size_t)ncal, sizeof *cal, cmp_double);
    s->cal_ns = cal[ncal / 2];
  }
  fb_decoder_free(d1);
  fb_decoder_free(d2);
  fb_encoder_free(e2);
  free(pcm);
  free(cal);
  if (!ok) return snprintf(err, (size_t)errlen, "calibration: Opus failed"), -1;
  if (s->cal_detected < s->cal_expected * 9 / 10 || s->cal_detected > s->cal_expected)
    return snprintf(err, (size_t)errlen, "calibration: %d of %d markers detected", s->cal_detected,
                    s->cal_expected),
           -1;
  return 0;
}

int ld_signal_build(ld_signal *s, uint32_t seed, int bitrate, int complexity, char *err,
                    int errlen) {
  hann_init();
  memcpy(s->freq, FREQ, sizeof FREQ);
  fb_encoder *enc = fb_encoder_new(32000, 5, 1, 0); /* what a browser sends */
  if (!enc) return snprintf(err, (size_t)errlen, "Opus encoder"), -1;
  fb_speech sp;
  fb_speech_init(&sp, seed ? seed : 1);
  for (int k = 0; k < LD_SIG_FRAMES; k++) {
    float pcm[FB_FRAME];
    int id = ld_marker_id(k);
    if (id >= 0) {
      for (int i = 0; i < FB_FRAME; i++) {
        double t = (double)i / FB_RATE;
        float fade = i >= FB_FRAME - 48 ? (float)(FB_FRAME - i) / 48.0f : 1.0f;
        pcm[i] = fade * TONE_AMP *
                 (float)(sin(2 * M_PI * FREQ[id][0] * t) + sin(2 * M_PI * FREQ[id][1] * t));
      }
    } else {
      fb_speech_fill(&sp, pcm, FB_FRAME);
      for (int i = 0; i < FB_FRAME; i++) pcm[i] *= 0.7f;
    }
    double rms = fb_level_dbfs(pcm, FB_FRAME);
    s->level[k] = rms >= 0 ? 0 : rms <= -127 ? 127 : (int)lround(-rms);
    s->len[k] = fb_encoder_encode(enc, pcm, s->pkt[k], LD_PKT_MAX);
    if (s->len[k] <= 0) {
      fb_encoder_free(enc);
      return snprintf(err, (size_t)errlen, "Opus encode failed"), -1;
    }
  }
  fb_encoder_free(enc);
  return calibrate(s, bitrate, complexity, err, errlen);
}
