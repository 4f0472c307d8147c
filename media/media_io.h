/*
 * media_io.h — the GStreamer edges: the floor input (room sound desk), and the
 * outputs (room PA, recording/webcast).
 *
 * Each edge is a pipeline description taken from the config; we add our end:
 *   floor input:  "<config description> ! audioconvert ! audioresample !
 *                  audio/x-raw,format=F32LE,rate=48000,channels=1 ! appsink"
 *   output:       "appsrc (F32LE 48 kHz mono, live, leaky) ! audioconvert !
 *                  audioresample ! <config description>"
 * The special floor description "builtin:speech" is a synthetic speech-like
 * source (no hardware) pushed through appsrc, so the demo path is the same
 * GStreamer path as a real desk; "builtin:tone:HZ" is a test tone.
 *
 * Threads: one "gst" thread runs a GLib main loop that owns every pipeline's bus
 * and the restart timers. The floor input's appsink callback copies samples into
 * a lock-free float ring; the mixer thread reads exactly one frame per tick and
 * never waits: a short or missing frame is padded with silence and counted.
 * Outputs are pushed from the mixer thread with gst_app_src_push_buffer into an
 * appsrc that is leaky (never blocks).
 *
 * Clock: pipelines run on GStreamer's system clock (CLOCK_MONOTONIC, the same
 * clock as the tick); device sources slave to it (alsasrc slave-method=resample
 * in the example configs). The floor ring also bounds its own depth: if the
 * source runs fast and the ring passes ~100 ms, the oldest audio is dropped so
 * latency cannot creep.
 *
 * Failure: an error, EOS, or no samples for stall_ms on the floor input logs an
 * alert, raises an event, and schedules a restart after restart_ms (doubling up
 * to 30 s while it keeps failing). The mixer meanwhile gets silence.
 */
#ifndef FB_MEDIA_IO_H
#define FB_MEDIA_IO_H

#include <stdint.h>

typedef struct fb_gst fb_gst;
typedef struct fb_floor_input fb_floor_input;
typedef struct fb_output fb_output;

typedef enum {
  FB_EV_FLOOR_STARTED = 1, /* floor input delivering audio */
  FB_EV_FLOOR_LOST,        /* error, EOS or stall: silence until restarted */
  FB_EV_OUTPUT_ERROR       /* an output pipeline failed (it is restarted too) */
} fb_media_event;

/* Called on the gst thread. detail is a human message. */
typedef void (*fb_media_event_cb)(void *ud, fb_media_event ev, const char *detail);

/* Initialise GStreamer (once) and start the gst thread. NULL on failure. */
fb_gst *fb_gst_start(fb_media_event_cb cb, void *ud);

/* Stop the gst thread. Stop inputs/outputs first. */
void fb_gst_stop(fb_gst *g);

/* Create and start the floor input. desc is a GStreamer description of the
 * source chain, or "builtin:speech" / "builtin:tone:HZ". Returns NULL with a
 * message in err when the description does not parse. */
fb_floor_input *fb_floor_input_new(fb_gst *g, const char *desc, int restart_ms, int stall_ms,
                                   char *err, int errlen);

/* Mixer thread: copy exactly n samples into out. Returns the number of real
 * samples (the rest is zero-filled). Never blocks. */
int fb_floor_input_read(fb_floor_input *in, float *out, int n);

/* Counters: underrun frames (short reads), restarts, samples dropped for depth. */
void fb_floor_input_stats(const fb_floor_input *in, uint64_t *underruns, uint64_t *restarts,
                          uint64_t *dropped);

/* Stop and free. */
void fb_floor_input_free(fb_floor_input *in);

/* Create and start an output. name is for logs ("pa", "recording"). Returns
 * NULL with a message in err when the description does not parse. */
fb_output *fb_output_new(fb_gst *g, const char *name, const char *desc, char *err, int errlen);

/* Mixer thread: push n samples (float, 48 kHz mono). Never blocks; when the
 * pipeline is not running the samples are dropped. */
void fb_output_push(fb_output *out, const float *pcm, int n);

/* Send EOS, wait (bounded, 3 s) for it to reach the sink so files are
 * finalised, then stop and free. */
void fb_output_free(fb_output *out);

/* Check, without starting anything, that a floor (is_floor = 1) or output
 * (is_floor = 0) description builds into a pipeline once our end is added:
 * syntax, element names, properties, a valid builtin:... spec. Devices and
 * files are not opened. For --check-config; initialises GStreamer if needed
 * (no fb_gst required). Returns 0, or -1 with a message in err. */
int fb_media_check_pipeline(int is_floor, const char *desc, char *err, int errlen);

#endif
