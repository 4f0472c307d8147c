/* test_quality — the uplink quality meter and E-model: a clean tone scores
 * MOS >= 4.3; random loss lowers it as G.107 predicts; bursty loss at the same
 * rate scores lower still; clipping, noise floor and SNR are measured. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "codecs/quality.h"
#include "codecs/synth.h"

static void feed(fb_quality_meter *q, int frames, double loss_p, int burst, float amp,
                 float noise) {
  fb_tone t;
  fb_tone_init(&t, 700, amp);
  float pcm[960];
  int left_in_burst = 0;
  for (int i = 0; i < frames; i++) {
    fb_tone_fill(&t, pcm, 960);
    int speaking = (i / 25) % 2 == 0; /* 0.5 s on, 0.5 s off */
    for (int k = 0; k < 960; k++) {
      if (!speaking) pcm[k] = 0;
      pcm[k] += noise * ((float)rand() / RAND_MAX * 2 - 1);
    }
    fb_jb_kind kind = FB_JB_PACKET;
    if (left_in_burst > 0) {
      kind = FB_JB_PLC;
      left_in_burst--;
    } else if ((double)rand() / RAND_MAX < loss_p / burst) {
      kind = FB_JB_PLC;
      left_in_burst = burst - 1;
    }
    fb_quality_meter_frame(q, pcm, 960, kind, speaking);
  }
}

int main(void) {
  srand(11);
  CHECK(fabs(fb_emodel_r(0, 0, 1) - 93.2) < 1e-9, "R0 - Is = 93.2");
  CHECK(fabs(fb_emodel_mos(93.2) - 4.41) < 0.01, "MOS(93.2) = %.3f ~ 4.41", fb_emodel_mos(93.2));
  CHECK(fb_emodel_r(300, 0, 1) < fb_emodel_r(100, 0, 1) - 15, "long delay costs more than linear");

  fb_jitter_stats js = {.jitter_ms = 2, .target_frames = 1};
  fb_quality q;
  fb_quality_meter m;
  fb_quality_meter_init(&m);
  fb_quality_compute(&m, &js, -1, &q);
  CHECK(!q.valid, "empty meter says nothing");

  feed(&m, 250, 0, 1, 0.3f, 0.0003f);
  fb_quality_compute(&m, &js, 40, &q);
  printf("clean: loss %.1f%% MOS %.2f level %.1f noise %.1f SNR %.1f clip %.2f%%\n", q.loss_pct,
         q.mos, q.level_dbfs, q.noise_dbfs, q.snr_db, q.clip_pct);
  CHECK(q.valid && q.loss_pct == 0 && q.mos >= 4.3, "clean path MOS %.2f", q.mos);
  CHECK(fabs(q.level_dbfs - (20 * log10(0.3 / sqrt(2)))) < 1.0, "level %.1f ~ -13.5 dBFS",
        q.level_dbfs);
  CHECK(q.noise_dbfs < -65 && q.snr_db > 50, "noise floor %.1f, SNR %.1f", q.noise_dbfs, q.snr_db);
  CHECK(q.clip_pct == 0, "no clipping");

  fb_quality_meter_init(&m);
  feed(&m, 250, 0.10, 1, 0.3f, 0.0003f);
  fb_quality qr;
  fb_quality_compute(&m, &js, 40, &qr);
  printf("10%% random: loss %.1f%% burst %.2f R %.1f MOS %.2f\n", qr.loss_pct, qr.burst_ratio,
         qr.r_factor, qr.mos);
  CHECK(qr.loss_pct > 6 && qr.loss_pct < 14, "loss %.1f%% ~ 10%%", qr.loss_pct);
  CHECK(qr.mos < 3.8 && qr.mos > 2.5, "10%% loss MOS %.2f", qr.mos);
  CHECK(qr.concealed_pct > 5, "concealed counted");

  fb_quality_meter_init(&m);
  feed(&m, 250, 0.10, 5, 0.3f, 0.0003f);
  fb_quality qb;
  fb_quality_compute(&m, &js, 40, &qb);
  printf("10%% bursts of 5: loss %.1f%% burst %.2f R %.1f MOS %.2f\n", qb.loss_pct, qb.burst_ratio,
         qb.r_factor, qb.mos);
  CHECK(qb.burst_ratio > 2.5, "bursty loss detected (%.2f)", qb.burst_ratio);

  fb_quality_meter_init(&m);
  feed(&m, 250, 0, 1, 1.6f, 0.0003f); /* an overdriven microphone */
  fb_quality_compute(&m, &js, 40, &q);
  CHECK(q.clip_pct > 10, "clipping %.1f%%", q.clip_pct);

  fb_quality_meter_init(&m);
  feed(&m, 250, 0, 1, 0.05f, 0.02f); /* noisy room, weak voice */
  fb_quality_compute(&m, &js, 40, &q);
  CHECK(q.snr_db < 15, "poor SNR %.1f dB", q.snr_db);
  return CHECK_DONE();
}
