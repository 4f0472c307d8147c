/*
 * media_io.c — the GStreamer edges: floor input and outputs (contract and
 * overall design in media_io.h).
 *
 * Threads: the "gst" thread runs a GMainLoop on its own GMainContext; every
 * change to a pipeline's life (build, PLAYING, NULL, bus watches, restart
 * timers, the floor watchdog) happens there, and the public new/free calls hand
 * their work over with run_on_gst() and wait for it.
 *
 * Floor input: appsink's new_sample callback (a streaming thread, the only
 * producer) fills a single-producer/single-consumer float ring that
 * fb_floor_input_read (the mixer, the only consumer) drains a frame per tick. A
 * restart sets the old pipeline to NULL (joining its threads) before the new one
 * starts, so there is never a second producer. Reading starts once 40 ms are
 * buffered (again after an underrun), absorbing source buffers up to ~25 ms;
 * over 100 ms at a read, the oldest audio is dropped down to 60 ms so latency
 * cannot creep; a full ring (0.68 s: nobody reading) drops the newest. Short
 * reads count as underruns only while the input is delivering (from its first
 * audio after a (re)start until it is declared lost): startup and outages are
 * reported as events instead. Builtin sources are an appsrc whose need-data
 * callback makes one 20 ms buffer from codecs/synth, PTS from a sample count;
 * appsrc to appsink is one streaming thread and appsink syncs to the clock, so
 * generation cannot run ahead of real time (one buffer + 20 ms latency).
 * Failure (ERROR, EOS, no sample for stall_ms, checked every 100 ms): ALERT,
 * FB_EV_FLOOR_LOST for every failed attempt, restart after restart_ms doubling
 * to 30 s, reset once a session has delivered audio for 5 s.
 *
 * Outputs: the mixer pushes into a leaky appsrc under a mutex it only try-locks
 * (the gst thread holds it only to swap pointers), so a push never waits. The
 * pipeline gets a fixed base time (start_time NONE), so running time is known
 * from the first push whatever state the pipeline is in: the first buffer is
 * stamped "now", the rest follow by sample count, and if pushes fall 100 ms
 * behind (mixer stalled) the timeline jumps forward with DISCONT. ERROR, or an
 * EOS we did not send: ALERT, FB_EV_OUTPUT_ERROR, restart after 1 s.
 *
 * Restarts: each edge embeds a restarter (pipeline, bus watch, restart timer):
 * a failure stops the pipeline and schedules the rebuild after a delay from
 * first_ms doubling up to max_ms. Outputs have both at 1 s: a fixed delay.
 *
 * Clock: all pipelines use GStreamer's system clock, made sure to be
 * CLOCK_MONOTONIC, the tick's clock.
 */
#include "media/media_io.h"

#include "util/clock.h"
#include "util/log.h"
#include "codecs/synth.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define FRAME 960            /* 20 ms: builtin source buffer size */
#define RING_CAP 32768u      /* floats, power of two (~0.68 s) */
#define RING_MAX_DEPTH 4800u /* 100 ms: more than this at a read is excess */
#define RING_TRIM_TO 2880u   /* ...which is dropped down to 60 ms */
#define RING_PRIME 1920u     /* 40 ms buffered before reading (re)starts */
#define WATCHDOG_MS 100
#define BACKOFF_MAX_MS 30000
#define HEALTHY_NS (5 * GST_SECOND)       /* delivered this long: backoff resets */
#define OUTPUT_RESTART_MS 1000            /* first and longest delay: fixed */
#define OUTPUT_QUEUE_BYTES (RATE * 4 / 5) /* 200 ms of F32 mono */
#define OUTPUT_LATE_NS (100 * GST_MSECOND)
#define EOS_WAIT_NS (3 * GST_SECOND)
#define TONE_AMPLITUDE 0.25f /* builtin:tone at -12 dBFS */
#define SPEECH_SEED 20240501u

#define F32_CAPS "audio/x-raw,format=F32LE,rate=48000,channels=1,layout=interleaved"
#define FLOOR_TAIL                              \
  " ! audioconvert ! audioresample ! " F32_CAPS \
  " ! appsink name=fbsink sync=true"            \
  " max-buffers=8 drop=true emit-signals=false"
