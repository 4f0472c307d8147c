/*
 * test_bridge_audio — the whole bridge in one process over loopback:
 *   floor = a WAV file carrying tone A (GStreamer filesrc ! wavparse),
 *   B and C = plain-RTP participants, live, sending Opus tones B and C,
 *   L = a plain-RTP listener; PA output and recording go to files.
 * Asserts with a Goertzel tone detector that L hears A+B+C, B hears A+C and not
 * B, C hears A+B and not C, the PA file has B+C and not A, the recording has
 * A+B+C. Also reports the bridge-added latency (arrival -> downlink send).
 */
#include <stdio.h>
#include <unistd.h>

#include "audio_file.h"
#include "bridge/bridge.h"
#include "util/clock.h"
#include "check.h"
#include "codecs/levels.h"
#include "rtp_peer.h"

#define HZ_A 440.0
#define HZ_B 1000.0
#define HZ_C 1700.0
#define PRESENT -30.0 /* dB: a tone that is there */
#define ABSENT -50.0  /* dB: a tone that is not */

static double db(const float *x, long n, double hz) { return fb_tone_dbfs(x, (int)n, hz, 48000); }

int main(void) {
  gst_init(NULL, NULL);
  char dir[] = "/tmp/fb-audio-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char wav[256], pa[256], rec[256];
  snprintf(wav, sizeof wav, "%s/floor-a.wav", dir);
  snprintf(pa, sizeof pa, "%s/pa.wav", dir);
  snprintf(rec, sizeof rec, "%s/rec.ogg", dir);
  CHECK(test_write_tone_wav(wav, HZ_A, 0.25, 30) == 0, "floor WAV written");

  fb_config cfg;
  fb_config_defaults(&cfg);
  snprintf(cfg.bind, sizeof cfg.bind, "127.0.0.1");
  cfg.media_port = 0;
  snprintf(cfg.floor_pipeline, sizeof cfg.floor_pipeline, "filesrc location=%s ! wavparse", wav);
  snprintf(cfg.pa_pipeline, sizeof cfg.pa_pipeline, "wavenc ! filesink location=%s", pa);
  snprintf(cfg.rec_pipeline, sizeof cfg.rec_pipeline,
           "opusenc bitrate=64000 ! oggmux ! filesink location=%s", rec);
  char err[512];
  fb_bridge *b = fb_bridge_new(&cfg, err, sizeof err);
  CHECK(b != NULL, "bridge starts: %s", err);
  if (!b) return CHECK_DONE();
  int port = fb_bridge_media_port(b);

  rtp_peer pb, pc, pl;
  peer_init(&pb, HZ_B, 0.25f);
  peer_init(&pc, HZ_C, 0.25f);
  peer_init(&pl, 0, 0);
  CHECK(fb_bridge_add_rtp(b, "b", "127.0.0.1", pb.port, 1, 111, err, sizeof err) == 0, "add b: %s",
        err);
  CHECK(fb_bridge_add_rtp(b, "c", "127.0.0.1", pc.port, 1, 111, err, sizeof err) == 0, "add c: %s",
        err);
  CHECK(fb_bridge_add_rtp(b, "l", "127.0.0.1", pl.port, 0, 111, err, sizeof err) == 0, "add l: %s",
        err);
  CHECK(fb_bridge_add_rtp(b, "l", "127.0.0.1", 9, 0, 111, err, sizeof err) < 0,
        "duplicate name refused");

  /* 4 s of meeting, peers paced on their own 20 ms clock */
  uint64_t t = fb_now_ns();
  for (int i = 0; i < 200; i++) {
    peer_send(&pb, port);
    peer_send(&pc, port);
    t += FB_TICK_NS;
    fb_sleep_until_ns(t);
    peer_receive(&pb);
    peer_receive(&pc);
    peer_receive(&pl);
  }
  usleep(100000);
  peer_receive(&pb);
  peer_receive(&pc);
  peer_receive(&pl);

  char status[1024];
  fb_bridge_status_json(b, status, sizeof status);
  printf("status: %s\n", status);
  fb_mixer_stats st;
  fb_mixer_get_stats(fb_bridge_mixer(b), &st);
  printf(
      "bridge-added latency (uplink arrival -> downlink send): p50 %.2f ms, p99 %.2f ms, "
      "%llu samples\n",
      fb_hist_quantile(&st.latency_ns, 0.5) / 1e6, fb_hist_quantile(&st.latency_ns, 0.99) / 1e6,
      (unsigned long long)st.latency_ns.count);
  CHECK(st.latency_ns.count > 100, "latency measured");
  CHECK(st.missed_ticks == 0 || st.ticks > 100, "ticks ran");
  fb_bridge_free(b); /* EOS: PA and recording files are finalised */

  /* judge the last 2.5 s of what each peer received */
  CHECK(pl.packets >= 150 && pb.packets >= 150, "downlink packets: listener %ld, b %ld", pl.packets,
        pb.packets);
  CHECK(pl.seq_gaps == 0, "listener's stream has no sequence gaps (%ld)", pl.seq_gaps);
  long tail = 48000 * 5 / 2;
  const float *l = pl.pcm + (pl.n > tail ? pl.n - tail : 0);
  const float *xb = pb.pcm + (pb.n > tail ? pb.n - tail : 0);
  const float *xc = pc.pcm + (pc.n > tail ? pc.n - tail : 0);
  long nl = pl.n > tail ? tail : pl.n, nb = pb.n > tail ? tail : pb.n,
       nc = pc.n > tail ? tail : pc.n;
  printf("listener: A %.1f B %.1f C %.1f dB\n", db(l, nl, HZ_A), db(l, nl, HZ_B), db(l, nl, HZ_C));
  printf("b hears:  A %.1f B %.1f C %.1f dB\n", db(xb, nb, HZ_A), db(xb, nb, HZ_B),
         db(xb, nb, HZ_C));
  printf("c hears:  A %.1f B %.1f C %.1f dB\n", db(xc, nc, HZ_A), db(xc, nc, HZ_B),
         db(xc, nc, HZ_C));
  CHECK(db(l, nl, HZ_A) > PRESENT && db(l, nl, HZ_B) > PRESENT && db(l, nl, HZ_C) > PRESENT,
        "listener hears A+B+C");
  CHECK(db(xb, nb, HZ_A) > PRESENT && db(xb, nb, HZ_C) > PRESENT, "B hears A and C");
  CHECK(db(xb, nb, HZ_B) < ABSENT, "B does not hear itself (%.1f dB)", db(xb, nb, HZ_B));
  CHECK(db(xc, nc, HZ_A) > PRESENT && db(xc, nc, HZ_B) > PRESENT, "C hears A and B");
  CHECK(db(xc, nc, HZ_C) < ABSENT, "C does not hear itself (%.1f dB)", db(xc, nc, HZ_C));

  float *pcm = NULL;
  long n = test_read_audio(pa, &pcm);
  CHECK(n > 48000 * 3, "PA file holds the meeting (%ld samples)", n);
  if (n > 48000 * 3) {
    const float *x = pcm + n - tail;
    printf("PA:       A %.1f B %.1f C %.1f dB\n", db(x, tail, HZ_A), db(x, tail, HZ_B),
           db(x, tail, HZ_C));
    CHECK(db(x, tail, HZ_B) > PRESENT && db(x, tail, HZ_C) > PRESENT, "PA has B and C");
    CHECK(db(x, tail, HZ_A) < ABSENT, "PA does not have the floor (%.1f dB)", db(x, tail, HZ_A));
  }
  free(pcm);
  pcm = NULL;
  n = test_read_audio(rec, &pcm);
  CHECK(n > 48000 * 3, "recording holds the meeting (%ld samples)", n);
  if (n > 48000 * 3) {
    const float *x = pcm + n - tail;
    printf("record:   A %.1f B %.1f C %.1f dB\n", db(x, tail, HZ_A), db(x, tail, HZ_B),
           db(x, tail, HZ_C));
    CHECK(db(x, tail, HZ_A) > PRESENT && db(x, tail, HZ_B) > PRESENT && db(x, tail, HZ_C) > PRESENT,
          "recording has A+B+C");
  }
  free(pcm);

  peer_free(&pb);
  peer_free(&pc);
  peer_free(&pl);
  unlink(wav);
  unlink(pa);
  unlink(rec);
  rmdir(dir);
  return CHECK_DONE();
}
