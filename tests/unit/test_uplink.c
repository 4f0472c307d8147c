/*
 * test_uplink.c — real Opus through the uplink: a lost packet leaves no hole
 * (FEC or PLC fill it and the tone carries on; on speech, FEC really rebuilds
 * the lost frame), DTX silence comes out as exact
 * zeros flagged as silence while talk comes out flagged as sender audio, and
 * 40/60 ms packets are re-framed into seamless 20 ms ticks.
 */
#include <math.h>
#include <string.h>

#include "check.h"
#include "codecs/audio.h"
#include "codecs/levels.h"
#include "codecs/opus_codec.h"
#include "codecs/synth.h"
#include "codecs/uplink.h"

#define MS 1000000ULL
#define T0 (1000 * MS)
#define TONE_HZ 700.0
#define TONE_AMP 0.3f
#define MAXF 300

static uint8_t pkt[MAXF][FB_MAX_OPUS];
static int plen[MAXF];

/* Encode `frames` 20 ms frames of the tone (silence where silent[f]). */
static int encode_stream(int frames, int fec, int dtx, const int *silent) {
  fb_encoder *enc = fb_encoder_new(32000, 5, fec, dtx);
  if (!enc) return 0;
  fb_tone t;
  fb_tone_init(&t, TONE_HZ, TONE_AMP);
  float pcm[FB_FRAME];
  for (int f = 0; f < frames; f++) {
    fb_tone_fill(&t, pcm, FB_FRAME);
    if (silent && silent[f]) memset(pcm, 0, sizeof(pcm));
    plen[f] = fb_encoder_encode(enc, pcm, pkt[f], FB_MAX_OPUS);
  }
  fb_encoder_free(enc);
  return 1;
}

/* One lost packet. ahead = packets already buffered when a frame is due
 * (1 = each arrives just before its tick, 2 = one extra in hand). */
static void test_loss(int ahead) {
  const int frames = 100, lost = 40;
  CHECK(encode_stream(frames, 1, 0, NULL), "encoder");
  fb_uplink *up = fb_uplink_new(200);
  float out[FB_FRAME];
  int gaps = 0, quiet = 0, silent_ret = 0, k = 0;
  double loss_db = -200.0;
  fb_uplink_info loss_info = {FB_JB_NONE, 0};
  for (int j = 0; j < frames - ahead; j++) {
    uint64_t now = T0 + (uint64_t)(20 * (j + 1)) * MS;
    for (; k < frames && k < j + ahead; k++) /* packet k arrives 5 ms before tick k */
      if (k != lost)
        fb_uplink_put(up, (uint16_t)k, (uint32_t)(k * FB_FRAME), pkt[k], plen[k], now - 5 * MS);
    fb_uplink_info info;
    int r = fb_uplink_frame(up, now, out, &info);
    if (j < 5) continue; /* codec start-up */
    if (!r) silent_ret++;
    if (fb_peak(out, FB_FRAME) == 0.f) gaps++;
    double db = fb_tone_dbfs(out, FB_FRAME, TONE_HZ, FB_RATE),
           err = fabs(db - 20.0 * log10(TONE_AMP));
    /* libopus glues the frames after a loss to the concealed energy: a dip of
     * up to ~15 dB that recovers within ~4 frames. Elsewhere: within 3 dB. */
    if (err > ((j >= lost && j <= lost + 4) ? 16.0 : 3.0)) quiet++;
    if (j == lost) {
      loss_db = db;
      loss_info = info;
    }
  }
  fb_jitter_stats s;
  fb_uplink_get_stats(up, &s);
  CHECK(gaps == 0 && silent_ret == 0, "ahead %d: %d zero frames, %d frames flagged silent", ahead,
        gaps, silent_ret);
  CHECK(quiet == 0, "ahead %d: tone level off in %d frames (loss frame %.2f dB)", ahead, quiet,
        loss_db);
  CHECK(fabs(loss_db - 20.0 * log10(TONE_AMP)) < 6.0,
        "ahead %d: tone carries through the loss: %.2f dB", ahead, loss_db);
  CHECK(s.lost == 1, "ahead %d: lost %llu", ahead, (unsigned long long)s.lost);
  if (ahead >= 2)
    CHECK(s.fec == 1 && loss_info.kind == FB_JB_FEC, "FEC used for the loss (fec %llu, kind %d)",
          (unsigned long long)s.fec, loss_info.kind);
  else
    CHECK(s.plc >= 1 && loss_info.kind == FB_JB_PLC, "PLC used for the loss (plc %llu, kind %d)",
          (unsigned long long)s.plc, loss_info.kind);
  fb_uplink_free(up);
}