#define SYNTH_HEAD                                                            \
  "appsrc name=fbsrc is-live=true format=time do-timestamp=false block=false" \
  " min-latency=20000000 max-bytes=7680 caps=\"" F32_CAPS "\""
#define OUTPUT_HEAD                                             \
  "appsrc name=fbsrc is-live=true format=time caps=\"" F32_CAPS \
  "\" ! audioconvert ! audioresample ! "

struct fb_gst {
  GMainContext *ctx;
  GMainLoop *loop;
  GThread *thread;
  GstClock *clock;
  atomic_int alive; /* loop thread running: run_on_gst may queue work */
  fb_media_event_cb cb;
  void *ud;
};

enum { SRC_PIPELINE, SRC_SPEECH, SRC_TONE };

/* One edge's pipeline and its restarts (see the top comment). gst thread only,
 * but for the restarts counter. */
typedef struct {
  fb_gst *g;
  const char *subsys;             /* "floor", "output": log lines */
  char *launch;                   /* what a rebuild builds (g_free) */
  GstElement *pipeline, *pending; /* running; built by _new, not started yet */
  GSource *bus_src, *timer;
  int first_ms, max_ms, backoff_ms; /* backoff_ms: the next delay */
  _Atomic uint64_t restarts;
  void (*wire)(void *owner, GstElement *pipe);   /* before PLAYING */
  void (*fail)(void *owner, const char *reason); /* stop, restart_later */
  void *owner;
} restarter;

struct fb_floor_input {
  restarter rs;
  int kind, stall_ms;

  /* ring: producer = streaming thread, consumer = mixer thread */
  float *ring;
  _Atomic uint64_t wpos, rpos;
  _Atomic uint64_t last_audio_ns; /* last sample arrival, 0 = none since (re)start */
  atomic_int delivering;          /* audio arrived since (re)start, not lost since */
  atomic_uint session;            /* bumped by every (re)start */
  _Atomic uint64_t underruns, dropped;

  /* mixer thread only */
  unsigned seen_session;
  int primed, primed_once;

  /* gst thread only */
  GSource *watchdog_src;
  uint64_t start_ns, first_audio_ns;
  int started_reported;

  /* builtin generator: used by the appsrc streaming thread only */
  fb_speech speech;
  fb_tone tone;
  uint64_t synth_pos;
};

struct fb_output {
  restarter rs;
  char *name;

  GMutex lock;     /* guards the push state below; the mixer only try-locks */
  GstElement *src; /* appsrc of the running pipeline, NULL while down */
  GstClockTime base_time;
  GstClockTime offset; /* running time of sample 0 of this session */
  uint64_t pos;        /* samples pushed this session */
  int have_offset;
};

/* ------------------------------------------------------------------ helpers */

static void emit(fb_gst *g, fb_media_event ev, const char *detail) {
  if (g->cb) g->cb(g->ud, ev, detail);
}

static int gst_ready(void) {
  static gsize once = 0;
  static int ok = 0;
  if (g_once_init_enter(&once)) {
    GError *e = NULL;
    ok = gst_init_check(NULL, NULL, &e);
    if (!ok) fb_log(FB_LOG_ERROR, "gst", "GStreamer init failed: %s", e ? e->message : "?");
    g_clear_error(&e);
    g_once_init_leave(&once, 1);
  }
  return ok;
}

typedef struct {
  void (*fn)(void *);
  void *arg;
  GMutex m;
  GCond c;
  int done;
} gst_call;

static gboolean gst_call_run(gpointer p) {
  gst_call *c = p;
  c->fn(c->arg);
  g_mutex_lock(&c->m);
  c->done = 1;
  g_cond_signal(&c->c);
  g_mutex_unlock(&c->m);
  return G_SOURCE_REMOVE;
}

/* Run fn(arg) on the gst thread and wait for it. Runs it directly when called
 * on the gst thread, or when the loop is gone (nothing else can run then). */
