/*
 * test_opus.c — the Opus wrapper round-trips audio: a 1 kHz tone survives
 * encode/decode at 32 kbit/s (SNR after aligning for the codec delay, and
 * the tone's level), in-band FEC rebuilds a dropped frame from the next
 * packet, and concealment produces finite audio.
 */
#include <math.h>
#include <string.h>

#include "check.h"
#include "codecs/audio.h"
#include "codecs/levels.h"
#include "codecs/opus_codec.h"
#include "codecs/synth.h"

#define FRAMES 50
#define TOTAL (FRAMES * FB_FRAME)
#define SKIP (5 * FB_FRAME) /* let the codec settle */
#define MAX_LAG 1000

static float src[TOTAL], dec_out[TOTAL];

/* Best SNR of dec against src over lags 0..MAX_LAG (decoded lags source). */
static double aligned_snr(int *best_lag) {
  double best_corr = -1e300;
  int lag_at = 0;
  const int n = TOTAL - SKIP - MAX_LAG;
  for (int lag = 0; lag <= MAX_LAG; lag++) {
    double c = 0.0;
    for (int i = SKIP; i < SKIP + n; i++) c += (double)src[i] * dec_out[i + lag];
    if (c > best_corr) {
      best_corr = c;
      lag_at = lag;
    }
  }
  double sig = 0.0, err = 0.0;
  for (int i = SKIP; i < SKIP + n; i++) {
    double e = dec_out[i + lag_at] - src[i];
    sig += (double)src[i] * src[i];
    err += e * e;
  }
  *best_lag = lag_at;
  return 10.0 * log10(sig / (err + 1e-30));
}

static void test_roundtrip(void) {
  fb_encoder *enc = fb_encoder_new(32000, 5, 0, 0);
  fb_decoder *dec = fb_decoder_new();
  CHECK(enc && dec, "encoder and decoder created");
  if (!enc || !dec) return;
  fb_tone t;
  fb_tone_init(&t, 1000.0, 0.5f);
  fb_tone_fill(&t, src, TOTAL);
  uint8_t pkt[FB_MAX_OPUS];
  int bad = 0;
  for (int f = 0; f < FRAMES; f++) {
    int len = fb_encoder_encode(enc, src + f * FB_FRAME, pkt, sizeof(pkt));
    if (len <= 0) bad++;
    int ps = fb_opus_packet_samples(pkt, len);
    if (ps != FB_FRAME) bad++;
    float tmp[FB_MAX_FRAME];
    int n = fb_decoder_decode(dec, pkt, len, tmp, FB_MAX_FRAME);
    if (n != FB_FRAME)
      bad++;
    else
      memcpy(dec_out + f * FB_FRAME, tmp, sizeof(float) * FB_FRAME);
  }
  CHECK(bad == 0, "%d encode/decode/packet-size failures", bad);
  int lag = 0;
  double snr = aligned_snr(&lag);
  CHECK(snr >= 15.0, "1 kHz tone SNR %.1f dB at lag %d (want >= 15)", snr, lag);
  double db = fb_tone_dbfs(dec_out + SKIP, TOTAL - SKIP, 1000.0, FB_RATE);
  double want = 20.0 * log10(0.5);
  CHECK(fabs(db - want) < 2.0, "decoded 1 kHz level %.2f dB, source %.2f dB", db, want);

  /* Bad input is refused, not crashed on. */
  CHECK(fb_opus_packet_samples(pkt, 0) < 0, "empty packet has no duration");
  uint8_t bogus[2] = {0x03, 0xff}; /* code 3, count 63 x 20 ms: > 120 ms */
  CHECK(fb_opus_packet_samples(bogus, 2) < 0, "over-long code-3 packet is invalid");
  float tmp[FB_MAX_FRAME];
  CHECK(fb_decoder_decode(dec, bogus, 2, tmp, FB_MAX_FRAME) < 0, "invalid packet: decode error");
  CHECK(fb_encoder_new(1000, 5, 0, 0) == NULL, "absurd bitrate refused");
  fb_encoder_free(enc);
  fb_decoder_free(dec);
  fb_encoder_free(NULL);
  fb_decoder_free(NULL);
}

