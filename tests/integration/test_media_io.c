/*
 * test_media_io.c — the GStreamer edges, asserted on audio.
 *
 * Floor input read like the mixer does (one 20 ms frame per 20 ms tick):
 *   1. a 44.1 kHz stereo WAV with a 700 Hz tone through "filesrc ! decodebin":
 *      the tone arrives at 48 kHz mono, few underruns;
 *   2. at the file's end (EOS): FLOOR_LOST, silence without blocking, then the
 *      restart brings the tone back (FLOOR_STARTED again, restarts counted);
 *   3. builtin:tone:1000 (paced in real time: nothing dropped) and
 *      builtin:speech (signal present);
 *   4. a source that errors at start: LOST repeatedly with doubling delays;
 *   5. a source that stalls (raw audio from a pipe we stop writing): LOST "no
 *      audio", and audio again once we write more.
 * Outputs:
 *   6. 2 s of 440 Hz into "wavenc ! filesink": the WAV (parsed by hand, header
 *      finalised by EOS) is 2 s of 440 Hz; "opusenc ! oggmux ! filesink":
 *      an Ogg file that decodes back to 440 Hz; an output that cannot open its
 *      file: OUTPUT_ERROR, pushes never block.
 *   7. Descriptions that do not parse are refused with a message; every
 *      pipeline in configs/ (every .conf) builds; floor-file.conf and webcast.conf run.
 */
#include "util/clock.h"
#include "media/media_io.h"
#include "codecs/levels.h"
#include "codecs/synth.h"
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RATE 48000
#define FRAME 960
#define TICK_NS 20000000ull

/* ---------------------------------------------------------------- events */

#define MAX_EV 64
static GMutex ev_lock;
static struct {
  int count;
  uint64_t t[MAX_EV];
  char last[512];
} evs[4];

static void on_event(void *ud, fb_media_event ev, const char *detail) {
  g_mutex_lock(&ev_lock);
  if (ev >= 1 && ev <= 3) {
    if (evs[ev].count < MAX_EV) evs[ev].t[evs[ev].count] = fb_now_ns();
    evs[ev].count++;
    snprintf(evs[ev].last, sizeof evs[ev].last, "%s", detail ? detail : "");
  }
  g_mutex_unlock(&ev_lock);
}

static int ev_count(fb_media_event ev) {
  g_mutex_lock(&ev_lock);
  int n = evs[ev].count;
  g_mutex_unlock(&ev_lock);
  return n;
}

static void ev_last(fb_media_event ev, char *out, size_t len) {
  g_mutex_lock(&ev_lock);
  snprintf(out, len, "%s", evs[ev].last);
  g_mutex_unlock(&ev_lock);
}

static double ev_time_ms(fb_media_event ev, int i) {
  g_mutex_lock(&ev_lock);
  double t = i < MAX_EV ? (double)evs[ev].t[i] / 1e6 : 0;
  g_mutex_unlock(&ev_lock);
  return t;
}

static void ev_reset(void) {
  g_mutex_lock(&ev_lock);
  memset(evs, 0, sizeof evs);
  g_mutex_unlock(&ev_lock);
}

/* ---------------------------------------------------------------- pacing */

static uint64_t next_tick;
static uint64_t max_read_ns, max_push_ns; /* slowest calls seen: they must never block */

static void pace_start(void) { next_tick = fb_now_ns(); }
static void pace(void) {
  next_tick += TICK_NS;
  fb_sleep_until_ns(next_tick);
}

static int read_frame(fb_floor_input *in, float *buf) {
  uint64_t t0 = fb_now_ns();
  int got = fb_floor_input_read(in, buf, FRAME);
  uint64_t dt = fb_now_ns() - t0;
  if (dt > max_read_ns) max_read_ns = dt;
  return got;
}

static void push_frame(fb_output *out, const float *pcm) {
  uint64_t t0 = fb_now_ns();
  fb_output_push(out, pcm, FRAME);
  uint64_t dt = fb_now_ns() - t0;
  if (dt > max_push_ns) max_push_ns = dt;
}