static void run_on_gst(fb_gst *g, void (*fn)(void *), void *arg) {
  if (g_main_context_is_owner(g->ctx) || !atomic_load(&g->alive)) {
    fn(arg);
    return;
  }
  gst_call c = {.fn = fn, .arg = arg};
  g_mutex_init(&c.m);
  g_cond_init(&c.c);
  GSource *s = g_idle_source_new();
  g_source_set_priority(s, G_PRIORITY_HIGH);
  g_source_set_callback(s, gst_call_run, &c, NULL);
  g_source_attach(s, g->ctx);
  g_source_unref(s);
  g_mutex_lock(&c.m);
  while (!c.done) g_cond_wait(&c.c, &c.m);
  g_mutex_unlock(&c.m);
  g_mutex_clear(&c.m);
  g_cond_clear(&c.c);
}

static GSource *add_timeout(fb_gst *g, int ms, GSourceFunc fn, void *data) {
  GSource *s = g_timeout_source_new((guint)ms);
  g_source_set_callback(s, fn, data, NULL);
  g_source_attach(s, g->ctx);
  return s; /* caller keeps this reference */
}

static void drop_source(GSource **s) {
  if (*s) {
    g_source_destroy(*s);
    g_source_unref(*s);
    *s = NULL;
  }
}

/* Build a pipeline from a full launch line; NULL with a message on error. */
static GstElement *build(const char *launch, char *err, int errlen) {
  GError *e = NULL;
  GstElement *p = gst_parse_launch_full(launch, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &e);
  if (p && !e && GST_IS_PIPELINE(p)) return p;
  snprintf(err, (size_t)errlen, "%s", e ? e->message : "not a pipeline");
  g_clear_error(&e);
  if (p) gst_object_unref(p);
  return NULL;
}

/* ERROR or EOS: returns 1 with the reason ("element: message", "end of
 * stream") in text. A WARNING is logged under subsys; anything else: 0. */
