/*
 * quality.h — the quality score of one remote uplink, from what the mixer sees
 * frame by frame (decoded audio and how each frame was produced) and what the
 * jitter buffer and the transport count.
 *
 * Measures (over a sliding window of about 5 s, reported about once a second):
 *   loss %        frames whose packet never came (FEC + PLC) / frames due
 *   burst ratio   mean observed loss-burst length / the mean a random loss of
 *                 the same rate would give (1 = random, > 1 = bursty; G.113)
 *   jitter        RFC 3550 interarrival jitter from the jitter buffer
 *   late %        packets discarded as late or duplicate / packets received
 *   concealed %   FEC + PLC frames / frames (FEC counts: the listener heard a
 *                 reconstruction)
 *   RTT           from RTCP (transport), when known
 *   level         RMS of the active frames, dBFS
 *   clipping %    samples at or above 0.99 full scale / samples
 *   noise floor   10th percentile of per-frame RMS over the window, dBFS
 *   SNR           level of the active frames - noise floor, dB
 *   R, MOS        E-model (ITU-T G.107, narrowband scale) from delay and loss
 *
 * E-model assumptions (ours, documented because Opus has no ITU-assigned
 * impairment values): Ie = 0 for Opus at 24 kbit/s and above on the
 * narrowband R scale (it is at least as clean as G.711), Bpl = 20 (loss
 * robustness: in-band FEC and PLC, between G.711+PLC's 25.1 and G.729's 19),
 * one-way delay = RTT/2 + jitter buffer depth + 25 ms (codec, packetisation
 * and the bridge's tick), all other G.107 parameters at their defaults
 * (R0 - Is = 93.2). Bursty loss enters through BurstR.
 */
#ifndef FB_QUALITY_H
#define FB_QUALITY_H

#include <stdint.h>

#include "codecs/jitter.h"

#define FB_QUALITY_WINDOW 250 /* frames in the sliding window (5 s) */

typedef struct {
  int valid; /* enough frames to say anything */
  double loss_pct;
  double burst_ratio;
  double jitter_ms;
  double late_pct;
  double concealed_pct;
  double rtt_ms;     /* -1 when unknown */
  double level_dbfs; /* -120 when silent */
  double clip_pct;
  double noise_dbfs;
  double snr_db;
  double r_factor;
  double mos;
} fb_quality;

/* Per-frame record kept in the window. */
typedef struct {
  float rms_db;
  uint16_t clipped;
  uint8_t kind;   /* fb_jb_kind */
  uint8_t active; /* sender audio (not DTX/idle) */
} fb_quality_frame;

typedef struct {
  fb_quality_frame win[FB_QUALITY_WINDOW];
  int n, pos;
  fb_jitter_stats last; /* jitter-buffer counters at the previous report */
  int have_last;
  double late_pct; /* smoothed from counter deltas */
} fb_quality_meter;

/* Reset to empty. */
void fb_quality_meter_init(fb_quality_meter *q);

/* Account one 20 ms frame: its samples and how it was produced (from
 * fb_uplink_info.kind). active: the frame carries sender audio. */
void fb_quality_meter_frame(fb_quality_meter *q, const float *pcm, int n, fb_jb_kind kind,
                            int active);

/* Compute the score over the window. js: the uplink's jitter-buffer stats
 * now; rtt_ms: -1 if unknown. */
void fb_quality_compute(fb_quality_meter *q, const fb_jitter_stats *js, double rtt_ms,
                        fb_quality *out);

/* E-model: R-factor from one-way delay (ms), packet loss (%) and BurstR. */
double fb_emodel_r(double delay_ms, double loss_pct, double burst_ratio);

/* G.107 Annex B: MOS (1..4.5) from R. */
double fb_emodel_mos(double r);

#endif