/* Encode 50 frames of a 1 kHz tone with FEC, lose frame 30 and rebuild it
 * from frame 31's FEC. With `step` the tone jumps from 0.05 to 0.5 exactly at
 * frame 30, so concealment (which extrapolates the quiet past, ~-40 dB) cannot
 * pass for FEC. Returns the rebuilt frame's 1 kHz level; leaves the decoder
 * in *decp for the caller. */
static double fec_level(int step, fb_decoder **decp) {
  fb_encoder *enc = fb_encoder_new(32000, 5, 1, 0);
  fb_decoder *dec = fb_decoder_new();
  *decp = dec;
  if (!enc || !dec) {
    fb_encoder_free(enc);
    return -200.0;
  }
  fb_tone t;
  fb_tone_init(&t, 1000.0, step ? 0.05f : 0.5f);
  static uint8_t pkts[FRAMES][FB_MAX_OPUS];
  int lens[FRAMES];
  float pcm[FB_FRAME], out[FB_MAX_FRAME], fec[FB_FRAME];
  for (int f = 0; f < FRAMES; f++) {
    if (f == 30) t.amplitude = 0.5f;
    fb_tone_fill(&t, pcm, FB_FRAME);
    lens[f] = fb_encoder_encode(enc, pcm, pkts[f], FB_MAX_OPUS);
  }
  int n_fec = 0;
  for (int f = 0; f < FRAMES; f++) {
    if (f == 30)
      n_fec = fb_decoder_decode_fec(dec, pkts[31], lens[31], fec, FB_FRAME);
    else
      fb_decoder_decode(dec, pkts[f], lens[f], out, FB_MAX_FRAME);
  }
  fb_encoder_free(enc);
  CHECK(n_fec == FB_FRAME, "FEC produced %d samples", n_fec);
  return fb_tone_dbfs(fec, FB_FRAME, 1000.0, FB_RATE);
}

static void test_fec_and_plc(void) {
  fb_decoder *dec = NULL;
  const double want = 20.0 * log10(0.5);
  double db = fec_level(1, &dec);
  CHECK(fabs(db - want) < 3.0, "FEC rebuilds a tone onset: %.2f dB (source %.2f)", db, want);
  fb_decoder_free(dec);
  db = fec_level(0, &dec);
  CHECK(fabs(db - want) < 3.0, "FEC frame of a steady tone: %.2f dB (source %.2f)", db, want);
  if (!dec) return;

  /* PLC: finite audio of the requested size, the tone carried on at first. */
  float plc[FB_FRAME];
  int n_plc = fb_decoder_conceal(dec, plc, FB_FRAME);
  int finite = 1;
  for (int i = 0; i < FB_FRAME; i++) finite &= isfinite(plc[i]) ? 1 : 0;
  CHECK(n_plc == FB_FRAME && finite, "PLC gave %d finite=%d samples", n_plc, finite);
  CHECK(fb_tone_dbfs(plc, FB_FRAME, 1000.0, FB_RATE) > -20.0, "PLC continues the tone (%.1f dB)",
        fb_tone_dbfs(plc, FB_FRAME, 1000.0, FB_RATE));

  /* After a reset the decoder starts from nothing: concealment is silence. */
  fb_decoder_reset(dec);
  fb_decoder_conceal(dec, plc, FB_FRAME);
  CHECK(fb_peak(plc, FB_FRAME) < 1e-3f, "PLC after reset is silent (peak %g)",
        fb_peak(plc, FB_FRAME));
  fb_decoder_free(dec);
}

static void test_dtx(void) {
  fb_encoder *enc = fb_encoder_new(24000, 5, 0, 1);
  if (!enc) {
    CHECK(0, "dtx encoder");
    return;
  }
  float zero[FB_FRAME] = {0};
  uint8_t pkt[FB_MAX_OPUS];
  int small = 0;
  for (int f = 0; f < 50; f++)
    if (fb_encoder_encode(enc, zero, pkt, sizeof(pkt)) <= 2) small++;
  CHECK(small > 20, "DTX encoder sends almost nothing for silence (%d tiny packets of 50)", small);
  fb_encoder_free(enc);
}

int main(void) {
  test_roundtrip();
  test_fec_and_plc();
  test_dtx();
  return CHECK_DONE();
}