static int bus_failure(GstMessage *m, const char *subsys, char *text, size_t len) {
  GstMessageType t = GST_MESSAGE_TYPE(m);
  if (t == GST_MESSAGE_EOS) {
    snprintf(text, len, "end of stream");
    return 1;
  }
  if (t != GST_MESSAGE_ERROR && t != GST_MESSAGE_WARNING) return 0;
  GError *e = NULL;
  gchar *dbg = NULL;
  if (t == GST_MESSAGE_ERROR)
    gst_message_parse_error(m, &e, &dbg);
  else
    gst_message_parse_warning(m, &e, &dbg);
  snprintf(text, len, "%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)), e ? e->message : "?");
  if (dbg) fb_log(FB_LOG_DEBUG, subsys, "%s", dbg);
  g_clear_error(&e);
  g_free(dbg);
  if (t == GST_MESSAGE_WARNING) fb_log(FB_LOG_WARN, subsys, "%s", text);
  return t == GST_MESSAGE_ERROR;
}

/* builtin:speech / builtin:tone:HZ -> kind (and hz); -1 on a bad builtin. */
static int parse_builtin(const char *desc, double *hz, char *err, int errlen) {
  if (strncmp(desc, "builtin:", 8) != 0) return SRC_PIPELINE;
  if (strcmp(desc, "builtin:speech") == 0) return SRC_SPEECH;
  if (strncmp(desc, "builtin:tone:", 13) == 0) {
    char *end = NULL;
    double f = strtod(desc + 13, &end);
    if (end != desc + 13 && *end == '\0' && f > 0 && f < RATE / 2) {
      *hz = f;
      return SRC_TONE;
    }
  }
  snprintf(err, (size_t)errlen,
           "unknown builtin source '%s' (builtin:speech or builtin:tone:HZ, HZ in 1..23999)", desc);
  return -1;
}

/* Validate desc and build our whole pipeline around it (floor: builtin specs
 * too; *kind and *hz tell which). The launch line goes to *launch (g_free).
 * NULL with a message in err. */
static GstElement *prepare(int is_floor, const char *desc, int *kind, double *hz, char **launch,
                           char *err, int errlen) {
  *kind = SRC_PIPELINE;
  *launch = NULL;
  if (!gst_ready()) {
    snprintf(err, (size_t)errlen, "GStreamer could not be initialised");
    return NULL;
  }
  if (!desc || !desc[strspn(desc, " \t")]) {
    snprintf(err, (size_t)errlen, "empty pipeline description");
    return NULL;
  }
  if (is_floor && (*kind = parse_builtin(desc, hz, err, errlen)) < 0) return NULL;
  *launch = !is_floor               ? g_strconcat(OUTPUT_HEAD, desc, NULL)
            : *kind == SRC_PIPELINE ? g_strconcat(desc, FLOOR_TAIL, NULL)
                                    : g_strconcat(SYNTH_HEAD, FLOOR_TAIL, NULL);
  GstElement *pipe = build(*launch, err, errlen);
  if (!pipe) {
    g_free(*launch);
    *launch = NULL;
  }
  return pipe;
}

/* ------------------------------------------------------------ restarts */

static void restart_init(restarter *r, fb_gst *g, const char *subsys, char *launch,
                         GstElement *pending, int first_ms, int max_ms,
                         void (*wire)(void *, GstElement *), void (*fail)(void *, const char *),
                         void *owner) {
  r->g = g, r->subsys = subsys, r->launch = launch, r->pending = pending;
  r->first_ms = r->backoff_ms = first_ms, r->max_ms = max_ms;
  r->wire = wire, r->fail = fail, r->owner = owner;
}

static gboolean on_restart_bus(GstBus *bus, GstMessage *m, gpointer p) {
  restarter *r = p;
  char text[512];
  if (bus_failure(m, r->subsys, text, sizeof text)) r->fail(r->owner, text);
  return G_SOURCE_CONTINUE;
}

/* (Re)start: the pipeline _new built, else a new build; the owner wires it;
 * watch its bus, PLAYING. Any failure goes to r->fail (for a failed state
 * change, with the first ERROR on the bus). */
static void restart_start(void *p) {
  restarter *r = p;
  char err[512] = "could not start";
  GstElement *pipe = r->pending;
  r->pending = NULL;
  if (!pipe && !(pipe = build(r->launch, err, sizeof err))) {
    r->fail(r->owner, err);
    return;
  }
  r->wire(r->owner, pipe);
  r->pipeline = pipe;
  GstBus *bus = gst_element_get_bus(pipe);
  r->bus_src = gst_bus_create_watch(bus);
  g_source_set_callback(r->bus_src, G_SOURCE_FUNC(on_restart_bus), r, NULL);
  g_source_attach(r->bus_src, r->g->ctx);
  if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (m) bus_failure(m, "gst", err, sizeof err);
    if (m) gst_message_unref(m);
    r->fail(r->owner, err);
  }
  gst_object_unref(bus);
}

/* Stop watching the running pipeline and hand it over (NULL if none). */
static GstElement *restart_detach(restarter *r) {
  drop_source(&r->bus_src);
  GstElement *pipe = r->pipeline;
  r->pipeline = NULL;
  return pipe;
}

/* Stop the running pipeline: NULL joins its streaming threads. */
static void restart_stop(restarter *r) {
  GstElement *pipe = restart_detach(r);
  if (pipe) {
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
  }
}

static gboolean on_restart(gpointer p) {
  restarter *r = p;
  g_source_unref(r->timer); /* the dispatch holds its own reference */
  r->timer = NULL;
  atomic_fetch_add(&r->restarts, 1);
  restart_start(r);
  return G_SOURCE_REMOVE;
}

/* After a failure, pipeline stopped: ALERT "<alert> (restart in N ms)", ev
 * with detail, and the next attempt after the current delay, which doubles
 * for the one after (up to max_ms). */
static void restart_later(restarter *r, fb_media_event ev, const char *alert, const char *detail) {
  int delay = r->backoff_ms;
  r->backoff_ms = delay * 2 < r->max_ms ? delay * 2 : r->max_ms;
  fb_log(FB_LOG_ALERT, r->subsys, "%s (restart in %d ms)", alert, delay);
  emit(r->g, ev, detail);
  drop_source(&r->timer);
  r->timer = add_timeout(r->g, delay, on_restart, r);
}

/* Healthy again: the next failure waits first_ms. */
static void restart_reset(restarter *r) { r->backoff_ms = r->first_ms; }