/* Speech through two uplinks, one losing packet `lost`; returns the SNR of the
 * lossy uplink's frame `lost` against the loss-free one (same decoder path). */
static double speech_recovery(int ahead, int *lost_io) {
  const int frames = 120;
  static float src[120 * FB_FRAME];
  fb_speech sp;
  fb_speech_init(&sp, 3);
  fb_speech_fill(&sp, src, frames * FB_FRAME);
  fb_encoder *enc = fb_encoder_new(32000, 5, 1, 0);
  for (int f = 0; f < frames; f++)
    plen[f] = fb_encoder_encode(enc, src + f * FB_FRAME, pkt[f], FB_MAX_OPUS);
  fb_encoder_free(enc);
  static float ref[120 * FB_FRAME], got[120 * FB_FRAME];
  for (int pass = 0; pass < 2; pass++) {
    fb_uplink *up = fb_uplink_new(200);
    float *dst = pass ? got : ref;
    int k = 0;
    for (int j = 0; j < frames - ahead; j++) {
      uint64_t now = T0 + (uint64_t)(20 * (j + 1)) * MS;
      for (; k < j + ahead; k++)
        if (!pass || k != *lost_io)
          fb_uplink_put(up, (uint16_t)k, (uint32_t)(k * FB_FRAME), pkt[k], plen[k], now - 5 * MS);
      fb_uplink_frame(up, now, dst + j * FB_FRAME, NULL);
      /* first pass: lose the first loud frame after the start-up */
      if (!pass && *lost_io < 0 && j >= 20 && fb_level_dbfs(dst + j * FB_FRAME, FB_FRAME) > -25.0)
        *lost_io = j;
    }
    fb_uplink_free(up);
  }
  const float *a = ref + *lost_io * FB_FRAME, *b = got + *lost_io * FB_FRAME;
  double sig = 0.0, err = 0.0;
  for (int i = 0; i < FB_FRAME; i++) {
    sig += (double)a[i] * a[i];
    err += (double)(a[i] - b[i]) * (a[i] - b[i]);
  }
  return 10.0 * log10(sig / (err + 1e-20));
}

static void test_speech_fec(void) {
  int lost_fec = -1, lost_plc = -1;
  double fec = speech_recovery(2, &lost_fec);
  double plc = speech_recovery(1, &lost_plc);
  CHECK(lost_fec >= 20 && lost_fec == lost_plc, "a loud frame was chosen (%d)", lost_fec);
  CHECK(fec >= 10.0, "speech frame rebuilt from FEC: %.1f dB SNR vs. no loss", fec);
  CHECK(fec > plc + 5.0, "FEC (%.1f dB) beats concealment (%.1f dB)", fec, plc);
}