/* Read a frame per tick until `count` events of kind ev were seen. */
static int read_until_event(fb_floor_input *in, fb_media_event ev, int count, int timeout_ms) {
  float buf[FRAME];
  for (int i = 0; i < timeout_ms / 20; i++) {
    if (ev_count(ev) >= count) return 1;
    read_frame(in, buf);
    pace();
  }
  return ev_count(ev) >= count;
}

/* Read for ms; count frames where hz is at least min_db (a frame is judged
 * only from skip_ms on). */
static int frames_with_tone(fb_floor_input *in, int ms, int skip_ms, double hz, double min_db,
                            int *judged) {
  float buf[FRAME];
  int hits = 0;
  *judged = 0;
  for (int i = 0; i < ms / 20; i++) {
    read_frame(in, buf);
    if (i * 20 >= skip_ms) {
      (*judged)++;
      if (fb_tone_dbfs(buf, FRAME, hz, RATE) >= min_db) hits++;
    }
    pace();
  }
  return hits;
}

/* ---------------------------------------------------------------- files */

static char tmpdir[256];

static int run_to_eos(const char *launch) {
  GError *e = NULL;
  GstElement *p = gst_parse_launch(launch, &e);
  if (!p || e) {
    fprintf(stderr, "cannot build '%s': %s\n", launch, e ? e->message : "?");
    return -1;
  }
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m =
      gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  int ok = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return ok ? 0 : -1;
}

/* Decode any audio file to 48 kHz mono float; *n samples, NULL on failure. */
static float *decode_file(const char *path, int *n) {
  char launch[1024];
  snprintf(launch, sizeof launch,
           "filesrc location=%s ! decodebin ! audioconvert ! audioresample ! "
           "audio/x-raw,format=F32LE,rate=48000,channels=1 ! appsink name=s sync=false",
           path);
  GstElement *p = gst_parse_launch(launch, NULL);
  if (!p) return NULL;
  GstElement *s = gst_bin_get_by_name(GST_BIN(p), "s");
  gst_element_set_state(p, GST_STATE_PLAYING);
  float *pcm = NULL;
  *n = 0;
  GstSample *smp;
  while ((smp = gst_app_sink_try_pull_sample(GST_APP_SINK(s), 3 * GST_SECOND))) {
    GstMapInfo m;
    GstBuffer *b = gst_sample_get_buffer(smp);
    if (gst_buffer_map(b, &m, GST_MAP_READ)) {
      int k = (int)(m.size / sizeof(float));
      pcm = realloc(pcm, (size_t)(*n + k) * sizeof(float));
      memcpy(pcm + *n, m.data, (size_t)k * sizeof(float));
      *n += k;
      gst_buffer_unmap(b, &m);
    }
    gst_sample_unref(smp);
  }
  gst_object_unref(s);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return pcm;
}

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