/* ------------------------------------------------------------ gst thread */

static gpointer gst_thread_main(gpointer p) {
  fb_gst *g = p;
  g_main_context_push_thread_default(g->ctx);
  g_main_loop_run(g->loop);
  g_main_context_pop_thread_default(g->ctx);
  return NULL;
}

fb_gst *fb_gst_start(fb_media_event_cb cb, void *ud) {
  if (!gst_ready()) return NULL;
  fb_gst *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->cb = cb;
  g->ud = ud;
  g->clock = gst_system_clock_obtain();
  GstClockType type;
  g_object_get(g->clock, "clock-type", &type, NULL);
  if (type != GST_CLOCK_TYPE_MONOTONIC) {
    fb_log(FB_LOG_WARN, "gst", "system clock was not monotonic: switching it");
    g_object_set(g->clock, "clock-type", GST_CLOCK_TYPE_MONOTONIC, NULL);
  }
  g->ctx = g_main_context_new();
  g->loop = g_main_loop_new(g->ctx, FALSE);
  atomic_store(&g->alive, 1);
  g->thread = g_thread_new("gst", gst_thread_main, g); /* aborts if no thread */
  return g;
}

static void quit_loop(void *p) { g_main_loop_quit(((fb_gst *)p)->loop); }

void fb_gst_stop(fb_gst *g) {
  if (!g) return;
  run_on_gst(g, quit_loop, g); /* from inside the loop: no race with its start */
  g_thread_join(g->thread);
  atomic_store(&g->alive, 0);
  g_main_loop_unref(g->loop);
  g_main_context_unref(g->ctx);
  gst_object_unref(g->clock);
  free(g);
}

/* ------------------------------------------------------------ floor input */

static void ring_write(fb_floor_input *in, const uint8_t *src, uint64_t n) {
  uint64_t w = atomic_load_explicit(&in->wpos, memory_order_relaxed);
  uint64_t r = atomic_load_explicit(&in->rpos, memory_order_acquire);
  uint64_t space = RING_CAP - (w - r);
  if (n > space) {
    atomic_fetch_add(&in->dropped, n - space);
    n = space;
  }
  uint64_t i = w & (RING_CAP - 1), first = n < RING_CAP - i ? n : RING_CAP - i;
  memcpy(in->ring + i, src, first * sizeof(float));
  memcpy(in->ring, src + first * sizeof(float), (n - first) * sizeof(float));
  atomic_store_explicit(&in->wpos, w + n, memory_order_release);
}

static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer p) {
  fb_floor_input *in = p;
  GstSample *s = gst_app_sink_pull_sample(sink);
  if (!s) return GST_FLOW_OK;
  GstBuffer *b = gst_sample_get_buffer(s);
  GstMapInfo m;
  if (b && gst_buffer_map(b, &m, GST_MAP_READ)) {
    uint64_t n = m.size / sizeof(float);
    if (n > 0) {
      ring_write(in, m.data, n);
      atomic_store(&in->last_audio_ns, fb_now_ns());
      atomic_store(&in->delivering, 1);
    }
    gst_buffer_unmap(b, &m);
  }
  gst_sample_unref(s);
  return GST_FLOW_OK;
}

static void on_need_data(GstAppSrc *src, guint length, gpointer p) {
  fb_floor_input *in = p;
  float pcm[FRAME];
  if (in->kind == SRC_SPEECH)
    fb_speech_fill(&in->speech, pcm, FRAME);
  else
    fb_tone_fill(&in->tone, pcm, FRAME);
  GstBuffer *b = gst_buffer_new_memdup(pcm, sizeof pcm);
  GstClockTime t0 = gst_util_uint64_scale(in->synth_pos, GST_SECOND, RATE);
  in->synth_pos += FRAME;
  GST_BUFFER_PTS(b) = t0;
  GST_BUFFER_DURATION(b) = gst_util_uint64_scale(in->synth_pos, GST_SECOND, RATE) - t0;
  gst_app_src_push_buffer(src, b);
}

