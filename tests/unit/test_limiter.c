/*
 * test_limiter.c — the limiter never lets a sample reach full scale, leaves
 * quiet signals bit-exact, and recovers after a loud burst.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codecs/audio.h"
#include "codecs/levels.h"
#include "codecs/limiter.h"
#include "codecs/synth.h"

static void test_eight_speakers(void) {
  const double freqs[8] = {110, 220, 330, 440, 550, 660, 770, 880};
  fb_tone tones[8];
  for (int k = 0; k < 8; k++) {
    fb_tone_init(&tones[k], freqs[k], 1.0f);
    tones[k].phase = 0.25; /* cosines: all at +1.0 at t=0, sum 8.0 */
  }
  fb_limiter lim;
  fb_limiter_init(&lim, 0.891f);
  float in[FB_FRAME], part[FB_FRAME], out[FB_FRAME];
  float max_in = 0.f, max_out = 0.f;
  int at_one = 0, non_finite = 0;
  for (int f = 0; f < 100; f++) { /* 2 s */
    memset(in, 0, sizeof(in));
    for (int k = 0; k < 8; k++) {
      fb_tone_fill(&tones[k], part, FB_FRAME);
      for (int i = 0; i < FB_FRAME; i++) in[i] += part[i];
    }
    if (fb_peak(in, FB_FRAME) > max_in) max_in = fb_peak(in, FB_FRAME);
    fb_limiter_process(&lim, in, out, FB_FRAME);
    for (int i = 0; i < FB_FRAME; i++) {
      if (!isfinite(out[i])) non_finite++;
      if (out[i] == 1.0f || out[i] == -1.0f) at_one++;
    }
    if (fb_peak(out, FB_FRAME) > max_out) max_out = fb_peak(out, FB_FRAME);
  }
  CHECK(max_in > 7.9f, "input really peaks at ~8.0 (%f)", max_in);
  CHECK(max_out < 1.0f, "max |out| %.9f < 1.0", max_out);
  CHECK(at_one == 0 && non_finite == 0, "%d samples at +-1.0, %d non-finite", at_one, non_finite);
  CHECK(max_out > 0.8f, "the limited mix still uses the range (%f)", max_out);

  /* In-place processing, absurd and non-finite input. */
  float x[8] = {1e30f, -1e30f, INFINITY, -INFINITY, NAN, 3.f, -0.5f, 0.f};
  fb_limiter_init(&lim, 0.891f);
  fb_limiter_process(&lim, x, x, 8);
  for (int i = 0; i < 8; i++) CHECK(isfinite(x[i]) && fabsf(x[i]) < 1.0f, "x[%d] = %g", i, x[i]);
}

static void test_quiet_passthrough(void) {
  fb_speech sp;
  fb_speech_init(&sp, 7);
  fb_limiter lim;
  fb_limiter_init(&lim, 0.891f);
  float in[FB_FRAME], out[FB_FRAME];
  int diffs = 0;
  for (int f = 0; f < 200; f++) {
    fb_speech_fill(&sp, in, FB_FRAME);
    float pk = fb_peak(in, FB_FRAME);
    if (pk > 0.f)
      for (int i = 0; i < FB_FRAME; i++) in[i] *= 0.1f / 0.5f; /* speech peaks ~0.5 -> ~0.1 */
    fb_limiter_process(&lim, in, out, FB_FRAME);
    if (memcmp(in, out, sizeof(in)) != 0) diffs++;
  }
  CHECK(diffs == 0, "-20 dBFS speech is bit-exact through the limiter (%d frames differ)", diffs);

  fb_tone t;
  fb_tone_init(&t, 1000.0, 0.1f);
  fb_limiter_init(&lim, 0.891f);
  for (int f = 0; f < 50; f++) {
    fb_tone_fill(&t, in, FB_FRAME);
    fb_limiter_process(&lim, in, out, FB_FRAME);
    if (memcmp(in, out, sizeof(in)) != 0) diffs++;
  }
  CHECK(diffs == 0, "-20 dBFS tone is bit-exact (%d frames differ)", diffs);
  CHECK(lim.gain == 1.0f, "gain stays exactly 1.0, got %.9f", lim.gain);
}

static void test_recovery(void) {
  fb_limiter lim;
  fb_limiter_init(&lim, 0.891f);
  fb_tone t;
  float in[FB_FRAME], out[FB_FRAME];
  fb_tone_init(&t, 300.0, 4.0f); /* +12 dBFS burst, 200 ms */
  for (int f = 0; f < 10; f++) {
    fb_tone_fill(&t, in, FB_FRAME);
    fb_limiter_process(&lim, in, out, FB_FRAME);
    CHECK(fb_peak(out, FB_FRAME) < 1.0f, "burst frame %d peak %f", f, fb_peak(out, FB_FRAME));
  }
  CHECK(lim.gain < 0.3f, "gain rode down during the burst: %f", lim.gain);
  double out_db = fb_tone_dbfs(out, FB_FRAME, 300.0, FB_RATE);
  CHECK(out_db > -3.0 && out_db < 0.0, "burst held near the threshold: %.2f dB", out_db);

  fb_tone_init(&t, 300.0, 0.1f);
  int frames_to_recover = -1;
  for (int f = 0; f < 50; f++) { /* 1 s */
    fb_tone_fill(&t, in, FB_FRAME);
    fb_limiter_process(&lim, in, out, FB_FRAME);
    if (frames_to_recover < 0 && lim.gain > 0.99f) frames_to_recover = f + 1;
  }
  CHECK(frames_to_recover > 0, "gain recovered above 0.99 within 1 s (gain %f)", lim.gain);
  CHECK(frames_to_recover > 5, "release is smooth, not instant (%d frames)", frames_to_recover);
  for (int f = 0; f < 50; f++) { /* 1 s more: fully released, bit-exact again */
    fb_tone_fill(&t, in, FB_FRAME);
    fb_limiter_process(&lim, in, out, FB_FRAME);
  }
  CHECK(lim.gain == 1.0f && memcmp(in, out, sizeof(in)) == 0,
        "2 s after the burst the gain is exactly 1 (%.9f) and quiet audio bit-exact", lim.gain);
  /* No step in the release: consecutive frames' levels differ by < 1 dB. */
  fb_limiter_init(&lim, 0.891f);
  fb_tone_init(&t, 300.0, 2.0f);
  fb_tone_fill(&t, in, FB_FRAME);
  fb_limiter_process(&lim, in, out, FB_FRAME);
  fb_tone_init(&t, 300.0, 0.3f);
  double prev = -200.0, worst = 0.0;
  for (int f = 0; f < 50; f++) {
    fb_tone_fill(&t, in, FB_FRAME);
    fb_limiter_process(&lim, in, out, FB_FRAME);
    double db = fb_level_dbfs(out, FB_FRAME);
    if (f > 0 && fabs(db - prev) > worst) worst = fabs(db - prev);
    prev = db;
  }
  CHECK(worst < 1.5, "release steps at most %.2f dB per frame", worst);
}

int main(void) {
  test_eight_speakers();
  test_quiet_passthrough();
  test_recovery();
  return CHECK_DONE();
}