static void test_dtx(void) {
  /* 1 s tone, 2 s silence, 1 s tone; packets of <= 2 bytes are not sent */
  const int frames = 200;
  int silent[MAXF] = {0};
  for (int f = 50; f < 150; f++) silent[f] = 1;
  CHECK(encode_stream(frames, 0, 1, silent), "dtx encoder");
  fb_uplink *up = fb_uplink_new(200);
  float out[FB_FRAME];
  uint16_t seq = 9000;
  int zero_ret = 0, zero_ret_nonzero = 0, tone_bad = 0, tone_frames = 0, sent = 0;
  for (int j = 0; j < frames; j++) {
    uint64_t now = T0 + (uint64_t)(20 * (j + 1)) * MS;
    if (plen[j] > 2) { /* DTX: nothing on the wire, sequence numbers stay contiguous */
      fb_uplink_put(up, seq++, 4242u + (uint32_t)j * FB_FRAME, pkt[j], plen[j], now - 5 * MS);
      sent++;
    }
    fb_uplink_info info;
    int r = fb_uplink_frame(up, now, out, &info);
    if (!r) {
      if (j >= 60 && j < 150) zero_ret++;
      if (fb_peak(out, FB_FRAME) != 0.f || info.kind != FB_JB_DTX) zero_ret_nonzero++;
    }
    if ((j >= 5 && j < 50) || (j >= 155 && j < frames)) {
      tone_frames++;
      double db = fb_tone_dbfs(out, FB_FRAME, TONE_HZ, FB_RATE);
      if (!r || fabs(db - 20.0 * log10(TONE_AMP)) > 3.0) tone_bad++;
    }
  }
  fb_jitter_stats s;
  fb_uplink_get_stats(up, &s);
  CHECK(sent < frames - 50, "the encoder really went into DTX (%d of %d packets sent)", sent,
        frames);
  CHECK(zero_ret >= 45, "%d silent frames flagged silence during DTX (want most of 90)", zero_ret);
  CHECK(zero_ret_nonzero == 0, "%d frames flagged silent were not exact DTX zeros",
        zero_ret_nonzero);
  CHECK(tone_bad == 0, "%d of %d talk frames missing the tone or flagged silent", tone_bad,
        tone_frames);
  CHECK(s.lost == 0 && s.late == 0, "DTX is not loss: lost %llu late %llu",
        (unsigned long long)s.lost, (unsigned long long)s.late);
  fb_uplink_free(up);
}

/* RFC 6716 3.2.5: join m same-config 20 ms packets into one code-3 VBR packet.
 * Returns its length, or 0 when their TOCs differ. */
static int join(const int *idx, int m, uint8_t *outp) {
  int n = 0;
  outp[n++] = (uint8_t)((pkt[idx[0]][0] & 0xfc) | 3);
  outp[n++] = (uint8_t)(0x80 | m);
  for (int i = 0; i < m; i++)
    if ((pkt[idx[i]][0] & 0xfc) != (pkt[idx[0]][0] & 0xfc) || (pkt[idx[i]][0] & 3) != 0) return 0;
  for (int i = 0; i < m - 1; i++) {
    int len = plen[idx[i]] - 1;
    if (len < 252) {
      outp[n++] = (uint8_t)len;
    } else {
      outp[n++] = (uint8_t)(252 + (len & 3));
      outp[n++] = (uint8_t)((len - 252 - (len & 3)) >> 2);
    }
  }
  for (int i = 0; i < m; i++) {
    memcpy(outp + n, pkt[idx[i]] + 1, (size_t)(plen[idx[i]] - 1));
    n += plen[idx[i]] - 1;
  }
  return n;
}