int fb_floor_input_read(fb_floor_input *in, float *out, int n) {
  if (n <= 0) return 0;
  unsigned session = atomic_load(&in->session);
  if (session != in->seen_session) {
    in->seen_session = session;
    in->primed = in->primed_once = 0;
  }
  uint64_t r = atomic_load_explicit(&in->rpos, memory_order_relaxed);
  uint64_t w = atomic_load_explicit(&in->wpos, memory_order_acquire);
  uint64_t avail = w - r;
  if (avail > RING_MAX_DEPTH) {
    atomic_fetch_add(&in->dropped, avail - RING_TRIM_TO);
    r = w - RING_TRIM_TO;
    avail = RING_TRIM_TO;
  }
  if (!in->primed && avail >= RING_PRIME) in->primed = in->primed_once = 1;
  uint64_t got = 0;
  if (in->primed) {
    got = avail < (uint64_t)n ? avail : (uint64_t)n;
    uint64_t i = r & (RING_CAP - 1), first = got < RING_CAP - i ? got : RING_CAP - i;
    memcpy(out, in->ring + i, first * sizeof(float));
    memcpy(out + first, in->ring, (got - first) * sizeof(float));
    r += got;
  }
  atomic_store_explicit(&in->rpos, r, memory_order_release);
  if (got < (uint64_t)n) {
    memset(out + got, 0, ((uint64_t)n - got) * sizeof(float));
    in->primed = 0;
    if (in->primed_once && atomic_load(&in->delivering)) atomic_fetch_add(&in->underruns, 1);
  }
  return (int)got;
}

void fb_floor_input_stats(const fb_floor_input *in, uint64_t *underruns, uint64_t *restarts,
                          uint64_t *dropped) {
  if (underruns) *underruns = atomic_load(&in->underruns);
  if (restarts) *restarts = atomic_load(&in->rs.restarts);
  if (dropped) *dropped = atomic_load(&in->dropped);
}

static void floor_check_started(fb_floor_input *in, uint64_t now) {
  if (in->started_reported || atomic_load(&in->last_audio_ns) == 0) return;
  in->started_reported = 1;
  in->first_audio_ns = now;
  fb_log(FB_LOG_INFO, "floor", "floor input delivering audio");
  emit(in->rs.g, FB_EV_FLOOR_STARTED, "floor input delivering audio");
}

/* Declare the input lost and schedule the next attempt. Running or not: also
 * used when a restart cannot even build its pipeline. */
static void floor_fail(void *p, const char *reason) {
  fb_floor_input *in = p;
  floor_check_started(in, fb_now_ns());
  restart_stop(&in->rs);
  atomic_store(&in->delivering, 0);
  char detail[600];
  snprintf(detail, sizeof detail, "floor input lost: %s", reason);
  restart_later(&in->rs, FB_EV_FLOOR_LOST, detail, detail);
}

/* Every (re)start, before PLAYING. */
static void floor_wire(void *p, GstElement *pipe) {
  fb_floor_input *in = p;
  gst_pipeline_use_clock(GST_PIPELINE(pipe), in->rs.g->clock);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "fbsink");
  static GstAppSinkCallbacks sink_cbs = {.new_sample = on_new_sample};
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &sink_cbs, in, NULL);
  gst_object_unref(sink);
  if (in->kind != SRC_PIPELINE) {
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "fbsrc");
    static GstAppSrcCallbacks src_cbs = {.need_data = on_need_data};
    gst_app_src_set_callbacks(GST_APP_SRC(src), &src_cbs, in, NULL);
    gst_object_unref(src);
    in->synth_pos = 0;
  }
  atomic_store(&in->last_audio_ns, 0);
  atomic_store(&in->delivering, 0);
  atomic_fetch_add(&in->session, 1);
  in->started_reported = 0;
  in->start_ns = fb_now_ns();
  fb_log(FB_LOG_INFO, "floor", "starting floor input: %s", in->rs.launch);
}

