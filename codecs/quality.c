/*
 * quality.c — per-uplink quality meter and the E-model (see quality.h for
 * the measures and our assumptions). Owned by the mixer thread; the cost per
 * frame is one RMS and one clip count over 960 samples.
 */
#include "codecs/quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IE_OPUS 0.0
#define BPL_OPUS 20.0
#define FIXED_DELAY_MS 25.0

void fb_quality_meter_init(fb_quality_meter *q) { memset(q, 0, sizeof *q); }

void fb_quality_meter_frame(fb_quality_meter *q, const float *pcm, int n, fb_jb_kind kind,
                            int active) {
  double sum = 0;
  int clipped = 0;
  for (int i = 0; i < n; i++) {
    double x = pcm[i];
    sum += x * x;
    if (fabs(x) >= 0.99) clipped++;
  }
  double rms = n > 0 ? sqrt(sum / n) : 0;
  fb_quality_frame *f = &q->win[q->pos];
  f->rms_db = rms > 1e-6 ? (float)(20.0 * log10(rms)) : -120.f;
  f->clipped = (uint16_t)(clipped > 65535 ? 65535 : clipped);
  f->kind = (uint8_t)kind;
  f->active = (uint8_t)(active != 0);
  q->pos = (q->pos + 1) % FB_QUALITY_WINDOW;
  if (q->n < FB_QUALITY_WINDOW) q->n++;
}

double fb_emodel_r(double delay_ms, double loss_pct, double burst_ratio) {
  double d = delay_ms < 0 ? 0 : delay_ms;
  double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  double br = burst_ratio < 1 ? 1 : burst_ratio;
  double ppl = loss_pct < 0 ? 0 : loss_pct > 100 ? 100 : loss_pct;
  double ie_eff = IE_OPUS + (95.0 - IE_OPUS) * ppl / (ppl / br + BPL_OPUS);
  double r = 93.2 - id - ie_eff;
  return r < 0 ? 0 : r > 100 ? 100 : r;
}

double fb_emodel_mos(double r) {
  if (r <= 0) return 1.0;
  if (r >= 100) return 4.5;
  double mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
  return mos < 1 ? 1 : mos > 4.5 ? 4.5 : mos;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

void fb_quality_compute(fb_quality_meter *q, const fb_jitter_stats *js, double rtt_ms,
                        fb_quality *o) {
  memset(o, 0, sizeof *o);
  o->rtt_ms = rtt_ms;
  o->level_dbfs = -120;
  o->noise_dbfs = -120;
  if (q->n < 25) return; /* half a second at least */
  o->valid = 1;

  int due = 0, lost = 0, concealed = 0, bursts = 0, active = 0;
  long clipped = 0;
  double act_pow = 0;
  float rms[FB_QUALITY_WINDOW];
  int start = (q->pos - q->n + FB_QUALITY_WINDOW) % FB_QUALITY_WINDOW;
  int in_burst = 0;
  for (int i = 0; i < q->n; i++) {
    const fb_quality_frame *f = &q->win[(start + i) % FB_QUALITY_WINDOW];
    rms[i] = f->rms_db;
    int is_lost = f->kind == FB_JB_FEC || f->kind == FB_JB_PLC;
    if (f->kind != FB_JB_NONE && f->kind != FB_JB_DTX) due++;
    if (is_lost) {
      lost++;
      concealed++;
      if (!in_burst) bursts++;
    }
    in_burst = is_lost;
    if (f->active) {
      active++;
      act_pow += pow(10.0, f->rms_db / 10.0);
      clipped += f->clipped;
    }
  }
  o->loss_pct = due ? 100.0 * lost / due : 0;
  o->concealed_pct = q->n ? 100.0 * concealed / q->n : 0;
  if (lost && bursts && due) {
    double p = (double)lost / due;
    double mean_burst = (double)lost / bursts;
    double random_burst = p < 1 ? 1.0 / (1.0 - p) : mean_burst;
    o->burst_ratio = mean_burst / random_burst;
    if (o->burst_ratio < 1) o->burst_ratio = 1;
  } else {
    o->burst_ratio = 1;
  }
  o->clip_pct = active ? 100.0 * (double)clipped / ((double)active * 960.0) : 0;
  if (active) o->level_dbfs = 10.0 * log10(act_pow / active + 1e-12);
  qsort(rms, (size_t)q->n, sizeof rms[0], cmp_float);
  o->noise_dbfs = rms[q->n / 10];
  o->snr_db = active ? o->level_dbfs - o->noise_dbfs : 0;

  if (js) {
    o->jitter_ms = js->jitter_ms;
    if (q->have_last) {
      uint64_t recv = js->received - q->last.received;
      uint64_t bad = (js->late - q->last.late) + (js->duplicates - q->last.duplicates);
      double inst = recv + bad ? 100.0 * (double)bad / (double)(recv + bad) : 0;
      q->late_pct = 0.7 * q->late_pct + 0.3 * inst;
    }
    q->last = *js;
    q->have_last = 1;
  }
  o->late_pct = q->late_pct;

  double depth_ms = js ? js->target_frames * 20.0 : 20.0;
  double delay = (rtt_ms > 0 ? rtt_ms / 2 : 0) + depth_ms + FIXED_DELAY_MS;
  /* late packets already show as lost (concealed) frames: count loss once */
  o->r_factor = fb_emodel_r(delay, o->loss_pct, o->burst_ratio);
  o->mos = fb_emodel_mos(o->r_factor);
}
