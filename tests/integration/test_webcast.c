/*
 * test_webcast — the public webcast: with [webcast] dir set, the bridge
 * writes a live HLS playlist of the full mix. After a few seconds the
 * playlist lists segments, and a decoded segment carries the floor tone and
 * a live remote speaker's tone (the webcast is the full mix).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audio_file.h"
#include "bridge/bridge.h"
#include "util/clock.h"
#include "check.h"
#include "codecs/levels.h"
#include "rtp_peer.h"

int main(void) {
  gst_init(NULL, NULL);
  char dir[] = "/tmp/fb-webcast-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char hls[300], playlist[350];
  snprintf(hls, sizeof hls, "%s/hls", dir);
  snprintf(playlist, sizeof playlist, "%s/index.m3u8", hls);

  fb_config cfg;
  fb_config_defaults(&cfg);
  snprintf(cfg.bind, sizeof cfg.bind, "127.0.0.1");
  cfg.media_port = 0;
  snprintf(cfg.floor_pipeline, sizeof cfg.floor_pipeline, "builtin:tone:440");
  snprintf(cfg.webcast_dir, sizeof cfg.webcast_dir, "%s", hls);
  char err[512];
  fb_bridge *b = fb_bridge_new(&cfg, err, sizeof err);
  CHECK(b != NULL, "bridge with webcast starts: %s", err);
  if (!b) return CHECK_DONE();
  rtp_peer sp;
  peer_init(&sp, 1000, 0.25f);
  fb_bridge_add_rtp(b, "speaker", "127.0.0.1", sp.port, 1, 111, err, sizeof err);
  uint64_t t = fb_now_ns();
  for (int i = 0; i < 350; i++) { /* 7 s */
    peer_send(&sp, fb_bridge_media_port(b));
    t += FB_TICK_NS;
    fb_sleep_until_ns(t);
    peer_receive(&sp);
  }
  FILE *f = fopen(playlist, "r");
  CHECK(f != NULL, "playlist %s exists", playlist);
  char line[256], seg[256] = "";
  int segments = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (strstr(line, ".ts")) {
      segments++;
      line[strcspn(line, "\r\n")] = 0;
      if (segments == 2) snprintf(seg, sizeof seg, "%s", line);
    }
  }
  if (f) fclose(f);
  CHECK(segments >= 2, "playlist lists %d segments", segments);
  fb_bridge_free(b);
  peer_free(&sp);
  if (seg[0]) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", hls, seg);
    float *pcm = NULL;
    long n = test_read_audio(path, &pcm);
    CHECK(n > 48000, "segment %s decodes (%ld samples)", seg, n);
    if (n > 48000) {
      double a = fb_tone_dbfs(pcm, (int)n, 440, 48000), s = fb_tone_dbfs(pcm, (int)n, 1000, 48000);
      printf("webcast segment: floor 440 Hz %.1f dB, speaker 1000 Hz %.1f dB\n", a, s);
      CHECK(a > -30 && s > -30, "the webcast carries the floor and the live speaker");
    }
    free(pcm);
  }
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "cleaned up");
  return CHECK_DONE();
}