static gboolean on_floor_watchdog(gpointer p) {
  fb_floor_input *in = p;
  if (!in->rs.pipeline) return G_SOURCE_CONTINUE;
  uint64_t now = fb_now_ns();
  floor_check_started(in, now);
  if (in->started_reported && now - in->first_audio_ns >= HEALTHY_NS) restart_reset(&in->rs);
  if (in->stall_ms > 0) {
    uint64_t last = atomic_load(&in->last_audio_ns);
    uint64_t since = last > in->start_ns ? last : in->start_ns;
    if (now > since && now - since >= (uint64_t)in->stall_ms * 1000000u) {
      char reason[96];
      snprintf(reason, sizeof reason, "no audio for %llu ms",
               (unsigned long long)((now - since) / 1000000u));
      floor_fail(in, reason);
    }
  }
  return G_SOURCE_CONTINUE;
}

static void floor_begin(void *p) {
  fb_floor_input *in = p;
  in->watchdog_src = add_timeout(in->rs.g, WATCHDOG_MS, on_floor_watchdog, in);
  restart_start(&in->rs);
}

static void floor_end(void *p) {
  fb_floor_input *in = p;
  drop_source(&in->watchdog_src);
  drop_source(&in->rs.timer);
  restart_stop(&in->rs);
}

fb_floor_input *fb_floor_input_new(fb_gst *g, const char *desc, int restart_ms, int stall_ms,
                                   char *err, int errlen) {
  int kind;
  double hz = 0;
  char *launch;
  GstElement *pipe = prepare(1, desc, &kind, &hz, &launch, err, errlen);
  if (!pipe) return NULL;
  fb_floor_input *in = calloc(1, sizeof *in);
  if (in) in->ring = calloc(RING_CAP, sizeof(float));
  if (!in || !in->ring) {
    snprintf(err, (size_t)errlen, "out of memory");
    if (in) free(in);
    g_free(launch);
    gst_object_unref(pipe);
    return NULL;
  }
  restart_init(&in->rs, g, "floor", launch, pipe, restart_ms > 0 ? restart_ms : 1000,
               BACKOFF_MAX_MS, floor_wire, floor_fail, in);
  in->kind = kind;
  in->stall_ms = stall_ms;
  fb_speech_init(&in->speech, SPEECH_SEED);
  fb_tone_init(&in->tone, hz > 0 ? hz : 1000.0, TONE_AMPLITUDE);
  run_on_gst(g, floor_begin, in);
  return in;
}

void fb_floor_input_free(fb_floor_input *in) {
  if (!in) return;
  run_on_gst(in->rs.g, floor_end, in);
  g_free(in->rs.launch);
  free(in->ring);
  free(in);
}

/* ------------------------------------------------------------ outputs */

void fb_output_push(fb_output *out, const float *pcm, int n) {
  if (!out || n <= 0 || !g_mutex_trylock(&out->lock)) return;
  if (out->src) {
    GstClockTime now = gst_clock_get_time(out->rs.g->clock);
    GstClockTime rt = now > out->base_time ? now - out->base_time : 0;
    GstClockTime t0 = out->offset + gst_util_uint64_scale(out->pos, GST_SECOND, RATE);
    int discont = 0;
    if (!out->have_offset || t0 + OUTPUT_LATE_NS < rt) {
      discont = out->have_offset; /* fell behind: jump forward */
      out->offset = rt - gst_util_uint64_scale(out->pos, GST_SECOND, RATE);
      out->have_offset = 1;
      t0 = rt;
      if (discont) fb_log(FB_LOG_WARN, "output", "%s: pushes fell behind, resyncing", out->name);
    }
    out->pos += (uint64_t)n;
    GstBuffer *b = gst_buffer_new_memdup(pcm, (gsize)n * sizeof(float));
    GST_BUFFER_PTS(b) = t0;
    GST_BUFFER_DURATION(b) = out->offset + gst_util_uint64_scale(out->pos, GST_SECOND, RATE) - t0;
    if (discont) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
    gst_app_src_push_buffer(GST_APP_SRC(out->src), b); /* leaky, block=false: never waits */
  }
  g_mutex_unlock(&out->lock);
}

/* Take the pipeline away from the pusher. */
static void output_unplug(fb_output *out) {
  g_mutex_lock(&out->lock);
  out->src = NULL;
  g_mutex_unlock(&out->lock);
}

/* From the bus watch also on EOS: we only send EOS from fb_output_free, after
 * removing the watch. */