static void test_long_packets(int m) {
  const int frames = 150;
  CHECK(encode_stream(frames, 0, 0, NULL), "encoder");
  fb_uplink *up = fb_uplink_new(200);
  float out[FB_FRAME], all[MAXF * FB_FRAME];
  uint8_t big[FB_MAX_OPUS * 3];
  uint16_t seq = 65534;
  int bad = 0, r_bad = 0, max_lat = 0;
  for (int j = 0; j < frames; j++) {
    uint64_t now = T0 + (uint64_t)(20 * (j + 1)) * MS;
    if (j % m == m - 1) { /* the packet with frames j-m+1..j is sent once all are captured */
      int idx[3], first = j - m + 1;
      for (int i = 0; i < m; i++) idx[i] = first + i;
      int len = join(idx, m, big);
      if (len > 0 && len <= FB_MAX_OPUS && fb_opus_packet_samples(big, len) == m * FB_FRAME) {
        fb_uplink_put(up, seq++, (uint32_t)(first * FB_FRAME), big, len, now - 15 * MS);
      } else { /* mode switch inside the group: send them separately */
        for (int i = 0; i < m; i++)
          fb_uplink_put(up, seq++, (uint32_t)((first + i) * FB_FRAME), pkt[first + i],
                        plen[first + i], now - 15 * MS);
        bad += 1000; /* should not happen with a steady tone */
      }
    }
    fb_uplink_info info;
    int r = fb_uplink_frame(up, now, out, &info);
    memcpy(all + j * FB_FRAME, out, sizeof(out));
    if (j >= m + 5) {
      if (!r) r_bad++;
      if (fabs(fb_tone_dbfs(out, FB_FRAME, TONE_HZ, FB_RATE) - 20.0 * log10(TONE_AMP)) > 2.0) bad++;
      int lat = info.arrival_ns ? (int)((now - info.arrival_ns) / MS) : -1;
      if (lat > max_lat) max_lat = lat;
    }
  }
  /* Seamless: a code-3 packet decodes exactly like its frames one by one, so
   * the output must equal a direct decode of the 20 ms packets, some whole
   * number of frames later. */
  static float ref[MAXF * FB_FRAME];
  fb_decoder *dec = fb_decoder_new();
  for (int f = 0; f < frames; f++)
    fb_decoder_decode(dec, pkt[f], plen[f], ref + f * FB_FRAME, FB_FRAME);
  fb_decoder_free(dec);
  double best = 1e9;
  int best_d = -1;
  for (int d = 0; d <= m + 1; d++) {
    double worst = 0.0;
    for (int i = (m + 5) * FB_FRAME; i < (frames - m - 2) * FB_FRAME; i++)
      if (fabs(all[i] - ref[i - d * FB_FRAME]) > worst)
        worst = fabs(all[i] - ref[i - d * FB_FRAME]);
    if (worst < best) {
      best = worst;
      best_d = d;
    }
  }
  fb_jitter_stats s;
  fb_uplink_get_stats(up, &s);
  CHECK(bad == 0 && r_bad == 0, "%d ms packets: %d frames off-level, %d flagged silent", 20 * m,
        bad, r_bad);
  CHECK(best < 1e-6, "%d ms packets: output = direct decode %d frames later (max diff %g)", 20 * m,
        best_d, best);
  CHECK(s.lost == 0 && s.plc == 0 && s.played > 0, "%d ms packets: lost %llu plc %llu", 20 * m,
        (unsigned long long)s.lost, (unsigned long long)s.plc);
  CHECK(max_lat >= 0 && max_lat <= 20 * m + 15, "%d ms packets: arrival-to-tick up to %d ms",
        20 * m, max_lat);
  fb_uplink_free(up);
}

static void test_garbage(void) {
  fb_uplink *up = fb_uplink_new(200);
  uint8_t bad[3] = {0x03, 0xff, 0x00}; /* code 3 with 63 frames: too long */
  fb_uplink_put(up, 1, 960, bad, 3, T0);
  fb_uplink_put(up, 2, 1920, bad, 0, T0);
  fb_uplink_put(up, 3, 2880, NULL, 5, T0);
  float out[FB_FRAME];
  fb_uplink_info info;
  int r = fb_uplink_frame(up, T0 + 20 * MS, out, &info);
  fb_jitter_stats s;
  fb_uplink_get_stats(up, &s);
  CHECK(r == 0 && info.kind == FB_JB_NONE && fb_peak(out, FB_FRAME) == 0.f,
        "garbage plays nothing");
  CHECK(s.discarded == 3 && s.received == 0, "discarded %llu", (unsigned long long)s.discarded);

  /* a stream, then reset: nothing of it survives */
  encode_stream(10, 0, 0, NULL);
  for (int k = 0; k < 5; k++)
    fb_uplink_put(up, (uint16_t)k, (uint32_t)(k * FB_FRAME), pkt[k], plen[k], T0);
  r = fb_uplink_frame(up, T0 + 20 * MS, out, NULL);
  CHECK(r == 1, "stream plays");
  fb_uplink_reset(up);
  r = fb_uplink_frame(up, T0 + 40 * MS, out, &info);
  CHECK(r == 0 && fb_peak(out, FB_FRAME) == 0.f && info.arrival_ns == 0, "after reset: silence");
  fb_uplink_free(up);
  fb_uplink_free(NULL);
}

int main(void) {
  test_loss(2);
  test_loss(1);
  test_speech_fec();
  test_dtx();
  test_long_packets(2);
  test_long_packets(3);
  test_garbage();
  return CHECK_DONE();
}