static uint32_t le32(const unsigned char *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Parse a WAV by hand: checks that the header sizes were finalised (they match
 * the file), 16-bit PCM or 32-bit float. Returns channel 0 as float. */
static float *read_wav(const char *path, int *n, int *rate, int *channels, const char **why) {
  long size = file_size(path);
  *n = 0;
  *why = "cannot read";
  if (size < 44) return NULL;
  unsigned char *d = malloc((size_t)size);
  FILE *f = fopen(path, "rb");
  size_t got = fread(d, 1, (size_t)size, f);
  fclose(f);
  float *pcm = NULL;
  int fmt = 0, bits = 0;
  *why = "not RIFF/WAVE";
  if (got != (size_t)size || memcmp(d, "RIFF", 4) || memcmp(d + 8, "WAVE", 4)) goto out;
  *why = "RIFF size not finalised";
  if (le32(d + 4) + 8 != (uint32_t)size) goto out;
  for (long pos = 12; pos + 8 <= size;) {
    uint32_t len = le32(d + pos + 4);
    const unsigned char *body = d + pos + 8;
    if (!memcmp(d + pos, "fmt ", 4) && len >= 16) {
      fmt = le16(body);
      *channels = le16(body + 2);
      *rate = (int)le32(body + 4);
      bits = le16(body + 14);
      if (fmt == 0xFFFE && len >= 26) fmt = le16(body + 24); /* extensible: sub-format */
    } else if (!memcmp(d + pos, "data", 4)) {
      *why = "data size not finalised or format unknown";
      if (pos + 8 + (long)len > size || !fmt || *channels < 1) goto out;
      int bps = bits / 8, frames = (int)(len / (uint32_t)(bps * *channels));
      if (!((fmt == 1 && bits == 16) || (fmt == 3 && bits == 32))) goto out;
      pcm = malloc((size_t)(frames + 1) * sizeof(float));
      for (int i = 0; i < frames; i++) {
        const unsigned char *s = body + (size_t)i * (size_t)(bps * *channels);
        if (fmt == 1) {
          pcm[i] = (int16_t)le16(s) / 32768.0f;
        } else {
          uint32_t u = le32(s);
          memcpy(&pcm[i], &u, 4);
        }
      }
      *n = frames;
      *why = NULL;
      goto out;
    }
    pos += 8 + len + (len & 1);
  }
  *why = "no data chunk";
out:
  free(d);
  return pcm;
}

/* ---------------------------------------------------------------- tests */

static void test_file_floor(fb_gst *g, const char *wav) {
  ev_reset();
  char desc[1024], err[256] = "";
  snprintf(desc, sizeof desc, "filesrc location=%s ! decodebin", wav);
  fb_floor_input *in = fb_floor_input_new(g, desc, 400, 1000, err, sizeof err);
  CHECK(in, "file floor input: %s", err);
  if (!in) return;
  float buf[FRAME];
  uint64_t under, restarts, dropped;
  int got = read_frame(in, buf);
  fb_floor_input_stats(in, &under, &restarts, &dropped);
  CHECK(got == 0 && under == 0, "before first audio: read %d, underruns %llu (want 0, 0)", got,
        (unsigned long long)under);

  /* 1. Two seconds; from 500 ms on the 700 Hz tone is in (nearly) every frame. */
  pace_start();
  int judged, hits = frames_with_tone(in, 2000, 500, 700, -20, &judged);
  fb_floor_input_stats(in, &under, &restarts, &dropped);
  printf("file floor: 700 Hz in %d/%d frames, underruns %llu, dropped %llu\n", hits, judged,
         (unsigned long long)under, (unsigned long long)dropped);
  CHECK(hits >= judged * 3 / 4, "700 Hz in only %d of %d frames", hits, judged);
  /* a handful of late reads on a loaded machine is noise; a broken ring
   * underruns on most frames (the tone check above would fail too) */
  CHECK(under <= 15, "%llu underruns while a file plays", (unsigned long long)under);
  CHECK(ev_count(FB_EV_FLOOR_STARTED) == 1, "FLOOR_STARTED x%d", ev_count(FB_EV_FLOOR_STARTED));

  /* 2. The file (3 s) ends: LOST, silence without blocking, then the restart. */
  CHECK(read_until_event(in, FB_EV_FLOOR_LOST, 1, 3000), "no FLOOR_LOST after the file ended");
  char last[512];
  ev_last(FB_EV_FLOOR_LOST, last, sizeof last);
  CHECK(strstr(last, "end of stream"), "LOST detail '%s'", last);
  for (int i = 0; i < 5; i++) { /* drain what was buffered before EOS */
    read_frame(in, buf);
    pace();
  }
  int silent = 1;
  uint64_t under_lost;
  fb_floor_input_stats(in, &under_lost, NULL, NULL);
  for (int i = 0; i < 5; i++) { /* 100..200 ms after LOST, restart at 400 ms */
    got = read_frame(in, buf);
    if (got != 0 || fb_peak(buf, FRAME) != 0.0f) silent = 0;
    pace();
  }
  CHECK(silent, "reads while the floor is lost must give silence");
  fb_floor_input_stats(in, &under, NULL, NULL);
  CHECK(under == under_lost, "underruns counted while lost: %llu -> %llu",
        (unsigned long long)under_lost, (unsigned long long)under);
  CHECK(read_until_event(in, FB_EV_FLOOR_STARTED, 2, 3000), "no FLOOR_STARTED after restart");
  hits = frames_with_tone(in, 600, 100, 700, -20, &judged);
  fb_floor_input_stats(in, &under, &restarts, &dropped);
  CHECK(restarts >= 1, "restarts %llu", (unsigned long long)restarts);
  CHECK(hits >= judged * 8 / 10, "after restart 700 Hz in only %d of %d frames", hits, judged);
  CHECK(under <= 30, "%llu underruns over both sessions", (unsigned long long)under);
  fb_floor_input_free(in);
}

static void test_builtin_floor(fb_gst *g) {
  char err[256] = "";
  fb_floor_input *in = fb_floor_input_new(g, "builtin:tone:1000", 200, 1000, err, sizeof err);
  CHECK(in, "builtin:tone:1000: %s", err);
  if (in) {
    pace_start();
    int judged, hits = frames_with_tone(in, 1000, 200, 1000, -20, &judged);
    float buf[FRAME];
    read_frame(in, buf);
    double other = fb_tone_dbfs(buf, FRAME, 700, RATE);
    uint64_t under, restarts, dropped;
    fb_floor_input_stats(in, &under, &restarts, &dropped);
    printf("builtin tone: 1 kHz in %d/%d frames, 700 Hz %.1f dB, underruns %llu, dropped %llu\n",
           hits, judged, other, (unsigned long long)under, (unsigned long long)dropped);
    CHECK(hits >= judged * 9 / 10, "1 kHz in only %d of %d frames", hits, judged);
    CHECK(other < -40, "700 Hz at %.1f dB in a 1 kHz tone", other);
    /* a source running ahead of real time would overflow the ring steadily
     * (seconds of audio dropped); a reader delayed by a loaded machine drops
     * at most a few frames once */
    CHECK(dropped < 48000 / 2, "builtin source ran ahead of real time: %llu samples dropped",
          (unsigned long long)dropped);
    CHECK(under <= 15, "%llu underruns from the builtin tone", (unsigned long long)under);
    fb_floor_input_free(in);
  }

  /* builtin:speech: only meaningful if the synth itself produces sound. */
  fb_speech sp;
  static float ref[RATE];
  fb_speech_init(&sp, 7);
  fb_speech_fill(&sp, ref, RATE);
  double ref_db = fb_level_dbfs(ref, RATE);
  CHECK(ref_db > -40, "codecs/synth speech is silent (%.1f dBFS)", ref_db);
  if (ref_db <= -40) return;
  in = fb_floor_input_new(g, "builtin:speech", 200, 1000, err, sizeof err);
  CHECK(in, "builtin:speech: %s", err);
  if (!in) return;
  static float got[RATE];
  float buf[FRAME];
  int n = 0;
  pace_start();
  for (int i = 0; i < 65; i++) { /* 1.3 s: the last second counts */
    read_frame(in, buf);
    if (i >= 15) {
      memcpy(got + n, buf, sizeof buf);
      n += FRAME;
    }
    pace();
  }
  double db = fb_level_dbfs(got, n);
  printf("builtin speech: %.1f dBFS over 1 s (synth direct %.1f)\n", db, ref_db);
  CHECK(db > -40, "builtin:speech level %.1f dBFS", db);
  fb_floor_input_free(in);
}

static void test_error_floor(fb_gst *g) {
  ev_reset();
  char err[256] = "";
  fb_floor_input *in = fb_floor_input_new(g, "filesrc location=/nonexistent/floor.wav ! decodebin",
                                          100, 1000, err, sizeof err);
  CHECK(in, "a missing file must parse (it fails when started): %s", err);
  if (!in) return;
  float buf[FRAME];
  int nonzero = 0;
  pace_start();
  for (int i = 0; i < 80; i++) { /* 1.6 s: fails at ~0, 100, 300, 700, 1500 ms */
    if (read_frame(in, buf) != 0) nonzero++;
    pace();
  }
  uint64_t under, restarts, dropped;
  fb_floor_input_stats(in, &under, &restarts, &dropped);
  int lost = ev_count(FB_EV_FLOOR_LOST);
  printf("error floor: %d LOST events, %llu restarts\n", lost, (unsigned long long)restarts);
  CHECK(lost >= 3 && restarts >= 2, "LOST x%d, restarts %llu", lost, (unsigned long long)restarts);
  CHECK(nonzero == 0 && under == 0, "reads gave audio %d times, underruns %llu", nonzero,
        (unsigned long long)under);
  if (lost >= 4) {
    double gap1 = ev_time_ms(FB_EV_FLOOR_LOST, 1) - ev_time_ms(FB_EV_FLOOR_LOST, 0);
    double gap3 = ev_time_ms(FB_EV_FLOOR_LOST, 3) - ev_time_ms(FB_EV_FLOOR_LOST, 2);
    /* scheduled 100, 200, 400 ms; scheduling delay adds to each gap, so ask
     * for clear growth rather than an exact ratio */
    CHECK(gap3 > 1.5 * gap1, "restart delay must grow: gaps %.0f then %.0f ms", gap1, gap3);
  }
  char last[512];
  ev_last(FB_EV_FLOOR_LOST, last, sizeof last);
  CHECK(strstr(last, "floor input lost"), "LOST detail '%s'", last);
  fb_floor_input_free(in);
}

static void write_tone(int fd, double hz, int samples) {
  fb_tone t;
  fb_tone_init(&t, hz, 0.5f);
  float *pcm = malloc((size_t)samples * sizeof(float));
  fb_tone_fill(&t, pcm, samples);
  ssize_t w = write(fd, pcm, (size_t)samples * sizeof(float));
  CHECK(w == (ssize_t)(samples * sizeof(float)), "pipe write %zd", w);
  free(pcm);
}

static void test_stall_floor(fb_gst *g) {
  ev_reset();
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe");
  char desc[256], err[256] = "";
  snprintf(desc, sizeof desc,
           "fdsrc fd=%d ! rawaudioparse use-sink-caps=false format=pcm pcm-format=f32le "
           "sample-rate=48000 num-channels=1",
           fds[0]);
  write_tone(fds[1], 500, RATE * 3 / 10); /* 0.3 s, then nothing */
  fb_floor_input *in = fb_floor_input_new(g, desc, 200, 300, err, sizeof err);
  CHECK(in, "stall floor: %s", err);
  if (in) {
    pace_start();
    CHECK(read_until_event(in, FB_EV_FLOOR_STARTED, 1, 2000), "pipe floor never started");
    int judged, hits = frames_with_tone(in, 200, 0, 500, -20, &judged);
    CHECK(hits >= judged / 2, "500 Hz in %d of %d frames", hits, judged);
    CHECK(read_until_event(in, FB_EV_FLOOR_LOST, 1, 2000), "no FLOOR_LOST on a stall");
    char last[512];
    ev_last(FB_EV_FLOOR_LOST, last, sizeof last);
    CHECK(strstr(last, "no audio"), "stall LOST detail '%s'", last);
    write_tone(fds[1], 500, RATE * 3 / 10);
    CHECK(read_until_event(in, FB_EV_FLOOR_STARTED, 2, 2000), "no audio after the stall");
    hits = frames_with_tone(in, 160, 0, 500, -20, &judged);
    uint64_t under, restarts, dropped;
    fb_floor_input_stats(in, &under, &restarts, &dropped);
    printf("stall floor: restarts %llu, underruns %llu, 500 Hz in %d/%d frames\n",
           (unsigned long long)restarts, (unsigned long long)under, hits, judged);
    CHECK(restarts >= 1, "restarts %llu", (unsigned long long)restarts);
    CHECK(hits >= judged / 2, "after the stall 500 Hz in %d of %d frames", hits, judged);
    fb_floor_input_free(in);
  }
  close(fds[0]);
  close(fds[1]);
}

static void test_outputs(fb_gst *g) {
  ev_reset();
  char wav[600], ogg[600], desc[800], err[256] = "";
  snprintf(wav, sizeof wav, "%s/out.wav", tmpdir);
  snprintf(ogg, sizeof ogg, "%s/out.ogg", tmpdir);
  snprintf(desc, sizeof desc, "wavenc ! filesink location=%s", wav);
  fb_output *ow = fb_output_new(g, "wav", desc, err, sizeof err);
  CHECK(ow, "wav output: %s", err);
  snprintf(desc, sizeof desc, "opusenc ! oggmux ! filesink location=%s", ogg);
  fb_output *oo = fb_output_new(g, "ogg", desc, err, sizeof err);
  CHECK(oo, "ogg output: %s", err);
  fb_output *bad =
      fb_output_new(g, "bad", "wavenc ! filesink location=/nonexistent/dir/x.wav", err, sizeof err);
  CHECK(bad, "an unwritable location parses (fails when started): %s", err);
  if (!ow || !oo || !bad) return;

  fb_tone t;
  fb_tone_init(&t, 440, 0.5f);
  float pcm[FRAME];
  pace_start();
  for (int i = 0; i < 100; i++) { /* 2 s to wav, 1 s to ogg, all to the failing one */
    fb_tone_fill(&t, pcm, FRAME);
    push_frame(ow, pcm);
    if (oo) push_frame(oo, pcm);
    push_frame(bad, pcm);
    if (i == 49) {
      fb_output_free(oo);
      oo = NULL;
    }
    pace();
  }
  CHECK(ev_count(FB_EV_OUTPUT_ERROR) >= 1, "no OUTPUT_ERROR for an unwritable file");
  uint64_t t0 = fb_now_ns();
  fb_output_free(bad);
  CHECK(fb_now_ns() - t0 < 1000000000ull, "freeing a failed output took %.1f s",
        (double)(fb_now_ns() - t0) / 1e9);
  fb_output_free(ow);

  int n = 0, rate = 0, ch = 0;
  const char *why = NULL;
  float *x = read_wav(wav, &n, &rate, &ch, &why);
  CHECK(x, "wav: %s", why ? why : "?");
  if (x) {
    double secs = (double)n / (rate ? rate : 1);
    double at440 = fb_tone_dbfs(x + n / 4, rate / 2, 440, rate);
    double at1k = fb_tone_dbfs(x + n / 4, rate / 2, 1000, rate);
    printf("wav output: %.3f s, %d Hz, %d ch, 440 Hz %.1f dB, 1 kHz %.1f dB\n", secs, rate, ch,
           at440, at1k);
    CHECK(secs > 1.8 && secs < 2.2, "wav duration %.3f s", secs);
    CHECK(rate == RATE && ch == 1, "wav format %d Hz %d ch", rate, ch);
    CHECK(at440 > -10, "440 Hz at %.1f dB", at440);
    CHECK(at1k < -40, "1 kHz at %.1f dB", at1k);
    free(x);
  }

  long size = file_size(ogg);
  char magic[4] = {0};
  FILE *f = fopen(ogg, "rb");
  if (f) {
    CHECK(fread(magic, 1, 4, f) == 4, "ogg read");
    fclose(f);
  }
  CHECK(size > 1000 && !memcmp(magic, "OggS", 4), "ogg file: %ld bytes, magic %.4s", size, magic);
  float *y = decode_file(ogg, &n);
  double at440 = y && n > RATE / 2 ? fb_tone_dbfs(y + n / 4, RATE / 2, 440, RATE) : -120;
  printf("ogg output: %ld bytes, decodes to %.3f s, 440 Hz %.1f dB\n", size, (double)n / RATE,
         at440);
  CHECK(n > RATE * 8 / 10 && n < RATE * 12 / 10, "ogg decodes to %d samples", n);
  CHECK(at440 > -10, "ogg 440 Hz at %.1f dB", at440);
  free(y);
  /* A push takes appsrc's lock, which its streaming thread holds only briefly.
   * A push that really waited would wait for the pipeline to drain (seconds);
   * a loaded CI machine under ASan preempts for tens of milliseconds. The
   * bound tells the two apart without being a timing test. */
  CHECK(max_push_ns < 250000000, "slowest push %.2f ms", max_push_ns / 1e6);
}

static void test_parse_errors(fb_gst *g) {
  const char *bad_floor[] = {
      "nosuchelement_xyz",        "audiotestsrc ! ! queue", "builtin:tone:abc", "builtin:noise", "",
      "audiotestsrc nosuchprop=1"};
  for (size_t i = 0; i < sizeof bad_floor / sizeof *bad_floor; i++) {
    char err[256] = "";
    fb_floor_input *in = fb_floor_input_new(g, bad_floor[i], 200, 1000, err, sizeof err);
    CHECK(!in && err[0], "floor '%s' must be refused with a message", bad_floor[i]);
    if (in) fb_floor_input_free(in);
  }
  const char *bad_out[] = {"nosuchsink_xyz", "wavenc ! ! filesink", "   "};
  for (size_t i = 0; i < sizeof bad_out / sizeof *bad_out; i++) {
    char err[256] = "";
    fb_output *o = fb_output_new(g, "x", bad_out[i], err, sizeof err);
    CHECK(!o && err[0], "output '%s' must be refused with a message", bad_out[i]);
    if (o) fb_output_free(o);
  }
  char err[256] = "";
  CHECK(fb_media_check_pipeline(1, "builtin:speech", err, sizeof err) == 0, "check speech: %s",
        err);
  CHECK(fb_media_check_pipeline(0, "nosuchsink_xyz", err, sizeof err) == -1 && err[0],
        "check must refuse an unknown element");
}

/* pipeline = VALUE of section [sec] in a config file (simple scan). */
static int conf_pipeline(const char *path, const char *sec, char *out, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[2048], cur[64] = "";
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    s[strcspn(s, "\r\n")] = 0;
    if (*s == '[') {
      snprintf(cur, sizeof cur, "%.*s", (int)strcspn(s + 1, "]"), s + 1);
    } else if (!strcmp(cur, sec) && !strncmp(s, "pipeline", 8)) {
      char *v = strchr(s, '=');
      if (!v) continue;
      v++;
      while (*v == ' ') v++;
      size_t n = strlen(v);
      while (n && v[n - 1] == ' ') v[--n] = 0;
      if (n >= 2 && v[0] == '"' && v[n - 1] == '"' && !memchr(v + 1, '"', n - 2)) {
        v[n - 1] = 0;
        v++;
      }
      snprintf(out, len, "%s", v);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

/* Replace the value of location=... in desc with path. */
static void set_location(const char *desc, const char *path, char *out, size_t len) {
  const char *l = strstr(desc, "location=");
  if (!l) {
    snprintf(out, len, "%s", desc);
    return;
  }
  const char *end = l + 9 + strcspn(l + 9, " ");
  snprintf(out, len, "%.*slocation=%s%s", (int)(l - desc), desc, path, end);
}

static void test_configs(fb_gst *g, const char *srcdir, const char *wav) {
  const char *names[] = {"room-alsa.conf", "room-aes67.conf", "floor-file.conf", "webcast.conf",
                         "server.conf"};
  const char *secs[] = {"floor", "pa", "recording"};
  for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/%s", srcdir, names[i]);
    CHECK(access(path, R_OK) == 0, "missing %s", path);
    int n = 0;
    for (int s = 0; s < 3; s++) {
      char desc[2048], err[512] = "";
      if (!conf_pipeline(path, secs[s], desc, sizeof desc) || !desc[0]) continue;
      n++;
      int rc = fb_media_check_pipeline(s == 0, desc, err, sizeof err);
      CHECK(rc == 0, "%s [%s] pipeline does not build: %s\n  %s", names[i], secs[s], err, desc);
    }
    CHECK(n >= 2, "%s: only %d pipelines found", names[i], n);
  }

  /* floor-file.conf for real, pointed at our WAV. */
  char path[1024], desc[2048], run[2048], err[512] = "";
  snprintf(path, sizeof path, "%s/configs/floor-file.conf", srcdir);
  if (conf_pipeline(path, "floor", desc, sizeof desc)) {
    set_location(desc, wav, run, sizeof run);
    fb_floor_input *in = fb_floor_input_new(g, run, 200, 1000, err, sizeof err);
    CHECK(in, "floor-file.conf floor: %s", err);
    if (in) {
      pace_start();
      int judged, hits = frames_with_tone(in, 800, 300, 700, -20, &judged);
      CHECK(hits >= judged * 8 / 10, "floor-file.conf: 700 Hz in %d of %d frames", hits, judged);
      fb_floor_input_free(in);
    }
  }
  /* webcast.conf recording for real, into the temp dir. */
  snprintf(path, sizeof path, "%s/configs/webcast.conf", srcdir);
  if (conf_pipeline(path, "recording", desc, sizeof desc)) {
    char ogg[600];
    snprintf(ogg, sizeof ogg, "%s/webcast.ogg", tmpdir);
    set_location(desc, ogg, run, sizeof run);
    fb_output *o = fb_output_new(g, "recording", run, err, sizeof err);
    CHECK(o, "webcast.conf recording: %s", err);
    if (o) {
      fb_speech sp;
      fb_speech_init(&sp, 3);
      float pcm[FRAME];
      pace_start();
      for (int i = 0; i < 25; i++) {
        fb_speech_fill(&sp, pcm, FRAME);
        push_frame(o, pcm);
        pace();
      }
      fb_output_free(o);
      char magic[4] = {0};
      FILE *f = fopen(ogg, "rb");
      if (f) {
        CHECK(fread(magic, 1, 4, f) == 4, "read");
        fclose(f);
      }
      CHECK(file_size(ogg) > 1000 && !memcmp(magic, "OggS", 4), "webcast.conf recording: %ld bytes",
            file_size(ogg));
      unlink(ogg);
    }
  }
}

static void remove_tmpdir(void) {
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(tmpdir);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  uint64_t t_start = fb_now_ns();
  /* Files live in the build tree under ctest, in $TMPDIR when run by hand. */
  snprintf(tmpdir, sizeof tmpdir, "%s/fb_media_io_XXXXXX",
           getenv("FB_SOURCE_DIR") ? "." : g_get_tmp_dir());
  CHECK(mkdtemp(tmpdir), "mkdtemp %s", tmpdir);
  char srcdir[256];
  if (getenv("FB_SOURCE_DIR")) {
    snprintf(srcdir, sizeof srcdir, "%s", getenv("FB_SOURCE_DIR"));
  } else { /* __FILE__ is .../tests/integration/test_media_io.c */
    snprintf(srcdir, sizeof srcdir, "%s", __FILE__);
    char *p = strstr(srcdir, "/tests/integration/");
    if (p)
      *p = 0;
    else
      snprintf(srcdir, sizeof srcdir, ".");
  }

  fb_gst *g = fb_gst_start(on_event, NULL);
  CHECK(g, "fb_gst_start");
  if (!g) return CHECK_DONE();

  char wav[600], launch[1024];
  snprintf(wav, sizeof wav, "%s/tone700.wav", tmpdir);
  snprintf(launch, sizeof launch,
           "audiotestsrc freq=700 volume=0.5 samplesperbuffer=4410 num-buffers=30 ! "
           "audio/x-raw,format=S16LE,rate=44100,channels=2 ! wavenc ! filesink location=%s",
           wav);
  CHECK(run_to_eos(launch) == 0, "could not write the test WAV");

  test_parse_errors(g);
  test_file_floor(g, wav);
  test_builtin_floor(g);
  test_error_floor(g);
  test_stall_floor(g);
  test_outputs(g);
  test_configs(g, srcdir, wav);

  fb_gst_stop(g);
  remove_tmpdir();
  double secs = (double)(fb_now_ns() - t_start) / 1e9;
  printf("total %.1f s, slowest read %.3f ms, push %.3f ms\n", secs, max_read_ns / 1e6,
         max_push_ns / 1e6);
  /* reads happen while the source is lost for up to 800 ms: one that waited
   * for audio would take that long; preemption under ASan takes tens of ms */
  CHECK(max_read_ns < 250000000, "slowest read %.2f ms", max_read_ns / 1e6);
  CHECK(secs < 60, "test took %.1f s", secs);
  return CHECK_DONE();
}
