/*
 * audio_file.h — test helpers: write a tone to a WAV file and read any audio
 * file back as 48 kHz mono float, both through GStreamer (the same parts the
 * bridge uses at its edges). Header-only; include from one test file.
 */
#ifndef FB_TEST_AUDIO_FILE_H
#define FB_TEST_AUDIO_FILE_H

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run a pipeline to EOS (or error); returns 0 on EOS. */
static inline int test_run_pipeline(const char *desc) {
  GError *e = NULL;
  GstElement *p = gst_parse_launch(desc, &e);
  if (!p) {
    fprintf(stderr, "pipeline '%s': %s\n", desc, e ? e->message : "?");
    return -1;
  }
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m =
      gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  int rc = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS ? 0 : -1;
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return rc;
}

/* Write `seconds` of a sine at hz (amplitude 0..1) as 48 kHz mono WAV. */
static inline int test_write_tone_wav(const char *path, double hz, double amp, double seconds) {
  char desc[512];
  snprintf(desc, sizeof desc,
           "audiotestsrc freq=%g volume=%g samplesperbuffer=960 num-buffers=%d ! "
           "audio/x-raw,format=S16LE,rate=48000,channels=1 ! wavenc ! filesink location=%s",
           hz, amp, (int)(seconds * 50), path);
  return test_run_pipeline(desc);
}

/* Decode any audio file GStreamer understands to 48 kHz mono float.
 * *out is malloc'd; returns the sample count or -1. */
static inline long test_read_audio(const char *path, float **out) {
  char desc[1024];
  snprintf(desc, sizeof desc,
           "filesrc location=%s ! decodebin ! audioconvert ! audioresample ! "
           "audio/x-raw,format=F32LE,rate=48000,channels=1 ! appsink name=s sync=false",
           path);
  GError *e = NULL;
  GstElement *p = gst_parse_launch(desc, &e);
  if (!p) return -1;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "s");
  gst_element_set_state(p, GST_STATE_PLAYING);
  long n = 0, cap = 48000;
  float *buf = malloc((size_t)cap * sizeof *buf);
  for (;;) {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 5 * GST_SECOND);
    if (!s) break;
    GstBuffer *b = gst_sample_get_buffer(s);
    GstMapInfo mi;
    if (gst_buffer_map(b, &mi, GST_MAP_READ)) {
      long k = (long)(mi.size / sizeof(float));
      if (n + k > cap) {
        while (n + k > cap) cap *= 2;
        buf = realloc(buf, (size_t)cap * sizeof *buf);
      }
      memcpy(buf + n, mi.data, (size_t)k * sizeof(float));
      n += k;
      gst_buffer_unmap(b, &mi);
    }
    gst_sample_unref(s);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  *out = buf;
  return n;
}

#endif