static void output_fail(void *p, const char *reason) {
  fb_output *out = p;
  output_unplug(out);
  restart_stop(&out->rs);
  char alert[600], detail[600];
  snprintf(alert, sizeof alert, "output %s failed: %s", out->name, reason);
  snprintf(detail, sizeof detail, "%s: %s", out->name, reason);
  restart_later(&out->rs, FB_EV_OUTPUT_ERROR, alert, detail);
}

/* Every (re)start, before PLAYING. */
static void output_wire(void *p, GstElement *pipe) {
  fb_output *out = p;
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "fbsrc");
  g_object_set(src, "leaky-type", GST_APP_LEAKY_TYPE_DOWNSTREAM, "max-bytes",
               (guint64)OUTPUT_QUEUE_BYTES, "block", FALSE, NULL);
  /* System clock and a fixed base time: running time = clock - base, known to
   * the pusher from the first push on, whatever state the pipeline is in. */
  gst_pipeline_use_clock(GST_PIPELINE(pipe), out->rs.g->clock);
  gst_element_set_start_time(pipe, GST_CLOCK_TIME_NONE);
  GstClockTime base = gst_clock_get_time(out->rs.g->clock);
  gst_element_set_base_time(pipe, base);
  fb_log(FB_LOG_INFO, "output", "starting output %s: %s", out->name, out->rs.launch);
  g_mutex_lock(&out->lock);
  out->src = src; /* the pipeline holds it; our reference goes below */
  out->base_time = base;
  out->pos = 0;
  out->have_offset = 0;
  g_mutex_unlock(&out->lock);
  gst_object_unref(src);
}

fb_output *fb_output_new(fb_gst *g, const char *name, const char *desc, char *err, int errlen) {
  int kind;
  double hz;
  char *launch;
  GstElement *pipe = prepare(0, desc, &kind, &hz, &launch, err, errlen);
  if (!pipe) return NULL;
  fb_output *out = calloc(1, sizeof *out);
  if (!out) {
    snprintf(err, (size_t)errlen, "out of memory");
    g_free(launch);
    gst_object_unref(pipe);
    return NULL;
  }
  restart_init(&out->rs, g, "output", launch, pipe, OUTPUT_RESTART_MS, OUTPUT_RESTART_MS,
               output_wire, output_fail, out);
  out->name = g_strdup(name && *name ? name : "output");
  g_mutex_init(&out->lock);
  run_on_gst(g, restart_start, &out->rs);
  return out;
}

static void output_end(void *p) {
  fb_output *out = p;
  drop_source(&out->rs.timer);
  output_unplug(out);
  out->rs.pending = restart_detach(&out->rs);
}

void fb_output_free(fb_output *out) {
  if (!out) return;
  /* On the gst thread: stop pushes, remove the bus watch and restart timer.
   * Then here, on the caller's thread, drain: EOS in, wait for EOS out. */
  run_on_gst(out->rs.g, output_end, out);
  GstElement *pipe = out->rs.pending;
  if (pipe) {
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "fbsrc");
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    gst_object_unref(src);
    GstBus *bus = gst_element_get_bus(pipe);
    GstMessage *m =
        gst_bus_timed_pop_filtered(bus, EOS_WAIT_NS, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    char text[512];
    if (!m)
      fb_log(FB_LOG_WARN, "output", "%s: no EOS within 3 s; file may be incomplete", out->name);
    else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR &&
             bus_failure(m, "output", text, sizeof text))
      fb_log(FB_LOG_WARN, "output", "%s: error while finishing: %s", out->name, text);
    if (m) gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
  }
  fb_log(FB_LOG_INFO, "output", "output %s stopped", out->name);
  g_mutex_clear(&out->lock);
  g_free(out->name);
  g_free(out->rs.launch);
  free(out);
}

/* ------------------------------------------------------------ config check */

int fb_media_check_pipeline(int is_floor, const char *desc, char *err, int errlen) {
  int kind;
  double hz;
  char *launch;
  GstElement *pipe = prepare(is_floor, desc, &kind, &hz, &launch, err, errlen);
  if (!pipe) return -1;
  g_free(launch);
  gst_object_unref(pipe);
  return 0;
}
